//! The heartbeat of [`Relay`]: score refresh and graylist disconnection, backoff clearing,
//! per-peer budget and window rotation, broken gossip promises, mesh maintenance per
//! subscribed topic (negative-score pruning, grafting below D_low, pruning above D_high with
//! D_score/D_out, outbound quota, opportunistic grafting), fanout expiry and maintenance,
//! IHAVE gossip emission, and the message-cache shift.
//!
//! Mesh maintenance follows the implementation ([`GossipsubImpl`]): nim-libp2p's
//! `rebalanceMesh` or go-libp2p-pubsub's `heartbeat`, which order and bound these steps
//! differently.

use sim_core::{SimDuration, SimRng, SimTime};

use crate::sorted::VecSet;

use super::behaviour::{Relay, whole_secs};
use super::config::GossipsubImpl;
use super::outbox::Outbox;
use super::{PeerId, RelayOutput};

/// go clears expired backoffs only every this many heartbeats.
const GO_BACKOFF_CLEAR_TICKS: u64 = 15;

impl Relay {
    /// Call every `heartbeat_interval` (first at [`Relay::poll_timeout`]). Maintains meshes
    /// and fanout, emits IHAVE gossip to D_lazy (or `gossip_factor` of the) non-mesh peers per
    /// topic, refreshes scores every `decay_interval`, and shifts the message cache.
    pub fn heartbeat(&mut self, now: SimTime, rng: &mut SimRng, out: &mut Vec<RelayOutput>) {
        self.touch(now);
        self.heartbeat_ticks += 1;
        self.dont_want.expire(self.heartbeat_ticks);
        self.sent_ihaves.expire(self.heartbeat_ticks);
        self.next_heartbeat = Some(now + self.config.heartbeat_interval);
        let mut ob = self.outbox.take().unwrap_or_default();

        self.refresh_scores(now, out);
        match self.config.implementation {
            GossipsubImpl::NimLibp2p => self.backoff.clear_expired(now, SimDuration::ZERO),
            GossipsubImpl::GoLibp2pPubsub => {
                if self.heartbeat_ticks.is_multiple_of(GO_BACKOFF_CLEAR_TICKS) {
                    let slack = self.config.heartbeat_interval.saturating_mul(2);
                    self.backoff.clear_expired(now, slack);
                }
            }
        }
        for (peer, broken) in self.promises.take_broken(now) {
            self.score.add_penalty(peer, f64::from(broken));
        }

        // The subscribed topics, owned (the loops below borrow `self` mutably); the list of
        // the previous heartbeat is reused while the subscriptions stay the same.
        let mut topics = std::mem::take(&mut self.heartbeat_topics);
        if !topics.iter().eq(self.mesh.keys()) {
            topics.clear();
            topics.extend(self.mesh.keys().cloned());
        }
        for topic in &topics {
            self.prune_negative(topic, now, &mut ob, out);
            match self.config.implementation {
                GossipsubImpl::NimLibp2p => self.maintain_mesh_nim(topic, now, rng, &mut ob, out),
                GossipsubImpl::GoLibp2pPubsub => {
                    self.maintain_mesh_go(topic, now, rng, &mut ob, out);
                }
            }
        }
        self.maintain_fanout(now, rng);
        for topic in &topics {
            self.emit_gossip(topic, Exclude::Mesh, rng, &mut ob);
        }
        if !self.fanout.is_empty() {
            let fanout_topics: Vec<String> = self.fanout.keys().cloned().collect();
            for topic in &fanout_topics {
                self.emit_gossip(topic, Exclude::Fanout, rng, &mut ob);
            }
        }
        self.heartbeat_topics = topics;
        self.mcache.shift();
        ob.flush(self.config.max_rpc_bytes, out);
        self.outbox = Some(ob);
    }

