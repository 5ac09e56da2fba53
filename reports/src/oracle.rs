//! The ground-truth oracle: a [`Recorder`] of application observations that knows, for every
//! application message, who should get it, who got it, when, by which path, and what the
//! sender believed — independent of anything the nodes report about themselves.
//!
//! Feed it every `(time, node, AppObservation)` of a run (the network calls
//! [`Recorder::record`] in emission order), then call [`Oracle::finish`] with the
//! [`RunContext`] (run identity, end time, heal time, node counters, state log) to get the
//! [`RunResult`] that the CSV writers turn into files.
//!
//! Memory is bounded per message, not per reception: a message keeps its sender, creation
//! time, payload size, status times (first `Sent`, `Acked`, `Failed`, last status, number of
//! status changes) and one 40-byte slot per distinct intended recipient (first reception time,
//! first path, reception count, the time the sender's `Confirmed` for that recipient arrived,
//! and the time of that recipient's first `MissDetected`; absent times are a sentinel, not an
//! `Option`, to keep the slot small). Duplicates only increment a saturating counter. Besides
//! the messages the oracle keeps one small entry per (sender, receiver) stream (highest
//! message id received so far, out-of-order count), one saturating sum per counter name and
//! one HDR histogram (3 significant digits, about 250 KiB) per duration name.
//!
//! End-to-end evidence (SDS, MVDS):
//! - `Confirmed { id, by }` must come from the sender of `id`; the first one per (message,
//!   recipient `by`) is kept. A confirmation naming a node that is not an intended recipient
//!   counts as unintended (`oracle.unintended_confirmations`).
//! - `MissDetected { id }` at an intended recipient that has not received `id` yet is kept
//!   (the first one per recipient). At a recipient that already received `id` it counts as
//!   `oracle.miss_detections_after_reception`; at a node that is not an intended recipient as
//!   `oracle.unintended_miss_detections` (the sender's own gaps are not misses). Every
//!   `MissDetected` also counts in the raw `miss_detected` total.
//!
//! Anomalies never panic: a reception, status, confirmation or miss detection for an unknown
//! message, a second `Created` with the same id, a status or confirmation reported by a node
//! that is not the sender, or a second confirmation for the same (message, recipient) are
//! counted (`oracle.*` rows in `counters.csv`) and otherwise ignored. A node receiving its own
//! message when it is not an intended recipient is ignored (loopback); any other reception by
//! a node that is not an intended recipient counts as unintended.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use sim_core::{
    AppMessageId, AppObservation, BelievedStatus, DeliveryPath, Node, NodeId, Payload, SimDuration,
    SimTime,
};
use sim_net::{Network, NodeStats, Presence, Recorder, StateChange};

use crate::result::RunResult;

/// The fixed delivery deadlines reported in `runs.csv` (`delivery_ratio_1s`, `_10s`, `_60s`).
pub const DEADLINES: [SimDuration; 3] = [
    SimDuration::from_secs(1),
    SimDuration::from_secs(10),
    SimDuration::from_secs(60),
];

/// Default for [`RunContext::late_after`] (lite-protocol-tester "late").
pub const DEFAULT_LATE_AFTER: SimDuration = SimDuration::from_secs(10);

/// Default for [`RunContext::bucket`] (width of a `timeseries.csv` row).
pub const DEFAULT_BUCKET: SimDuration = SimDuration::from_secs(10);

/// Upper bound on time-series rows per run; a narrower bucket is widened to respect it.
pub const MAX_BUCKETS: u64 = 100_000;

/// Default for [`RunContext::confirm_share`]: the "N % of recipients confirmed" metrics
/// (`confirm_pct_ms_*`, `confirmed_pct_ratio`) use N = 50 %.
pub const DEFAULT_CONFIRM_SHARE: f64 = 0.5;

/// Highest value the latency and duration histograms hold, in microseconds (about 12.7 days);
/// larger values are clamped into the top bucket (the exact maximum is kept separately).
pub(crate) const HISTOGRAM_HIGH_US: u64 = 1 << 40;

/// One coordinate of a sweep point (for sweep curves and heatmaps).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepAxis {
    /// Axis name, such as `loss` or `check_interval_s`.
    pub name: String,
    /// The value at this point, in the unit the name states.
    pub value: f64,
}

