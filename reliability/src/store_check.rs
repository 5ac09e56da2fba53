//! Store-based p2p reliability for relay nodes (WAKU-P2P-RELIABILITY; go-waku / status-go
//! `MessageSentCheck` + `MissingMessageVerifier`, nwaku `DeliveryMonitor`, logos-delivery
//! `SendService` / `RecvService`; `reference/reliability.md` §1.1–§1.7) as a sans-IO machine:
//! the caller passes `now`, inputs, the store nodes it knows and a [`SimRng`], and drains
//! [`StoreCheckOutput`]s — store queries to send, messages to re-publish, verdicts, messages
//! retrieved. It holds no `WakuApi`; the traffic application is the glue.
//!
//! **Sender.** Every published message is kept in a bounded outgoing buffer keyed by its
//! message hash ([`StoreCheck::track`]). Every [`StoreCheckConfig::check_interval`] (only
//! while the buffer is not empty) the entries published at least
//! [`StoreCheckConfig::min_age`] ago are presence-queried (hash lookup, `include_data =
//! false`) in batches of at most [`StoreCheckConfig::max_hashes_per_query`] (≤ 100, the store
//! limit). Found ⇒ [`StoreCheckOutput::Confirmed`] (the application believes *Sent*: "sent =
//! seen by a store node", status-go `EventEnvelopeSent`). Not found and published at least
//! [`StoreCheckConfig::republish_after`] ago ⇒ [`StoreCheckOutput::Republish`] while fewer than
//! [`StoreCheckConfig::max_attempts`] publishes were made, else [`StoreCheckOutput::GaveUp`].
//! Entries older than [`StoreCheckConfig::give_up_after`] are given up at the next tick. A
//! failed query removes nothing (retried next tick).
//!
//! **Receiver** ([`receiver`]). Periodically (or on reconnection) each interest (a pubsub
//! topic and up to 10 content topics) is queried for message hashes (`include_data = false`) over the
//! window `[last_checked − start_margin, now − end_lag + end_lead]`; `last_checked` advances
//! only on success, so a failed or offline period widens the next window. Hashes not in the
//! bounded received-hash cache are fetched by hash lookup in batches of
//! [`StoreCheckConfig::fetch_batch`] and reported as [`StoreCheckOutput::Fetched`].
//!
//! **Store nodes** ([`StorePool`]): one sticky node (go-waku `StorenodeCycle`) or a random one
//! per query (nwaku, logos); a node failing [`StoreCheckConfig::failures_to_bench`] requests
//! in a row is benched for [`StoreCheckConfig::bench_for`].
//!
//! Bounds: outgoing buffer ≤ [`StoreCheckConfig::max_outgoing`] (the oldest entry is given up);
//! store queries in flight ≤ [`StoreCheckConfig::max_queries_in_flight`]; the receiver's
//! bounds are listed in [`receiver`].

pub mod config;
pub mod pool;
pub mod receiver;

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{NodeId, SimDuration, SimRng, SimTime};
use waku::MessageHash;
use waku::proto::{WakuMessage, WakuMessageKeyValue};
use waku::store::{StoreQuery, response_hashes};

pub use config::{RepublishAs, Retrieval, StoreCheckConfig, StoreSelection};
pub use pool::StorePool;
pub use receiver::Interest;
use receiver::Receiver;

/// Identifies a tracked outgoing message for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutgoingId(pub u64);

/// Identifies a store query the machine asked for (the glue maps it to the store client's id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryToken(pub u64);

/// Why the sender gave up on a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUpReason {
    /// `max_attempts` publishes, still not in the store.
    Attempts,
    /// `give_up_after` elapsed.
    Expired,
    /// The outgoing buffer was full.
    Evicted,
}

