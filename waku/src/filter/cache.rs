//! Small bounded, time-driven helpers shared by the filter service and client: a timed
//! de-duplication cache of message hashes, and per-peer request rate limiters.
//!
//! Both are ordered (`BTreeMap`/`BTreeSet`) and bounded by an explicit capacity: when full,
//! the entry touched longest ago is evicted first, so memory never grows with run length.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{NodeId as PeerId, SimDuration, SimTime};

use super::config::{RateLimit, RateLimitMode};

/// A set of keys that each expire `ttl` after they were last put, holding at most `capacity`.
///
/// Models nim-libp2p's `TimedCache` as nwaku's filter service uses it: `put` of a key already
/// present refreshes its expiry and reports the duplicate.
#[derive(Clone, Debug)]
pub(crate) struct TimedCache<K: Ord + Clone> {
    ttl: SimDuration,
    capacity: usize,
    /// key → time it was last put.
    entries: BTreeMap<K, SimTime>,
    /// (time last put, key), oldest first; the same keys as `entries`.
    order: BTreeSet<(SimTime, K)>,
}

impl<K: Ord + Clone> TimedCache<K> {
    /// An empty cache; `capacity` must be positive.
    pub(crate) fn new(ttl: SimDuration, capacity: usize) -> Self {
        assert!(capacity > 0, "a timed cache needs a positive capacity");
        Self {
            ttl,
            capacity,
            entries: BTreeMap::new(),
            order: BTreeSet::new(),
        }
    }

    /// Drops every key whose last put is `ttl` or more before `now`.
    pub(crate) fn expire(&mut self, now: SimTime) {
        while let Some((at, _)) = self.order.first() {
            if at.saturating_add(self.ttl) > now {
                break;
            }
            let (_, key) = self.order.pop_first().expect("checked non-empty");
            self.entries.remove(&key);
        }
    }

    /// Records `key` at `now`; true when it was already present (a duplicate), in which case
    /// its expiry is pushed back to `now + ttl`.
    pub(crate) fn put(&mut self, now: SimTime, key: K) -> bool {
        self.expire(now);
        if let Some(at) = self.entries.get_mut(&key) {
            self.order.remove(&(*at, key.clone()));
            *at = now;
            self.order.insert((now, key));
            return true;
        }
        if self.entries.len() >= self.capacity
            && let Some((_, oldest)) = self.order.pop_first()
        {
            self.entries.remove(&oldest);
        }
        self.entries.insert(key.clone(), now);
        self.order.insert((now, key));
        false
    }

    /// Number of keys held (expired ones may linger until the next `put` or `expire`).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// One peer's budget under a [`RateLimit`].
#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Strict/compensating: tokens left in this period. Unused by `Continuous`.
    budget: u64,
    /// Strict/compensating: when the bucket was last full. Continuous: the GCRA "theoretical
    /// arrival time" of the next conforming request.
    mark: SimTime,
    /// Last time this peer made a request (for eviction).
    last_used: SimTime,
}

/// Per-peer rate limiters, at most `capacity` peers tracked (least recently used evicted).
#[derive(Clone, Debug)]
pub(crate) struct PeerRateLimiter {
    limit: RateLimit,
    capacity: usize,
    buckets: BTreeMap<PeerId, Bucket>,
    /// (last used, peer), oldest first; the same peers as `buckets`.
    by_use: BTreeSet<(SimTime, PeerId)>,
}

impl PeerRateLimiter {
    /// Limiters for `limit`; `capacity` (peers tracked) must be positive.
    pub(crate) fn new(limit: RateLimit, capacity: usize) -> Self {
        assert!(capacity > 0, "a rate limiter needs a positive capacity");
        assert!(
            limit.requests > 0 && limit.period > SimDuration::ZERO,
            "a rate limit needs at least one request per non-empty period"
        );
        Self {
            limit,
            capacity,
            buckets: BTreeMap::new(),
            by_use: BTreeSet::new(),
        }
    }

    /// Whether `peer` may make one more request at `now`; consumes a token when it may.
    pub(crate) fn allow(&mut self, now: SimTime, peer: PeerId) -> bool {
        let limit = self.limit;
        let bucket = match self.buckets.get(&peer) {
            Some(b) => {
                self.by_use.remove(&(b.last_used, peer));
                *b
            }
            None => {
                if self.buckets.len() >= self.capacity
                    && let Some((_, evicted)) = self.by_use.pop_first()
                {
                    self.buckets.remove(&evicted);
                }
                Bucket {
                    budget: u64::from(limit.requests),
                    mark: now,
                    last_used: now,
                }
            }
        };
        let mut bucket = bucket;
        let allowed = match limit.mode {
            RateLimitMode::Strict | RateLimitMode::Compensating => {
                consume_periodic(&mut bucket, limit, now)
            }
            RateLimitMode::Continuous => consume_gcra(&mut bucket, limit, now),
        };
        bucket.last_used = now;
        self.buckets.insert(peer, bucket);
        self.by_use.insert((now, peer));
        allowed
    }

    /// Forgets `peer` (it left the peer store).
    pub(crate) fn remove(&mut self, peer: PeerId) {
        if let Some(b) = self.buckets.remove(&peer) {
            self.by_use.remove(&(b.last_used, peer));
        }
    }
}

/// nwaku's `TokenBucket.tryConsume(1)` in strict or compensating replenish mode
/// (`waku/common/rate_limit/token_bucket.nim`): the bucket refills only once a whole period
/// has passed since it was last full; compensating mode adds up to 25 % of the capacity for
/// budget left unused over the elapsed periods.
fn consume_periodic(bucket: &mut Bucket, limit: RateLimit, now: SimTime) -> bool {
    let cap = u64::from(limit.requests);
    if bucket.budget >= cap {
        bucket.mark = now;
    }
    if bucket.budget >= 1 {
        bucket.budget -= 1;
        return true;
    }
    let elapsed = now.saturating_duration_since(bucket.mark);
    if elapsed >= limit.period {
        let compensation = match limit.mode {
            RateLimitMode::Compensating => {
                // Same arithmetic as nwaku (IEEE-754 basic operations only, so deterministic).
                let distance = elapsed.as_nanos() as f64 / limit.period.as_nanos() as f64;
                let usage = bucket.budget as f64 / cap as f64 / distance;
                if usage >= 1.0 {
                    0
                } else {
                    let max_comp = cap as f64 * 0.25;
                    ((1.0 - usage) * cap as f64).min(max_comp).trunc() as u64
                }
            }
            _ => 0,
        };
        bucket.budget = cap + compensation;
        bucket.mark = now;
    }
    if bucket.budget >= 1 {
        bucket.budget -= 1;
        true
    } else {
        false
    }
}

/// A continuous token bucket (`golang.org/x/time/rate`, as go-waku uses it) as a generic cell
/// rate algorithm: one token every `period / requests`, burst `requests`.
fn consume_gcra(bucket: &mut Bucket, limit: RateLimit, now: SimTime) -> bool {
    let interval = limit.period.as_nanos() / u64::from(limit.requests);
    let tolerance = interval.saturating_mul(u64::from(limit.requests) - 1);
    let tat = bucket.mark.max(now);
    if tat.as_nanos() > now.as_nanos().saturating_add(tolerance) {
        return false;
    }
    bucket.mark = tat.saturating_add(SimDuration::from_nanos(interval));
    true
}
