//! The peer manager and discovery as a sans-IO state machine: the peer store, connection
//! targets and the connectivity loop, reconnection backoff, keep-alive with sleep and offline
//! detection, the online check, discv5 sampling from a shared [`Directory`], and peer
//! exchange (`reference/waku-protocols.md` §7–§8, presets for nwaku and go-waku).
//!
//! The node reports connection events ([`PeerManager::on_connected`],
//! [`PeerManager::on_disconnected`], [`PeerManager::on_dial_failed`]) and ping results
//! ([`PeerManager::on_ping_result`]), calls [`PeerManager::tick`] when
//! [`PeerManager::poll_timeout`] is due, and carries out the [`PeerManagerOutput`]s: dial,
//! disconnect, ping, send a peer-exchange request. When the peer manager asks for a
//! disconnection it already considers the peer disconnected.
//!
//! Bounds: the store holds at most `peer_store_hard_limit` peers; connections are at most
//! `max_connections`; dials in flight at most `max_parallel_dials` (plus dials the node asks
//! for itself, within `max_connections`); the mesh and filter-service sets hold only connected
//! peers.

mod backoff;
mod config;
mod connectivity;
mod discovery;
mod enr;
mod exchange;
mod keepalive;
mod store;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use sim_core::{NodeId as PeerId, SimDuration, SimRng, SimTime};

pub use backoff::BackoffPolicy;
pub use config::{
    DialRule, PeerManagerConfig, PeerManagerConfigError, go_waku_relay_targets, nwaku_relay_targets,
};
pub use discovery::{Capabilities, Directory, DirectoryError, PeerRecord};
pub use enr::{EnrError, MAX_ENR_SHARDS, decode as decode_enr, enr_wire_len};
pub use exchange::PX_SUCCESS;
pub use keepalive::{KeepAliveConfig, PingScope};
pub use store::{ConnState, Origin, PeerInfo};

use crate::proto::PeerExchangeQuery;
use keepalive::PingRound;
use store::PeerStore;

/// What the peer manager wants done or reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerManagerOutput {
    /// Dial this peer; report [`PeerManager::on_connected`] or [`PeerManager::on_dial_failed`]
    /// (after at most [`PeerManagerConfig::dial_timeout`]).
    Dial(PeerId),
    /// Close the connection to this peer (already counted as closed).
    Disconnect(PeerId),
    /// Send a libp2p ping; report [`PeerManager::on_ping_result`] (after at most the
    /// keep-alive ping timeout).
    Ping(PeerId),
    /// Send this peer-exchange query to `peer`; hand the answer to
    /// [`PeerManager::handle_peer_exchange_response`].
    PeerExchangeRequest {
        /// The peer-exchange service peer.
        peer: PeerId,
        /// The query.
        query: PeerExchangeQuery,
    },
    /// The keep-alive loop ran `gap` after its previous run (more than the sleep gap): the
    /// host slept; every connection is being dropped.
    SleepDetected {
        /// Time since the previous run.
        gap: SimDuration,
    },
    /// The online check changed its verdict; no dials while offline.
    OnlineChanged {
        /// The new state.
        online: bool,
    },
}

/// The peer manager; see the module documentation.
#[derive(Clone, Debug)]
pub struct PeerManager {
    config: PeerManagerConfig,
    me: PeerId,
    directory: Rc<Directory>,
    store: PeerStore,
    /// Connected peers → outbound; mirrors the store's `Connected` states.
    connections: BTreeMap<PeerId, bool>,
    /// Peers being dialled; mirrors the store's `Dialing` states.
    dialing: BTreeSet<PeerId>,
    /// Relay mesh peers as the node last reported them (connected ones only).
    mesh_peers: BTreeSet<PeerId>,
    /// Filter service peers in use (connected ones only).
    filter_service_peers: BTreeSet<PeerId>,
    px_peer: Option<PeerId>,
    online: bool,
    network_reachable: bool,
    next_online_check: SimTime,
    next_connectivity: SimTime,
    next_keepalive: Option<SimTime>,
    next_all_peers_ping: SimTime,
    last_keepalive: SimTime,
    round: Option<PingRound>,
    failed_rounds: u32,
    next_discv5: Option<SimTime>,
    next_px: Option<SimTime>,
    next_prune: SimTime,
}

