//! [`TrafficApp`]: the application on every simulated node. It sends the messages the scenario
//! schedules, receives the conversations it is a member of, and reports to the ground-truth
//! oracle what it created, what it received and what it believed about its own messages.
//!
//! Wire format of an application message ([`Frame::Plain`]): the payload starts with the
//! application message id (8 bytes, big endian) and the sender's node id (4 bytes), padded with
//! zeros to the scheduled size; the content topic names the conversation. Receivers recognise
//! their conversations by content topic, so relay nodes that only forward traffic record
//! nothing. The first padding byte (offset 12, when the payload is longer than the header)
//! counts re-publications of the same application message as a new envelope (0 for the
//! original, so `none` payloads are unchanged).
//!
//! MVDS variants carry [`Frame::Mvds`] instead: the 4-byte magic `MVDS`, the sender's and the
//! addressee's node ids (4 bytes each, big endian; the addressee stands in for encryption to
//! one peer, other members of the conversation ignore the frame), then the MVDS protobuf
//! payload ([`crate::mvds::wire`]) whose message bodies are plain payloads as above. A plain
//! payload never starts with the magic (application ids stay far below 2^56).
//!
//! Variant `none` (plain Waku): relay nodes publish on relay and believe a message sent when
//! relay accepted it; light clients push through one lightpush service node and believe what
//! it answers, and receive through one filter subscription, moving to the next filter service
//! node when the subscription is lost. Like a plain js-waku/go-waku light client, they retry a
//! subscription that failed (refused, timed out, service unreachable) on the next service node
//! after [`RESUBSCRIBE_DELAY`] (one retry pending at a time; none while the host's network is
//! down) and resubscribe at once when the network comes back. The other variants are layered
//! on top by [`crate::layer`].

use std::collections::BTreeMap;
use std::rc::Rc;

use std::collections::BTreeSet;

use sim_core::{
    AppMessageId, AppObservation, Audit, AuditHasher, BelievedStatus, NodeId, SimDuration, SimTime,
    TimerId,
};
use waku::filter::{FilterClientOutput, FilterRequestKind, status};
use waku::lightpush::LightPushClientOutput;
use waku::node::{App, WakuApi, WakuEvent, waku_timestamp};
use waku::proto::WakuMessage;

use crate::config::ReliabilityConfig;
use crate::layer::Layer;
use crate::mvds::wire::{self as mvds_wire, Payload};
use crate::variant::Variant;

/// Bytes of the application header at the start of every payload.
pub const HEADER_BYTES: u32 = 12;
/// Offset of the re-publication counter (the first padding byte).
pub const ATTEMPT_OFFSET: usize = 12;
/// The first bytes of an MVDS frame.
pub const MVDS_MAGIC: [u8; 4] = *b"MVDS";
/// Bytes of the MVDS frame header (magic, sender, addressee).
pub const MVDS_HEADER_BYTES: usize = 12;
/// Content topics per filter subscription request (the filter protocol's limit).
const MAX_TOPICS_PER_SUBSCRIBE: usize = 100;
/// Lightpush requests awaiting an answer; older ones are forgotten beyond this.
const MAX_PENDING_PUSHES: usize = 10_000;
/// Delay before a failed filter subscription is retried (on the next service node).
pub const RESUBSCRIBE_DELAY: SimDuration = SimDuration::from_secs(5);
/// The application timer tag of the subscription retry (the reliability layer uses 1).
const RESUBSCRIBE_TAG: u64 = 2;

/// One conversation: a 1:1 chat, a private group or a community channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    /// Index of the conversation in the scenario.
    pub id: u32,
    /// Pubsub topic (shard) its messages travel on.
    pub pubsub_topic: String,
    /// Content topic identifying it.
    pub content_topic: String,
    /// Every member (senders and receivers), ascending.
    pub members: Rc<[NodeId]>,
}

