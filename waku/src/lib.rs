//! waku: Waku protocols as sans-IO state machines and wire codecs.
//!
//! So far: the protobuf wire types ([`proto`], generated from `waku/proto/` by
//! `cargo xtask codegen`), length-prefixed framing with size limits and exact encoded sizes
//! ([`codec`]), message helpers with the deterministic message hash and the relay message id
//! ([`message`]), static sharding and autosharding ([`sharding`]) and the libp2p protocol IDs
//! ([`protocol_ids`]).

pub mod codec;
pub mod filter;
pub mod lightpush;
pub mod message;
pub mod node;
pub mod peer_manager;
pub mod proto;
pub mod protocol_ids;
pub mod relay;
pub mod sharding;
mod sorted;
pub mod store;
pub mod wire;

pub use codec::{DecodeError, Frame};
pub use message::{MessageHash, MessageId, message_hash, relay_message_id};
pub use proto::{Bytes, WakuMessage};
pub use protocol_ids::Protocol;
pub use sharding::RelayShard;
