//! Wire framing of the Waku protocols: every request, response, push and gossipsub RPC travels
//! as one unsigned-varint length prefix followed by that many bytes of protobuf (libp2p
//! `writeLp`/`readLp`, go `pbio` delimited streams). This module owns
//!
//! * encoding frames and computing their exact encoded sizes without encoding
//!   ([`encoded_len`], [`frame_len`], [`relay_publish_frame_len`]), so the simulator charges
//!   the bytes a real node would send;
//! * decoding frames with a per-message size limit ([`Frame::MAX_BODY_BYTES`]) and a typed
//!   [`DecodeError`]: no input, however corrupt, panics or allocates past the limit.
//!
//! Size limits (length prefix excluded, as `readLp(maxSize)` counts) follow nwaku at the
//! reference commit (`reference/waku-protocols.md` §2.2, §3.4, §4.4, §5.4, §7.5). Where nwaku
//! reads without a limit (store, lightpush), the limit here only guards against a corrupt
//! length prefix and is generous enough for any valid frame.

use prost::Message;

use crate::message::MAX_MESSAGE_BYTES;
use crate::proto::{
    FilterSubscribeRequest, FilterSubscribeResponse, GossipsubRpc, LightPushRequest,
    LightPushResponse, MessagePush, PeerExchangeRpc, PushRpc, StoreQueryRequest,
    StoreQueryResponse, WakuMessage, WakuMetadataRequest, WakuMetadataResponse,
};

/// nwaku's allowance for protocol overhead around a message (`DefaultSafetyBufferProtocolOverhead`).
pub const PROTOCOL_OVERHEAD_BYTES: usize = 64 * 1024;

/// Gossipsub RPC frame limit: nim-libp2p applies nwaku's max message size to the whole RPC.
pub const RELAY_MAX_RPC_BYTES: usize = MAX_MESSAGE_BYTES;

/// Filter subscribe request and push limit: nwaku `10 * 150 KiB + 64 KiB`.
pub const FILTER_MAX_FRAME_BYTES: usize = 10 * MAX_MESSAGE_BYTES + PROTOCOL_OVERHEAD_BYTES;

/// Filter subscribe response limit (nwaku: 64 KiB).
pub const FILTER_RESPONSE_MAX_BYTES: usize = PROTOCOL_OVERHEAD_BYTES;

/// Peer-exchange limit: nwaku `10 * 150 KiB + 64 KiB`.
pub const PEER_EXCHANGE_MAX_FRAME_BYTES: usize = 10 * MAX_MESSAGE_BYTES + PROTOCOL_OVERHEAD_BYTES;

/// Metadata request and response limit (nwaku `RpcResponseMaxBytes`, used for both).
pub const METADATA_MAX_FRAME_BYTES: usize = 1024;

/// Store request guard: 10 MiB, about 300 000 hashes (nwaku reads store requests unbounded).
pub const STORE_REQUEST_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Store response guard: a full page (100) of maximum-size messages with overhead
/// (nwaku reads store responses unbounded).
pub const STORE_RESPONSE_MAX_BYTES: usize = 100 * (MAX_MESSAGE_BYTES + PROTOCOL_OVERHEAD_BYTES);

/// Lightpush request guard: one maximum-size message plus overhead (nwaku reads unbounded).
pub const LIGHTPUSH_REQUEST_MAX_BYTES: usize = MAX_MESSAGE_BYTES + PROTOCOL_OVERHEAD_BYTES;

/// Lightpush response guard: 64 KiB.
pub const LIGHTPUSH_RESPONSE_MAX_BYTES: usize = PROTOCOL_OVERHEAD_BYTES;

/// Longest unsigned varint accepted as a length prefix (a `u64` needs at most 10 bytes).
const MAX_VARINT_BYTES: usize = 10;

/// A protobuf message that travels as one length-prefixed frame.
pub trait Frame: Message + Default + std::fmt::Debug {
    /// Name used in errors.
    const NAME: &'static str;
    /// Largest body (bytes after the length prefix) a reader accepts.
    const MAX_BODY_BYTES: usize;
}

macro_rules! frames {
    ($($ty:ty => $name:literal, $max:expr;)*) => {
        $(impl Frame for $ty {
            const NAME: &'static str = $name;
            const MAX_BODY_BYTES: usize = $max;
        })*
    };
}

