//! The glue between [`TrafficApp`](crate::TrafficApp) and the sans-IO reliability machines:
//! [`Layer`] runs [`StoreCheck`] and/or [`Mvds`] for the variants other than `none`, turns
//! their outputs into Waku calls (relay publish, lightpush, store queries, one application
//! timer) and their verdicts into observations for the oracle.
//!
//! Beliefs reported (`AppObservation::Status`):
//! - `store-check`: *Sent* when a store node has the message ("acked by store" = sent:
//!   status-go's `EventEnvelopeSent`); *Failed* when the sender gives up (not for a
//!   logos-delivery silent drop). A relay publish alone is not believed.
//! - `mvds`: *Sent* when a payload carrying the message was accepted by relay or lightpush;
//!   *Acked* at the first MVDS ACK from any recipient; *Failed* when every recipient's record
//!   is exhausted (15 transmissions) without an ACK.
//! - `mvds+store-check` (relay nodes): *Sent* when a store node has a payload carrying the
//!   message; *Acked* and *Failed* as for `mvds` (a store-check give-up only stops the
//!   store check; MVDS keeps retransmitting). An ACK stops the store check of payloads whose
//!   messages are all acknowledged (status-go `DeleteByMessageIDs`).
//!
//! - `light-client` (light clients only, through [`crate::light_glue`]): *Sent* when one of
//!   the redundant lightpush requests was accepted; *Failed* when every attempt failed.
//!
//! Receptions (`Received`) report every copy the application decodes, with the path:
//! `store_fetch` for messages retrieved from a store node, else `retransmission` for an MVDS
//! transmission after the first or a store-check re-post, else the Waku path. `MissDetected`
//! is reported when a store fetch yields a message the application had not received.
//! `Overhead` counts bytes sent beyond one copy of each application payload: MVDS framing,
//! ACKs and retransmitted bodies, and store-check re-publications (store queries are counted
//! by `store_queries` and in the store protocol's bandwidth). Counters: `store_check_*`,
//! `mvds_*`.
//!
//! Bounds: lightpush requests awaiting an answer ≤ 10 000; application ids remembered for
//! status and miss de-duplication ≤ 100 000 each (FIFO); peers' last-heard times ≤ one per
//! conversation member.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use sim_core::{
    AppMessageId, AppObservation, BelievedStatus, DeliveryPath, NodeId, SimTime, TimerId,
};
use waku::Bytes;
use waku::lightpush::LightPushClientOutput;
use waku::node::{WakuApi, WakuEvent, waku_timestamp};
use waku::peer_manager::Capabilities;
use waku::proto::WakuMessage;
use waku::store::{QueryId, StoreClientOutput};

use crate::app::{
    Conversation, Frame, Send, TrafficConfig, decode_frame, decode_payload, encode_mvds_frame,
    encode_payload, set_attempt,
};
use crate::config::ReliabilityConfig;
use crate::light_glue::{Effect, LightGlue};
use crate::mvds::{Mvds, MvdsMessage, MvdsOutput, Payload};
use crate::sds::RepairConfig;
use crate::sds_glue::{Effect as SdsEffect, SdsGlue};
use crate::store_check::{Interest, RepublishAs, StoreCheck, StoreCheckOutput};
use crate::variant::Variant;

/// The application timer tag of the layer.
const TIMER_TAG: u64 = 1;
/// Lightpush requests remembered.
const MAX_PUSHES: usize = 10_000;
/// Application ids remembered per de-duplication set.
const MAX_REMEMBERED: usize = 100_000;

/// A FIFO-bounded set of application ids.
#[derive(Clone, Debug, Default)]
struct IdSet {
    set: BTreeSet<AppMessageId>,
    order: VecDeque<AppMessageId>,
}

impl IdSet {
    /// Inserts `id`; false if it was present.
    fn insert(&mut self, id: AppMessageId) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > MAX_REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }

    fn contains(&self, id: AppMessageId) -> bool {
        self.set.contains(&id)
    }
}

type Tag = Vec<AppMessageId>;

