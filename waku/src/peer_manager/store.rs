//! The peer store: every peer a node knows (from discovery, peer exchange, configuration or
//! an inbound connection) with what it advertises, its connection state, dial failures and
//! backoff, and the pruning that keeps it bounded.
//!
//! Bounds: pruning (every `prune_interval`) brings it back to `capacity` as nwaku's
//! `prunePeerStore` does; between prunes a hard limit caps it, evicting the least useful peer
//! (most failed dials, then no shards, then oldest) when a new one arrives. Connected and
//! dialling peers and static peers are never pruned or evicted.

use sim_core::{NodeId as PeerId, SimRng, SimTime};

use super::discovery::{Capabilities, PeerRecord};
use crate::proto::Bytes;
use crate::sorted::VecMap;

/// How a peer became known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Configured (bootstrap / static node); never pruned.
    Static,
    /// Returned by a discv5 lookup.
    Discv5,
    /// Received in a peer-exchange response.
    PeerExchange,
    /// First seen as an inbound connection.
    Inbound,
}

/// Connection state of a known peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// No connection and no dial in progress.
    NotConnected,
    /// A dial was requested at `since` and has not been reported yet.
    Dialing {
        /// When the dial was requested.
        since: SimTime,
    },
    /// Connected since `since`; `outbound` when this node dialled.
    Connected {
        /// Who dialled.
        outbound: bool,
        /// When the connection was reported.
        since: SimTime,
    },
}

/// What the store knows about one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// Advertised capabilities (ENR bits, identify).
    pub capabilities: Capabilities,
    /// Advertised cluster, if known.
    pub cluster_id: Option<u16>,
    /// Advertised relay shards, sorted (empty when unknown).
    pub shards: Vec<u16>,
    /// How it became known.
    pub origin: Origin,
    /// Connection state.
    pub state: ConnState,
    /// Consecutive failed dials (reset by a successful dial).
    pub failed_dials: u32,
    /// Backoff delays drawn so far (go-waku strategy counter; never reset).
    pub backoff_draws: u32,
    /// Not to be dialled before this time.
    pub redial_at: Option<SimTime>,
    /// Never to be dialled again (nwaku, after `max_failed_attempts` failures).
    pub gave_up: bool,
    /// nwaku `CannotConnect`: the last dial failed (cleared by any connection or disconnect).
    pub cannot_connect: bool,
    /// Keep-alive pings that failed (counted; what it leads to depends on the preset).
    pub failed_pings: u32,
    /// When it was added.
    pub added_at: SimTime,
    /// Its ENR, when known (handed out by peer exchange).
    pub enr: Option<Bytes>,
}

impl PeerInfo {
    /// A not-connected peer learnt at `now` from `record` via `origin`.
    pub(crate) fn from_record(record: &PeerRecord, origin: Origin, now: SimTime) -> Self {
        Self {
            capabilities: record.capabilities(),
            cluster_id: Some(record.cluster_id()),
            shards: record.shards().to_vec(),
            enr: Some(record.enr().clone()),
            ..Self::unknown(origin, now)
        }
    }

    /// A not-connected peer about which nothing is advertised.
    pub(crate) fn unknown(origin: Origin, now: SimTime) -> Self {
        Self {
            capabilities: Capabilities::NONE,
            cluster_id: None,
            shards: Vec::new(),
            origin,
            state: ConnState::NotConnected,
            failed_dials: 0,
            backoff_draws: 0,
            redial_at: None,
            gave_up: false,
            cannot_connect: false,
            failed_pings: 0,
            added_at: now,
            enr: None,
        }
    }

