//! The MVDS wire format: the protobuf `Payload` / `Message` of the spec (RFC `2/mvds.md`:
//! `acks = 5001`, `offers = 5002`, `requests = 5003`, `messages = 5004`; `group_id = 6001`,
//! `timestamp = 6002`, `body = 6003`), hand-encoded so sizes on the wire are the real ones,
//! plus one simulator-only field, `Message.transmission = 6099` (varint, 1 for the first
//! transmission), that lets a receiver report retransmissions as such. Batch mode never sends
//! offers or requests; decoding skips them (and any unknown field).
//!
//! The message id is `sha256("MESSAGE_ID" ‖ group_id ‖ timestamp ‖ body)` with the timestamp
//! as 8 bytes little endian (status-im/mvds `protobuf/messageid.go`). The decoder never
//! panics: malformed input is a [`WireError`].

use waku::Bytes;

/// Field numbers of the spec's `Payload`.
const PAYLOAD_ACKS: u64 = 5001;
const PAYLOAD_MESSAGES: u64 = 5004;
/// Field numbers of the spec's `Message`.
const MESSAGE_GROUP_ID: u64 = 6001;
const MESSAGE_TIMESTAMP: u64 = 6002;
const MESSAGE_BODY: u64 = 6003;
/// Simulator-only: the transmission number (1 = first). Not in the spec; 4 bytes per message.
const MESSAGE_TRANSMISSION: u64 = 6099;

const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

/// An MVDS message id (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MvdsId(pub [u8; 32]);

/// One MVDS message: the group it belongs to, its creation time and the application body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MvdsMessage {
    /// The group (conversation) id.
    pub group_id: Bytes,
    /// Creation time, Unix seconds (status-im/mvds uses `time.Now().Unix()`).
    pub timestamp: i64,
    /// The application payload.
    pub body: Bytes,
}

impl MvdsMessage {
    /// `sha256("MESSAGE_ID" ‖ group_id ‖ timestamp (8 bytes LE) ‖ body)`.
    pub fn id(&self) -> MvdsId {
        let mut data = Vec::with_capacity(10 + self.group_id.len() + 8 + self.body.len());
        data.extend_from_slice(b"MESSAGE_ID");
        data.extend_from_slice(&self.group_id);
        data.extend_from_slice(&self.timestamp.to_le_bytes());
        data.extend_from_slice(&self.body);
        // `relay_message_id` is plain SHA-256 of its input.
        MvdsId(waku::relay_message_id(&data).0)
    }
}

/// A message as carried in a payload, with its transmission number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireMessage {
    /// The message.
    pub message: MvdsMessage,
    /// 1 for the first transmission to this peer, 2 for the first retransmission, ...
    pub transmission: u32,
}

/// What one MVDS packet carries (batch mode: acks and messages).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payload {
    /// Ids of messages received from the peer.
    pub acks: Vec<MvdsId>,
    /// Messages for the peer.
    pub messages: Vec<WireMessage>,
}

/// Why a payload could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The input ended inside a field.
    Truncated,
    /// A varint longer than 10 bytes.
    VarintTooLong,
    /// A wire type protobuf does not define (3, 4, 6, 7).
    WireType(u64),
    /// An ack that is not 32 bytes.
    BadAck(usize),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Truncated => write!(f, "truncated MVDS payload"),
            WireError::VarintTooLong => write!(f, "varint too long"),
            WireError::WireType(t) => write!(f, "unsupported wire type {t}"),
            WireError::BadAck(len) => write!(f, "ack of {len} bytes"),
        }
    }
}

impl std::error::Error for WireError {}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn put_len_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, (field << 3) | LEN);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn len_field_size(field: u64, len: usize) -> usize {
    varint_len((field << 3) | LEN) + varint_len(len as u64) + len
}

fn message_body_len(m: &WireMessage) -> usize {
    let mut n = 0;
    if !m.message.group_id.is_empty() {
        n += len_field_size(MESSAGE_GROUP_ID, m.message.group_id.len());
    }
    if m.message.timestamp != 0 {
        n += varint_len(MESSAGE_TIMESTAMP << 3) + varint_len(m.message.timestamp as u64);
    }
    if !m.message.body.is_empty() {
        n += len_field_size(MESSAGE_BODY, m.message.body.len());
    }
    if m.transmission != 0 {
        n += varint_len(MESSAGE_TRANSMISSION << 3) + varint_len(u64::from(m.transmission));
    }
    n
}

/// Encoded size of one message inside a payload (tag, length and body).
pub fn message_encoded_len(m: &WireMessage) -> usize {
    len_field_size(PAYLOAD_MESSAGES, message_body_len(m))
}

/// Encoded size of one ack inside a payload.
pub const ACK_ENCODED_LEN: usize = 3 + 1 + 32;

/// Encoded size of `payload`.
pub fn encoded_len(payload: &Payload) -> usize {
    payload.acks.len() * ACK_ENCODED_LEN
        + payload
            .messages
            .iter()
            .map(message_encoded_len)
            .sum::<usize>()
}