/// The reliability layer of one node (see the module doc).
#[derive(Debug)]
pub struct Layer {
    variant: Variant,
    relay: bool,
    me: NodeId,
    config: ReliabilityConfig,
    conversations: Vec<Rc<Conversation>>,
    topics: BTreeSet<String>,
    groups: BTreeMap<Bytes, Rc<Conversation>>,
    lightpush_peers: Vec<NodeId>,
    stores: Vec<NodeId>,
    store: Option<StoreCheck<Tag>>,
    mvds: Option<Mvds>,
    light: Option<LightGlue>,
    sds: Option<SdsGlue>,
    queries: BTreeMap<QueryId, crate::store_check::QueryToken>,
    pushes: BTreeMap<String, Tag>,
    timer: Option<(TimerId, SimTime)>,
    last_heard: BTreeMap<NodeId, SimTime>,
    sent: IdSet,
    acked: IdSet,
    failed: IdSet,
    received: IdSet,
}

/// The MVDS group id of a conversation: SHA-256 of its content topic (32 bytes, like
/// status-go's 1:1 group ids).
pub fn group_id(conversation: &Conversation) -> Bytes {
    Bytes::copy_from_slice(&waku::relay_message_id(conversation.content_topic.as_bytes()).0)
}

impl Layer {
    /// The layer for `variant` on the node behind `api`.
    pub fn new(
        variant: Variant,
        traffic: &TrafficConfig,
        config: &ReliabilityConfig,
        api: &mut WakuApi<'_, '_>,
    ) -> Self {
        let relay = api.has_relay();
        let store = (variant.uses_store_check() && relay)
            .then(|| StoreCheck::new(config.store_check.clone()));
        let mvds = variant
            .uses_mvds()
            .then(|| Mvds::new(config.mvds.clone(), api.now()));
        let sds = variant.uses_sds().then(|| {
            let mut sds = config.sds.clone();
            if variant == Variant::SdsRepair {
                sds.repair.get_or_insert_with(RepairConfig::spec);
            } else {
                sds.repair = None;
            }
            SdsGlue::new(
                sds,
                config.sds_retrieval.clone(),
                api.id(),
                &traffic.conversations,
            )
        });
        let light = (variant.uses_light_client() && !relay).then(|| {
            LightGlue::new(
                config.light_client.clone(),
                &traffic.conversations,
                traffic.lightpush_peers.clone(),
                traffic.filter_peers.clone(),
            )
        });
        Layer {
            variant,
            relay,
            me: api.id(),
            config: config.clone(),
            conversations: traffic.conversations.clone(),
            topics: traffic
                .conversations
                .iter()
                .map(|c| c.content_topic.clone())
                .collect(),
            groups: traffic
                .conversations
                .iter()
                .map(|c| (group_id(c), Rc::clone(c)))
                .collect(),
            lightpush_peers: traffic.lightpush_peers.clone(),
            stores: Vec::new(),
            store,
            mvds,
            light,
            sds,
            queries: BTreeMap::new(),
            pushes: BTreeMap::new(),
            timer: None,
            last_heard: BTreeMap::new(),
            sent: IdSet::default(),
            acked: IdSet::default(),
            failed: IdSet::default(),
            received: IdSet::default(),
        }
    }

    /// The store-check machine, if this node runs one.
    pub fn store_check(&self) -> Option<&StoreCheck<Tag>> {
        self.store.as_ref()
    }

    /// The MVDS machine, if this node runs one.
    pub fn mvds(&self) -> Option<&Mvds> {
        self.mvds.as_ref()
    }

    /// The light-client glue, if this node runs it.
    pub fn light_client(&self) -> Option<&LightGlue> {
        self.light.as_ref()
    }

    /// The SDS glue, if this node runs SDS.
    pub fn sds(&self) -> Option<&SdsGlue> {
        self.sds.as_ref()
    }

