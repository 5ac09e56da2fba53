//! [`SdsChannel`]: one participant's state in one SDS channel and every transition of it —
//! sending (content, sync, ephemeral), receiving (dedup, acknowledgement review, bloom
//! insertion, dependency check, delivery in causal order, SDS-R bookkeeping), and the timed
//! work (resends and give-ups, lost timeouts, repair responses, sync messages); the receive
//! path lives in [`receive`]. The module doc of [`super`] describes the behaviour and the API
//! contract.

use std::collections::VecDeque;

use sim_core::{SimRng, SimTime};
use waku::Bytes;

use super::bloom::{BloomKey, BloomParams, RollingBloom};
use super::config::{LamportStyle, SdsConfig};
use super::incoming::IncomingBuffer;
use super::log::{LocalLog, LogEntry};
use super::outgoing::{Acks, OutgoingBuffer};
use super::repair::Repair;
use super::schedule::{SyncEvent, SyncTimer, Ticker};
use super::wire::SdsMessage;
use super::{BroadcastKind, GiveUpReason, SdsOutput, SdsStats};

mod receive;

/// Why [`SdsChannel::send`] refused a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// Content messages need content (an empty one would be read as a sync message).
    EmptyContent,
    /// Message ids must not be empty.
    EmptyMessageId,
}

/// One participant in one SDS channel, as a sans-IO machine (see the module doc of
/// [`super`]).
#[derive(Clone, Debug)]
pub struct SdsChannel {
    config: SdsConfig,
    own_id: String,
    channel_id: String,
    rng: SimRng,
    lamport: u64,
    log: LocalLog,
    bloom: RollingBloom,
    assumed_bloom: Vec<BloomParams>,
    outgoing: OutgoingBuffer,
    acks: Acks,
    incoming: IncomingBuffer,
    repair: Repair,
    outgoing_ticker: Ticker,
    incoming_ticker: Ticker,
    repair_ticker: Ticker,
    sync: SyncTimer,
    outputs: VecDeque<SdsOutput>,
    stats: SdsStats,
}

