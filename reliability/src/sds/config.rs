//! The parameters of SDS ([`SdsConfig`], [`RepairConfig`]), the switches between the
//! implementations' behaviours, and the presets [`SdsConfig::spec`], [`SdsConfig::js_waku`]
//! (= `Default`), [`SdsConfig::nim_sds`], [`SdsConfig::logos_delivery`]
//! (`reference/reliability.md` §2.3, §2.7). Every field is public so a scenario can override
//! it.

use serde::{Deserialize, Serialize};
use sim_core::SimDuration;

/// Which protobuf numbering goes on the wire (`reference/reliability.md` §2.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WireFormat {
    /// The spec's numbering (js-waku): bloom filter as raw big-endian 64-bit words.
    Spec,
    /// nim-sds numbering: bloom filter as a nested message with its parameters.
    NimSds,
}

/// How the Lamport clock moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LamportStyle {
    /// Spec / js-waku: starts at the current Unix milliseconds; on every send (sync included)
    /// `ts = max(now_ms, ts + 1)`; on delivery `ts = max(ts, msg_ts)`.
    UnixMillis,
    /// nim-sds: starts at 0; on send `ts = max(unix_s, ts) + 1`; on every new received
    /// message `ts = max(msg_ts, ts) + 1`.
    NimSeconds,
}

/// What happens when the bloom filter of received ids fills up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BloomRollover {
    /// js-waku: nothing; past its capacity the filter saturates and false positives rise.
    None,
    /// nim-sds: when more than `capacity·(100 + flex)/100` ids were inserted, rebuild a filter
    /// sized for that many holding only the newest `capacity·(100 − flex)/100` ids.
    Rolling {
        /// nim-sds `CapacityFlexPercent` (20).
        flex_percent: u64,
    },
}

/// When a periodic check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Sweep {
    /// Exactly when something falls due (a per-item timer).
    Exact,
    /// Every `interval` from the channel's creation; items that fell due in between wait
    /// for the next tick.
    Every {
        /// Time between ticks.
        interval: SimDuration,
    },
    /// Never.
    Never,
}

/// When sync messages go out on their own (an application can always call
/// [`super::SdsChannel::send_sync`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SyncSchedule {
    /// No automatic sync messages.
    Off,
    /// Every `interval` (nim-sds `syncMessageInterval` callback).
    Fixed {
        /// Time between syncs.
        interval: SimDuration,
    },
    /// js-waku ReliableChannel: after `random()·interval·multiplier`, restarted with
    /// multiplier 2 after sending a sync, 1 after receiving a sync or sending content, 0.5
    /// after receiving content.
    Randomized {
        /// `syncMinIntervalMs` (30 s).
        interval: SimDuration,
    },
}

/// SDS-R (the repair extension); `None` in [`SdsConfig::repair`] switches it off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairConfig {
    /// `T_min`: earliest delay of a repair request after a dependency is found missing.
    pub t_min: SimDuration,
    /// `T_max`: request window end and response backoff bound.
    pub t_max: SimDuration,
    /// `num_response_groups` (`participants div 128 + 1`, see
    /// [`RepairConfig::response_groups_for`]).
    pub num_response_groups: u64,
    /// Repair requests attached to one outgoing message (3).
    pub max_requests_per_message: usize,
    /// When due repair responses are rebroadcast and expired requests dropped.
    pub sweep: Sweep,
    /// Send a sync message as soon as a repair request becomes eligible (the spec's SHOULD);
    /// otherwise requests wait for the next outgoing message.
    pub sync_on_eligible_request: bool,
    /// Most entries in each repair buffer (js-waku `bufferSize` 1000); the one due last is
    /// evicted.
    pub max_buffer: usize,
}