/// What a node's application is set up with.
#[derive(Clone, Debug)]
pub struct TrafficConfig {
    /// The reliability variant under test.
    pub variant: Variant,
    /// Conversations this node is a member of.
    pub conversations: Vec<Rc<Conversation>>,
    /// Light clients: lightpush service nodes, in order of preference.
    pub lightpush_peers: Vec<NodeId>,
    /// Light clients: filter service nodes, in order of preference.
    pub filter_peers: Vec<NodeId>,
}

/// The scheduled command: send message `id` of `bytes` bytes in `conversation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Send {
    /// The application message id (unique in the run).
    pub id: AppMessageId,
    /// Index of the conversation.
    pub conversation: u32,
    /// Payload size (at least the 12-byte header).
    pub bytes: u32,
}

impl Audit for Send {
    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.id.0);
        h.write_u32(self.conversation);
        h.write_u32(self.bytes);
    }
}

/// The application; see the module documentation.
#[derive(Debug)]
pub struct TrafficApp {
    config: TrafficConfig,
    /// Conversations by content topic.
    by_topic: BTreeMap<String, Rc<Conversation>>,
    /// Index into `filter_peers` of the service node in use.
    filter_index: usize,
    /// Lightpush request id → message.
    pending_pushes: BTreeMap<String, AppMessageId>,
    /// Filter subscribe requests awaiting an answer.
    pending_subscribes: BTreeSet<String>,
    /// The pending subscription retry, if any.
    resubscribe_timer: Option<TimerId>,
    /// False while the host's network is down (as the OS reported it).
    network_up: bool,
    /// Parameters of the reliability protocols.
    reliability: ReliabilityConfig,
    /// The reliability layer (variants other than `none`; created at the first start).
    layer: Option<Layer>,
}

impl TrafficApp {
    /// An application with `config`.
    pub fn new(config: TrafficConfig) -> Self {
        let by_topic = config
            .conversations
            .iter()
            .map(|c| (c.content_topic.clone(), Rc::clone(c)))
            .collect();
        TrafficApp {
            config,
            by_topic,
            filter_index: 0,
            pending_pushes: BTreeMap::new(),
            pending_subscribes: BTreeSet::new(),
            resubscribe_timer: None,
            network_up: true,
            reliability: ReliabilityConfig::default(),
            layer: None,
        }
    }

    /// The same application with reliability parameters `reliability` (presets and
    /// overrides; the default is status-go's).
    #[must_use]
    pub fn with_reliability(mut self, reliability: ReliabilityConfig) -> Self {
        self.reliability = reliability;
        self
    }

    /// The reliability layer, for inspection (`None` for `none` and before the first start).
    pub fn layer(&self) -> Option<&Layer> {
        self.layer.as_ref()
    }

    fn conversation(&self, id: u32) -> Option<&Rc<Conversation>> {
        self.config.conversations.iter().find(|c| c.id == id)
    }

    /// True if this application keeps the node's filter subscription (a light client whose
    /// variant leaves receiving to plain Waku).
    fn keeps_subscription(&self, api: &WakuApi<'_, '_>) -> bool {
        !api.has_relay() && !self.config.variant.uses_light_client()
    }

    /// Subscribes, at the filter service node in use, to every conversation's content topic.
    fn subscribe(&mut self, api: &mut WakuApi<'_, '_>) {
        let Some(peer) = self.config.filter_peers.get(self.filter_index).copied() else {
            return;
        };
        if let Some(timer) = self.resubscribe_timer.take() {
            api.cancel_timer(timer);
        }
        let mut by_pubsub: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for c in &self.config.conversations {
            by_pubsub
                .entry(c.pubsub_topic.as_str())
                .or_default()
                .push(c.content_topic.clone());
        }
        let mut refused = false;
        for (pubsub_topic, topics) in by_pubsub {
            for chunk in topics.chunks(MAX_TOPICS_PER_SUBSCRIBE) {
                match api.filter_subscribe(peer, pubsub_topic, chunk) {
                    Ok(request_id) => {
                        self.pending_subscribes.insert(request_id);
                    }
                    // A local limit (too many pending requests).
                    Err(_) => refused = true,
                }
            }
        }
        if refused {
            self.schedule_resubscribe(api);
        }
    }

