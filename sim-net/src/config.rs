//! Network-wide parameters and per-node network counters.
//!
//! [`NetConfig`] holds what applies to every connection: delivery semantics, the TCP-like
//! retransmission model, dial costs and the default link. [`NodeStats`] counts what each node
//! put on and took off the wire, per traffic class, as the network saw it (ground truth for
//! bandwidth reports).

use serde::Deserialize;
use sim_core::SimDuration;

use crate::link::{LinkModel, RegionMatrix};

/// How a lost transmission affects a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Semantics {
    /// Reliable, ordered streams (TCP/QUIC + yamux), as Waku runs on: a lost packet costs a
    /// retransmission timeout that doubles each time; exhausting the retransmission budget
    /// resets the connection on the sending side.
    #[default]
    Stream,
    /// Independent datagrams: a lost message is gone. For analysis only.
    Datagram,
}

/// The TCP-like retransmission model used by [`Semantics::Stream`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// Added to the round-trip time to form the first retransmission timeout (Linux: 200 ms).
    pub rto_min: SimDuration,
    /// Upper bound of the doubling retransmission timeout (Linux: 120 s).
    pub rto_max: SimDuration,
    /// Retransmissions before the sender gives up and resets (Linux `tcp_retries2`: 15,
    /// about 15 minutes with the defaults above).
    pub max_retransmits: u32,
}

impl Default for StreamParams {
    fn default() -> Self {
        StreamParams {
            rto_min: SimDuration::from_millis(200),
            rto_max: SimDuration::from_secs(120),
            max_retransmits: 15,
        }
    }
}

impl StreamParams {
    /// The timeout after attempt number `attempt` (0 = first transmission) failed, for a path
    /// whose mean one-way latency is `one_way`.
    pub fn rto(&self, one_way: SimDuration, attempt: u32) -> SimDuration {
        let base = self.rto_min + one_way.saturating_mul(2);
        let factor = 1u64 << attempt.min(32);
        base.saturating_mul(factor).min(self.rto_max)
    }
}

/// Connection establishment costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialParams {
    /// Round trips from the first packet until the dialer can use the connection
    /// (TCP handshake + security + multiplexer negotiation; libp2p over TCP is about 3).
    pub handshake_round_trips: u32,
    /// A dial that has not completed by then fails with a timeout.
    pub timeout: SimDuration,
}

impl Default for DialParams {
    fn default() -> Self {
        DialParams {
            handshake_round_trips: 3,
            timeout: SimDuration::from_secs(10),
        }
    }
}

/// Parameters shared by every connection of a network.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetConfig {
    /// Stream (default) or datagram semantics.
    pub semantics: Semantics,
    /// Retransmission model for stream semantics.
    pub stream: StreamParams,
    /// Dial costs.
    pub dial: DialParams,
    /// The link model between nodes without a more specific one.
    pub default_link: LinkModel,
    /// Optional base latencies between regions.
    pub regions: Option<RegionMatrix>,
    /// How much each node's uplink and downlink queue holds, as transmission time at the rate
    /// in force (`tc tbf`'s `latency`; its byte limit is `rate × queue_limit`). A segment
    /// arriving at a fuller queue is dropped: retransmitted after the RTO under stream
    /// semantics, lost under datagram semantics (see the `queue` module). Default
    /// [`DEFAULT_QUEUE_LIMIT`]; at most one hour.
    pub queue_limit: SimDuration,
}

/// The default [`NetConfig::queue_limit`]: 5 s. A node's queue here stands for more than a
/// shaper's: the sender's socket buffers too (Linux lets each TCP socket buffer up to 4 MiB),
/// which absorb a burst that TCP then sends at the link rate without a timeout. A shallow,
/// shaper-like limit (`tc tbf` setups use a `latency` of 50 ms to 1 s; Linux's default
/// 1000-packet transmit queue is 1.2 s of full-size packets at 10 Mbit/s) would turn such
/// bursts — a relay sending a few MB to its peers after a partition heals, 2–5 s at
/// 20 Mbit/s in the `default` scenario — into drops that each cost a full RTO. Five seconds
/// is still within the multi-second queues measured on bloated access links, bounds the
/// backlog of a throttled or overloaded node, and is only reached under sustained overload.
/// Scenarios that reproduce a specific `tc` setup set `queue_limit` to its `latency`.
pub const DEFAULT_QUEUE_LIMIT: SimDuration = SimDuration::from_secs(5);

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            semantics: Semantics::default(),
            stream: StreamParams::default(),
            dial: DialParams::default(),
            default_link: LinkModel::default(),
            regions: None,
            queue_limit: DEFAULT_QUEUE_LIMIT,
        }
    }
}

