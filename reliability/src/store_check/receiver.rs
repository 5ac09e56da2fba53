//! The receiver side of store-based reliability: missing-message retrieval over time windows
//! (go-waku `MissingMessageVerifier`, nwaku `RecvMonitor`, logos-delivery `RecvService`).
//!
//! Each [`Interest`] is split into windows of at most `max_content_topics_per_query` content
//! topics. A window's check lists the hashes the store holds in
//! `[last_checked − start_margin, now − end_lag + end_lead]` (capped at `max_window`), pages
//! and all; unknown hashes are queued for fetching; `last_checked` becomes the check's issue
//! time only when the listing succeeded. A failed listing is retried `query_retries` times,
//! `retry_delay` apart, then waits for the next period; a failed fetch likewise per hash.
//!
//! Bounds: received hashes ≤ `max_received` and younger than `received_retention` (FIFO);
//! hashes queued or being fetched ≤ `max_fetch_queue` (further ones are dropped and found
//! again by a later, wider window only if it still covers them).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sim_core::{SimDuration, SimRng, SimTime};
use waku::MessageHash;
use waku::node::waku_timestamp;
use waku::store::StoreQuery;

use super::{Pending, QueryToken, Retrieval, StoreCheckConfig};

/// What a node listens to: a pubsub topic and content topics on it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interest {
    /// The pubsub topic.
    pub pubsub_topic: String,
    /// Its content topics.
    pub content_topics: Vec<String>,
}

#[derive(Clone, Debug)]
struct Window {
    interest: Interest,
    last_checked: SimTime,
    /// The last listing succeeded (nothing unverified before `last_checked`).
    verified: bool,
    in_flight: bool,
    retries_left: u32,
    /// A check is due at this time regardless of the period (retry, reconnection).
    due_at: Option<SimTime>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Receiver {
    windows: Vec<Window>,
    next_check: Option<SimTime>,
    offline_since: Option<SimTime>,
    received: BTreeMap<MessageHash, SimTime>,
    received_order: VecDeque<(SimTime, MessageHash)>,
    queue: VecDeque<MessageHash>,
    /// Hashes queued, delayed or being fetched, with their failed fetches so far.
    fetching: BTreeMap<MessageHash, u32>,
    /// Hashes waiting for a retry: (ready at, hash).
    delayed: BTreeSet<(SimTime, MessageHash)>,
}

impl Receiver {
    pub(super) fn new(_config: &StoreCheckConfig) -> Self {
        Receiver::default()
    }

    pub(super) fn start(
        &mut self,
        now: SimTime,
        interests: Vec<Interest>,
        config: &StoreCheckConfig,
        rng: &mut SimRng,
    ) {
        let last_checked = SimTime(
            now.as_nanos()
                .saturating_sub(config.initial_lookback.as_nanos()),
        );
        let per_query = config.max_content_topics_per_query.max(1);
        self.windows.clear();
        for interest in interests {
            for topics in interest.content_topics.chunks(per_query) {
                self.windows.push(Window {
                    interest: Interest {
                        pubsub_topic: interest.pubsub_topic.clone(),
                        content_topics: topics.to_vec(),
                    },
                    last_checked,
                    verified: true,
                    in_flight: false,
                    retries_left: config.query_retries,
                    due_at: None,
                });
            }
        }
        self.next_check = match config.retrieval {
            Retrieval::Periodic { period } if !self.windows.is_empty() => {
                let phase = rng.below(period.as_nanos().max(1));
                Some(now + SimDuration(phase))
            }
            _ => None,
        };
        self.offline_since = None;
    }

    pub(super) fn crash(&mut self) {
        self.windows.clear();
        self.next_check = None;
        self.offline_since = None;
        self.queue.clear();
        self.fetching.clear();
        self.delayed.clear();
    }

    pub(super) fn went_offline(&mut self, at: SimTime) {
        self.offline_since = Some(self.offline_since.map_or(at, |s| s.min(at)));
    }

