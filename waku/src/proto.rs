//! The protobuf wire types of every Waku protocol the simulator speaks, one module per protobuf
//! package (the module path mirrors the package, which is what prost's cross-package references
//! expect).
//!
//! The types themselves are generated from `waku/proto/**/*.proto` by `cargo xtask codegen`
//! into `src/generated/` and checked in (no `protoc` needed to build); this file only includes
//! them and re-exports the commonly used ones at the top. Edit the `.proto` files, never the
//! generated code; `cargo test -p xtask` fails if the two disagree.
//!
//! Every `bytes` field is a [`Bytes`], so cloning a message (one clone per forwarded copy in
//! the simulator) does not copy payloads.

pub use prost::bytes::Bytes;

/// The `waku.*` protobuf packages.
#[allow(missing_docs, clippy::all, clippy::pedantic, rustdoc::all)]
pub mod waku {
    /// `waku.message.v1`: 14/WAKU2-MESSAGE.
    pub mod message {
        /// Version 1 of the message envelope.
        pub mod v1 {
            include!("generated/waku.message.v1.rs");
        }
    }
    /// `waku.store.v3`: store query protocol.
    pub mod store {
        /// `/vac/waku/store-query/3.0.0`.
        pub mod v3 {
            include!("generated/waku.store.v3.rs");
        }
    }
    /// `waku.filter.v2`: filter subscribe and push.
    pub mod filter {
        /// `/vac/waku/filter-subscribe/2.0.0-beta1` and `/vac/waku/filter-push/2.0.0-beta1`.
        pub mod v2 {
            include!("generated/waku.filter.v2.rs");
        }
    }
    /// `waku.lightpush.*`: lightpush v3 and legacy v2.
    pub mod lightpush {
        /// `/vac/waku/lightpush/3.0.0`.
        pub mod v3 {
            include!("generated/waku.lightpush.v3.rs");
        }
        /// `/vac/waku/lightpush/2.0.0-beta1` (legacy).
        pub mod v2beta1 {
            include!("generated/waku.lightpush.v2beta1.rs");
        }
    }
    /// `waku.peer_exchange.v2alpha1`: 34/WAKU2-PEER-EXCHANGE.
    pub mod peer_exchange {
        /// `/vac/waku/peer-exchange/2.0.0-alpha1`.
        pub mod v2alpha1 {
            include!("generated/waku.peer_exchange.v2alpha1.rs");
        }
    }
    /// `waku.metadata.v1`: 66/WAKU2-METADATA.
    pub mod metadata {
        /// `/vac/waku/metadata/1.0.0`.
        pub mod v1 {
            include!("generated/waku.metadata.v1.rs");
        }
    }
}

/// `sds`: Scalable Data Sync (end-to-end reliability for channels) with the spec's field
/// numbers (js-waku); `sds.nim`: the same message as nim-sds numbers it.
#[allow(missing_docs, clippy::all, clippy::pedantic, rustdoc::all)]
pub mod sds {
    include!("generated/sds.rs");
    /// nim-sds field numbering and its nested bloom-filter message.
    pub mod nim {
        include!("generated/sds.nim.rs");
    }
}

/// `gossipsub.pb`: the libp2p pubsub RPC that Waku relay sends.
#[allow(missing_docs, clippy::all, clippy::pedantic, rustdoc::all)]
pub mod gossipsub {
    /// RPC, control messages (IHAVE/IWANT/GRAFT/PRUNE/IDONTWANT) and peer-exchange records.
    pub mod pb {
        include!("generated/gossipsub.pb.rs");
    }
}

pub use self::gossipsub::pb::{
    ControlGraft, ControlIDontWant, ControlIHave, ControlIWant, ControlMessage, ControlPrune,
    Message as GossipsubMessage, PeerInfo as GossipsubPeerInfo, Rpc as GossipsubRpc, rpc::SubOpts,
};
pub use self::waku::filter::v2::{
    FilterSubscribeRequest, FilterSubscribeResponse, MessagePush,
    filter_subscribe_request::FilterSubscribeType,
};
pub use self::waku::lightpush::v2beta1::{PushRequest, PushResponse, PushRpc};
pub use self::waku::lightpush::v3::{LightPushRequest, LightPushResponse};
pub use self::waku::message::v1::WakuMessage;
pub use self::waku::metadata::v1::{WakuMetadataRequest, WakuMetadataResponse};
pub use self::waku::peer_exchange::v2alpha1::{
    PeerExchangeQuery, PeerExchangeResponse, PeerExchangeRpc, PeerInfo as PeerExchangePeerInfo,
};
pub use self::waku::store::v3::{StoreQueryRequest, StoreQueryResponse, WakuMessageKeyValue};
