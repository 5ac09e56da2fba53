//! Relay configuration: every gossipsub v1.1 parameter Waku relay uses, the peer-scoring
//! parameters and thresholds, and the presets taken from nwaku (nim-libp2p underneath) and
//! go-waku (go-libp2p-pubsub underneath).
//!
//! Sources are `reference/waku-protocols.md` §3.4–3.5, §8.1 and §9; every field names where its
//! preset values come from. Where nim-libp2p and go-libp2p-pubsub differ in *how* they do
//! something (not just in a number), [`GossipsubImpl`] selects the behaviour.

use sim_core::SimDuration;

use crate::codec::RELAY_MAX_RPC_BYTES;
use crate::message::{GO_WAKU_CLI_MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES};

/// Which gossipsub implementation's behaviour to follow where the two that Waku runs on differ
/// in structure rather than in a parameter.
///
/// | behaviour | `NimLibp2p` (nwaku) | `GoLibp2pPubsub` (go-waku) |
/// |---|---|---|
/// | GRAFT accepted when | mesh < D_high, or peer outbound and mesh outbound < D_out; GRAFT from a peer below the publish threshold ignored | mesh < D_high or peer outbound; score < 0 ⇒ PRUNE |
/// | GRAFT during backoff | checked against expiry − 2 × `backoff_slack` | checked against expiry; extra penalty within `graft_flood_threshold` |
/// | mesh over-full when | size > D_high | size ≥ D_high |
/// | pruning an over-full mesh | nim `rebalanceMesh` (keep D_score best, keep D_out outbound among the rest) | go `heartbeat` (keep D_score best, fill to D at random, bubble up outbound to D_out) |
/// | opportunistic graft | peers with score ≥ median, first found | random peers with score > median |
/// | own publish goes to | mesh ∪ flood peers (bandwidth-limited) ∪ fanout when fewer than D_low | flood peers, else mesh or fanout |
/// | remote SUBSCRIBE | mesh rebalanced at once when below D_low | waits for the heartbeat |
/// | remote UNSUBSCRIBE of a mesh peer | removed with prune backoff | removed, no backoff |
/// | IWANT served | once per id, only ids advertised to that peer | up to `iwant_max_retransmissions` times per peer |
/// | IHAVE ids requested | first ids up to the budget | random subset up to the budget |
/// | score | recomputed every `decay_interval`, cached in between; P1 fractional | computed on demand; P1 in whole quanta |
/// | score on disconnect | kept `retain_score`, first-delivery counters reset | positive score dropped, otherwise kept `retain_score` |
/// | expired backoffs cleared | every heartbeat at expiry | every 15 heartbeats, 2 heartbeats after expiry |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipsubImpl {
    /// nim-libp2p at the commit nwaku vendors (`reference/waku-protocols.md` §0, NIMLP).
    NimLibp2p,
    /// go-libp2p-pubsub v0.13.1 as forked by go-waku (§0, GOPS).
    GoLibp2pPubsub,
}

