//! The message archive behind a store node: stored messages keyed by their deterministic
//! message hash, ordered by (timestamp, hash) as RFC 13 and nwaku's `Index.cmp` order them,
//! indexed per pubsub topic and content topic, bounded by capacity and pruned by age.
//!
//! The archive owns admission (ephemeral messages, missing timestamps and timestamps more
//! than 20 s off the node's clock are refused; the same hash twice is stored once), eviction
//! (oldest first when full, nwaku `QueueDriver`), retention ([`Archive::prune`], nwaku's time
//! policy) and the page computation of a query ([`Archive::query`]): range scans over the
//! ordered indexes in either direction from an exclusive cursor, `page_size + 1` entries
//! fetched to decide whether a cursor is returned (nwaku `findMessages`).
//!
//! The archive is the persistent part of a store node: a crashed node keeps it and hands it
//! to a new [`StoreService`](super::StoreService).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Bound, RangeBounds};

use sim_core::SimTime;

use super::config::{ArchiveConfig, StoreConfigError};
use crate::message::MessageHash;
use crate::proto::WakuMessage;

/// The position of a stored message: timestamp (ns), then hash. Ordered as the store orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoreKey {
    /// The message timestamp (ns since the Unix epoch, the sender's clock).
    pub timestamp: i64,
    /// The deterministic message hash.
    pub hash: MessageHash,
}

/// The largest hash, used to bound ranges inclusively at a timestamp.
const MAX_HASH: MessageHash = MessageHash([0xff; 32]);

impl StoreKey {
    /// The first key with timestamp `t`.
    fn first_at(t: i64) -> Self {
        Self {
            timestamp: t,
            hash: MessageHash::ZERO,
        }
    }

    /// The last key with timestamp `t`.
    fn last_at(t: i64) -> Self {
        Self {
            timestamp: t,
            hash: MAX_HASH,
        }
    }
}

/// A stored message and the pubsub topic it arrived on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The pubsub topic (part of the hash).
    pub pubsub_topic: String,
    /// The message as received.
    pub message: WakuMessage,
}

/// What happened to a message offered to the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored; `evicted` is the oldest message dropped to make room, if the archive was full.
    Stored {
        /// The hash of the evicted message.
        evicted: Option<MessageHash>,
    },
    /// Already stored (the insert is idempotent).
    Duplicate,
}

/// Why the archive refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// The `ephemeral` flag is set (RFC 13: never stored).
    #[error("ephemeral message, not stored")]
    Ephemeral,
    /// No timestamp, or 0 (RFC 13: the timestamp MUST be populated).
    #[error("message has no timestamp")]
    MissingTimestamp,
    /// More than the allowed drift before the node's clock (nwaku `invalidMessageOld`).
    #[error("timestamp {timestamp_ns} is more than {max_drift_ns} ns before the clock {now_ns}")]
    TooOld {
        /// The message timestamp.
        timestamp_ns: i64,
        /// The node's clock.
        now_ns: i64,
        /// The drift allowed.
        max_drift_ns: i64,
    },
    /// More than the allowed drift after the node's clock (nwaku `invalidMessageFuture`).
    #[error("timestamp {timestamp_ns} is more than {max_drift_ns} ns after the clock {now_ns}")]
    TooFuture {
        /// The message timestamp.
        timestamp_ns: i64,
        /// The node's clock.
        now_ns: i64,
        /// The drift allowed.
        max_drift_ns: i64,
    },
    /// The archive is full and the message is older than everything in it (nwaku
    /// `QueueDriver` "too_old").
    #[error("archive full and the message is older than the oldest stored one")]
    OlderThanArchive,
}

/// One page of an archive query, in forward order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArchivePage {
    /// The matching entries of this page, ascending whatever the direction.
    pub keys: Vec<StoreKey>,
    /// The hash of the last entry traversed (the newest for forward, the oldest for
    /// backward queries) when more entries match; `None` when this is the last page.
    pub cursor: Option<MessageHash>,
}

/// Why an archive query failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// The cursor names no stored message (never stored, evicted or pruned); nwaku's SQL
    /// drivers answer "cursor not found".
    #[error("cursor not found: {0}")]
    CursorNotFound(MessageHash),
}

/// Validated query criteria for [`Archive::query`].
#[derive(Debug, Clone, Copy)]
pub struct ArchiveQuery<'a> {
    /// Only messages on this pubsub topic.
    pub pubsub_topic: Option<&'a str>,
    /// Only messages with one of these content topics (empty: any).
    pub content_topics: &'a [String],
    /// Only messages with `timestamp >= time_start`.
    pub time_start: Option<i64>,
    /// Only messages with `timestamp < time_end` (or `<=` with `time_end_inclusive`).
    pub time_end: Option<i64>,
    /// nwaku's inclusive `time_end`.
    pub time_end_inclusive: bool,
    /// Only these messages (empty: any).
    pub hashes: &'a BTreeSet<MessageHash>,
    /// Continue strictly after (forward) or before (backward) this message.
    pub cursor: Option<MessageHash>,
    /// Ascending (`true`) or descending traversal.
    pub forward: bool,
    /// Most entries in the page (≥ 1).
    pub page_size: usize,
}

