//! The ground truth of one run ([`RunResult`]) and how it is computed from the oracle's
//! records and the run context.
//!
//! Definitions (the same text is in `docs/outputs.md`):
//! - an **intended delivery** is a (message, distinct intended recipient) pair; every created
//!   message counts, including one created while its sender was offline;
//! - a pair is **delivered** when the recipient's application received the message at least
//!   once before the run ended; **latency** is first reception minus creation;
//! - **duplicates** are receptions after the first, by intended recipients;
//! - **reach** of a message: `all` (every intended recipient got it; also when it had none),
//!   `some`, or `none`;
//! - **false_sent**: the sender believed `Sent` or `Acked` at some point, the message had at
//!   least one intended recipient, and no intended recipient received it by the end of the run;
//! - **false_acked**: the sender believed `Acked` at time *t* while no intended recipient had
//!   received the message at or before *t*;
//! - **undetected_loss**: some intended recipient never received the message and the sender
//!   never believed `Failed`;
//! - **false_failed**: the sender believed `Failed` although every intended recipient (at
//!   least one) received the message by the end of the run;
//! - **time_to_detect_failure**: first `Failed` minus creation, for messages whose reach is
//!   not `all`;
//! - lite-protocol-tester counters per (sender, receiver) stream: **expected** intended
//!   deliveries, **received** delivered ones, **lost** = expected − received,
//!   **out_of_order** first receptions of a message whose id is lower than an id already
//!   received on the stream, **late** first receptions with latency > `late_after`,
//!   **duplicates** as above;
//! - **convergence time**: with a heal time *h*, the last first-reception of a message
//!   created before *h*, minus *h* (zero if it came before *h*); **converged** whether every
//!   such pair was delivered;
//! - a pair is **confirmed** at the time the sender's application reported `Confirmed` for
//!   that recipient (end-to-end evidence, e.g. SDS acknowledgement); the confirmation is
//!   **false** when the recipient had not received the message at or before that time;
//! - per message with at least one intended recipient: **first confirmation** = earliest
//!   confirmation − creation; **share confirmation** = the time the ⌈N × recipients⌉-th
//!   (at least the first) recipient was confirmed − creation, N = `confirm_share`;
//! - a **detected miss** is a pair whose recipient reported `MissDetected` before it first
//!   received the message; **detection time** = that report − creation; the miss is
//!   **repaired** when the recipient received the message afterwards, **repair time** = first
//!   reception − detection;
//! - SDS overhead per message: the sums of the `sds_*` counters divided by messages created.
//!
//! The SDS targets are evaluated by [`crate::targets`].

use sim_core::{AppMessageId, BelievedStatus, DeliveryPath, NodeId, SimDuration, SimTime};
use sim_net::{NodeStats, StateChange};

use crate::oracle::RunIdentity;
use crate::targets::Targets;
use crate::timeline::FaultPeriod;

/// Settings the run was judged with (echoed into the files).
#[derive(Clone, Debug, PartialEq)]
pub struct RunSettings {
    /// When the run ended.
    pub end: SimTime,
    /// Start of the heal phase.
    pub heal_at: Option<SimTime>,
    /// Lateness threshold.
    pub late_after: SimDuration,
    /// Width of a time-series bucket actually used (after defaulting and widening).
    pub bucket: SimDuration,
    /// Traffic class names (as many as the widest node counter vector).
    pub classes: Vec<String>,
    /// The confirmation share N actually used (after clamping, see
    /// [`RunContext::confirm_share`](crate::RunContext::confirm_share)).
    pub confirm_share: f64,
    /// The message interval S the targets were evaluated with, if any.
    pub target_interval: Option<SimDuration>,
}

/// One intended delivery (message × intended recipient).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The message.
    pub message: AppMessageId,
    /// Its sender.
    pub sender: NodeId,
    /// The intended recipient.
    pub recipient: NodeId,
    /// When the sender's application created it.
    pub created_at: SimTime,
    /// First reception by the recipient's application.
    pub first_received_at: Option<SimTime>,
    /// First reception minus creation.
    pub latency: Option<SimDuration>,
    /// Path of the first reception.
    pub path: Option<DeliveryPath>,
    /// Receptions in total (1 + duplicates when delivered, 0 otherwise).
    pub receptions: u32,
    /// When the sender learned end to end that this recipient has the message.
    pub confirmed_at: Option<SimTime>,
    /// When the recipient detected it had missed the message (only before its first
    /// reception).
    pub miss_detected_at: Option<SimTime>,
}