    pub(super) fn came_online(&mut self, now: SimTime, config: &StoreCheckConfig) {
        let Some(since) = self.offline_since.take() else {
            return;
        };
        if config.retrieval != Retrieval::OnReconnect {
            return;
        }
        for w in &mut self.windows {
            if w.verified {
                w.last_checked = w.last_checked.max(since);
            }
            w.retries_left = config.query_retries;
            w.due_at = Some(now);
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<SimTime> {
        let windows = self
            .windows
            .iter()
            .filter(|w| !w.in_flight)
            .filter_map(|w| w.due_at)
            .min();
        let delayed = self.delayed.first().map(|&(t, _)| t);
        [self.next_check, windows, delayed]
            .into_iter()
            .flatten()
            .min()
    }

    /// The window listings due at `now` (at most `room`), as queries to issue.
    pub(super) fn due(
        &mut self,
        now: SimTime,
        config: &StoreCheckConfig,
        mut room: usize,
        next_token: &mut u64,
    ) -> Vec<(QueryToken, StoreQuery, Pending)> {
        if let (Some(at), Retrieval::Periodic { period }) = (self.next_check, config.retrieval)
            && now >= at
        {
            let step = period.as_nanos().max(1);
            let k = (now - at).as_nanos() / step + 1;
            self.next_check = Some(at + SimDuration(k.saturating_mul(step)));
            for w in &mut self.windows {
                if !w.in_flight {
                    w.retries_left = config.query_retries;
                    w.due_at = Some(now);
                }
            }
        }
        let mut queries = Vec::new();
        for (index, w) in self.windows.iter_mut().enumerate() {
            if room == 0 {
                break;
            }
            if w.in_flight || w.due_at.is_none_or(|t| t > now) {
                continue;
            }
            w.due_at = None;
            let end = SimTime(
                (now + config.end_lead)
                    .as_nanos()
                    .saturating_sub(config.end_lag.as_nanos()),
            );
            let mut start = SimTime(
                w.last_checked
                    .as_nanos()
                    .saturating_sub(config.start_margin.as_nanos()),
            );
            if let Some(max) = config.max_window {
                start = start.max(SimTime(end.as_nanos().saturating_sub(max.as_nanos())));
            }
            if end <= start {
                continue;
            }
            w.in_flight = true;
            room -= 1;
            let token = QueryToken(*next_token);
            *next_token += 1;
            let query = StoreQuery::content(
                w.interest.pubsub_topic.clone(),
                w.interest.content_topics.clone(),
            )
            .include_data(false)
            .time_range(Some(waku_timestamp(start)), Some(waku_timestamp(end)))
            .forward(true)
            .page_size(config.page_size)
            .follow_pages(u32::MAX);
            let pending = Pending::Window {
                peer: sim_core::NodeId(0),
                interest: index,
                issued: now,
            };
            queries.push((token, query, pending));
        }
        queries
    }

    /// A listing ended.
    pub(super) fn window_done(
        &mut self,
        now: SimTime,
        index: usize,
        issued: SimTime,
        ok: bool,
        config: &StoreCheckConfig,
    ) {
        let Some(w) = self.windows.get_mut(index) else {
            return;
        };
        w.in_flight = false;
        if ok {
            w.last_checked = w.last_checked.max(issued);
            w.verified = true;
            w.retries_left = config.query_retries;
        } else {
            w.verified = false;
            if w.retries_left > 0 {
                w.retries_left -= 1;
                w.due_at = Some(now + config.retry_delay);
            }
        }
    }

    /// Hashes a listing returned: unknown ones are queued for fetching.
    pub(super) fn listed(
        &mut self,
        now: SimTime,
        hashes: BTreeSet<MessageHash>,
        config: &StoreCheckConfig,
    ) {
        self.prune(now, config);
        for hash in hashes {
            if self.received.contains_key(&hash) || self.fetching.contains_key(&hash) {
                continue;
            }
            if self.fetching.len() >= config.max_fetch_queue {
                break;
            }
            self.fetching.insert(hash, 0);
            self.queue.push_back(hash);
        }
    }

    /// The next batch to fetch, if any is ready.
    pub(super) fn next_fetch(
        &mut self,
        now: SimTime,
        config: &StoreCheckConfig,
    ) -> Option<Vec<MessageHash>> {
        while let Some(&(ready, hash)) = self.delayed.first() {
            if ready > now {
                break;
            }
            self.delayed.pop_first();
            self.queue.push_back(hash);
        }
        if self.queue.is_empty() {
            return None;
        }
        let n = self.queue.len().min(config.fetch_batch.clamp(1, 100));
        Some(self.queue.drain(..n).collect())
    }

    /// A fetched message arrived; false if it was already known.
    pub(super) fn fetched(
        &mut self,
        now: SimTime,
        hash: MessageHash,
        config: &StoreCheckConfig,
    ) -> bool {
        self.fetching.remove(&hash);
        if self.received.contains_key(&hash) {
            return false;
        }
        self.remember(now, hash, config);
        true
    }

    /// A fetch ended: hashes not returned are dropped (success) or retried (failure).
    pub(super) fn fetch_done(
        &mut self,
        now: SimTime,
        hashes: Vec<MessageHash>,
        ok: bool,
        config: &StoreCheckConfig,
    ) {
        for hash in hashes {
            let Some(tries) = self.fetching.get_mut(&hash) else {
                continue;
            };
            if ok || *tries >= config.query_retries {
                self.fetching.remove(&hash);
            } else {
                *tries += 1;
                self.delayed.insert((now + config.retry_delay, hash));
            }
        }
    }

    /// Remembers a received hash.
    pub(super) fn remember(&mut self, now: SimTime, hash: MessageHash, config: &StoreCheckConfig) {
        if let std::collections::btree_map::Entry::Vacant(e) = self.received.entry(hash) {
            e.insert(now);
            self.received_order.push_back((now, hash));
        }
        self.prune(now, config);
    }

    fn prune(&mut self, now: SimTime, config: &StoreCheckConfig) {
        let horizon = now
            .as_nanos()
            .saturating_sub(config.received_retention.as_nanos());
        while let Some(&(at, hash)) = self.received_order.front() {
            if at.as_nanos() >= horizon && self.received_order.len() <= config.max_received {
                break;
            }
            self.received_order.pop_front();
            if self.received.get(&hash) == Some(&at) {
                self.received.remove(&hash);
            }
        }
    }
}
