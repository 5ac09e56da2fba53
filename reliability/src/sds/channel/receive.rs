//! The receive path of [`SdsChannel`]: filtering (channel, own loopback, duplicates),
//! SDS-R bookkeeping of requests and repairs seen, acknowledgement review, bloom insertion,
//! the dependency check, delivery in causal order with release of buffered dependants, and
//! dropping buffered messages as lost.

use std::collections::BTreeSet;

use sim_core::SimTime;
use waku::Bytes;

use super::SdsChannel;
use crate::sds::SdsOutput;
use crate::sds::bloom::BloomKey;
use crate::sds::config::LamportStyle;
use crate::sds::incoming::Buffered;
use crate::sds::log::LogEntry;
use crate::sds::schedule::SyncEvent;
use crate::sds::wire::{self, HistoryEntry, SdsMessage, WireError};

impl SdsChannel {
    /// Decodes `data` in the configured wire format (within `max_message_bytes`) and
    /// receives it.
    pub fn receive_bytes(
        &mut self,
        now: SimTime,
        data: Bytes,
        retrieval_hint: Option<Bytes>,
    ) -> Result<(), WireError> {
        let message = wire::decode(data, self.config.wire_format, self.config.max_message_bytes)?;
        self.receive(now, message, retrieval_hint);
        Ok(())
    }

    /// A message arrived from the network (`retrieval_hint`: how to fetch it again, e.g. the
    /// hash of the Waku message that carried it).
    pub fn receive(&mut self, now: SimTime, message: SdsMessage, retrieval_hint: Option<Bytes>) {
        if message.channel_id != self.channel_id {
            self.stats.foreign_channel += 1;
            return;
        }
        if message.sender_id == self.own_id {
            self.stats.own_loopbacks += 1;
            return;
        }
        if message.message_id.is_empty() {
            return;
        }
        self.stats.received += 1;
        if message.is_ephemeral() {
            self.deliver_output(&message, retrieval_hint);
            return;
        }
        let id = message.message_id.clone();
        let is_sync = message.is_sync();
        if !is_sync {
            // SDS-R: a copy of the message (original or repair) cancels pending requests
            // and responses for it, duplicates included.
            self.repair_seen(&id);
            if self.log.contains(&id) || self.incoming.contains(&id) {
                self.stats.duplicates += 1;
                return;
            }
        }
        if let (LamportStyle::NimSeconds, Some(ts)) =
            (self.config.lamport, message.lamport_timestamp)
        {
            self.lamport = self.lamport.max(ts).saturating_add(1);
        }
        let event = if is_sync {
            SyncEvent::Neutral
        } else {
            SyncEvent::ContentReceived
        };
        self.sync.restart(now, event, &mut self.rng);
        self.handle_repair_requests(now, &message);
        let bloom = message
            .bloom_filter
            .as_ref()
            .and_then(|b| b.view(&self.assumed_bloom));
        if message.bloom_filter.is_some() && bloom.is_none() {
            self.stats.bloom_unusable += 1;
        }
        let acked = self.acks.review(
            &message.sender_id,
            &message.causal_history,
            bloom,
            &mut self.outgoing,
            self.config.possible_ack_threshold,
            &mut self.outputs,
        );
        self.stats.acknowledged += acked as u64;
        if is_sync {
            self.stats.syncs_received += 1;
        } else {
            self.bloom.insert(BloomKey::of(&id));
        }
        self.check_dependencies(now, message, retrieval_hint, is_sync);
    }

    /// The application fetched (or gave up on) messages `ids` out of band (nim-sds
    /// `markDependenciesMet`): they count as present for the messages waiting on them, enter
    /// the bloom filter and leave the repair buffers. They are not logged, so a later message
    /// referencing them again reports them missing again.
    pub fn mark_dependencies_met(&mut self, ids: &[&str]) {
        for id in ids {
            let key = BloomKey::of(id);
            if !self.bloom.contains(&key) {
                self.bloom.insert(key);
            }
            self.repair_seen(id);
            let ready = self.incoming.dependency_met(id);
            self.deliver_ready(ready);
        }
    }

    fn repair_seen(&mut self, id: &str) {
        let (_, response_dropped) = self.repair.seen(id);
        if response_dropped {
            self.stats.repair_responses_suppressed += 1;
        }
    }