impl PeerManager {
    /// A peer manager for node `me`, started at `now`: the connectivity loop, discv5 and peer
    /// exchange are due at once, keep-alive one interval later.
    pub fn new(
        config: PeerManagerConfig,
        me: PeerId,
        directory: Rc<Directory>,
        now: SimTime,
    ) -> Result<Self, PeerManagerConfigError> {
        config.validate()?;
        let mut config = config;
        config.shards.sort_unstable();
        config.shards.dedup();
        let mut pm = Self {
            store: PeerStore::new(config.peer_store_hard_limit),
            me,
            directory,
            connections: BTreeMap::new(),
            dialing: BTreeSet::new(),
            mesh_peers: BTreeSet::new(),
            filter_service_peers: BTreeSet::new(),
            px_peer: None,
            online: true,
            network_reachable: true,
            next_online_check: now.saturating_add(config.online_check_interval),
            next_connectivity: now,
            next_keepalive: None,
            next_all_peers_ping: now,
            last_keepalive: now,
            round: None,
            failed_rounds: 0,
            next_discv5: config.discv5_interval.map(|_| now),
            next_px: config.px_interval.map(|_| now),
            next_prune: now.saturating_add(config.prune_interval),
            config,
        };
        if let Some(k) = pm.keepalive_config() {
            pm.next_keepalive = Some(now.saturating_add(k.interval));
            pm.next_all_peers_ping = now.saturating_add(k.all_peers_interval);
        }
        Ok(pm)
    }

    /// The configuration in force.
    pub fn config(&self) -> &PeerManagerConfig {
        &self.config
    }

    /// This node.
    pub fn me(&self) -> PeerId {
        self.me
    }

    // ----- time ---------------------------------------------------------------------------

    /// Runs every loop that is due at `now`, in this order: keep-alive (sleep detection first),
    /// online check, connectivity, discv5, peer exchange, store pruning.
    pub fn tick(&mut self, now: SimTime, rng: &mut SimRng, out: &mut Vec<PeerManagerOutput>) {
        if self.next_keepalive.is_some_and(|t| t <= now) {
            self.keepalive_tick(now, rng, out);
        }
        if self.next_online_check <= now {
            self.online_check(now, out);
        }
        if self.next_connectivity <= now {
            self.connectivity_tick(now, rng, out);
        }
        if self.next_discv5.is_some_and(|t| t <= now) {
            self.discv5_tick(now, rng);
        }
        if self.next_px.is_some_and(|t| t <= now) {
            self.px_tick(now, rng, out);
        }
        if self.next_prune <= now {
            self.next_prune = now.saturating_add(self.config.prune_interval);
            let capacity = self.config.peer_store_capacity;
            let threshold = self.config.prune_failed_threshold;
            self.store.prune(rng, capacity, threshold);
        }
    }

    /// The earliest time a loop is due.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        [
            Some(self.next_online_check),
            Some(self.next_connectivity),
            Some(self.next_prune),
            self.next_keepalive,
            self.next_discv5,
            self.next_px,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn online_check(&mut self, now: SimTime, out: &mut Vec<PeerManagerOutput>) {
        self.next_online_check = now.saturating_add(self.config.online_check_interval);
        let online = !self.connections.is_empty() || self.network_reachable;
        if online != self.online {
            self.online = online;
            out.push(PeerManagerOutput::OnlineChanged { online });
        }
    }

    // ----- events -------------------------------------------------------------------------

    /// A connection to `peer` is up (`outbound` when this node dialled). May answer with a
    /// disconnection: cluster mismatch, connection limit, or (nwaku) inbound relay excess.
    /// A second connection to a peer already connected changes nothing.
    pub fn on_connected(
        &mut self,
        now: SimTime,
        peer: PeerId,
        outbound: bool,
        out: &mut Vec<PeerManagerOutput>,
    ) {
        if peer == self.me || self.connections.contains_key(&peer) {
            // One connection per peer (nim-libp2p `MaxConnectionsPerPeer = 1`): a second one
            // changes nothing here.
            return;
        }
        if self.store.get(peer).is_none()
            && !self.learn(
                now,
                peer,
                if outbound {
                    Origin::Static
                } else {
                    Origin::Inbound
                },
            )
        {
            out.push(PeerManagerOutput::Disconnect(peer));
            return;
        }
        self.dialing.remove(&peer);
        let info = self.store.get_mut(peer).expect("known or just learnt");
        info.state = ConnState::Connected {
            outbound,
            since: now,
        };
        info.cannot_connect = false;
        if outbound {
            info.failed_dials = 0;
            info.redial_at = None;
        }
        let wrong_cluster = info.cluster_id.is_some_and(|c| c != self.config.cluster_id);
        self.connections.insert(peer, outbound);
        if self.config.disconnect_on_cluster_mismatch && wrong_cluster {
            self.disconnect(peer, out);
            self.store.remove(peer);
            return;
        }
        if !outbound {
            let over_limit = self.connections.len() > self.config.max_connections;
            let inbound_excess = self.config.prune_inbound_on_connect
                && self.is_relay_peer(peer)
                && self.relay_connection_counts().0 > self.config.in_relay_target;
            if over_limit || inbound_excess {
                self.disconnect(peer, out);
            }
        }
    }