    /// The node (re)started.
    pub fn start(&mut self, api: &mut WakuApi<'_, '_>) {
        let now = api.now();
        if let Some(sds) = self.sds.as_mut() {
            sds.start(api);
        }
        if let Some(light) = self.light.as_mut() {
            let effects = light.start(api);
            self.apply(effects, api);
        }
        self.stores = api.service_peers(Capabilities::STORE);
        if let Some(store) = self.store.as_mut() {
            let mut by_pubsub: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for c in &self.conversations {
                by_pubsub
                    .entry(c.pubsub_topic.clone())
                    .or_default()
                    .push(c.content_topic.clone());
            }
            let interests = by_pubsub
                .into_iter()
                .map(|(pubsub_topic, content_topics)| Interest {
                    pubsub_topic,
                    content_topics,
                })
                .collect();
            store.start(now, interests, api.rng());
        }
        if let Some(mvds) = self.mvds.as_mut() {
            mvds.restart(now);
        }
        self.rearm(api);
    }

    /// The process died.
    pub fn crash(&mut self) {
        if let Some(store) = self.store.as_mut() {
            store.crash();
        }
        if let Some(light) = self.light.as_mut() {
            light.crash();
        }
        if let Some(sds) = self.sds.as_mut() {
            sds.crash();
        }
        self.queries.clear();
        self.pushes.clear();
        self.timer = None;
        self.last_heard.clear();
    }

    /// Sends `send` in `conversation` (its `Created` is already observed).
    pub fn command(
        &mut self,
        send: Send,
        conversation: &Rc<Conversation>,
        api: &mut WakuApi<'_, '_>,
    ) {
        let now = api.now();
        if let Some(sds) = self.sds.as_mut() {
            let effects = sds.send(send, conversation, api);
            self.apply_sds(effects, api);
            self.rearm(api);
            return;
        }
        let body = encode_payload(send.id, self.me, send.bytes);
        if let Some(mvds) = self.mvds.as_mut() {
            let peers: Vec<NodeId> = conversation
                .members
                .iter()
                .copied()
                .filter(|n| *n != self.me)
                .collect();
            let message = MvdsMessage {
                group_id: group_id(conversation),
                timestamp: (now.as_nanos() / 1_000_000_000) as i64,
                body: Bytes::from(body),
            };
            let mut out = Vec::new();
            mvds.append(now, &peers, message, api.rng(), &mut out);
            self.mvds_outputs(out, DeliveryPath::Direct, api);
        } else {
            let message = WakuMessage::new(body, conversation.content_topic.clone())
                .with_timestamp_ns(waku_timestamp(now));
            self.publish(&conversation.pubsub_topic, message, vec![send.id], api);
        }
        self.rearm(api);
    }

    /// Handles `event`; gives it back if the application's own handling should see it.
    pub fn event(&mut self, event: WakuEvent, api: &mut WakuApi<'_, '_>) -> Option<WakuEvent> {
        let now = api.now();
        let rest = match event {
            WakuEvent::Message {
                pubsub_topic,
                message,
                path,
                from,
            } => {
                if self.topics.contains(&message.content_topic) {
                    if let Some(store) = self.store.as_mut() {
                        store.received(now, message.hash(&pubsub_topic));
                    }
                    if from.is_some() {
                        self.deliver_on(&pubsub_topic, &message, path, api);
                    }
                }
                None
            }
            WakuEvent::Store(output) => {
                if let Some(Some(effects)) = self.sds.as_mut().map(|s| s.store(&output, api)) {
                    self.apply_sds(effects, api);
                    None
                } else if let Some(Some(effects)) =
                    self.light.as_mut().map(|l| l.store(&output, api))
                {
                    self.apply(effects, api);
                    None
                } else {
                    self.store_event(output, api)
                }
            }
            WakuEvent::LightPush(output) => {
                match self.light.as_mut().map(|l| l.lightpush(&output, api)) {
                    Some(Some(effects)) => {
                        self.apply(effects, api);
                        None
                    }
                    _ => self.lightpush_event(output, api),
                }
            }
            WakuEvent::Filter(output) if self.light.is_some() => {
                if let Some(light) = self.light.as_mut() {
                    let effects = light.filter(&output, api);
                    self.apply(effects, api);
                }
                None
            }
            WakuEvent::OnlineChanged { online } | WakuEvent::NetworkChanged { online } => {
                if let Some(light) = self.light.as_mut() {
                    let effects = light.online(online, api);
                    self.apply(effects, api);
                }
                if let Some(store) = self.store.as_mut() {
                    if online {
                        store.came_online(now);
                    } else {
                        store.went_offline(now);
                    }
                }
                Some(event)
            }
            WakuEvent::SleepDetected { gap } => {
                if let Some(light) = self.light.as_mut() {
                    let effects = light.slept(gap, api);
                    self.apply(effects, api);
                }
                if let Some(store) = self.store.as_mut() {
                    store.went_offline(SimTime(now.as_nanos().saturating_sub(gap.as_nanos())));
                    store.came_online(now);
                }
                Some(event)
            }
            other => Some(other),
        };
        self.rearm(api);
        rest
    }

