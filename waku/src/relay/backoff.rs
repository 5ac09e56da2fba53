//! The backoff table: per (topic, peer), the instant before which we must not GRAFT that peer
//! and it must not GRAFT us (gossipsub v1.1 "prune backoff").
//!
//! Entries are set when we prune a peer, when a peer prunes us (with the backoff it asks for)
//! and, in nim-libp2p, when a mesh link is lost to a disconnection. A new backoff never
//! shortens an existing one. While an entry exists the peer is not eligible for grafting;
//! entries are cleared by the heartbeat ([`BackoffTable::clear_expired`]), which is where the
//! two implementations' slack comes from. Bound: one entry per (topic we know, peer we know),
//! cleared at most `slack` after expiry.

use sim_core::{SimDuration, SimTime};

use super::PeerId;
use crate::sorted::VecMap;

/// Backoff expiries by topic, then peer.
#[derive(Clone, Debug, Default)]
pub(crate) struct BackoffTable {
    by_topic: VecMap<String, VecMap<PeerId, SimTime>>,
}

impl BackoffTable {
    /// Backs `peer` off on `topic` until `now + duration`, unless it already is for longer.
    pub(crate) fn set(&mut self, topic: &str, peer: PeerId, now: SimTime, duration: SimDuration) {
        let expiry = now.saturating_add(duration);
        let peers = match self.by_topic.get_mut(topic) {
            Some(peers) => peers,
            None => self
                .by_topic
                .get_or_insert_with(topic.to_string(), VecMap::new),
        };
        let entry = peers.get_or_insert_with(peer, || expiry);
        if *entry < expiry {
            *entry = expiry;
        }
    }

    /// The backoff expiry of `peer` on `topic`, if an entry exists (expired or not).
    pub(crate) fn expiry(&self, topic: &str, peer: PeerId) -> Option<SimTime> {
        self.by_topic.get(topic)?.get(&peer).copied()
    }

    /// Whether an entry exists for `peer` on `topic`: such a peer is not grafted.
    pub(crate) fn contains(&self, topic: &str, peer: PeerId) -> bool {
        self.expiry(topic, peer).is_some()
    }

    /// Removes entries that expired more than `slack` before `now`.
    pub(crate) fn clear_expired(&mut self, now: SimTime, slack: SimDuration) {
        self.by_topic.retain(|_, peers| {
            peers.retain(|_, expiry| expiry.saturating_add(slack) > now);
            !peers.is_empty()
        });
    }

    /// Number of entries (for tests and bounds checks).
    pub(crate) fn len(&self) -> usize {
        self.by_topic.values().map(VecMap::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shortens_and_clears_after_slack() {
        let mut table = BackoffTable::default();
        let t0 = SimTime::ZERO;
        table.set("t", PeerId(1), t0, SimDuration::from_secs(60));
        table.set("t", PeerId(1), t0, SimDuration::from_secs(5));
        assert_eq!(
            table.expiry("t", PeerId(1)),
            Some(t0 + SimDuration::from_secs(60))
        );
        let slack = SimDuration::from_secs(2);
        table.clear_expired(t0 + SimDuration::from_secs(61), slack);
        assert!(table.contains("t", PeerId(1)));
        table.clear_expired(t0 + SimDuration::from_secs(62), slack);
        assert!(!table.contains("t", PeerId(1)));
        assert_eq!(table.len(), 0);
    }
}
