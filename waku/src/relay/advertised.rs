//! nim: the ids we advertised to each peer by IHAVE, per heartbeat, so that an IWANT is served
//! only for ids advertised to that peer within the last `count` heartbeats, once each.
//!
//! For every peer this behaves exactly like a `VecDeque<BTreeSet<MessageId>>` of at most
//! `count` windows (front = current) that gets a new empty set pushed in front, and is
//! truncated to `count` sets, at every heartbeat, and is dropped when the peer disconnects;
//! an IWANT removes the id from the newest window holding it.
//!
//! Stored as the heartbeat sends it: one batch per IHAVE emission (heartbeat, the ids, the
//! peers they went to, and which (peer, id) were served since). A peer's window of heartbeat
//! `t` is the union of the batches of `t` that list it, minus what was served. Recording an
//! emission is one push, and windows falling out are batches popped from the front; only the
//! rare IWANT looks through the batches.
//!
//! Bound: the batches of the last `count` heartbeats (one per topic gossiped per heartbeat),
//! and a few expired ones kept for their buffers.

use std::collections::VecDeque;

use crate::message::MessageId;

use super::PeerId;

/// One IHAVE emission.
#[derive(Clone, Debug)]
struct Batch {
    tick: u64,
    ids: Vec<MessageId>,
    peers: Vec<PeerId>,
    /// (peer, id) removed since by an IWANT.
    served: Vec<(PeerId, MessageId)>,
}

/// The ids advertised to each peer, per heartbeat. See the [module docs](self).
#[derive(Clone, Debug)]
pub(super) struct Advertised {
    /// Number of windows.
    count: u64,
    /// Oldest first.
    batches: VecDeque<Batch>,
    /// Expired batches kept for their buffers (at most [`MAX_SPARE_BATCHES`]).
    spare: Vec<Batch>,
}

/// Expired batches kept for reuse (a heartbeat records one per gossiped topic).
const MAX_SPARE_BATCHES: usize = 4;

impl Advertised {
    /// Nothing advertised, `count` (≥ 1) windows per peer.
    pub(super) fn new(count: usize) -> Self {
        Self {
            count: count.max(1) as u64,
            batches: VecDeque::new(),
            spare: Vec::new(),
        }
    }

    /// Records that `ids` were advertised to `peers` at heartbeat `tick` (no-op when either
    /// is empty).
    pub(super) fn record(
        &mut self,
        tick: u64,
        ids: impl IntoIterator<Item = MessageId>,
        peers: impl IntoIterator<Item = PeerId>,
    ) {
        self.expire(tick);
        let mut batch = self.spare.pop().unwrap_or_else(|| Batch {
            tick,
            ids: Vec::new(),
            peers: Vec::new(),
            served: Vec::new(),
        });
        batch.tick = tick;
        batch.ids.extend(ids);
        batch.peers.extend(peers);
        if batch.ids.is_empty() || batch.peers.is_empty() {
            self.recycle(batch);
            return;
        }
        self.batches.push_back(batch);
    }

    fn recycle(&mut self, mut batch: Batch) {
        if self.spare.len() < MAX_SPARE_BATCHES {
            batch.ids.clear();
            batch.peers.clear();
            batch.served.clear();
            self.spare.push(batch);
        }
    }

    /// Removes `id` from the newest window of `peer` holding it at heartbeat `tick`; false if
    /// none does.
    pub(super) fn remove_newest(&mut self, peer: PeerId, id: &MessageId, tick: u64) -> bool {
        self.expire(tick);
        let holds = |b: &Batch| {
            b.ids.contains(id) && b.peers.contains(&peer) && !b.served.contains(&(peer, *id))
        };
        let Some(newest) = self.batches.iter().rev().find(|b| holds(b)).map(|b| b.tick) else {
            return false;
        };
        // The window is a set: every batch of that heartbeat that lists (peer, id) loses it.
        for batch in self.batches.iter_mut().filter(|b| b.tick == newest) {
            if holds(batch) {
                batch.served.push((peer, *id));
            }
        }
        true
    }

