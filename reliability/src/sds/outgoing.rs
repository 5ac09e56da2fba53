//! The sender's side of acknowledgement: the outgoing buffer of own messages not yet
//! acknowledged (with their resend schedule and possible-ack counts), the evidence tracker
//! (which participants are known to hold each recent own message, kept after
//! acknowledgement too), and [`Acks::review`], which reads a received message's causal
//! history and bloom filter (spec "Review ACK status"):
//!
//! - an own id in the causal history ⇒ evidence `via: History`, and an outgoing message is
//!   acknowledged at once;
//! - an own id matched by the bloom filter ⇒ evidence `via: Bloom`, and an outgoing message's
//!   possible-ack count goes up by one per received message; at `possible_ack_threshold` it
//!   is acknowledged;
//! - evidence is reported once per (message, participant).
//!
//! Bounds: outgoing buffer ≤ `max_outgoing` (the caller gives up the oldest); tracked own
//! messages ≤ `max_ack_tracked` (oldest forgotten), participants per message ≤
//! `max_ack_participants`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sim_core::SimTime;

use super::bloom::{BloomKey, BloomView};
use super::wire::{HistoryEntry, SdsMessage};
use super::{AckVia, SdsOutput};

/// An own message awaiting acknowledgement.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub(crate) message: SdsMessage,
    pub(crate) key: BloomKey,
    /// Resends so far (rebroadcast or only counted).
    pub(crate) resends: u32,
    /// When the next resend (or the give-up) is due.
    pub(crate) due: SimTime,
    /// Received messages whose bloom filter matched it.
    pub(crate) possible_acks: u32,
    /// Retrieval hint to log with it once the transport reports success.
    pub(crate) retrieval_hint: Option<waku::Bytes>,
    seq: u64,
}

/// Own messages awaiting acknowledgement, with their resend schedule.
#[derive(Clone, Debug, Default)]
pub(crate) struct OutgoingBuffer {
    entries: BTreeMap<String, Outgoing>,
    due: BTreeSet<(SimTime, String)>,
    by_seq: BTreeMap<u64, String>,
    next_seq: u64,
}

impl OutgoingBuffer {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Outgoing> {
        self.entries.get(id)
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_seq.values().map(String::as_str)
    }

    pub(crate) fn insert(
        &mut self,
        message: SdsMessage,
        due: SimTime,
        retrieval_hint: Option<waku::Bytes>,
    ) {
        let id = message.message_id.clone();
        let seq = self.next_seq;
        self.next_seq += 1;
        self.due.insert((due, id.clone()));
        self.by_seq.insert(seq, id.clone());
        let key = BloomKey::of(&id);
        self.entries.insert(
            id,
            Outgoing {
                message,
                key,
                resends: 0,
                due,
                possible_acks: 0,
                retrieval_hint,
                seq,
            },
        );
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<Outgoing> {
        let entry = self.entries.remove(id)?;
        self.due.remove(&(entry.due, id.to_string()));
        self.by_seq.remove(&entry.seq);
        Some(entry)
    }

    /// The message sent first among those still buffered.
    pub(crate) fn oldest(&self) -> Option<String> {
        self.by_seq.values().next().cloned()
    }

    pub(crate) fn earliest_due(&self) -> Option<SimTime> {
        self.due.first().map(|(t, _)| *t)
    }

    /// Ids due at `now`, earliest first.
    pub(crate) fn due_ids(&self, now: SimTime) -> Vec<String> {
        self.due
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// Counts one resend of `id` and makes it due again at `due`.
    pub(crate) fn count_resend(&mut self, id: &str, due: SimTime) -> Option<&Outgoing> {
        let entry = self.entries.get_mut(id)?;
        self.due.remove(&(entry.due, id.to_string()));
        entry.resends += 1;
        entry.due = due;
        self.due.insert((due, id.to_string()));
        Some(entry)
    }
}

/// Evidence of who holds each recent own message.
#[derive(Clone, Debug)]
pub(crate) struct Acks {
    tracked: BTreeMap<String, (BloomKey, BTreeSet<String>)>,
    order: VecDeque<String>,
    max_tracked: usize,
    max_participants: usize,
}

impl Acks {
    pub(crate) fn new(max_tracked: usize, max_participants: usize) -> Self {
        Acks {
            tracked: BTreeMap::new(),
            order: VecDeque::new(),
            max_tracked,
            max_participants,
        }
    }

    /// Starts tracking own message `id`.
    pub(crate) fn track(&mut self, id: &str) {
        if self.max_tracked == 0 || self.tracked.contains_key(id) {
            return;
        }
        self.tracked
            .insert(id.to_string(), (BloomKey::of(id), BTreeSet::new()));
        self.order.push_back(id.to_string());
        while self.order.len() > self.max_tracked {
            if let Some(old) = self.order.pop_front() {
                self.tracked.remove(&old);
            }
        }
    }

    /// Participants known to hold `id` (`None` if not tracked).
    pub(crate) fn holders(&self, id: &str) -> Option<usize> {
        self.tracked.get(id).map(|(_, set)| set.len())
    }

    fn record(&mut self, id: &str, from: &str, via: AckVia, out: &mut VecDeque<SdsOutput>) {
        let Some((_, holders)) = self.tracked.get_mut(id) else {
            return;
        };
        if holders.len() >= self.max_participants || holders.contains(from) {
            return;
        }
        holders.insert(from.to_string());
        out.push_back(SdsOutput::AckEvidence {
            message_id: id.to_string(),
            from_participant: from.to_string(),
            via,
        });
    }

    /// Reviews a message received from `from` (returns how many outgoing messages were
    /// acknowledged).
    pub(crate) fn review(
        &mut self,
        from: &str,
        history: &[HistoryEntry],
        bloom: Option<BloomView<'_>>,
        outgoing: &mut OutgoingBuffer,
        threshold: u32,
        out: &mut VecDeque<SdsOutput>,
    ) -> usize {
        let mut acked = 0;
        for entry in history {
            self.record(&entry.message_id, from, AckVia::History, out);
            if outgoing.remove(&entry.message_id).is_some() {
                acked += 1;
                out.push_back(SdsOutput::Acknowledged {
                    message_id: entry.message_id.clone(),
                });
            }
        }
        let Some(bloom) = bloom else {
            return acked;
        };
        let hits: Vec<String> = self
            .tracked
            .iter()
            .filter(|(_, (key, holders))| !holders.contains(from) && bloom.contains(key))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &hits {
            self.record(id, from, AckVia::Bloom, out);
        }
        let matched: Vec<String> = outgoing
            .entries
            .iter()
            .filter(|(_, o)| bloom.contains(&o.key))
            .map(|(id, _)| id.clone())
            .collect();
        for id in matched {
            let Some(entry) = outgoing.entries.get_mut(&id) else {
                continue;
            };
            entry.possible_acks += 1;
            let count = entry.possible_acks;
            if count >= threshold {
                outgoing.remove(&id);
                acked += 1;
                out.push_back(SdsOutput::Acknowledged { message_id: id });
            } else {
                out.push_back(SdsOutput::PossiblyAcknowledged {
                    message_id: id,
                    count,
                });
            }
        }
        acked
    }
}