    /// A subscribe request failed: move to the next service node and retry after
    /// [`RESUBSCRIBE_DELAY`] (unless a retry is already pending or the network is down: it
    /// resubscribes when the network comes back).
    fn subscribe_failed(&mut self, api: &mut WakuApi<'_, '_>) {
        let peers = self.config.filter_peers.len();
        if peers > 0 {
            self.filter_index = (self.filter_index + 1) % peers;
        }
        self.schedule_resubscribe(api);
    }

    fn schedule_resubscribe(&mut self, api: &mut WakuApi<'_, '_>) {
        if self.resubscribe_timer.is_none() && self.network_up {
            self.resubscribe_timer = Some(api.set_timer(RESUBSCRIBE_DELAY, RESUBSCRIBE_TAG));
        }
    }

    fn status(api: &mut WakuApi<'_, '_>, id: AppMessageId, status: BelievedStatus) {
        api.observe(AppObservation::Status { id, status });
    }
}

/// The payload of message `id` from `sender`, `bytes` long (at least the header).
pub fn encode_payload(id: AppMessageId, sender: NodeId, bytes: u32) -> Vec<u8> {
    let mut payload = vec![0u8; bytes.max(HEADER_BYTES) as usize];
    payload[..8].copy_from_slice(&id.0.to_be_bytes());
    payload[8..12].copy_from_slice(&sender.0.to_be_bytes());
    payload
}

/// [`encode_payload`] for the `attempt`-th publication (1 = original) of the message: the
/// counter byte is `attempt − 1` (saturating), when the payload has room for it.
pub fn encode_payload_attempt(
    id: AppMessageId,
    sender: NodeId,
    bytes: u32,
    attempt: u32,
) -> Vec<u8> {
    let mut payload = encode_payload(id, sender, bytes);
    set_attempt(&mut payload, attempt);
    payload
}

/// Sets the re-publication counter of a plain payload (no-op without room or for a frame).
pub fn set_attempt(payload: &mut [u8], attempt: u32) {
    if payload.starts_with(&MVDS_MAGIC) {
        return;
    }
    if let Some(b) = payload.get_mut(ATTEMPT_OFFSET) {
        *b = u8::try_from(attempt.saturating_sub(1)).unwrap_or(u8::MAX);
    }
}

/// The (message id, sender) in a plain payload, if it carries the header (`None` for an
/// MVDS frame).
pub fn decode_payload(payload: &[u8]) -> Option<(AppMessageId, NodeId)> {
    if payload.starts_with(&MVDS_MAGIC) {
        return None;
    }
    let id = u64::from_be_bytes(payload.get(..8)?.try_into().ok()?);
    let sender = u32::from_be_bytes(payload.get(8..12)?.try_into().ok()?);
    Some((AppMessageId(id), NodeId(sender)))
}

/// A decoded Waku payload of the traffic application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A plain application message.
    Plain {
        /// Its id.
        id: AppMessageId,
        /// Its sender.
        sender: NodeId,
        /// Publication number (1 = original; see [`encode_payload_attempt`]).
        attempt: u32,
    },
    /// An MVDS packet from `sender` for `recipient`.
    Mvds {
        /// Who sent it.
        sender: NodeId,
        /// Who it is for.
        recipient: NodeId,
        /// The MVDS payload.
        payload: Payload,
    },
}

/// Decodes a payload: plain header or MVDS frame (`None` if it is neither).
pub fn decode_frame(payload: &[u8]) -> Option<Frame> {
    if payload.starts_with(&MVDS_MAGIC) {
        let sender = u32::from_be_bytes(payload.get(4..8)?.try_into().ok()?);
        let recipient = u32::from_be_bytes(payload.get(8..12)?.try_into().ok()?);
        let payload = mvds_wire::decode(payload.get(MVDS_HEADER_BYTES..)?).ok()?;
        return Some(Frame::Mvds {
            sender: NodeId(sender),
            recipient: NodeId(recipient),
            payload,
        });
    }
    let (id, sender) = decode_payload(payload)?;
    let attempt = payload.get(ATTEMPT_OFFSET).map_or(1, |b| u32::from(*b) + 1);
    Some(Frame::Plain {
        id,
        sender,
        attempt,
    })
}

