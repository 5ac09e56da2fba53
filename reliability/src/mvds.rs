//! MVDS (Minimum Viable Data Synchronization, RFC `2/mvds.md`) in batch mode, as status-go
//! runs it for 1:1 chats and private groups (`reference/reliability.md` §3), as a sans-IO
//! machine: the caller passes `now`, inputs and a [`SimRng`], and drains [`MvdsOutput`]s. It
//! needs only "send this payload to this peer" and "a payload arrived from this peer", so it
//! runs over relay or over lightpush + filter alike; [`wire`] is its encoding.
//!
//! Behaviour (status-im/mvds `node/node.go`, status-go `protocol/datasync/transport.go`):
//! - time runs in epochs of [`MvdsConfig::epoch`] (300 ms). The node's loop sleeps one epoch,
//!   then sends everything due at the current epoch, then increments the epoch; epochs count
//!   only while the process runs (a laptop's sleep does not advance them);
//! - a new message creates one MESSAGE record per recipient with `send_epoch = epoch + 1`;
//! - a due record is sent (all due records and pending ACKs for one peer and group go in one
//!   payload per epoch), then `send_count += 1` and
//!   `send_epoch = epoch + 2^(send_count−1) · backoff_interval · offset_to_second +
//!   rand[0, jitter_epochs)` — with status-go's values `90·2^(n−1) + U[0,30)` epochs, i.e.
//!   27 s·2^(n−1) + U[0, 8.7 s]; a record is deleted after [`MvdsConfig::max_transmissions`]
//!   (15) transmissions ([`MvdsOutput::GaveUp`]);
//! - a received MESSAGE is delivered and ACKed in the next payload to its sender (ACKs are not
//!   retransmitted; a retransmitted MESSAGE is ACKed again); a received ACK deletes the record
//!   ([`MvdsOutput::Acked`]);
//! - [`Mvds::peer_online`] reschedules every record for that peer to
//!   `epoch + rand[0, online_jitter_epochs)` (60 epochs, U[0, 18 s)).
//!
//! Simulator choices: payloads are split when larger than [`MvdsConfig::max_payload_bytes`]
//! (Waku's message limit); payloads are per (peer, group) rather than per peer, so each can
//! travel on its conversation's content topic; re-gossip of received messages to other group
//! members (present in the MVDS main branch, not confirmed in status-go's copy) is not done.
//!
//! Bounds: stored messages ≤ [`MvdsConfig::max_messages`] (the oldest is dropped, its records
//! given up), pending ACKs ≤ [`MvdsConfig::max_pending_acks`] per (peer, group) (oldest
//! dropped), ACKs per payload ≤ [`MvdsConfig::max_acks_per_payload`] (the rest wait an
//! epoch), ids remembered for duplicate detection ≤ [`MvdsConfig::max_seen`] (FIFO).

pub mod wire;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sim_core::{NodeId, SimDuration, SimRng, SimTime};
use waku::Bytes;

pub use wire::{MvdsId, MvdsMessage, Payload, WireMessage};

/// MVDS parameters; [`MvdsConfig::status_go`] (= `Default`) has status-go's values.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MvdsConfig {
    /// Epoch length (status-go `DatasyncTicker`, 300 ms).
    pub epoch: SimDuration,
    /// status-go `backoffInterval` (30).
    pub backoff_interval: u64,
    /// status-go `offsetToSecond = 1 s / epoch` as an integer (3).
    pub offset_to_second: u64,
    /// Random extra epochs after each transmission, `rand[0, jitter_epochs)` (30).
    pub jitter_epochs: u64,
    /// Transmissions per record before it is deleted (MVDS `MaxSendCount` 14 ⇒ 15).
    pub max_transmissions: u32,
    /// On a peer-online event every record for the peer is due in `rand[0, this)` epochs (60).
    pub online_jitter_epochs: u64,
    /// Most messages kept for retransmission (simulator bound; status-go keeps them in SQLite).
    pub max_messages: usize,
    /// Most ACKs waiting to be sent per (peer, group).
    pub max_pending_acks: usize,
    /// Most ACKs in one payload (36 bytes each on the wire).
    pub max_acks_per_payload: usize,
    /// Largest encoded payload; due messages beyond it go in further payloads (Waku's 150 KiB
    /// message limit minus room for the envelope).
    pub max_payload_bytes: usize,
    /// Message ids remembered to flag duplicate receptions.
    pub max_seen: usize,
}

