//! SDS — Scalable Data Sync, end-to-end reliability for group channels — with the SDS-R
//! repair extension (RFC `ift-ts/raw/sds.md`; `reference/reliability.md` §2), as a sans-IO
//! machine: [`SdsChannel`] is one participant in one channel; the caller passes `now` and
//! inputs and drains [`SdsOutput`]s. It needs only "broadcast this message to the channel"
//! and "a message of the channel arrived", so it runs over relay or over lightpush + filter.
//!
//! Files:
//! - [`config`]: [`SdsConfig`] / [`RepairConfig`], the switches between implementations and
//!   the presets `spec`, `js_waku` (= `Default`), `nim_sds`, `logos_delivery`;
//! - [`wire`]: [`SdsMessage`] and the two protobuf numberings ([`WireFormat`]), decoding
//!   with a size limit, and the [`wire::overhead`] breakdown for bandwidth reports;
//! - [`bloom`]: sizing, Nim's string hash, the filter, views on received filters, rollover;
//! - [`repair`]: SDS-R timing, response groups and both repair buffers;
//! - `channel`: [`SdsChannel`] — construction, sending, timed work, inspection — and
//!   `channel/receive`, the receive path; `log`, `incoming`, `outgoing` and `schedule` hold
//!   its local log, incoming buffer, outgoing buffer with acknowledgement review, and timers;
//! - `tests`: the hand-driven conformance tests (`reference/reliability.md` §2.6).
//!
//! **Using it** (quinn-proto style). Create one [`SdsChannel`] per (participant, channel)
//! with its own [`SimRng`](sim_core::SimRng) stream. Feed it [`SdsChannel::send`] /
//! [`SdsChannel::send_ephemeral`] for application messages, [`SdsChannel::receive`] (or
//! [`SdsChannel::receive_bytes`]) for every SDS message of the channel that arrives, and,
//! with `history_after_transport`, [`SdsChannel::transport_result`] once the transport took
//! (or refused) a content broadcast. After every call drain [`SdsChannel::poll_output`];
//! then ask [`SdsChannel::poll_timeout`] and call [`SdsChannel::handle_timeout`] when that
//! time comes (or earlier: it only does what is due). [`SdsOutput::Broadcast`] asks the
//! caller to send a message to the channel (encode with [`wire::encode`]); everything else
//! is a report.
//!
//! **Behaviour.** Sending takes the Lamport clock forward ([`LamportStyle`]), attaches the
//! newest `causal_history_length` local-log ids (with their retrieval hints, and senders when
//! SDS-R is on), the bloom filter and up to `max_requests_per_message` due repair requests,
//! and keeps the message in the outgoing buffer until acknowledged: its id in a received
//! causal history, or `possible_ack_threshold` received bloom filters containing it. Own
//! messages enter the local log and filter at send or on transport success. Evidence of who
//! holds each own message is reported once per participant ([`SdsOutput::AckEvidence`]), so
//! the caller can tell when "≥ N % of recipients have it". An unacknowledged message is due
//! again after `resend_interval` (`possibly_acked_resend_interval` once a filter matched it),
//! rebroadcast or only counted, and given up when it falls due after `max_resends` resends
//! (js-waku simply stops retrying then; nim-sds reports it as sent). Receiving ignores other
//! channels, own loopbacks and duplicates (by log and buffer), delivers ephemeral messages
//! at once, reviews acknowledgements (syncs too), inserts content ids into the filter, and
//! delivers a message when every causal dependency is logged — else buffers it and reports
//! the dependencies absent from both log and buffer ([`SdsOutput::Missing`], with the
//! sender's hints, and SDS-R requests). A delivery releases buffered dependants in Lamport
//! order. Sync messages (empty content, fresh timestamp) are never buffered, logged,
//! filtered or referenced, and are not sent while the log is empty unless a repair request
//! is due.
//!
//! Simulator choices: the Lamport clock reads virtual time plus `epoch_offset_ms`; sync ids
//! are `sync-<base-36 random>` from the channel's stream; a message listing itself as a
//! dependency ignores that entry; a buffered message dropped for its lost timeout (or a full
//! buffer) is not delivered (js-waku); a dependency marked met is not logged.
//!
//! Bounds (all configurable): local log ≤ `max_local_log`; incoming buffer ≤ `max_incoming`
//! (oldest reported lost); outgoing buffer ≤ `max_outgoing` (oldest given up); evidence for
//! ≤ `max_ack_tracked` own messages × `max_ack_participants`; bloom filter fixed size, a
//! rolling one keeps ≤ `capacity·(100 + flex)/100 + 1` keys; each repair buffer ≤
//! `max_buffer`; a decoded message ≤ `max_message_bytes`. Outputs queue until drained;
//! one call produces at most a bounded number.

pub mod bloom;
mod channel;
pub mod config;
mod incoming;
mod log;
mod outgoing;
pub mod repair;
mod schedule;
pub mod wire;

#[cfg(test)]
mod tests;

use waku::Bytes;

