//! Per-peer, per-heartbeat sets of message ids, kept for all peers of a relay in one place:
//! the IDONTWANT ids each peer sent us.
//!
//! For every peer this behaves exactly like a `VecDeque<BTreeSet<MessageId>>` of at most
//! `count` windows (front = current) that gets a new empty set pushed in front, and is
//! truncated to `count` sets, at every heartbeat, and is dropped when the peer disconnects.
//!
//! Stored by id rather than by peer: for each id, the (peer, heartbeat) pairs of the windows
//! holding it, in insertion (hence heartbeat) order. Every call passes the relay's current
//! heartbeat number, so a heartbeat changes nothing here: pairs of windows that have fallen
//! out are ignored, and dropped as time goes by (a log of (heartbeat, id) says which ids to
//! look at). Why by id: the hot question is per message — which mesh peers said they do not
//! want this message — and all peers' answers then sit in one entry, instead of one lookup in
//! each peer's own state.
//!
//! Bound: the pairs of the last `count` heartbeats (a few more until the next insertion);
//! how many ids one peer's window takes is up to the caller (the IDONTWANT budget per
//! heartbeat).

use std::collections::VecDeque;

use crate::message::{IdMap, MessageId};

use super::PeerId;

/// Id sets per peer and heartbeat. See the [module docs](self).
#[derive(Clone, Debug)]
pub(super) struct PeerIdWindows {
    /// Number of windows.
    count: u64,
    /// Per id, (peer, heartbeat of the window) pairs in insertion order (looked up only).
    by_id: IdMap<Vec<(PeerId, u64)>>,
    /// (heartbeat, id) for the first pair of each id in each heartbeat, in order: which
    /// entries to prune as windows fall out.
    log: VecDeque<(u64, MessageId)>,
}

impl PeerIdWindows {
    /// Empty windows, `count` (≥ 1) per peer.
    pub(super) fn new(count: usize) -> Self {
        Self {
            count: count.max(1) as u64,
            by_id: IdMap::default(),
            log: VecDeque::new(),
        }
    }

    /// The oldest heartbeat whose window is still kept at heartbeat `tick`.
    #[inline]
    fn oldest_kept(&self, tick: u64) -> u64 {
        (tick + 1).saturating_sub(self.count)
    }

    /// Adds `id` to `peer`'s current window (heartbeat `tick`); false if it was there.
    pub(super) fn insert(&mut self, peer: PeerId, id: MessageId, tick: u64) -> bool {
        self.expire(tick);
        // Room for a mesh's worth of peers, allocated once.
        let pairs = self
            .by_id
            .entry(id)
            .or_insert_with(|| Vec::with_capacity(8));
        if pairs.contains(&(peer, tick)) {
            return false;
        }
        if pairs.last().is_none_or(|&(_, t)| t != tick) {
            self.log.push_back((tick, id));
        }
        pairs.push((peer, tick));
        true
    }

    /// The live (peer, heartbeat) pairs of `id` at heartbeat `tick` (plus stale ones, which
    /// [`live`] tells apart), for checking several peers at once.
    pub(super) fn pairs(&self, id: &MessageId) -> &[(PeerId, u64)] {
        self.by_id.get(id).map_or(&[], Vec::as_slice)
    }

    /// Whether `pairs` (from [`PeerIdWindows::pairs`]) hold `id` in a window of `peer` that
    /// is live at heartbeat `tick`.
    pub(super) fn live(&self, pairs: &[(PeerId, u64)], peer: PeerId, tick: u64) -> bool {
        let kept = self.oldest_kept(tick);
        pairs.iter().any(|&(p, t)| p == peer && t >= kept)
    }

    /// Whether a window of `peer` holds `id` at heartbeat `tick`.
    pub(super) fn contains(&self, peer: PeerId, id: &MessageId, tick: u64) -> bool {
        self.live(self.pairs(id), peer, tick)
    }

    /// Forgets every window of `peer` (it disconnected).
    pub(super) fn remove_peer(&mut self, peer: PeerId) {
        for (_, id) in &self.log {
            if let Some(pairs) = self.by_id.get_mut(id) {
                pairs.retain(|&(p, _)| p != peer);
            }
        }
    }

    /// Drops the pairs of windows that fell out by heartbeat `tick`.
    pub(super) fn expire(&mut self, tick: u64) {
        let kept = self.oldest_kept(tick);
        while let Some(&(t, id)) = self.log.front() {
            if t >= kept {
                break;
            }
            self.log.pop_front();
            if let Some(pairs) = self.by_id.get_mut(&id) {
                pairs.retain(|&(_, t)| t >= kept);
                if pairs.is_empty() {
                    self.by_id.remove(&id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, VecDeque};

    use super::*;

    fn id(n: u8) -> MessageId {
        MessageId([n; 32])
    }

    /// Against a `VecDeque<BTreeSet>` per peer, as the relay kept them, over a scripted
    /// history with stretches of several heartbeats and a peer leaving and coming back.
    #[test]
    fn matches_a_deque_of_sets_per_peer() {
        let count = 3;
        let mut shared = PeerIdWindows::new(count);
        let mut tick = 0;
        let mut model: BTreeMap<PeerId, VecDeque<BTreeSet<MessageId>>> = BTreeMap::new();
        let peers = [PeerId(1), PeerId(2), PeerId(3)];
        for p in peers {
            model.insert(p, VecDeque::from([BTreeSet::new()]));
        }
        for step in 0u32..400 {
            let peer = peers[(step as usize * 7 / 3) % 3];
            let n = (step * 7 % 11) as u8;
            match step % 7 {
                0..=4 => {
                    let added = model.get_mut(&peer).unwrap()[0].insert(id(n));
                    assert_eq!(shared.insert(peer, id(n), tick), added);
                }
                5 if step % 45 == 5 => {
                    // `peer` disconnects and reconnects: its windows start over.
                    shared.remove_peer(peer);
                    model.insert(peer, VecDeque::from([BTreeSet::new()]));
                }
                _ => {
                    for _ in 0..1 + (step / 7) % 3 {
                        for windows in model.values_mut() {
                            windows.push_front(BTreeSet::new());
                            windows.truncate(count);
                        }
                        tick += 1;
                    }
                    if step % 2 == 0 {
                        shared.expire(tick);
                    }
                }
            }
            for (&p, windows) in &model {
                for n in 0..12 {
                    let expected = windows.iter().any(|w| w.contains(&id(n)));
                    assert_eq!(shared.contains(p, &id(n), tick), expected, "step {step}");
                }
            }
        }
        // Old windows are dropped, not just ignored.
        tick += count as u64;
        shared.expire(tick);
        assert!(shared.by_id.is_empty() && shared.log.is_empty());
    }
}
