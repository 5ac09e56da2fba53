//! 14/WAKU2-MESSAGE: building and checking [`WakuMessage`]s, the deterministic message hash
//! (the key of store, filter de-duplication and reliability checks), and the gossipsub
//! message id that Waku relay uses.
//!
//! Two different digests identify a message, and they must not be confused
//! (`reference/waku-protocols.md` §2.3, §3.2, §9.1–9.2):
//!
//! * the **message hash** ([`message_hash`]) = SHA-256(pubsub_topic ‖ payload ‖ content_topic
//!   ‖ meta ‖ timestamp as 8 big-endian bytes). The timestamp is hashed even when it is unset
//!   (as 0), which is what nwaku and go-waku do although the RFC prose says absent attributes
//!   should be left out; `version`, `rate_limit_proof` and `ephemeral` are never hashed;
//! * the **relay message id** ([`relay_message_id`]) = SHA-256 of the *encoded* WakuMessage
//!   bytes carried in gossipsub `Message.data` (nwaku `defaultMessageIdProvider`, go-waku
//!   `msgIDFn`). It depends on the encoding, so two encoders can give one message two ids.

use std::fmt;

use prost::Message as _;
use sha2::{Digest, Sha256};

use crate::proto::{Bytes, WakuMessage};

/// Largest `meta` attribute, in bytes (RFC 14; nwaku rejects longer ones when decoding).
pub const MAX_META_BYTES: usize = 64;

/// Largest encoded WakuMessage, in bytes: nwaku's `DefaultMaxWakuMessageSize` ("150KiB") and
/// go-waku's library default; relay rejects larger publishes.
pub const MAX_MESSAGE_BYTES: usize = 150 * 1024;

/// go-waku's command-line default ("150KB" parsed as SI units), a preset alternative to
/// [`MAX_MESSAGE_BYTES`].
pub const GO_WAKU_CLI_MAX_MESSAGE_BYTES: usize = 150_000;

/// Largest difference between a message timestamp and the local clock that a store node
/// accepts (RFC 13 / 64, nwaku `MaxMessageTimestampVariance`), in nanoseconds.
pub const MAX_TIMESTAMP_DRIFT_NS: i64 = 20 * 1_000_000_000;

/// nwaku's default content topic.
pub const DEFAULT_CONTENT_TOPIC: &str = "/waku/2/default-content/proto";

/// The 32-byte deterministic message hash (RFC 14). Ordered by natural byte order, which is
/// the tie-break store uses between messages with equal timestamps.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MessageHash(pub [u8; 32]);

impl MessageHash {
    /// The all-zero hash, which nwaku uses as "no cursor" and rejects as a store cursor.
    pub const ZERO: Self = Self([0; 32]);

    /// The hash from exactly 32 bytes (for example a store cursor); `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The bytes as a protobuf `bytes` field value.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(&self.0)
    }

    /// Whether this is the all-zero hash.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 32]
    }
}

impl fmt::Display for MessageHash {
    /// `0x` followed by 64 lowercase hex digits, as the RFC test vectors print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageHash({self})")
    }
}

/// A gossipsub message id as Waku relay computes it: SHA-256 of the encoded WakuMessage.
///
/// Ordered by natural byte order (compared eight bytes at a time: ids are hot map keys).
/// Hashes as its first eight bytes (see [`IdMap`]).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageId(pub [u8; 32]);

impl std::hash::Hash for MessageId {
    /// The first eight bytes: ids are digests, so they are already uniformly spread (equal ids
    /// hash equally, which is all a hash must guarantee).
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.words()[0]);
    }
}

/// A map keyed by message id, for lookups only: hashing is [`IdHasher`] (the id's own first
/// eight bytes), so a lookup touches a bucket or two instead of the nodes of a tree. It must
/// never be iterated (hash order); keep an ordered record beside it where order matters.
// tidy: unordered-ok (keyed lookups only, never iterated)
pub(crate) type IdMap<V> = std::collections::HashMap<MessageId, V, IdHashBuilder>;

/// Builds [`IdHasher`]s.
pub(crate) type IdHashBuilder = std::hash::BuildHasherDefault<IdHasher>;