/// What the machine wants done or reports; `T` is the caller's tag of a tracked message.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreCheckOutput<T> {
    /// Send `query` to store node `peer`; report its pages and end with `token`.
    Query {
        /// The machine's name for the query.
        token: QueryToken,
        /// The store node.
        peer: NodeId,
        /// What to ask.
        query: StoreQuery,
    },
    /// Publish tracked message `id` again (`attempt` = publishes including this one). With
    /// [`RepublishAs::NewMessage`] the caller builds a new envelope and calls
    /// [`StoreCheck::rekey`]; otherwise it publishes [`StoreCheck::message`] as it is.
    Republish {
        /// The message.
        id: OutgoingId,
        /// Publish number.
        attempt: u32,
    },
    /// A store node has message `id` (believed sent); it is no longer tracked.
    Confirmed {
        /// The message.
        id: OutgoingId,
        /// Its tag.
        tag: T,
    },
    /// The sender gave up on `id`; it is no longer tracked.
    GaveUp {
        /// The message.
        id: OutgoingId,
        /// Its tag.
        tag: T,
        /// Why.
        reason: GiveUpReason,
        /// Relay accepted at least one publish of it.
        propagated: bool,
        /// Report it as failed (false for a silent drop, see `silent_give_up`).
        report: bool,
    },
    /// A missing message was retrieved from a store node.
    Fetched {
        /// The pubsub topic it was stored under.
        pubsub_topic: String,
        /// The message.
        message: WakuMessage,
    },
}

#[derive(Clone, Debug)]
struct Outgoing<T> {
    hash: MessageHash,
    pubsub_topic: String,
    message: WakuMessage,
    tag: T,
    first_publish: SimTime,
    last_publish: SimTime,
    attempts: u32,
    propagated: bool,
    in_query: Option<QueryToken>,
}

#[derive(Clone, Debug)]
enum Pending {
    Presence {
        peer: NodeId,
        ids: Vec<OutgoingId>,
        found: BTreeSet<MessageHash>,
    },
    Window {
        peer: NodeId,
        interest: usize,
        issued: SimTime,
    },
    Fetch {
        peer: NodeId,
        hashes: Vec<MessageHash>,
    },
}

impl Pending {
    fn peer(&self) -> NodeId {
        match self {
            Pending::Presence { peer, .. }
            | Pending::Window { peer, .. }
            | Pending::Fetch { peer, .. } => *peer,
        }
    }
}

/// The store-based reliability machine of one relay node (see the module doc).
#[derive(Clone, Debug)]
pub struct StoreCheck<T> {
    config: StoreCheckConfig,
    outgoing: BTreeMap<OutgoingId, Outgoing<T>>,
    by_hash: BTreeMap<MessageHash, OutgoingId>,
    next_id: u64,
    /// Phase of the sender ticks (`phase + k · check_interval`).
    sender_phase: SimTime,
    next_sender_tick: SimTime,
    receiver: Receiver,
    pool: StorePool,
    pending: BTreeMap<QueryToken, Pending>,
    next_token: u64,
}

