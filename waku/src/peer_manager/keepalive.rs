//! Keep-alive: periodic libp2p pings of connected peers, and what nwaku and go-waku build on
//! them — sleep detection (the loop ran late ⇒ the host slept ⇒ drop every connection),
//! offline detection (rounds where every ping failed ⇒ drop every connection), and go-waku's
//! disconnection of a peer whose pings keep failing.
//!
//! A round pings a selection of peers (mesh peers first, then random others up to a limit;
//! every `all_peers_interval` all peers in scope); the node sends each [`Ping`] and reports its
//! fate to [`PeerManager::on_ping_result`] within the ping timeout. A round still running when
//! the next tick comes delays the next round (go-waku's loop blocks on its pings).
//!
//! [`Ping`]: super::PeerManagerOutput::Ping

use std::collections::BTreeMap;

use sim_core::{NodeId as PeerId, SimDuration, SimRng, SimTime};

use super::{PeerManager, PeerManagerOutput};

/// Which connected peers a keep-alive round draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingScope {
    /// nwaku: outbound connections (`connectedPeers()[1]`).
    Outbound,
    /// go-waku: connected relay peers of either direction (`PubSub().ListPeers(topic)`).
    RelayPeers,
}

/// Keep-alive parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAliveConfig {
    /// Round period: 10 s in both (nwaku `randomPeersKeepalive`, go-waku `WithKeepAlive(10 s, …)`).
    pub interval: SimDuration,
    /// Period of the rounds that ping every peer in scope: nwaku `allPeersKeepalive` 2 min,
    /// go-waku `--keep-alive` 5 min.
    pub all_peers_interval: SimDuration,
    /// Peers per ordinary round: all mesh peers, then random others up to this many (10).
    pub max_random_peers: usize,
    /// Where the pinged peers come from.
    pub scope: PingScope,
    /// go-waku also pings every filter service peer in each ordinary round.
    pub include_filter_service_peers: bool,
    /// How long the node waits for a ping (nwaku 5 s for the parallel batch, go-waku 7 s per
    /// attempt); the node applies it and reports a failure.
    pub ping_timeout: SimDuration,
    /// Attempts per peer per round (nwaku 1, go-waku `maxAllowedPingFailures` 2).
    pub ping_attempts: u32,
    /// go-waku closes the connection to a peer whose every attempt failed; nwaku only counts.
    pub disconnect_on_failed_ping: bool,
    /// Consecutive rounds in which every ping failed before every connection is dropped:
    /// nwaku `consecutiveIterationFailures > 2` ⇒ 3, go-waku `iterationFailure >= 2` ⇒ 2.
    pub failed_rounds_before_disconnect_all: u32,
    /// A gap longer than this since the previous round means the host slept: drop every
    /// connection (both: 3 × interval = 30 s).
    pub sleep_gap: SimDuration,
    /// go-waku runs keep-alive only when relay is enabled.
    pub only_with_relay: bool,
}

impl KeepAliveConfig {
    /// nwaku `node_health_monitor.nim` `keepAliveLoop` (always on since v0.37).
    pub const fn nwaku() -> Self {
        Self {
            interval: SimDuration::from_secs(10),
            all_peers_interval: SimDuration::from_mins(2),
            max_random_peers: 10,
            scope: PingScope::Outbound,
            include_filter_service_peers: false,
            ping_timeout: SimDuration::from_secs(5),
            ping_attempts: 1,
            disconnect_on_failed_ping: false,
            failed_rounds_before_disconnect_all: 3,
            sleep_gap: SimDuration::from_secs(30),
            only_with_relay: false,
        }
    }

    /// go-waku `node/keepalive.go` `startKeepAlive` with the CLI defaults.
    pub const fn go_waku() -> Self {
        Self {
            interval: SimDuration::from_secs(10),
            all_peers_interval: SimDuration::from_mins(5),
            max_random_peers: 10,
            scope: PingScope::RelayPeers,
            include_filter_service_peers: true,
            ping_timeout: SimDuration::from_secs(7),
            ping_attempts: 2,
            disconnect_on_failed_ping: true,
            failed_rounds_before_disconnect_all: 2,
            sleep_gap: SimDuration::from_secs(30),
            only_with_relay: true,
        }
    }
}

/// One keep-alive round in progress.
#[derive(Clone, Debug, Default)]
pub(super) struct PingRound {
    /// Peer → attempts made, for pings not yet settled.
    pending: BTreeMap<PeerId, u32>,
    pinged: usize,
    ok: usize,
}

impl PeerManager {
    /// Whether the keep-alive loop runs for this node.
    pub(super) fn keepalive_config(&self) -> Option<KeepAliveConfig> {
        self.config
            .keepalive
            .filter(|k| self.config.relay || !k.only_with_relay)
    }

