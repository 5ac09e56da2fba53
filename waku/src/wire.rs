//! [`WakuFrame`]: everything a simulated Waku node sends on a connection, and what it costs.
//!
//! Each variant carries the real protobuf type, so the bytes charged to the network are the
//! real encoded size plus the framing a libp2p connection adds:
//! - every frame: the varint length prefix, a yamux header (12 B) and a noise transport tag and
//!   length (18 B);
//! - request/response protocols open a new stream per exchange: the request also pays the
//!   multistream-select header and protocol id (`V1Lazy`: sent with the request), the response
//!   pays the protocol echo and a yamux FIN header;
//! - relay RPCs travel on a long-lived stream negotiated once (not charged per frame);
//! - keep-alive is libp2p ping: 32 random bytes each way on a ping stream.
//!
//! TCP/IP headers are not counted (about 40 B per 1460 B segment), nor the one-off handshakes.

use std::rc::Rc;

use prost::Message;
use sim_core::{AuditHasher, Payload};

use crate::codec::{frame_len, varint_len};
use crate::proto::{
    FilterSubscribeRequest, FilterSubscribeResponse, GossipsubRpc, LightPushRequest,
    LightPushResponse, MessagePush, PeerExchangeRpc, PushRpc, StoreQueryRequest,
    StoreQueryResponse,
};
use crate::protocol_ids::Protocol;
use crate::relay::SentRpc;

/// Yamux frame header.
pub const YAMUX_HEADER_BYTES: u32 = 12;
/// Noise transport message overhead: 2-byte length and 16-byte authentication tag.
pub const NOISE_OVERHEAD_BYTES: u32 = 18;
/// `/multistream/1.0.0\n` with its varint length.
pub const MULTISTREAM_HEADER_BYTES: u32 = 20;
/// libp2p ping payload, each way.
pub const PING_BYTES: u32 = 32;

/// One frame on a connection between two simulated Waku nodes. Bodies are boxed so a frame
/// (and every network event carrying one) stays small to move.
#[derive(Clone, Debug)]
pub enum WakuFrame {
    /// A gossipsub RPC on the relay stream, shared by every peer it was sent to (it is never
    /// modified after sending).
    Relay(Rc<SentRpc>),
    /// Store v3 query.
    StoreRequest(Box<StoreQueryRequest>),
    /// Store v3 answer.
    StoreResponse(Box<StoreQueryResponse>),
    /// Filter v2 subscribe / ping / unsubscribe request.
    FilterRequest(Box<FilterSubscribeRequest>),
    /// Filter v2 answer.
    FilterResponse(Box<FilterSubscribeResponse>),
    /// Filter v2 push from service to client.
    FilterPush(Box<MessagePush>),
    /// Lightpush v3 request.
    LightPushRequest(Box<LightPushRequest>),
    /// Lightpush v3 answer.
    LightPushResponse(Box<LightPushResponse>),
    /// Lightpush v2 (legacy) request or answer.
    LightPushV2(Box<PushRpc>),
    /// Peer exchange query (`true`) or response (`false`).
    PeerExchange(Box<PeerExchangeRpc>, bool),
    /// libp2p ping with a nonce to match the pong.
    Ping(u64),
    /// The answer to a ping.
    Pong(u64),
}

impl WakuFrame {
    /// The libp2p protocol this frame belongs to.
    pub fn protocol(&self) -> Protocol {
        match self {
            WakuFrame::Relay(_) => Protocol::Relay,
            WakuFrame::StoreRequest(_) | WakuFrame::StoreResponse(_) => Protocol::StoreQuery,
            WakuFrame::FilterRequest(_) | WakuFrame::FilterResponse(_) => Protocol::FilterSubscribe,
            WakuFrame::FilterPush(_) => Protocol::FilterPush,
            WakuFrame::LightPushRequest(_) | WakuFrame::LightPushResponse(_) => {
                Protocol::LightpushV3
            }
            WakuFrame::LightPushV2(_) => Protocol::LightpushV2,
            WakuFrame::PeerExchange(..) => Protocol::PeerExchange,
            WakuFrame::Ping(_) | WakuFrame::Pong(_) => Protocol::Ping,
        }
    }