/// What identifies a run: the key of every row it writes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunIdentity {
    /// Scenario name.
    pub scenario: String,
    /// Reliability variant name.
    pub variant: String,
    /// Sweep point label (`loss=0.1,latency_ms=100`); empty when the scenario has no sweep.
    pub sweep_point: String,
    /// The sweep point's coordinates, in axis order (the first two are plotted).
    pub sweep_axes: Vec<SweepAxis>,
    /// Master seed.
    pub seed: u64,
    /// Hash of the resolved scenario (hex).
    pub scenario_hash: String,
    /// Version of the simulator that produced the run (`0.1.0+g1234abc`).
    pub code_version: String,
}

impl RunIdentity {
    /// The sort key of rows: (scenario, variant, sweep point, seed).
    pub fn key(&self) -> (&str, &str, &str, u64) {
        (&self.scenario, &self.variant, &self.sweep_point, self.seed)
    }
}

/// What the report needs to know about one node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// Group or role label (`relay`, `light`, `store`); free text.
    pub label: String,
    /// Whether the node booted at time zero (false: absent until it joined).
    pub present_at_start: bool,
    /// What the network counted for it.
    pub stats: NodeStats,
}

/// Everything besides the observations that a run's report needs.
#[derive(Clone, Debug)]
pub struct RunContext {
    /// The run's identity.
    pub identity: RunIdentity,
    /// When the run ended.
    pub end: SimTime,
    /// Start of the heal (convergence) phase, if the scenario has one.
    pub heal_at: Option<SimTime>,
    /// A first reception later than this after creation is "late" (lite-protocol-tester) and
    /// misses `timeseries.csv`'s by-deadline count.
    pub late_after: SimDuration,
    /// Width of a `timeseries.csv` bucket (zero means [`DEFAULT_BUCKET`]).
    pub bucket: SimDuration,
    /// Traffic class names, indexed like [`NodeStats::bytes_sent`].
    pub classes: Vec<String>,
    /// Every node of the run, indexed by [`NodeId`].
    pub nodes: Vec<NodeInfo>,
    /// Node state changes in time order (the network's state log).
    pub state_log: Vec<StateChange>,
    /// The share N of a message's intended recipients whose confirmation the
    /// `confirm_pct_ms_*` and `confirmed_pct_ratio` metrics wait for: a message counts once
    /// ⌈N × recipients⌉ (at least 1) of them are confirmed. Values above 1 count as 1; zero,
    /// negative or non-finite values as the smallest share (one recipient). Default
    /// [`DEFAULT_CONFIRM_SHARE`].
    pub confirm_share: f64,
    /// The channel's message interval S for the SDS targets ([`crate::targets`]); `None`
    /// (the default) leaves the `target_*` columns empty.
    pub target_interval: Option<SimDuration>,
}

impl RunContext {
    /// A context with default deadlines and bucket and no nodes (fill `nodes`, `classes`
    /// and `state_log`, or use [`RunContext::from_network`]).
    pub fn new(identity: RunIdentity, end: SimTime) -> Self {
        RunContext {
            identity,
            end,
            heal_at: None,
            late_after: DEFAULT_LATE_AFTER,
            bucket: DEFAULT_BUCKET,
            classes: Vec::new(),
            nodes: Vec::new(),
            state_log: Vec::new(),
            confirm_share: DEFAULT_CONFIRM_SHARE,
            target_interval: None,
        }
    }

    /// Sets [`RunContext::confirm_share`].
    pub fn with_confirm_share(mut self, share: f64) -> Self {
        self.confirm_share = share;
        self
    }

    /// Sets [`RunContext::target_interval`] (S).
    pub fn with_target_interval(mut self, interval: SimDuration) -> Self {
        self.target_interval = Some(interval);
        self
    }

    /// A context filled from a finished network: class names, per-node counters, state log.
    /// `presence` is what the network was built with (missing entries mean present);
    /// `labels` names each node's group (missing entries are empty).
    pub fn from_network<N, R>(
        identity: RunIdentity,
        end: SimTime,
        network: &Network<N, R>,
        presence: &[Presence],
        labels: &[String],
    ) -> Self
    where
        N: Node,
        N::Msg: Clone,
        R: Recorder<N::Observation>,
    {
        let mut ctx = RunContext::new(identity, end);
        ctx.classes = <N::Msg as Payload>::CLASSES
            .iter()
            .map(|c| c.to_string())
            .collect();
        ctx.nodes = (0..network.node_count())
            .map(|i| NodeInfo {
                label: labels.get(i).cloned().unwrap_or_default(),
                present_at_start: presence.get(i) != Some(&Presence::Absent),
                stats: network.stats(NodeId(i as u32)).clone(),
            })
            .collect();
        ctx.state_log = network.state_log().to_vec();
        ctx
    }
}