/// Everything a [`Relay`](super::Relay) needs to know. `Default` is [`RelayConfig::nwaku`].
#[derive(Clone, Debug, PartialEq)]
pub struct RelayConfig {
    /// Implementation whose structural behaviour to follow (see [`GossipsubImpl`]).
    pub implementation: GossipsubImpl,
    /// D: the mesh degree the heartbeat aims for. nwaku 6, go-waku 4 (`GossipSubDMin`), spec 6.
    pub d: usize,
    /// D_low: below this the heartbeat grafts up to D. 4 everywhere (§3.4).
    pub d_low: usize,
    /// D_high: above this (go: at this) the heartbeat prunes down to D. nwaku/go-waku 8, spec 12.
    pub d_high: usize,
    /// D_lazy: minimum number of non-mesh peers that receive IHAVE gossip per topic per
    /// heartbeat. nwaku 6, go-waku 4, spec 6.
    pub d_lazy: usize,
    /// D_score: mesh peers kept by score when pruning an over-full mesh. nwaku 6, go-waku 4.
    pub d_score: usize,
    /// D_out: outbound peers a mesh keeps. 3 in both Waku implementations, spec 2.
    pub d_out: usize,
    /// Fraction of eligible non-mesh peers that receive gossip when that exceeds D_lazy. 0.25.
    pub gossip_factor: f64,
    /// Heartbeat period: call [`Relay::heartbeat`](super::Relay::heartbeat) this often. 1 s.
    pub heartbeat_interval: SimDuration,
    /// Delay from the relay's first input to its first heartbeat. go 100 ms; nim runs the
    /// first heartbeat at start (0).
    pub heartbeat_initial_delay: SimDuration,
    /// A fanout topic not published to for this long is forgotten. 60 s.
    pub fanout_ttl: SimDuration,
    /// Message-cache windows (heartbeats) a message stays servable by IWANT. Waku 6, spec 5.
    pub mcache_len: usize,
    /// Most recent message-cache windows advertised in IHAVE gossip. 3.
    pub mcache_gossip: usize,
    /// Bound on cached messages (simulator guard, not in either implementation): when full,
    /// the oldest message is evicted early.
    pub mcache_max_messages: usize,
    /// How long a message id stays in the seen cache (duplicates dropped). 2 min (§3.4).
    pub seen_ttl: SimDuration,
    /// Bound on the seen cache (simulator guard): when full, the oldest id is forgotten early.
    pub seen_capacity: usize,
    /// Backoff after a PRUNE, both sides. 1 min.
    pub prune_backoff: SimDuration,
    /// Backoff sent in the PRUNE that leaving a topic produces. Waku 5 s, spec 10 s.
    pub unsubscribe_backoff: SimDuration,
    /// Slack added to a backoff received in a PRUNE (nim `BackoffSlackTime` = 2 s); go uses its
    /// backoff-clearing delay instead (0 here).
    pub backoff_slack: SimDuration,
    /// nim-libp2p treats every mesh link lost to a disconnection as a prune *with* backoff, so a
    /// reconnecting peer is not grafted for `prune_backoff` (§8.1). nwaku true, go-waku false.
    pub backoff_on_disconnect: bool,
    /// A GRAFT this soon after we pruned the peer earns a second penalty (go 10 s; nim none).
    pub graft_flood_threshold: Option<SimDuration>,
    /// Behaviour penalty (P7 counter) for a GRAFT during backoff. go 1, nim 0.1.
    pub graft_backoff_penalty: f64,
    /// Most ids per IHAVE we emit, and most ids considered per received IHAVE. 5000.
    pub max_ihave_length: usize,
    /// IHAVE control messages accepted from one peer per heartbeat. go 10; nim no limit.
    pub max_ihave_messages: u32,
    /// Message ids requested (IWANT) from one peer per heartbeat. go 5000; nim 10
    /// (`IHavePeerBudget`).
    pub max_iwant_ids_per_heartbeat: usize,
    /// Times one peer may have one message served by IWANT (go `GossipRetransmission` = 3; nim
    /// serves an id once and only if it was advertised to that peer, ignoring this field).
    pub iwant_max_retransmissions: u32,
    /// A peer whose IHAVE we followed with IWANT must deliver within this time or earn a
    /// behaviour penalty (go 3 s); `None` disables gossip promises (nim).
    pub iwant_followup: Option<SimDuration>,
    /// Bound on outstanding gossip promises (simulator guard).
    pub max_promises: usize,
    /// Send our own messages to every topic peer above the publish threshold. true.
    pub flood_publish: bool,
    /// nim limits flood publishing to the peers one heartbeat of this bandwidth can serve
    /// (at least D_low): `bandwidthEstimatebps` = 100 Mbit/s. `None` = no limit (go).
    pub flood_publish_bandwidth_bps: Option<u64>,
    /// [`Relay::publish`](super::Relay::publish) fails with `NoPeers` when it would reach fewer
    /// peers than this. nwaku 1 (`NoPeersToPublish`); go-waku CLI 1 (library 0).
    pub min_peers_to_publish: usize,
    /// Opportunistic grafting runs every this many heartbeats. nim 1, go 60.
    pub opportunistic_graft_ticks: u64,
    /// Peers grafted by one opportunistic graft. 2.
    pub opportunistic_graft_peers: usize,
    /// Send IDONTWANT (gossipsub v1.2) to mesh peers for large received messages. nwaku true
    /// (nim treats relay/2.0.0 peers as v1.2); go-waku false (feature disabled, §3.1).
    /// Received IDONTWANTs are honoured either way (go-libp2p-pubsub does not check the feature
    /// on receipt).
    pub send_idontwant: bool,
    /// Smallest `Message.data` length that triggers IDONTWANT: nim `> max(512, 10 × 32)` ⇒
    /// 513; go 1024.
    pub idontwant_min_bytes: usize,
    /// Heartbeats a received IDONTWANT is remembered. nim 6 (history length), go 3.
    pub idontwant_ttl_heartbeats: usize,
    /// IDONTWANT ids remembered per peer per heartbeat. nim 1000 (`IDontWantMaxCount`); go
    /// 1000 messages × 10 ids.
    pub max_idontwant_ids_per_heartbeat: usize,
    /// Largest `Message.data` (the encoded WakuMessage) published or accepted. nwaku 153 600 B;
    /// go-waku CLI 150 000 B (§9.8).
    pub max_message_bytes: usize,
    /// Largest RPC we send; larger coalesced RPCs are split (nim applies the message limit to
    /// the whole RPC and splits; go-waku CLI sets the same RPC limit).
    pub max_rpc_bytes: usize,
    /// Topics remembered per peer (simulator guard; more SUBSCRIBEs are ignored).
    pub max_peer_topics: usize,
    /// Deliver our own published messages locally when subscribed (nwaku `triggerSelf=true`;
    /// go-libp2p-pubsub delivers local publishes to local subscribers).
    pub deliver_own_messages: bool,
    /// Ask the node to disconnect peers whose score falls below the graylist threshold (nwaku
    /// `disconnectBadPeers=true`; go-waku's score inspector closes them).
    pub disconnect_bad_peers: bool,
    /// Peer scoring; `None` turns scoring off (every score is 0).
    pub score: Option<PeerScoreConfig>,
}