impl NetConfig {
    /// Checks every parameter; the error names the field and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        self.default_link
            .validate()
            .map_err(|e| format!("default_link: {e}"))?;
        if let Some(regions) = &self.regions {
            regions.validate().map_err(|e| format!("regions: {e}"))?;
        }
        if self.stream.rto_min.0 == 0 || self.stream.rto_max < self.stream.rto_min {
            return Err("stream: need 0 < rto_min <= rto_max".into());
        }
        if self.stream.max_retransmits > 64 {
            return Err(format!(
                "stream.max_retransmits must be at most 64, got {}",
                self.stream.max_retransmits
            ));
        }
        if !(1..=16).contains(&self.dial.handshake_round_trips) {
            return Err(format!(
                "dial.handshake_round_trips must be in 1..=16, got {}",
                self.dial.handshake_round_trips
            ));
        }
        if self.dial.timeout.0 == 0 {
            return Err("dial.timeout must be positive".into());
        }
        if self.queue_limit.0 == 0 || self.queue_limit > SimDuration::from_secs(3600) {
            return Err(format!(
                "queue_limit must be positive and at most 1h, got {}",
                self.queue_limit
            ));
        }
        Ok(())
    }
}

/// Per-node network attributes fixed at setup (bandwidth, link class, region).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct NodeNet {
    /// Upload capacity in bytes per second; 0 means unlimited.
    pub up_bytes_per_s: u64,
    /// Download capacity in bytes per second; 0 means unlimited.
    pub down_bytes_per_s: u64,
    /// Link class (usually the node's group) used to look up per-class link models.
    pub link_class: u16,
    /// Index into the region matrix, if one is configured.
    pub region: u16,
}

/// What one node put on and took off the wire, as the network saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Bytes handed to the network, per traffic class (first transmissions only).
    pub bytes_sent: Vec<u64>,
    /// Bytes delivered to the node, per traffic class.
    pub bytes_received: Vec<u64>,
    /// Messages handed to the network.
    pub msgs_sent: u64,
    /// Messages delivered to the node.
    pub msgs_received: u64,
    /// Transmission attempts of this node's messages that were lost and retried.
    pub retransmissions: u64,
    /// This node's messages dropped for good (datagram loss, dead connections).
    pub msgs_dropped: u64,
    /// Segments this node's uplink or downlink queue dropped because it was full, counted at
    /// the queue's node. Under stream semantics each is also one of the sender's
    /// `retransmissions` (or, past the budget, a `msgs_dropped`); under datagram semantics a
    /// dropped data message is one of the sender's `msgs_dropped`.
    pub queue_drops: u64,
    /// Connections this side lost to a reset or timeout.
    pub conn_failures: u64,
    /// Dials started.
    pub dials: u64,
    /// Dials that failed.
    pub dial_failures: u64,
    /// Application commands dropped because the process was not running.
    pub commands_dropped: u64,
    /// Sends on a connection this side had already closed (a bug in the node).
    pub sends_on_closed: u64,
}

impl NodeStats {
    pub(crate) fn new(classes: usize) -> Self {
        NodeStats {
            bytes_sent: vec![0; classes],
            bytes_received: vec![0; classes],
            ..NodeStats::default()
        }
    }
}

/// Serialisation time of `bytes` at `bytes_per_s` (0 = unlimited → zero), rounded up.
pub(crate) fn serialization_time(bytes: u32, bytes_per_s: u64) -> SimDuration {
    if bytes_per_s == 0 {
        return SimDuration::ZERO;
    }
    let ns = (u128::from(bytes) * 1_000_000_000).div_ceil(u128::from(bytes_per_s));
    SimDuration(u64::try_from(ns).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rto_doubles_and_caps() {
        let p = StreamParams::default();
        let one_way = SimDuration::from_millis(50);
        assert_eq!(p.rto(one_way, 0), SimDuration::from_millis(300));
        assert_eq!(p.rto(one_way, 1), SimDuration::from_millis(600));
        assert_eq!(p.rto(one_way, 3), SimDuration::from_millis(2400));
        assert_eq!(p.rto(one_way, 20), p.rto_max);
    }

    #[test]
    fn serialization_time_is_exact() {
        assert_eq!(
            serialization_time(1 << 20, 1 << 20),
            SimDuration::from_secs(1)
        );
        assert_eq!(serialization_time(1, 3), SimDuration(333_333_334));
        assert_eq!(serialization_time(5000, 0), SimDuration::ZERO);
    }

    #[test]
    fn validation_names_fields() {
        let mut c = NetConfig::default();
        assert_eq!(c.validate(), Ok(()));
        c.dial.handshake_round_trips = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .contains("dial.handshake_round_trips")
        );
    }
}
