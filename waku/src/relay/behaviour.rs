//! The [`Relay`] machine: its state and the public API (peers, subscriptions, publishing, RPC
//! input, queries). Message reception is in `receive.rs`, control messages in `control.rs`,
//! the heartbeat in `heartbeat.rs`.

use prost::Message as _;
use sim_core::{SimRng, SimTime};

use crate::message::{MessageId, relay_message_id};
use crate::proto::{Bytes, GossipsubMessage, WakuMessage};
use crate::sorted::{VecMap, VecSet};

use super::advertised::Advertised;
use super::backoff::BackoffTable;
use super::config::{GossipsubImpl, RelayConfig, RelayConfigError};
use super::mcache::MessageCache;
use super::outbox::Outbox;
use super::promises::Promises;
use super::score::PeerScore;
use super::seen::{DeliveryStatus, SeenCache};
use super::windows::PeerIdWindows;
use super::{PeerId, PublishError, RelayOutput, SentRpc};

/// What the relay knows about one connected peer. (Its IDONTWANT ids and, nim, the ids we
/// advertised to it are in [`Relay::dont_want`] and [`Relay::sent_ihaves`].)
#[derive(Clone, Debug)]
pub(super) struct PeerState {
    /// We dialled it (counts towards D_out).
    pub(super) outbound: bool,
    /// Topics it announced (at most `max_peer_topics`).
    pub(super) topics: VecSet<String>,
    /// Per-heartbeat counters, for heartbeat `budget_tick` (they restart at zero in a new
    /// one, so the heartbeat itself need not visit every peer).
    budgets: Budgets,
    budget_tick: u64,
}

/// What a peer used of its per-heartbeat budgets.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Budgets {
    /// IHAVE control messages received.
    pub(super) ihaves_received: u32,
    /// Ids requested from it by IWANT.
    pub(super) iwant_ids_asked: usize,
    /// Ids of its IDONTWANTs remembered (at most `max_idontwant_ids_per_heartbeat`).
    pub(super) idontwant_ids: usize,
}

impl PeerState {
    /// Its budgets in heartbeat `tick`, for updating.
    pub(super) fn budgets(&mut self, tick: u64) -> &mut Budgets {
        if self.budget_tick != tick {
            self.budget_tick = tick;
            self.budgets = Budgets::default();
        }
        &mut self.budgets
    }
}

/// One node's Waku relay (gossipsub) state machine. See the [module docs](super).
///
/// (`repr(C)`: the fields an incoming RPC touches come first, on few cache lines.)
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Relay {
    /// Heartbeats so far (the per-peer windows and budgets are keyed by it).
    pub(super) heartbeat_ticks: u64,
    pub(super) next_heartbeat: Option<SimTime>,
    pub(super) peers: VecMap<PeerId, PeerState>,
    pub(super) score: PeerScore,
    pub(super) seen: SeenCache,
    /// Our subscribed topics, each with its mesh.
    pub(super) mesh: VecMap<String, VecSet<PeerId>>,
    /// The outbox, kept between calls for its buffers (taken during a call; boxed, so
    /// taking it moves a pointer).
    pub(super) outbox: Option<Box<Outbox>>,
    /// The ids each peer sent IDONTWANT for, one set per heartbeat, `idontwant_ttl_heartbeats`
    /// sets of at most `max_idontwant_ids_per_heartbeat` ids.
    pub(super) dont_want: PeerIdWindows,
    /// nim: the ids we advertised to each peer, one set per heartbeat, `mcache_len` sets; an
    /// IWANT is served only for these, once each.
    pub(super) sent_ihaves: Advertised,
    /// Per topic, the connected peers that subscribe to it.
    pub(super) topic_peers: VecMap<String, VecSet<PeerId>>,
    pub(super) mcache: MessageCache,
    pub(super) promises: Promises,
    pub(super) config: RelayConfig,
    /// Topics we publish to without subscribing, with their fanout peers.
    pub(super) fanout: VecMap<String, VecSet<PeerId>>,
    /// When we last published to each fanout topic.
    pub(super) fanout_last_pub: VecMap<String, SimTime>,
    pub(super) backoff: BackoffTable,
    pub(super) next_score_refresh: Option<SimTime>,
    /// The subscribed topics as the last heartbeat listed them (reused while unchanged).
    pub(super) heartbeat_topics: Vec<String>,
    /// Scratch list of peers, reused by calls that pick recipients (empty between calls).
    pub(super) scratch_peers: Vec<PeerId>,
    /// Scratch (score, peer) list of [`Relay::sorted_by_score`] (empty between calls).
    pub(super) scratch_scored: Vec<(f64, PeerId)>,
}