impl RepairConfig {
    /// js-waku (`repair.ts` defaults): 30 s / 120 s, 1 group, 3 requests; the ReliableChannel
    /// at the reference commit never sweeps the incoming repair buffer, so no response is
    /// ever sent.
    pub fn js_waku() -> Self {
        Self {
            t_min: SimDuration::from_secs(30),
            t_max: SimDuration::from_secs(120),
            num_response_groups: 1,
            max_requests_per_message: 3,
            sweep: Sweep::Never,
            sync_on_eligible_request: false,
            max_buffer: 1_000,
        }
    }

    /// The spec's values: `T_min` 30 s, `T_max` 120 s (of the recommended 120–600 s), one
    /// group, 3 requests, responses at their exact time, a sync as soon as a request is due.
    pub fn spec() -> Self {
        Self {
            sweep: Sweep::Exact,
            sync_on_eligible_request: true,
            ..Self::js_waku()
        }
    }

    /// nim-sds (logos, Jun 2026): 30 s / 300 s, 1 group, 3 requests, repair sweep every 5 s.
    pub fn nim_sds() -> Self {
        Self {
            t_max: SimDuration::from_secs(300),
            sweep: Sweep::Every {
                interval: SimDuration::from_secs(5),
            },
            ..Self::js_waku()
        }
    }

    /// `num_response_groups = participants div 128 + 1`.
    pub fn response_groups_for(participants: u64) -> u64 {
        participants / 128 + 1
    }
}

/// Every parameter of one SDS channel; see the presets for sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdsConfig {
    /// Protobuf numbering on the wire.
    pub wire_format: WireFormat,
    /// Decoder limit on an encoded SDS message (Waku's 150 KiB message limit).
    pub max_message_bytes: usize,
    /// Lamport clock rule.
    pub lamport: LamportStyle,
    /// Unix time of `SimTime::ZERO` in milliseconds, so Lamport values (derived from the
    /// clock) have realistic sizes on the wire.
    pub epoch_offset_ms: u64,
    /// Ids of the most recent local-log entries in each message's causal history.
    pub causal_history_length: usize,
    /// Most entries in the local log (nim-sds `maxMessageHistory`; js-waku keeps all in
    /// memory: a simulator bound); the lowest Lamport timestamp is evicted.
    pub max_local_log: usize,
    /// The bloom filter's capacity.
    pub bloom_capacity: u64,
    /// The bloom filter's target false-positive rate in parts per million (1000 = 0.001).
    pub bloom_error_rate_ppm: u64,
    /// What happens when the bloom filter fills up.
    pub bloom_rollover: BloomRollover,
    /// Bloom hits (one per received message) that acknowledge an outgoing message (js-waku
    /// 2, nim-sds 1).
    pub possible_ack_threshold: u32,
    /// Time after a (re)send before an unacknowledged message is due again.
    pub resend_interval: SimDuration,
    /// The same for a possibly acknowledged message (the spec's "separate, longer period").
    pub possibly_acked_resend_interval: SimDuration,
    /// Resends per message; when one more falls due the message is given up.
    pub max_resends: u32,
    /// Rebroadcast the buffered message when a resend is due (js-waku); nim-sds only counts
    /// the attempt and resets the timer.
    pub rebroadcast_on_resend: bool,
    /// Report a given-up message as sent (nim-sds fires its "sent" callback) rather than
    /// failed.
    pub give_up_reported_as_sent: bool,
    /// When resends and give-ups are evaluated (js-waku per message; nim-sds every 60 s).
    pub outgoing_sweep: Sweep,
    /// Most messages awaiting acknowledgement; the oldest is given up.
    pub max_outgoing: usize,
    /// An own message enters the local log and bloom filter only once the transport
    /// reports success ([`super::SdsChannel::transport_result`], js-waku); otherwise at
    /// send (nim-sds).
    pub history_after_transport: bool,
    /// Automatic sync messages.
    pub sync: SyncSchedule,
    /// A buffered message whose dependencies have not arrived after this long is dropped
    /// and reported lost (`None`: never).
    pub lost_timeout: Option<SimDuration>,
    /// When the lost timeout is checked (js-waku sweeps the incoming buffer every 5 s).
    pub incoming_sweep: Sweep,
    /// Most messages waiting for dependencies; the oldest is dropped and reported lost.
    pub max_incoming: usize,
    /// Own messages whose acknowledgement evidence is tracked (also after they are
    /// acknowledged, so the sender can count how many participants have them).
    pub max_ack_tracked: usize,
    /// Participants remembered per tracked message.
    pub max_ack_participants: usize,
    /// SDS-R, or `None` for none.
    pub repair: Option<RepairConfig>,
}