    fn handle_repair_requests(&mut self, now: SimTime, message: &SdsMessage) {
        let Some(config) = &self.config.repair else {
            return;
        };
        for entry in &message.repair_request {
            self.stats.repair_requests_received += 1;
            let held = self.log.contains(&entry.message_id);
            if self
                .repair
                .on_request(now, config, &self.own_id, entry, held)
            {
                self.stats.repair_requests_suppressed += 1;
            }
        }
    }

    /// Delivers `message` if every dependency is logged, else buffers it; reports the
    /// dependencies absent from both log and buffer.
    fn check_dependencies(
        &mut self,
        now: SimTime,
        message: SdsMessage,
        retrieval_hint: Option<Bytes>,
        is_sync: bool,
    ) {
        let mut waiting = BTreeSet::new();
        let mut missing = Vec::new();
        for entry in &message.causal_history {
            if entry.message_id == message.message_id || self.log.contains(&entry.message_id) {
                continue;
            }
            waiting.insert(entry.message_id.clone());
            if !self.incoming.contains(&entry.message_id) {
                missing.push(entry.clone());
            }
        }
        if !missing.is_empty() {
            if let Some(config) = &self.config.repair {
                for entry in &missing {
                    self.repair.add_missing(now, config, &self.own_id, entry);
                }
            }
            self.outputs.push_back(SdsOutput::Missing {
                message_id: message.message_id.clone(),
                missing,
            });
        }
        if is_sync {
            return;
        }
        if waiting.is_empty() {
            self.deliver(message, retrieval_hint);
            return;
        }
        while self.incoming.len() >= self.config.max_incoming.max(1) {
            let Some((oldest, _)) = self.incoming.oldest() else {
                break;
            };
            let oldest = oldest.to_string();
            self.drop_incoming(&oldest);
        }
        self.stats.buffered += 1;
        self.incoming.insert(
            message.message_id.clone(),
            Buffered {
                message,
                retrieval_hint,
                received_at: now,
                waiting,
            },
        );
    }

    fn deliver_output(&mut self, message: &SdsMessage, retrieval_hint: Option<Bytes>) {
        self.stats.delivered += 1;
        self.outputs.push_back(SdsOutput::Deliver {
            message_id: message.message_id.clone(),
            sender_id: message.sender_id.clone(),
            content: message.content.clone().unwrap_or_default(),
            lamport: message.lamport_timestamp,
            retrieval_hint,
        });
    }

    /// Logs and delivers `message`, then every buffered message it releases, in Lamport
    /// order.
    fn deliver(&mut self, message: SdsMessage, retrieval_hint: Option<Bytes>) {
        let id = message.message_id.clone();
        self.log_delivered(message, retrieval_hint);
        let ready = self.incoming.dependency_met(&id);
        self.deliver_ready(ready);
    }

    /// Delivers the released buffered messages `ready` and, in turn, what they release.
    fn deliver_ready(&mut self, ready: Vec<(u64, String)>) {
        let mut queue: BTreeSet<(u64, String)> = ready.into_iter().collect();
        while let Some((_, id)) = queue.pop_first() {
            let Some(buffered) = self.incoming.remove(&id) else {
                continue;
            };
            self.log_delivered(buffered.message, buffered.retrieval_hint);
            queue.extend(self.incoming.dependency_met(&id));
        }
    }

    /// Spec "Deliver": advance the clock (spec style), emit the message, log it.
    fn log_delivered(&mut self, message: SdsMessage, retrieval_hint: Option<Bytes>) {
        let ts = message.lamport_timestamp.unwrap_or(0);
        if self.config.lamport == LamportStyle::UnixMillis {
            self.lamport = self.lamport.max(ts);
        }
        self.deliver_output(&message, retrieval_hint.clone());
        let id = message.message_id.clone();
        let keep = self.config.repair.is_some();
        self.log.insert(
            &id,
            LogEntry {
                lamport: ts,
                sender_id: message.sender_id.clone(),
                retrieval_hint,
                message: keep.then_some(message),
            },
        );
    }

    /// Drops a buffered message undelivered (timeout or full buffer) and reports it lost.
    pub(super) fn drop_incoming(&mut self, id: &str) {
        let Some(buffered) = self.incoming.remove(id) else {
            return;
        };
        let missing: Vec<HistoryEntry> = buffered
            .message
            .causal_history
            .into_iter()
            .filter(|e| buffered.waiting.contains(&e.message_id))
            .collect();
        self.stats.lost += 1;
        self.outputs.push_back(SdsOutput::Lost {
            message_id: id.to_string(),
            missing,
        });
    }
}
