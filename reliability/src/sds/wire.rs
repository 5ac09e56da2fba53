//! SDS messages ([`SdsMessage`], [`HistoryEntry`]) and their two wire encodings, selected by
//! [`WireFormat`]: the spec's numbering (js-waku; protobuf package `sds`) and nim-sds's
//! (package `sds.nim`), both generated from `waku/proto/sds/` by `cargo xtask codegen` so the
//! bytes are the real ones (`reference/reliability.md` §2.1, §2.7).
//!
//! The message type is the same for both: its bloom filter is a [`BloomSnapshot`] (words big
//! endian, shape when known). The spec encoding sends the words as they are and no shape;
//! nim-sds's sends a nested message with the words little endian, capacity,
//! `errorRate·10^6`, `k` and `m_bits`, and always writes message id, Lamport timestamp,
//! channel id, content and bloom filter (nim-sds requires them), so an ephemeral message
//! (no timestamp) is not decodable by nim-sds. Empty content and empty hints decode as
//! absent.
//!
//! [`decode`] refuses input longer than the caller's limit and returns a [`WireError`] for
//! anything malformed; it never panics. [`overhead`] splits an encoded message's size into
//! content, bloom filter, causal history, repair requests and the rest, for bandwidth
//! reports.

use prost::Message as _;
use prost::encoding::{bytes as pb_bytes, message as pb_message};
use waku::Bytes;
use waku::proto::sds as spec_pb;
use waku::proto::sds::nim as nim_pb;

use super::bloom::{BloomParams, BloomSnapshot};
use super::config::WireFormat;

/// One causal-history or repair-request entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HistoryEntry {
    /// The referenced message.
    pub message_id: String,
    /// How to fetch it (e.g. its Waku message hash).
    pub retrieval_hint: Option<Bytes>,
    /// Its sender (SDS-R).
    pub sender_id: Option<String>,
}

impl HistoryEntry {
    /// An entry with only an id.
    pub fn new(message_id: impl Into<String>) -> Self {
        HistoryEntry {
            message_id: message_id.into(),
            retrieval_hint: None,
            sender_id: None,
        }
    }
}

/// An SDS message (content, sync or ephemeral).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdsMessage {
    /// The participant that sent it.
    pub sender_id: String,
    /// Its globally unique id.
    pub message_id: String,
    /// The channel.
    pub channel_id: String,
    /// Lamport timestamp; `None` for an ephemeral message.
    pub lamport_timestamp: Option<u64>,
    /// Recent ids of the sender's local log.
    pub causal_history: Vec<HistoryEntry>,
    /// The sender's filter of received ids.
    pub bloom_filter: Option<BloomSnapshot>,
    /// SDS-R repair requests.
    pub repair_request: Vec<HistoryEntry>,
    /// The application payload; absent or empty for a sync message.
    pub content: Option<Bytes>,
}

impl SdsMessage {
    /// No Lamport timestamp: delivered at once, never logged or acknowledged.
    pub fn is_ephemeral(&self) -> bool {
        self.lamport_timestamp.is_none()
    }

    /// A Lamport timestamp but no content.
    pub fn is_sync(&self) -> bool {
        !self.is_ephemeral() && self.content.as_ref().is_none_or(|c| c.is_empty())
    }
}

/// Why bytes are not an SDS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Longer than the decoder's limit.
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not valid protobuf for the format (prost's reason).
    Malformed(String),
    /// The message id is missing or empty.
    MissingMessageId,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::TooLarge { len, max } => {
                write!(f, "SDS message of {len} bytes exceeds the {max}-byte limit")
            }
            WireError::Malformed(why) => write!(f, "malformed SDS message: {why}"),
            WireError::MissingMessageId => write!(f, "SDS message without a message id"),
        }
    }
}

impl std::error::Error for WireError {}

fn non_empty(bytes: Option<Bytes>) -> Option<Bytes> {
    bytes.filter(|b| !b.is_empty())
}

/// Reverses the byte order of every 64-bit word (big ↔ little endian).
fn swap_words(bytes: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(bytes.len());
    for word in bytes.chunks(8) {
        out.extend(word.iter().rev());
    }
    Bytes::from(out)
}

fn spec_entry(e: &HistoryEntry) -> spec_pb::HistoryEntry {
    spec_pb::HistoryEntry {
        message_id: e.message_id.clone(),
        retrieval_hint: e.retrieval_hint.clone(),
        sender_id: e.sender_id.clone(),
    }
}