/// How many intended recipients a message reached by the end of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Every intended recipient (vacuously true without recipients).
    All,
    /// At least one, not all.
    Some,
    /// None.
    None,
}

impl Reach {
    /// Stable lowercase name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::All => "all",
            Reach::Some => "some",
            Reach::None => "none",
        }
    }
}

/// What a sender believed about one message, next to the truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageStatus {
    /// The message.
    pub message: AppMessageId,
    /// Its sender.
    pub sender: NodeId,
    /// Creation time.
    pub created_at: SimTime,
    /// Whether the sender was online (running, network up) when it created the message.
    pub sender_online_at_creation: bool,
    /// Payload size in bytes.
    pub payload_bytes: u32,
    /// Distinct intended recipients.
    pub recipients_intended: u32,
    /// Intended recipients that received it by the end of the run.
    pub recipients_delivered: u32,
    /// The truth.
    pub reach: Reach,
    /// Earliest first reception by an intended recipient.
    pub first_delivered_at: Option<SimTime>,
    /// When the last intended recipient first received it (only when `reach` is `all`).
    pub all_delivered_at: Option<SimTime>,
    /// First time the sender believed `Sent`.
    pub sent_at: Option<SimTime>,
    /// First time the sender believed `Acked`.
    pub acked_at: Option<SimTime>,
    /// First time the sender believed `Failed`.
    pub failed_at: Option<SimTime>,
    /// The last status reported (`Outgoing` if none).
    pub final_status: BelievedStatus,
    /// Number of status reports.
    pub status_changes: u32,
    /// See the module documentation.
    pub false_sent: bool,
    /// See the module documentation.
    pub false_acked: bool,
    /// See the module documentation.
    pub undetected_loss: bool,
    /// See the module documentation.
    pub false_failed: bool,
    /// See the module documentation.
    pub time_to_detect_failure: Option<SimDuration>,
    /// Intended recipients the sender received a confirmation for.
    pub recipients_confirmed: u32,
    /// The earliest confirmation.
    pub first_confirmed_at: Option<SimTime>,
    /// When ⌈N × recipients⌉ recipients (at least one) had been confirmed, N = the run's
    /// `confirm_share`.
    pub share_confirmed_at: Option<SimTime>,
}

/// Lite-protocol-tester counters for one (sender, receiver) stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamCounters {
    /// The publishing node.
    pub sender: NodeId,
    /// The receiving node.
    pub receiver: NodeId,
    /// Intended deliveries on this stream.
    pub expected: u64,
    /// Delivered ones.
    pub received: u64,
    /// expected − received.
    pub lost: u64,
    /// First receptions with a lower id than one already received.
    pub out_of_order: u64,
    /// First receptions later than `late_after`.
    pub late: u64,
    /// Receptions after the first.
    pub duplicates: u64,
}

/// One time-series bucket `[start, end)`; message counts are by creation time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Bucket start.
    pub start: SimTime,
    /// Bucket end (the run's end for the last bucket).
    pub end: SimTime,
    /// Messages created in the bucket.
    pub messages_created: u64,
    /// Intended deliveries of those messages.
    pub deliveries_intended: u64,
    /// Of those, delivered by the end of the run.
    pub deliveries_delivered: u64,
    /// Of those, delivered within `late_after`.
    pub deliveries_by_deadline: u64,
    /// Intended deliveries of messages created up to the end of this bucket.
    pub deliveries_intended_cumulative: u64,
    /// Of those, delivered by the end of the run.
    pub deliveries_delivered_cumulative: u64,
    /// First receptions that happened in the bucket (any creation time).
    pub first_receptions: u64,
    /// Fewest nodes running at any instant of the bucket.
    pub nodes_running_min: u32,
    /// Fewest nodes online at any instant of the bucket.
    pub nodes_online_min: u32,
}

/// One node's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeReport {
    /// The node.
    pub node: NodeId,
    /// Its group label.
    pub label: String,
    /// Whether it booted at time zero.
    pub present_at_start: bool,
    /// What the network counted.
    pub stats: NodeStats,
    /// Application messages it created.
    pub messages_created: u64,
    /// Messages it received as an intended recipient (first receptions).
    pub first_receptions: u64,
    /// Its receptions after the first, as an intended recipient.
    pub duplicate_receptions: u64,
    /// Time it was down (see `timeline`).
    pub downtime: SimDuration,
}