impl Relay {
    /// A relay with no peers and no subscriptions; fails if `config` is inconsistent.
    pub fn new(config: RelayConfig) -> Result<Self, RelayConfigError> {
        config.validate()?;
        Ok(Self {
            mcache: MessageCache::new(
                config.mcache_len,
                config.mcache_gossip,
                config.mcache_max_messages,
            ),
            seen: SeenCache::new(config.seen_ttl, config.seen_capacity),
            score: PeerScore::new(config.score.clone(), config.implementation),
            dont_want: PeerIdWindows::new(config.idontwant_ttl_heartbeats),
            sent_ihaves: Advertised::new(config.mcache_len),
            promises: Promises::new(config.max_promises),
            outbox: None,
            peers: VecMap::new(),
            mesh: VecMap::new(),
            topic_peers: VecMap::new(),
            fanout: VecMap::new(),
            fanout_last_pub: VecMap::new(),
            backoff: BackoffTable::default(),
            heartbeat_ticks: 0,
            next_heartbeat: None,
            next_score_refresh: None,
            heartbeat_topics: Vec::new(),
            scratch_peers: Vec::new(),
            scratch_scored: Vec::new(),
            config,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// When [`Relay::heartbeat`] is next due: `heartbeat_initial_delay` after the first input,
    /// then every `heartbeat_interval` after the previous heartbeat. `None` before any input.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.next_heartbeat
    }

    /// Starts the heartbeat and score clocks at the first input.
    pub(super) fn touch(&mut self, now: SimTime) {
        if self.next_heartbeat.is_none() {
            self.next_heartbeat = Some(now + self.config.heartbeat_initial_delay);
            if let Some(score) = &self.config.score {
                self.next_score_refresh = Some(now + score.params.decay_interval);
            }
        }
    }

    /// Call when a relay connection to `peer` is established; `outbound` if we dialled it.
    /// Sends it our subscriptions. A peer already known is left unchanged (one relay
    /// connection per peer).
    pub fn add_peer(
        &mut self,
        now: SimTime,
        peer: PeerId,
        outbound: bool,
        out: &mut Vec<RelayOutput>,
    ) {
        self.touch(now);
        if self.peers.contains_key(&peer) {
            return;
        }
        self.peers.insert(
            peer,
            PeerState {
                outbound,
                topics: VecSet::new(),
                budgets: Budgets::default(),
                budget_tick: self.heartbeat_ticks,
            },
        );
        self.score.add_peer(peer);
        let mut ob = self.outbox.take().unwrap_or_default();
        for topic in self.mesh.keys() {
            let item = ob.add_subscription(topic, true);
            ob.push(peer, item);
        }
        ob.flush(self.config.max_rpc_bytes, out);
        self.outbox = Some(ob);
    }

    /// Call when the relay connection to `peer` is gone. Removes it from every mesh, fanout
    /// and topic; with `backoff_on_disconnect` (nim) it is backed off on every subscribed
    /// topic for `prune_backoff`. Its score is retained per the implementation. Unknown peers
    /// are ignored.
    pub fn remove_peer(&mut self, now: SimTime, peer: PeerId, out: &mut Vec<RelayOutput>) {
        self.touch(now);
        let Some(state) = self.peers.remove(&peer) else {
            return;
        };
        let topics: Vec<String> = self.mesh.keys().cloned().collect();
        for topic in &topics {
            self.remove_from_mesh(topic, peer, out);
            if self.config.backoff_on_disconnect {
                self.backoff
                    .set(topic, peer, now, self.config.prune_backoff);
            }
        }
        for topic in &state.topics {
            self.remove_topic_peer(topic, peer);
        }
        for members in self.fanout.values_mut() {
            members.remove(&peer);
        }
        self.promises.remove_peer(peer);
        self.dont_want.remove_peer(peer);
        self.sent_ihaves.remove_peer(peer);
        self.score.remove_peer(peer, now);
    }

    fn remove_topic_peer(&mut self, topic: &str, peer: PeerId) {
        if let Some(members) = self.topic_peers.get_mut(topic) {
            members.remove(&peer);
            if members.is_empty() {
                self.topic_peers.remove(topic);
            }
        }
    }

    /// Call when the application subscribes to `topic`: announces it to every peer and builds
    /// the mesh (go: from fanout peers first, then random eligible peers up to D; nim: a mesh
    /// rebalance), sending GRAFTs. Subscribing twice is a no-op.
    pub fn subscribe(
        &mut self,
        now: SimTime,
        topic: &str,
        rng: &mut SimRng,
        out: &mut Vec<RelayOutput>,
    ) {
        self.touch(now);
        if self.mesh.contains_key(topic) {
            return;
        }
        self.score.set_topic_scored(topic, true);
        let mut ob = self.outbox.take().unwrap_or_default();
        let item = ob.add_subscription(topic, true);
        for &peer in self.peers.keys() {
            ob.push(peer, item);
        }
        let fanout = self.fanout.remove(topic).unwrap_or_default();
        self.fanout_last_pub.remove(topic);
        self.mesh.insert(topic.to_string(), VecSet::new());
        match self.config.implementation {
            GossipsubImpl::GoLibp2pPubsub => {
                let mut chosen: Vec<PeerId> = fanout
                    .into_iter()
                    .filter(|&p| self.score.score(p) >= 0.0 && !self.backoff.contains(topic, p))
                    .collect();
                if chosen.len() < self.config.d {
                    let mut more = self.graft_candidates(topic, |_| true);
                    more.retain(|p| !chosen.contains(p));
                    rng.shuffle(&mut more);
                    more.truncate(self.config.d - chosen.len());
                    chosen.extend(more);
                }
                for peer in chosen {
                    self.add_to_mesh(topic, peer, now, out);
                    ob.graft(peer, topic);
                }
            }
            GossipsubImpl::NimLibp2p => self.maintain_mesh_nim(topic, now, rng, &mut ob, out),
        }
        ob.flush(self.config.max_rpc_bytes, out);
        self.outbox = Some(ob);
    }

    /// Call when the application unsubscribes from `topic`: PRUNEs every mesh peer with
    /// `unsubscribe_backoff`, backs them off as long, and announces the unsubscription.
    /// Unsubscribing from a topic not subscribed is a no-op.
    pub fn unsubscribe(&mut self, now: SimTime, topic: &str, out: &mut Vec<RelayOutput>) {
        self.touch(now);
        if !self.mesh.contains_key(topic) {
            return;
        }
        let mut ob = self.outbox.take().unwrap_or_default();
        let backoff = self.config.unsubscribe_backoff;
        let members: Vec<PeerId> = self.mesh[topic].iter().copied().collect();
        for peer in members {
            self.remove_from_mesh(topic, peer, out);
            ob.prune(peer, topic, whole_secs(backoff));
            self.backoff.set(topic, peer, now, backoff);
        }
        self.mesh.remove(topic);
        self.score.set_topic_scored(topic, false);
        let item = ob.add_subscription(topic, false);
        for &peer in self.peers.keys() {
            ob.push(peer, item);
        }
        ob.flush(self.config.max_rpc_bytes, out);
        self.outbox = Some(ob);
    }

    /// Call when the application publishes `message` on `topic`. Checks the publish rules,
    /// computes the relay message id, and sends the message to the peers the implementation
    /// picks (flood publishing: every topic peer above the publish threshold; otherwise the
    /// mesh, or fanout peers when not subscribed). Delivers it locally when subscribed and
    /// `deliver_own_messages`.
    pub fn publish(
        &mut self,
        now: SimTime,
        topic: &str,
        message: WakuMessage,
        rng: &mut SimRng,
        out: &mut Vec<RelayOutput>,
    ) -> Result<MessageId, PublishError> {
        self.touch(now);
        message.validate(self.config.max_message_bytes)?;
        let data = Bytes::from(message.encode_to_vec());
        let id = relay_message_id(&data);
        if self.seen.contains(now, &id) {
            return Err(PublishError::Duplicate(id));
        }
        let mut peers = self.publish_peers(topic, data.len(), now, rng);
        if peers.len() < self.config.min_peers_to_publish {
            return Err(PublishError::NoPeers {
                pubsub_topic: topic.to_string(),
                peers: peers.len(),
                required: self.config.min_peers_to_publish,
            });
        }
        self.seen.insert(now, id, DeliveryStatus::Valid, None);
        let gossip = GossipsubMessage {
            data: Some(data),
            topic: Some(topic.to_string()),
            ..GossipsubMessage::default()
        };
        self.mcache.put(id, id.to_bytes(), gossip.clone());
        rng.shuffle(&mut peers);
        let mut ob = self.outbox.take().unwrap_or_default();
        let item = ob.add_message(gossip, id);
        for peer in peers {
            ob.push(peer, item);
        }
        if self.config.deliver_own_messages && self.mesh.contains_key(topic) {
            out.push(RelayOutput::Deliver {
                pubsub_topic: topic.to_string(),
                message: Box::new(message),
                id,
                from: None,
            });
        }
        ob.flush(self.config.max_rpc_bytes, out);
        self.outbox = Some(ob);
        Ok(id)
    }

    /// The peers an own message on `topic` goes to (without duplicates, in no useful order).
    fn publish_peers(
        &mut self,
        topic: &str,
        data_len: usize,
        now: SimTime,
        rng: &mut SimRng,
    ) -> Vec<PeerId> {
        let publish_threshold = self.publish_threshold();
        let topic_peers: Vec<PeerId> = self
            .topic_peers
            .get(topic)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        match self.config.implementation {
            GossipsubImpl::GoLibp2pPubsub => {
                if self.config.flood_publish {
                    return topic_peers
                        .into_iter()
                        .filter(|&p| self.score.score(p) >= publish_threshold)
                        .collect();
                }
                if let Some(mesh) = self.mesh.get(topic) {
                    return mesh.iter().copied().collect();
                }
                if self.fanout.get(topic).is_none_or(VecSet::is_empty) {
                    let mut chosen: Vec<PeerId> = topic_peers
                        .into_iter()
                        .filter(|&p| self.score.score(p) >= publish_threshold)
                        .collect();
                    rng.shuffle(&mut chosen);
                    chosen.truncate(self.config.d);
                    if !chosen.is_empty() {
                        self.fanout
                            .insert(topic.to_string(), chosen.into_iter().collect());
                    }
                }
                self.fanout_last_pub.insert(topic.to_string(), now);
                self.fanout
                    .get(topic)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default()
            }
            GossipsubImpl::NimLibp2p => {
                let mut peers: VecSet<PeerId> = self.mesh.get(topic).cloned().unwrap_or_default();
                if self.config.flood_publish {
                    let max_flood = self.flood_limit(data_len);
                    let mut candidates = topic_peers;
                    rng.shuffle(&mut candidates);
                    for peer in candidates {
                        if peers.len() >= max_flood {
                            break;
                        }
                        if self.score.score(peer) >= publish_threshold {
                            peers.insert(peer);
                        }
                    }
                } else if peers.len() < self.config.d_low {
                    self.replenish_fanout_nim(topic, rng);
                    let mut fanout: Vec<PeerId> = self
                        .fanout
                        .get(topic)
                        .map(|s| s.iter().copied().collect())
                        .unwrap_or_default();
                    rng.shuffle(&mut fanout);
                    for peer in fanout {
                        peers.insert(peer);
                        if peers.len() > self.config.d {
                            break;
                        }
                    }
                    self.fanout_last_pub.insert(topic.to_string(), now);
                }
                peers.into_iter().collect()
            }
        }
    }

    /// nim: how many peers one heartbeat of `flood_publish_bandwidth_bps` can serve a message
    /// of `data_len` bytes (at least D_low).
    fn flood_limit(&self, data_len: usize) -> usize {
        let Some(bps) = self.config.flood_publish_bandwidth_bps else {
            return usize::MAX;
        };
        let bytes_per_ms = (bps / 8 / 1000).max(1);
        let ms_to_transmit = (data_len as u64 / bytes_per_ms).max(1);
        let heartbeat_ms = self.config.heartbeat_interval.as_millis();
        ((heartbeat_ms / ms_to_transmit) as usize).max(self.config.d_low)
    }

    /// Call for every gossipsub RPC received from `peer`. Processes subscriptions, then
    /// messages, then control (PRUNE, IDONTWANT, IHAVE, GRAFT, IWANT), and answers in one
    /// coalesced RPC per peer. RPCs from unknown peers, or from peers scoring below the
    /// graylist threshold, are ignored. (An RPC decoded from bytes is wrapped with
    /// [`SentRpc::new`].)
    pub fn handle_rpc(
        &mut self,
        now: SimTime,
        from: PeerId,
        rpc: &SentRpc,
        rng: &mut SimRng,
        out: &mut Vec<RelayOutput>,
    ) {
        self.touch(now);
        if !self.peers.contains_key(&from) {
            return;
        }
        if let Some(score) = &self.config.score
            && !self.score.at_least(from, score.thresholds.graylist)
        {
            return;
        }
        let mut ob = self.outbox.take().unwrap_or_default();
        for sub in &rpc.subscriptions {
            if let Some(topic) = &sub.topicid {
                self.handle_subscription(now, from, topic, sub.subscribe(), out);
            }
        }
        let ids = rpc.message_ids();
        for (i, message) in rpc.publish.iter().enumerate() {
            self.handle_message(now, from, message, ids.get(i), rng, &mut ob, out);
        }
        if let Some(control) = &rpc.control {
            self.handle_control(now, from, control, rng, &mut ob, out);
        }
        if self.config.implementation == GossipsubImpl::NimLibp2p {
            for sub in &rpc.subscriptions {
                if let Some(topic) = &sub.topicid
                    && self
                        .mesh
                        .get(topic)
                        .is_some_and(|m| m.len() < self.config.d_low)
                {
                    self.maintain_mesh_nim(topic, now, rng, &mut ob, out);
                }
            }
        }
        ob.flush(self.config.max_rpc_bytes, out);
        self.outbox = Some(ob);
    }

    fn handle_subscription(
        &mut self,
        now: SimTime,
        from: PeerId,
        topic: &str,
        subscribe: bool,
        out: &mut Vec<RelayOutput>,
    ) {
        let max_topics = self.config.max_peer_topics;
        let Some(state) = self.peers.get_mut(&from) else {
            return;
        };
        if subscribe {
            if state.topics.len() >= max_topics && !state.topics.contains(topic) {
                return;
            }
            if !state.topics.contains(topic) {
                state.topics.insert(topic.to_string());
            }
            match self.topic_peers.get_mut(topic) {
                Some(members) => {
                    members.insert(from);
                }
                None => {
                    self.topic_peers
                        .insert(topic.to_string(), [from].into_iter().collect());
                }
            }
        } else {
            state.topics.remove(topic);
            self.remove_topic_peer(topic, from);
            if let Some(members) = self.fanout.get_mut(topic) {
                members.remove(&from);
            }
            if self.remove_from_mesh(topic, from, out)
                && self.config.implementation == GossipsubImpl::NimLibp2p
            {
                self.backoff
                    .set(topic, from, now, self.config.prune_backoff);
            }
        }
    }

    /// Adds `peer` to the mesh of subscribed `topic` (score and event; the caller sends the
    /// GRAFT when we initiate).
    pub(super) fn add_to_mesh(
        &mut self,
        topic: &str,
        peer: PeerId,
        now: SimTime,
        out: &mut Vec<RelayOutput>,
    ) {
        let Some(members) = self.mesh.get_mut(topic) else {
            return;
        };
        if members.insert(peer) {
            self.score.graft(peer, topic, now);
            if let Some(fanout) = self.fanout.get_mut(topic) {
                fanout.remove(&peer);
            }
            out.push(RelayOutput::Grafted {
                topic: topic.to_string(),
                peer,
            });
        }
    }

    /// Removes `peer` from the mesh of `topic`; true if it was there.
    pub(super) fn remove_from_mesh(
        &mut self,
        topic: &str,
        peer: PeerId,
        out: &mut Vec<RelayOutput>,
    ) -> bool {
        let removed = self
            .mesh
            .get_mut(topic)
            .is_some_and(|members| members.remove(&peer));
        if removed {
            self.score.prune(peer, topic);
            out.push(RelayOutput::Pruned {
                topic: topic.to_string(),
                peer,
            });
        }
        removed
    }

    /// Topic peers not in the mesh, not backed off, with score ≥ 0 and passing `filter`, in
    /// peer-id order.
    pub(super) fn graft_candidates(
        &self,
        topic: &str,
        filter: impl Fn(PeerId) -> bool,
    ) -> Vec<PeerId> {
        let mesh = self.mesh.get(topic);
        self.topic_peers
            .get(topic)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&p| {
                !mesh.is_some_and(|m| m.contains(&p))
                    && !self.backoff.contains(topic, p)
                    && self.score.at_least(p, 0.0)
                    && filter(p)
            })
            .collect()
    }

    pub(super) fn publish_threshold(&self) -> f64 {
        self.config
            .score
            .as_ref()
            .map_or(f64::NEG_INFINITY, |s| s.thresholds.publish)
    }

    pub(super) fn gossip_threshold(&self) -> f64 {
        self.config
            .score
            .as_ref()
            .map_or(f64::NEG_INFINITY, |s| s.thresholds.gossip)
    }

    pub(super) fn is_outbound(&self, peer: PeerId) -> bool {
        self.peers.get(&peer).is_some_and(|s| s.outbound)
    }

    // ----- queries -----

    /// Whether we subscribe to `topic`.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.mesh.contains_key(topic)
    }