impl Default for MvdsConfig {
    fn default() -> Self {
        Self::status_go()
    }
}

impl MvdsConfig {
    /// status-go's batch-mode values (`reference/reliability.md` §3.2–§3.3).
    pub fn status_go() -> Self {
        Self {
            epoch: SimDuration::from_millis(300),
            backoff_interval: 30,
            offset_to_second: 3,
            jitter_epochs: 30,
            max_transmissions: 15,
            online_jitter_epochs: 60,
            max_messages: 10_000,
            max_pending_acks: 10_000,
            max_acks_per_payload: 1_000,
            max_payload_bytes: 140 * 1024,
            max_seen: 100_000,
        }
    }

    /// The named preset (`status-go`).
    pub fn preset(name: &str) -> Option<Self> {
        (name == "status-go").then(Self::status_go)
    }

    /// The epoch of the next transmission after transmission number `count` (≥ 1) at `epoch`:
    /// `epoch + 2^(count−1) · backoff_interval · offset_to_second + rand[0, jitter_epochs)`.
    pub fn next_epoch(&self, count: u32, epoch: u64, rng: &mut SimRng) -> u64 {
        let exp = count.saturating_sub(1).min(62);
        let base = (1u64 << exp)
            .saturating_mul(self.backoff_interval)
            .saturating_mul(self.offset_to_second);
        let jitter = if self.jitter_epochs > 0 {
            rng.below(self.jitter_epochs)
        } else {
            0
        };
        epoch.saturating_add(base).saturating_add(jitter)
    }
}

/// What the machine wants done or reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MvdsOutput {
    /// Send `payload` to `peer` (its messages and ACKs all belong to `group_id`).
    Send {
        /// The recipient.
        peer: NodeId,
        /// The group of every message and ACK in the payload.
        group_id: Bytes,
        /// What to send.
        payload: Payload,
    },
    /// A message arrived from `from` (every reception, duplicates flagged).
    Delivered {
        /// The sender of the payload.
        from: NodeId,
        /// The message.
        message: MvdsMessage,
        /// Its transmission number as the sender stamped it.
        transmission: u32,
        /// Whether this id was delivered before.
        duplicate: bool,
    },
    /// `peer` acknowledged message `id`.
    Acked {
        /// Who acknowledged.
        peer: NodeId,
        /// The message.
        id: MvdsId,
        /// Its body.
        body: Bytes,
        /// The first ACK of this message from any peer.
        first: bool,
    },
    /// The record for (`peer`, `id`) was deleted unacknowledged (transmissions exhausted, or
    /// the message store was full).
    GaveUp {
        /// The peer that never acknowledged.
        peer: NodeId,
        /// The message.
        id: MvdsId,
        /// Its body.
        body: Bytes,
        /// No record of the message is left and no peer ever acknowledged it.
        failed: bool,
    },
}

#[derive(Clone, Debug)]
struct Stored {
    message: MvdsMessage,
    seq: u64,
    records: usize,
    acked: bool,
}

/// One MESSAGE record: (peer, message) → transmissions so far and the next send epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Transmissions so far.
    pub send_count: u32,
    /// The epoch of the next transmission.
    pub send_epoch: u64,
}