/// Bytes of one traffic class across nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassTraffic {
    /// Class name.
    pub class: String,
    /// Bytes sent by all nodes.
    pub bytes_sent_total: u64,
    /// Bytes received by all nodes.
    pub bytes_received_total: u64,
    /// Mean bytes sent per node.
    pub bytes_sent_per_node_mean: Option<f64>,
    /// Most bytes sent by one node.
    pub bytes_sent_per_node_max: u64,
    /// Mean bytes received per node.
    pub bytes_received_per_node_mean: Option<f64>,
    /// Most bytes received by one node.
    pub bytes_received_per_node_max: u64,
}

/// Where a named metric came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricKind {
    /// An application `Counter` observation.
    Counter,
    /// An application `Duration` observation.
    Duration,
    /// The oracle's own anomaly counts.
    Oracle,
}

impl MetricKind {
    /// Stable lowercase name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Duration => "duration",
            MetricKind::Oracle => "oracle",
        }
    }
}

/// A named counter or duration distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedMetric {
    /// Name.
    pub name: String,
    /// Origin.
    pub kind: MetricKind,
    /// Number of observations.
    pub count: u64,
    /// Sum of increments (counters and oracle counts only).
    pub sum: Option<u64>,
    /// Median (durations only).
    pub p50: Option<SimDuration>,
    /// 99th percentile (durations only).
    pub p99: Option<SimDuration>,
    /// Exact maximum (durations only).
    pub max: Option<SimDuration>,
}

/// One bucket of the latency HDR histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencyBucket {
    /// Highest latency of the bucket, in microseconds.
    pub latency_us: u64,
    /// First receptions in the bucket.
    pub count: u64,
}

/// Run-level totals.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunSummary {
    /// Nodes in the run.
    pub nodes: u32,
    /// Messages created.
    pub messages_created: u64,
    /// Intended deliveries.
    pub deliveries_intended: u64,
    /// Delivered by the end.
    pub deliveries_delivered: u64,
    /// Delivered within each of [`DEADLINES`](crate::oracle::DEADLINES).
    pub delivered_within: [u64; 3],
    /// Latency median (HDR, 3 significant digits, capped at the maximum).
    pub latency_p50: Option<SimDuration>,
    /// Latency 90th percentile.
    pub latency_p90: Option<SimDuration>,
    /// Latency 99th percentile.
    pub latency_p99: Option<SimDuration>,
    /// Exact maximum latency.
    pub latency_max: Option<SimDuration>,
    /// Receptions after the first by intended recipients.
    pub duplicates: u64,
    /// Receptions by nodes that were not intended recipients (loopback excluded).
    pub unintended_receptions: u64,
    /// Sum of stream out-of-order counts.
    pub out_of_order: u64,
    /// Sum of stream late counts.
    pub late: u64,
    /// Messages whose sender believed `Sent` or `Acked` at some point.
    pub messages_believed_sent: u64,
    /// Messages whose sender believed `Acked` at some point.
    pub messages_acked: u64,
    /// Messages whose sender believed `Failed` at some point.
    pub messages_failed: u64,
    /// Messages flagged false_sent.
    pub false_sent: u64,
    /// Messages flagged false_acked.
    pub false_acked: u64,
    /// Messages flagged undetected_loss.
    pub undetected_loss: u64,
    /// Messages flagged false_failed.
    pub false_failed: u64,
    /// Mean time to detect failure.
    pub time_to_detect_failure_mean: Option<SimDuration>,
    /// Longest time to detect failure.
    pub time_to_detect_failure_max: Option<SimDuration>,
    /// Mean over nodes of bytes sent (all classes).
    pub bytes_sent_per_node_mean: Option<f64>,
    /// Most bytes sent by one node.
    pub bytes_sent_per_node_max: u64,
    /// Mean over nodes of bytes received (all classes).
    pub bytes_received_per_node_mean: Option<f64>,
    /// Most bytes received by one node.
    pub bytes_received_per_node_max: u64,
    /// Sum of `Overhead` observations.
    pub overhead_bytes: u64,
    /// Sum of the `store_queries` counter.
    pub store_queries: u64,
    /// `MissDetected` observations.
    pub miss_detected: u64,
    /// Messages with at least one intended recipient.
    pub messages_with_recipients: u64,
    /// Pairs confirmed to the sender.
    pub confirmations: u64,
    /// Confirmed pairs whose recipient had not received the message by the confirmation.
    pub confirmations_false: u64,
    /// Messages with at least one confirmed recipient.
    pub messages_confirmed_any: u64,
    /// Messages with at least ⌈N × recipients⌉ confirmed recipients.
    pub messages_confirmed_share: u64,
    /// First confirmation − creation, median over messages with one.
    pub confirm_first_p50: Option<SimDuration>,
    /// First confirmation − creation, 99th percentile.
    pub confirm_first_p99: Option<SimDuration>,
    /// Share confirmation − creation, median.
    pub confirm_share_p50: Option<SimDuration>,
    /// Share confirmation − creation, 99th percentile.
    pub confirm_share_p99: Option<SimDuration>,
    /// Detected misses (pairs).
    pub misses_detected: u64,
    /// Detected misses later received.
    pub misses_repaired: u64,
    /// Detection − creation, median over detected misses.
    pub miss_detect_p50: Option<SimDuration>,
    /// Detection − creation, 99th percentile.
    pub miss_detect_p99: Option<SimDuration>,
    /// First reception − detection, median over repaired misses.
    pub miss_repair_p50: Option<SimDuration>,
    /// First reception − detection, 99th percentile.
    pub miss_repair_p99: Option<SimDuration>,
    /// Sum of the `sds_bloom_bytes` counter.
    pub sds_bloom_bytes: u64,
    /// Sum of the `sds_history_bytes` counter.
    pub sds_history_bytes: u64,
    /// Sum of the `sds_repair_bytes` counter.
    pub sds_repair_bytes: u64,
    /// Sum of the `sds_sync_bytes` counter.
    pub sds_sync_bytes: u64,
    /// Sum of the `sds_sync_messages` counter.
    pub sds_sync_messages: u64,
    /// See the module documentation.
    pub convergence_time: Option<SimDuration>,
    /// See the module documentation (`None` without a heal time).
    pub converged: Option<bool>,
    /// Anomalies the oracle counted.
    pub oracle_anomalies: u64,
}

