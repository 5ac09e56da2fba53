//! Peer scoring (gossipsub v1.1): per-peer, per-topic counters, their decay, and the score
//! function with the terms Waku enables.
//!
//! Implemented terms: P1 time in mesh, P2 first message deliveries, P3 mesh message delivery
//! deficit and P3b mesh failure penalty (disabled by Waku's weights but computed faithfully),
//! P4 invalid messages, P7 behaviour penalty. Not modelled: P5 (application score; Waku's
//! weight is 0) and P6 (IP colocation; every simulated peer has its own address, so the term
//! is 0). Scores follow [`GossipsubImpl`]: go computes them on demand; nim recomputes them
//! every decay interval and uses the cached value in between.
//!
//! Bound: one [`PeerStats`] per connected peer plus disconnected peers retained for
//! `retain_score`; per peer, one topic entry per subscribed topic.

use std::rc::Rc;

use sim_core::SimTime;

use super::PeerId;
use super::config::{GossipsubImpl, PeerScoreConfig};
use crate::sorted::{VecMap, VecSet};

/// Counters of one peer in one topic.
#[derive(Clone, Debug, Default)]
struct TopicStats {
    in_mesh: bool,
    graft_time: SimTime,
    /// Time in mesh as of the last refresh (P1).
    mesh_time_ns: u64,
    first_message_deliveries: f64,
    mesh_message_deliveries: f64,
    mesh_message_deliveries_active: bool,
    mesh_failure_penalty: f64,
    invalid_message_deliveries: f64,
}

/// Everything scored about one peer.
#[derive(Clone, Debug)]
struct PeerStats {
    connected: bool,
    /// When a disconnected peer's stats are dropped.
    expire: SimTime,
    /// Keyed by the scorer's own copy of the topic name (see `scored_topics`).
    topics: VecMap<Rc<str>, TopicStats>,
    behaviour_penalty: f64,
    /// The score as of the last refresh (nim semantics).
    cached: f64,
}

/// The score keeper of one relay.
#[derive(Clone, Debug)]
pub(crate) struct PeerScore {
    config: Option<PeerScoreConfig>,
    implementation: GossipsubImpl,
    peers: VecMap<PeerId, PeerStats>,
    /// The topics scored. Every peer's stats key a topic with a clone of this name, so all
    /// keys of one topic share one buffer (which stays cached across peers).
    scored_topics: VecSet<Rc<str>>,
    /// nim: the peers whose cached score is below zero (usually none). Every threshold a
    /// relay compares against is at most zero, so [`PeerScore::at_least`] answers for every
    /// other peer without looking its stats up (a cache miss per RPC in a large network).
    negative: VecSet<PeerId>,
}

impl PeerScore {
    /// A keeper with `config` (`None`: scoring off, every score 0).
    pub(crate) fn new(config: Option<PeerScoreConfig>, implementation: GossipsubImpl) -> Self {
        Self {
            config,
            implementation,
            peers: VecMap::new(),
            scored_topics: VecSet::new(),
            negative: VecSet::new(),
        }
    }

    /// Starts or stops scoring `topic` (we score the topics we subscribe to).
    pub(crate) fn set_topic_scored(&mut self, topic: &str, scored: bool) {
        if scored {
            if !self.scored_topics.contains(topic) {
                self.scored_topics.insert(Rc::from(topic));
            }
        } else {
            self.scored_topics.remove(topic);
        }
    }

    /// The score of `peer` (0 when unknown or scoring is off).
    pub(crate) fn score(&self, peer: PeerId) -> f64 {
        let Some(stats) = self.peers.get(&peer) else {
            return 0.0;
        };
        match self.implementation {
            GossipsubImpl::NimLibp2p => stats.cached,
            GossipsubImpl::GoLibp2pPubsub => self.compute(stats),
        }
    }