    /// Our subscribed topics, in order.
    pub fn subscriptions(&self) -> impl Iterator<Item = &str> {
        self.mesh.keys().map(String::as_str)
    }

    /// Our mesh peers for `topic` (empty when not subscribed), in peer order.
    pub fn mesh_peers(&self, topic: &str) -> impl Iterator<Item = PeerId> + '_ {
        self.mesh.get(topic).into_iter().flatten().copied()
    }

    /// Our fanout peers for `topic` (empty when none), in peer order.
    pub fn fanout_peers(&self, topic: &str) -> impl Iterator<Item = PeerId> + '_ {
        self.fanout.get(topic).into_iter().flatten().copied()
    }

    /// Connected peers subscribed to `topic` (lightpush's `relay_peer_count`, topic health).
    pub fn peers_on_topic(&self, topic: &str) -> usize {
        self.topic_peers.get(topic).map_or(0, VecSet::len)
    }

    /// Connected relay peers, in order.
    pub fn peers(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.peers.keys().copied()
    }

    /// The current score of `peer` (0 when unknown or scoring is off).
    pub fn peer_score(&self, peer: PeerId) -> f64 {
        self.score.score(peer)
    }

    /// How full the relay's bounded structures are (memory accounting and bound checks).
    pub fn state_sizes(&self) -> RelayStateSizes {
        RelayStateSizes {
            peers: self.peers.len(),
            mesh_links: self.mesh.values().map(VecSet::len).sum(),
            fanout_links: self.fanout.values().map(VecSet::len).sum(),
            seen_ids: self.seen.len(),
            cached_messages: self.mcache.len(),
            backoffs: self.backoff.len(),
            promises: self.promises.len(),
            scored_peers: self.score.len(),
        }
    }
}

/// Entry counts of a relay's state, from [`Relay::state_sizes`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayStateSizes {
    /// Connected relay peers.
    pub peers: usize,
    /// Mesh links over all subscribed topics.
    pub mesh_links: usize,
    /// Fanout links over all fanout topics.
    pub fanout_links: usize,
    /// Ids in the seen cache (at most `seen_capacity`).
    pub seen_ids: usize,
    /// Messages in the message cache (at most `mcache_max_messages`).
    pub cached_messages: usize,
    /// Backoff entries.
    pub backoffs: usize,
    /// Outstanding gossip promises (at most `max_promises`).
    pub promises: usize,
    /// Peers with score stats, connected or retained.
    pub scored_peers: usize,
}

/// Whole seconds of `d` (PRUNE backoff field).
pub(super) fn whole_secs(d: sim_core::SimDuration) -> u64 {
    d.as_nanos() / 1_000_000_000
}