/// The hasher of [`IdMap`]: passes a [`MessageId`]'s first eight bytes through a multiply
/// (so every bit reaches the high bits the table also uses).
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl MessageId {
    /// The id as four big-endian words, which order exactly like the bytes.
    #[inline]
    fn words(&self) -> [u64; 4] {
        std::array::from_fn(|i| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&self.0[i * 8..i * 8 + 8]);
            u64::from_be_bytes(word)
        })
    }
}

impl Ord for MessageId {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.words().cmp(&other.words())
    }
}

impl PartialOrd for MessageId {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl MessageId {
    /// The id from exactly 32 bytes (as found in IHAVE/IWANT/IDONTWANT); `None` otherwise.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The bytes as a protobuf `bytes` field value (for IHAVE/IWANT/IDONTWANT lists). One
    /// allocation, and clones share it without another.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::from_owner(self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("0x")?;
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// The deterministic message hash of `msg` published on `pubsub_topic` (RFC 14):
/// SHA-256(pubsub_topic ‖ payload ‖ content_topic ‖ meta ‖ timestamp as u64 big-endian).
///
/// Plain concatenation, no separators or lengths; an absent `meta` adds nothing, an absent
/// `timestamp` adds eight zero bytes; a negative timestamp is reinterpreted as `u64`.
pub fn message_hash(pubsub_topic: &str, msg: &WakuMessage) -> MessageHash {
    let mut hasher = Sha256::new();
    hasher.update(pubsub_topic.as_bytes());
    hasher.update(&msg.payload);
    hasher.update(msg.content_topic.as_bytes());
    hasher.update(msg.meta());
    hasher.update((msg.timestamp() as u64).to_be_bytes());
    MessageHash(hasher.finalize().into())
}

/// The gossipsub message id of a relayed message: SHA-256 of `Message.data`, i.e. of the
/// WakuMessage bytes exactly as the publisher encoded them.
pub fn relay_message_id(encoded_waku_message: &[u8]) -> MessageId {
    MessageId(Sha256::digest(encoded_waku_message).into())
}

/// Why a [`WakuMessage`] may not be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The content topic is the empty string.
    #[error("content topic is empty")]
    EmptyContentTopic,
    /// The payload is empty (go-waku rejects such a publish; nwaku's decoder requires field 1,
    /// which its own encoder leaves out when the payload is empty).
    #[error("payload is empty")]
    EmptyPayload,
    /// `meta` is longer than [`MAX_META_BYTES`].
    #[error("meta is {len_bytes} bytes, more than the {MAX_META_BYTES}-byte limit")]
    MetaTooLong {
        /// Length of the meta attribute.
        len_bytes: usize,
    },
    /// The encoded message is larger than the relay limit.
    #[error("encoded message is {len_bytes} bytes, more than the {max_bytes}-byte limit")]
    TooLarge {
        /// Encoded length.
        len_bytes: usize,
        /// Limit in force.
        max_bytes: usize,
    },
}

impl WakuMessage {
    /// A version-0, non-ephemeral message with no timestamp or meta.
    pub fn new(payload: impl Into<Bytes>, content_topic: impl Into<String>) -> Self {
        Self {
            payload: payload.into(),
            content_topic: content_topic.into(),
            ..Self::default()
        }
    }

    /// Sets the sender timestamp (Unix epoch, nanoseconds).
    #[must_use]
    pub fn with_timestamp_ns(mut self, timestamp_ns: i64) -> Self {
        self.timestamp = Some(timestamp_ns);
        self
    }

    /// Sets the `meta` attribute (at most [`MAX_META_BYTES`] to be valid).
    #[must_use]
    pub fn with_meta(mut self, meta: impl Into<Bytes>) -> Self {
        self.meta = Some(meta.into());
        self
    }

    /// Sets the payload version (0 plain, 1 26/WAKU-PAYLOAD, 2 Noise).
    #[must_use]
    pub fn with_version(mut self, version: u32) -> Self {
        self.version = Some(version);
        self
    }

