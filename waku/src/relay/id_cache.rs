//! A memo of recently computed relay message ids, so one node hashes each message once rather
//! than once per copy it receives (a node receives most messages from several mesh peers).
//!
//! Copies of a message share one `Bytes` buffer in the simulator (a forwarded message is a
//! clone, not a re-encoding), so the memo is keyed by the buffer's address and length. It
//! holds a clone of every buffer it remembers: a live `Bytes` is immutable and its memory
//! cannot be reused, so an equal (address, length) means equal contents, and a hit returns
//! exactly what [`relay_message_id`] would compute. A miss just computes it: the result never
//! depends on what the memo holds, only the speed does.
//!
//! Bound: [`CAPACITY`] entries, replaced round-robin (oldest first), indexed by a sorted map.

use std::collections::BTreeMap;

use crate::message::{MessageId, relay_message_id};
use crate::proto::Bytes;

/// Buffers remembered. A duplicate arrives within a few hundred ms of the first copy, but a
/// node in a busy group channel (MVDS copies, SDS syncs) sees many distinct messages in that
/// time; 16 entries made hashing most of the CPU time there.
const CAPACITY: usize = 256;

/// Recently hashed `Message.data` buffers and their ids.
#[derive(Clone, Debug, Default)]
pub(super) struct IdCache {
    /// (address, length) of each remembered buffer → its slot in `entries`.
    index: BTreeMap<(usize, usize), usize>,
    /// The buffers (kept alive so their addresses stay theirs) and their ids.
    entries: Vec<(Bytes, MessageId)>,
    /// Next entry to replace once full.
    next: usize,
}

impl IdCache {
    /// The relay message id of `data` (SHA-256, computed only when not remembered).
    pub(super) fn id_of(&mut self, data: &Bytes) -> MessageId {
        let key = (data.as_ptr() as usize, data.len());
        if let Some(&slot) = self.index.get(&key) {
            return self.entries[slot].1;
        }
        let id = relay_message_id(data);
        if self.entries.len() < CAPACITY {
            self.index.insert(key, self.entries.len());
            self.entries.push((data.clone(), id));
        } else {
            let old = &self.entries[self.next].0;
            self.index.remove(&(old.as_ptr() as usize, old.len()));
            self.index.insert(key, self.next);
            self.entries[self.next] = (data.clone(), id);
            self.next = (self.next + 1) % CAPACITY;
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_ids_as_hashing_for_shared_and_distinct_buffers() {
        let mut cache = IdCache::default();
        let buffers: Vec<Bytes> = (0..=255u8)
            .chain(0..=255u8)
            .map(|n| Bytes::from(vec![n; 100]))
            .collect();
        for round in 0..3 {
            for b in &buffers {
                assert_eq!(cache.id_of(b), relay_message_id(b), "round {round}");
                let copy = b.clone();
                assert_eq!(cache.id_of(&copy), relay_message_id(b));
                let slice = b.slice(1..);
                assert_eq!(cache.id_of(&slice), relay_message_id(&slice));
            }
        }
        assert!(cache.entries.len() <= CAPACITY);
        assert_eq!(cache.index.len(), cache.entries.len());
        assert_eq!(cache.id_of(&Bytes::new()), relay_message_id(&[]));
    }
}