/// Appends the protobuf encoding of `payload` to `out` (proto3: zero fields omitted).
pub fn encode_into(payload: &Payload, out: &mut Vec<u8>) {
    out.reserve(encoded_len(payload));
    for ack in &payload.acks {
        put_len_field(out, PAYLOAD_ACKS, &ack.0);
    }
    for m in &payload.messages {
        put_varint(out, (PAYLOAD_MESSAGES << 3) | LEN);
        put_varint(out, message_body_len(m) as u64);
        if !m.message.group_id.is_empty() {
            put_len_field(out, MESSAGE_GROUP_ID, &m.message.group_id);
        }
        if m.message.timestamp != 0 {
            put_varint(out, MESSAGE_TIMESTAMP << 3);
            put_varint(out, m.message.timestamp as u64);
        }
        if !m.message.body.is_empty() {
            put_len_field(out, MESSAGE_BODY, &m.message.body);
        }
        if m.transmission != 0 {
            put_varint(out, MESSAGE_TRANSMISSION << 3);
            put_varint(out, u64::from(m.transmission));
        }
    }
}

/// The protobuf encoding of `payload`.
pub fn encode(payload: &Payload) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(payload, &mut out);
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, WireError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = *self.data.get(self.pos).ok_or(WireError::Truncated)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(WireError::VarintTooLong)
    }

    fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let len = usize::try_from(self.varint()?).map_err(|_| WireError::Truncated)?;
        let end = self.pos.checked_add(len).ok_or(WireError::Truncated)?;
        let slice = self.data.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn skip(&mut self, wire_type: u64) -> Result<(), WireError> {
        let n = match wire_type {
            VARINT => return self.varint().map(|_| ()),
            LEN => return self.bytes().map(|_| ()),
            FIXED64 => 8,
            FIXED32 => 4,
            other => return Err(WireError::WireType(other)),
        };
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        if end > self.data.len() {
            return Err(WireError::Truncated);
        }
        self.pos = end;
        Ok(())
    }

    /// The next (field, wire type), or `None` at the end.
    fn key(&mut self) -> Result<Option<(u64, u64)>, WireError> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        Ok(Some((key >> 3, key & 7)))
    }
}

fn decode_message(data: &[u8]) -> Result<WireMessage, WireError> {
    let mut r = Reader { data, pos: 0 };
    let mut m = WireMessage {
        message: MvdsMessage {
            group_id: Bytes::new(),
            timestamp: 0,
            body: Bytes::new(),
        },
        transmission: 0,
    };
    while let Some((field, wire_type)) = r.key()? {
        match (field, wire_type) {
            (MESSAGE_GROUP_ID, LEN) => m.message.group_id = Bytes::copy_from_slice(r.bytes()?),
            (MESSAGE_TIMESTAMP, VARINT) => m.message.timestamp = r.varint()? as i64,
            (MESSAGE_BODY, LEN) => m.message.body = Bytes::copy_from_slice(r.bytes()?),
            (MESSAGE_TRANSMISSION, VARINT) => {
                m.transmission = u32::try_from(r.varint()?).unwrap_or(u32::MAX);
            }
            (_, wire_type) => r.skip(wire_type)?,
        }
    }
    Ok(m)
}

/// Decodes a payload (offers, requests and unknown fields are skipped).
pub fn decode(data: &[u8]) -> Result<Payload, WireError> {
    let mut r = Reader { data, pos: 0 };
    let mut payload = Payload::default();
    while let Some((field, wire_type)) = r.key()? {
        match (field, wire_type) {
            (PAYLOAD_ACKS, LEN) => {
                let bytes = r.bytes()?;
                let id: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| WireError::BadAck(bytes.len()))?;
                payload.acks.push(MvdsId(id));
            }
            (PAYLOAD_MESSAGES, LEN) => payload.messages.push(decode_message(r.bytes()?)?),
            (_, wire_type) => r.skip(wire_type)?,
        }
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Payload {
        Payload {
            acks: vec![MvdsId([7; 32]), MvdsId([9; 32])],
            messages: vec![WireMessage {
                message: MvdsMessage {
                    group_id: Bytes::from(vec![1u8; 32]),
                    timestamp: 1_700_000_000,
                    body: Bytes::from(vec![5u8; 300]),
                },
                transmission: 3,
            }],
        }
    }

    #[test]
    fn payload_round_trips_and_sizes_match() {
        let p = sample();
        let bytes = encode(&p);
        assert_eq!(bytes.len(), encoded_len(&p));
        assert_eq!(decode(&bytes), Ok(p));
        assert_eq!(decode(&[]), Ok(Payload::default()));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            let _ = decode(&bytes[..cut]);
        }
        assert_eq!(decode(&[0xff; 11]), Err(WireError::VarintTooLong));
        assert_eq!(decode(&[0x0b]), Err(WireError::WireType(3)));
        // An ack of the wrong length.
        let mut bad = Vec::new();
        put_len_field(&mut bad, PAYLOAD_ACKS, &[1, 2, 3]);
        assert_eq!(decode(&bad), Err(WireError::BadAck(3)));
    }

    #[test]
    fn message_id_follows_the_reference_layout() {
        let m = sample().messages[0].message.clone();
        let mut manual = b"MESSAGE_ID".to_vec();
        manual.extend_from_slice(&m.group_id);
        manual.extend_from_slice(&m.timestamp.to_le_bytes());
        manual.extend_from_slice(&m.body);
        assert_eq!(m.id().0, waku::relay_message_id(&manual).0);
        let mut other = m.clone();
        other.timestamp += 1;
        assert_ne!(other.id(), m.id());
    }
}