    /// Whether the score of `peer` is at least `threshold` (what `score(peer) >= threshold`
    /// says, without the lookup when nim's cached score is known to be non-negative).
    pub(crate) fn at_least(&self, peer: PeerId, threshold: f64) -> bool {
        let answer = if self.implementation == GossipsubImpl::NimLibp2p
            && threshold <= 0.0
            && !self.negative.contains(&peer)
        {
            true
        } else {
            self.score(peer) >= threshold
        };
        debug_assert_eq!(
            answer,
            self.score(peer) >= threshold,
            "negative set out of date"
        );
        answer
    }

    /// The P7 counter of `peer`.
    #[cfg(test)]
    pub(crate) fn behaviour_penalty(&self, peer: PeerId) -> f64 {
        self.peers.get(&peer).map_or(0.0, |s| s.behaviour_penalty)
    }

    fn compute(&self, stats: &PeerStats) -> f64 {
        let Some(config) = &self.config else {
            return 0.0;
        };
        compute(config, &self.scored_topics, self.implementation, stats)
    }

    fn topic_stats(&mut self, peer: PeerId, topic: &str) -> Option<&mut TopicStats> {
        self.config.as_ref()?;
        let name = self.scored_topics.get(topic)?;
        let stats = self.peers.get_mut(&peer)?;
        Some(
            stats
                .topics
                .get_or_insert_with(Rc::clone(name), TopicStats::default),
        )
    }

    /// A peer connected: start (or resume retained) stats.
    pub(crate) fn add_peer(&mut self, peer: PeerId) {
        if self.config.is_none() {
            return;
        }
        let stats = self.peers.get_or_insert_with(peer, || PeerStats {
            connected: true,
            expire: SimTime::MAX,
            topics: VecMap::new(),
            behaviour_penalty: 0.0,
            cached: 0.0,
        });
        stats.connected = true;
        stats.expire = SimTime::MAX;
        if stats.cached < 0.0 {
            // Resumed retained stats keep their (nim: cached) score.
            self.negative.insert(peer);
        }
    }

    /// A peer disconnected at `now`: retain or drop its stats per the implementation.
    pub(crate) fn remove_peer(&mut self, peer: PeerId, now: SimTime) {
        let Some(config) = &self.config else {
            return;
        };
        let retain = config.params.retain_score;
        let threshold = config.topic.mesh_message_deliveries_threshold;
        let Some(stats) = self.peers.get(&peer) else {
            return;
        };
        if self.implementation == GossipsubImpl::GoLibp2pPubsub && self.compute(stats) > 0.0 {
            self.peers.remove(&peer);
            return;
        }
        let stats = self.peers.get_mut(&peer).expect("checked above");
        for ts in stats.topics.values_mut() {
            ts.first_message_deliveries = 0.0;
            apply_mesh_failure(ts, threshold);
            ts.in_mesh = false;
        }
        stats.connected = false;
        stats.expire = now.saturating_add(retain);
    }

    /// `peer` joined our mesh for `topic` at `now`.
    pub(crate) fn graft(&mut self, peer: PeerId, topic: &str, now: SimTime) {
        if let Some(ts) = self.topic_stats(peer, topic) {
            ts.in_mesh = true;
            ts.graft_time = now;
            ts.mesh_time_ns = 0;
            ts.mesh_message_deliveries_active = false;
        }
    }

    /// `peer` left our mesh for `topic`.
    pub(crate) fn prune(&mut self, peer: PeerId, topic: &str) {
        let threshold = self
            .config
            .as_ref()
            .map_or(0.0, |c| c.topic.mesh_message_deliveries_threshold);
        if let Some(ts) = self.topic_stats(peer, topic) {
            apply_mesh_failure(ts, threshold);
            ts.in_mesh = false;
        }
    }

