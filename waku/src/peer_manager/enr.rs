//! The simulator's stand-in for a Waku ENR (EIP-778 record with the WAKU2-ENR keys), as peer
//! exchange carries it in `PeerInfo.enr`.
//!
//! A real ENR is an RLP list signed with secp256k1; the simulator has no keys or IP addresses,
//! so it writes its own compact record — node id, capability bits, cluster, relay shards —
//! and pads it with zeros to the length the real record would have, so a PX response costs
//! the bytes it costs on the real network. That length is the RLP size of an nwaku ENR with
//! signature (64 B), `seq`, `id`=`v4`, `ip` (IPv4), `secp256k1` (33 B), `tcp`, `udp` and
//! `waku2` (1 B): 147 bytes, plus for relay nodes the `rs` key (`reference/waku-protocols.md`
//! §7.3: cluster u16 ‖ count u8 ‖ shard u16 …): 7 + 2 × shards bytes.
//!
//! Layout: `0xE5` ‖ node id u32 BE ‖ capabilities u16 BE ‖ cluster u16 BE ‖ shard count u8 ‖
//! shards u16 BE … ‖ zero padding.

use sim_core::NodeId as PeerId;

use super::discovery::{Capabilities, PeerRecord};
use crate::proto::Bytes;

/// First byte of every simulated ENR.
const MARKER: u8 = 0xE5;
/// Bytes before the shard list.
const HEADER: usize = 10;
/// RLP size of an nwaku ENR without relay shards (see the module documentation).
const BASE_ENR_BYTES: usize = 147;
/// Extra RLP bytes for an `rs` entry, besides two per shard.
const RS_ENTRY_BYTES: usize = 7;
/// Most shards one `rs` entry can list (its count is one byte).
pub const MAX_ENR_SHARDS: usize = 255;

/// Why bytes are not a simulated ENR.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnrError {
    /// Wrong first byte or too short for its header.
    #[error("not a simulated ENR (bad marker or header)")]
    NotAnEnr,
    /// Shorter than its shard count says.
    #[error("ENR truncated: {shards} shards need {needed} bytes, got {got}")]
    Truncated {
        /// Shards announced.
        shards: usize,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
}

/// The real-network size of an ENR listing `shards` relay shards.
pub fn enr_wire_len(shards: usize) -> usize {
    if shards == 0 {
        BASE_ENR_BYTES
    } else {
        BASE_ENR_BYTES + RS_ENTRY_BYTES + 2 * shards
    }
}

/// Encodes a record (at most [`MAX_ENR_SHARDS`] shards; more is a caller bug caught by
/// [`PeerRecord::new`]).
pub(crate) fn encode(id: PeerId, caps: Capabilities, cluster_id: u16, shards: &[u16]) -> Bytes {
    assert!(
        shards.len() <= MAX_ENR_SHARDS,
        "too many shards for an rs entry"
    );
    let mut out = Vec::with_capacity(enr_wire_len(shards.len()));
    out.push(MARKER);
    out.extend_from_slice(&id.0.to_be_bytes());
    out.extend_from_slice(&caps.bits().to_be_bytes());
    out.extend_from_slice(&cluster_id.to_be_bytes());
    out.push(shards.len() as u8);
    for s in shards {
        out.extend_from_slice(&s.to_be_bytes());
    }
    out.resize(enr_wire_len(shards.len()).max(out.len()), 0);
    Bytes::from(out)
}

/// Decodes a simulated ENR back into a record.
pub fn decode(bytes: &[u8]) -> Result<PeerRecord, EnrError> {
    if bytes.len() < HEADER || bytes[0] != MARKER {
        return Err(EnrError::NotAnEnr);
    }
    let u16_at = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
    let id = PeerId(u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]));
    let caps = Capabilities::from_bits(u16_at(5));
    let cluster_id = u16_at(7);
    let count = usize::from(bytes[9]);
    let needed = HEADER + 2 * count;
    if bytes.len() < needed {
        return Err(EnrError::Truncated {
            shards: count,
            needed,
            got: bytes.len(),
        });
    }
    let shards = (0..count).map(|k| u16_at(HEADER + 2 * k)).collect();
    Ok(PeerRecord::from_parts(
        id,
        caps,
        cluster_id,
        shards,
        Bytes::copy_from_slice(bytes),
    ))
}