fn from_spec_entry(e: spec_pb::HistoryEntry) -> HistoryEntry {
    HistoryEntry {
        message_id: e.message_id,
        retrieval_hint: non_empty(e.retrieval_hint),
        sender_id: e.sender_id.filter(|s| !s.is_empty()),
    }
}

fn nim_entry(e: &HistoryEntry) -> nim_pb::HistoryEntry {
    nim_pb::HistoryEntry {
        message_id: e.message_id.clone(),
        retrieval_hint: non_empty(e.retrieval_hint.clone()),
        sender_id: e.sender_id.clone().filter(|s| !s.is_empty()),
    }
}

fn from_nim_entry(e: nim_pb::HistoryEntry) -> HistoryEntry {
    HistoryEntry {
        message_id: e.message_id,
        retrieval_hint: non_empty(e.retrieval_hint),
        sender_id: e.sender_id.filter(|s| !s.is_empty()),
    }
}

fn to_spec(m: &SdsMessage) -> spec_pb::SdsMessage {
    spec_pb::SdsMessage {
        sender_id: m.sender_id.clone(),
        message_id: m.message_id.clone(),
        channel_id: m.channel_id.clone(),
        lamport_timestamp: m.lamport_timestamp,
        causal_history: m.causal_history.iter().map(spec_entry).collect(),
        bloom_filter: m.bloom_filter.as_ref().map(|b| b.bytes.clone()),
        repair_request: m.repair_request.iter().map(spec_entry).collect(),
        content: m.content.clone(),
    }
}

/// The nim-sds form; `swap` writes the words little endian (off when only sizes matter).
fn to_nim(m: &SdsMessage, swap: bool) -> nim_pb::SdsMessage {
    let bloom = m
        .bloom_filter
        .as_ref()
        .map_or_else(nim_pb::BloomFilter::default, |b| {
            let params = b.params;
            nim_pb::BloomFilter {
                bits: Some(if swap {
                    swap_words(&b.bytes)
                } else {
                    b.bytes.clone()
                }),
                capacity: params.map(|p| p.capacity),
                error_rate: params.map(|p| p.error_rate_ppm),
                k_hashes: params.map(|p| u64::from(p.k)),
                m_bits: params.map(|p| p.m_bits),
            }
        });
    nim_pb::SdsMessage {
        message_id: Some(m.message_id.clone()),
        lamport_timestamp: m.lamport_timestamp,
        causal_history: m.causal_history.iter().map(nim_entry).collect(),
        channel_id: Some(m.channel_id.clone()),
        content: Some(m.content.clone().unwrap_or_default()),
        bloom_filter: Some(bloom),
        sender_id: Some(m.sender_id.clone()).filter(|s| !s.is_empty()),
        repair_request: m.repair_request.iter().map(nim_entry).collect(),
    }
}

fn from_nim_bloom(b: nim_pb::BloomFilter) -> Option<BloomSnapshot> {
    let bits = non_empty(b.bits).filter(|bits| bits.len() % 8 == 0)?;
    let params = match (b.capacity, b.error_rate, b.k_hashes, b.m_bits) {
        (Some(capacity), Some(error_rate_ppm), Some(k), Some(m_bits)) => Some(BloomParams {
            capacity,
            error_rate_ppm,
            k: u32::try_from(k).unwrap_or(u32::MAX),
            m_bits,
        }),
        _ => None,
    };
    Some(BloomSnapshot {
        params,
        bytes: swap_words(&bits),
    })
}

/// The protobuf encoding of `message` in `format`.
pub fn encode(message: &SdsMessage, format: WireFormat) -> Vec<u8> {
    match format {
        WireFormat::Spec => to_spec(message).encode_to_vec(),
        WireFormat::NimSds => to_nim(message, true).encode_to_vec(),
    }
}

/// Encoded size of `message` in `format`, without encoding it.
pub fn encoded_len(message: &SdsMessage, format: WireFormat) -> usize {
    overhead(message, format).total_bytes
}

