//! Control-message handling of [`Relay`]: GRAFT (with backoff enforcement and penalties),
//! PRUNE (obeying the requested backoff), IHAVE (answered with IWANT within budgets, with
//! gossip promises), IWANT (served from the message cache within retransmission limits) and
//! IDONTWANT (remembered for a few heartbeats so forwarding skips that peer).

use sim_core::{SimDuration, SimRng, SimTime};

use crate::message::MessageId;
use crate::proto::{
    ControlGraft, ControlIDontWant, ControlIHave, ControlIWant, ControlMessage, ControlPrune,
};

use super::behaviour::{Relay, whole_secs};
use super::config::GossipsubImpl;
use super::outbox::Outbox;
use super::{PeerId, RelayOutput};

/// Longest backoff a PRUNE may ask for (nim clamps at one day).
const MAX_PRUNE_BACKOFF: SimDuration = SimDuration::from_secs(24 * 3600);

/// nim stops serving an IWANT after this many ids it never advertised to that peer.
const NIM_MAX_INVALID_IWANTS: usize = 20;

/// `t − d`, saturating at the start of time.
fn time_minus(t: SimTime, d: SimDuration) -> SimTime {
    SimTime(t.as_nanos().saturating_sub(d.as_nanos()))
}

impl Relay {
    pub(super) fn handle_control(
        &mut self,
        now: SimTime,
        from: PeerId,
        control: &ControlMessage,
        rng: &mut SimRng,
        ob: &mut Outbox,
        out: &mut Vec<RelayOutput>,
    ) {
        self.handle_prune(now, from, &control.prune, out);
        self.handle_idontwant(from, &control.idontwant);
        self.handle_ihave(now, from, &control.ihave, rng, ob);
        self.handle_graft(now, from, &control.graft, ob, out);
        self.handle_iwant(from, &control.iwant, ob);
    }

    /// Rejects `peer`'s GRAFT on `topic` with a PRUNE and backs it off for `prune_backoff`.
    fn reject_graft(&mut self, now: SimTime, peer: PeerId, topic: &str, ob: &mut Outbox) {
        let backoff = self.config.prune_backoff;
        ob.prune(peer, topic, whole_secs(backoff));
        self.backoff.set(topic, peer, now, backoff);
    }

    fn handle_graft(
        &mut self,
        now: SimTime,
        from: PeerId,
        grafts: &[ControlGraft],
        ob: &mut Outbox,
        out: &mut Vec<RelayOutput>,
    ) {
        if grafts.is_empty() {
            return;
        }
        let score = self.score.score(from);
        let outbound = self.is_outbound(from);
        for graft in grafts {
            let Some(topic) = graft.topic_id.as_deref() else {
                continue;
            };
            let subscribed = self.mesh.contains_key(topic);
            match self.config.implementation {
                GossipsubImpl::NimLibp2p => {
                    if self.mesh.get(topic).is_some_and(|m| m.contains(&from)) {
                        continue;
                    }
                    let tolerance = self.config.backoff_slack.saturating_mul(2);
                    if self
                        .backoff
                        .expiry(topic, from)
                        .is_some_and(|expiry| time_minus(expiry, tolerance) > now)
                    {
                        self.reject_graft(now, from, topic, ob);
                        self.score
                            .add_penalty(from, self.config.graft_backoff_penalty);
                        continue;
                    }
                    if score < self.publish_threshold() || !subscribed {
                        // Ignored silently (v1.1: no PRUNE for unknown topics).
                        continue;
                    }
                    let mesh = &self.mesh[topic];
                    let mesh_outbound = mesh.iter().filter(|&&p| self.is_outbound(p)).count();
                    if mesh.len() < self.config.d_high
                        || (outbound && mesh_outbound < self.config.d_out)
                    {
                        self.add_to_mesh(topic, from, now, out);
                    } else {
                        self.reject_graft(now, from, topic, ob);
                    }
                }
                GossipsubImpl::GoLibp2pPubsub => {
                    if !subscribed || self.mesh[topic].contains(&from) {
                        continue;
                    }
                    if let Some(expiry) = self.backoff.expiry(topic, from)
                        && now < expiry
                    {
                        let penalty = self.config.graft_backoff_penalty;
                        self.score.add_penalty(from, penalty);
                        if let Some(flood) = self.config.graft_flood_threshold {
                            let cutoff =
                                time_minus(expiry.saturating_add(flood), self.config.prune_backoff);
                            if now < cutoff {
                                self.score.add_penalty(from, penalty);
                            }
                        }
                        self.reject_graft(now, from, topic, ob);
                        continue;
                    }
                    if score < 0.0 {
                        self.reject_graft(now, from, topic, ob);
                        continue;
                    }
                    if self.mesh[topic].len() >= self.config.d_high && !outbound {
                        self.reject_graft(now, from, topic, ob);
                        continue;
                    }
                    self.add_to_mesh(topic, from, now, out);
                }
            }
        }
    }