    /// Refreshes scores when the decay interval is due, then asks to disconnect graylisted
    /// peers: go at every heartbeat (go-waku's score inspector runs every 6 s), nim right
    /// after its score update (`disconnectIfBadScorePeer`).
    fn refresh_scores(&mut self, now: SimTime, out: &mut Vec<RelayOutput>) {
        let Some(score_config) = &self.config.score else {
            return;
        };
        let (interval, graylist) = (
            score_config.params.decay_interval,
            score_config.thresholds.graylist,
        );
        let due = self.next_score_refresh.is_none_or(|at| now >= at);
        if due {
            self.score.refresh(now);
            self.next_score_refresh = Some(now + interval);
        }
        let check = due || self.config.implementation == GossipsubImpl::GoLibp2pPubsub;
        if check && self.config.disconnect_bad_peers {
            for &peer in self.peers.keys() {
                if self.score.score(peer) < graylist {
                    out.push(RelayOutput::Disconnect { peer });
                }
            }
        }
    }

    /// Prunes `peer` from our mesh on `topic` during maintenance: PRUNE with `prune_backoff`.
    fn prune_peer(
        &mut self,
        topic: &str,
        peer: PeerId,
        now: SimTime,
        ob: &mut Outbox,
        out: &mut Vec<RelayOutput>,
    ) {
        self.remove_from_mesh(topic, peer, out);
        self.backoff
            .set(topic, peer, now, self.config.prune_backoff);
        ob.prune(peer, topic, whole_secs(self.config.prune_backoff));
    }

    fn graft_peer(
        &mut self,
        topic: &str,
        peer: PeerId,
        now: SimTime,
        ob: &mut Outbox,
        out: &mut Vec<RelayOutput>,
    ) {
        self.add_to_mesh(topic, peer, now, out);
        ob.graft(peer, topic);
    }

    fn prune_negative(
        &mut self,
        topic: &str,
        now: SimTime,
        ob: &mut Outbox,
        out: &mut Vec<RelayOutput>,
    ) {
        let negative: Vec<PeerId> = self.mesh[topic]
            .iter()
            .copied()
            .filter(|&p| self.score.score(p) < 0.0)
            .collect();
        for peer in negative {
            self.prune_peer(topic, peer, now, ob, out);
        }
    }

    /// `peers` sorted by score (shuffled first so equal scores land in random order; the
    /// sort is stable).
    fn sorted_by_score(
        &mut self,
        mut peers: Vec<PeerId>,
        rng: &mut SimRng,
        best_first: bool,
    ) -> Vec<PeerId> {
        rng.shuffle(&mut peers);
        let mut scored = std::mem::take(&mut self.scratch_scored);
        scored.extend(peers.iter().map(|&p| (self.score.score(p), p)));
        scored.sort_by(|a, b| {
            let order = a.0.total_cmp(&b.0);
            if best_first { order.reverse() } else { order }
        });
        peers.clear();
        peers.extend(scored.drain(..).map(|(_, p)| p));
        self.scratch_scored = scored;
        peers
    }