frames! {
    WakuMessage => "WakuMessage", MAX_MESSAGE_BYTES;
    GossipsubRpc => "gossipsub RPC", RELAY_MAX_RPC_BYTES;
    StoreQueryRequest => "StoreQueryRequest", STORE_REQUEST_MAX_BYTES;
    StoreQueryResponse => "StoreQueryResponse", STORE_RESPONSE_MAX_BYTES;
    FilterSubscribeRequest => "FilterSubscribeRequest", FILTER_MAX_FRAME_BYTES;
    FilterSubscribeResponse => "FilterSubscribeResponse", FILTER_RESPONSE_MAX_BYTES;
    MessagePush => "MessagePush", FILTER_MAX_FRAME_BYTES;
    LightPushRequest => "LightPushRequest", LIGHTPUSH_REQUEST_MAX_BYTES;
    LightPushResponse => "LightPushResponse", LIGHTPUSH_RESPONSE_MAX_BYTES;
    PushRpc => "PushRpc", LIGHTPUSH_REQUEST_MAX_BYTES;
    PeerExchangeRpc => "PeerExchangeRpc", PEER_EXCHANGE_MAX_FRAME_BYTES;
    WakuMetadataRequest => "WakuMetadataRequest", METADATA_MAX_FRAME_BYTES;
    WakuMetadataResponse => "WakuMetadataResponse", METADATA_MAX_FRAME_BYTES;
}

/// Why bytes could not be decoded as a frame or message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside the varint length prefix.
    #[error("{message} frame: input ends inside the length prefix")]
    IncompleteLengthPrefix {
        /// Expected message type.
        message: &'static str,
    },
    /// The length prefix is longer than 10 bytes or overflows `u64`.
    #[error("{message} frame: length prefix is not a valid unsigned varint")]
    BadLengthPrefix {
        /// Expected message type.
        message: &'static str,
    },
    /// The announced (or given) body is larger than the limit.
    #[error("{message} of {len_bytes} bytes exceeds the {max_bytes}-byte limit")]
    TooLarge {
        /// Expected message type.
        message: &'static str,
        /// Announced body length.
        len_bytes: u64,
        /// Limit in force.
        max_bytes: usize,
    },
    /// The input ends before the announced body does.
    #[error(
        "{message} frame truncated: body is {len_bytes} bytes, only {available_bytes} available"
    )]
    Truncated {
        /// Expected message type.
        message: &'static str,
        /// Announced body length.
        len_bytes: u64,
        /// Body bytes present.
        available_bytes: usize,
    },
    /// The body is not a valid protobuf encoding of the message.
    #[error("malformed {message} protobuf: {source}")]
    Malformed {
        /// Expected message type.
        message: &'static str,
        /// prost's description of the problem.
        #[source]
        source: prost::DecodeError,
    },
}

/// Number of bytes `value` takes as an unsigned varint.
pub fn varint_len(value: u64) -> usize {
    prost::encoding::encoded_len_varint(value)
}

/// Encoded protobuf size of `msg`, without a length prefix.
pub fn encoded_len<M: Message>(msg: &M) -> usize {
    msg.encoded_len()
}

/// Size on the wire of a frame whose body is `body_len` bytes (prefix included).
pub fn frame_len_for_body(body_len: usize) -> usize {
    varint_len(body_len as u64) + body_len
}

/// Size on the wire of `msg` as one frame (length prefix included).
pub fn frame_len<M: Message>(msg: &M) -> usize {
    frame_len_for_body(msg.encoded_len())
}

/// Size of the gossipsub RPC frame that carries one published message and nothing else:
/// `RPC { publish: [Message { data: <encoded WakuMessage>, topic: pubsub_topic }] }` with
/// StrictNoSign (no from/seqno/signature/key). Computed without encoding.
pub fn relay_publish_frame_len(msg: &WakuMessage, pubsub_topic: &str) -> usize {
    relay_publish_frame_len_for(msg.encoded_len(), pubsub_topic.len())
}

/// [`relay_publish_frame_len`] from the encoded WakuMessage length and the topic length.
pub fn relay_publish_frame_len_for(
    encoded_waku_message_len: usize,
    pubsub_topic_len: usize,
) -> usize {
    // Message.data (field 2) and Message.topic (field 4): 1-byte key + length + bytes each.
    let data = 1 + varint_len(encoded_waku_message_len as u64) + encoded_waku_message_len;
    let topic = 1 + varint_len(pubsub_topic_len as u64) + pubsub_topic_len;
    let message = data + topic;
    // RPC.publish (field 2): 1-byte key + length + message.
    let rpc = 1 + varint_len(message as u64) + message;
    frame_len_for_body(rpc)
}