    /// An application timer fired.
    pub fn timer(&mut self, tag: u64, api: &mut WakuApi<'_, '_>) {
        if tag != TIMER_TAG {
            return;
        }
        self.timer = None;
        let now = api.now();
        if let Some(store) = self.store.as_mut() {
            let mut out = Vec::new();
            let stores = usable_stores(&self.stores, api);
            store.handle_timeout(now, &stores, api.rng(), &mut out);
            self.store_outputs(out, api);
        }
        if let Some(mvds) = self.mvds.as_mut() {
            let mut out = Vec::new();
            mvds.handle_timeout(now, api.rng(), &mut out);
            self.mvds_outputs(out, DeliveryPath::Direct, api);
        }
        if let Some(light) = self.light.as_mut() {
            let effects = light.timer(api);
            self.apply(effects, api);
        }
        if let Some(sds) = self.sds.as_mut() {
            let effects = sds.timer(api);
            self.apply_sds(effects, api);
        }
        self.rearm(api);
    }

    /// Carries out what the SDS glue asks for.
    fn apply_sds(&mut self, effects: Vec<SdsEffect>, api: &mut WakuApi<'_, '_>) {
        for effect in effects {
            match effect {
                SdsEffect::Publish {
                    pubsub_topic,
                    message,
                    ids,
                    content_id,
                } => {
                    let ok = self.publish(&pubsub_topic, (*message).clone(), ids, api);
                    if let (Some(id), Some(sds)) = (content_id, self.sds.as_mut()) {
                        let more = sds.transported(&id, &pubsub_topic, &message, ok, api);
                        self.apply_sds(more, api);
                    }
                }
                SdsEffect::Deliver(id, path) => self.received(id, path, api),
                SdsEffect::Believe(id, status) => self.believe(&[id], status, api),
            }
        }
    }

    /// Carries out what the light-client glue asks for.
    fn apply(&mut self, effects: Vec<Effect>, api: &mut WakuApi<'_, '_>) {
        for effect in effects {
            match effect {
                Effect::Believe(ids, status) => self.believe(&ids, status, api),
                Effect::Deliver(topic, message) => {
                    if self.topics.contains(&message.content_topic) {
                        counter(api, "light_store_fetched", 1);
                        self.deliver_on(&topic, &message, DeliveryPath::StoreFetch, api);
                    }
                }
            }
        }
    }

    /// Arms the one application timer at the machines' earliest deadline.
    fn rearm(&mut self, api: &mut WakuApi<'_, '_>) {
        let store = self.store.as_ref().and_then(|s| s.poll_timeout());
        let mvds = self.mvds.as_ref().and_then(|m| m.poll_timeout());
        let light = self.light.as_ref().and_then(|l| l.poll_timeout());
        let sds = self.sds.as_ref().and_then(SdsGlue::poll_timeout);
        let next = [store, mvds, light, sds].into_iter().flatten().min();
        if self.timer.map(|(_, at)| at) == next {
            return;
        }
        if let Some((id, _)) = self.timer.take() {
            api.cancel_timer(id);
        }
        if let Some(at) = next {
            let after = at.saturating_duration_since(api.now());
            self.timer = Some((api.set_timer(after, TIMER_TAG), at));
        }
    }

