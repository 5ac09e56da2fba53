//! 11/WAKU2-RELAY: gossipsub v1.1 (with the v1.2 IDONTWANT option) as a sans-IO state machine.
//!
//! [`Relay`] owns one node's pubsub state: the peers and the topics they subscribe to, the mesh
//! per subscribed pubsub topic, fanout for topics we publish to without subscribing, backoffs,
//! the message cache, the seen cache, gossip promises and peer scores. It never sees a
//! connection, a clock or a global RNG: the caller passes `now`, the input and a
//! `&mut SimRng`, and drains what the relay wants done from `out` ([`RelayOutput`]).
//!
//! Wire mapping (`reference/waku-protocols.md` §3.2): `Message.data` is the protobuf-encoded
//! [`WakuMessage`], `Message.topic` the pubsub topic, the message id is
//! [`relay_message_id`](crate::message::relay_message_id) (SHA-256 of `data`), and messages are
//! unsigned (StrictNoSign: `from`, `seqno`, `signature`, `key` absent).
//!
//! How to drive it (the node owns connections and timers):
//!
//! | when | call |
//! |---|---|
//! | a relay connection opens / closes | [`Relay::add_peer`] / [`Relay::remove_peer`] |
//! | a gossipsub RPC arrives | [`Relay::handle_rpc`] |
//! | the application (un)subscribes or publishes | [`Relay::subscribe`], [`Relay::unsubscribe`], [`Relay::publish`] |
//! | at [`Relay::poll_timeout`] (every `heartbeat_interval`) | [`Relay::heartbeat`] |
//!
//! Implemented: mesh maintenance (D, D_low, D_high, D_score, D_out), GRAFT/PRUNE with backoff
//! and the GRAFT-during-backoff penalty, IHAVE/IWANT from the message-cache windows with
//! per-heartbeat budgets, IWANT retransmission limits and (go) follow-up promises, seen cache,
//! flood publishing, fanout with TTL, opportunistic grafting, scoring terms P1–P4 and P7 with
//! decay and retention, graylisting, IDONTWANT, nim's backoff on disconnect, and the other
//! nim/go differences listed at [`GossipsubImpl`]. Not implemented (all off in Waku): peer
//! exchange in PRUNE, direct peers, P5/P6, floodsub peers, application validators (RLN).
//!
//! Files: [`config`] (parameters and presets), `behaviour` (the machine and its public API),
//! `receive` (message reception), `control` (GRAFT/PRUNE/IHAVE/IWANT/IDONTWANT),
//! `heartbeat` (mesh and fanout maintenance, gossip emission), `mcache`, `seen`, `backoff`,
//! `score`, `promises`, `outbox`, `windows` (IDONTWANT ids per peer and heartbeat),
//! `advertised` (nim: IHAVE ids per peer and heartbeat).

mod advertised;
mod backoff;
mod behaviour;
pub mod config;
mod control;
mod heartbeat;
mod mcache;
mod outbox;
mod promises;
mod receive;
mod score;
mod seen;
#[cfg(test)]
mod tests;
mod windows;

pub use behaviour::{Relay, RelayStateSizes};
pub use config::{
    GossipsubImpl, PeerScoreConfig, PeerScoreParams, RelayConfig, RelayConfigError,
    ScoreThresholds, TopicScoreParams,
};

use std::rc::Rc;

use prost::Message as _;

use crate::message::{MessageError, MessageId};
use crate::proto::{GossipsubRpc, WakuMessage};

/// A relay peer: the node id of the other end of a relay connection (`waku::PeerId`).
pub use sim_core::NodeId as PeerId;