    /// `peer` was the first to deliver a valid message on `topic` (P2, and P3 if in mesh).
    pub(crate) fn first_delivery(&mut self, peer: PeerId, topic: &str) {
        let Some((cap2, cap3)) = self.config.as_ref().map(|c| {
            (
                c.topic.first_message_deliveries_cap,
                c.topic.mesh_message_deliveries_cap,
            )
        }) else {
            return;
        };
        if let Some(ts) = self.topic_stats(peer, topic) {
            ts.first_message_deliveries = (ts.first_message_deliveries + 1.0).min(cap2);
            if ts.in_mesh {
                ts.mesh_message_deliveries = (ts.mesh_message_deliveries + 1.0).min(cap3);
            }
        }
    }

    /// `peer` delivered a valid message on `topic` that was validated at `validated_at`
    /// (P3: counts for a mesh peer within the delivery window).
    pub(crate) fn duplicate_delivery(
        &mut self,
        peer: PeerId,
        topic: &str,
        validated_at: SimTime,
        now: SimTime,
    ) {
        let Some((window, cap3)) = self.config.as_ref().map(|c| {
            (
                c.topic.mesh_message_deliveries_window,
                c.topic.mesh_message_deliveries_cap,
            )
        }) else {
            return;
        };
        if now > validated_at.saturating_add(window) {
            return;
        }
        if let Some(ts) = self.topic_stats(peer, topic)
            && ts.in_mesh
        {
            ts.mesh_message_deliveries = (ts.mesh_message_deliveries + 1.0).min(cap3);
        }
    }

    /// `peer` delivered an invalid message on `topic` (P4).
    pub(crate) fn invalid_delivery(&mut self, peer: PeerId, topic: &str) {
        if let Some(ts) = self.topic_stats(peer, topic) {
            ts.invalid_message_deliveries += 1.0;
        }
    }

    /// Adds `amount` to the P7 counter of a known peer.
    pub(crate) fn add_penalty(&mut self, peer: PeerId, amount: f64) {
        if let Some(stats) = self.peers.get_mut(&peer) {
            stats.behaviour_penalty += amount;
        }
    }

    /// The periodic refresh (every `decay_interval`): drops expired retained stats, updates
    /// time in mesh, recomputes cached scores (nim) and decays every counter.
    pub(crate) fn refresh(&mut self, now: SimTime) {
        let Some(config) = &self.config else {
            return;
        };
        self.peers
            .retain(|_, stats| stats.connected || stats.expire > now);
        let tp = &config.topic;
        let decay_to_zero = config.params.decay_to_zero;
        let decay = |value: &mut f64, factor: f64| {
            *value *= factor;
            if *value < decay_to_zero {
                *value = 0.0;
            }
        };
        let (implementation, scored) = (self.implementation, &self.scored_topics);
        for stats in self.peers.values_mut() {
            if !stats.connected {
                // Retained scores do not decay: disconnecting does not launder a bad score.
                continue;
            }
            for ts in stats.topics.values_mut() {
                if ts.in_mesh {
                    ts.mesh_time_ns = now.saturating_duration_since(ts.graft_time).as_nanos();
                    if ts.mesh_time_ns > tp.mesh_message_deliveries_activation.as_nanos() {
                        ts.mesh_message_deliveries_active = true;
                    }
                }
            }
            if implementation == GossipsubImpl::NimLibp2p {
                stats.cached = compute(config, scored, implementation, stats);
            }
            for ts in stats.topics.values_mut() {
                decay(
                    &mut ts.first_message_deliveries,
                    tp.first_message_deliveries_decay,
                );
                decay(
                    &mut ts.mesh_message_deliveries,
                    tp.mesh_message_deliveries_decay,
                );
                decay(&mut ts.mesh_failure_penalty, tp.mesh_failure_penalty_decay);
                decay(
                    &mut ts.invalid_message_deliveries,
                    tp.invalid_message_deliveries_decay,
                );
            }
            decay(
                &mut stats.behaviour_penalty,
                config.params.behaviour_penalty_decay,
            );
        }
        if self.implementation == GossipsubImpl::NimLibp2p {
            self.negative.clear();
            let negative = (self.peers.iter())
                .filter(|(_, s)| s.cached < 0.0)
                .map(|(p, _)| *p);
            self.negative.extend(negative);
        }
    }