/// An optional time in 8 bytes (`u64::MAX` nanoseconds means none), for small slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OptTime(u64);

impl OptTime {
    pub(crate) const NONE: OptTime = OptTime(u64::MAX);

    pub(crate) fn get(self) -> Option<SimTime> {
        (self.0 != u64::MAX).then_some(SimTime(self.0))
    }

    pub(crate) fn is_some(self) -> bool {
        self.0 != u64::MAX
    }

    /// Sets the time unless one is set already; returns whether it was set now. A time of
    /// `u64::MAX` ns (585 years) is stored one nanosecond earlier.
    pub(crate) fn set_once(&mut self, at: SimTime) -> bool {
        if self.is_some() {
            return false;
        }
        self.0 = at.as_nanos().min(u64::MAX - 1);
        true
    }
}

/// What the oracle keeps about one intended recipient of one message (40 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecipientSlot {
    pub(crate) node: NodeId,
    pub(crate) receptions: u32,
    /// First reception by the recipient's application.
    pub(crate) first_at: OptTime,
    /// When the sender's application learned (first `Confirmed`) that this recipient has it.
    pub(crate) confirmed_at: OptTime,
    /// The recipient's first `MissDetected` before it received the message.
    pub(crate) miss_at: OptTime,
    pub(crate) first_path: Option<DeliveryPath>,
}

/// What the oracle keeps about one message.
#[derive(Clone, Debug)]
pub(crate) struct MessageRecord {
    pub(crate) sender: NodeId,
    pub(crate) created_at: SimTime,
    pub(crate) payload_bytes: u32,
    /// Sorted by node id, without duplicates.
    pub(crate) recipients: Vec<RecipientSlot>,
    pub(crate) sent_at: Option<SimTime>,
    pub(crate) acked_at: Option<SimTime>,
    pub(crate) failed_at: Option<SimTime>,
    pub(crate) final_status: BelievedStatus,
    pub(crate) status_changes: u32,
}

/// Per (sender, receiver) stream state for out-of-order detection.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StreamState {
    pub(crate) max_id: Option<AppMessageId>,
    pub(crate) out_of_order: u64,
}

/// Observations that do not fit the vocabulary's contract; counted, otherwise ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Anomalies {
    /// `Received` for a message id never `Created` (or not yet).
    pub unknown_receptions: u64,
    /// `Status` for a message id never `Created`.
    pub unknown_statuses: u64,
    /// `Status` reported by a node other than the message's sender.
    pub foreign_statuses: u64,
    /// A second `Created` with an id already in use.
    pub duplicate_creations: u64,
    /// `Confirmed` for a message id never `Created`.
    pub unknown_confirmations: u64,
    /// `Confirmed` reported by a node other than the message's sender.
    pub foreign_confirmations: u64,
    /// A second `Confirmed` for the same (message, recipient).
    pub duplicate_confirmations: u64,
    /// `MissDetected` for a message id never `Created`.
    pub unknown_miss_detections: u64,
}

impl Anomalies {
    /// Sum of all anomaly counts.
    pub fn total(&self) -> u64 {
        self.unknown_receptions
            .saturating_add(self.unknown_statuses)
            .saturating_add(self.foreign_statuses)
            .saturating_add(self.duplicate_creations)
            .saturating_add(self.unknown_confirmations)
            .saturating_add(self.foreign_confirmations)
            .saturating_add(self.duplicate_confirmations)
            .saturating_add(self.unknown_miss_detections)
    }
}

/// Sum and count of a named counter.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CounterSum {
    pub(crate) increments: u64,
    pub(crate) sum: u64,
}

/// An HDR histogram of durations in microseconds plus the exact maximum in nanoseconds.
#[derive(Clone, Debug)]
pub(crate) struct DurationHist {
    pub(crate) hist: Histogram<u64>,
    pub(crate) max_ns: u64,
}