/// What the relay wants done, appended to the caller's `out` vector.
#[derive(Clone, Debug, PartialEq)]
pub enum RelayOutput {
    /// Send `rpc` to `to` on the relay stream (charge `codec::frame_len(&rpc)` bytes).
    Send {
        /// Receiving peer.
        to: PeerId,
        /// The RPC (subscriptions, messages and control, coalesced per call); peers that are
        /// sent identical RPCs in one call share one.
        rpc: Rc<SentRpc>,
    },
    /// A new valid message on a subscribed topic, for the application.
    Deliver {
        /// The pubsub topic it was published on.
        pubsub_topic: String,
        /// The decoded message (boxed: outputs are moved around a lot, and this is the only
        /// large one).
        message: Box<WakuMessage>,
        /// Its relay message id.
        id: MessageId,
        /// The peer it first arrived from; `None` for our own publish (nwaku `triggerSelf`).
        from: Option<PeerId>,
    },
    /// `peer` joined our mesh for `topic` (observability).
    Grafted {
        /// The pubsub topic.
        topic: String,
        /// The mesh peer.
        peer: PeerId,
    },
    /// `peer` left our mesh for `topic` (observability).
    Pruned {
        /// The pubsub topic.
        topic: String,
        /// The former mesh peer.
        peer: PeerId,
    },
    /// `peer`'s score fell below the graylist threshold and `disconnect_bad_peers` is on: the
    /// node should close the connection (then call [`Relay::remove_peer`]). Repeated at every
    /// score refresh while the peer stays connected.
    Disconnect {
        /// The peer to disconnect.
        peer: PeerId,
    },
}

/// A gossipsub RPC as the relay sends it: shared (`Rc`) by every peer it goes to, with its
/// encoded length (what the wire is charged) computed once. Dereferences to the RPC.
///
/// A relay that sends a message has computed its message id (SHA-256 of `data`, which every
/// receiver computes again); the RPC carries those ids beside the messages, off the wire and
/// uncharged, so a message is hashed once in the whole network instead of once per node. The
/// receiver uses them exactly where it would compute the id; what it gets is the same
/// value (the data is shared, never re-encoded), checked by the relay's tests.
#[derive(Clone, Debug, PartialEq)]
pub struct SentRpc {
    rpc: GossipsubRpc,
    encoded_len: usize,
    /// The id of each message in `rpc.publish`, in order; empty when unknown (an RPC not
    /// built by a relay).
    message_ids: Vec<MessageId>,
}

impl SentRpc {
    /// `rpc`, with its length computed (its message ids unknown).
    pub fn new(rpc: GossipsubRpc) -> Self {
        let encoded_len = rpc.encoded_len();
        Self {
            rpc,
            encoded_len,
            message_ids: Vec::new(),
        }
    }

    /// `rpc` whose messages have the ids `message_ids`, and whose encoded length the caller
    /// computed as `encoded_len`.
    fn with_ids(rpc: GossipsubRpc, encoded_len: usize, message_ids: Vec<MessageId>) -> Self {
        debug_assert_eq!(encoded_len, rpc.encoded_len());
        debug_assert_eq!(message_ids.len(), rpc.publish.len());
        Self {
            rpc,
            encoded_len,
            message_ids,
        }
    }

    /// The protobuf-encoded length of the RPC (without the length prefix).
    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }

    /// The relay message ids of the RPC's messages as its sender computed them (empty when
    /// the RPC was not built by a relay).
    pub fn message_ids(&self) -> &[MessageId] {
        &self.message_ids
    }

    /// The RPC itself.
    pub fn into_inner(self) -> GossipsubRpc {
        self.rpc
    }
}

impl std::ops::Deref for SentRpc {
    type Target = GossipsubRpc;

    fn deref(&self) -> &GossipsubRpc {
        &self.rpc
    }
}

/// Why [`Relay::publish`] refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The message breaks a publish rule (empty payload or content topic, meta or size limit).
    #[error("invalid message: {0}")]
    InvalidMessage(#[from] MessageError),
    /// The same encoded message was published or received within the seen TTL (nwaku
    /// `DuplicateMessage`).
    #[error("message {0} was already seen")]
    Duplicate(MessageId),
    /// Fewer peers to send to than `min_peers_to_publish` (nwaku `NoPeersToPublish`).
    #[error("{peers} peers to publish to on {pubsub_topic}, at least {required} required")]
    NoPeers {
        /// The topic published on.
        pubsub_topic: String,
        /// Peers the message would have reached.
        peers: usize,
        /// `min_peers_to_publish`.
        required: usize,
    },
}