    /// Number of peers with stats (connected or retained).
    pub(crate) fn len(&self) -> usize {
        self.peers.len()
    }
}

/// The score of `stats` with `config`, counting only `scored` topics (summed in topic order).
fn compute(
    config: &PeerScoreConfig,
    scored: &VecSet<Rc<str>>,
    implementation: GossipsubImpl,
    stats: &PeerStats,
) -> f64 {
    let tp = &config.topic;
    let mut score = 0.0;
    for (topic, ts) in &stats.topics {
        if !scored.contains(topic) {
            continue;
        }
        let mut topic_score = 0.0;
        if ts.in_mesh {
            let quantum_ns = tp.time_in_mesh_quantum.as_nanos().max(1);
            let p1 = match implementation {
                GossipsubImpl::NimLibp2p => ts.mesh_time_ns as f64 / quantum_ns as f64,
                GossipsubImpl::GoLibp2pPubsub => (ts.mesh_time_ns / quantum_ns) as f64,
            };
            topic_score += p1.min(tp.time_in_mesh_cap) * tp.time_in_mesh_weight;
        }
        topic_score += ts.first_message_deliveries * tp.first_message_deliveries_weight;
        if ts.mesh_message_deliveries_active
            && ts.mesh_message_deliveries < tp.mesh_message_deliveries_threshold
        {
            let deficit = tp.mesh_message_deliveries_threshold - ts.mesh_message_deliveries;
            topic_score += deficit * deficit * tp.mesh_message_deliveries_weight;
        }
        topic_score += ts.mesh_failure_penalty * tp.mesh_failure_penalty_weight;
        topic_score += ts.invalid_message_deliveries
            * ts.invalid_message_deliveries
            * tp.invalid_message_deliveries_weight;
        score += topic_score * tp.topic_weight;
    }
    let p = &config.params;
    if p.topic_score_cap > 0.0 && score > p.topic_score_cap {
        score = p.topic_score_cap;
    }
    if stats.behaviour_penalty > p.behaviour_penalty_threshold {
        let excess = stats.behaviour_penalty - p.behaviour_penalty_threshold;
        score += excess * excess * p.behaviour_penalty_weight;
    }
    score
}

/// P3b: a peer leaving the mesh with a delivery deficit accumulates the squared deficit.
fn apply_mesh_failure(ts: &mut TopicStats, threshold: f64) {
    if ts.in_mesh && ts.mesh_message_deliveries_active && ts.mesh_message_deliveries < threshold {
        let deficit = threshold - ts.mesh_message_deliveries;
        ts.mesh_failure_penalty += deficit * deficit;
    }
}

#[cfg(test)]
mod tests {
    use sim_core::SimDuration;

    use super::*;

    fn keeper(implementation: GossipsubImpl) -> PeerScore {
        let mut score = PeerScore::new(Some(PeerScoreConfig::waku()), implementation);
        score.set_topic_scored("t", true);
        score.add_peer(PeerId(1));
        score
    }

    #[test]
    fn waku_terms_on_demand() {
        let mut s = keeper(GossipsubImpl::GoLibp2pPubsub);
        let t0 = SimTime::ZERO;
        s.graft(PeerId(1), "t", t0);
        // P2: +1 per first delivery, capped at 10.
        for _ in 0..12 {
            s.first_delivery(PeerId(1), "t");
        }
        assert_eq!(s.score(PeerId(1)), 10.0);
        // P1 after a refresh 30 s later: capped at 10 quanta × 0.01; P2 halves.
        s.refresh(t0 + SimDuration::from_secs(30));
        assert!((s.score(PeerId(1)) - (0.1 + 5.0)).abs() < 1e-9);
        // P4: −100 × invalid².
        s.invalid_delivery(PeerId(1), "t");
        s.invalid_delivery(PeerId(1), "t");
        assert!((s.score(PeerId(1)) - (0.1 + 5.0 - 400.0)).abs() < 1e-9);
        // P7: −10 × penalty².
        let before = s.score(PeerId(1));
        s.add_penalty(PeerId(1), 2.0);
        assert!((s.score(PeerId(1)) - (before - 40.0)).abs() < 1e-9);
        // Unscored topics do not count.
        s.first_delivery(PeerId(1), "other");
        assert!((s.score(PeerId(1)) - (before - 40.0)).abs() < 1e-9);
    }

