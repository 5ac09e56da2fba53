//! The seen cache: which message ids this node has already processed, for how long, and what
//! became of each (valid, invalid or ignored) together with the peers that delivered it, which
//! is what peer scoring needs to reward or punish duplicates (go-libp2p-pubsub keeps the same
//! "delivery records" for the same time).
//!
//! Entries expire `ttl` after they were first seen (first-seen semantics: a duplicate does not
//! extend the entry). Expiry is lazy, on every access, so a node whose clock jumps (it slept)
//! forgets everything that expired meanwhile. Bound: at most `capacity` entries; when full the
//! oldest entry is forgotten early. Each entry lists at most one delivery per connected peer.

use std::collections::VecDeque;

use sim_core::{SimDuration, SimTime};

use crate::message::{IdMap, MessageId};

use super::PeerId;

/// What validation decided about a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeliveryStatus {
    /// Accepted: delivered locally and forwarded.
    Valid,
    /// Rejected: the sender (and every peer that forwards it again) is penalised.
    Invalid,
    /// Dropped without penalty.
    Ignored,
}

/// One remembered message id.
#[derive(Clone, Debug)]
pub(crate) struct SeenEntry {
    /// When validation finished (synchronous here: when first received).
    pub(crate) validated_at: SimTime,
    /// Outcome of validation.
    pub(crate) status: DeliveryStatus,
    /// Peers that delivered this message (first sender included), each once.
    pub(crate) delivered_by: Vec<PeerId>,
}

/// Time- and size-bounded set of seen message ids.
#[derive(Clone, Debug)]
pub(crate) struct SeenCache {
    ttl: SimDuration,
    capacity: usize,
    /// The records (looked up only; `expiries` holds the order).
    entries: IdMap<SeenEntry>,
    /// (expiry, id) in insertion order; expiries never decrease because `now` never does.
    expiries: VecDeque<(SimTime, MessageId)>,
}

impl SeenCache {
    /// An empty cache keeping ids for `ttl`, at most `capacity` of them.
    pub(crate) fn new(ttl: SimDuration, capacity: usize) -> Self {
        assert!(capacity > 0, "seen cache capacity must be positive");
        Self {
            ttl,
            capacity,
            entries: IdMap::default(),
            expiries: VecDeque::new(),
        }
    }

    /// Forgets every id whose time is up at `now`.
    pub(crate) fn expire(&mut self, now: SimTime) {
        while let Some(&(expiry, id)) = self.expiries.front() {
            if expiry > now {
                break;
            }
            self.expiries.pop_front();
            self.entries.remove(&id);
        }
    }

    /// Whether `id` was seen and has not expired at `now`.
    pub(crate) fn contains(&mut self, now: SimTime, id: &MessageId) -> bool {
        self.expire(now);
        self.entries.contains_key(id)
    }

    /// The record of `id`, if seen and not expired.
    pub(crate) fn get_mut(&mut self, now: SimTime, id: &MessageId) -> Option<&mut SeenEntry> {
        self.expire(now);
        self.entries.get_mut(id)
    }

    /// Records `id` as seen at `now` with `status`, first delivered by `from` (`None` for our
    /// own publish). Returns false (and changes nothing) when it was already there.
    pub(crate) fn insert(
        &mut self,
        now: SimTime,
        id: MessageId,
        status: DeliveryStatus,
        from: Option<PeerId>,
    ) -> bool {
        self.expire(now);
        if self.entries.contains_key(&id) {
            return false;
        }
        if self.entries.len() >= self.capacity
            && let Some((_, oldest)) = self.expiries.pop_front()
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(
            id,
            SeenEntry {
                validated_at: now,
                status,
                delivered_by: {
                    // Room for the duplicates a mesh usually delivers, allocated once.
                    let mut peers = Vec::with_capacity(if from.is_some() { 8 } else { 0 });
                    peers.extend(from);
                    peers
                },
            },
        );
        self.expiries.push_back((now.saturating_add(self.ttl), id));
        true
    }

    /// Number of ids remembered (expired ones may still be counted until the next access).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> MessageId {
        MessageId([n; 32])
    }

    #[test]
    fn expires_after_ttl_from_first_sight() {
        let mut seen = SeenCache::new(SimDuration::from_secs(120), 10);
        let t0 = SimTime::ZERO;
        assert!(seen.insert(t0, id(1), DeliveryStatus::Valid, None));
        let t1 = t0 + SimDuration::from_secs(60);
        assert!(!seen.insert(t1, id(1), DeliveryStatus::Valid, None));
        assert!(seen.contains(t0 + SimDuration::from_millis(119_999), &id(1)));
        assert!(!seen.contains(t0 + SimDuration::from_secs(120), &id(1)));
        assert_eq!(seen.len(), 0);
    }

    #[test]
    fn capacity_evicts_the_oldest() {
        let mut seen = SeenCache::new(SimDuration::from_secs(120), 3);
        for n in 0..5 {
            seen.insert(SimTime(u64::from(n)), id(n), DeliveryStatus::Valid, None);
        }
        assert_eq!(seen.len(), 3);
        let now = SimTime(10);
        assert!(!seen.contains(now, &id(0)) && !seen.contains(now, &id(1)));
        assert!(seen.contains(now, &id(2)) && seen.contains(now, &id(4)));
    }
}