    fn handle_prune(
        &mut self,
        now: SimTime,
        from: PeerId,
        prunes: &[ControlPrune],
        out: &mut Vec<RelayOutput>,
    ) {
        for prune in prunes {
            let Some(topic) = prune.topic_id.as_deref() else {
                continue;
            };
            let asked = prune.backoff.unwrap_or(0);
            let asked = SimDuration::from_secs(asked).min(MAX_PRUNE_BACKOFF);
            match self.config.implementation {
                GossipsubImpl::NimLibp2p => {
                    if asked > SimDuration::ZERO {
                        let backoff = asked + self.config.backoff_slack;
                        self.backoff.set(topic, from, now, backoff);
                    }
                    self.remove_from_mesh(topic, from, out);
                }
                GossipsubImpl::GoLibp2pPubsub => {
                    if !self.mesh.contains_key(topic) {
                        continue;
                    }
                    self.remove_from_mesh(topic, from, out);
                    let backoff = if asked > SimDuration::ZERO {
                        asked + self.config.backoff_slack
                    } else {
                        self.config.prune_backoff
                    };
                    self.backoff.set(topic, from, now, backoff);
                }
            }
            // Peer exchange (prune.peers) is off in Waku and not modelled.
        }
    }

    fn handle_idontwant(&mut self, from: PeerId, idontwants: &[ControlIDontWant]) {
        if idontwants.is_empty() {
            return;
        }
        let max = self.config.max_idontwant_ids_per_heartbeat;
        let Some(state) = self.peers.get_mut(&from) else {
            return;
        };
        let tick = self.heartbeat_ticks;
        let budgets = state.budgets(tick);
        for id in idontwants.iter().flat_map(|d| &d.message_ids) {
            if budgets.idontwant_ids >= max {
                break;
            }
            if let Some(id) = MessageId::from_slice(id)
                && self.dont_want.insert(from, id, tick)
            {
                budgets.idontwant_ids += 1;
            }
        }
    }

    fn handle_ihave(
        &mut self,
        now: SimTime,
        from: PeerId,
        ihaves: &[ControlIHave],
        rng: &mut SimRng,
        ob: &mut Outbox,
    ) {
        if ihaves.is_empty() || !self.score.at_least(from, self.gossip_threshold()) {
            return;
        }
        let budget = self.config.max_iwant_ids_per_heartbeat;
        let Some(state) = self.peers.get_mut(&from) else {
            return;
        };
        let budgets = state.budgets(self.heartbeat_ticks);
        budgets.ihaves_received = budgets.ihaves_received.saturating_add(1);
        if budgets.ihaves_received > self.config.max_ihave_messages
            || budgets.iwant_ids_asked >= budget
        {
            return;
        }
        let room = budget - budgets.iwant_ids_asked;
        let mut wanted: Vec<MessageId> = Vec::new();
        for ihave in ihaves {
            let Some(topic) = ihave.topic_id.as_deref() else {
                continue;
            };
            if !self.mesh.contains_key(topic) {
                continue;
            }
            for raw in ihave.message_ids.iter().take(self.config.max_ihave_length) {
                let Some(id) = MessageId::from_slice(raw) else {
                    continue;
                };
                if self.config.implementation == GossipsubImpl::NimLibp2p && wanted.len() >= room {
                    break;
                }
                if !wanted.contains(&id) && !self.seen.contains(now, &id) {
                    wanted.push(id);
                }
            }
        }
        // go asks for a random subset; nim took the first ids (and shuffles them too).
        rng.shuffle(&mut wanted);
        wanted.truncate(room);
        if wanted.is_empty() {
            return;
        }
        if let Some(state) = self.peers.get_mut(&from) {
            state.budgets(self.heartbeat_ticks).iwant_ids_asked += wanted.len();
        }
        if let Some(followup) = self.config.iwant_followup {
            self.promises.add(from, &wanted, now + followup, rng);
        }
        ob.iwant(from, &wanted);
    }

    fn handle_iwant(&mut self, from: PeerId, iwants: &[ControlIWant], ob: &mut Outbox) {
        if iwants.is_empty() || !self.score.at_least(from, self.gossip_threshold()) {
            return;
        }
        let mut invalid = 0;
        let tick = self.heartbeat_ticks;
        for raw in iwants.iter().flat_map(|w| &w.message_ids) {
            let Some(id) = MessageId::from_slice(raw) else {
                continue;
            };
            match self.config.implementation {
                GossipsubImpl::NimLibp2p => {
                    let advertised = self.peers.contains_key(&from)
                        && self.sent_ihaves.remove_newest(from, &id, tick);
                    if !advertised {
                        invalid += 1;
                        if invalid > NIM_MAX_INVALID_IWANTS {
                            return;
                        }
                        continue;
                    }
                    if let Some(message) = self.mcache.get(&id) {
                        ob.message(from, message.clone(), id);
                    }
                }
                GossipsubImpl::GoLibp2pPubsub => {
                    if self.peers.contains_key(&from) && self.dont_want.contains(from, &id, tick) {
                        continue;
                    }
                    let max = self.config.iwant_max_retransmissions;
                    if let Some((message, count)) = self.mcache.get_for_peer(&id, from)
                        && count <= max
                    {
                        ob.message(from, message.clone(), id);
                    }
                }
            }
        }
    }
}