/// Peer-scoring parameters and thresholds (gossipsub v1.1 §"Peer Scoring").
#[derive(Clone, Debug, PartialEq)]
pub struct PeerScoreConfig {
    /// What a score allows.
    pub thresholds: ScoreThresholds,
    /// Global parameters (P5–P7, decay, retention).
    pub params: PeerScoreParams,
    /// Parameters applied to every subscribed pubsub topic (both Waku implementations use the
    /// same parameters for every topic).
    pub topic: TopicScoreParams,
}

/// Score thresholds. Waku: −100 / −1000 / −10000 / 0 (§3.4).
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreThresholds {
    /// Below this no gossip is emitted to or accepted from a peer. −100.
    pub gossip: f64,
    /// Below this a peer gets no flood-published or fanout messages (nim also ignores its
    /// GRAFTs). −1000.
    pub publish: f64,
    /// Below this every RPC from the peer is ignored (and the peer disconnected when
    /// `disconnect_bad_peers`). −10000.
    pub graylist: f64,
    /// Median mesh score below which opportunistic grafting runs. 0.
    pub opportunistic_graft: f64,
}

/// Global scoring parameters. Waku values from nwaku `GossipsubParameters` and go-waku
/// `setDefaultPeerScoreParams` (identical, §3.4).
#[derive(Clone, Debug, PartialEq)]
pub struct PeerScoreParams {
    /// Counters decay (and nim recomputes scores) this often. 12 s.
    pub decay_interval: SimDuration,
    /// A decayed counter below this becomes 0. 0.01.
    pub decay_to_zero: f64,
    /// A disconnected peer's score is remembered this long. 10 min.
    pub retain_score: SimDuration,
    /// Cap on the sum of topic scores; 0 = no cap (not set by Waku).
    pub topic_score_cap: f64,
    /// P5 weight (application-specific score). 0 in Waku, so P5 is not modelled.
    pub app_specific_weight: f64,
    /// P6 weight (IP colocation). −50 in Waku, but every simulated peer has its own address
    /// (the peer manager enforces the colocation limit), so P6 is always 0 here.
    pub ip_colocation_factor_weight: f64,
    /// P6 threshold. 5.
    pub ip_colocation_factor_threshold: f64,
    /// P7 weight (behaviour penalty, applied to the squared excess counter). −10.
    pub behaviour_penalty_weight: f64,
    /// P7 counter value that is tolerated before the penalty applies. 0.
    pub behaviour_penalty_threshold: f64,
    /// P7 counter decay per decay interval. 0.986.
    pub behaviour_penalty_decay: f64,
}