    /// Publishes a plain, MVDS or SDS message carrying `ids` (relay, else lightpush), tracks
    /// it for the store check, and reports what the variant believes. True if the transport
    /// took it (relay accepted it, or a lightpush request went out).
    fn publish(
        &mut self,
        pubsub_topic: &str,
        message: WakuMessage,
        ids: Tag,
        api: &mut WakuApi<'_, '_>,
    ) -> bool {
        let now = api.now();
        if self.relay {
            let ok = api.relay_publish(pubsub_topic, message.clone()).is_ok();
            if let Some(store) = self.store.as_mut() {
                // Own messages are known: the receiver side must not fetch them back.
                store.received(now, message.hash(pubsub_topic));
                if !ids.is_empty() {
                    let mut out = Vec::new();
                    store.track(now, pubsub_topic, message, ids, ok, &mut out);
                    self.store_outputs(out, api);
                }
            } else if ok {
                self.believe(&ids, BelievedStatus::Sent, api);
            }
            return ok;
        }
        if let Some(light) = self.light.as_mut() {
            let effects = light.send(pubsub_topic, message, ids, api);
            self.apply(effects, api);
            return true;
        }
        let Some(peer) = self.lightpush_peers.first().copied() else {
            return false;
        };
        match api.lightpush(peer, Some(pubsub_topic.to_string()), message) {
            Ok(request_id) => {
                if self.pushes.len() >= MAX_PUSHES {
                    self.pushes.pop_first();
                }
                self.pushes.insert(request_id, ids);
                true
            }
            Err(_) => false,
        }
    }

    /// Reports `status` for each of `ids` not yet reported with it.
    fn believe(&mut self, ids: &[AppMessageId], status: BelievedStatus, api: &mut WakuApi<'_, '_>) {
        for &id in ids {
            let fresh = match status {
                BelievedStatus::Sent => self.sent.insert(id),
                BelievedStatus::Acked => self.acked.insert(id),
                BelievedStatus::Failed => self.failed.insert(id),
                BelievedStatus::Outgoing => false,
            };
            if fresh {
                api.observe(AppObservation::Status { id, status });
            }
        }
    }

    /// A message on one of our content topics arrived on `pubsub_topic` by `path`: SDS
    /// variants hand it to their channel, the others decode it here.
    fn deliver_on(
        &mut self,
        pubsub_topic: &str,
        message: &WakuMessage,
        path: DeliveryPath,
        api: &mut WakuApi<'_, '_>,
    ) {
        if let Some(sds) = self.sds.as_mut() {
            let effects = sds.receive(pubsub_topic, message, path, api);
            self.apply_sds(effects, api);
        } else {
            self.deliver(message, path, api);
        }
    }

    /// A plain or MVDS message on one of our content topics arrived by `path`.
    fn deliver(&mut self, message: &WakuMessage, path: DeliveryPath, api: &mut WakuApi<'_, '_>) {
        match decode_frame(&message.payload) {
            Some(Frame::Plain {
                id,
                sender,
                attempt,
            }) if sender != self.me => {
                let path = match path {
                    DeliveryPath::StoreFetch => path,
                    _ if attempt > 1 => DeliveryPath::Retransmission,
                    _ => path,
                };
                self.received(id, path, api);
            }
            Some(Frame::Mvds {
                sender,
                recipient,
                payload,
            }) if recipient == self.me && sender != self.me => {
                let Some(mvds) = self.mvds.as_mut() else {
                    return;
                };
                let now = api.now();
                let mut out = Vec::new();
                mvds.on_payload(now, sender, payload, api.rng(), &mut out);
                // First contact since (re)start, or after a silence: the peer came online.
                let silent = self.last_heard.insert(sender, now).is_none_or(|t| {
                    now.saturating_duration_since(t) >= self.config.mvds_peer_silence
                });
                if silent {
                    mvds.peer_online(now, sender, api.rng(), &mut out);
                }
                self.mvds_outputs(out, path, api);
            }
            _ => {}
        }
    }

