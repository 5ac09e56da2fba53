//! The incoming buffer: received messages waiting for causal dependencies that are not yet
//! in the local log (absent, or themselves buffered), with an index from each awaited id to
//! the messages waiting for it, so a delivery releases its dependants without a scan.
//! Bounded by `max_incoming` (the caller drops the oldest arrival).

use std::collections::{BTreeMap, BTreeSet};

use sim_core::SimTime;
use waku::Bytes;

use super::wire::SdsMessage;

/// A message waiting for dependencies.
#[derive(Clone, Debug)]
pub(crate) struct Buffered {
    pub(crate) message: SdsMessage,
    pub(crate) retrieval_hint: Option<Bytes>,
    pub(crate) received_at: SimTime,
    /// Causal-history ids not yet in the local log.
    pub(crate) waiting: BTreeSet<String>,
}

impl Buffered {
    fn lamport(&self) -> u64 {
        self.message.lamport_timestamp.unwrap_or(0)
    }
}

/// Messages waiting for dependencies, by id.
#[derive(Clone, Debug, Default)]
pub(crate) struct IncomingBuffer {
    entries: BTreeMap<String, (u64, Buffered)>,
    /// Arrival order (sequence → id): the oldest is evicted and times out first.
    arrivals: BTreeMap<u64, String>,
    /// Awaited id → ids of the messages waiting for it.
    waiters: BTreeMap<String, BTreeSet<String>>,
    next_seq: u64,
}

impl IncomingBuffer {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    pub(crate) fn insert(&mut self, id: String, buffered: Buffered) {
        if self.entries.contains_key(&id) {
            return;
        }
        for dep in &buffered.waiting {
            self.waiters
                .entry(dep.clone())
                .or_default()
                .insert(id.clone());
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.arrivals.insert(seq, id.clone());
        self.entries.insert(id, (seq, buffered));
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<Buffered> {
        let (seq, buffered) = self.entries.remove(id)?;
        self.arrivals.remove(&seq);
        for dep in &buffered.waiting {
            if let Some(set) = self.waiters.get_mut(dep) {
                set.remove(id);
                if set.is_empty() {
                    self.waiters.remove(dep);
                }
            }
        }
        Some(buffered)
    }

    /// The earliest arrival still buffered: its id and arrival time.
    pub(crate) fn oldest(&self) -> Option<(&str, SimTime)> {
        let (_, id) = self.arrivals.first_key_value()?;
        let (_, buffered) = self.entries.get(id)?;
        Some((id.as_str(), buffered.received_at))
    }

    /// `dep` is now in the local log (or declared met): the messages that no longer wait
    /// for anything, as (Lamport timestamp, id) so the caller delivers them in order.
    pub(crate) fn dependency_met(&mut self, dep: &str) -> Vec<(u64, String)> {
        let Some(ids) = self.waiters.remove(dep) else {
            return Vec::new();
        };
        let mut ready = Vec::new();
        for id in ids {
            if let Some((_, buffered)) = self.entries.get_mut(&id) {
                buffered.waiting.remove(dep);
                if buffered.waiting.is_empty() {
                    ready.push((buffered.lamport(), id));
                }
            }
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sds::wire::HistoryEntry;

    fn buffered(lamport: u64, deps: &[&str]) -> Buffered {
        Buffered {
            message: SdsMessage {
                sender_id: "s".into(),
                message_id: String::new(),
                channel_id: "0".into(),
                lamport_timestamp: Some(lamport),
                causal_history: deps.iter().map(|d| HistoryEntry::new(*d)).collect(),
                bloom_filter: None,
                repair_request: Vec::new(),
                content: None,
            },
            retrieval_hint: None,
            received_at: SimTime(lamport),
            waiting: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn dependants_are_released_when_their_last_dependency_arrives() {
        let mut buf = IncomingBuffer::default();
        buf.insert("m3".into(), buffered(3, &["m1", "m2"]));
        buf.insert("m2".into(), buffered(2, &["m1"]));
        assert_eq!(buf.oldest().map(|(id, _)| id), Some("m3"));
        assert_eq!(buf.dependency_met("m1"), vec![(2, "m2".to_string())]);
        assert_eq!(buf.dependency_met("m1"), vec![]);
        buf.remove("m2").unwrap();
        assert_eq!(buf.dependency_met("m2"), vec![(3, "m3".to_string())]);
        buf.remove("m3").unwrap();
        assert_eq!(buf.len(), 0);
        assert!(buf.waiters.is_empty() && buf.arrivals.is_empty());
    }
}