    /// Whether a connection is up.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, ConnState::Connected { .. })
    }

    /// Whether a connection this node dialled is up.
    pub fn is_outbound(&self) -> bool {
        matches!(self.state, ConnState::Connected { outbound: true, .. })
    }

    /// Whether a connection the peer dialled is up.
    pub fn is_inbound(&self) -> bool {
        matches!(
            self.state,
            ConnState::Connected {
                outbound: false,
                ..
            }
        )
    }

    /// Whether a dial is in progress.
    pub fn is_dialing(&self) -> bool {
        matches!(self.state, ConnState::Dialing { .. })
    }

    /// Whether backoff allows dialling at `now`.
    pub fn dialable_at(&self, now: SimTime) -> bool {
        !self.gave_up && self.redial_at.is_none_or(|t| t <= now)
    }

    fn removable(&self) -> bool {
        self.state == ConnState::NotConnected && self.origin != Origin::Static
    }
}

/// The peer store; see the module documentation.
#[derive(Clone, Debug)]
pub(crate) struct PeerStore {
    /// A sorted vector (a lookup is a binary search over the compact key array; most
    /// lookups are discovery asking whether a peer is known); records boxed, so inserting
    /// shifts pointers rather than whole records.
    entries: VecMap<PeerId, Box<PeerInfo>>,
    hard_limit: usize,
}

impl PeerStore {
    pub(crate) fn new(hard_limit: usize) -> Self {
        Self {
            entries: VecMap::new(),
            hard_limit: hard_limit.max(1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn get(&self, id: PeerId) -> Option<&PeerInfo> {
        self.entries.get(&id).map(|info| &**info)
    }

    pub(crate) fn get_mut(&mut self, id: PeerId) -> Option<&mut PeerInfo> {
        self.entries.get_mut(&id).map(|info| &mut **info)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (PeerId, &PeerInfo)> {
        self.entries.iter().map(|(id, info)| (*id, &**info))
    }

    /// Adds `id` unless known; at the hard limit the least useful removable peer makes room,
    /// and when none can, the newcomer is refused. Returns whether it was added.
    pub(crate) fn insert(&mut self, id: PeerId, info: PeerInfo) -> bool {
        if self.entries.contains_key(&id) {
            return false;
        }
        if self.entries.len() >= self.hard_limit {
            match self.least_useful() {
                Some(victim) => {
                    self.entries.remove(&victim);
                }
                None => return false,
            }
        }
        self.entries.insert(id, Box::new(info));
        true
    }

    pub(crate) fn remove(&mut self, id: PeerId) -> Option<PeerInfo> {
        self.entries.remove(&id).map(|info| *info)
    }

    /// The removable peer to evict first: most failed dials (given-up first), then without
    /// shards, then added earliest, then lowest id.
    fn least_useful(&self) -> Option<PeerId> {
        self.entries
            .iter()
            .filter(|(_, p)| p.removable())
            .min_by_key(|(id, p)| {
                (
                    !p.gave_up,
                    u32::MAX - p.failed_dials,
                    !p.shards.is_empty(),
                    p.added_at,
                    **id,
                )
            })
            .map(|(id, _)| *id)
    }

    /// nwaku `prunePeerStore`: when above `capacity`, removes the excess taking first peers
    /// with at least `failed_threshold` failed dials, then peers without shards, then any
    /// others, the last two groups in random order. Never removes connected, dialling or
    /// static peers. Returns the removed peers.
    pub(crate) fn prune(
        &mut self,
        rng: &mut SimRng,
        capacity: usize,
        failed_threshold: u32,
    ) -> Vec<PeerId> {
        let Some(excess) = self.entries.len().checked_sub(capacity).filter(|&e| e > 0) else {
            return Vec::new();
        };
        let mut failed = Vec::new();
        let mut shardless = Vec::new();
        let mut rest = Vec::new();
        for (id, p) in self.entries.iter().filter(|(_, p)| p.removable()) {
            if p.failed_dials >= failed_threshold {
                failed.push(*id);
            } else if p.shards.is_empty() {
                shardless.push(*id);
            } else {
                rest.push(*id);
            }
        }
        rng.shuffle(&mut shardless);
        rng.shuffle(&mut rest);
        let victims: Vec<PeerId> = failed
            .into_iter()
            .chain(shardless)
            .chain(rest)
            .take(excess)
            .collect();
        for id in &victims {
            self.entries.remove(id);
        }
        victims
    }
}
