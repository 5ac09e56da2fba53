//! The connectivity loop: prune inbound relay connections above the inbound target, then dial
//! eligible known peers while relay connections are below the outbound target, within the
//! parallel-dial and total-connection limits; nwaku's dynamic loop interval; and the dials a
//! node asks for itself (service peers).

use sim_core::{NodeId as PeerId, SimDuration, SimRng, SimTime};

use super::config::DialRule;
use super::discovery::Capabilities;
use super::store::{ConnState, PeerInfo};
use super::{PeerManager, PeerManagerOutput};

impl PeerManager {
    /// Whether `peer` counts as a relay peer: it advertises relay (when this node runs
    /// relay), or any peer (when it does not, as nwaku's loop then counts every connection).
    pub(super) fn is_relay_peer(&self, peer: PeerId) -> bool {
        !self.config.relay
            || self
                .store
                .get(peer)
                .is_some_and(|p| p.capabilities.contains(Capabilities::RELAY))
    }

    /// (inbound, outbound) relay connections.
    pub fn relay_connection_counts(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        for (peer, outbound) in &self.connections {
            if self.is_relay_peer(*peer) {
                if *outbound {
                    counts.1 += 1;
                } else {
                    counts.0 += 1;
                }
            }
        }
        counts
    }

    /// Relay peers being dialled.
    fn dialing_relay(&self) -> usize {
        self.dialing
            .iter()
            .filter(|p| self.is_relay_peer(**p))
            .count()
    }

    /// Whether the connectivity loop may dial `info` at `now`.
    fn dial_candidate(&self, now: SimTime, info: &PeerInfo) -> bool {
        let relay_ok = !self.config.relay || info.capabilities.contains(Capabilities::RELAY);
        let cluster_ok = info.cluster_id.is_none_or(|c| c == self.config.cluster_id);
        let shard_ok = self.config.shards.is_empty()
            || info.shards.is_empty()
            || info
                .shards
                .iter()
                .any(|s| self.config.shards.binary_search(s).is_ok());
        info.state == ConnState::NotConnected
            && info.dialable_at(now)
            && relay_ok
            && cluster_ok
            && shard_ok
    }

    /// One connectivity-loop run at `now`.
    pub(super) fn connectivity_tick(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Vec<PeerManagerOutput>,
    ) {
        let light_go =
            !self.config.relay && self.config.dial_rule == DialRule::ConnectedBelowTarget;
        if self.online && !light_go {
            self.prune_inbound(rng, out);
            self.dial_more(now, rng, out);
        }
        let next = self.connectivity_delay();
        self.next_connectivity = now.saturating_add(next);
    }

    /// Disconnects random inbound relay peers above the inbound target.
    fn prune_inbound(&mut self, rng: &mut SimRng, out: &mut Vec<PeerManagerOutput>) {
        let (inbound, _) = self.relay_connection_counts();
        let excess = inbound.saturating_sub(self.config.in_relay_target);
        if excess == 0 {
            return;
        }
        let mut victims: Vec<PeerId> = self
            .connections
            .iter()
            .filter(|(p, outbound)| !**outbound && self.is_relay_peer(**p))
            .map(|(p, _)| *p)
            .collect();
        rng.shuffle(&mut victims);
        for peer in victims.into_iter().take(excess) {
            self.disconnect(peer, out);
        }
    }

    fn dial_more(&mut self, now: SimTime, rng: &mut SimRng, out: &mut Vec<PeerManagerOutput>) {
        let (inbound, outbound) = self.relay_connection_counts();
        let dialing = self.dialing_relay();
        let have = match self.config.dial_rule {
            DialRule::OutboundBelowTarget => outbound + dialing,
            DialRule::ConnectedBelowTarget => inbound + outbound + dialing,
        };
        let need = self.config.out_relay_target.saturating_sub(have);
        let parallel_room = self
            .config
            .max_parallel_dials
            .saturating_sub(self.dialing.len());
        let conn_room = self
            .config
            .max_connections
            .saturating_sub(self.connections.len() + self.dialing.len());
        let budget = need.min(parallel_room).min(conn_room);
        if budget == 0 {
            return;
        }
        let mut candidates: Vec<PeerId> = self
            .store
            .iter()
            .filter(|(_, info)| self.dial_candidate(now, info))
            .map(|(id, _)| id)
            .collect();
        rng.shuffle(&mut candidates);
        for peer in candidates.into_iter().take(budget) {
            self.start_dial(now, peer, out);
        }
    }