pub use bloom::{BloomParams, BloomSnapshot};
pub use channel::{SdsChannel, SendError};
pub use config::{
    BloomRollover, LamportStyle, RepairConfig, SdsConfig, Sweep, SyncSchedule, WireFormat,
};
pub use wire::{HistoryEntry, Overhead, SdsMessage, WireError};

/// Why a broadcast is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BroadcastKind {
    /// A new content message.
    Content,
    /// A content message again, unchanged (resend schedule or a repeated send).
    Resend,
    /// A sync message.
    Sync,
    /// An ephemeral message.
    Ephemeral,
    /// SDS-R: someone else's (or an own) message rebroadcast in answer to a repair request.
    RepairResponse,
}

/// How a participant showed it holds an own message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AckVia {
    /// Its id was in the participant's causal history (certain).
    History,
    /// The participant's bloom filter matched it (probable).
    Bloom,
}

/// Why an outgoing message left the buffer unacknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GiveUpReason {
    /// `max_resends` resends and still due.
    MaxResends,
    /// The outgoing buffer was full.
    Evicted,
}

/// What the channel wants done or reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdsOutput {
    /// Send `message` to the channel.
    Broadcast {
        /// The message.
        message: SdsMessage,
        /// Why.
        kind: BroadcastKind,
    },
    /// A message is delivered to the application (in causal order; ephemeral at once).
    Deliver {
        /// Its id.
        message_id: String,
        /// Its sender.
        sender_id: String,
        /// Its payload.
        content: Bytes,
        /// Its Lamport timestamp (`None`: ephemeral).
        lamport: Option<u64>,
        /// The hint it arrived with.
        retrieval_hint: Option<Bytes>,
    },
    /// First evidence that `from_participant` holds own message `message_id`.
    AckEvidence {
        /// The own message.
        message_id: String,
        /// Who holds it.
        from_participant: String,
        /// How we know.
        via: AckVia,
    },
    /// A bloom filter matched an outgoing message, below the acknowledgement threshold.
    PossiblyAcknowledged {
        /// The own message.
        message_id: String,
        /// Matches so far.
        count: u32,
    },
    /// An outgoing message is acknowledged and leaves the buffer.
    Acknowledged {
        /// The own message.
        message_id: String,
    },
    /// `message_id` arrived with dependencies absent from the local log and the incoming
    /// buffer (fetch them, e.g. from a store by their hints).
    Missing {
        /// The message that references them (a sync message's id included).
        message_id: String,
        /// The absent entries, with the sender's hints.
        missing: Vec<HistoryEntry>,
    },
    /// A buffered message was dropped undelivered (lost timeout or full buffer).
    Lost {
        /// The dropped message.
        message_id: String,
        /// Its dependencies that never arrived.
        missing: Vec<HistoryEntry>,
    },
    /// An outgoing message left the buffer unacknowledged.
    GaveUp {
        /// The own message.
        message_id: String,
        /// Why.
        reason: GiveUpReason,
        /// The implementation reports this as *sent* (nim-sds), not as failed.
        reported_as_sent: bool,
    },
    /// SDS-R: a repair request for `message_id` went out on `carrier_id`.
    RepairRequested {
        /// The missing message.
        message_id: String,
        /// The outgoing message carrying the request.
        carrier_id: String,
    },
    /// SDS-R: `message_id` was rebroadcast in answer to a repair request.
    RepairServed {
        /// The repaired message.
        message_id: String,
    },
}

/// Counters of one channel since creation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdsStats {
    /// New content messages sent.
    pub content_sent: u64,
    /// Resends (rebroadcast or only counted) and repeated sends.
    pub resends: u64,
    /// Sync messages sent.
    pub syncs_sent: u64,
    /// Sync messages not sent (empty log, no due repair request).
    pub syncs_skipped: u64,
    /// Ephemeral messages sent.
    pub ephemeral_sent: u64,
    /// Transport failures reported.
    pub transport_failures: u64,
    /// Messages received from others on this channel.
    pub received: u64,
    /// Sync messages among them.
    pub syncs_received: u64,
    /// Content messages already logged or buffered.
    pub duplicates: u64,
    /// Own messages looped back (ignored).
    pub own_loopbacks: u64,
    /// Messages of other channels (ignored).
    pub foreign_channel: u64,
    /// Received bloom filters whose shape was unusable.
    pub bloom_unusable: u64,
    /// Messages delivered (ephemeral included).
    pub delivered: u64,
    /// Messages that had to wait for dependencies.
    pub buffered: u64,
    /// Buffered messages dropped undelivered.
    pub lost: u64,
    /// Outgoing messages acknowledged.
    pub acknowledged: u64,
    /// Outgoing messages given up.
    pub gave_up: u64,
    /// SDS-R requests attached to own messages.
    pub repair_requests_sent: u64,
    /// SDS-R requests seen in received messages.
    pub repair_requests_received: u64,
    /// Own pending requests dropped because someone else asked first.
    pub repair_requests_suppressed: u64,
    /// Repair rebroadcasts sent.
    pub repair_responses_sent: u64,
    /// Pending rebroadcasts dropped because the message was seen first.
    pub repair_responses_suppressed: u64,
}
