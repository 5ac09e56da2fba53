//! Peer-manager configuration and the `nwaku` / `go_waku` presets.
//!
//! Sources (tags of `reference/waku-protocols.md` §0): \[NWAKU\] `waku/node/peer_manager/
//! peer_manager.nim`, `health_monitor/{node_health_monitor,online_monitor}.nim`,
//! `waku_switch.nim`, `discovery/waku_discv5.nim`, `kernel_api/peer_exchange.nim`,
//! `waku_peer_exchange/common.nim`; \[GOWAKU\] `waku/v2/peermanager/{peer_manager,
//! peer_connector}.go`, `node/keepalive.go`, `cmd/waku/flags.go`. Digest: §7–§8.

use sim_core::SimDuration;

use super::backoff::BackoffPolicy;
use super::keepalive::KeepAliveConfig;

/// When the connectivity loop dials more relay peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialRule {
    /// nwaku `connectToRelayPeers`: while outbound relay connections are below the outbound
    /// target, dial `target − outbound` random eligible peers.
    OutboundBelowTarget,
    /// go-waku `ensureMinRelayConnsPerTopic`: dial `target − connected` eligible peers, where
    /// `connected` counts *all* relay connections (in + out). (go-waku also enters this path
    /// when the mesh is below D_low = 4, but then dials `target − connected` as well, which is
    /// nothing once connected ≥ target, so the mesh test changes no dial.) A go-waku node
    /// without relay dials nothing in this loop ("light mode").
    ConnectedBelowTarget,
}

/// Everything the peer manager does; `Default` is [`PeerManagerConfig::nwaku`].
#[derive(Clone, Debug, PartialEq)]
pub struct PeerManagerConfig {
    /// The node runs relay (relay peers are then those advertising relay).
    pub relay: bool,
    /// The node's cluster; peers of another cluster are not dialled and, with
    /// `disconnect_on_cluster_mismatch`, are dropped on connect (66/WAKU2-METADATA). The
    /// presets use 1 (The Waku Network); bare nwaku defaults to 0.
    pub cluster_id: u16,
    /// The node's relay shards; relay peers must share one (empty = no shard filter).
    pub shards: Vec<u16>,
    /// Connections allowed in total (`--max-connections` 50 in both CLIs); inbound ones
    /// beyond it are refused.
    pub max_connections: usize,
    /// Outbound relay connections sought (nwaku 10, go-waku 13 for 50 connections).
    pub out_relay_target: usize,
    /// Inbound relay connections kept; the excess is pruned (nwaku 20, go-waku 27).
    pub in_relay_target: usize,
    /// When to dial.
    pub dial_rule: DialRule,
    /// Connectivity-loop period: nwaku `ConnectivityLoopInterval` 30 s, go-waku
    /// `peerConnectivityLoopSecs` 15 s.
    pub connectivity_interval: SimDuration,
    /// nwaku shortens the loop to `max(min, interval × min(outFactor, inFactor))`.
    pub dynamic_connectivity_interval: bool,
    /// Floor of the dynamic interval (1 s).
    pub min_connectivity_interval: SimDuration,
    /// Dials in flight at once: nwaku `MaxParallelDials` 10, go-waku `maxActiveDials` 5.
    pub max_parallel_dials: usize,
    /// Time the node gives a dial before reporting it failed: nwaku `DefaultDialTimeout`
    /// 10 s, go-waku `discoveryConnectTimeout` 20 s.
    pub dial_timeout: SimDuration,
    /// Backoff after failed dials.
    pub backoff: BackoffPolicy,
    /// nwaku disconnects a new inbound relay peer at once when inbound relay peers exceed the
    /// target; go-waku only prunes in its connectivity loop.
    pub prune_inbound_on_connect: bool,
    /// Drop a connected peer whose advertised cluster differs (metadata exchange).
    pub disconnect_on_cluster_mismatch: bool,
    /// Peers the store keeps after pruning: nwaku 5 × max connections (`waku_switch.nim`),
    /// go-waku 3 × max connections (`maxConnsToPeerRatio`).
    pub peer_store_capacity: usize,
    /// Simulator bound between prunes: more peers than this evict the least useful one.
    pub peer_store_hard_limit: usize,
    /// Pruning period: 10 min in both (`PrunePeerStoreInterval`, `prunePeerStoreInterval`).
    pub prune_interval: SimDuration,
    /// Failed dials that make a peer the first to prune: nwaku ≥ 5, go-waku > 5.
    pub prune_failed_threshold: u32,
    /// Keep-alive pings and the sleep / offline detection built on them; `None` = none.
    pub keepalive: Option<KeepAliveConfig>,
    /// Online check period (nwaku online monitor 5 s): online ⇔ ≥ 1 connection or the
    /// network answers (the node reports the latter with `set_network_reachable`). No dials
    /// while offline.
    pub online_check_interval: SimDuration,
    /// discv5 lookup period (5 s in both); `None` = no discv5 (light clients).
    pub discv5_interval: Option<SimDuration>,
    /// Records one lookup returns at most (a discv5 random walk ends with a k-bucket of 16).
    pub discv5_sample_size: usize,
    /// Peer-exchange request period as a client: nwaku loop 1 min; `None` = no PX client.
    pub px_interval: Option<SimDuration>,
    /// Peers asked for per request (`DefaultPXNumPeersReq` = 5).
    pub px_num_peers: u64,
    /// Ask only while outbound relay connections are below target (go-waku discovers on
    /// demand); nwaku asks every period.
    pub px_only_below_target: bool,
    /// Most ENRs one PX answer carries as a service (nwaku `MaxPeersCacheSize` = 60).
    pub px_max_response: usize,
}

