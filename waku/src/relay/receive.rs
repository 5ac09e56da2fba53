//! Message reception of [`Relay`]: dedupe (seen cache, with duplicate delivery scoring),
//! validation (signature policy, size, decoding), IDONTWANT to the mesh, forwarding to the
//! mesh peers that did not say they have it, and delivery to the application.

use prost::Message as _;
use sim_core::{SimRng, SimTime};

use crate::message::{MessageId, relay_message_id};
use crate::proto::{Bytes, GossipsubMessage, WakuMessage};

use super::behaviour::Relay;
use super::config::GossipsubImpl;
use super::outbox::Outbox;
use super::seen::DeliveryStatus;
use super::{PeerId, RelayOutput};

impl Relay {
    /// Dedupe, validate, forward and deliver one message from `from`, whose relay message id
    /// its sender computed as `known_id` (when it did; see [`SentRpc`](super::SentRpc)).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_message(
        &mut self,
        now: SimTime,
        from: PeerId,
        message: &GossipsubMessage,
        known_id: Option<&MessageId>,
        rng: &mut SimRng,
        ob: &mut Outbox,
        out: &mut Vec<RelayOutput>,
    ) {
        let Some(topic) = message.topic.as_deref() else {
            return;
        };
        let empty = Bytes::new();
        let data = message.data.as_ref().unwrap_or(&empty);
        let id = known_id.copied().unwrap_or_else(|| relay_message_id(data));
        if let Some(entry) = self.seen.get_mut(now, &id) {
            if self.config.score.is_none() || entry.delivered_by.contains(&from) {
                return;
            }
            entry.delivered_by.push(from);
            let (status, validated_at) = (entry.status, entry.validated_at);
            match status {
                DeliveryStatus::Valid => {
                    self.score
                        .duplicate_delivery(from, topic, validated_at, now);
                }
                DeliveryStatus::Invalid => self.score.invalid_delivery(from, topic),
                DeliveryStatus::Ignored => {}
            }
            return;
        }
        let Some(mesh) = self.mesh.get(topic) else {
            // Not subscribed: neither processed nor remembered (go and nim).
            return;
        };
        if self.breaks_signature_policy(message) {
            self.score.invalid_delivery(from, topic);
            return;
        }
        let scored_from = self.config.score.as_ref().map(|_| from);
        if data.len() > self.config.max_message_bytes {
            // Larger than any frame a real node would have read: dropped without penalty.
            self.seen
                .insert(now, id, DeliveryStatus::Ignored, scored_from);
            return;
        }
        let id_bytes = id.to_bytes();
        if self.config.send_idontwant && data.len() >= self.config.idontwant_min_bytes {
            let item = ob.add_idontwant(id_bytes.clone());
            for &peer in mesh {
                if peer != from {
                    ob.push(peer, item);
                }
            }
        }
        self.promises.fulfill(&id);
        let decoded = WakuMessage::decode(data.clone())
            .ok()
            .filter(|m| !m.payload.is_empty() && !m.content_topic.is_empty());
        let Some(waku_message) = decoded else {
            self.seen
                .insert(now, id, DeliveryStatus::Invalid, scored_from);
            self.score.invalid_delivery(from, topic);
            return;
        };
        self.seen
            .insert(now, id, DeliveryStatus::Valid, scored_from);
        self.score.first_delivery(from, topic);
        let dont_want = self.dont_want.pairs(&id);
        let tick = self.heartbeat_ticks;
        let mut targets = std::mem::take(&mut self.scratch_peers);
        targets.extend(
            (self.mesh[topic].iter())
                .copied()
                .filter(|&p| p != from && !self.dont_want.live(dont_want, p, tick)),
        );
        rng.shuffle(&mut targets);
        if !targets.is_empty() {
            let item = ob.add_message(message.clone(), id);
            for &peer in &targets {
                ob.push(peer, item);
            }
        }
        targets.clear();
        self.scratch_peers = targets;
        let pubsub_topic = topic.to_string();
        self.mcache.put(id, id_bytes, message.clone());
        out.push(RelayOutput::Deliver {
            pubsub_topic,
            message: Box::new(waku_message),
            id,
            from: Some(from),
        });
    }

    /// StrictNoSign (go): `from`, `seqno`, `signature` and `key` must be absent. nim accepts
    /// unsigned author information but rejects a signature it cannot verify (no simulated node
    /// signs) and a `seqno` that is not 8 bytes.
    fn breaks_signature_policy(&self, message: &GossipsubMessage) -> bool {
        match self.config.implementation {
            GossipsubImpl::GoLibp2pPubsub => {
                message.signature.is_some()
                    || message.key.is_some()
                    || message.from.is_some()
                    || message.seqno.is_some()
            }
            GossipsubImpl::NimLibp2p => {
                message.signature.as_ref().is_some_and(|s| !s.is_empty())
                    || message
                        .seqno
                        .as_ref()
                        .is_some_and(|s| !s.is_empty() && s.len() != 8)
            }
        }
    }
}