/// Decodes `data` (at most `max_bytes` long) as an SDS message in `format`. Byte fields
/// share `data`'s buffer.
pub fn decode(data: Bytes, format: WireFormat, max_bytes: usize) -> Result<SdsMessage, WireError> {
    if data.len() > max_bytes {
        return Err(WireError::TooLarge {
            len: data.len(),
            max: max_bytes,
        });
    }
    let malformed = |e: prost::DecodeError| WireError::Malformed(e.to_string());
    let message = match format {
        WireFormat::Spec => {
            let m = spec_pb::SdsMessage::decode(data).map_err(malformed)?;
            SdsMessage {
                sender_id: m.sender_id,
                message_id: m.message_id,
                channel_id: m.channel_id,
                lamport_timestamp: m.lamport_timestamp,
                causal_history: m.causal_history.into_iter().map(from_spec_entry).collect(),
                bloom_filter: m.bloom_filter.map(|bytes| BloomSnapshot {
                    params: None,
                    bytes,
                }),
                repair_request: m.repair_request.into_iter().map(from_spec_entry).collect(),
                content: non_empty(m.content),
            }
        }
        WireFormat::NimSds => {
            let m = nim_pb::SdsMessage::decode(data).map_err(malformed)?;
            SdsMessage {
                sender_id: m.sender_id.unwrap_or_default(),
                message_id: m.message_id.unwrap_or_default(),
                channel_id: m.channel_id.unwrap_or_default(),
                lamport_timestamp: m.lamport_timestamp,
                causal_history: m.causal_history.into_iter().map(from_nim_entry).collect(),
                bloom_filter: m.bloom_filter.and_then(from_nim_bloom),
                repair_request: m.repair_request.into_iter().map(from_nim_entry).collect(),
                content: non_empty(m.content),
            }
        }
    };
    if message.message_id.is_empty() {
        return Err(WireError::MissingMessageId);
    }
    Ok(message)
}

/// Where an encoded message's bytes go (each part counts its field keys and lengths).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overhead {
    /// The whole encoded message.
    pub total_bytes: usize,
    /// The application payload field.
    pub content_bytes: usize,
    /// The bloom-filter field.
    pub bloom_bytes: usize,
    /// The causal-history entries.
    pub history_bytes: usize,
    /// The repair-request entries.
    pub repair_bytes: usize,
    /// Everything else: ids, channel, Lamport timestamp.
    pub header_bytes: usize,
}

impl Overhead {
    /// What SDS adds to the payload: everything but the content field.
    pub fn overhead_bytes(&self) -> usize {
        self.total_bytes - self.content_bytes
    }
}