impl SdsChannel {
    /// Participant `own_participant_id` joins channel `channel_id` at `now`; `rng` drives
    /// sync ids and the randomized sync backoff.
    pub fn new(
        config: SdsConfig,
        own_participant_id: impl Into<String>,
        channel_id: impl Into<String>,
        now: SimTime,
        mut rng: SimRng,
    ) -> Self {
        let bloom = RollingBloom::new(
            config.bloom_capacity,
            config.bloom_error_rate_ppm,
            config.bloom_rollover,
        );
        let lamport = match config.lamport {
            LamportStyle::UnixMillis => unix_millis(&config, now),
            LamportStyle::NimSeconds => 0,
        };
        let repair_sweep = config
            .repair
            .as_ref()
            .map_or(super::Sweep::Never, |r| r.sweep);
        SdsChannel {
            own_id: own_participant_id.into(),
            channel_id: channel_id.into(),
            lamport,
            log: LocalLog::new(config.max_local_log),
            assumed_bloom: bloom.assumed_params(),
            bloom,
            outgoing: OutgoingBuffer::default(),
            acks: Acks::new(config.max_ack_tracked, config.max_ack_participants),
            incoming: IncomingBuffer::default(),
            repair: Repair::default(),
            outgoing_ticker: Ticker::new(config.outgoing_sweep, now),
            incoming_ticker: Ticker::new(config.incoming_sweep, now),
            repair_ticker: Ticker::new(repair_sweep, now),
            sync: SyncTimer::new(config.sync, now, &mut rng),
            outputs: VecDeque::new(),
            stats: SdsStats::default(),
            rng,
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SdsConfig {
        &self.config
    }

    /// This participant's id.
    pub fn participant_id(&self) -> &str {
        &self.own_id
    }

    /// The channel id.
    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }

    /// The Lamport clock.
    pub fn lamport(&self) -> u64 {
        self.lamport
    }

    /// Counters since creation.
    pub fn stats(&self) -> &SdsStats {
        &self.stats
    }

    /// Sets `num_response_groups` from the number of participants
    /// (`participants div 128 + 1`); no effect without SDS-R.
    pub fn set_participants(&mut self, participants: u64) {
        if let Some(repair) = self.config.repair.as_mut() {
            repair.num_response_groups = super::RepairConfig::response_groups_for(participants);
        }
    }

    /// Sends `content` as message `message_id` (the caller's globally unique id; js-waku
    /// uses the hex SHA-256 of the payload). `retrieval_hint` is logged with it (e.g. its
    /// Waku message hash; [`SdsChannel::transport_result`] can supply it later). Emits a
    /// [`BroadcastKind::Content`] broadcast; an id still awaiting acknowledgement is
    /// rebroadcast unchanged as a [`BroadcastKind::Resend`] (js-waku retries).
    pub fn send(
        &mut self,
        now: SimTime,
        content: Bytes,
        message_id: impl Into<String>,
        retrieval_hint: Option<Bytes>,
    ) -> Result<String, SendError> {
        let id = message_id.into();
        if id.is_empty() {
            return Err(SendError::EmptyMessageId);
        }
        if content.is_empty() {
            return Err(SendError::EmptyContent);
        }
        if let Some(o) = self.outgoing.get(&id) {
            let message = o.message.clone();
            self.broadcast(message, BroadcastKind::Resend);
            self.stats.resends += 1;
            return Ok(id);
        }
        self.tick_lamport_send(now);
        let message = self.build(now, id.clone(), Some(content));
        while self.outgoing.len() >= self.config.max_outgoing.max(1) {
            let Some(oldest) = self.outgoing.oldest() else {
                break;
            };
            self.give_up(&oldest, GiveUpReason::Evicted);
        }
        let due = now + self.config.resend_interval;
        self.acks.track(&id);
        if self.config.history_after_transport {
            self.outgoing.insert(message.clone(), due, retrieval_hint);
        } else {
            self.outgoing.insert(message.clone(), due, None);
            self.log_own(now, &message, retrieval_hint);
        }
        self.stats.content_sent += 1;
        self.broadcast(message, BroadcastKind::Content);
        Ok(id)
    }

    /// Sends `content` as an ephemeral message: no Lamport timestamp, causal history or bloom
    /// filter; never buffered, logged or acknowledged.
    pub fn send_ephemeral(&mut self, content: Bytes, message_id: impl Into<String>) {
        let message = SdsMessage {
            sender_id: self.own_id.clone(),
            message_id: message_id.into(),
            channel_id: self.channel_id.clone(),
            lamport_timestamp: None,
            causal_history: Vec::new(),
            bloom_filter: None,
            repair_request: Vec::new(),
            content: Some(content),
        };
        self.stats.ephemeral_sent += 1;
        self.broadcast(message, BroadcastKind::Ephemeral);
    }

    /// The transport's verdict on a content broadcast of `message_id`. With
    /// `history_after_transport` (js-waku) success is what puts an own message into the
    /// local log and bloom filter; a failure leaves it to the resend schedule. A hint, if
    /// given, becomes the message's retrieval hint in later causal histories.
    pub fn transport_result(
        &mut self,
        now: SimTime,
        message_id: &str,
        ok: bool,
        retrieval_hint: Option<Bytes>,
    ) {
        if !ok {
            self.stats.transport_failures += 1;
            return;
        }
        if self.config.history_after_transport
            && !self.log.contains(message_id)
            && let Some(o) = self.outgoing.get(message_id)
        {
            let message = o.message.clone();
            let hint = retrieval_hint.clone().or_else(|| o.retrieval_hint.clone());
            self.log_own(now, &message, hint);
        }
        if let Some(hint) = retrieval_hint {
            self.log.set_hint(message_id, hint);
        }
    }

    /// Sends a sync message now (empty content, fresh Lamport timestamp, causal history,
    /// bloom filter and due repair requests); not sent — and false returned — when the local
    /// log is empty and no repair request is due. Called by the sync timer; an application
    /// driving syncs itself (nim-sds `onPeriodicSync`) calls it directly.
    pub fn send_sync(&mut self, now: SimTime) -> bool {
        self.tick_lamport_send(now);
        if self.log.len() == 0 && !self.repair_due(now) {
            self.stats.syncs_skipped += 1;
            return false;
        }
        let id = format!("sync-{}", base36(self.rng.next_u64()));
        let message = self.build(now, id, None);
        self.stats.syncs_sent += 1;
        self.broadcast(message, BroadcastKind::Sync);
        true
    }

    /// When [`SdsChannel::handle_timeout`] must next run (`None`: no timed work).
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let mut next = self.outgoing_ticker.deadline(self.outgoing.earliest_due());
        if let Some(timeout) = self.config.lost_timeout {
            let oldest = self.incoming.oldest().map(|(_, at)| at + timeout);
            next = earliest(next, self.incoming_ticker.deadline(oldest));
        }
        if let Some(repair) = &self.config.repair {
            let sweep = self.repair.next_sweep(repair.t_max);
            next = earliest(next, self.repair_ticker.deadline(sweep));
            if self.syncs_on_request() {
                next = earliest(next, self.repair.next_eligible());
            }
        }
        earliest(next, self.sync.next())
    }