/// The MVDS frame carrying `payload` from `sender` to `recipient`.
pub fn encode_mvds_frame(sender: NodeId, recipient: NodeId, payload: &Payload) -> Vec<u8> {
    let mut out = Vec::with_capacity(MVDS_HEADER_BYTES + mvds_wire::encoded_len(payload));
    out.extend_from_slice(&MVDS_MAGIC);
    out.extend_from_slice(&sender.0.to_be_bytes());
    out.extend_from_slice(&recipient.0.to_be_bytes());
    mvds_wire::encode_into(payload, &mut out);
    out
}

impl App for TrafficApp {
    type Command = Send;

    fn start(&mut self, api: &mut WakuApi<'_, '_>) {
        let variant = self.config.variant;
        // Under `light-client` (and `sds+light-client`) the layer subscribes (on several
        // service nodes).
        if !api.has_relay() && !variant.uses_light_client() {
            self.subscribe(api);
        }
        if variant == Variant::None {
            return;
        }
        if self.layer.is_none() {
            // Light clients have no store-based reliability yet: with `store-check` they
            // behave as in `none`.
            if variant == Variant::StoreCheck && !api.has_relay() {
                return;
            }
            // Relay nodes have no light-client reliability: under `light-client` they
            // behave as in `none`.
            if variant == Variant::LightClient && api.has_relay() {
                return;
            }
            self.layer = Some(Layer::new(variant, &self.config, &self.reliability, api));
        }
        if let Some(layer) = self.layer.as_mut() {
            layer.start(api);
        }
    }

    fn command(&mut self, send: Send, api: &mut WakuApi<'_, '_>) {
        let me = api.id();
        let Some(conversation) = self.conversation(send.conversation).cloned() else {
            return;
        };
        let recipients: Vec<NodeId> = conversation
            .members
            .iter()
            .copied()
            .filter(|n| *n != me)
            .collect();
        api.observe(AppObservation::Created {
            id: send.id,
            recipients,
            payload_bytes: send.bytes,
        });
        if let Some(layer) = self.layer.as_mut() {
            layer.command(send, &conversation, api);
            return;
        }
        let message = WakuMessage::new(
            encode_payload(send.id, me, send.bytes),
            conversation.content_topic.clone(),
        )
        .with_timestamp_ns(waku_timestamp(api.now()));
        if api.has_relay() {
            let status = match api.relay_publish(&conversation.pubsub_topic, message) {
                Ok(_) => BelievedStatus::Sent,
                Err(_) => BelievedStatus::Failed,
            };
            Self::status(api, send.id, status);
            return;
        }
        let Some(peer) = self.config.lightpush_peers.first().copied() else {
            Self::status(api, send.id, BelievedStatus::Failed);
            return;
        };
        match api.lightpush(peer, Some(conversation.pubsub_topic.clone()), message) {
            Ok(request_id) => {
                if self.pending_pushes.len() >= MAX_PENDING_PUSHES {
                    self.pending_pushes.pop_first();
                }
                self.pending_pushes.insert(request_id, send.id);
            }
            Err(_) => Self::status(api, send.id, BelievedStatus::Failed),
        }
    }