/// The size breakdown of `message` encoded in `format`.
pub fn overhead(message: &SdsMessage, format: WireFormat) -> Overhead {
    let (total_bytes, content_bytes, bloom_bytes, history_bytes, repair_bytes) = match format {
        WireFormat::Spec => {
            let m = to_spec(message);
            (
                m.encoded_len(),
                m.content
                    .as_ref()
                    .map_or(0, |c| pb_bytes::encoded_len(20, c)),
                m.bloom_filter
                    .as_ref()
                    .map_or(0, |b| pb_bytes::encoded_len(12, b)),
                pb_message::encoded_len_repeated(11, &m.causal_history),
                pb_message::encoded_len_repeated(13, &m.repair_request),
            )
        }
        WireFormat::NimSds => {
            let m = to_nim(message, false);
            (
                m.encoded_len(),
                m.content
                    .as_ref()
                    .map_or(0, |c| pb_bytes::encoded_len(5, c)),
                m.bloom_filter
                    .as_ref()
                    .map_or(0, |b| pb_message::encoded_len(6, b)),
                pb_message::encoded_len_repeated(3, &m.causal_history),
                pb_message::encoded_len_repeated(13, &m.repair_request),
            )
        }
    };
    Overhead {
        total_bytes,
        content_bytes,
        bloom_bytes,
        history_bytes,
        repair_bytes,
        header_bytes: total_bytes - content_bytes - bloom_bytes - history_bytes - repair_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sds::bloom::{BloomFilter, BloomKey};
    use proptest::prelude::*;

    const MAX: usize = 150 * 1024;

    fn entry(id: &str, hint: Option<&[u8]>, sender: Option<&str>) -> HistoryEntry {
        HistoryEntry {
            message_id: id.to_string(),
            retrieval_hint: hint.map(Bytes::copy_from_slice),
            sender_id: sender.map(str::to_string),
        }
    }

    fn sample(with_params: bool) -> SdsMessage {
        let params = BloomParams::optimal(10_000, 1_000);
        let mut filter = BloomFilter::new(params);
        filter.insert(&BloomKey::of("m0"));
        SdsMessage {
            sender_id: "alice".into(),
            message_id: "m2".into(),
            channel_id: "0".into(),
            lamport_timestamp: Some(1_700_000_000_123),
            causal_history: vec![
                entry("m0", Some(&[7; 32]), Some("bob")),
                entry("m1", None, None),
            ],
            bloom_filter: Some(BloomSnapshot {
                params: with_params.then_some(params),
                bytes: filter.to_bytes(),
            }),
            repair_request: vec![entry("m-1", Some(&[9; 32]), Some("carol"))],
            content: Some(Bytes::from_static(b"hello")),
        }
    }

    #[test]
    fn both_numberings_round_trip() {
        for (format, with_params) in [(WireFormat::Spec, false), (WireFormat::NimSds, true)] {
            let m = sample(with_params);
            let bytes = encode(&m, format);
            assert_eq!(bytes.len(), encoded_len(&m, format));
            assert_eq!(
                decode(Bytes::from(bytes), format, MAX),
                Ok(m.clone()),
                "{format:?}"
            );
            let mut sync = m.clone();
            sync.content = None;
            let decoded = decode(Bytes::from(encode(&sync, format)), format, MAX).unwrap();
            assert!(decoded.is_sync() && decoded == sync);
        }
        let mut ephemeral = sample(false);
        ephemeral.lamport_timestamp = None;
        ephemeral.causal_history.clear();
        ephemeral.bloom_filter = None;
        ephemeral.repair_request.clear();
        let bytes = encode(&ephemeral, WireFormat::Spec);
        let decoded = decode(Bytes::from(bytes), WireFormat::Spec, MAX).unwrap();
        assert!(decoded.is_ephemeral() && decoded == ephemeral);
    }

    #[test]
    fn field_numbers_follow_each_numbering() {
        let m = sample(true);
        let spec = encode(&m, WireFormat::Spec);
        // sender_id = 1 (LEN) comes first: key 0x0a, then "alice".
        assert_eq!(&spec[..7], &[0x0a, 5, b'a', b'l', b'i', b'c', b'e']);
        let nim = encode(&m, WireFormat::NimSds);
        // message_id = 1 first, then lamport_timestamp = 2 as a varint (key 0x10).
        assert_eq!(&nim[..5], &[0x0a, 2, b'm', b'2', 0x10]);
        // The nim filter is little endian: its words reversed give the spec's bytes.
        let decoded = nim_pb::SdsMessage::decode(Bytes::from(nim)).unwrap();
        let bloom = decoded.bloom_filter.unwrap();
        assert_eq!(bloom.error_rate, Some(1_000));
        assert_eq!((bloom.k_hashes, bloom.m_bits), (Some(10), Some(150_000)));
        let spec_bits = m.bloom_filter.unwrap().bytes;
        assert_eq!(swap_words(&bloom.bits.unwrap()), spec_bits);
    }

    #[test]
    fn overhead_adds_up_and_the_filter_dominates() {
        // Field 20 needs a two-byte key, field 5 a one-byte one.
        for (format, content_key) in [(WireFormat::Spec, 2), (WireFormat::NimSds, 1)] {
            let o = overhead(&sample(true), format);
            assert_eq!(o.total_bytes, encode(&sample(true), format).len());
            assert_eq!(o.content_bytes, content_key + 1 + 5);
            assert!(o.bloom_bytes > 18_752 && o.bloom_bytes < 18_800, "{o:?}");
            assert_eq!(o.overhead_bytes(), o.total_bytes - o.content_bytes);
            assert!(o.history_bytes > 0 && o.repair_bytes > 0 && o.header_bytes > 0);
        }
        assert_eq!(
            overhead(&sample(false), WireFormat::Spec).bloom_bytes,
            1 + 3 + 18_752
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        let bytes = encode(&sample(true), WireFormat::Spec);
        assert_eq!(
            decode(Bytes::from(bytes.clone()), WireFormat::Spec, 100),
            Err(WireError::TooLarge {
                len: bytes.len(),
                max: 100
            })
        );
        assert_eq!(
            decode(Bytes::new(), WireFormat::Spec, MAX),
            Err(WireError::MissingMessageId)
        );
        assert!(matches!(
            decode(Bytes::from_static(&[0x0a, 0xff]), WireFormat::NimSds, MAX),
            Err(WireError::Malformed(_))
        ));
        for cut in [1, 10, 100, 1_000, bytes.len() - 1] {
            let _ = decode(Bytes::copy_from_slice(&bytes[..cut]), WireFormat::Spec, MAX);
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            for format in [WireFormat::Spec, WireFormat::NimSds] {
                let _ = decode(Bytes::from(data.clone()), format, MAX);
            }
        }
    }
}
