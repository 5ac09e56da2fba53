//! The message cache (gossipsub `mcache`): the messages this node can serve by IWANT and
//! advertise by IHAVE, organised in history windows that the heartbeat shifts.
//!
//! A message enters window 0. Every heartbeat (after gossip emission) the windows shift by one;
//! a message in the last of the `history_len` windows is dropped at the next shift, so it is
//! servable for `history_len` heartbeats and advertised while in the first `gossip_len` windows.
//! Per message it also counts how often each peer had it served by IWANT (go's
//! `GossipRetransmission` limit). Bound: `max_messages` messages; when full the oldest cached
//! message is evicted early (simulator guard). The per-peer counts are bounded by the peers.
//!
//! The windows carry what gossip needs (id, id bytes, topic as an index into a small table of
//! the cached messages' topics), so listing a topic's ids reads the windows alone.

use std::collections::VecDeque;

use crate::message::{IdMap, MessageId};
use crate::proto::{Bytes, GossipsubMessage};

use super::PeerId;
use crate::sorted::VecMap;

/// One cached message.
#[derive(Clone, Debug)]
struct CachedMessage {
    message: GossipsubMessage,
    /// IWANT deliveries per peer.
    served: VecMap<PeerId, u32>,
}

/// A message's place in a window.
#[derive(Clone, Debug)]
struct WindowEntry {
    id: MessageId,
    /// The id as bytes, as IHAVE lists carry it (one buffer shared by every IHAVE).
    id_bytes: Bytes,
    /// Index of its topic in `MessageCache::topics` ([`NO_TOPIC`] when it has none).
    topic: u32,
}

/// The topic index of a message without topic (never gossiped).
const NO_TOPIC: u32 = u32::MAX;

/// Sliding-window message cache.
#[derive(Clone, Debug)]
pub(crate) struct MessageCache {
    /// Window 0 is the current one.
    windows: VecDeque<Vec<WindowEntry>>,
    gossip_len: usize,
    max_messages: usize,
    /// The messages (looked up only; `windows` holds the order).
    entries: IdMap<CachedMessage>,
    /// Topics of the cached messages with how many there are of each; a slot whose count
    /// drops to zero is reused (so at most one slot per cached message).
    topics: Vec<(String, usize)>,
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
            entries: IdMap::default(),
            topics: Vec::new(),
        }
    }

    /// Adds `message` under `id` (whose bytes are `id_bytes`) to the current window (no-op
    /// if already cached).
    pub(crate) fn put(&mut self, id: MessageId, id_bytes: Bytes, message: GossipsubMessage) {
        if self.entries.contains_key(&id) {
            return;
        }
        if self.entries.len() >= self.max_messages {
            self.evict_oldest();
        }
        let topic = message
            .topic
            .as_deref()
            .map_or(NO_TOPIC, |t| self.hold_topic(t));
        self.entries.insert(
            id,
            CachedMessage {
                message,
                served: VecMap::new(),
            },
        );
        self.windows[0].push(WindowEntry {
            id,
            id_bytes,
            topic,
        });
    }

    /// The slot of `topic`, counting one more message on it.
    fn hold_topic(&mut self, topic: &str) -> u32 {
        let slot = match self.topics.iter().position(|(t, n)| *n > 0 && t == topic) {
            Some(slot) => slot,
            None => match self.topics.iter().position(|(_, n)| *n == 0) {
                Some(free) => {
                    self.topics[free].0 = topic.to_string();
                    free
                }
                None => {
                    self.topics.push((topic.to_string(), 0));
                    self.topics.len() - 1
                }
            },
        };
        self.topics[slot].1 += 1;
        slot as u32
    }

    /// Forgets the window entry `gone` (its message leaves the cache).
    fn forget(&mut self, gone: &WindowEntry) {
        self.entries.remove(&gone.id);
        if let Some((_, n)) = self.topics.get_mut(gone.topic as usize) {
            *n -= 1;
        }
    }

    fn evict_oldest(&mut self) {
        for w in (0..self.windows.len()).rev() {
            if !self.windows[w].is_empty() {
                let gone = self.windows[w].remove(0);
                self.forget(&gone);
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
        let count = entry.served.get_or_insert_with(peer, || 0);
        *count += 1;
        Some((&entry.message, *count))
    }

    /// Ids of `topic` in the gossip windows, newest window first, with their bytes.
    pub(crate) fn gossip_ids(&self, topic: &str) -> Vec<(MessageId, Bytes)> {
        let Some(slot) = self.topics.iter().position(|(t, n)| *n > 0 && t == topic) else {
            return Vec::new();
        };
        self.windows
            .iter()
            .take(self.gossip_len)
            .flatten()
            .filter(|e| e.topic == slot as u32)
            .map(|e| (e.id, e.id_bytes.clone()))
            .collect()
    }

    /// Advances the windows: drops the oldest, opens a new current one (reusing the buffer).
    pub(crate) fn shift(&mut self) {
        let Some(mut oldest) = self.windows.pop_back() else {
            return;
        };
        for gone in oldest.drain(..) {
            self.forget(&gone);
        }
        self.windows.push_front(oldest);
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
        mc.put(a, a.to_bytes(), ma);
        for shift in 1..=6 {
            assert!(mc.contains(&a), "servable before shift {shift}");
            assert_eq!(mc.gossip_ids("t").iter().any(|(i, _)| *i == a), shift <= 3);
            mc.shift();
        }
        assert!(!mc.contains(&a));
    }

    #[test]
    fn gossip_ids_filter_by_topic_and_count_serves_per_peer() {
        let mut mc = MessageCache::new(5, 3, 100);
        let (a, ma) = msg("t", 1);
        let (b, mb) = msg("u", 2);
        mc.put(a, a.to_bytes(), ma);
        mc.put(b, b.to_bytes(), mb);
        assert_eq!(mc.gossip_ids("t"), vec![(a, a.to_bytes())]);
        assert_eq!(mc.get_for_peer(&a, PeerId(1)).unwrap().1, 1);
        assert_eq!(mc.get_for_peer(&a, PeerId(1)).unwrap().1, 2);
        assert_eq!(mc.get_for_peer(&a, PeerId(2)).unwrap().1, 1);
        assert!(mc.get_for_peer(&MessageId([9; 32]), PeerId(1)).is_none());
    }

    #[test]
    fn topic_slots_are_reused_and_never_confused() {
        let mut mc = MessageCache::new(2, 2, 100);
        let (a, ma) = msg("t", 1);
        mc.put(a, a.to_bytes(), ma);
        mc.shift();
        mc.shift();
        assert!(mc.gossip_ids("t").is_empty());
        let (b, mb) = msg("u", 2);
        mc.put(b, b.to_bytes(), mb);
        assert!(mc.gossip_ids("t").is_empty());
        assert_eq!(mc.gossip_ids("u"), vec![(b, b.to_bytes())]);
        assert_eq!(mc.topics.len(), 1, "the slot of t was reused");
        let (c, mc_) = msg("t", 3);
        mc.put(c, c.to_bytes(), mc_);
        assert_eq!(mc.gossip_ids("t"), vec![(c, c.to_bytes())]);
        assert_eq!(mc.gossip_ids("u"), vec![(b, b.to_bytes())]);
    }

    #[test]
    fn bounded_by_max_messages() {
        let mut mc = MessageCache::new(5, 3, 2);
        for n in 0..4 {
            let (id, m) = msg("t", n);
            mc.put(id, id.to_bytes(), m);
        }
        assert_eq!(mc.len(), 2);
        assert!(!mc.contains(&MessageId([0; 32])));
        assert!(mc.contains(&MessageId([3; 32])));
    }
}
