//! Discovery as a sampling oracle: the [`Directory`] of every node of a run with what its ENR
//! advertises (capabilities, cluster, relay shards), from which discv5 lookups are drawn.
//!
//! Real discv5 (`reference/waku-protocols.md` §7.2) is a Kademlia random walk whose results
//! look, to the node, like a random handful of ENRs every 5 s. The simulator skips the DHT: a
//! lookup is a uniform sample without replacement from the directory, never containing the
//! asking node. The directory is built once per run and shared by `Rc` (no global state); it
//! says nothing about liveness, just as a routing table may hold dead nodes — dialling tells.

use std::collections::BTreeSet;
use std::ops::BitOr;

use sim_core::{NodeId as PeerId, SimRng};

use super::enr::{self, MAX_ENR_SHARDS};
use crate::proto::Bytes;

/// The ENR `waku2` capability bits (\[NWAKU\] `waku_enr/capabilities.nim`), plus simulator-only
/// bits above the ENR byte for protocols a peer learns through identify.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capabilities(u16);

impl Capabilities {
    /// No capability.
    pub const NONE: Self = Self(0);
    /// ENR bit 0: relay.
    pub const RELAY: Self = Self(1 << 0);
    /// ENR bit 1: store.
    pub const STORE: Self = Self(1 << 1);
    /// ENR bit 2: filter (service).
    pub const FILTER: Self = Self(1 << 2);
    /// ENR bit 3: lightpush (service).
    pub const LIGHTPUSH: Self = Self(1 << 3);
    /// ENR bit 4: store sync.
    pub const SYNC: Self = Self(1 << 4);
    /// ENR bit 5: mix (nwaku).
    pub const MIX: Self = Self(1 << 5);
    /// Not in the ENR: serves peer exchange (learnt through identify).
    pub const PEER_EXCHANGE: Self = Self(1 << 8);

    /// From raw bits (unknown bits kept).
    pub const fn from_bits(bits: u16) -> Self {
        Self(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// The ENR `waku2` byte.
    pub const fn waku2_field(self) -> u8 {
        (self.0 & 0xff) as u8
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Capabilities {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// Mistakes in building a directory.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// An `rs` ENR entry lists at most 255 shards.
    #[error("node {node} lists {count} relay shards; an ENR rs entry holds at most 255")]
    TooManyShards {
        /// The node.
        node: PeerId,
        /// Shards given.
        count: usize,
    },
    /// Two records for one node.
    #[error("node {0} appears twice in the directory")]
    DuplicateNode(PeerId),
}

/// What one node's ENR advertises, with the encoded record peer exchange hands out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerRecord {
    id: PeerId,
    capabilities: Capabilities,
    cluster_id: u16,
    /// Sorted, distinct.
    shards: Vec<u16>,
    enr: Bytes,
}

impl PeerRecord {
    /// The record of node `id`; `shards` are sorted and de-duplicated.
    pub fn new(
        id: PeerId,
        capabilities: Capabilities,
        cluster_id: u16,
        shards: impl IntoIterator<Item = u16>,
    ) -> Result<Self, DirectoryError> {
        let shards: Vec<u16> = shards
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if shards.len() > MAX_ENR_SHARDS {
            return Err(DirectoryError::TooManyShards {
                node: id,
                count: shards.len(),
            });
        }
        let enr = enr::encode(id, capabilities, cluster_id, &shards);
        Ok(Self {
            id,
            capabilities,
            cluster_id,
            shards,
            enr,
        })
    }

    /// A record decoded from its ENR bytes.
    pub(crate) fn from_parts(
        id: PeerId,
        capabilities: Capabilities,
        cluster_id: u16,
        mut shards: Vec<u16>,
        enr: Bytes,
    ) -> Self {
        shards.sort_unstable();
        shards.dedup();
        Self {
            id,
            capabilities,
            cluster_id,
            shards,
            enr,
        }
    }

    /// The node.
    pub fn id(&self) -> PeerId {
        self.id
    }

    /// Its capabilities.
    pub fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    /// Its cluster.
    pub fn cluster_id(&self) -> u16 {
        self.cluster_id
    }

    /// Its relay shards, sorted.
    pub fn shards(&self) -> &[u16] {
        &self.shards
    }

    /// Its encoded ENR, padded to the real-network length ([`enr_wire_len`](super::enr_wire_len)).
    pub fn enr(&self) -> &Bytes {
        &self.enr
    }

    /// Whether it shares at least one shard with the sorted list `shards`.
    pub fn shares_shard(&self, shards: &[u16]) -> bool {
        self.shards.iter().any(|s| shards.binary_search(s).is_ok())
    }
}

/// Every node of a run with its record, sorted by node id. Immutable once built.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    records: Vec<PeerRecord>,
}

impl Directory {
    /// A directory of `records` (any order; node ids must be distinct).
    pub fn new(records: impl IntoIterator<Item = PeerRecord>) -> Result<Self, DirectoryError> {
        let mut records: Vec<PeerRecord> = records.into_iter().collect();
        records.sort_by_key(|r| r.id);
        if let Some(w) = records.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(DirectoryError::DuplicateNode(w[0].id));
        }
        Ok(Self { records })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The record of `id`.
    pub fn get(&self, id: PeerId) -> Option<&PeerRecord> {
        self.position(id).map(|i| &self.records[i])
    }

    /// All records, by node id.
    pub fn iter(&self) -> impl Iterator<Item = &PeerRecord> {
        self.records.iter()
    }

    /// One discv5 lookup by `asker`: up to `n` distinct records drawn uniformly, never
    /// `asker`'s own. Costs O(n log n) whatever the directory size (Floyd's sampling), and the
    /// draws depend only on `rng`, `n` and the directory length.
    pub fn discv5_sample(&self, rng: &mut SimRng, asker: PeerId, n: usize) -> Vec<&PeerRecord> {
        let own = self.position(asker);
        let pool = self.records.len() - usize::from(own.is_some());
        let k = n.min(pool);
        let mut chosen = BTreeSet::new();
        let mut order = Vec::with_capacity(k);
        for j in (pool - k)..pool {
            let t = rng.index(j + 1);
            let pick = if chosen.insert(t) {
                t
            } else {
                chosen.insert(j);
                j
            };
            order.push(pick);
        }
        order
            .into_iter()
            .map(|i| match own {
                Some(skip) if i >= skip => &self.records[i + 1],
                _ => &self.records[i],
            })
            .collect()
    }

    fn position(&self, id: PeerId) -> Option<usize> {
        self.records.binary_search_by_key(&id, |r| r.id).ok()
    }
}