    /// Reports a reception (and a detected miss for a first reception from a store).
    fn received(&mut self, id: AppMessageId, path: DeliveryPath, api: &mut WakuApi<'_, '_>) {
        let first = self.received.insert(id);
        if first && path == DeliveryPath::StoreFetch {
            api.observe(AppObservation::MissDetected { id });
        }
        api.observe(AppObservation::Received { id, path });
    }

    fn mvds_outputs(&mut self, out: Vec<MvdsOutput>, via: DeliveryPath, api: &mut WakuApi<'_, '_>) {
        for output in out {
            match output {
                MvdsOutput::Send {
                    peer,
                    group_id,
                    payload,
                } => self.mvds_send(peer, &group_id, &payload, api),
                MvdsOutput::Delivered {
                    message,
                    transmission,
                    ..
                } => {
                    let Some((id, sender)) = decode_payload(&message.body) else {
                        continue;
                    };
                    if sender == self.me {
                        continue;
                    }
                    let path = match via {
                        DeliveryPath::StoreFetch => via,
                        _ if transmission > 1 => DeliveryPath::Retransmission,
                        _ => via,
                    };
                    self.received(id, path, api);
                }
                MvdsOutput::Acked { body, first, .. } => {
                    counter(api, "mvds_acks_received", 1);
                    let Some((id, _)) = decode_payload(&body) else {
                        continue;
                    };
                    if first {
                        self.believe(&[id], BelievedStatus::Acked, api);
                        if let Some(store) = self.store.as_mut() {
                            let acked = &self.acked;
                            store.untrack_where(|tag| tag.iter().all(|i| acked.contains(*i)));
                        }
                    }
                }
                MvdsOutput::GaveUp { body, failed, .. } => {
                    counter(api, "mvds_gave_up", 1);
                    if failed && let Some((id, _)) = decode_payload(&body) {
                        self.believe(&[id], BelievedStatus::Failed, api);
                    }
                }
            }
        }
    }

    /// Wraps an MVDS payload in a Waku message on its conversation's topics and sends it.
    fn mvds_send(
        &mut self,
        peer: NodeId,
        group: &Bytes,
        payload: &Payload,
        api: &mut WakuApi<'_, '_>,
    ) {
        let Some(conversation) = self.groups.get(group).cloned() else {
            return;
        };
        let frame = encode_mvds_frame(self.me, peer, payload);
        let mut ids = Vec::new();
        let mut first_bytes = 0usize;
        let mut retransmissions = 0u64;
        for m in &payload.messages {
            if let Some((id, _)) = decode_payload(&m.message.body) {
                ids.push(id);
            }
            if m.transmission <= 1 {
                first_bytes += m.message.body.len();
            } else {
                retransmissions += 1;
            }
        }
        counter(api, "mvds_payloads", 1);
        counter(api, "mvds_transmissions", payload.messages.len() as u64);
        counter(api, "mvds_retransmissions", retransmissions);
        counter(api, "mvds_acks_sent", payload.acks.len() as u64);
        overhead(api, frame.len().saturating_sub(first_bytes));
        let message = WakuMessage::new(frame, conversation.content_topic.clone())
            .with_timestamp_ns(waku_timestamp(api.now()));
        self.publish(&conversation.pubsub_topic, message, ids, api);
    }

    fn store_event(
        &mut self,
        output: StoreClientOutput,
        api: &mut WakuApi<'_, '_>,
    ) -> Option<WakuEvent> {
        let now = api.now();
        let (query, page, done) = match output {
            StoreClientOutput::Page {
                query, messages, ..
            } => (query, Some(messages), None),
            StoreClientOutput::Finished { query, .. } => (query, None, Some(true)),
            StoreClientOutput::Failed { query, .. } => (query, None, Some(false)),
            other => return Some(WakuEvent::Store(other)),
        };
        let (Some(store), Some(&token)) = (self.store.as_mut(), self.queries.get(&query)) else {
            return None;
        };
        let mut out = Vec::new();
        let stores = usable_stores(&self.stores, api);
        if let Some(messages) = page {
            store.on_page(now, token, messages, &stores, api.rng(), &mut out);
        }
        if let Some(ok) = done {
            self.queries.remove(&query);
            if !ok {
                counter(api, "store_check_query_failed", 1);
            }
            store.on_done(now, token, ok, !ok, &stores, api.rng(), &mut out);
        }
        self.store_outputs(out, api);
        None
    }