    /// nwaku: `max(min, interval × min(outFactor, inFactor))` truncated to whole seconds, with
    /// outFactor = min(out / outTarget, 1) and inFactor = 1 − min(excessIn / inTarget, 1);
    /// dials in flight count as outbound (nwaku awaits them inside the loop). go-waku: fixed.
    fn connectivity_delay(&self) -> SimDuration {
        let cfg = &self.config;
        if !cfg.dynamic_connectivity_interval {
            return cfg.connectivity_interval;
        }
        let (inbound, outbound) = self.relay_connection_counts();
        let out_now = (outbound + self.dialing_relay()) as f64;
        let out_factor = if cfg.out_relay_target == 0 {
            1.0
        } else {
            (out_now / cfg.out_relay_target as f64).min(1.0)
        };
        let excess_in = inbound.saturating_sub(cfg.in_relay_target) as f64;
        let in_factor = if cfg.in_relay_target == 0 {
            if excess_in > 0.0 { 0.0 } else { 1.0 }
        } else {
            1.0 - (excess_in / cfg.in_relay_target as f64).min(1.0)
        };
        let factor = out_factor.min(in_factor);
        let secs = (cfg.connectivity_interval.as_secs_f64() * factor).trunc() as u64;
        SimDuration::from_secs(secs).max(cfg.min_connectivity_interval)
    }

    /// Marks `peer` as being dialled and asks the node to dial it.
    fn start_dial(&mut self, now: SimTime, peer: PeerId, out: &mut Vec<PeerManagerOutput>) {
        if let Some(info) = self.store.get_mut(peer) {
            info.state = ConnState::Dialing { since: now };
            self.dialing.insert(peer);
            out.push(PeerManagerOutput::Dial(peer));
        }
    }

    /// Dials `peer` on the node's behalf (a service peer for store, filter or lightpush),
    /// ignoring backoff as nwaku's `dialPeer` does, but not while offline, not beyond the
    /// connection limit, and not when already connected or dialling. Unknown peers are looked
    /// up in the directory. Returns whether a [`PeerManagerOutput::Dial`] was emitted.
    pub fn dial(&mut self, now: SimTime, peer: PeerId, out: &mut Vec<PeerManagerOutput>) -> bool {
        if peer == self.me || !self.online {
            return false;
        }
        if self.connections.len() + self.dialing.len() >= self.config.max_connections {
            return false;
        }
        if self.store.get(peer).is_none() {
            self.learn(now, peer, super::store::Origin::Static);
        }
        match self.store.get(peer) {
            Some(info) if info.state == ConnState::NotConnected => {
                self.start_dial(now, peer, out);
                true
            }
            _ => false,
        }
    }

    /// A random known peer advertising `capability` (nwaku `selectPeer`: any peer in the store
    /// supporting the protocol, connected or not), or `None`.
    pub fn select_service_peer(
        &self,
        rng: &mut SimRng,
        capability: Capabilities,
    ) -> Option<PeerId> {
        let peers: Vec<PeerId> = self
            .store
            .iter()
            .filter(|(_, p)| {
                p.capabilities.contains(capability)
                    && !p.gave_up
                    && p.cluster_id.is_none_or(|c| c == self.config.cluster_id)
            })
            .map(|(id, _)| id)
            .collect();
        (!peers.is_empty()).then(|| peers[rng.index(peers.len())])
    }
}