    /// Body size in bytes (the encoded protobuf).
    fn body_bytes(&self) -> usize {
        match self {
            WakuFrame::Relay(m) => m.encoded_len(),
            WakuFrame::StoreRequest(m) => m.encoded_len(),
            WakuFrame::StoreResponse(m) => m.encoded_len(),
            WakuFrame::FilterRequest(m) => m.encoded_len(),
            WakuFrame::FilterResponse(m) => m.encoded_len(),
            WakuFrame::FilterPush(m) => m.encoded_len(),
            WakuFrame::LightPushRequest(m) => m.encoded_len(),
            WakuFrame::LightPushResponse(m) => m.encoded_len(),
            WakuFrame::LightPushV2(m) => m.encoded_len(),
            WakuFrame::PeerExchange(m, _) => m.encoded_len(),
            WakuFrame::Ping(_) | WakuFrame::Pong(_) => PING_BYTES as usize,
        }
    }

    /// True for the frame that opens a request/response stream.
    fn opens_stream(&self) -> bool {
        matches!(
            self,
            WakuFrame::StoreRequest(_)
                | WakuFrame::FilterRequest(_)
                | WakuFrame::FilterPush(_)
                | WakuFrame::LightPushRequest(_)
                | WakuFrame::PeerExchange(_, true)
                | WakuFrame::Ping(_)
        ) || matches!(self, WakuFrame::LightPushV2(m) if m.request.is_some())
    }
}

impl Payload for WakuFrame {
    const CLASSES: &'static [&'static str] = &[
        "relay",
        "store",
        "filter",
        "lightpush",
        "peer_exchange",
        "ping",
    ];

    fn wire_bytes(&self) -> u32 {
        let body = self.body_bytes();
        let mut bytes = (varint_len(body as u64) + body) as u32 + YAMUX_HEADER_BYTES;
        bytes += NOISE_OVERHEAD_BYTES;
        if let WakuFrame::Relay(_) = self {
            return bytes;
        }
        let protocol_id = self.protocol().id().len();
        // Protocol line: varint length, the id and a newline.
        let negotiation = MULTISTREAM_HEADER_BYTES + 2 + protocol_id as u32;
        if self.opens_stream() {
            bytes + negotiation
        } else {
            bytes + negotiation + YAMUX_HEADER_BYTES
        }
    }

    fn class(&self) -> usize {
        match self {
            WakuFrame::Relay(_) => 0,
            WakuFrame::StoreRequest(_) | WakuFrame::StoreResponse(_) => 1,
            WakuFrame::FilterRequest(_)
            | WakuFrame::FilterResponse(_)
            | WakuFrame::FilterPush(_) => 2,
            WakuFrame::LightPushRequest(_)
            | WakuFrame::LightPushResponse(_)
            | WakuFrame::LightPushV2(_) => 3,
            WakuFrame::PeerExchange(..) => 4,
            WakuFrame::Ping(_) | WakuFrame::Pong(_) => 5,
        }
    }

    fn audit(&self, h: &mut AuditHasher) {
        h.write_u64(self.class() as u64);
        h.write_u32(self.wire_bytes());
    }
}

/// The exact size of a relay frame carrying `rpc`, for tests and estimates.
pub fn relay_frame_bytes(rpc: &GossipsubRpc) -> u32 {
    (frame_len(rpc) as u32) + YAMUX_HEADER_BYTES + NOISE_OVERHEAD_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{GossipsubMessage, WakuMessage};

    #[test]
    fn relay_frame_is_encoded_size_plus_transport_overhead() {
        let waku = WakuMessage::new(vec![7u8; 1000], "/app/1/chat/proto");
        let rpc = GossipsubRpc {
            publish: vec![GossipsubMessage {
                data: Some(waku.encode_to_vec().into()),
                topic: Some("/waku/2/rs/0/0".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let frame = WakuFrame::Relay(Rc::new(SentRpc::new(rpc.clone())));
        let body = rpc.encoded_len();
        assert!(body > 1000);
        assert_eq!(
            frame.wire_bytes() as usize,
            varint_len(body as u64) + body + 30
        );
        assert_eq!(frame.wire_bytes(), relay_frame_bytes(&rpc));
        assert_eq!(WakuFrame::CLASSES[frame.class()], "relay");
    }

    #[test]
    fn request_pays_negotiation_and_response_pays_fin() {
        let request = WakuFrame::StoreRequest(Box::default());
        let response = WakuFrame::StoreResponse(Box::default());
        let id = Protocol::StoreQuery.id().len() as u32;
        assert_eq!(request.wire_bytes(), 1 + 12 + 18 + 20 + 2 + id);
        assert_eq!(response.wire_bytes(), request.wire_bytes() + 12);
    }
}