    /// Runs the timed work due at `now`: resends and give-ups, lost timeouts, repair
    /// responses and request expiry, sync messages.
    pub fn handle_timeout(&mut self, now: SimTime) {
        if self.outgoing_ticker.fire(now) {
            for id in self.outgoing.due_ids(now) {
                self.resend_or_give_up(now, &id);
            }
        }
        if let Some(timeout) = self.config.lost_timeout
            && self.incoming_ticker.fire(now)
        {
            while let Some((id, at)) = self.incoming.oldest() {
                if at + timeout > now {
                    break;
                }
                let id = id.to_string();
                self.drop_incoming(&id);
            }
        }
        self.run_repair(now);
        if self.sync.fire(now, &mut self.rng) {
            self.send_sync(now);
        }
    }

    /// The next output, oldest first. Drain after every call into the machine.
    pub fn poll_output(&mut self) -> Option<SdsOutput> {
        self.outputs.pop_front()
    }

    /// Own messages awaiting acknowledgement, oldest first.
    pub fn outgoing_ids(&self) -> impl Iterator<Item = &str> {
        self.outgoing.ids()
    }

    /// The possible-ack count of an outgoing message.
    pub fn possible_acks(&self, message_id: &str) -> Option<u32> {
        self.outgoing.get(message_id).map(|o| o.possible_acks)
    }

    /// Resends of an outgoing message so far.
    pub fn resends(&self, message_id: &str) -> Option<u32> {
        self.outgoing.get(message_id).map(|o| o.resends)
    }

    /// Participants known to hold own message `message_id` (if still tracked).
    pub fn holders(&self, message_id: &str) -> Option<usize> {
        self.acks.holders(message_id)
    }

    /// Messages waiting for dependencies.
    pub fn incoming_len(&self) -> usize {
        self.incoming.len()
    }

    /// Whether `message_id` waits for dependencies.
    pub fn is_buffered(&self, message_id: &str) -> bool {
        self.incoming.contains(message_id)
    }

    /// The local log's ids in order (newest last).
    pub fn local_log(&self) -> impl Iterator<Item = &str> {
        self.log.ids()
    }

    /// The retrieval hint logged for `message_id`.
    pub fn retrieval_hint(&self, message_id: &str) -> Option<&Bytes> {
        self.log.get(message_id)?.retrieval_hint.as_ref()
    }

    /// Whether the local bloom filter (possibly) holds `message_id`.
    pub fn bloom_contains(&self, message_id: &str) -> bool {
        self.bloom.contains(&BloomKey::of(message_id))
    }

    /// SDS-R: when a request for `message_id` goes out (if one is pending).
    pub fn repair_request_time(&self, message_id: &str) -> Option<SimTime> {
        self.repair.request_time(message_id)
    }

    /// SDS-R: when this participant rebroadcasts `message_id` (if it will).
    pub fn repair_response_time(&self, message_id: &str) -> Option<SimTime> {
        self.repair.response_time(message_id)
    }

    /// SDS-R: pending (requests, responses).
    pub fn repair_pending(&self) -> (usize, usize) {
        (
            self.repair.pending_requests(),
            self.repair.pending_responses(),
        )
    }

    fn broadcast(&mut self, message: SdsMessage, kind: BroadcastKind) {
        self.outputs
            .push_back(SdsOutput::Broadcast { message, kind });
    }

    fn tick_lamport_send(&mut self, now: SimTime) {
        let ms = unix_millis(&self.config, now);
        self.lamport = match self.config.lamport {
            LamportStyle::UnixMillis => ms.max(self.lamport.saturating_add(1)),
            LamportStyle::NimSeconds => (ms / 1000).max(self.lamport).saturating_add(1),
        };
    }

