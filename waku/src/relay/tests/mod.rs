//! Behaviour tests of the relay, driven by hand without a network (rust-libp2p gossipsub
//! behaviour-test style): a [`Builder`] makes a [`Relay`] with N connected peers subscribed
//! to a topic, and the tests feed it RPCs and heartbeats and inspect what it sends.
//! `network.rs` wires 20 relays together with a zero-latency router.

mod gossip;
mod mesh;
mod network;
mod publish;

use std::rc::Rc;

use sim_core::{SimDuration, SimRng, SimTime};

use crate::message::MessageId;
use crate::proto::{
    ControlGraft, ControlIDontWant, ControlIHave, ControlIWant, ControlMessage, ControlPrune,
    GossipsubMessage, GossipsubRpc, SubOpts, WakuMessage,
};

use super::{PeerId, Relay, RelayConfig, RelayOutput, SentRpc};

/// The pubsub topic used throughout.
pub(super) const TOPIC: &str = "/waku/2/rs/1/0";

/// Builds a relay with connected peers.
pub(super) struct Builder {
    config: RelayConfig,
    peers: u32,
    outbound: Vec<u32>,
    subscribe: bool,
    seed: u64,
}

pub(super) fn builder(config: RelayConfig) -> Builder {
    Builder {
        config,
        peers: 0,
        outbound: Vec::new(),
        subscribe: true,
        seed: 1,
    }
}

impl Builder {
    /// Peers `PeerId(1..=n)`.
    pub(super) fn peers(mut self, n: u32) -> Self {
        self.peers = n;
        self
    }
    /// Which of the peers we dialled.
    pub(super) fn outbound(mut self, ids: impl IntoIterator<Item = u32>) -> Self {
        self.outbound = ids.into_iter().collect();
        self
    }
    /// Whether the relay subscribes to the topic before the peers connect (default yes).
    pub(super) fn subscribe(mut self, yes: bool) -> Self {
        self.subscribe = yes;
        self
    }
    pub(super) fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub(super) fn build(self) -> Harness {
        let mut h = Harness {
            relay: Relay::new(self.config).expect("valid config"),
            now: SimTime::ZERO + SimDuration::from_secs(1000),
            rng: SimRng::from_seed(self.seed),
            out: Vec::new(),
        };
        if self.subscribe {
            h.relay.subscribe(h.now, TOPIC, &mut h.rng, &mut h.out);
        }
        for i in 1..=self.peers {
            let peer = PeerId(i);
            h.relay
                .add_peer(h.now, peer, self.outbound.contains(&i), &mut h.out);
            h.rpc(peer, subscribe_rpc(TOPIC));
        }
        h.out.clear();
        h
    }
}

/// A relay under test with its clock, randomness and output.
pub(super) struct Harness {
    pub(super) relay: Relay,
    pub(super) now: SimTime,
    pub(super) rng: SimRng,
    pub(super) out: Vec<RelayOutput>,
}

impl Harness {
    pub(super) fn advance(&mut self, d: SimDuration) {
        self.now += d;
    }

    pub(super) fn rpc(&mut self, from: PeerId, rpc: GossipsubRpc) {
        self.relay.handle_rpc(
            self.now,
            from,
            &SentRpc::new(rpc),
            &mut self.rng,
            &mut self.out,
        );
    }

    pub(super) fn heartbeat(&mut self) {
        self.relay.heartbeat(self.now, &mut self.rng, &mut self.out);
    }

    /// Advances one heartbeat interval and runs the heartbeat.
    pub(super) fn tick(&mut self) {
        self.advance(self.relay.config().heartbeat_interval);
        self.heartbeat();
    }

    /// Takes the output so far.
    pub(super) fn take(&mut self) -> Vec<RelayOutput> {
        std::mem::take(&mut self.out)
    }

    /// Takes the output so far and keeps the sends.
    pub(super) fn sends(&mut self) -> Vec<(PeerId, GossipsubRpc)> {
        self.take()
            .into_iter()
            .filter_map(|o| match o {
                RelayOutput::Send { to, rpc } => Some((to, Rc::unwrap_or_clone(rpc).into_inner())),
                _ => None,
            })
            .collect()
    }

    pub(super) fn mesh(&self) -> Vec<PeerId> {
        self.relay.mesh_peers(TOPIC).collect()
    }

    /// Puts `peers` into the mesh directly (no GRAFT exchanged).
    pub(super) fn force_mesh(&mut self, peers: impl IntoIterator<Item = u32>) {
        let mut sink = Vec::new();
        for p in peers {
            self.relay
                .add_to_mesh(TOPIC, PeerId(p), self.now, &mut sink);
        }
    }

    /// Empties the mesh directly (no PRUNE exchanged, no backoff).
    pub(super) fn clear_mesh(&mut self) {
        let mut sink = Vec::new();
        for p in self.mesh() {
            self.relay.remove_from_mesh(TOPIC, p, &mut sink);
        }
    }