impl DurationHist {
    pub(crate) fn new() -> Self {
        DurationHist {
            hist: Histogram::new_with_bounds(1, HISTOGRAM_HIGH_US, 3)
                .expect("constant histogram bounds are valid"),
            max_ns: 0,
        }
    }

    pub(crate) fn record(&mut self, value: SimDuration) {
        self.hist.saturating_record(value.as_nanos() / 1_000);
        self.max_ns = self.max_ns.max(value.as_nanos());
    }

    pub(crate) fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The quantile in nanoseconds (3 significant digits), capped at the exact maximum.
    pub(crate) fn quantile(&self, q: f64) -> Option<SimDuration> {
        if self.hist.is_empty() {
            return None;
        }
        let us = self.hist.value_at_quantile(q);
        Some(SimDuration(us.saturating_mul(1_000).min(self.max_ns)))
    }

    pub(crate) fn max(&self) -> Option<SimDuration> {
        (!self.hist.is_empty()).then_some(SimDuration(self.max_ns))
    }
}

/// The ground-truth recorder. See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Oracle {
    pub(crate) messages: BTreeMap<AppMessageId, MessageRecord>,
    pub(crate) streams: BTreeMap<(NodeId, NodeId), StreamState>,
    pub(crate) counters: BTreeMap<&'static str, CounterSum>,
    pub(crate) durations: BTreeMap<&'static str, DurationHist>,
    pub(crate) unintended_receptions: u64,
    pub(crate) overhead_bytes: u64,
    /// `MissDetected` observations, all of them.
    pub(crate) miss_detected: u64,
    /// `MissDetected` by a recipient that had already received the message.
    pub(crate) miss_detections_after_reception: u64,
    /// `MissDetected` by a node that is not an intended recipient of the message.
    pub(crate) unintended_miss_detections: u64,
    /// `Confirmed` observations (end-to-end evidence a recipient holds a message), all of them.
    pub(crate) confirmations: u64,
    /// `Confirmed` naming a node that is not an intended recipient.
    pub(crate) unintended_confirmations: u64,
    pub(crate) anomalies: Anomalies,
    pub(crate) observations: u64,
}

impl Oracle {
    /// An empty oracle.
    pub fn new() -> Self {
        Oracle::default()
    }

    /// Number of messages created so far.
    pub fn messages(&self) -> usize {
        self.messages.len()
    }

    /// Number of observations recorded so far.
    pub fn observations(&self) -> u64 {
        self.observations
    }

    /// The anomalies counted so far.
    pub fn anomalies(&self) -> Anomalies {
        self.anomalies
    }

    /// Computes the run's ground truth. Does not consume the oracle, so a caller may finish
    /// the same observations against several contexts (for example two `late_after` values).
    pub fn finish(&self, ctx: RunContext) -> RunResult {
        crate::compute::compute(self, ctx)
    }

    fn on_created(
        &mut self,
        at: SimTime,
        node: NodeId,
        id: AppMessageId,
        mut to: Vec<NodeId>,
        bytes: u32,
    ) {
        if self.messages.contains_key(&id) {
            self.anomalies.duplicate_creations += 1;
            return;
        }
        to.sort_unstable();
        to.dedup();
        let recipients = to
            .into_iter()
            .map(|node| RecipientSlot {
                node,
                receptions: 0,
                first_at: OptTime::NONE,
                confirmed_at: OptTime::NONE,
                miss_at: OptTime::NONE,
                first_path: None,
            })
            .collect();
        let record = MessageRecord {
            sender: node,
            created_at: at,
            payload_bytes: bytes,
            recipients,
            sent_at: None,
            acked_at: None,
            failed_at: None,
            final_status: BelievedStatus::Outgoing,
            status_changes: 0,
        };
        self.messages.insert(id, record);
    }

    fn on_received(&mut self, at: SimTime, node: NodeId, id: AppMessageId, path: DeliveryPath) {
        let Some(message) = self.messages.get_mut(&id) else {
            self.anomalies.unknown_receptions += 1;
            return;
        };
        let sender = message.sender;
        match message.recipients.binary_search_by_key(&node, |r| r.node) {
            Ok(i) => {
                let slot = &mut message.recipients[i];
                slot.receptions = slot.receptions.saturating_add(1);
                if slot.first_at.set_once(at) {
                    slot.first_path = Some(path);
                    let stream = self.streams.entry((sender, node)).or_default();
                    match stream.max_id {
                        Some(max) if id < max => stream.out_of_order += 1,
                        _ => stream.max_id = Some(id),
                    }
                }
            }
            Err(_) if node == sender => {}
            Err(_) => self.unintended_receptions = self.unintended_receptions.saturating_add(1),
        }
    }