    /// The connection to `peer` closed (either side, any reason).
    pub fn on_disconnected(&mut self, now: SimTime, peer: PeerId) {
        let _ = now;
        if self.connections.remove(&peer).is_none() {
            return;
        }
        self.mesh_peers.remove(&peer);
        self.filter_service_peers.remove(&peer);
        if let Some(info) = self.store.get_mut(peer) {
            info.state = ConnState::NotConnected;
            info.cannot_connect = false;
        }
        self.keepalive_peer_gone(peer);
    }

    /// A dial to `peer` failed (refused, unreachable, or no answer within the dial timeout):
    /// counts the failure and sets the backoff.
    pub fn on_dial_failed(&mut self, now: SimTime, rng: &mut SimRng, peer: PeerId) {
        self.dialing.remove(&peer);
        let policy = self.config.backoff;
        let Some(info) = self.store.get_mut(peer) else {
            return;
        };
        if info.is_connected() {
            return;
        }
        info.state = ConnState::NotConnected;
        info.failed_dials += 1;
        info.cannot_connect = true;
        match policy.delay(rng, info.failed_dials, info.backoff_draws) {
            Some(delay) => info.redial_at = Some(now.saturating_add(delay)),
            None => info.gave_up = true,
        }
        info.backoff_draws += 1;
    }

    /// Whether the network answers when there is no connection (the simulator's stand-in for
    /// nwaku's DNS probe); takes effect at the next online check.
    pub fn set_network_reachable(&mut self, reachable: bool) {
        self.network_reachable = reachable;
    }

    /// The relay mesh peers (keep-alive pings them first); unconnected ones are ignored.
    pub fn set_mesh_peers(&mut self, peers: impl IntoIterator<Item = PeerId>) {
        self.mesh_peers = peers
            .into_iter()
            .filter(|p| self.connections.contains_key(p))
            .collect();
    }

    /// The filter service peers in use (go-waku keep-alive pings them); unconnected ones are
    /// ignored.
    pub fn set_filter_service_peers(&mut self, peers: impl IntoIterator<Item = PeerId>) {
        self.filter_service_peers = peers
            .into_iter()
            .filter(|p| self.connections.contains_key(p))
            .collect();
    }

    // ----- the store ----------------------------------------------------------------------

    /// Adds a peer learnt from `record` via `origin` (ignored when it is this node or already
    /// known). Returns whether it was added.
    pub fn add_peer(&mut self, now: SimTime, record: &PeerRecord, origin: Origin) -> bool {
        if record.id() == self.me || self.store.get(record.id()).is_some() {
            // Known peers are left as they are (checked first: building the entry costs).
            return false;
        }
        self.store
            .insert(record.id(), PeerInfo::from_record(record, origin, now))
    }

    /// Adds `peer` as a static (configured) peer, with its directory record when it has one.
    pub fn add_static_peer(&mut self, now: SimTime, peer: PeerId) -> bool {
        peer != self.me && self.store.get(peer).is_none() && self.learn(now, peer, Origin::Static)
    }

    /// What the store knows about `peer`.
    pub fn peer(&self, peer: PeerId) -> Option<&PeerInfo> {
        self.store.get(peer)
    }

    /// Known peers.
    pub fn known_peers(&self) -> usize {
        self.store.len()
    }

    /// Connected peers with their direction (true = outbound), by id.
    pub fn connections(&self) -> impl Iterator<Item = (PeerId, bool)> + '_ {
        self.connections.iter().map(|(p, o)| (*p, *o))
    }

    /// Dials in flight.
    pub fn dials_in_flight(&self) -> usize {
        self.dialing.len()
    }

    /// The online verdict.
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Consecutive keep-alive rounds in which every ping failed.
    pub fn failed_keepalive_rounds(&self) -> u32 {
        self.failed_rounds
    }

    // ----- internals ----------------------------------------------------------------------

    /// Adds a peer from the directory (or with nothing advertised when it is not there).
    fn learn(&mut self, now: SimTime, peer: PeerId, origin: Origin) -> bool {
        let info = match self.directory.get(peer) {
            Some(record) => PeerInfo::from_record(record, origin, now),
            None => PeerInfo::unknown(origin, now),
        };
        self.store.insert(peer, info)
    }

    /// Asks for a disconnection and records `peer` as disconnected.
    fn disconnect(&mut self, peer: PeerId, out: &mut Vec<PeerManagerOutput>) {
        if self.connections.remove(&peer).is_none() {
            return;
        }
        out.push(PeerManagerOutput::Disconnect(peer));
        self.mesh_peers.remove(&peer);
        self.filter_service_peers.remove(&peer);
        if let Some(info) = self.store.get_mut(peer) {
            info.state = ConnState::NotConnected;
        }
        self.keepalive_peer_gone(peer);
    }

    fn disconnect_all(&mut self, out: &mut Vec<PeerManagerOutput>) {
        let peers: Vec<PeerId> = self.connections.keys().copied().collect();
        for peer in peers {
            self.disconnect(peer, out);
        }
    }
}