    /// Messages delivered to the application in the output so far (output kept).
    pub(super) fn delivered(&self) -> Vec<MessageId> {
        self.out
            .iter()
            .filter_map(|o| match o {
                RelayOutput::Deliver { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }
}

pub(super) fn subscribe_rpc(topic: &str) -> GossipsubRpc {
    GossipsubRpc {
        subscriptions: vec![SubOpts {
            subscribe: Some(true),
            topicid: Some(topic.to_string()),
        }],
        ..Default::default()
    }
}

pub(super) fn control_rpc(control: ControlMessage) -> GossipsubRpc {
    GossipsubRpc {
        control: Some(control),
        ..Default::default()
    }
}

pub(super) fn graft_rpc(topic: &str) -> GossipsubRpc {
    control_rpc(ControlMessage {
        graft: vec![ControlGraft {
            topic_id: Some(topic.to_string()),
        }],
        ..Default::default()
    })
}

pub(super) fn prune_rpc(topic: &str, backoff_s: u64) -> GossipsubRpc {
    control_rpc(ControlMessage {
        prune: vec![ControlPrune {
            topic_id: Some(topic.to_string()),
            peers: Vec::new(),
            backoff: Some(backoff_s),
        }],
        ..Default::default()
    })
}

pub(super) fn ihave_rpc(topic: &str, ids: &[MessageId]) -> GossipsubRpc {
    control_rpc(ControlMessage {
        ihave: vec![ControlIHave {
            topic_id: Some(topic.to_string()),
            message_ids: ids.iter().map(MessageId::to_bytes).collect(),
        }],
        ..Default::default()
    })
}

pub(super) fn iwant_rpc(ids: &[MessageId]) -> GossipsubRpc {
    control_rpc(ControlMessage {
        iwant: vec![ControlIWant {
            message_ids: ids.iter().map(MessageId::to_bytes).collect(),
        }],
        ..Default::default()
    })
}

pub(super) fn idontwant_rpc(ids: &[MessageId]) -> GossipsubRpc {
    control_rpc(ControlMessage {
        idontwant: vec![ControlIDontWant {
            message_ids: ids.iter().map(MessageId::to_bytes).collect(),
        }],
        ..Default::default()
    })
}

/// A Waku message with an `n`-byte payload tagged `tag`.
pub(super) fn waku_message(tag: u32, payload_bytes: usize) -> WakuMessage {
    let mut payload = tag.to_be_bytes().to_vec();
    payload.resize(payload_bytes.max(4), 0xab);
    WakuMessage::new(payload, "/test/1/chat/proto")
}

/// The gossipsub message carrying `msg` on `topic`, and its id.
pub(super) fn gossip_message(topic: &str, msg: &WakuMessage) -> (GossipsubMessage, MessageId) {
    use prost::Message as _;
    let data = msg.encode_to_vec();
    let id = crate::message::relay_message_id(&data);
    let m = GossipsubMessage {
        data: Some(data.into()),
        topic: Some(topic.to_string()),
        ..Default::default()
    };
    (m, id)
}

pub(super) fn message_rpc(message: GossipsubMessage) -> GossipsubRpc {
    GossipsubRpc {
        publish: vec![message],
        ..Default::default()
    }
}

/// Peers that were sent a GRAFT / PRUNE (with backoff) / IHAVE (with ids) / IWANT / IDONTWANT
/// / message in `sends`.
pub(super) fn grafted_to(sends: &[(PeerId, GossipsubRpc)]) -> Vec<PeerId> {
    control_to(sends, |c| !c.graft.is_empty())
}

pub(super) fn pruned_to(sends: &[(PeerId, GossipsubRpc)]) -> Vec<(PeerId, u64)> {
    sends
        .iter()
        .flat_map(|(p, rpc)| {
            rpc.control
                .iter()
                .flat_map(|c| &c.prune)
                .map(move |pr| (*p, pr.backoff()))
        })
        .collect()
}

pub(super) fn ihaves_to(sends: &[(PeerId, GossipsubRpc)]) -> Vec<(PeerId, Vec<MessageId>)> {
    sends
        .iter()
        .flat_map(|(p, rpc)| {
            rpc.control.iter().flat_map(|c| &c.ihave).map(move |ih| {
                let ids = ih
                    .message_ids
                    .iter()
                    .filter_map(|b| MessageId::from_slice(b))
                    .collect();
                (*p, ids)
            })
        })
        .collect()
}

pub(super) fn idontwants_to(sends: &[(PeerId, GossipsubRpc)]) -> Vec<PeerId> {
    control_to(sends, |c| !c.idontwant.is_empty())
}

pub(super) fn iwants_to(sends: &[(PeerId, GossipsubRpc)]) -> Vec<(PeerId, Vec<MessageId>)> {
    sends
        .iter()
        .flat_map(|(p, rpc)| {
            rpc.control.iter().flat_map(|c| &c.iwant).map(move |iw| {
                let ids = iw
                    .message_ids
                    .iter()
                    .filter_map(|b| MessageId::from_slice(b))
                    .collect();
                (*p, ids)
            })
        })
        .collect()
}

pub(super) fn messages_to(sends: &[(PeerId, GossipsubRpc)]) -> Vec<PeerId> {
    sends
        .iter()
        .filter(|(_, rpc)| !rpc.publish.is_empty())
        .map(|(p, _)| *p)
        .collect()
}

fn control_to(
    sends: &[(PeerId, GossipsubRpc)],
    has: impl Fn(&ControlMessage) -> bool,
) -> Vec<PeerId> {
    sends
        .iter()
        .filter(|(_, rpc)| rpc.control.as_ref().is_some_and(&has))
        .map(|(p, _)| *p)
        .collect()
}