    fn lightpush_event(
        &mut self,
        output: LightPushClientOutput,
        api: &mut WakuApi<'_, '_>,
    ) -> Option<WakuEvent> {
        let (request_id, ok) = match &output {
            LightPushClientOutput::Pushed { request_id, .. } => (request_id, true),
            LightPushClientOutput::Failed { request_id, .. } => (request_id, false),
            _ => return Some(WakuEvent::LightPush(output)),
        };
        let Some(ids) = self.pushes.remove(request_id) else {
            return Some(WakuEvent::LightPush(output));
        };
        if ok {
            self.believe(&ids, BelievedStatus::Sent, api);
        }
        None
    }

    fn store_outputs(&mut self, out: Vec<StoreCheckOutput<Tag>>, api: &mut WakuApi<'_, '_>) {
        let mut work: VecDeque<StoreCheckOutput<Tag>> = out.into();
        while let Some(output) = work.pop_front() {
            let Some(store) = self.store.as_mut() else {
                return;
            };
            match output {
                StoreCheckOutput::Query { token, peer, query } => {
                    match api.store_query(peer, query) {
                        Ok(id) => {
                            self.queries.insert(id, token);
                        }
                        Err(_) => {
                            let mut more = Vec::new();
                            let now = api.now();
                            let stores = usable_stores(&self.stores, api);
                            store.on_done(now, token, false, false, &stores, api.rng(), &mut more);
                            work.extend(more);
                        }
                    }
                }
                StoreCheckOutput::Republish { id, attempt } => {
                    let Some((topic, message)) = store.message(id) else {
                        continue;
                    };
                    let topic = topic.to_string();
                    let mut message = message.clone();
                    if store.config().republish_as == RepublishAs::NewMessage {
                        let mut payload = message.payload.to_vec();
                        set_attempt(&mut payload, attempt);
                        message.payload = Bytes::from(payload);
                        message.timestamp = Some(waku_timestamp(api.now()));
                        store.rekey(id, message.clone());
                        store.received(api.now(), message.hash(&topic));
                    }
                    counter(api, "store_check_republished", 1);
                    overhead(api, message.payload.len());
                    if api.relay_publish(&topic, message).is_ok() {
                        store.mark_propagated(id);
                    }
                }
                StoreCheckOutput::Confirmed { tag, .. } => {
                    counter(api, "store_check_confirmed", 1);
                    self.believe(&tag, BelievedStatus::Sent, api);
                }
                StoreCheckOutput::GaveUp { tag, report, .. } => {
                    counter(api, "store_check_gave_up", 1);
                    if report && self.variant == Variant::StoreCheck {
                        self.believe(&tag, BelievedStatus::Failed, api);
                    }
                }
                StoreCheckOutput::Fetched { message, .. } => {
                    if self.topics.contains(&message.content_topic) {
                        counter(api, "store_check_fetched", 1);
                        self.deliver(&message, DeliveryPath::StoreFetch, api);
                    }
                }
            }
        }
    }
}

/// The store nodes to choose from: those connected, if any (go-waku's `StorenodeCycle` only
/// uses nodes that answered its ping), else every store node known.
pub(crate) fn usable_stores(known: &[NodeId], api: &WakuApi<'_, '_>) -> Vec<NodeId> {
    let connected: Vec<NodeId> = known
        .iter()
        .copied()
        .filter(|s| api.is_connected(*s))
        .collect();
    if connected.is_empty() {
        known.to_vec()
    } else {
        connected
    }
}

fn counter(api: &mut WakuApi<'_, '_>, name: &'static str, delta: u64) {
    if delta > 0 {
        api.observe(AppObservation::Counter { name, delta });
    }
}

fn overhead(api: &mut WakuApi<'_, '_>, bytes: usize) {
    if bytes > 0 {
        api.observe(AppObservation::Overhead {
            bytes: u32::try_from(bytes).unwrap_or(u32::MAX),
        });
    }
}
