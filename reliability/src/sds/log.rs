//! The local log: delivered and own messages ordered by Lamport timestamp, ties broken by
//! ascending message id (spec "Deliver"), with the retrieval hint and sender of each, and —
//! when SDS-R is on — the full message so a repair request can be answered. Causal
//! histories are its newest entries. Bounded by `max_local_log`: the entry lowest in the
//! order is evicted (nim-sds evicts the eldest inserted, which is the same for a clock that
//! only grows).

use std::collections::BTreeMap;

use waku::Bytes;

use super::wire::{HistoryEntry, SdsMessage};

/// One logged message.
#[derive(Clone, Debug)]
pub(crate) struct LogEntry {
    pub(crate) lamport: u64,
    pub(crate) sender_id: String,
    pub(crate) retrieval_hint: Option<Bytes>,
    /// The message as sent or received (SDS-R responders rebroadcast it).
    pub(crate) message: Option<SdsMessage>,
}

/// The local log of one channel.
#[derive(Clone, Debug)]
pub(crate) struct LocalLog {
    ordered: BTreeMap<(u64, String), LogEntry>,
    by_id: BTreeMap<String, u64>,
    cap: usize,
}

impl LocalLog {
    pub(crate) fn new(cap: usize) -> Self {
        LocalLog {
            ordered: BTreeMap::new(),
            by_id: BTreeMap::new(),
            cap: cap.max(1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&LogEntry> {
        let lamport = *self.by_id.get(id)?;
        self.ordered.get(&(lamport, id.to_string()))
    }

    /// Adds `id` (false if already logged), evicting beyond the cap.
    pub(crate) fn insert(&mut self, id: &str, entry: LogEntry) -> bool {
        if self.by_id.contains_key(id) {
            return false;
        }
        self.by_id.insert(id.to_string(), entry.lamport);
        self.ordered.insert((entry.lamport, id.to_string()), entry);
        while self.ordered.len() > self.cap {
            if let Some(((_, old), _)) = self.ordered.pop_first() {
                self.by_id.remove(&old);
            }
        }
        true
    }

    /// Sets the retrieval hint of a logged message.
    pub(crate) fn set_hint(&mut self, id: &str, hint: Bytes) {
        if let Some(&lamport) = self.by_id.get(id)
            && let Some(entry) = self.ordered.get_mut(&(lamport, id.to_string()))
        {
            entry.retrieval_hint = Some(hint);
        }
    }

    /// The newest `n` entries, oldest first, with hints (and senders if `with_sender`).
    pub(crate) fn recent(&self, n: usize, with_sender: bool) -> Vec<HistoryEntry> {
        let mut entries: Vec<HistoryEntry> = self
            .ordered
            .iter()
            .rev()
            .take(n)
            .map(|((_, id), e)| HistoryEntry {
                message_id: id.clone(),
                retrieval_hint: e.retrieval_hint.clone(),
                sender_id: with_sender.then(|| e.sender_id.clone()),
            })
            .collect();
        entries.reverse();
        entries
    }

    /// Ids in log order (newest last).
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.ordered.keys().map(|(_, id)| id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(lamport: u64) -> LogEntry {
        LogEntry {
            lamport,
            sender_id: "s".into(),
            retrieval_hint: None,
            message: None,
        }
    }

    #[test]
    fn ordered_by_lamport_then_id_and_capped() {
        let mut log = LocalLog::new(3);
        assert!(log.insert("b", entry(5)));
        assert!(log.insert("a", entry(5)));
        assert!(log.insert("z", entry(1)));
        assert!(!log.insert("a", entry(9)));
        assert_eq!(log.ids().collect::<Vec<_>>(), ["z", "a", "b"]);
        log.insert("c", entry(7));
        assert_eq!(log.ids().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(!log.contains("z"));
        log.set_hint("b", Bytes::from_static(b"h"));
        let recent = log.recent(2, true);
        assert_eq!(recent[0].message_id, "b");
        assert_eq!(recent[0].retrieval_hint.as_deref(), Some(&b"h"[..]));
        assert_eq!(recent[1].sender_id.as_deref(), Some("s"));
        assert_eq!(log.recent(10, false).len(), 3);
        assert_eq!(log.get("c").map(|e| e.lamport), Some(7));
    }
}