/// The stored messages of one store node (see the module doc). Every structure is bounded by
/// [`ArchiveConfig::capacity`] entries.
#[derive(Debug, Clone)]
pub struct Archive {
    config: ArchiveConfig,
    entries: BTreeMap<StoreKey, StoredMessage>,
    /// hash → timestamp, for lookups and cursors.
    by_hash: BTreeMap<MessageHash, i64>,
    /// pubsub topic → content topic → keys. Empty sets and maps are removed.
    by_topic: BTreeMap<String, BTreeMap<String, BTreeSet<StoreKey>>>,
}

impl Archive {
    /// An empty archive; fails if `capacity` is 0.
    pub fn new(config: ArchiveConfig) -> Result<Self, StoreConfigError> {
        if config.capacity == 0 {
            return Err(StoreConfigError::ZeroCapacity);
        }
        Ok(Self {
            config,
            entries: BTreeMap::new(),
            by_hash: BTreeMap::new(),
            by_topic: BTreeMap::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ArchiveConfig {
        &self.config
    }

    /// Number of stored messages.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the message with this hash is stored.
    pub fn contains(&self, hash: &MessageHash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The key of a stored message.
    pub fn key_of(&self, hash: &MessageHash) -> Option<StoreKey> {
        self.by_hash.get(hash).map(|&timestamp| StoreKey {
            timestamp,
            hash: *hash,
        })
    }

    /// The stored message with this hash.
    pub fn get(&self, hash: &MessageHash) -> Option<&StoredMessage> {
        self.key_of(hash).and_then(|key| self.entries.get(&key))
    }

    /// The stored message at `key`.
    pub fn get_by_key(&self, key: &StoreKey) -> Option<&StoredMessage> {
        self.entries.get(key)
    }

    /// Every stored message in store order (ascending timestamp, then hash).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&StoreKey, &StoredMessage)> {
        self.entries.iter()
    }

    /// The oldest stored key.
    pub fn oldest(&self) -> Option<StoreKey> {
        self.entries.keys().next().copied()
    }

    /// The newest stored key.
    pub fn newest(&self) -> Option<StoreKey> {
        self.entries.keys().next_back().copied()
    }

    /// Checks that `msg` may be stored at local time `now`: not ephemeral, timestamp set and
    /// within the allowed drift of `now` (nwaku `archive.validate`).
    pub fn admit(&self, now: SimTime, msg: &WakuMessage) -> Result<(), InsertError> {
        if msg.ephemeral() {
            return Err(InsertError::Ephemeral);
        }
        let timestamp_ns = msg.timestamp();
        if timestamp_ns == 0 {
            return Err(InsertError::MissingTimestamp);
        }
        if let Some(drift) = self.config.max_timestamp_drift {
            let now_ns = now_ns(now);
            let max_drift_ns = i64::try_from(drift.0).unwrap_or(i64::MAX);
            if timestamp_ns < now_ns.saturating_sub(max_drift_ns) {
                return Err(InsertError::TooOld {
                    timestamp_ns,
                    now_ns,
                    max_drift_ns,
                });
            }
            if timestamp_ns > now_ns.saturating_add(max_drift_ns) {
                return Err(InsertError::TooFuture {
                    timestamp_ns,
                    now_ns,
                    max_drift_ns,
                });
            }
        }
        Ok(())
    }

    /// Stores `msg`, received on `pubsub_topic`, at local time `now` (see [`Archive::admit`]);
    /// the same message twice is stored once.
    pub fn insert(
        &mut self,
        now: SimTime,
        pubsub_topic: &str,
        msg: &WakuMessage,
    ) -> Result<InsertOutcome, InsertError> {
        self.admit(now, msg)?;
        let hash = msg.hash(pubsub_topic);
        if self.by_hash.contains_key(&hash) {
            return Ok(InsertOutcome::Duplicate);
        }
        let key = StoreKey {
            timestamp: msg.timestamp(),
            hash,
        };
        let mut evicted = None;
        if self.entries.len() >= self.config.capacity {
            let oldest = self
                .oldest()
                .expect("a full archive of capacity >= 1 has an oldest entry");
            if key < oldest {
                return Err(InsertError::OlderThanArchive);
            }
            self.remove(&oldest);
            evicted = Some(oldest.hash);
        }
        self.by_topic
            .entry(pubsub_topic.to_string())
            .or_default()
            .entry(msg.content_topic.clone())
            .or_default()
            .insert(key);
        self.by_hash.insert(hash, key.timestamp);
        self.entries.insert(
            key,
            StoredMessage {
                pubsub_topic: pubsub_topic.to_string(),
                message: msg.clone(),
            },
        );
        debug_assert!(self.entries.len() <= self.config.capacity);
        Ok(InsertOutcome::Stored { evicted })
    }

    /// Removes the message with this hash; returns it if it was stored.
    pub fn remove_hash(&mut self, hash: &MessageHash) -> Option<StoredMessage> {
        let key = self.key_of(hash)?;
        self.remove(&key)
    }

    fn remove(&mut self, key: &StoreKey) -> Option<StoredMessage> {
        let stored = self.entries.remove(key)?;
        self.by_hash.remove(&key.hash);
        let topics = self
            .by_topic
            .get_mut(&stored.pubsub_topic)
            .expect("every stored message is indexed under its pubsub topic");
        let keys = topics
            .get_mut(&stored.message.content_topic)
            .expect("every stored message is indexed under its content topic");
        keys.remove(key);
        if keys.is_empty() {
            topics.remove(&stored.message.content_topic);
            if topics.is_empty() {
                self.by_topic.remove(&stored.pubsub_topic);
            }
        }
        Some(stored)
    }

    /// Applies the time retention policy at local time `now`: when the oldest message is older
    /// than `retention_time × (1 + slack)`, deletes every message older than `retention_time`
    /// (nwaku `TimeRetentionPolicy.execute`). Returns the number deleted.
    pub fn prune(&mut self, now: SimTime) -> usize {
        let Some(retention) = self.config.retention_time else {
            return 0;
        };
        let Some(oldest) = self.oldest() else {
            return 0;
        };
        let retention_ns = i64::try_from(retention.0).unwrap_or(i64::MAX);
        let cutoff = now_ns(now).saturating_sub(retention_ns);
        let slack_ns = retention_ns / 100 * i64::from(self.config.retention_slack_percent);
        let threshold = cutoff.saturating_sub(slack_ns);
        if slack_ns > 0 && threshold <= oldest.timestamp {
            return 0;
        }
        let expired: Vec<StoreKey> = self
            .entries
            .range(..StoreKey::first_at(cutoff))
            .map(|(key, _)| *key)
            .collect();
        for key in &expired {
            self.remove(key);
        }
        expired.len()
    }

    /// One page of the messages matching `query` (see the module doc).
    pub fn query(&self, query: &ArchiveQuery<'_>) -> Result<ArchivePage, ArchiveError> {
        let cursor_key = match query.cursor {
            Some(hash) => Some(
                self.key_of(&hash)
                    .ok_or(ArchiveError::CursorNotFound(hash))?,
            ),
            None => None,
        };
        let fetch = query.page_size.max(1).saturating_add(1);
        let Some(range) = key_range(query, cursor_key) else {
            return Ok(ArchivePage::default());
        };
        // The content criteria of a hash lookup (only nwaku accepts both together).
        let matches = |key: &StoreKey| -> bool {
            if query.pubsub_topic.is_none() && query.content_topics.is_empty() {
                return true;
            }
            let stored = &self.entries[key];
            query
                .pubsub_topic
                .is_none_or(|topic| stored.pubsub_topic == topic)
                && (query.content_topics.is_empty()
                    || query.content_topics.contains(&stored.message.content_topic))
        };

        // Candidates in ascending order; they include the first `fetch` matches in the
        // traversal direction (fewer only if fewer match).
        let ascending: Vec<StoreKey> = if !query.hashes.is_empty() {
            let mut keys: Vec<StoreKey> = query
                .hashes
                .iter()
                .filter_map(|hash| self.key_of(hash))
                .filter(|key| range.contains(key) && matches(key))
                .collect();
            keys.sort_unstable();
            keys
        } else if query.pubsub_topic.is_some() || !query.content_topics.is_empty() {
            let mut keys = Vec::new();
            for set in self.topic_sets(query.pubsub_topic, query.content_topics) {
                keys.extend(take_ascending(set.range(range), query.forward, fetch));
            }
            keys.sort_unstable();
            keys
        } else {
            let keys = self.entries.range(range).map(|(key, _)| key);
            take_ascending(keys, query.forward, fetch)
        };
        Ok(paginate(ascending, query.forward, query.page_size.max(1)))
    }

    /// The per-content-topic key sets a topic-filtered query must scan.
    fn topic_sets<'s>(
        &'s self,
        pubsub_topic: Option<&str>,
        content_topics: &[String],
    ) -> Vec<&'s BTreeSet<StoreKey>> {
        let wanted = |content: &str| {
            content_topics.is_empty() || content_topics.iter().any(|c| c == content)
        };
        let mut sets = Vec::new();
        match pubsub_topic {
            Some(pubsub) => {
                if let Some(topics) = self.by_topic.get(pubsub) {
                    if content_topics.is_empty() {
                        sets.extend(topics.values());
                    } else {
                        let unique: BTreeSet<&str> =
                            content_topics.iter().map(String::as_str).collect();
                        sets.extend(unique.into_iter().filter_map(|c| topics.get(c)));
                    }
                }
            }
            None => {
                for topics in self.by_topic.values() {
                    sets.extend(
                        topics
                            .iter()
                            .filter(|(content, _)| wanted(content))
                            .map(|(_, keys)| keys),
                    );
                }
            }
        }
        sets
    }
}

/// The node's clock as a Waku timestamp.
fn now_ns(now: SimTime) -> i64 {
    i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)
}

