//! Gossip promises (go-libp2p-pubsub `gossipTracer`): when we answer a peer's IHAVE with an
//! IWANT, we track one of the requested ids at random; if no copy of it arrives (from anyone)
//! within `iwant_followup`, the peer broke its promise and earns one behaviour penalty (P7)
//! per broken promise at the next heartbeat.
//!
//! Bound: at most `max` outstanding promises (new ones are not tracked while full); entries
//! leave when fulfilled, broken, or their peer disconnects.

use std::collections::BTreeMap;

use sim_core::{SimRng, SimTime};

use crate::message::MessageId;

use super::PeerId;

/// Outstanding promises by message id, then peer, with their deadline.
#[derive(Clone, Debug)]
pub(crate) struct Promises {
    by_id: BTreeMap<MessageId, BTreeMap<PeerId, SimTime>>,
    len: usize,
    max: usize,
}

impl Promises {
    /// An empty tracker holding at most `max` promises.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            by_id: BTreeMap::new(),
            len: 0,
            max,
        }
    }

    /// `peer` promised `ids` (non-empty) by `deadline`; one of them, drawn from `rng`, is
    /// tracked.
    pub(crate) fn add(
        &mut self,
        peer: PeerId,
        ids: &[MessageId],
        deadline: SimTime,
        rng: &mut SimRng,
    ) {
        if ids.is_empty() || self.len >= self.max {
            return;
        }
        let id = ids[rng.index(ids.len())];
        let peers = self.by_id.entry(id).or_default();
        if let std::collections::btree_map::Entry::Vacant(slot) = peers.entry(peer) {
            slot.insert(deadline);
            self.len += 1;
        }
    }

    /// A copy of `id` arrived: every promise for it is kept.
    pub(crate) fn fulfill(&mut self, id: &MessageId) {
        if let Some(peers) = self.by_id.remove(id) {
            self.len -= peers.len();
        }
    }

    /// Removes the promises past their deadline at `now` and counts them per peer.
    pub(crate) fn take_broken(&mut self, now: SimTime) -> BTreeMap<PeerId, u32> {
        let mut broken = BTreeMap::new();
        let mut removed = 0;
        self.by_id.retain(|_, peers| {
            peers.retain(|peer, deadline| {
                if *deadline < now {
                    *broken.entry(*peer).or_insert(0) += 1;
                    removed += 1;
                    false
                } else {
                    true
                }
            });
            !peers.is_empty()
        });
        self.len -= removed;
        broken
    }

    /// Forgets the promises of a disconnected peer.
    pub(crate) fn remove_peer(&mut self, peer: PeerId) {
        let mut removed = 0;
        self.by_id.retain(|_, peers| {
            if peers.remove(&peer).is_some() {
                removed += 1;
            }
            !peers.is_empty()
        });
        self.len -= removed;
    }

    /// Number of outstanding promises.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_promises_are_counted_once() {
        let mut rng = SimRng::from_seed(1);
        let mut p = Promises::new(10);
        let ids = [MessageId([1; 32])];
        p.add(PeerId(1), &ids, SimTime(100), &mut rng);
        p.add(PeerId(2), &ids, SimTime(100), &mut rng);
        p.add(PeerId(3), &[MessageId([2; 32])], SimTime(100), &mut rng);
        p.fulfill(&MessageId([2; 32]));
        assert_eq!(p.len(), 2);
        assert!(p.take_broken(SimTime(100)).is_empty());
        let broken = p.take_broken(SimTime(101));
        assert_eq!(broken.len(), 2);
        assert_eq!(p.len(), 0);
        assert!(p.take_broken(SimTime(200)).is_empty());
    }
}