    /// Marks the message ephemeral (never stored) or not.
    #[must_use]
    pub fn with_ephemeral(mut self, ephemeral: bool) -> Self {
        self.ephemeral = Some(ephemeral);
        self
    }

    /// Attaches an RLN proof (opaque bytes).
    #[must_use]
    pub fn with_rate_limit_proof(mut self, proof: impl Into<Bytes>) -> Self {
        self.rate_limit_proof = Some(proof.into());
        self
    }

    /// The same message with zero-valued optional fields removed, so it encodes byte for byte
    /// as nwaku's encoder does (nwaku writes no field whose value is 0, empty or false). The
    /// message hash is unchanged; the relay message id and the encoded size may shrink.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        self.version = self.version.filter(|&v| v != 0);
        self.timestamp = self.timestamp.filter(|&t| t != 0);
        self.meta = self.meta.filter(|m| !m.is_empty());
        self.rate_limit_proof = self.rate_limit_proof.filter(|p| !p.is_empty());
        self.ephemeral = self.ephemeral.filter(|&e| e);
        self
    }

    /// The deterministic message hash of this message on `pubsub_topic`; see [`message_hash`].
    pub fn hash(&self, pubsub_topic: &str) -> MessageHash {
        message_hash(pubsub_topic, self)
    }

    /// The gossipsub message id this message gets when relayed as encoded by this crate; see
    /// [`relay_message_id`]. Encodes the message, so cache it if needed often.
    pub fn relay_message_id(&self) -> MessageId {
        relay_message_id(&self.encode_to_vec())
    }

    /// Whether a store node may keep this message (the `ephemeral` flag is not set).
    pub fn is_storable(&self) -> bool {
        !self.ephemeral()
    }