    fn event(&mut self, event: WakuEvent, api: &mut WakuApi<'_, '_>) {
        let event = match self.layer.as_mut() {
            Some(layer) => match layer.event(event, api) {
                Some(event) => event,
                None => return,
            },
            None => event,
        };
        match event {
            WakuEvent::Message { message, path, .. } => {
                let Some((id, sender)) = decode_payload(&message.payload) else {
                    return;
                };
                if sender != api.id() && self.by_topic.contains_key(&message.content_topic) {
                    api.observe(AppObservation::Received { id, path });
                }
            }
            WakuEvent::LightPush(LightPushClientOutput::Pushed { request_id, .. }) => {
                if let Some(id) = self.pending_pushes.remove(&request_id) {
                    Self::status(api, id, BelievedStatus::Sent);
                }
            }
            WakuEvent::LightPush(LightPushClientOutput::Failed { request_id, .. }) => {
                if let Some(id) = self.pending_pushes.remove(&request_id) {
                    Self::status(api, id, BelievedStatus::Failed);
                }
            }
            WakuEvent::Filter(FilterClientOutput::SubscriptionLost { .. }) => {
                let peers = self.config.filter_peers.len();
                if peers > 0 {
                    self.filter_index = (self.filter_index + 1) % peers;
                    self.subscribe(api);
                }
            }
            WakuEvent::Filter(FilterClientOutput::Completed {
                request_id,
                kind: FilterRequestKind::Subscribe,
                status,
                ..
            }) => {
                let ours = self.pending_subscribes.remove(&request_id);
                if ours && status != Some(status::OK) {
                    self.subscribe_failed(api);
                }
            }
            WakuEvent::NetworkChanged { online } => {
                self.network_up = online;
                if online && self.keeps_subscription(api) {
                    self.subscribe(api);
                }
            }
            _ => {}
        }
    }

    fn timer(&mut self, tag: u64, api: &mut WakuApi<'_, '_>) {
        if tag == RESUBSCRIBE_TAG {
            self.resubscribe_timer = None;
            if self.keeps_subscription(api) {
                self.subscribe(api);
            }
            return;
        }
        if let Some(layer) = self.layer.as_mut() {
            layer.timer(tag, api);
        }
    }

    fn crash(&mut self) {
        self.filter_index = 0;
        self.pending_pushes.clear();
        self.pending_subscribes.clear();
        self.resubscribe_timer = None;
        self.network_up = true;
        if let Some(layer) = self.layer.as_mut() {
            layer.crash();
        }
    }
}

/// The time a message with this Waku timestamp was created (for diagnostics).
pub fn created_at(message: &WakuMessage) -> SimTime {
    SimTime(message.timestamp.map_or(0, |t| t.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_header_round_trips_and_pads() {
        let payload = encode_payload(AppMessageId(77), NodeId(5), 100);
        assert_eq!(payload.len(), 100);
        assert_eq!(
            decode_payload(&payload),
            Some((AppMessageId(77), NodeId(5)))
        );
        assert_eq!(encode_payload(AppMessageId(1), NodeId(2), 3).len(), 12);
        assert_eq!(decode_payload(&[1, 2, 3]), None);
    }

    #[test]
    fn frames_decode_plain_attempts_and_mvds() {
        let original = encode_payload(AppMessageId(9), NodeId(4), 40);
        assert_eq!(
            decode_frame(&original),
            Some(Frame::Plain {
                id: AppMessageId(9),
                sender: NodeId(4),
                attempt: 1
            })
        );
        let again = encode_payload_attempt(AppMessageId(9), NodeId(4), 40, 3);
        assert_eq!(decode_payload(&again), Some((AppMessageId(9), NodeId(4))));
        assert!(matches!(
            decode_frame(&again),
            Some(Frame::Plain { attempt: 3, .. })
        ));
        let bare = encode_payload_attempt(AppMessageId(9), NodeId(4), 12, 3);
        assert!(matches!(
            decode_frame(&bare),
            Some(Frame::Plain { attempt: 1, .. })
        ));
        let payload = Payload {
            acks: vec![crate::mvds::MvdsId([1; 32])],
            messages: Vec::new(),
        };
        let frame = encode_mvds_frame(NodeId(1), NodeId(2), &payload);
        assert_eq!(
            decode_payload(&frame),
            None,
            "a frame is not a plain payload"
        );
        assert_eq!(
            decode_frame(&frame),
            Some(Frame::Mvds {
                sender: NodeId(1),
                recipient: NodeId(2),
                payload
            })
        );
        assert_eq!(decode_frame(&frame[..10]), None);
    }
}
