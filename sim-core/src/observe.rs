//! The observation vocabulary: what simulated applications report to the recorder.
//!
//! Ground truth is computed from these records by an oracle outside the system under test
//! (the `reports` crate). The records are deliberately protocol-neutral: an application
//! message has a numeric id chosen by the traffic generator, a sender, intended recipients,
//! and each recipient's first (and later duplicate) receptions with the path that brought it.
//! What the sender *believed* about a message is reported separately as statuses, so a report
//! can put belief next to truth.

use crate::node::NodeId;
use crate::time::SimDuration;

/// Identifies one application message for the whole run (assigned by the traffic generator).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppMessageId(pub u64);

/// How a message reached a recipient's application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeliveryPath {
    /// Gossip (relay) delivery.
    Relay,
    /// Pushed by a filter service node.
    FilterPush,
    /// Fetched from a store node (missing-message retrieval, reconnect queries).
    StoreFetch,
    /// Retransmitted by an end-to-end protocol (MVDS, an SDS resend).
    Retransmission,
    /// Repaired by an end-to-end repair protocol (SDS-R).
    Repair,
    /// Anything else (direct transfer in tests).
    Direct,
}

impl DeliveryPath {
    /// Stable lowercase name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryPath::Relay => "relay",
            DeliveryPath::FilterPush => "filter_push",
            DeliveryPath::StoreFetch => "store_fetch",
            DeliveryPath::Retransmission => "retransmission",
            DeliveryPath::Repair => "repair",
            DeliveryPath::Direct => "direct",
        }
    }
}

/// What a sender's application believes about one of its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BelievedStatus {
    /// Created, not yet known to have left the node.
    Outgoing,
    /// The node believes the network has it (relayed to peers, lightpush answered OK).
    Sent,
    /// Acknowledged end to end by at least one recipient.
    Acked,
    /// The application gave up (expired, failed).
    Failed,
}

impl BelievedStatus {
    /// Stable lowercase name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            BelievedStatus::Outgoing => "outgoing",
            BelievedStatus::Sent => "sent",
            BelievedStatus::Acked => "acked",
            BelievedStatus::Failed => "failed",
        }
    }
}

/// One record an application emits through `Ctx::observe`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppObservation {
    /// The application created message `id` for `recipients` (counted as sent even if the
    /// node is offline at that moment).
    Created {
        /// The message.
        id: AppMessageId,
        /// Every node that should receive it.
        recipients: Vec<NodeId>,
        /// Payload size in bytes.
        payload_bytes: u32,
    },
    /// The application received message `id` (every reception, duplicates included).
    Received {
        /// The message.
        id: AppMessageId,
        /// How it arrived.
        path: DeliveryPath,
    },
    /// The sender's belief about message `id` changed.
    Status {
        /// The message.
        id: AppMessageId,
        /// The new belief.
        status: BelievedStatus,
    },
    /// The sender's application learned, end to end, that recipient `by` holds message `id`
    /// (an SDS causal-history or bloom-filter acknowledgement, an MVDS ACK). Reported once
    /// per (message, recipient), so a report can tell when the sender knew that one, or N %,
    /// of the recipients had it.
    Confirmed {
        /// The message.
        id: AppMessageId,
        /// The recipient the evidence came from.
        by: NodeId,
    },
    /// The application detected that it had missed message `id` (gap detection).
    MissDetected {
        /// The message.
        id: AppMessageId,
    },
    /// Bytes the reliability layer added on top of the payload (acks, bloom filters, history).
    Overhead {
        /// Bytes added.
        bytes: u32,
    },
    /// A named counter moved (protocol-specific metrics such as store queries issued).
    Counter {
        /// Counter name (static, snake_case).
        name: &'static str,
        /// Increment.
        delta: u64,
    },
    /// A latency-like measurement the application wants in the reports.
    Duration {
        /// Metric name (static, snake_case).
        name: &'static str,
        /// The value.
        value: SimDuration,
    },
}