/// Per-topic scoring parameters (P1–P4). Waku: nwaku `TopicParameters`, go-waku
/// `setDefaultTopicParams` (identical, §3.4): P3 and P3b disabled.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicScoreParams {
    /// Weight of the whole topic score. 1.
    pub topic_weight: f64,
    /// P1 weight (time in mesh). 0.01.
    pub time_in_mesh_weight: f64,
    /// P1 quantum. 1 s.
    pub time_in_mesh_quantum: SimDuration,
    /// P1 cap (in quanta). 10.
    pub time_in_mesh_cap: f64,
    /// P2 weight (first message deliveries). 1.
    pub first_message_deliveries_weight: f64,
    /// P2 decay. 0.5.
    pub first_message_deliveries_decay: f64,
    /// P2 cap. 10.
    pub first_message_deliveries_cap: f64,
    /// P3 weight (mesh message delivery deficit, squared). 0 = disabled in Waku.
    pub mesh_message_deliveries_weight: f64,
    /// P3 decay. 0.
    pub mesh_message_deliveries_decay: f64,
    /// P3 counter cap. 0.
    pub mesh_message_deliveries_cap: f64,
    /// P3 threshold below which the deficit counts. 0.
    pub mesh_message_deliveries_threshold: f64,
    /// Duplicates from mesh peers within this time after validation count for P3. 0.
    pub mesh_message_deliveries_window: SimDuration,
    /// Time in mesh before P3 applies. 0.
    pub mesh_message_deliveries_activation: SimDuration,
    /// P3b weight (mesh failure penalty). 0 = disabled in Waku.
    pub mesh_failure_penalty_weight: f64,
    /// P3b decay. 0.
    pub mesh_failure_penalty_decay: f64,
    /// P4 weight (invalid messages, squared). −100.
    pub invalid_message_deliveries_weight: f64,
    /// P4 decay. 0.5.
    pub invalid_message_deliveries_decay: f64,
}

/// Why a [`RelayConfig`] was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RelayConfigError {
    /// The degree parameters contradict each other.
    #[error(
        "mesh degrees must satisfy d_low <= d <= d_high, d_score <= d_high and d_out < d_low \
         (got d={d}, d_low={d_low}, d_high={d_high}, d_score={d_score}, d_out={d_out})"
    )]
    Degrees {
        /// D.
        d: usize,
        /// D_low.
        d_low: usize,
        /// D_high.
        d_high: usize,
        /// D_score.
        d_score: usize,
        /// D_out.
        d_out: usize,
    },
    /// The message cache gossips more windows than it keeps.
    #[error("mcache_gossip ({gossip}) must be between 1 and mcache_len ({len})")]
    MessageCache {
        /// `mcache_gossip`.
        gossip: usize,
        /// `mcache_len`.
        len: usize,
    },
    /// A duration or count that must be positive is zero.
    #[error("{field} must be positive")]
    Zero {
        /// The offending field.
        field: &'static str,
    },
    /// Score thresholds are not ordered graylist < publish < gossip < 0 <= opportunistic.
    #[error("score thresholds must satisfy graylist < publish < gossip < 0 <= opportunistic_graft")]
    Thresholds,
    /// A decay factor lies outside [0, 1].
    #[error("{field} must lie in [0, 1]")]
    Decay {
        /// The offending field.
        field: &'static str,
    },
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self::nwaku()
    }
}

impl RelayConfig {
    /// nwaku: `waku_relay/protocol.nim` `GossipsubParameters` on nim-libp2p (§3.4, §8.1).
    pub fn nwaku() -> Self {
        Self {
            implementation: GossipsubImpl::NimLibp2p,
            d: 6,
            d_low: 4,
            d_high: 8,
            d_lazy: 6,
            d_score: 6,
            d_out: 3,
            gossip_factor: 0.25,
            heartbeat_interval: SimDuration::from_secs(1),
            heartbeat_initial_delay: SimDuration::ZERO,
            fanout_ttl: SimDuration::from_secs(60),
            mcache_len: 6,
            mcache_gossip: 3,
            mcache_max_messages: 100_000,
            seen_ttl: SimDuration::from_mins(2),
            seen_capacity: 200_000,
            prune_backoff: SimDuration::from_secs(60),
            unsubscribe_backoff: SimDuration::from_secs(5),
            backoff_slack: SimDuration::from_secs(2),
            backoff_on_disconnect: true,
            graft_flood_threshold: None,
            graft_backoff_penalty: 0.1,
            max_ihave_length: 5000,
            max_ihave_messages: u32::MAX,
            max_iwant_ids_per_heartbeat: 10,
            iwant_max_retransmissions: 1,
            iwant_followup: None,
            max_promises: 10_000,
            flood_publish: true,
            flood_publish_bandwidth_bps: Some(100_000_000),
            min_peers_to_publish: 1,
            opportunistic_graft_ticks: 1,
            opportunistic_graft_peers: 2,
            send_idontwant: true,
            idontwant_min_bytes: 513,
            idontwant_ttl_heartbeats: 6,
            max_idontwant_ids_per_heartbeat: 1000,
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_rpc_bytes: RELAY_MAX_RPC_BYTES,
            max_peer_topics: 1024,
            deliver_own_messages: true,
            disconnect_bad_peers: true,
            score: Some(PeerScoreConfig::waku()),
        }
    }

