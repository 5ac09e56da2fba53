//! Feeding the peer store: discv5 lookups drawn from the [`Directory`](super::Directory), and
//! 34/WAKU2-PEER-EXCHANGE both ways — the client's periodic request and handling of the
//! answer, and the service's answer (nwaku `getEnrsFromStore`: a reservoir sample of up to
//! `min(60, num_peers)` peers it found through discv5, of its cluster, whose last dial did not
//! fail).

use std::rc::Rc;

use sim_core::{NodeId as PeerId, SimRng, SimTime};

use super::discovery::{Capabilities, PeerRecord};
use super::enr;
use super::store::Origin;
use super::{PeerManager, PeerManagerOutput};
use crate::proto::{PeerExchangePeerInfo, PeerExchangeQuery, PeerExchangeResponse};

/// Peer-exchange success status (nwaku `PeerExchangeResponseStatusCode.SUCCESS`).
pub const PX_SUCCESS: u32 = 200;

impl PeerManager {
    /// Whether a discovered record passes nwaku's discv5 predicate: same cluster, and a shared
    /// shard when this node has shards.
    fn discv5_accepts(&self, record: &PeerRecord) -> bool {
        record.cluster_id() == self.config.cluster_id
            && (self.config.shards.is_empty() || record.shares_shard(&self.config.shards))
    }

    /// One discv5 lookup at `now`: a random sample of the directory, filtered by the
    /// predicate, added to the store with origin Discv5.
    pub(super) fn discv5_tick(&mut self, now: SimTime, rng: &mut SimRng) {
        let Some(interval) = self.config.discv5_interval else {
            self.next_discv5 = None;
            return;
        };
        self.next_discv5 = Some(now.saturating_add(interval));
        let directory = Rc::clone(&self.directory);
        for record in directory.discv5_sample(rng, self.me, self.config.discv5_sample_size) {
            if self.discv5_accepts(record) {
                self.add_peer(now, record, Origin::Discv5);
            }
        }
    }

    /// One peer-exchange client tick at `now`: asks a peer-exchange service peer for
    /// `px_num_peers` peers (the configured one, else a random known peer serving PX).
    pub(super) fn px_tick(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        out: &mut Vec<PeerManagerOutput>,
    ) {
        let Some(interval) = self.config.px_interval else {
            self.next_px = None;
            return;
        };
        self.next_px = Some(now.saturating_add(interval));
        if !self.online {
            return;
        }
        if self.config.px_only_below_target
            && self.relay_connection_counts().1 >= self.config.out_relay_target
        {
            return;
        }
        let peer = self
            .px_peer
            .or_else(|| self.select_service_peer(rng, Capabilities::PEER_EXCHANGE));
        if let Some(peer) = peer {
            out.push(PeerManagerOutput::PeerExchangeRequest {
                peer,
                query: PeerExchangeQuery {
                    num_peers: self.config.px_num_peers,
                },
            });
        }
    }

    /// Answers a peer-exchange query as a service: up to `min(px_max_response,
    /// query.num_peers)` ENRs, reservoir-sampled in peer order from peers learnt through
    /// discv5, of this node's cluster, whose last dial did not fail.
    pub fn handle_peer_exchange_request(
        &self,
        rng: &mut SimRng,
        query: &PeerExchangeQuery,
    ) -> PeerExchangeResponse {
        let k = usize::try_from(query.num_peers)
            .unwrap_or(usize::MAX)
            .min(self.config.px_max_response);
        let mut chosen: Vec<PeerExchangePeerInfo> = Vec::with_capacity(k);
        let mut seen = 0usize;
        for (_, info) in self.store.iter() {
            let Some(enr) = &info.enr else { continue };
            if info.origin != Origin::Discv5
                || info.cannot_connect
                || info.cluster_id.is_some_and(|c| c != self.config.cluster_id)
            {
                continue;
            }
            if chosen.len() < k {
                chosen.push(PeerExchangePeerInfo { enr: enr.clone() });
            } else if k > 0 {
                let j = rng.index(seen + 1);
                if j < k {
                    chosen[j] = PeerExchangePeerInfo { enr: enr.clone() };
                }
            }
            seen += 1;
        }
        PeerExchangeResponse {
            peer_infos: chosen,
            status_code: Some(PX_SUCCESS),
            status_desc: None,
        }
    }

    /// Takes in a peer-exchange answer: every decodable ENR other than this node's own is
    /// added with origin PeerExchange. A non-success status, or (older responders without a
    /// status) an empty answer, adds nothing. Returns how many peers were new.
    pub fn handle_peer_exchange_response(
        &mut self,
        now: SimTime,
        response: &PeerExchangeResponse,
    ) -> usize {
        if response.status_code.is_some_and(|c| c != PX_SUCCESS) {
            return 0;
        }
        let mut added = 0;
        for info in &response.peer_infos {
            let Ok(record) = enr::decode(&info.enr) else {
                continue;
            };
            if record.id() != self.me && self.add_peer(now, &record, Origin::PeerExchange) {
                added += 1;
            }
        }
        added
    }

    /// Sets the peer-exchange service peer to ask (nwaku `--peer-exchange-node`); `None` =
    /// pick a random known peer serving PX each time.
    pub fn set_peer_exchange_peer(&mut self, peer: Option<PeerId>) {
        self.px_peer = peer;
    }
}