impl Default for PeerManagerConfig {
    fn default() -> Self {
        Self::nwaku()
    }
}

/// nwaku's relay targets for `max_connections` and a relay share of `relay_percent` %
/// (`--relay-service-ratio` 60:40): relay = ⌈max × share⌉, out = relay div 3, in = the rest.
/// Returns (out, in).
pub fn nwaku_relay_targets(max_connections: usize, relay_percent: usize) -> (usize, usize) {
    let relay = (max_connections * relay_percent).div_ceil(100);
    let out = relay / 3;
    (out, relay - out)
}

/// go-waku's relay targets for `max_connections` (80:20 split, out = relay / 3 but at least
/// 10, in = the rest). Returns (out, in).
pub fn go_waku_relay_targets(max_connections: usize) -> (usize, usize) {
    let relay = max_connections - max_connections / 5;
    let out = (relay / 3).max(10);
    (out, relay.saturating_sub(out))
}

impl PeerManagerConfig {
    /// nwaku (`wakunode2` defaults): 50 connections, 60:40 relay:service ⇒ out 10 / in 20.
    pub fn nwaku() -> Self {
        let max_connections = 50;
        let (out, inb) = nwaku_relay_targets(max_connections, 60);
        Self {
            relay: true,
            cluster_id: 1,
            shards: Vec::new(),
            max_connections,
            out_relay_target: out,
            in_relay_target: inb,
            dial_rule: DialRule::OutboundBelowTarget,
            connectivity_interval: SimDuration::from_secs(30),
            dynamic_connectivity_interval: true,
            min_connectivity_interval: SimDuration::from_secs(1),
            max_parallel_dials: 10,
            dial_timeout: SimDuration::from_secs(10),
            backoff: BackoffPolicy::nwaku(),
            prune_inbound_on_connect: true,
            disconnect_on_cluster_mismatch: true,
            peer_store_capacity: 5 * max_connections,
            peer_store_hard_limit: 10 * max_connections,
            prune_interval: SimDuration::from_mins(10),
            prune_failed_threshold: 5,
            keepalive: Some(KeepAliveConfig::nwaku()),
            online_check_interval: SimDuration::from_secs(5),
            discv5_interval: Some(SimDuration::from_secs(5)),
            discv5_sample_size: 16,
            px_interval: Some(SimDuration::from_mins(1)),
            px_num_peers: 5,
            px_only_below_target: false,
            px_max_response: 60,
        }
    }

    /// go-waku (`cmd/waku` defaults): 50 connections, 80:20 ⇒ out 13 / in 27.
    pub fn go_waku() -> Self {
        let max_connections = 50;
        let (out, inb) = go_waku_relay_targets(max_connections);
        Self {
            out_relay_target: out,
            in_relay_target: inb,
            dial_rule: DialRule::ConnectedBelowTarget,
            connectivity_interval: SimDuration::from_secs(15),
            dynamic_connectivity_interval: false,
            max_parallel_dials: 5,
            dial_timeout: SimDuration::from_secs(20),
            backoff: BackoffPolicy::go_waku(),
            prune_inbound_on_connect: false,
            peer_store_capacity: 3 * max_connections,
            peer_store_hard_limit: 6 * max_connections,
            prune_failed_threshold: 6,
            keepalive: Some(KeepAliveConfig::go_waku()),
            px_only_below_target: true,
            ..Self::nwaku()
        }
    }

    /// Checks the invariants the machine relies on.
    pub fn validate(&self) -> Result<(), PeerManagerConfigError> {
        use PeerManagerConfigError as E;
        if self.max_connections == 0 {
            return Err(E::NoConnections);
        }
        if self.peer_store_capacity < self.max_connections {
            return Err(E::StoreSmallerThanConnections {
                capacity: self.peer_store_capacity,
                max_connections: self.max_connections,
            });
        }
        if self.peer_store_hard_limit < self.peer_store_capacity {
            return Err(E::HardLimitBelowCapacity);
        }
        if self.max_parallel_dials == 0 {
            return Err(E::NoParallelDials);
        }
        if self.connectivity_interval == SimDuration::ZERO
            || self.min_connectivity_interval == SimDuration::ZERO
            || self.prune_interval == SimDuration::ZERO
            || self.online_check_interval == SimDuration::ZERO
            || self.discv5_interval == Some(SimDuration::ZERO)
            || self.px_interval == Some(SimDuration::ZERO)
        {
            return Err(E::ZeroInterval);
        }
        if let Some(k) = &self.keepalive
            && (k.interval == SimDuration::ZERO || k.all_peers_interval < k.interval)
        {
            return Err(E::BadKeepAlive);
        }
        Ok(())
    }
}

/// A configuration the peer manager cannot run with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeerManagerConfigError {
    /// `max_connections` is zero.
    #[error("max_connections must be positive")]
    NoConnections,
    /// nwaku refuses this too ("Max number of connections can't be greater than PeerManager
    /// capacity").
    #[error("peer store capacity {capacity} is below max_connections {max_connections}")]
    StoreSmallerThanConnections {
        /// The capacity.
        capacity: usize,
        /// The connection limit.
        max_connections: usize,
    },
    /// The hard limit must be at least the capacity.
    #[error("peer_store_hard_limit must be at least peer_store_capacity")]
    HardLimitBelowCapacity,
    /// `max_parallel_dials` is zero.
    #[error("max_parallel_dials must be positive")]
    NoParallelDials,
    /// A loop period is zero.
    #[error("loop intervals must be positive")]
    ZeroInterval,
    /// Keep-alive interval zero or all-peers interval below it (nwaku refuses the latter).
    #[error("keep-alive interval must be positive and at most the all-peers interval")]
    BadKeepAlive,
}
