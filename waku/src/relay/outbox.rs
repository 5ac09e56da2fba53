//! The per-call outbox: everything one call into the relay wants sent, coalesced into one RPC
//! per peer (as go-libp2p-pubsub piggybacks control on its heartbeat RPCs), in the order peers
//! were first addressed, and split into several RPCs where one would exceed the RPC size
//! limit (as nim-libp2p does).
//!
//! A receiver processes an RPC as subscriptions, then messages, then control, which is also
//! the order in which every sender in this crate means them, so coalescing changes nothing but
//! the number of frames. Bound: lives for one call; one entry per addressed peer.

use std::collections::BTreeMap;

use prost::Message as _;

use crate::codec::varint_len;
use crate::message::MessageId;
use crate::proto::{
    ControlGraft, ControlIDontWant, ControlIHave, ControlIWant, ControlMessage, ControlPrune,
    GossipsubMessage, GossipsubRpc, SubOpts,
};

use super::{PeerId, RelayOutput};

/// RPCs being assembled during one call.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    rpcs: Vec<(PeerId, GossipsubRpc)>,
    index: BTreeMap<PeerId, usize>,
}

impl Outbox {
    fn rpc(&mut self, peer: PeerId) -> &mut GossipsubRpc {
        let i = *self.index.entry(peer).or_insert_with(|| {
            self.rpcs.push((peer, GossipsubRpc::default()));
            self.rpcs.len() - 1
        });
        &mut self.rpcs[i].1
    }

    fn control(&mut self, peer: PeerId) -> &mut ControlMessage {
        self.rpc(peer).control.get_or_insert_with(Default::default)
    }

    /// Announces that we (un)subscribe `topic`.
    pub(crate) fn subscription(&mut self, peer: PeerId, topic: &str, subscribe: bool) {
        self.rpc(peer).subscriptions.push(SubOpts {
            subscribe: Some(subscribe),
            topicid: Some(topic.to_string()),
        });
    }

    /// Sends (forwards, publishes, or answers an IWANT with) `message`.
    pub(crate) fn message(&mut self, peer: PeerId, message: GossipsubMessage) {
        self.rpc(peer).publish.push(message);
    }

    /// GRAFT for `topic`.
    pub(crate) fn graft(&mut self, peer: PeerId, topic: &str) {
        self.control(peer).graft.push(ControlGraft {
            topic_id: Some(topic.to_string()),
        });
    }

    /// PRUNE for `topic` asking the peer to back off `backoff_s` seconds (no peer exchange).
    pub(crate) fn prune(&mut self, peer: PeerId, topic: &str, backoff_s: u64) {
        self.control(peer).prune.push(ControlPrune {
            topic_id: Some(topic.to_string()),
            peers: Vec::new(),
            backoff: Some(backoff_s),
        });
    }

    /// IHAVE advertising `ids` on `topic`.
    pub(crate) fn ihave(&mut self, peer: PeerId, topic: &str, ids: &[MessageId]) {
        self.control(peer).ihave.push(ControlIHave {
            topic_id: Some(topic.to_string()),
            message_ids: ids.iter().map(MessageId::to_bytes).collect(),
        });
    }

    /// IWANT requesting `ids`.
    pub(crate) fn iwant(&mut self, peer: PeerId, ids: &[MessageId]) {
        self.control(peer).iwant.push(ControlIWant {
            message_ids: ids.iter().map(MessageId::to_bytes).collect(),
        });
    }

    /// IDONTWANT for `id`.
    pub(crate) fn idontwant(&mut self, peer: PeerId, id: &MessageId) {
        self.control(peer).idontwant.push(ControlIDontWant {
            message_ids: vec![id.to_bytes()],
        });
    }

    /// Emits the RPCs as [`RelayOutput::Send`], splitting any RPC larger than `max_rpc_bytes`
    /// (subscriptions and control stay in the first part; messages fill parts in order; a
    /// single message larger than the limit travels alone).
    pub(crate) fn flush(self, max_rpc_bytes: usize, out: &mut Vec<RelayOutput>) {
        for (to, rpc) in self.rpcs {
            if rpc.encoded_len() <= max_rpc_bytes {
                out.push(RelayOutput::Send { to, rpc });
                continue;
            }
            let mut part = GossipsubRpc {
                subscriptions: rpc.subscriptions,
                publish: Vec::new(),
                control: rpc.control,
            };
            let mut part_len = part.encoded_len();
            for message in rpc.publish {
                let len = message.encoded_len();
                let field_len = 1 + varint_len(len as u64) + len;
                if part_len > 0 && part_len + field_len > max_rpc_bytes {
                    out.push(RelayOutput::Send {
                        to,
                        rpc: std::mem::take(&mut part),
                    });
                    part_len = 0;
                }
                part.publish.push(message);
                part_len += field_len;
            }
            if part_len > 0 {
                out.push(RelayOutput::Send { to, rpc: part });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: usize) -> GossipsubMessage {
        GossipsubMessage {
            data: Some(vec![7; n].into()),
            topic: Some("t".into()),
            ..Default::default()
        }
    }

    #[test]
    fn coalesces_per_peer_in_first_addressed_order() {
        let mut ob = Outbox::default();
        ob.graft(PeerId(5), "t");
        ob.subscription(PeerId(2), "t", true);
        ob.prune(PeerId(5), "u", 60);
        let mut out = Vec::new();
        ob.flush(1 << 20, &mut out);
        let peers: Vec<PeerId> = out
            .iter()
            .map(|o| match o {
                RelayOutput::Send { to, .. } => *to,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(peers, vec![PeerId(5), PeerId(2)]);
        let RelayOutput::Send { rpc, .. } = &out[0] else {
            unreachable!()
        };
        let control = rpc.control.as_ref().unwrap();
        assert_eq!((control.graft.len(), control.prune.len()), (1, 1));
    }

    #[test]
    fn splits_rpcs_above_the_limit() {
        let mut ob = Outbox::default();
        ob.graft(PeerId(1), "t");
        for _ in 0..3 {
            ob.message(PeerId(1), big(600));
        }
        let mut out = Vec::new();
        ob.flush(1000, &mut out);
        assert_eq!(out.len(), 3);
        for o in &out {
            let RelayOutput::Send { rpc, .. } = o else {
                unreachable!()
            };
            assert!(rpc.encoded_len() <= 1000);
        }
        let RelayOutput::Send { rpc, .. } = &out[0] else {
            unreachable!()
        };
        assert!(rpc.control.is_some() && rpc.publish.len() == 1);
    }
}