/// The MVDS node of one participant (see the module doc).
#[derive(Clone, Debug)]
pub struct Mvds {
    config: MvdsConfig,
    epoch: u64,
    /// When the send step of `epoch` runs (the end of its sleep).
    next_tick: SimTime,
    messages: BTreeMap<MvdsId, Stored>,
    by_seq: BTreeMap<u64, MvdsId>,
    next_seq: u64,
    records: BTreeMap<(NodeId, MvdsId), Record>,
    due: BTreeSet<(u64, NodeId, MvdsId)>,
    acks: BTreeMap<(NodeId, Bytes), VecDeque<MvdsId>>,
    seen: BTreeSet<MvdsId>,
    seen_order: VecDeque<MvdsId>,
}

impl Mvds {
    /// A node whose first epoch starts at `now`.
    pub fn new(config: MvdsConfig, now: SimTime) -> Self {
        let next_tick = now + config.epoch;
        Mvds {
            config,
            epoch: 0,
            next_tick,
            messages: BTreeMap::new(),
            by_seq: BTreeMap::new(),
            next_seq: 0,
            records: BTreeMap::new(),
            due: BTreeSet::new(),
            acks: BTreeMap::new(),
            seen: BTreeSet::new(),
            seen_order: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MvdsConfig {
        &self.config
    }

    /// The current epoch (as of the last input).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The record for (`peer`, `id`), if any.
    pub fn record(&self, peer: NodeId, id: MvdsId) -> Option<Record> {
        self.records.get(&(peer, id)).copied()
    }

    /// Number of records awaiting an ACK.
    pub fn pending_records(&self) -> usize {
        self.records.len()
    }

    /// The process restarted at `now` after a crash: records and messages persist (status-go
    /// keeps them in SQLite), pending ACKs are lost, the epoch counter continues.
    pub fn restart(&mut self, now: SimTime) {
        self.acks.clear();
        self.next_tick = now + self.config.epoch;
    }

    /// Adds `message` for `peers` (first transmission at the next epoch); returns its id.
    pub fn append(
        &mut self,
        now: SimTime,
        peers: &[NodeId],
        message: MvdsMessage,
        rng: &mut SimRng,
        out: &mut Vec<MvdsOutput>,
    ) -> MvdsId {
        self.sync(now, rng, out);
        let id = message.id();
        if self.messages.contains_key(&id) {
            return id;
        }
        while self.messages.len() >= self.config.max_messages.max(1) {
            let Some((_, oldest)) = self.by_seq.pop_first() else {
                break;
            };
            self.drop_message(oldest, out);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut stored = Stored {
            message,
            seq,
            records: 0,
            acked: false,
        };
        for &peer in peers {
            let record = Record {
                send_count: 0,
                send_epoch: self.epoch + 1,
            };
            if self.records.insert((peer, id), record).is_none() {
                self.due.insert((record.send_epoch, peer, id));
                stored.records += 1;
            }
        }
        if stored.records > 0 {
            self.by_seq.insert(seq, id);
            self.messages.insert(id, stored);
        }
        id
    }

    /// A payload from `from` arrived: ACKs clear records, messages are delivered and ACKed.
    pub fn on_payload(
        &mut self,
        now: SimTime,
        from: NodeId,
        payload: Payload,
        rng: &mut SimRng,
        out: &mut Vec<MvdsOutput>,
    ) {
        self.sync(now, rng, out);
        for id in payload.acks {
            self.on_ack(from, id, out);
        }
        for m in payload.messages {
            let id = m.message.id();
            // A MESSAGE clears our own record for it towards the sender (interactive mode
            // state; harmless in batch mode).
            self.remove_record(from, id);
            let duplicate = !self.remember(id);
            let key = (from, m.message.group_id.clone());
            let pending = self.acks.entry(key).or_default();
            if !pending.contains(&id) {
                if pending.len() >= self.config.max_pending_acks.max(1) {
                    pending.pop_front();
                }
                pending.push_back(id);
            }
            out.push(MvdsOutput::Delivered {
                from,
                message: m.message,
                transmission: m.transmission,
                duplicate,
            });
        }
    }

    /// `peer` came online: every record for it becomes due within `online_jitter_epochs`.
    pub fn peer_online(
        &mut self,
        now: SimTime,
        peer: NodeId,
        rng: &mut SimRng,
        out: &mut Vec<MvdsOutput>,
    ) {
        self.sync(now, rng, out);
        let keys: Vec<(NodeId, MvdsId)> = self
            .records
            .range((peer, MvdsId([0; 32]))..=(peer, MvdsId([0xff; 32])))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            let jitter = if self.config.online_jitter_epochs > 0 {
                rng.below(self.config.online_jitter_epochs)
            } else {
                0
            };
            let record = self.records.get_mut(&key).expect("listed above");
            self.due.remove(&(record.send_epoch, key.0, key.1));
            record.send_epoch = self.epoch + jitter;
            self.due.insert((record.send_epoch, key.0, key.1));
        }
    }

    /// When [`Mvds::handle_timeout`] must run next (`None`: nothing to send).
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let due = self.due_epoch()?;
        let ahead = due.saturating_sub(self.epoch);
        Some(self.next_tick + self.config.epoch.saturating_mul(ahead))
    }

    /// Runs the send step if it is due at `now` (a late call — the process slept — runs it
    /// now and counts no epochs for the time asleep).
    pub fn handle_timeout(&mut self, now: SimTime, rng: &mut SimRng, out: &mut Vec<MvdsOutput>) {
        self.sync(now, rng, out);
    }

    /// Catches the epoch counter up with `now`: runs an overdue send step at once, and counts
    /// the idle epochs that passed (never beyond the next due one, whose timer would have
    /// fired). Afterwards `next_tick > now`.
    fn sync(&mut self, now: SimTime, rng: &mut SimRng, out: &mut Vec<MvdsOutput>) {
        if let Some(at) = self.poll_timeout()
            && at <= now
        {
            let due = self.due_epoch().expect("a timeout implies something due");
            self.epoch = self.epoch.max(due);
            self.send_step(rng, out);
            self.epoch += 1;
            self.next_tick = now + self.config.epoch;
            return;
        }
        if now >= self.next_tick {
            let step = self.config.epoch.as_nanos().max(1);
            let passed = (now - self.next_tick).as_nanos() / step + 1;
            let skip = match self.due_epoch() {
                Some(due) => passed.min(due.saturating_sub(self.epoch)),
                None => passed,
            };
            self.epoch += skip;
            self.next_tick += self.config.epoch.saturating_mul(skip);
        }
    }

    /// The earliest epoch with something to send (pending ACKs: the current one).
    fn due_epoch(&self) -> Option<u64> {
        let records = self.due.first().map(|&(e, _, _)| e.max(self.epoch));
        if self.acks.values().any(|a| !a.is_empty()) {
            return Some(self.epoch);
        }
        records
    }

    /// Sends every record due at the current epoch and every pending ACK.
    fn send_step(&mut self, rng: &mut SimRng, out: &mut Vec<MvdsOutput>) {
        let mut batches: BTreeMap<(NodeId, Bytes), Vec<WireMessage>> = BTreeMap::new();
        let mut exhausted = Vec::new();
        while let Some(&(send_epoch, peer, id)) = self.due.first() {
            if send_epoch > self.epoch {
                break;
            }
            self.due.pop_first();
            let Some(stored) = self.messages.get(&id) else {
                self.records.remove(&(peer, id));
                continue;
            };
            let record = self
                .records
                .get_mut(&(peer, id))
                .expect("due implies record");
            record.send_count += 1;
            batches
                .entry((peer, stored.message.group_id.clone()))
                .or_default()
                .push(WireMessage {
                    message: stored.message.clone(),
                    transmission: record.send_count,
                });
            if record.send_count >= self.config.max_transmissions {
                exhausted.push((peer, id));
            } else {
                record.send_epoch = self.config.next_epoch(record.send_count, self.epoch, rng);
                self.due.insert((record.send_epoch, peer, id));
            }
        }
        let ack_keys: Vec<(NodeId, Bytes)> = self.acks.keys().cloned().collect();
        for key in ack_keys {
            batches.entry(key).or_default();
        }
        for ((peer, group_id), messages) in batches {
            let mut acks: Vec<MvdsId> = Vec::new();
            if let Some(pending) = self.acks.get_mut(&(peer, group_id.clone())) {
                let n = pending.len().min(self.config.max_acks_per_payload);
                acks.extend(pending.drain(..n));
                if pending.is_empty() {
                    self.acks.remove(&(peer, group_id.clone()));
                }
            }
            self.emit(peer, group_id, acks, messages, out);
        }
        for (peer, id) in exhausted {
            self.give_up(peer, id, out);
        }
    }

    /// Splits one (peer, group) batch into payloads within `max_payload_bytes`.
    fn emit(
        &self,
        peer: NodeId,
        group_id: Bytes,
        acks: Vec<MvdsId>,
        messages: Vec<WireMessage>,
        out: &mut Vec<MvdsOutput>,
    ) {
        let mut payload = Payload {
            acks,
            messages: Vec::new(),
        };
        let mut size = wire::encoded_len(&payload);
        for m in messages {
            let len = wire::message_encoded_len(&m);
            if !payload.messages.is_empty() && size + len > self.config.max_payload_bytes {
                out.push(MvdsOutput::Send {
                    peer,
                    group_id: group_id.clone(),
                    payload: std::mem::take(&mut payload),
                });
                size = 0;
            }
            size += len;
            payload.messages.push(m);
        }
        if !payload.acks.is_empty() || !payload.messages.is_empty() {
            out.push(MvdsOutput::Send {
                peer,
                group_id,
                payload,
            });
        }
    }

    fn on_ack(&mut self, from: NodeId, id: MvdsId, out: &mut Vec<MvdsOutput>) {
        if !self.records.contains_key(&(from, id)) {
            return;
        }
        let body = self.messages.get(&id).map(|s| s.message.body.clone());
        let first = self
            .messages
            .get_mut(&id)
            .is_some_and(|s| !std::mem::replace(&mut s.acked, true));
        self.remove_record(from, id);
        if let Some(body) = body {
            out.push(MvdsOutput::Acked {
                peer: from,
                id,
                body,
                first,
            });
        }
    }

    fn give_up(&mut self, peer: NodeId, id: MvdsId, out: &mut Vec<MvdsOutput>) {
        let Some(stored) = self.messages.get(&id) else {
            self.remove_record(peer, id);
            return;
        };
        let body = stored.message.body.clone();
        let acked = stored.acked;
        let last = stored.records <= 1;
        self.remove_record(peer, id);
        out.push(MvdsOutput::GaveUp {
            peer,
            id,
            body,
            failed: last && !acked,
        });
    }

    /// Deletes a message and gives up each of its records.
    fn drop_message(&mut self, id: MvdsId, out: &mut Vec<MvdsOutput>) {
        let peers: Vec<NodeId> = self
            .records
            .keys()
            .filter(|(_, i)| *i == id)
            .map(|(p, _)| *p)
            .collect();
        for peer in peers {
            self.give_up(peer, id, out);
        }
        self.messages.remove(&id);
    }

    /// Deletes the record (peer, id); the message goes when its last record does.
    fn remove_record(&mut self, peer: NodeId, id: MvdsId) {
        let Some(record) = self.records.remove(&(peer, id)) else {
            return;
        };
        self.due.remove(&(record.send_epoch, peer, id));
        if let Some(stored) = self.messages.get_mut(&id) {
            stored.records = stored.records.saturating_sub(1);
            if stored.records == 0 {
                let seq = stored.seq;
                self.messages.remove(&id);
                self.by_seq.remove(&seq);
            }
        }
    }

    /// Remembers `id`; false if it was already known.
    fn remember(&mut self, id: MvdsId) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.seen_order.push_back(id);
        while self.seen_order.len() > self.config.max_seen.max(1) {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}