    /// Forgets every window of `peer` (it disconnected).
    pub(super) fn remove_peer(&mut self, peer: PeerId) {
        for batch in &mut self.batches {
            batch.peers.retain(|&p| p != peer);
            batch.served.retain(|&(p, _)| p != peer);
        }
    }

    /// Drops the batches of windows that fell out by heartbeat `tick`.
    pub(super) fn expire(&mut self, tick: u64) {
        let kept = (tick + 1).saturating_sub(self.count);
        while self.batches.front().is_some_and(|b| b.tick < kept) {
            let batch = self.batches.pop_front().expect("checked above");
            self.recycle(batch);
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

    /// A window is a set: an id advertised twice to a peer in one heartbeat is served once.
    #[test]
    fn one_window_per_heartbeat() {
        let mut batches = Advertised::new(3);
        batches.record(5, vec![id(1)], vec![PeerId(1)]);
        batches.record(5, vec![id(1), id(2)], vec![PeerId(1), PeerId(2)]);
        assert!(batches.remove_newest(PeerId(1), &id(1), 5));
        assert!(!batches.remove_newest(PeerId(1), &id(1), 5));
        batches.record(6, vec![id(1)], vec![PeerId(1)]);
        assert!(batches.remove_newest(PeerId(1), &id(1), 6));
        assert!(!batches.remove_newest(PeerId(1), &id(1), 6));
        assert!(batches.remove_newest(PeerId(2), &id(1), 6));
    }

    /// Against a `VecDeque<BTreeSet>` per peer, as the relay kept them, over a scripted
    /// history: several emissions per heartbeat (topics), IWANTs, heartbeats in quick
    /// succession, a peer leaving and coming back.
    #[test]
    fn matches_a_deque_of_sets_per_peer() {
        let count = 3;
        let mut batches = Advertised::new(count);
        let mut tick = 0;
        let peers = [PeerId(1), PeerId(2), PeerId(3), PeerId(4)];
        let mut model: BTreeMap<PeerId, VecDeque<BTreeSet<MessageId>>> = peers
            .iter()
            .map(|&p| (p, VecDeque::from([BTreeSet::new()])))
            .collect();
        for step in 0u32..500 {
            match step % 6 {
                0 | 1 => {
                    // An emission: a few ids (distinct per emission within a heartbeat, as
                    // each id has one topic) to a few peers.
                    // (Overlapping ids within a heartbeat too, which the relay never sends.)
                    let base = ((step / 6) % 5) as u8 * 2;
                    let ids: Vec<MessageId> =
                        (0..1 + step % 3).map(|k| id(base + k as u8)).collect();
                    let to: Vec<PeerId> = peers
                        .iter()
                        .copied()
                        .filter(|p| (p.0 + step) % 3 != 0)
                        .collect();
                    for p in &to {
                        model.get_mut(p).unwrap()[0].extend(ids.iter().copied());
                    }
                    batches.record(tick, ids, to);
                }
                2 | 3 => {
                    let peer = peers[(step as usize / 2) % 4];
                    let n = id(((step * 7) % 13) as u8);
                    let windows = model.get_mut(&peer).unwrap();
                    let expected = windows.iter_mut().any(|w| w.remove(&n));
                    assert_eq!(
                        batches.remove_newest(peer, &n, tick),
                        expected,
                        "step {step}"
                    );
                }
                4 if step % 40 == 4 => {
                    let peer = peers[(step as usize / 40) % 4];
                    batches.remove_peer(peer);
                    model.insert(peer, VecDeque::from([BTreeSet::new()]));
                }
                _ => {
                    for _ in 0..1 + (step / 6) % 3 {
                        for windows in model.values_mut() {
                            windows.push_front(BTreeSet::new());
                            windows.truncate(count);
                        }
                        tick += 1;
                    }
                }
            }
        }
        tick += count as u64;
        batches.expire(tick);
        assert!(batches.batches.is_empty());
    }
}