    fn on_status(&mut self, at: SimTime, node: NodeId, id: AppMessageId, status: BelievedStatus) {
        let Some(message) = self.messages.get_mut(&id) else {
            self.anomalies.unknown_statuses += 1;
            return;
        };
        if message.sender != node {
            self.anomalies.foreign_statuses += 1;
            return;
        }
        message.status_changes = message.status_changes.saturating_add(1);
        message.final_status = status;
        let slot = match status {
            BelievedStatus::Outgoing => return,
            BelievedStatus::Sent => &mut message.sent_at,
            BelievedStatus::Acked => &mut message.acked_at,
            BelievedStatus::Failed => &mut message.failed_at,
        };
        slot.get_or_insert(at);
    }

    fn on_confirmed(&mut self, at: SimTime, node: NodeId, id: AppMessageId, by: NodeId) {
        self.confirmations = self.confirmations.saturating_add(1);
        let Some(message) = self.messages.get_mut(&id) else {
            self.anomalies.unknown_confirmations += 1;
            return;
        };
        if message.sender != node {
            self.anomalies.foreign_confirmations += 1;
            return;
        }
        match message.recipients.binary_search_by_key(&by, |r| r.node) {
            Ok(i) => {
                if !message.recipients[i].confirmed_at.set_once(at) {
                    self.anomalies.duplicate_confirmations += 1;
                }
            }
            Err(_) => {
                self.unintended_confirmations = self.unintended_confirmations.saturating_add(1);
            }
        }
    }

    fn on_miss_detected(&mut self, at: SimTime, node: NodeId, id: AppMessageId) {
        self.miss_detected = self.miss_detected.saturating_add(1);
        let Some(message) = self.messages.get_mut(&id) else {
            self.anomalies.unknown_miss_detections += 1;
            return;
        };
        match message.recipients.binary_search_by_key(&node, |r| r.node) {
            Ok(i) => {
                let slot = &mut message.recipients[i];
                if slot.first_at.is_some() {
                    self.miss_detections_after_reception =
                        self.miss_detections_after_reception.saturating_add(1);
                } else {
                    slot.miss_at.set_once(at);
                }
            }
            Err(_) => {
                self.unintended_miss_detections = self.unintended_miss_detections.saturating_add(1);
            }
        }
    }
}

impl Recorder<AppObservation> for Oracle {
    fn record(&mut self, at: SimTime, node: NodeId, observation: AppObservation) {
        self.observations = self.observations.saturating_add(1);
        match observation {
            AppObservation::Created {
                id,
                recipients,
                payload_bytes,
            } => self.on_created(at, node, id, recipients, payload_bytes),
            AppObservation::Received { id, path } => self.on_received(at, node, id, path),
            AppObservation::Status { id, status } => self.on_status(at, node, id, status),
            AppObservation::Confirmed { id, by } => self.on_confirmed(at, node, id, by),
            AppObservation::MissDetected { id } => self.on_miss_detected(at, node, id),
            AppObservation::Overhead { bytes } => {
                self.overhead_bytes = self.overhead_bytes.saturating_add(u64::from(bytes));
            }
            AppObservation::Counter { name, delta } => {
                let c = self.counters.entry(name).or_default();
                c.increments = c.increments.saturating_add(1);
                c.sum = c.sum.saturating_add(delta);
            }
            AppObservation::Duration { name, value } => {
                self.durations
                    .entry(name)
                    .or_insert_with(DurationHist::new)
                    .record(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_slots_stay_small() {
        assert_eq!(std::mem::size_of::<RecipientSlot>(), 40);
    }

    #[test]
    fn opt_time_keeps_the_first_time() {
        let mut t = OptTime::NONE;
        assert_eq!(t.get(), None);
        assert!(t.set_once(SimTime(5)));
        assert!(!t.set_once(SimTime(3)));
        assert_eq!(t.get(), Some(SimTime(5)));
        let mut max = OptTime::NONE;
        assert!(max.set_once(SimTime::MAX));
        assert_eq!(max.get(), Some(SimTime(u64::MAX - 1)));
    }
}