    /// Checks what a relay node checks before publishing: non-empty content topic and payload,
    /// meta within [`MAX_META_BYTES`], encoded size within `max_message_bytes`
    /// (normally [`MAX_MESSAGE_BYTES`]).
    pub fn validate(&self, max_message_bytes: usize) -> Result<(), MessageError> {
        if self.content_topic.is_empty() {
            return Err(MessageError::EmptyContentTopic);
        }
        if self.payload.is_empty() {
            return Err(MessageError::EmptyPayload);
        }
        let meta_len = self.meta().len();
        if meta_len > MAX_META_BYTES {
            return Err(MessageError::MetaTooLong {
                len_bytes: meta_len,
            });
        }
        let len = self.encoded_len();
        if len > max_message_bytes {
            return Err(MessageError::TooLarge {
                len_bytes: len,
                max_bytes: max_message_bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_order_like_their_bytes() {
        let ids: Vec<MessageId> = (0u32..200)
            .map(|n| {
                let mut bytes = [0u8; 32];
                // Vary a few bytes across the words, including equal prefixes.
                bytes[(n % 32) as usize] = (n * 37 % 251) as u8;
                bytes[31 - (n % 7) as usize] ^= (n % 3) as u8;
                MessageId(bytes)
            })
            .collect();
        for a in &ids {
            for b in &ids {
                assert_eq!(a.cmp(b), a.0.cmp(&b.0), "{a} vs {b}");
            }
        }
    }

    fn unhex(s: &str) -> Vec<u8> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The common inputs of the RFC 14 test vectors (`reference/waku-protocols.md` §2.4).
    const PUBSUB_TOPIC: &str = "/waku/2/default-waku/proto";
    const CONTENT_TOPIC: &str = "/waku/2/default-content/proto";
    const PAYLOAD_HEX: &str = "0x010203045445535405060708";
    const TIMESTAMP_NS: i64 = 0x175789bfa23f8400;
    const META_12_HEX: &str = "0x73757065722d736563726574";
    const META_64_HEX: &str = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
                               202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

    fn vector_message(payload_hex: &str, meta_hex: Option<&str>) -> WakuMessage {
        let mut msg =
            WakuMessage::new(unhex(payload_hex), CONTENT_TOPIC).with_timestamp_ns(TIMESTAMP_NS);
        if let Some(meta) = meta_hex {
            msg = msg.with_meta(unhex(&meta.replace(' ', "")));
        }
        msg
    }

    #[test]
    fn vector_inputs_match_the_reference() {
        assert_eq!(
            PUBSUB_TOPIC.as_bytes(),
            unhex("2f77616b752f322f64656661756c742d77616b752f70726f746f")
        );
        assert_eq!(
            CONTENT_TOPIC.as_bytes(),
            unhex("2f77616b752f322f64656661756c742d636f6e74656e742f70726f746f")
        );
        assert_eq!(TIMESTAMP_NS, 1_681_964_442_000_000_000);
        assert_eq!(unhex(META_64_HEX).len(), 64);
        assert_eq!(unhex(META_64_HEX)[63], 0x3f);
    }

    #[test]
    fn rfc_vector_meta_12_bytes() {
        let msg = vector_message(PAYLOAD_HEX, Some(META_12_HEX));
        assert_eq!(
            msg.hash(PUBSUB_TOPIC).to_string(),
            "0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05"
        );
    }

    #[test]
    fn rfc_vector_meta_64_bytes() {
        let msg = vector_message(PAYLOAD_HEX, Some(META_64_HEX));
        assert_eq!(
            msg.hash(PUBSUB_TOPIC).to_string(),
            "0x7158b6498753313368b9af8f6e0a0a05104f68f972981da42a43bc53fb0c1b27"
        );
    }

    #[test]
    fn rfc_vector_meta_absent() {
        let msg = vector_message(PAYLOAD_HEX, None);
        assert_eq!(
            msg.hash(PUBSUB_TOPIC).to_string(),
            "0xa2554498b31f5bcdfcbf7fa58ad1c2d45f0254f3f8110a85588ec3cf10720fd8"
        );
        // An empty meta hashes like an absent one.
        let empty_meta = msg.clone().with_meta(Vec::new());
        assert_eq!(empty_meta.hash(PUBSUB_TOPIC), msg.hash(PUBSUB_TOPIC));
    }

    #[test]
    fn rfc_vector_empty_payload() {
        let msg = vector_message("", Some(META_12_HEX));
        assert_eq!(
            msg.hash(PUBSUB_TOPIC).to_string(),
            "0x483ea950cb63f9b9d6926b262bb36194d3f40a0463ce8446228350bd44e96de4"
        );
    }

    #[test]
    fn unset_timestamp_hashes_as_eight_zero_bytes() {
        let unset = WakuMessage::new(vec![1, 2, 3], CONTENT_TOPIC);
        let zero = unset.clone().with_timestamp_ns(0);
        assert_eq!(unset.hash(PUBSUB_TOPIC), zero.hash(PUBSUB_TOPIC));

        let mut manual = Vec::new();
        manual.extend_from_slice(PUBSUB_TOPIC.as_bytes());
        manual.extend_from_slice(&[1, 2, 3]);
        manual.extend_from_slice(CONTENT_TOPIC.as_bytes());
        manual.extend_from_slice(&[0; 8]);
        assert_eq!(
            unset.hash(PUBSUB_TOPIC).0,
            <[u8; 32]>::from(Sha256::digest(&manual))
        );
    }

    #[test]
    fn unhashed_fields_do_not_change_the_hash() {
        let base = vector_message(PAYLOAD_HEX, Some(META_12_HEX));
        let varied = base
            .clone()
            .with_version(1)
            .with_ephemeral(true)
            .with_rate_limit_proof(vec![9; 100]);
        assert_eq!(base.hash(PUBSUB_TOPIC), varied.hash(PUBSUB_TOPIC));
        assert_ne!(base.hash(PUBSUB_TOPIC), base.hash("/waku/2/rs/1/0"));
        assert_ne!(base.relay_message_id(), varied.relay_message_id());
    }

    #[test]
    fn relay_message_id_is_sha256_of_the_encoding() {
        let msg = vector_message(PAYLOAD_HEX, None);
        let encoded = msg.encode_to_vec();
        assert_eq!(msg.relay_message_id(), relay_message_id(&encoded));
        assert_eq!(
            msg.relay_message_id().0,
            <[u8; 32]>::from(Sha256::digest(&encoded))
        );
        // It is not the deterministic message hash.
        assert_ne!(msg.relay_message_id().0, msg.hash(PUBSUB_TOPIC).0);
    }

    #[test]
    fn encoding_matches_nwaku_field_layout() {
        // payload=1 (bytes), content_topic=2, version=3, timestamp=10 (zigzag), meta=11,
        // proof=21, ephemeral=31, in that order.
        let msg = WakuMessage::new(vec![0xaa], "/a/1/b/c")
            .with_version(1)
            .with_timestamp_ns(-1)
            .with_meta(vec![0xbb])
            .with_rate_limit_proof(vec![0xcc])
            .with_ephemeral(true);
        let mut expected = vec![0x0a, 1, 0xaa, 0x12, 8];
        expected.extend_from_slice(b"/a/1/b/c");
        expected.extend_from_slice(&[0x18, 1]); // version
        expected.extend_from_slice(&[0x50, 1]); // timestamp -1 zigzag = 1
        expected.extend_from_slice(&[0x5a, 1, 0xbb]); // meta
        expected.extend_from_slice(&[0xaa, 0x01, 1, 0xcc]); // proof, tag 21 = 0xaa 0x01
        expected.extend_from_slice(&[0xf8, 0x01, 1]); // ephemeral, tag 31 = 0xf8 0x01
        assert_eq!(msg.encode_to_vec(), expected);
    }

    #[test]
    fn normalized_drops_zero_values_only() {
        let msg = WakuMessage::new(vec![1], "/a/1/b/c")
            .with_version(0)
            .with_timestamp_ns(0)
            .with_meta(Vec::new())
            .with_ephemeral(false);
        let norm = msg.clone().normalized();
        assert_eq!(norm, WakuMessage::new(vec![1], "/a/1/b/c"));
        assert!(norm.encoded_len() < msg.encoded_len());
        assert_eq!(norm.hash(PUBSUB_TOPIC), msg.hash(PUBSUB_TOPIC));
        let kept = WakuMessage::new(vec![1], "/a/1/b/c")
            .with_timestamp_ns(5)
            .with_ephemeral(true);
        assert_eq!(kept.clone().normalized(), kept);
    }

    #[test]
    fn validate_applies_the_publish_rules() {
        let ok = WakuMessage::new(vec![1], "/a/1/b/c");
        assert_eq!(ok.validate(MAX_MESSAGE_BYTES), Ok(()));
        assert_eq!(
            WakuMessage::new(vec![1], "").validate(MAX_MESSAGE_BYTES),
            Err(MessageError::EmptyContentTopic)
        );
        assert_eq!(
            WakuMessage::new(Vec::new(), "/a/1/b/c").validate(MAX_MESSAGE_BYTES),
            Err(MessageError::EmptyPayload)
        );
        assert_eq!(
            ok.clone()
                .with_meta(vec![0; 64])
                .validate(MAX_MESSAGE_BYTES),
            Ok(())
        );
        assert_eq!(
            ok.clone()
                .with_meta(vec![0; 65])
                .validate(MAX_MESSAGE_BYTES),
            Err(MessageError::MetaTooLong { len_bytes: 65 })
        );
        let big = WakuMessage::new(vec![0; MAX_MESSAGE_BYTES], "/a/1/b/c");
        assert!(matches!(
            big.validate(MAX_MESSAGE_BYTES),
            Err(MessageError::TooLarge {
                max_bytes: MAX_MESSAGE_BYTES,
                ..
            })
        ));
    }

    #[test]
    fn hash_helpers_round_trip() {
        let h = vector_message(PAYLOAD_HEX, None).hash(PUBSUB_TOPIC);
        assert_eq!(MessageHash::from_slice(&h.to_bytes()), Some(h));
        assert_eq!(MessageHash::from_slice(&[0; 31]), None);
        assert!(MessageHash::ZERO.is_zero() && !h.is_zero());
        assert!(format!("{h:?}").starts_with("MessageHash(0xa2554498"));
        let id = MessageId([7; 32]);
        assert_eq!(MessageId::from_slice(&id.to_bytes()), Some(id));
        assert_eq!(MessageId::from_slice(&[7; 33]), None);
    }
}
