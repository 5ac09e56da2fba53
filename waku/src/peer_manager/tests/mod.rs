//! Hand-driven peer-manager tests (no network): connection events, ping results and time are
//! fed in directly and the outputs inspected.

mod connectivity;
mod discovery;
mod keepalive;

use std::rc::Rc;

use sim_core::{NodeId, SimDuration, SimRng, SimTime};

use super::{
    Capabilities, Directory, Origin, PeerManager, PeerManagerConfig, PeerManagerOutput, PeerRecord,
};

pub(super) const ME: NodeId = NodeId(0);

pub(super) fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

pub(super) fn relay_record(id: u32) -> PeerRecord {
    PeerRecord::new(NodeId(id), Capabilities::RELAY, 1, [0]).expect("valid record")
}

/// Nodes 0..n, all relay nodes of cluster 1 on shard 0.
pub(super) fn relay_directory(n: u32) -> Rc<Directory> {
    Rc::new(Directory::new((0..n).map(relay_record)).expect("distinct ids"))
}

/// `config` with discv5 and peer exchange off, so only the loop under test acts.
pub(super) fn quiet(config: PeerManagerConfig) -> PeerManagerConfig {
    PeerManagerConfig {
        discv5_interval: None,
        px_interval: None,
        shards: vec![0],
        ..config
    }
}

/// A peer manager for node 0 over `relay_directory(n)` that already knows nodes 1..n.
pub(super) fn manager(config: PeerManagerConfig, n: u32) -> PeerManager {
    let dir = relay_directory(n);
    let mut pm = PeerManager::new(config, ME, Rc::clone(&dir), SimTime::ZERO).expect("valid");
    for r in dir.iter() {
        pm.add_peer(SimTime::ZERO, r, Origin::Discv5);
    }
    pm
}

pub(super) fn dials(out: &[PeerManagerOutput]) -> Vec<NodeId> {
    out.iter()
        .filter_map(|o| match o {
            PeerManagerOutput::Dial(p) => Some(*p),
            _ => None,
        })
        .collect()
}

pub(super) fn disconnects(out: &[PeerManagerOutput]) -> Vec<NodeId> {
    out.iter()
        .filter_map(|o| match o {
            PeerManagerOutput::Disconnect(p) => Some(*p),
            _ => None,
        })
        .collect()
}

pub(super) fn pings(out: &[PeerManagerOutput]) -> Vec<NodeId> {
    out.iter()
        .filter_map(|o| match o {
            PeerManagerOutput::Ping(p) => Some(*p),
            _ => None,
        })
        .collect()
}

/// Ticks at `now` and reports every requested dial as connected.
pub(super) fn tick_connect_all(
    pm: &mut PeerManager,
    rng: &mut SimRng,
    now: SimTime,
) -> Vec<PeerManagerOutput> {
    let mut out = Vec::new();
    pm.tick(now, rng, &mut out);
    let mut more = Vec::new();
    for p in dials(&out) {
        pm.on_connected(now, p, true, &mut more);
    }
    out.extend(more);
    out
}