impl Default for SdsConfig {
    fn default() -> Self {
        Self::js_waku()
    }
}

impl SdsConfig {
    /// The preset names [`SdsConfig::preset`] accepts.
    pub const PRESETS: &'static [&'static str] = &["spec", "js-waku", "nim-sds", "logos-delivery"];

    /// js-waku ReliableChannel (JSWAKU message_channel.ts, reliable_channel.ts,
    /// retry_manager.ts): spec numbering, Lamport in Unix ms, causal history 200, bloom
    /// 10 000 / 0.001 without rollover, acknowledged after 2 bloom hits, resent every 30 s
    /// (per-message timer) up to 10 times, own messages logged after transport success, sync
    /// after `random()·30 s·multiplier`, incoming buffer swept every 5 s without a lost
    /// timeout, SDS-R with js-waku's defaults (requests attached; responses never swept).
    pub fn js_waku() -> Self {
        Self {
            wire_format: WireFormat::Spec,
            max_message_bytes: 150 * 1024,
            lamport: LamportStyle::UnixMillis,
            epoch_offset_ms: 1_700_000_000_000,
            causal_history_length: 200,
            max_local_log: 10_000,
            bloom_capacity: 10_000,
            bloom_error_rate_ppm: 1_000,
            bloom_rollover: BloomRollover::None,
            possible_ack_threshold: 2,
            resend_interval: SimDuration::from_secs(30),
            possibly_acked_resend_interval: SimDuration::from_secs(30),
            max_resends: 10,
            rebroadcast_on_resend: true,
            give_up_reported_as_sent: false,
            outgoing_sweep: Sweep::Exact,
            max_outgoing: 10_000,
            history_after_transport: true,
            sync: SyncSchedule::Randomized {
                interval: SimDuration::from_secs(30),
            },
            lost_timeout: None,
            incoming_sweep: Sweep::Every {
                interval: SimDuration::from_secs(5),
            },
            max_incoming: 10_000,
            max_ack_tracked: 1_000,
            max_ack_participants: 10_000,
            repair: Some(RepairConfig::js_waku()),
        }
    }

    /// The RFC's recommendations where it gives one, js-waku's values where it does not:
    /// causal history 2, bloom 10 000 / 0.001 rolled over at capacity (nim-sds rule),
    /// acknowledged after 2 bloom hits ("multiple filters"), resend after 30 s and a possibly
    /// acknowledged one after 60 s, own messages logged at send, randomized sync, SDS-R with
    /// exact timers and a sync as soon as a repair request is due.
    pub fn spec() -> Self {
        Self {
            causal_history_length: 2,
            bloom_rollover: BloomRollover::Rolling { flex_percent: 20 },
            possibly_acked_resend_interval: SimDuration::from_secs(60),
            history_after_transport: false,
            incoming_sweep: Sweep::Exact,
            repair: Some(RepairConfig::spec()),
            ..Self::js_waku()
        }
    }

    /// nim-sds (waku-org, Feb 2026: NIMSDS sds.nim, rolling_bloom_filter.nim, protobuf.nim):
    /// nim numbering, Lamport in Unix seconds, causal history 10, local log 1000, rolling
    /// bloom 10 000 / 0.001 (±20 %), acknowledged on one bloom hit, outgoing buffer swept
    /// every 60 s: a message unacknowledged for 60 s only has its attempt counted (no
    /// rebroadcast) and after 5 attempts is dropped and reported *sent*; sync callback every
    /// 30 s; no lost timeout; no SDS-R (see [`RepairConfig::nim_sds`] for the logos fork).
    pub fn nim_sds() -> Self {
        Self {
            wire_format: WireFormat::NimSds,
            max_message_bytes: 150 * 1024,
            lamport: LamportStyle::NimSeconds,
            epoch_offset_ms: 1_700_000_000_000,
            causal_history_length: 10,
            max_local_log: 1_000,
            bloom_capacity: 10_000,
            bloom_error_rate_ppm: 1_000,
            bloom_rollover: BloomRollover::Rolling { flex_percent: 20 },
            possible_ack_threshold: 1,
            resend_interval: SimDuration::from_secs(60),
            possibly_acked_resend_interval: SimDuration::from_secs(60),
            max_resends: 5,
            rebroadcast_on_resend: false,
            give_up_reported_as_sent: true,
            outgoing_sweep: Sweep::Every {
                interval: SimDuration::from_secs(60),
            },
            max_outgoing: 10_000,
            history_after_transport: false,
            sync: SyncSchedule::Fixed {
                interval: SimDuration::from_secs(30),
            },
            lost_timeout: None,
            incoming_sweep: Sweep::Never,
            max_incoming: 10_000,
            max_ack_tracked: 1_000,
            max_ack_participants: 10_000,
            repair: None,
        }
    }

    /// logos-delivery `SdsHandler` over nim-sds (logos fork, Jun 2026): causal history 2,
    /// resend interval 5 s but evaluated only by the 60 s sweep, 5 attempts, no sync
    /// callback installed, SDS-R 30 s / 300 s with a 5 s repair sweep.
    pub fn logos_delivery() -> Self {
        Self {
            causal_history_length: 2,
            resend_interval: SimDuration::from_secs(5),
            possibly_acked_resend_interval: SimDuration::from_secs(5),
            sync: SyncSchedule::Off,
            repair: Some(RepairConfig::nim_sds()),
            ..Self::nim_sds()
        }
    }

    /// The named preset (`spec`, `js-waku`, `nim-sds`, `logos-delivery`).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "spec" => Some(Self::spec()),
            "js-waku" => Some(Self::js_waku()),
            "nim-sds" => Some(Self::nim_sds()),
            "logos-delivery" => Some(Self::logos_delivery()),
            _ => None,
        }
    }

    /// The bloom filter's target false-positive rate.
    pub fn bloom_error_rate(&self) -> f64 {
        self.bloom_error_rate_ppm as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_follow_the_reference_table() {
        let cases = [
            ("spec", 2, 2, 30, None),
            ("js-waku", 200, 2, 30, Some(10)),
            ("nim-sds", 10, 1, 60, Some(5)),
            ("logos-delivery", 2, 1, 5, Some(5)),
        ];
        for (name, history, threshold, resend_s, max_resends) in cases {
            let c = SdsConfig::preset(name).unwrap();
            assert_eq!(c.causal_history_length, history, "{name}");
            assert_eq!(c.possible_ack_threshold, threshold, "{name}");
            assert_eq!(
                c.resend_interval,
                SimDuration::from_secs(resend_s),
                "{name}"
            );
            if let Some(n) = max_resends {
                assert_eq!(c.max_resends, n, "{name}");
            }
            assert_eq!((c.bloom_capacity, c.bloom_error_rate()), (10_000, 0.001));
        }
        assert_eq!(SdsConfig::preset("nope"), None);
        assert_eq!(SdsConfig::default(), SdsConfig::js_waku());
        let logos = SdsConfig::logos_delivery().repair.unwrap();
        assert_eq!(
            (logos.t_min, logos.t_max),
            (SimDuration::from_secs(30), SimDuration::from_secs(300))
        );
        assert_eq!(RepairConfig::response_groups_for(127), 1);
        assert_eq!(RepairConfig::response_groups_for(128), 2);
        assert_eq!(RepairConfig::response_groups_for(300), 3);
    }
}
