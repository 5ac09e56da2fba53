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
//!   such pair was delivered.

use sim_core::{AppMessageId, BelievedStatus, DeliveryPath, NodeId, SimDuration, SimTime};
use sim_net::NodeStats;

use crate::oracle::RunIdentity;
use crate::timeline::FaultPeriod;

/// Settings the run was judged with (echoed into the files).
#[derive(Clone, Debug, PartialEq, Eq)]
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
}