    /// go-waku: `relay/config.go` on go-libp2p-pubsub v0.13.1, with the command-line defaults
    /// of a go-waku node (150 000-byte limit, at least one peer to publish) (§3.4, §9.4, §9.8).
    pub fn go_waku() -> Self {
        Self {
            implementation: GossipsubImpl::GoLibp2pPubsub,
            d: 4,
            d_low: 4,
            d_high: 8,
            d_lazy: 4,
            d_score: 4,
            d_out: 3,
            heartbeat_initial_delay: SimDuration::from_millis(100),
            backoff_slack: SimDuration::ZERO,
            backoff_on_disconnect: false,
            graft_flood_threshold: Some(SimDuration::from_secs(10)),
            graft_backoff_penalty: 1.0,
            max_ihave_messages: 10,
            max_iwant_ids_per_heartbeat: 5000,
            iwant_max_retransmissions: 3,
            iwant_followup: Some(SimDuration::from_secs(3)),
            flood_publish_bandwidth_bps: None,
            opportunistic_graft_ticks: 60,
            send_idontwant: false,
            idontwant_min_bytes: 1024,
            idontwant_ttl_heartbeats: 3,
            max_idontwant_ids_per_heartbeat: 10_000,
            max_message_bytes: GO_WAKU_CLI_MAX_MESSAGE_BYTES,
            max_rpc_bytes: GO_WAKU_CLI_MAX_MESSAGE_BYTES,
            ..Self::nwaku()
        }
    }

    /// The libp2p gossipsub v1.1 specification defaults (§3.4 first column) with
    /// go-libp2p-pubsub behaviour, no IDONTWANT and no scoring.
    pub fn spec() -> Self {
        Self {
            d: 6,
            d_low: 4,
            d_high: 12,
            d_lazy: 6,
            d_score: 4,
            d_out: 2,
            mcache_len: 5,
            unsubscribe_backoff: SimDuration::from_secs(10),
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_rpc_bytes: 1024 * 1024,
            min_peers_to_publish: 0,
            score: None,
            ..Self::go_waku()
        }
    }

    /// Checks the relations gossipsub needs between the parameters.
    pub fn validate(&self) -> Result<(), RelayConfigError> {
        if !(self.d_low <= self.d
            && self.d <= self.d_high
            && self.d_score <= self.d_high
            && self.d_out < self.d_low.max(1))
        {
            return Err(RelayConfigError::Degrees {
                d: self.d,
                d_low: self.d_low,
                d_high: self.d_high,
                d_score: self.d_score,
                d_out: self.d_out,
            });
        }
        if self.mcache_gossip == 0 || self.mcache_gossip > self.mcache_len {
            return Err(RelayConfigError::MessageCache {
                gossip: self.mcache_gossip,
                len: self.mcache_len,
            });
        }
        let positive = [
            ("heartbeat_interval", self.heartbeat_interval.as_nanos() > 0),
            ("seen_ttl", self.seen_ttl.as_nanos() > 0),
            ("seen_capacity", self.seen_capacity > 0),
            ("mcache_max_messages", self.mcache_max_messages > 0),
            (
                "opportunistic_graft_ticks",
                self.opportunistic_graft_ticks > 0,
            ),
            (
                "idontwant_ttl_heartbeats",
                self.idontwant_ttl_heartbeats > 0,
            ),
            ("max_rpc_bytes", self.max_rpc_bytes > 0),
        ];
        if let Some((field, _)) = positive.iter().find(|(_, ok)| !ok) {
            return Err(RelayConfigError::Zero { field });
        }
        if let Some(score) = &self.score {
            score.validate()?;
        }
        Ok(())
    }
}