impl RunSummary {
    /// Delivered / intended, `None` without intended deliveries.
    pub fn delivery_ratio(&self) -> Option<f64> {
        crate::format::ratio(self.deliveries_delivered, self.deliveries_intended)
    }

    /// Delivered within `DEADLINES[i]` / intended.
    pub fn delivery_ratio_within(&self, i: usize) -> Option<f64> {
        let n = self.delivered_within.get(i).copied().unwrap_or(0);
        crate::format::ratio(n, self.deliveries_intended)
    }

    /// Messages with ≥ 1 confirmed recipient / messages with ≥ 1 intended recipient.
    pub fn confirmed_any_ratio(&self) -> Option<f64> {
        crate::format::ratio(self.messages_confirmed_any, self.messages_with_recipients)
    }

    /// Messages with ≥ ⌈N × recipients⌉ confirmed recipients / messages with ≥ 1 intended
    /// recipient.
    pub fn confirmed_share_ratio(&self) -> Option<f64> {
        crate::format::ratio(self.messages_confirmed_share, self.messages_with_recipients)
    }

    /// Sum of the four `sds_*_bytes` counters.
    pub fn sds_overhead_bytes(&self) -> u64 {
        self.sds_bloom_bytes
            .saturating_add(self.sds_history_bytes)
            .saturating_add(self.sds_repair_bytes)
            .saturating_add(self.sds_sync_bytes)
    }

    /// `total / messages_created`, `None` without messages.
    pub fn per_message(&self, total: u64) -> Option<f64> {
        crate::format::ratio(total, self.messages_created)
    }
}

/// Everything measured about one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// Who the run is.
    pub identity: RunIdentity,
    /// How it was judged.
    pub settings: RunSettings,
    /// Totals.
    pub summary: RunSummary,
    /// Message × intended recipient, by message id then recipient.
    pub deliveries: Vec<Delivery>,
    /// One per message, by id.
    pub statuses: Vec<MessageStatus>,
    /// One per (sender, receiver) stream with intended deliveries, in that order.
    pub streams: Vec<StreamCounters>,
    /// Fixed-width buckets from time zero to the end.
    pub timeseries: Vec<Bucket>,
    /// One per node, by id.
    pub nodes: Vec<NodeReport>,
    /// One per traffic class.
    pub traffic: Vec<ClassTraffic>,
    /// Counters, durations and oracle anomaly counts, by kind then name.
    pub metrics: Vec<NamedMetric>,
    /// Intervals with at least one node down.
    pub faults: Vec<FaultPeriod>,
    /// The latency histogram's non-empty buckets, by latency.
    pub latency_histogram: Vec<LatencyBucket>,
    /// Node state changes within the run, in time order (to re-evaluate the targets with
    /// another interval: [`crate::targets::evaluate`]).
    pub state_log: Vec<StateChange>,
    /// The SDS targets, when the context named a message interval.
    pub targets: Option<Targets>,
}