    /// A message from this participant with the current clock, history, filter and due
    /// repair requests.
    fn build(&mut self, now: SimTime, id: String, content: Option<Bytes>) -> SdsMessage {
        let with_sender = self.config.repair.is_some();
        let causal_history = self
            .log
            .recent(self.config.causal_history_length, with_sender);
        let max_requests = self
            .config
            .repair
            .as_ref()
            .map_or(0, |r| r.max_requests_per_message);
        let repair_request = self.repair.take_eligible(now, max_requests);
        for entry in &repair_request {
            self.stats.repair_requests_sent += 1;
            self.outputs.push_back(SdsOutput::RepairRequested {
                message_id: entry.message_id.clone(),
                carrier_id: id.clone(),
            });
        }
        SdsMessage {
            sender_id: self.own_id.clone(),
            message_id: id,
            channel_id: self.channel_id.clone(),
            lamport_timestamp: Some(self.lamport),
            causal_history,
            bloom_filter: Some(self.bloom.snapshot()),
            repair_request,
            content,
        }
    }

    fn log_own(&mut self, now: SimTime, message: &SdsMessage, hint: Option<Bytes>) {
        self.log.insert(
            &message.message_id,
            LogEntry {
                lamport: message.lamport_timestamp.unwrap_or(0),
                sender_id: self.own_id.clone(),
                retrieval_hint: hint,
                message: self.config.repair.is_some().then(|| message.clone()),
            },
        );
        self.bloom.insert(BloomKey::of(&message.message_id));
        self.sync.restart(now, SyncEvent::Neutral, &mut self.rng);
    }

    /// Whether a due repair request triggers a sync (each sync takes at least one).
    fn syncs_on_request(&self) -> bool {
        self.config
            .repair
            .as_ref()
            .is_some_and(|r| r.sync_on_eligible_request && r.max_requests_per_message > 0)
    }

    fn repair_due(&self, now: SimTime) -> bool {
        self.config.repair.is_some() && self.repair.has_eligible(now)
    }

    fn resend_or_give_up(&mut self, now: SimTime, id: &str) {
        let Some(entry) = self.outgoing.get(id) else {
            return;
        };
        if entry.resends >= self.config.max_resends {
            self.give_up(id, GiveUpReason::MaxResends);
            return;
        }
        let interval = if entry.possible_acks > 0 {
            self.config.possibly_acked_resend_interval
        } else {
            self.config.resend_interval
        };
        let Some(entry) = self.outgoing.count_resend(id, now + interval) else {
            return;
        };
        self.stats.resends += 1;
        if self.config.rebroadcast_on_resend {
            let message = entry.message.clone();
            self.broadcast(message, BroadcastKind::Resend);
        }
    }

    fn give_up(&mut self, id: &str, reason: GiveUpReason) {
        if self.outgoing.remove(id).is_none() {
            return;
        }
        self.stats.gave_up += 1;
        self.outputs.push_back(SdsOutput::GaveUp {
            message_id: id.to_string(),
            reason,
            reported_as_sent: self.config.give_up_reported_as_sent,
        });
    }

    fn run_repair(&mut self, now: SimTime) {
        let Some(config) = self.config.repair.clone() else {
            return;
        };
        if self.repair_ticker.fire(now) {
            for id in self.repair.sweep(now, config.t_max) {
                let Some(message) = self.log.get(&id).and_then(|e| e.message.clone()) else {
                    continue;
                };
                self.stats.repair_responses_sent += 1;
                self.broadcast(message, BroadcastKind::RepairResponse);
                self.outputs
                    .push_back(SdsOutput::RepairServed { message_id: id });
            }
        }
        if self.syncs_on_request() {
            while self.repair.has_eligible(now) {
                self.send_sync(now);
            }
        }
    }
}

fn earliest(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Unix milliseconds at `now` (the configured epoch offset plus virtual time).
fn unix_millis(config: &SdsConfig, now: SimTime) -> u64 {
    config
        .epoch_offset_ms
        .saturating_add(now.as_nanos() / 1_000_000)
}

/// `n` in base 36 (js-waku names sync messages `sync-<random base 36>`).
fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII digits")
}