    #[test]
    fn nim_caches_until_refresh_and_retains_on_disconnect() {
        let mut s = keeper(GossipsubImpl::NimLibp2p);
        s.add_penalty(PeerId(1), 1.0);
        assert_eq!(s.score(PeerId(1)), 0.0, "cached until the next refresh");
        let t1 = SimTime::ZERO + SimDuration::from_secs(12);
        s.refresh(t1);
        assert_eq!(s.score(PeerId(1)), -10.0);
        s.remove_peer(PeerId(1), t1);
        s.add_peer(PeerId(1));
        assert_eq!(s.score(PeerId(1)), -10.0, "retained across reconnection");
        s.remove_peer(PeerId(1), t1);
        s.refresh(t1 + SimDuration::from_mins(11));
        assert_eq!(s.len(), 0, "dropped after retain_score");
    }

    /// `at_least` agrees with the score through caching, refresh, retention and expiry (nim
    /// answers from its set of negative peers; go computes).
    #[test]
    fn at_least_agrees_with_the_score() {
        for implementation in [GossipsubImpl::NimLibp2p, GossipsubImpl::GoLibp2pPubsub] {
            let mut s = keeper(implementation);
            let agree = |s: &PeerScore| {
                for peer in [PeerId(1), PeerId(2), PeerId(3)] {
                    for threshold in [-10_000.0, -100.0, -10.0, -5.0, 0.0, 0.5, 5.0] {
                        let expected = s.score(peer) >= threshold;
                        assert_eq!(s.at_least(peer, threshold), expected, "{implementation:?}");
                    }
                }
            };
            s.add_peer(PeerId(2));
            s.add_penalty(PeerId(1), 1.0);
            s.first_delivery(PeerId(2), "t");
            agree(&s);
            let t1 = SimTime::ZERO + SimDuration::from_secs(12);
            s.refresh(t1);
            agree(&s);
            assert!(!s.at_least(PeerId(1), -5.0), "P7 of −10 is below −5");
            s.remove_peer(PeerId(1), t1);
            s.add_peer(PeerId(1));
            agree(&s);
            s.remove_peer(PeerId(1), t1);
            s.refresh(t1 + SimDuration::from_mins(11));
            agree(&s);
        }
    }

    #[test]
    fn go_drops_positive_scores_on_disconnect() {
        let mut s = keeper(GossipsubImpl::GoLibp2pPubsub);
        s.first_delivery(PeerId(1), "t");
        s.remove_peer(PeerId(1), SimTime::ZERO);
        assert_eq!(s.len(), 0);
        s.add_peer(PeerId(2));
        s.add_penalty(PeerId(2), 1.0);
        s.remove_peer(PeerId(2), SimTime::ZERO);
        assert_eq!(s.score(PeerId(2)), -10.0);
    }

    #[test]
    fn scoring_off_is_all_zero() {
        let mut s = PeerScore::new(None, GossipsubImpl::GoLibp2pPubsub);
        s.set_topic_scored("t", true);
        s.add_peer(PeerId(1));
        s.invalid_delivery(PeerId(1), "t");
        s.add_penalty(PeerId(1), 5.0);
        assert_eq!(s.score(PeerId(1)), 0.0);
    }
}