impl<T: Clone> StoreCheck<T> {
    /// A machine with `config`; call [`StoreCheck::start`] before anything else.
    pub fn new(config: StoreCheckConfig) -> Self {
        StoreCheck {
            receiver: Receiver::new(&config),
            config,
            outgoing: BTreeMap::new(),
            by_hash: BTreeMap::new(),
            next_id: 0,
            sender_phase: SimTime::ZERO,
            next_sender_tick: SimTime::MAX,
            pool: StorePool::default(),
            pending: BTreeMap::new(),
            next_token: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &StoreCheckConfig {
        &self.config
    }

    /// The process (re)started at `now`, interested in `interests`: timers get a random
    /// phase; the receiver's first window starts `initial_lookback` before now.
    pub fn start(&mut self, now: SimTime, interests: Vec<Interest>, rng: &mut SimRng) {
        let interval = self.config.check_interval.as_nanos().max(1);
        self.sender_phase = now + SimDuration(rng.below(interval));
        self.next_sender_tick = self.sender_phase;
        self.receiver.start(now, interests, &self.config, rng);
    }

    /// The process died: the outgoing buffer, queries in flight and window state are lost;
    /// the received-hash cache persists (status-go keeps received messages in its database).
    pub fn crash(&mut self) {
        self.outgoing.clear();
        self.by_hash.clear();
        self.pending.clear();
        self.pool = StorePool::default();
        self.receiver.crash();
    }

    /// Messages tracked.
    pub fn outgoing_len(&self) -> usize {
        self.outgoing.len()
    }

    /// The tracked message `id` (to re-publish it).
    pub fn message(&self, id: OutgoingId) -> Option<(&str, &WakuMessage)> {
        self.outgoing
            .get(&id)
            .map(|o| (o.pubsub_topic.as_str(), &o.message))
    }

    /// The tag of tracked message `id`.
    pub fn tag(&self, id: OutgoingId) -> Option<&T> {
        self.outgoing.get(&id).map(|o| &o.tag)
    }

    /// The store-node pool (for inspection).
    pub fn pool(&self) -> &StorePool {
        &self.pool
    }

    /// Starts tracking `message`, just published on `pubsub_topic` (`propagated`: relay
    /// accepted it). A full buffer gives up its oldest entry.
    pub fn track(
        &mut self,
        now: SimTime,
        pubsub_topic: &str,
        message: WakuMessage,
        tag: T,
        propagated: bool,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) -> OutgoingId {
        while self.outgoing.len() >= self.config.max_outgoing.max(1) {
            let oldest = *self.outgoing.keys().next().expect("not empty");
            self.give_up(oldest, GiveUpReason::Evicted, out);
        }
        let id = OutgoingId(self.next_id);
        self.next_id += 1;
        let hash = message.hash(pubsub_topic);
        if self.outgoing.is_empty() {
            self.next_sender_tick = self.aligned_tick(now);
        }
        self.by_hash.insert(hash, id);
        self.outgoing.insert(
            id,
            Outgoing {
                hash,
                pubsub_topic: pubsub_topic.to_string(),
                message,
                tag,
                first_publish: now,
                last_publish: now,
                attempts: 1,
                propagated,
                in_query: None,
            },
        );
        id
    }

    /// Relay accepted a publish of `id`.
    pub fn mark_propagated(&mut self, id: OutgoingId) {
        if let Some(o) = self.outgoing.get_mut(&id) {
            o.propagated = true;
        }
    }

    /// `id` was re-published as the new envelope `message` (tracked under its hash from now).
    pub fn rekey(&mut self, id: OutgoingId, message: WakuMessage) {
        let Some(o) = self.outgoing.get_mut(&id) else {
            return;
        };
        self.by_hash.remove(&o.hash);
        o.hash = message.hash(&o.pubsub_topic);
        o.message = message;
        self.by_hash.insert(o.hash, id);
    }

    /// Stops tracking every message whose tag satisfies `pred` (e.g. acknowledged end to end;
    /// status-go `DeleteByMessageIDs`); returns their tags.
    pub fn untrack_where(&mut self, mut pred: impl FnMut(&T) -> bool) -> Vec<T> {
        let ids: Vec<OutgoingId> = self
            .outgoing
            .iter()
            .filter(|(_, o)| pred(&o.tag))
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.remove(id).map(|o| o.tag))
            .collect()
    }

    /// A message on one of the interests was received (relay, filter, own publish or fetch).
    pub fn received(&mut self, now: SimTime, hash: MessageHash) {
        self.receiver.remember(now, hash, &self.config);
    }

    /// The host went offline at `at` (network down, sleep start).
    pub fn went_offline(&mut self, at: SimTime) {
        self.receiver.went_offline(at);
    }

    /// The host is back online at `now`: with [`Retrieval::OnReconnect`] a check of the
    /// offline period is due at once.
    pub fn came_online(&mut self, now: SimTime) {
        self.receiver.came_online(now, &self.config);
    }

    /// When [`StoreCheck::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let sender = (!self.outgoing.is_empty()).then_some(self.next_sender_tick);
        match (sender, self.receiver.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the sender tick and the receiver checks that are due at `now`; `stores` are the
    /// store nodes known (ascending ids).
    pub fn handle_timeout(
        &mut self,
        now: SimTime,
        stores: &[NodeId],
        rng: &mut SimRng,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) {
        if !self.outgoing.is_empty() && now >= self.next_sender_tick {
            self.next_sender_tick = self.aligned_tick(now);
            self.sender_tick(now, stores, rng, out);
        }
        let queries = self
            .receiver
            .due(now, &self.config, self.room(), &mut self.next_token);
        for (token, query, pending) in queries {
            self.issue(now, token, query, pending, stores, rng, out);
        }
        self.drain_fetches(now, stores, rng, out);
    }

    /// A page of query `token` arrived.
    pub fn on_page(
        &mut self,
        now: SimTime,
        token: QueryToken,
        messages: Vec<WakuMessageKeyValue>,
        stores: &[NodeId],
        rng: &mut SimRng,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) {
        match self.pending.get_mut(&token) {
            Some(Pending::Presence { found, .. }) => found.extend(response_hashes(&messages)),
            Some(Pending::Window { .. }) => {
                self.receiver
                    .listed(now, response_hashes(&messages), &self.config);
                self.drain_fetches(now, stores, rng, out);
            }
            Some(Pending::Fetch { .. }) => {
                for kv in messages {
                    let (Some(message), Some(hash)) = (
                        kv.message,
                        kv.message_hash.as_deref().and_then(MessageHash::from_slice),
                    ) else {
                        continue;
                    };
                    let pubsub_topic = kv.pubsub_topic.unwrap_or_default();
                    if self.receiver.fetched(now, hash, &self.config) {
                        out.push(StoreCheckOutput::Fetched {
                            pubsub_topic,
                            message,
                        });
                    }
                }
            }
            None => {}
        }
    }

    /// Query `token` ended: `ok` = finished, otherwise failed (`peer_fault`: the store node or
    /// the path to it failed, as opposed to a local refusal).
    #[allow(clippy::too_many_arguments)]
    pub fn on_done(
        &mut self,
        now: SimTime,
        token: QueryToken,
        ok: bool,
        peer_fault: bool,
        stores: &[NodeId],
        rng: &mut SimRng,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) {
        self.finish(now, token, ok, peer_fault, out);
        self.drain_fetches(now, stores, rng, out);
    }

    /// Settles query `token` without issuing new queries.
    fn finish(
        &mut self,
        now: SimTime,
        token: QueryToken,
        ok: bool,
        peer_fault: bool,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) {
        let Some(pending) = self.pending.remove(&token) else {
            return;
        };
        let peer = pending.peer();
        if ok {
            self.pool.success(peer);
        } else if peer_fault {
            self.pool.failure(now, peer, &self.config);
        }
        match pending {
            Pending::Presence { ids, found, .. } => {
                for id in ids {
                    let Some(o) = self.outgoing.get_mut(&id) else {
                        continue;
                    };
                    if o.in_query != Some(token) {
                        continue;
                    }
                    o.in_query = None;
                    if !ok {
                        continue;
                    }
                    if found.contains(&o.hash) {
                        let o = self.remove(id).expect("present");
                        out.push(StoreCheckOutput::Confirmed { id, tag: o.tag });
                    } else {
                        self.on_miss(now, id, out);
                    }
                }
            }
            Pending::Window {
                interest, issued, ..
            } => self
                .receiver
                .window_done(now, interest, issued, ok, &self.config),
            Pending::Fetch { hashes, .. } => {
                self.receiver.fetch_done(now, hashes, ok, &self.config)
            }
        }
    }

    /// A message not found in the store: re-publish or give up.
    fn on_miss(&mut self, now: SimTime, id: OutgoingId, out: &mut Vec<StoreCheckOutput<T>>) {
        let o = self.outgoing.get_mut(&id).expect("tracked");
        if now.saturating_duration_since(o.last_publish) < self.config.republish_after {
            return;
        }
        if o.attempts >= self.config.max_attempts {
            self.give_up(id, GiveUpReason::Attempts, out);
            return;
        }
        o.attempts += 1;
        o.last_publish = now;
        out.push(StoreCheckOutput::Republish {
            id,
            attempt: o.attempts,
        });
    }

    fn sender_tick(
        &mut self,
        now: SimTime,
        stores: &[NodeId],
        rng: &mut SimRng,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) {
        if let Some(limit) = self.config.give_up_after {
            let expired: Vec<OutgoingId> = self
                .outgoing
                .iter()
                .filter(|(_, o)| now.saturating_duration_since(o.first_publish) >= limit)
                .map(|(id, _)| *id)
                .collect();
            for id in expired {
                self.give_up(id, GiveUpReason::Expired, out);
            }
        }
        let eligible: Vec<OutgoingId> = self
            .outgoing
            .iter()
            .filter(|(_, o)| {
                o.in_query.is_none()
                    && now.saturating_duration_since(o.last_publish) >= self.config.min_age
            })
            .map(|(id, _)| *id)
            .collect();
        let batch = self.config.max_hashes_per_query.clamp(1, 100);
        for chunk in eligible.chunks(batch) {
            if self.room() == 0 {
                break;
            }
            let token = self.token();
            let hashes: Vec<MessageHash> = chunk.iter().map(|id| self.outgoing[id].hash).collect();
            for id in chunk {
                self.outgoing.get_mut(id).expect("eligible").in_query = Some(token);
            }
            let query = StoreQuery::presence(hashes)
                .page_size(batch as u64)
                .follow_pages(u32::MAX);
            let pending = Pending::Presence {
                peer: NodeId(0),
                ids: chunk.to_vec(),
                found: BTreeSet::new(),
            };
            self.issue(now, token, query, pending, stores, rng, out);
        }
    }

    /// Sends the fetches the receiver has queued, as room allows.
    fn drain_fetches(
        &mut self,
        now: SimTime,
        stores: &[NodeId],
        rng: &mut SimRng,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) {
        while self.room() > 0 {
            let Some(hashes) = self.receiver.next_fetch(now, &self.config) else {
                break;
            };
            let token = self.token();
            let query = StoreQuery::lookup(hashes.clone())
                .page_size(hashes.len() as u64)
                .follow_pages(u32::MAX);
            let pending = Pending::Fetch {
                peer: NodeId(0),
                hashes,
            };
            self.issue(now, token, query, pending, stores, rng, out);
        }
    }

    /// Picks a store node for `pending` and asks for `query`; without any store node the
    /// query fails at once.
    #[allow(clippy::too_many_arguments)]
    fn issue(
        &mut self,
        now: SimTime,
        token: QueryToken,
        query: StoreQuery,
        mut pending: Pending,
        stores: &[NodeId],
        rng: &mut SimRng,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) {
        let Some(peer) = self.pool.pick(now, stores, self.config.selection, rng) else {
            self.pending.insert(token, pending);
            self.finish(now, token, false, false, out);
            return;
        };
        match &mut pending {
            Pending::Presence { peer: p, .. }
            | Pending::Window { peer: p, .. }
            | Pending::Fetch { peer: p, .. } => *p = peer,
        }
        self.pending.insert(token, pending);
        out.push(StoreCheckOutput::Query { token, peer, query });
    }

    fn token(&mut self) -> QueryToken {
        let t = QueryToken(self.next_token);
        self.next_token += 1;
        t
    }

    fn room(&self) -> usize {
        self.config
            .max_queries_in_flight
            .saturating_sub(self.pending.len())
    }

    /// The first sender tick strictly after `now`.
    fn aligned_tick(&self, now: SimTime) -> SimTime {
        let interval = self.config.check_interval.as_nanos().max(1);
        if now < self.sender_phase {
            return self.sender_phase;
        }
        let k = (now - self.sender_phase).as_nanos() / interval + 1;
        self.sender_phase + SimDuration(k.saturating_mul(interval))
    }

    fn remove(&mut self, id: OutgoingId) -> Option<Outgoing<T>> {
        let o = self.outgoing.remove(&id)?;
        self.by_hash.remove(&o.hash);
        Some(o)
    }

    fn give_up(
        &mut self,
        id: OutgoingId,
        reason: GiveUpReason,
        out: &mut Vec<StoreCheckOutput<T>>,
    ) {
        let Some(o) = self.remove(id) else {
            return;
        };
        let report = !(self.config.silent_give_up && o.propagated);
        out.push(StoreCheckOutput::GaveUp {
            id,
            tag: o.tag,
            reason,
            propagated: o.propagated,
            report,
        });
    }
}
