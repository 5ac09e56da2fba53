//! The message cache (gossipsub `mcache`): the messages this node can serve by IWANT and
//! advertise by IHAVE, organised in history windows that the heartbeat shifts.
//!
//! A message enters window 0. Every heartbeat (after gossip emission) the windows shift by one;
//! a message in the last of the `history_len` windows is dropped at the next shift, so it is
//! servable for `history_len` heartbeats and advertised while in the first `gossip_len` windows.
//! Per message it also counts how often each peer had it served by IWANT (go's
//! `GossipRetransmission` limit). Bound: `max_messages` messages; when full the oldest cached
//! message is evicted early (simulator guard). The per-peer counts are bounded by the peers.

use std::collections::{BTreeMap, VecDeque};

use crate::message::MessageId;
use crate::proto::GossipsubMessage;

use super::PeerId;

/// One cached message.
#[derive(Clone, Debug)]
struct CachedMessage {
    message: GossipsubMessage,
    /// IWANT deliveries per peer.
    served: BTreeMap<PeerId, u32>,
}

/// Sliding-window message cache.
#[derive(Clone, Debug)]
pub(crate) struct MessageCache {
    /// Window 0 is the current one.
    windows: VecDeque<Vec<MessageId>>,
    gossip_len: usize,
    max_messages: usize,
    entries: BTreeMap<MessageId, CachedMessage>,
}

impl MessageCache {
    /// A cache with `history_len` windows, advertising the newest `gossip_len`.
    pub(crate) fn new(history_len: usize, gossip_len: usize, max_messages: usize) -> Self {
        assert!(
            0 < gossip_len && gossip_len <= history_len && max_messages > 0,
            "invalid message cache shape"
        );
        Self {
            windows: (0..history_len).map(|_| Vec::new()).collect(),
            gossip_len,
            max_messages,
            entries: BTreeMap::new(),
        }
    }

    /// Adds `message` under `id` to the current window (no-op if already cached).
    pub(crate) fn put(&mut self, id: MessageId, message: GossipsubMessage) {
        if self.entries.contains_key(&id) {
            return;
        }
        if self.entries.len() >= self.max_messages {
            self.evict_oldest();
        }
        self.entries.insert(
            id,
            CachedMessage {
                message,
                served: BTreeMap::new(),
            },
        );
        self.windows[0].push(id);
    }

    fn evict_oldest(&mut self) {
        for window in self.windows.iter_mut().rev() {
            if !window.is_empty() {
                let id = window.remove(0);
                self.entries.remove(&id);
                return;
            }
        }
    }

    /// The cached message `id`.
    pub(crate) fn get(&self, id: &MessageId) -> Option<&GossipsubMessage> {
        self.entries.get(id).map(|e| &e.message)
    }

    /// Whether `id` is cached.
    #[cfg(test)]
    pub(crate) fn contains(&self, id: &MessageId) -> bool {
        self.entries.contains_key(id)
    }

    /// The cached message `id` for an IWANT from `peer`, with how many times (this one
    /// included) it has now been served to that peer.
    pub(crate) fn get_for_peer(
        &mut self,
        id: &MessageId,
        peer: PeerId,
    ) -> Option<(&GossipsubMessage, u32)> {
        let entry = self.entries.get_mut(id)?;
        let count = entry.served.entry(peer).or_insert(0);
        *count += 1;
        Some((&entry.message, *count))
    }

    /// Ids of `topic` in the gossip windows, newest window first.
    pub(crate) fn gossip_ids(&self, topic: &str) -> Vec<MessageId> {
        self.windows
            .iter()
            .take(self.gossip_len)
            .flatten()
            .filter(|id| {
                self.entries
                    .get(id)
                    .is_some_and(|e| e.message.topic.as_deref() == Some(topic))
            })
            .copied()
            .collect()
    }

    /// Advances the windows: drops the oldest, opens a new current one.
    pub(crate) fn shift(&mut self) {
        if let Some(oldest) = self.windows.pop_back() {
            for id in oldest {
                self.entries.remove(&id);
            }
        }
        self.windows.push_front(Vec::new());
    }

    /// Number of cached messages.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(topic: &str, n: u8) -> (MessageId, GossipsubMessage) {
        let m = GossipsubMessage {
            data: Some(vec![n].into()),
            topic: Some(topic.to_string()),
            ..Default::default()
        };
        (MessageId([n; 32]), m)
    }

    #[test]
    fn windows_bound_gossip_and_serving() {
        let mut mc = MessageCache::new(6, 3, 100);
        let (a, ma) = msg("t", 1);
        mc.put(a, ma);
        for shift in 1..=6 {
            assert!(mc.contains(&a), "servable before shift {shift}");
            assert_eq!(mc.gossip_ids("t").contains(&a), shift <= 3);
            mc.shift();
        }
        assert!(!mc.contains(&a));
    }

    #[test]
    fn gossip_ids_filter_by_topic_and_count_serves_per_peer() {
        let mut mc = MessageCache::new(5, 3, 100);
        let (a, ma) = msg("t", 1);
        let (b, mb) = msg("u", 2);
        mc.put(a, ma);
        mc.put(b, mb);
        assert_eq!(mc.gossip_ids("t"), vec![a]);
        assert_eq!(mc.get_for_peer(&a, PeerId(1)).unwrap().1, 1);
        assert_eq!(mc.get_for_peer(&a, PeerId(1)).unwrap().1, 2);
        assert_eq!(mc.get_for_peer(&a, PeerId(2)).unwrap().1, 1);
        assert!(mc.get_for_peer(&MessageId([9; 32]), PeerId(1)).is_none());
    }

    #[test]
    fn bounded_by_max_messages() {
        let mut mc = MessageCache::new(5, 3, 2);
        for n in 0..4 {
            let (id, m) = msg("t", n);
            mc.put(id, m);
        }
        assert_eq!(mc.len(), 2);
        assert!(!mc.contains(&MessageId([0; 32])));
        assert!(mc.contains(&MessageId([3; 32])));
    }
}