    /// One keep-alive tick at `now`.
    pub(super) fn keepalive_tick(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Vec<PeerManagerOutput>,
    ) {
        let Some(cfg) = self.keepalive_config() else {
            self.next_keepalive = None;
            return;
        };
        self.next_keepalive = Some(now.saturating_add(cfg.interval));
        let gap = now.saturating_duration_since(self.last_keepalive);
        self.last_keepalive = now;
        if gap > cfg.sleep_gap {
            out.push(PeerManagerOutput::SleepDetected { gap });
            self.round = None;
            self.failed_rounds = 0;
            self.disconnect_all(out);
            return;
        }
        if self.round.as_ref().is_some_and(|r| !r.pending.is_empty()) {
            return;
        }
        if self.failed_rounds >= cfg.failed_rounds_before_disconnect_all {
            self.failed_rounds = 0;
            self.disconnect_all(out);
            return;
        }
        let targets = if now >= self.next_all_peers_ping {
            self.next_all_peers_ping = now.saturating_add(cfg.all_peers_interval);
            self.scope_peers(cfg.scope)
        } else {
            self.random_round_peers(rng, &cfg)
        };
        let mut round = PingRound {
            pinged: targets.len(),
            ..PingRound::default()
        };
        for peer in targets {
            round.pending.insert(peer, 1);
            out.push(PeerManagerOutput::Ping(peer));
        }
        self.round = Some(round);
        self.finish_round_if_done();
    }

    /// The fate of one keep-alive [`PeerManagerOutput::Ping`] to `peer`: answered (`ok`) or
    /// failed (error or timeout). May ask for another attempt or a disconnection.
    pub fn on_ping_result(
        &mut self,
        now: SimTime,
        peer: PeerId,
        ok: bool,
        out: &mut Vec<PeerManagerOutput>,
    ) {
        let _ = now;
        let connected = self.store.get(peer).is_some_and(|p| p.is_connected());
        if let Some(info) = self.store.get_mut(peer) {
            info.failed_pings = if ok { 0 } else { info.failed_pings + 1 };
        }
        let Some(cfg) = self.keepalive_config() else {
            return;
        };
        let Some(round) = self.round.as_mut() else {
            return;
        };
        let Some(attempts) = round.pending.get_mut(&peer) else {
            return;
        };
        if ok {
            round.ok += 1;
            round.pending.remove(&peer);
        } else if *attempts < cfg.ping_attempts && connected {
            *attempts += 1;
            out.push(PeerManagerOutput::Ping(peer));
            return;
        } else {
            round.pending.remove(&peer);
            if cfg.disconnect_on_failed_ping && connected {
                self.disconnect(peer, out);
            }
        }
        self.finish_round_if_done();
    }

    /// Settles `peer`'s pending ping as failed (it disconnected).
    pub(super) fn keepalive_peer_gone(&mut self, peer: PeerId) {
        if let Some(round) = self.round.as_mut()
            && round.pending.remove(&peer).is_some()
        {
            self.finish_round_if_done();
        }
    }

    fn finish_round_if_done(&mut self) {
        let Some(round) = &self.round else { return };
        if !round.pending.is_empty() {
            return;
        }
        if round.pinged > 0 && round.ok == 0 {
            self.failed_rounds += 1;
        } else {
            self.failed_rounds = 0;
        }
        self.round = None;
    }

    /// Connected peers in `scope`, by id.
    fn scope_peers(&self, scope: PingScope) -> Vec<PeerId> {
        self.connections
            .iter()
            .filter(|(peer, outbound)| match scope {
                PingScope::Outbound => **outbound,
                PingScope::RelayPeers => self.is_relay_peer(**peer),
            })
            .map(|(peer, _)| *peer)
            .collect()
    }

    /// Mesh peers, then random other peers in scope up to `max_random_peers` in total, then
    /// (go-waku) the filter service peers.
    fn random_round_peers(&self, rng: &mut SimRng, cfg: &KeepAliveConfig) -> Vec<PeerId> {
        let mut chosen: Vec<PeerId> = self
            .mesh_peers
            .iter()
            .copied()
            .filter(|p| self.connections.contains_key(p))
            .collect();
        let mut others: Vec<PeerId> = self
            .scope_peers(cfg.scope)
            .into_iter()
            .filter(|p| !self.mesh_peers.contains(p))
            .collect();
        rng.shuffle(&mut others);
        let room = cfg.max_random_peers.saturating_sub(chosen.len());
        chosen.extend(others.into_iter().take(room));
        if cfg.include_filter_service_peers {
            for p in &self.filter_service_peers {
                if self.connections.contains_key(p) && !chosen.contains(p) {
                    chosen.push(*p);
                }
            }
        }
        chosen
    }
}