/// The first `n` keys of an ascending iterator when `forward`, else its last `n`; ascending.
fn take_ascending<'k>(
    iter: impl DoubleEndedIterator<Item = &'k StoreKey>,
    forward: bool,
    n: usize,
) -> Vec<StoreKey> {
    if forward {
        iter.take(n).copied().collect()
    } else {
        let mut keys: Vec<StoreKey> = iter.rev().take(n).copied().collect();
        keys.reverse();
        keys
    }
}

/// Cuts one page out of ascending candidates: the first `page_size` (forward) or the last
/// `page_size` (backward), with the cursor set to the last entry traversed when more remain.
fn paginate(ascending: Vec<StoreKey>, forward: bool, page_size: usize) -> ArchivePage {
    let more = ascending.len() > page_size;
    let keys: Vec<StoreKey> = if forward {
        ascending.into_iter().take(page_size).collect()
    } else {
        let skip = ascending.len().saturating_sub(page_size);
        ascending.into_iter().skip(skip).collect()
    };
    let cursor = match (more, forward) {
        (false, _) => None,
        (true, true) => keys.last().map(|key| key.hash),
        (true, false) => keys.first().map(|key| key.hash),
    };
    ArchivePage { keys, cursor }
}

/// A non-empty key range.
#[derive(Debug, Clone, Copy)]
struct KeyRange {
    lower: Bound<StoreKey>,
    upper: Bound<StoreKey>,
}

