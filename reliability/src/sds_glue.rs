//! Glue between [`crate::layer::Layer`] and the [`SdsChannel`] machines under the `sds`,
//! `sds+repair` and `sds+light-client` variants: one channel per conversation (participant
//! id = the node id in decimal, channel id = the conversation's content topic). The Waku
//! payload of every message on such a topic is the SDS protobuf itself (no extra framing),
//! so the network carries the real sizes, bloom filter included.
//!
//! - Sending: the application payload (the 12-byte header, padded) is the SDS content and
//!   the application id in decimal its message id; every [`SdsOutput::Broadcast`] becomes
//!   an [`Effect::Publish`] the layer sends like any message (relay, lightpush, or the
//!   light-client machine). A content broadcast's Waku message hash is its retrieval hint.
//! - Receiving: every copy goes to the channel with the hash of the Waku message that
//!   carried it as hint; a delivery is reported with the path its message arrived by —
//!   `repair` (SDS-R) or `retransmission` if this node had found it missing before,
//!   `store_fetch` for one fetched from a store.
//! - Missing dependencies are reported (`MissDetected`, once per message) and their hints
//!   looked up on a store node every [`SdsGlueConfig::retrieval_interval`] (js-waku's
//!   `MissingMessageRetriever`: 10 s), at most 100 hashes per query, each hint tried
//!   [`SdsGlueConfig::retrieval_attempts`] times.
//! - Beliefs: `Sent` when the transport took a content broadcast (the layer's publish),
//!   `Acked` when SDS acknowledges it, `Failed` at give-up (`Sent` for nim-sds's report).
//!   Every participant's first evidence is a `Confirmed { by }` observation.
//! - Overhead: a content broadcast counts its SDS fields (everything but the content); a
//!   resend, sync or repair response counts whole. Counters `sds_bloom_bytes`,
//!   `sds_history_bytes`, `sds_repair_bytes` (those fields of content, resend and repair
//!   broadcasts), `sds_sync_bytes` (sync messages whole), `sds_sync_messages`,
//!   `sds_resends`, `sds_repair_responses`, `sds_store_lookups`, `sds_lost`, `sds_gave_up`.
//!
//! Bounds: hints wanted ≤ [`MAX_WANTED`] (oldest dropped), one store lookup in flight, ids
//! remembered as missing and arrival paths ≤ [`MAX_REMEMBERED`] each (FIFO).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use sim_core::{
    AppMessageId, AppObservation, BelievedStatus, DeliveryPath, NodeId, SimDuration, SimRng,
    SimTime,
};
use waku::node::{WakuApi, waku_timestamp};
use waku::proto::WakuMessage;
use waku::store::{QueryId, StoreClientOutput, StoreQuery};
use waku::{Bytes, MessageHash};

use crate::app::{Conversation, Send, encode_payload};
use crate::layer::usable_stores;
use crate::sds::{BroadcastKind, SdsChannel, SdsConfig, SdsMessage, SdsOutput, wire};

/// Hints waiting for a store lookup, at most.
pub const MAX_WANTED: usize = 10_000;
/// Ids remembered as found missing (and arrival paths of buffered messages), at most.
pub const MAX_REMEMBERED: usize = 100_000;
/// Hashes per store lookup (the store's limit).
const LOOKUP_BATCH: usize = 100;

/// What the glue does around the SDS machines.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdsGlueConfig {
    /// Time between store lookups of missing dependencies' hints (`None`: never).
    pub retrieval_interval: Option<SimDuration>,
    /// Lookups of one hint before it is given up.
    pub retrieval_attempts: u32,
}

impl Default for SdsGlueConfig {
    /// js-waku `MissingMessageRetriever`: every 10 s; 6 tries (a minute) per hint.
    fn default() -> Self {
        Self {
            retrieval_interval: Some(SimDuration::from_secs(10)),
            retrieval_attempts: 6,
        }
    }
}