impl PeerScoreConfig {
    /// The scoring Waku enables, identical in nwaku and go-waku (§3.4).
    pub fn waku() -> Self {
        Self {
            thresholds: ScoreThresholds {
                gossip: -100.0,
                publish: -1000.0,
                graylist: -10000.0,
                opportunistic_graft: 0.0,
            },
            params: PeerScoreParams {
                decay_interval: SimDuration::from_secs(12),
                decay_to_zero: 0.01,
                retain_score: SimDuration::from_mins(10),
                topic_score_cap: 0.0,
                app_specific_weight: 0.0,
                ip_colocation_factor_weight: -50.0,
                ip_colocation_factor_threshold: 5.0,
                behaviour_penalty_weight: -10.0,
                behaviour_penalty_threshold: 0.0,
                behaviour_penalty_decay: 0.986,
            },
            topic: TopicScoreParams {
                topic_weight: 1.0,
                time_in_mesh_weight: 0.01,
                time_in_mesh_quantum: SimDuration::from_secs(1),
                time_in_mesh_cap: 10.0,
                first_message_deliveries_weight: 1.0,
                first_message_deliveries_decay: 0.5,
                first_message_deliveries_cap: 10.0,
                mesh_message_deliveries_weight: 0.0,
                mesh_message_deliveries_decay: 0.0,
                mesh_message_deliveries_cap: 0.0,
                mesh_message_deliveries_threshold: 0.0,
                mesh_message_deliveries_window: SimDuration::ZERO,
                mesh_message_deliveries_activation: SimDuration::ZERO,
                mesh_failure_penalty_weight: 0.0,
                mesh_failure_penalty_decay: 0.0,
                invalid_message_deliveries_weight: -100.0,
                invalid_message_deliveries_decay: 0.5,
            },
        }
    }

    fn validate(&self) -> Result<(), RelayConfigError> {
        let t = &self.thresholds;
        if !(t.graylist < t.publish
            && t.publish < t.gossip
            && t.gossip < 0.0
            && t.opportunistic_graft >= 0.0)
        {
            return Err(RelayConfigError::Thresholds);
        }
        if self.params.decay_interval.as_nanos() == 0 {
            return Err(RelayConfigError::Zero {
                field: "decay_interval",
            });
        }
        if self.topic.time_in_mesh_quantum.as_nanos() == 0 {
            return Err(RelayConfigError::Zero {
                field: "time_in_mesh_quantum",
            });
        }
        let decays = [
            (
                "behaviour_penalty_decay",
                self.params.behaviour_penalty_decay,
            ),
            (
                "first_message_deliveries_decay",
                self.topic.first_message_deliveries_decay,
            ),
            (
                "mesh_message_deliveries_decay",
                self.topic.mesh_message_deliveries_decay,
            ),
            (
                "mesh_failure_penalty_decay",
                self.topic.mesh_failure_penalty_decay,
            ),
            (
                "invalid_message_deliveries_decay",
                self.topic.invalid_message_deliveries_decay,
            ),
        ];
        if let Some((field, _)) = decays.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(RelayConfigError::Decay { field });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_differ_where_the_reference_says() {
        for config in [
            RelayConfig::nwaku(),
            RelayConfig::go_waku(),
            RelayConfig::spec(),
        ] {
            config.validate().unwrap();
        }
        let (nwaku, go) = (RelayConfig::nwaku(), RelayConfig::go_waku());
        assert_eq!((nwaku.d, nwaku.d_lazy, nwaku.send_idontwant), (6, 6, true));
        assert_eq!((go.d, go.d_lazy, go.send_idontwant), (4, 4, false));
        assert_eq!((nwaku.d_low, nwaku.d_high, nwaku.d_out), (4, 8, 3));
        assert_eq!((go.d_low, go.d_high, go.d_out), (4, 8, 3));
        assert_eq!((nwaku.mcache_len, go.mcache_len), (6, 6));
        assert_eq!(nwaku.score, go.score);
        assert_eq!(RelayConfig::default(), nwaku);
    }

    #[test]
    fn validate_names_the_problem() {
        let bad = RelayConfig {
            d_out: 4,
            ..RelayConfig::nwaku()
        };
        assert!(matches!(
            bad.validate(),
            Err(RelayConfigError::Degrees { d_out: 4, .. })
        ));
        let bad = RelayConfig {
            mcache_gossip: 7,
            ..RelayConfig::nwaku()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("mcache"));
        let bad = RelayConfig {
            heartbeat_interval: SimDuration::ZERO,
            ..RelayConfig::nwaku()
        };
        assert_eq!(
            bad.validate(),
            Err(RelayConfigError::Zero {
                field: "heartbeat_interval"
            })
        );
        let mut bad = RelayConfig::nwaku();
        bad.score.as_mut().unwrap().thresholds.gossip = 1.0;
        assert_eq!(bad.validate(), Err(RelayConfigError::Thresholds));
    }
}