/// Encodes `msg` as one frame (varint length, then body).
pub fn encode_frame<M: Message>(msg: &M) -> Vec<u8> {
    let mut buf = Vec::with_capacity(frame_len(msg));
    encode_frame_to(msg, &mut buf);
    buf
}

/// Appends `msg` as one frame to `buf`.
pub fn encode_frame_to<M: Message>(msg: &M, buf: &mut Vec<u8>) {
    buf.reserve(frame_len(msg));
    msg.encode_length_delimited(buf)
        .expect("a Vec<u8> grows as needed, so encoding cannot run out of space");
}

/// Splits the first frame off `buf` without decoding it, for incremental readers.
///
/// `Ok(Some((body, consumed)))` when a whole frame is present (`consumed` counts prefix and
/// body); `Ok(None)` when more bytes are needed; an error when the prefix is invalid or
/// announces more than `max_body_bytes`, which is known before the body arrives.
pub fn split_frame<'a>(
    buf: &'a [u8],
    max_body_bytes: usize,
    message: &'static str,
) -> Result<Option<(&'a [u8], usize)>, DecodeError> {
    let Some((len, prefix_len)) = read_length_prefix(buf, message)? else {
        return Ok(None);
    };
    check_len(len, max_body_bytes, message)?;
    let body = &buf[prefix_len..];
    // `len <= max_body_bytes`, so it fits in usize.
    let len = len as usize;
    if body.len() < len {
        return Ok(None);
    }
    Ok(Some((&body[..len], prefix_len + len)))
}

/// Decodes the first frame of `buf` as `M` with `M`'s size limit; returns the message and the
/// number of bytes consumed (bytes after it are left for the next frame).
pub fn decode_frame<M: Frame>(buf: &[u8]) -> Result<(M, usize), DecodeError> {
    decode_frame_with_limit(buf, M::MAX_BODY_BYTES)
}

/// [`decode_frame`] with an explicit body limit (for presets that differ from nwaku's).
pub fn decode_frame_with_limit<M: Frame>(
    buf: &[u8],
    max_body_bytes: usize,
) -> Result<(M, usize), DecodeError> {
    let Some((len, prefix_len)) = read_length_prefix(buf, M::NAME)? else {
        return Err(DecodeError::IncompleteLengthPrefix { message: M::NAME });
    };
    check_len(len, max_body_bytes, M::NAME)?;
    let available = buf.len() - prefix_len;
    if (available as u64) < len {
        return Err(DecodeError::Truncated {
            message: M::NAME,
            len_bytes: len,
            available_bytes: available,
        });
    }
    let end = prefix_len + len as usize;
    let msg = decode_unchecked::<M>(&buf[prefix_len..end])?;
    Ok((msg, end))
}

/// Decodes an unframed body (for example gossipsub `Message.data` as a [`WakuMessage`]) with
/// `M`'s size limit.
pub fn decode_body<M: Frame>(body: &[u8]) -> Result<M, DecodeError> {
    decode_body_with_limit(body, M::MAX_BODY_BYTES)
}

/// [`decode_body`] with an explicit limit.
pub fn decode_body_with_limit<M: Frame>(
    body: &[u8],
    max_body_bytes: usize,
) -> Result<M, DecodeError> {
    check_len(body.len() as u64, max_body_bytes, M::NAME)?;
    decode_unchecked(body)
}

fn decode_unchecked<M: Frame>(body: &[u8]) -> Result<M, DecodeError> {
    M::decode(body).map_err(|source| DecodeError::Malformed {
        message: M::NAME,
        source,
    })
}

fn check_len(len: u64, max_body_bytes: usize, message: &'static str) -> Result<(), DecodeError> {
    if len > max_body_bytes as u64 {
        return Err(DecodeError::TooLarge {
            message,
            len_bytes: len,
            max_bytes: max_body_bytes,
        });
    }
    Ok(())
}

/// Reads the varint length prefix: `Ok(None)` if `buf` ends inside it, else (length, prefix bytes).
fn read_length_prefix(
    buf: &[u8],
    message: &'static str,
) -> Result<Option<(u64, usize)>, DecodeError> {
    let mut value: u64 = 0;
    for (i, &byte) in buf.iter().enumerate() {
        if i == MAX_VARINT_BYTES {
            return Err(DecodeError::BadLengthPrefix { message });
        }
        let bits = u64::from(byte & 0x7f);
        // The 10th byte may only contribute the single top bit of a u64.
        if i == MAX_VARINT_BYTES - 1 && bits > 1 {
            return Err(DecodeError::BadLengthPrefix { message });
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= MAX_VARINT_BYTES {
        return Err(DecodeError::BadLengthPrefix { message });
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