    /// nim-libp2p `rebalanceMesh`, also run when subscribing and when a subscription arrives
    /// on a mesh below D_low.
    pub(super) fn maintain_mesh_nim(
        &mut self,
        topic: &str,
        now: SimTime,
        rng: &mut SimRng,
        ob: &mut Outbox,
        out: &mut Vec<RelayOutput>,
    ) {
        let (d, d_low, d_high, d_score, d_out) = (
            self.config.d,
            self.config.d_low,
            self.config.d_high,
            self.config.d_score,
            self.config.d_out,
        );
        let mesh_len = self.mesh[topic].len();
        let mesh_outbound = self.mesh_outbound(topic);
        let mut grafts = Vec::new();
        if mesh_len < d_low {
            let candidates = self.graft_candidates(topic, |_| true);
            grafts = self.sorted_by_score(candidates, rng, true);
            grafts.truncate(d - mesh_len);
        } else if mesh_outbound < d_out {
            let candidates = self.graft_candidates(topic, |p| self.is_outbound(p));
            grafts = self.sorted_by_score(candidates, rng, true);
            grafts.truncate(d_out - mesh_outbound);
        }
        for &peer in &grafts {
            self.graft_peer(topic, peer, now, ob, out);
        }

        if self.mesh[topic].len() > d_high {
            let members: Vec<PeerId> = self.mesh[topic]
                .iter()
                .copied()
                .filter(|p| !grafts.contains(p))
                .collect();
            let mut prunes = self.sorted_by_score(members, rng, false);
            if prunes.len() > d_score {
                // The d_score best are kept; among the rest keep d_out outbound peers.
                prunes.truncate(prunes.len() - d_score);
                let (outbound, inbound): (Vec<PeerId>, Vec<PeerId>) =
                    prunes.iter().partition(|&&p| self.is_outbound(p));
                let max_outbound_prunes = outbound.len().saturating_sub(d_out);
                prunes = inbound;
                prunes.extend(outbound.into_iter().take(max_outbound_prunes));
                // nim computes `prunes.len - d` here (not `mesh - d`); kept as nim does it.
                if prunes.len() > d {
                    let prune_len = prunes.len() - d;
                    rng.shuffle(&mut prunes);
                    prunes.truncate(prune_len);
                }
                for peer in prunes {
                    self.prune_peer(topic, peer, now, ob, out);
                }
            }
        }

        if self.mesh[topic].len() > 1
            && self
                .heartbeat_ticks
                .is_multiple_of(self.config.opportunistic_graft_ticks)
        {
            let mut members = std::mem::take(&mut self.scratch_peers);
            members.extend(self.mesh[topic].iter().copied());
            let sorted = self.sorted_by_score(members, rng, true);
            let median = self.score.score(sorted[sorted.len() / 2]);
            self.recycle_scratch_peers(sorted);
            if median < self.opportunistic_threshold() {
                let mut candidates: Vec<PeerId> = self
                    .topic_peers
                    .get(topic)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&p| {
                        !self.mesh[topic].contains(&p)
                            && !self.backoff.contains(topic, p)
                            && self.score.score(p) >= median
                    })
                    .collect();
                rng.shuffle(&mut candidates);
                candidates.truncate(self.config.opportunistic_graft_peers);
                for peer in candidates {
                    self.graft_peer(topic, peer, now, ob, out);
                }
            }
        }
    }

    /// go-libp2p-pubsub `heartbeat` mesh maintenance for one topic.
    fn maintain_mesh_go(
        &mut self,
        topic: &str,
        now: SimTime,
        rng: &mut SimRng,
        ob: &mut Outbox,
        out: &mut Vec<RelayOutput>,
    ) {
        let (d, d_low, d_high, d_score, d_out) = (
            self.config.d,
            self.config.d_low,
            self.config.d_high,
            self.config.d_score,
            self.config.d_out,
        );
        let mesh_len = self.mesh[topic].len();
        if mesh_len < d_low {
            let mut candidates = self.graft_candidates(topic, |_| true);
            rng.shuffle(&mut candidates);
            candidates.truncate(d - mesh_len);
            for peer in candidates {
                self.graft_peer(topic, peer, now, ob, out);
            }
        }

        if self.mesh[topic].len() >= d_high {
            let members: Vec<PeerId> = self.mesh[topic].iter().copied().collect();
            let mut ranked = self.sorted_by_score(members, rng, true);
            let split = d_score.min(ranked.len());
            rng.shuffle(&mut ranked[split..]);
            let keep = self.keep_with_outbound_quota(&ranked, d, d_out);
            for peer in ranked {
                if !keep.contains(&peer) {
                    self.prune_peer(topic, peer, now, ob, out);
                }
            }
        }

        if self.mesh[topic].len() >= d_low {
            let outbound = self.mesh_outbound(topic);
            if outbound < d_out {
                let mut candidates = self.graft_candidates(topic, |p| self.is_outbound(p));
                rng.shuffle(&mut candidates);
                candidates.truncate(d_out - outbound);
                for peer in candidates {
                    self.graft_peer(topic, peer, now, ob, out);
                }
            }
        }

        if self.mesh[topic].len() > 1
            && self
                .heartbeat_ticks
                .is_multiple_of(self.config.opportunistic_graft_ticks)
        {
            let members: Vec<PeerId> = self.mesh[topic].iter().copied().collect();
            let sorted = self.sorted_by_score(members, rng, false);
            let median = self.score.score(sorted[sorted.len() / 2]);
            if median < self.opportunistic_threshold() {
                let mesh = &self.mesh[topic];
                let mut candidates: Vec<PeerId> = self
                    .topic_peers
                    .get(topic)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&p| {
                        !mesh.contains(&p)
                            && !self.backoff.contains(topic, p)
                            && self.score.score(p) > median
                    })
                    .collect();
                rng.shuffle(&mut candidates);
                candidates.truncate(self.config.opportunistic_graft_peers);
                for peer in candidates {
                    self.graft_peer(topic, peer, now, ob, out);
                }
            }
        }
    }

    /// The first `d` of `ranked`, except that when they hold fewer than `d_out` outbound
    /// peers, outbound peers from further down replace the last non-outbound ones (go's
    /// "bubble up" of outbound peers).
    fn keep_with_outbound_quota(&self, ranked: &[PeerId], d: usize, d_out: usize) -> Vec<PeerId> {
        let head = &ranked[..d.min(ranked.len())];
        let head_outbound = head.iter().filter(|&&p| self.is_outbound(p)).count();
        if head_outbound >= d_out {
            return head.to_vec();
        }
        let extra: Vec<PeerId> = ranked[head.len()..]
            .iter()
            .copied()
            .filter(|&p| self.is_outbound(p))
            .take(d_out - head_outbound)
            .collect();
        let inbound_room = d.saturating_sub(head_outbound + extra.len());
        let mut keep: Vec<PeerId> = head
            .iter()
            .copied()
            .filter(|&p| self.is_outbound(p))
            .collect();
        keep.extend(extra);
        keep.extend(
            head.iter()
                .copied()
                .filter(|&p| !self.is_outbound(p))
                .take(inbound_room),
        );
        keep
    }

    fn mesh_outbound(&self, topic: &str) -> usize {
        self.mesh[topic]
            .iter()
            .filter(|&&p| self.is_outbound(p))
            .count()
    }

    fn opportunistic_threshold(&self) -> f64 {
        self.config
            .score
            .as_ref()
            .map_or(0.0, |s| s.thresholds.opportunistic_graft)
    }

    /// Expires fanout topics not published to for `fanout_ttl` and tops up the others.
    fn maintain_fanout(&mut self, now: SimTime, rng: &mut SimRng) {
        let ttl = self.config.fanout_ttl;
        let expired: Vec<String> = self
            .fanout_last_pub
            .iter()
            .filter(|&(_, &last)| last.saturating_add(ttl) < now)
            .map(|(topic, _)| topic.clone())
            .collect();
        for topic in expired {
            self.fanout.remove(&topic);
            self.fanout_last_pub.remove(&topic);
        }
        let topics: Vec<String> = self.fanout.keys().cloned().collect();
        for topic in topics {
            match self.config.implementation {
                GossipsubImpl::NimLibp2p => self.replenish_fanout_nim(&topic, rng),
                GossipsubImpl::GoLibp2pPubsub => {
                    let threshold = self.publish_threshold();
                    let topic_peers = self.topic_peers.get(&topic);
                    let keep: VecSet<PeerId> = self.fanout[&topic]
                        .iter()
                        .copied()
                        .filter(|&p| {
                            topic_peers.is_some_and(|s| s.contains(&p))
                                && self.score.score(p) >= threshold
                        })
                        .collect();
                    let need = self.config.d.saturating_sub(keep.len());
                    let mut more: Vec<PeerId> = topic_peers
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|&p| !keep.contains(&p) && self.score.score(p) >= threshold)
                        .collect();
                    rng.shuffle(&mut more);
                    more.truncate(need);
                    let mut members = keep;
                    members.extend(more);
                    self.fanout.insert(topic, members);
                }
            }
        }
    }

    /// nim `replenishFanout`: below D_low, add topic peers not in the mesh until D.
    pub(super) fn replenish_fanout_nim(&mut self, topic: &str, rng: &mut SimRng) {
        let current = self.fanout.get(topic).map_or(0, VecSet::len);
        if current >= self.config.d_low {
            return;
        }
        let mesh = self.mesh.get(topic);
        let mut candidates: Vec<PeerId> = self
            .topic_peers
            .get(topic)
            .into_iter()
            .flatten()
            .copied()
            .filter(|p| !mesh.is_some_and(|m| m.contains(p)))
            .collect();
        rng.shuffle(&mut candidates);
        let members = self
            .fanout
            .get_or_insert_with(topic.to_string(), VecSet::new);
        for peer in candidates {
            if members.len() >= self.config.d {
                break;
            }
            members.insert(peer);
        }
    }

    /// IHAVE for the ids of `topic` in the gossip windows, to max(D_lazy, gossip_factor × n)
    /// of the n topic peers outside `exclude` with score ≥ the gossip threshold.
    fn emit_gossip(&mut self, topic: &str, exclude: Exclude, rng: &mut SimRng, ob: &mut Outbox) {
        let mut ids = self.mcache.gossip_ids(topic);
        if ids.is_empty() {
            return;
        }
        let threshold = self.gossip_threshold();
        let exclude = match exclude {
            Exclude::Mesh => self.mesh.get(topic),
            Exclude::Fanout => self.fanout.get(topic),
        };
        let mut peers = std::mem::take(&mut self.scratch_peers);
        peers.extend(
            (self.topic_peers.get(topic).into_iter().flatten())
                .copied()
                .filter(|p| {
                    !exclude.is_some_and(|e| e.contains(p)) && self.score.at_least(*p, threshold)
                }),
        );
        let factor = (self.config.gossip_factor * peers.len() as f64) as usize;
        let target = self.config.d_lazy.max(factor);
        if target < peers.len() {
            rng.shuffle(&mut peers);
            peers.truncate(target);
        }
        let max_len = self.config.max_ihave_length;
        let nim = self.config.implementation == GossipsubImpl::NimLibp2p;
        if !nim || ids.len() > max_len {
            rng.shuffle(&mut ids);
        }
        if nim {
            ids.truncate(max_len);
        }
        if ids.len() > max_len {
            // go only: nim truncated the list above (and tracks what it advertised).
            debug_assert!(!nim);
            for &peer in &peers {
                let mut peer_ids = ids.clone();
                rng.shuffle(&mut peer_ids);
                peer_ids.truncate(max_len);
                let item = ob.add_ihave(topic, peer_ids.into_iter().map(|(_, b)| b).collect());
                ob.push(peer, item);
            }
            self.recycle_scratch_peers(peers);
            return;
        }
        // Every peer gets the same IHAVE.
        let item = ob.add_ihave(topic, ids.iter().map(|(_, b)| b.clone()).collect());
        if nim {
            // (Topic peers are connected peers; only those are tracked.)
            let known = peers.iter().copied().filter(|p| self.peers.contains_key(p));
            let advertised = ids.iter().map(|&(id, _)| id);
            self.sent_ihaves
                .record(self.heartbeat_ticks, advertised, known);
        }
        for &peer in &peers {
            ob.push(peer, item);
        }
        self.recycle_scratch_peers(peers);
    }

    /// Gives the scratch peer list back, emptied, for the next call.
    fn recycle_scratch_peers(&mut self, mut peers: Vec<PeerId>) {
        peers.clear();
        self.scratch_peers = peers;
    }
}

/// Which peers [`Relay::emit_gossip`] leaves out: the topic's mesh or its fanout.
#[derive(Clone, Copy)]
enum Exclude {
    Mesh,
    Fanout,
}