impl RangeBounds<StoreKey> for KeyRange {
    fn start_bound(&self) -> Bound<&StoreKey> {
        self.lower.as_ref()
    }
    fn end_bound(&self) -> Bound<&StoreKey> {
        self.upper.as_ref()
    }
}

/// The keys a query may return, from its time range and cursor; `None` if empty.
fn key_range(query: &ArchiveQuery<'_>, cursor: Option<StoreKey>) -> Option<KeyRange> {
    let mut lower = Bound::Unbounded;
    let mut upper = Bound::Unbounded;
    if let Some(start) = query.time_start {
        lower = Bound::Included(StoreKey::first_at(start));
    }
    if let Some(end) = query.time_end {
        upper = if query.time_end_inclusive {
            Bound::Included(StoreKey::last_at(end))
        } else {
            Bound::Excluded(StoreKey::first_at(end))
        };
    }
    if let Some(cursor) = cursor {
        if query.forward {
            lower = tighter_lower(lower, Bound::Excluded(cursor));
        } else {
            upper = tighter_upper(upper, Bound::Excluded(cursor));
        }
    }
    let empty = match (lower, upper) {
        (Bound::Included(lo), Bound::Included(hi)) => lo > hi,
        (Bound::Included(lo) | Bound::Excluded(lo), Bound::Included(hi) | Bound::Excluded(hi)) => {
            lo >= hi
        }
        _ => false,
    };
    (!empty).then_some(KeyRange { lower, upper })
}

fn tighter_lower(a: Bound<StoreKey>, b: Bound<StoreKey>) -> Bound<StoreKey> {
    match (a, b) {
        (Bound::Unbounded, x) | (x, Bound::Unbounded) => x,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y))
            if x != y =>
        {
            if x > y {
                a
            } else {
                b
            }
        }
        (Bound::Excluded(x), _) | (_, Bound::Excluded(x)) => Bound::Excluded(x),
        (Bound::Included(x), Bound::Included(_)) => Bound::Included(x),
    }
}

fn tighter_upper(a: Bound<StoreKey>, b: Bound<StoreKey>) -> Bound<StoreKey> {
    match (a, b) {
        (Bound::Unbounded, x) | (x, Bound::Unbounded) => x,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y))
            if x != y =>
        {
            if x < y {
                a
            } else {
                b
            }
        }
        (Bound::Excluded(x), _) | (_, Bound::Excluded(x)) => Bound::Excluded(x),
        (Bound::Included(x), Bound::Included(_)) => Bound::Included(x),
    }
}