/// What the layer must do after a call.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Send `message` on `pubsub_topic`; for a content broadcast, `ids` is its application
    /// message and `content_id` its SDS id (the layer reports the transport's verdict with
    /// [`SdsGlue::transported`]).
    Publish {
        /// The pubsub topic.
        pubsub_topic: String,
        /// The Waku message carrying the SDS message.
        message: Box<WakuMessage>,
        /// Application ids to believe `Sent` once the transport took it.
        ids: Vec<AppMessageId>,
        /// The SDS id of a content broadcast.
        content_id: Option<String>,
    },
    /// Report a reception of `id` by `path`.
    Deliver(AppMessageId, DeliveryPath),
    /// Report `status` for `id`.
    Believe(AppMessageId, BelievedStatus),
}

/// One channel of this node.
#[derive(Debug)]
struct Channel {
    conversation: Rc<Conversation>,
    sds: SdsChannel,
}

/// A FIFO-bounded map.
#[derive(Debug)]
struct Bounded<K: Ord + Clone, V> {
    map: BTreeMap<K, V>,
    order: VecDeque<K>,
}

impl<K: Ord + Clone, V> Default for Bounded<K, V> {
    fn default() -> Self {
        Bounded {
            map: BTreeMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<K: Ord + Clone, V> Bounded<K, V> {
    fn insert(&mut self, key: K, value: V, limit: usize) -> bool {
        if self.map.insert(key.clone(), value).is_some() {
            return false;
        }
        self.order.push_back(key);
        while self.order.len() > limit {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        true
    }
}

/// The SDS glue of one node (see the module doc).
#[derive(Debug)]
pub struct SdsGlue {
    config: SdsConfig,
    glue: SdsGlueConfig,
    me: NodeId,
    conversations: Vec<Rc<Conversation>>,
    /// Content topic → channel.
    channels: BTreeMap<String, Channel>,
    missing: Bounded<String, ()>,
    arrived: Bounded<String, DeliveryPath>,
    /// Hint → lookups so far.
    wanted: Bounded<Bytes, u32>,
    lookup: Option<QueryId>,
    next_lookup: Option<SimTime>,
    stores: Vec<NodeId>,
}

impl SdsGlue {
    /// The glue for node `me` in `conversations`; channels are made at [`SdsGlue::start`].
    pub fn new(
        config: SdsConfig,
        glue: SdsGlueConfig,
        me: NodeId,
        conversations: &[Rc<Conversation>],
    ) -> Self {
        SdsGlue {
            config,
            glue,
            me,
            conversations: conversations.to_vec(),
            channels: BTreeMap::new(),
            missing: Bounded::default(),
            arrived: Bounded::default(),
            wanted: Bounded::default(),
            lookup: None,
            next_lookup: None,
            stores: Vec::new(),
        }
    }

    /// The channel of `content_topic`, if this node is in it.
    pub fn channel(&self, content_topic: &str) -> Option<&SdsChannel> {
        self.channels.get(content_topic).map(|c| &c.sds)
    }

    /// The node (re)started: channels are created afresh (SDS state is in memory, as in
    /// js-waku), keeping the ones that survived a sleep.
    pub fn start(&mut self, api: &mut WakuApi<'_, '_>) {
        let now = api.now();
        self.stores = api.service_peers(waku::peer_manager::Capabilities::STORE);
        for c in &self.conversations {
            if self.channels.contains_key(&c.content_topic) {
                continue;
            }
            let rng = SimRng::stream(api.rng().next_u64(), "sds", u64::from(c.id));
            let mut sds = SdsChannel::new(
                self.config.clone(),
                self.me.0.to_string(),
                c.content_topic.clone(),
                now,
                rng,
            );
            sds.set_participants(c.members.len() as u64);
            self.channels.insert(
                c.content_topic.clone(),
                Channel {
                    conversation: Rc::clone(c),
                    sds,
                },
            );
        }
    }

    /// The process died: every channel and pending lookup is lost.
    pub fn crash(&mut self) {
        self.channels.clear();
        self.wanted = Bounded::default();
        self.lookup = None;
        self.next_lookup = None;
    }

    /// Sends application message `send` in `conversation`.
    pub fn send(
        &mut self,
        send: Send,
        conversation: &Conversation,
        api: &mut WakuApi<'_, '_>,
    ) -> Vec<Effect> {
        let now = api.now();
        let content = Bytes::from(encode_payload(send.id, self.me, send.bytes));
        let Some(channel) = self.channels.get_mut(&conversation.content_topic) else {
            return Vec::new();
        };
        // Only an empty id or content is refused, and neither can happen here.
        let _ = channel.sds.send(now, content, send.id.0.to_string(), None);
        self.drain(&conversation.content_topic, DeliveryPath::Direct, api)
    }

    /// The transport's verdict on content broadcast `content_id` carried by `message`.
    pub fn transported(
        &mut self,
        content_id: &str,
        pubsub_topic: &str,
        message: &WakuMessage,
        ok: bool,
        api: &mut WakuApi<'_, '_>,
    ) -> Vec<Effect> {
        let now = api.now();
        let hint = Bytes::copy_from_slice(&message.hash(pubsub_topic).0);
        let topic = message.content_topic.clone();
        let Some(channel) = self.channels.get_mut(&topic) else {
            return Vec::new();
        };
        channel
            .sds
            .transport_result(now, content_id, ok, Some(hint));
        self.drain(&topic, DeliveryPath::Direct, api)
    }

    /// A Waku message on one of this node's content topics arrived by `path`.
    pub fn receive(
        &mut self,
        pubsub_topic: &str,
        message: &WakuMessage,
        path: DeliveryPath,
        api: &mut WakuApi<'_, '_>,
    ) -> Vec<Effect> {
        let now = api.now();
        let topic = message.content_topic.clone();
        let format = self.config.wire_format;
        let Some(channel) = self.channels.get_mut(&topic) else {
            return Vec::new();
        };
        let Ok(decoded) = wire::decode(
            message.payload.clone(),
            format,
            self.config.max_message_bytes,
        ) else {
            counter(api, "sds_undecodable", 1);
            return Vec::new();
        };
        let hint = Bytes::copy_from_slice(&message.hash(pubsub_topic).0);
        self.wanted.map.remove(&hint);
        if !decoded.is_sync() {
            self.arrived
                .insert(decoded.message_id.clone(), path, MAX_REMEMBERED);
        }
        channel.sds.receive(now, decoded, Some(hint));
        self.drain(&topic, path, api)
    }

    /// A store output; `None` if it is not about this glue's lookup.
    pub fn store(
        &mut self,
        output: &StoreClientOutput,
        api: &mut WakuApi<'_, '_>,
    ) -> Option<Vec<Effect>> {
        let mut effects = Vec::new();
        match output {
            StoreClientOutput::Page {
                query, messages, ..
            } if Some(*query) == self.lookup => {
                for kv in messages {
                    let (Some(message), Some(topic)) = (&kv.message, &kv.pubsub_topic) else {
                        continue;
                    };
                    counter(api, "sds_store_fetched", 1);
                    effects.extend(self.receive(topic, message, DeliveryPath::StoreFetch, api));
                }
            }
            StoreClientOutput::Finished { query, .. } | StoreClientOutput::Failed { query, .. }
                if Some(*query) == self.lookup =>
            {
                self.lookup = None;
            }
            _ => return None,
        }
        Some(effects)
    }

    /// When [`SdsGlue::timer`] must next run.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let channels = self.channels.values().filter_map(|c| c.sds.poll_timeout());
        let lookup = (!self.wanted.map.is_empty())
            .then_some(self.next_lookup)
            .flatten();
        channels.chain(lookup).min()
    }

    /// Runs what is due.
    pub fn timer(&mut self, api: &mut WakuApi<'_, '_>) -> Vec<Effect> {
        let now = api.now();
        let mut effects = Vec::new();
        let topics: Vec<String> = self.channels.keys().cloned().collect();
        for topic in topics {
            let due = self.channels[&topic].sds.poll_timeout();
            if due.is_some_and(|t| t <= now) {
                if let Some(channel) = self.channels.get_mut(&topic) {
                    channel.sds.handle_timeout(now);
                }
                effects.extend(self.drain(&topic, DeliveryPath::Direct, api));
            }
        }
        if self.next_lookup.is_some_and(|t| t <= now) {
            self.next_lookup = None;
            self.lookup_missing(api);
        }
        effects
    }

    /// Looks up the wanted hints on a store node (one query in flight).
    fn lookup_missing(&mut self, api: &mut WakuApi<'_, '_>) {
        let Some(interval) = self.glue.retrieval_interval else {
            return;
        };
        if self.wanted.map.is_empty() {
            return;
        }
        self.next_lookup = Some(api.now() + interval);
        if self.lookup.is_some() {
            return;
        }
        let stores = usable_stores(&self.stores, api);
        if stores.is_empty() {
            return;
        }
        let store = stores[api.rng().below(stores.len() as u64) as usize];
        let mut hashes = Vec::new();
        let mut exhausted = Vec::new();
        for (hint, tries) in &mut self.wanted.map {
            if hashes.len() == LOOKUP_BATCH {
                break;
            }
            if let Ok(hash) = <[u8; 32]>::try_from(hint.as_ref()) {
                hashes.push(MessageHash(hash));
            }
            *tries += 1;
            if *tries >= self.glue.retrieval_attempts {
                exhausted.push(hint.clone());
            }
        }
        for hint in exhausted {
            self.wanted.map.remove(&hint);
        }
        if hashes.is_empty() {
            return;
        }
        counter(api, "sds_store_lookups", 1);
        if let Ok(id) = api.store_query(store, StoreQuery::lookup(hashes)) {
            self.lookup = Some(id);
        }
    }

    /// Turns the outputs of channel `topic` into effects and observations; deliveries of
    /// messages that did not arrive just now take the path they arrived by.
    fn drain(&mut self, topic: &str, via: DeliveryPath, api: &mut WakuApi<'_, '_>) -> Vec<Effect> {
        let mut effects = Vec::new();
        let Some(channel) = self.channels.get_mut(topic) else {
            return effects;
        };
        let conversation = Rc::clone(&channel.conversation);
        let repair = self.config.repair.is_some();
        while let Some(output) = channel.sds.poll_output() {
            match output {
                SdsOutput::Broadcast { message, kind } => {
                    effects.push(publish(
                        &conversation,
                        message,
                        kind,
                        self.config.wire_format,
                        api,
                    ));
                }
                SdsOutput::Deliver { message_id, .. } => {
                    let Some(id) = app_id(&message_id) else {
                        continue;
                    };
                    let arrived = self.arrived.map.remove(&message_id).unwrap_or(via);
                    let path = match arrived {
                        DeliveryPath::StoreFetch => arrived,
                        _ if self.missing.map.contains_key(&message_id) => {
                            if repair {
                                DeliveryPath::Repair
                            } else {
                                DeliveryPath::Retransmission
                            }
                        }
                        _ => arrived,
                    };
                    effects.push(Effect::Deliver(id, path));
                }
                SdsOutput::AckEvidence {
                    message_id,
                    from_participant,
                    ..
                } => {
                    if let (Some(id), Ok(by)) = (app_id(&message_id), from_participant.parse()) {
                        api.observe(AppObservation::Confirmed { id, by: NodeId(by) });
                    }
                }
                SdsOutput::Acknowledged { message_id } => {
                    if let Some(id) = app_id(&message_id) {
                        effects.push(Effect::Believe(id, BelievedStatus::Acked));
                    }
                }
                SdsOutput::GaveUp {
                    message_id,
                    reported_as_sent,
                    ..
                } => {
                    counter(api, "sds_gave_up", 1);
                    if let Some(id) = app_id(&message_id) {
                        let status = if reported_as_sent {
                            BelievedStatus::Sent
                        } else {
                            BelievedStatus::Failed
                        };
                        effects.push(Effect::Believe(id, status));
                    }
                }
                SdsOutput::Missing { missing, .. } => {
                    for entry in missing {
                        if self
                            .missing
                            .insert(entry.message_id.clone(), (), MAX_REMEMBERED)
                            && let Some(id) = app_id(&entry.message_id)
                        {
                            api.observe(AppObservation::MissDetected { id });
                        }
                        if let Some(hint) = entry.retrieval_hint.filter(|h| h.len() == 32) {
                            self.wanted.insert(hint, 0, MAX_WANTED);
                        }
                    }
                    if self.next_lookup.is_none() && !self.wanted.map.is_empty() {
                        self.next_lookup = self.glue.retrieval_interval.map(|i| api.now() + i);
                    }
                }
                SdsOutput::Lost { .. } => counter(api, "sds_lost", 1),
                SdsOutput::RepairServed { .. } => counter(api, "sds_repair_responses", 1),
                SdsOutput::RepairRequested { .. } => counter(api, "sds_repair_requests", 1),
                SdsOutput::PossiblyAcknowledged { .. } => {}
            }
        }
        effects
    }
}

/// The Waku message for a broadcast, with its overhead reported.
fn publish(
    conversation: &Conversation,
    message: SdsMessage,
    kind: BroadcastKind,
    format: crate::sds::WireFormat,
    api: &mut WakuApi<'_, '_>,
) -> Effect {
    let parts = wire::overhead(&message, format);
    if kind != BroadcastKind::Sync {
        // A sync message counts whole in `sds_sync_bytes`; its parts are not counted again.
        counter(api, "sds_bloom_bytes", parts.bloom_bytes as u64);
        counter(api, "sds_history_bytes", parts.history_bytes as u64);
        counter(api, "sds_repair_bytes", parts.repair_bytes as u64);
    }
    let overhead_bytes = match kind {
        BroadcastKind::Content | BroadcastKind::Ephemeral => parts.overhead_bytes(),
        BroadcastKind::Sync => {
            counter(api, "sds_sync_messages", 1);
            counter(api, "sds_sync_bytes", parts.total_bytes as u64);
            parts.total_bytes
        }
        BroadcastKind::Resend => {
            counter(api, "sds_resends", 1);
            parts.total_bytes
        }
        BroadcastKind::RepairResponse => parts.total_bytes,
    };
    if overhead_bytes > 0 {
        api.observe(AppObservation::Overhead {
            bytes: u32::try_from(overhead_bytes).unwrap_or(u32::MAX),
        });
    }
    let content_id = (kind == BroadcastKind::Content).then(|| message.message_id.clone());
    let ids = content_id.as_deref().and_then(app_id).into_iter().collect();
    let waku = WakuMessage::new(
        wire::encode(&message, format),
        conversation.content_topic.clone(),
    )
    .with_timestamp_ns(waku_timestamp(api.now()));
    Effect::Publish {
        pubsub_topic: conversation.pubsub_topic.clone(),
        message: Box::new(waku),
        ids,
        content_id,
    }
}

/// The application id an SDS message id stands for (sync ids are not).
fn app_id(message_id: &str) -> Option<AppMessageId> {
    message_id.parse().ok().map(AppMessageId)
}

fn counter(api: &mut WakuApi<'_, '_>, name: &'static str, delta: u64) {
    if delta > 0 {
        api.observe(AppObservation::Counter { name, delta });
    }
}

/// The ids a set of outputs delivered (for tests).
pub fn delivered(effects: &[Effect]) -> BTreeSet<AppMessageId> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Deliver(id, _) => Some(*id),
            _ => None,
        })
        .collect()
}
