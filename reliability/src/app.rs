//! [`TrafficApp`]: the application on every simulated node. It sends the messages the scenario
//! schedules, receives the conversations it is a member of, and reports to the ground-truth
//! oracle what it created, what it received and what it believed about its own messages.
//!
//! Wire format of an application message: the payload starts with the application message id
//! (8 bytes, big endian) and the sender's node id (4 bytes), padded with zeros to the
//! scheduled size; the content topic names the conversation. Receivers recognise their
//! conversations by content topic, so relay nodes that only forward traffic record nothing.
//!
//! Variant `none` (plain Waku): relay nodes publish on relay and believe a message sent when
//! relay accepted it; light clients push through one lightpush service node and believe what
//! it answers, and receive through one filter subscription, moving to the next filter service
//! node when the subscription is lost.

use std::collections::BTreeMap;
use std::rc::Rc;

use sim_core::{AppMessageId, AppObservation, Audit, AuditHasher, BelievedStatus, NodeId, SimTime};
use waku::filter::FilterClientOutput;
use waku::lightpush::LightPushClientOutput;
use waku::node::{App, WakuApi, WakuEvent, waku_timestamp};
use waku::proto::WakuMessage;

use crate::variant::Variant;

/// Bytes of the application header at the start of every payload.
pub const HEADER_BYTES: u32 = 12;
/// Content topics per filter subscription request (the filter protocol's limit).
const MAX_TOPICS_PER_SUBSCRIBE: usize = 100;
/// Lightpush requests awaiting an answer; older ones are forgotten beyond this.
const MAX_PENDING_PUSHES: usize = 10_000;

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
        }
    }

    fn conversation(&self, id: u32) -> Option<&Rc<Conversation>> {
        self.config.conversations.iter().find(|c| c.id == id)
    }

    /// Subscribes, at the filter service node in use, to every conversation's content topic.
    fn subscribe(&mut self, api: &mut WakuApi<'_, '_>) {
        let Some(peer) = self.config.filter_peers.get(self.filter_index).copied() else {
            return;
        };
        let mut by_pubsub: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for c in &self.config.conversations {
            by_pubsub
                .entry(c.pubsub_topic.as_str())
                .or_default()
                .push(c.content_topic.clone());
        }
        for (pubsub_topic, topics) in by_pubsub {
            for chunk in topics.chunks(MAX_TOPICS_PER_SUBSCRIBE) {
                // Errors are local limits (too many pending requests); nothing to retry here.
                let _ = api.filter_subscribe(peer, pubsub_topic, chunk);
            }
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

/// The (message id, sender) in a payload, if it carries the header.
pub fn decode_payload(payload: &[u8]) -> Option<(AppMessageId, NodeId)> {
    let id = u64::from_be_bytes(payload.get(..8)?.try_into().ok()?);
    let sender = u32::from_be_bytes(payload.get(8..12)?.try_into().ok()?);
    Some((AppMessageId(id), NodeId(sender)))
}

impl App for TrafficApp {
    type Command = Send;

    fn start(&mut self, api: &mut WakuApi<'_, '_>) {
        if !api.has_relay() {
            self.subscribe(api);
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
            _ => {}
        }
    }

    fn timer(&mut self, _tag: u64, _api: &mut WakuApi<'_, '_>) {}

    fn crash(&mut self) {
        self.filter_index = 0;
        self.pending_pushes.clear();
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
}
