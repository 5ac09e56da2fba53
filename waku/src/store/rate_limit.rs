//! Request rate limiting for the request/response services (store, lightpush; usable by any
//! service): token buckets refilled continuously in virtual time, one global bucket and one
//! bucket per requesting peer, with a bounded, expiring peer table.
//!
//! Two shapes are configured from one [`RateLimitConfig`]:
//!
//! * [`RateLimitConfig::nwaku`]: nwaku's `RequestRateLimiter` (`waku/common/rate_limit/
//!   request_limiter.nim`): a global bucket of `volume` per `period`, plus a per-peer bucket of
//!   `trunc(volume × ratio × 0.75)` per `period × ratio`, where `ratio` is 10 for periods up
//!   to 1 s, 3 up to 1 min and 2 above; a peer idle for `2 × ratio × period` is forgotten. The
//!   per-peer bucket is charged first, then the global one (a request refused by the global
//!   bucket still costs the peer a token, as in nwaku).
//! * [`RateLimitConfig::per_peer`]: one bucket per peer only, go-waku style
//!   (`rate.NewLimiter(r, burst)` per peer; lightpush v2 uses 1 request/s, burst 1).
//!
//! A bucket starts full (`volume` tokens) and refills at `volume / period`, computed exactly
//! with integers. A [`TokenRate`] with `volume == 0` or a zero `period` never limits (nwaku's
//! "unlimited" setting). The peer table holds at most `max_tracked_peers` buckets; when full,
//! the bucket idle longest is dropped (that peer starts again with a full bucket).

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{NodeId, SimDuration, SimTime};

/// `volume` requests per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRate {
    /// Requests allowed per period (also the burst size).
    pub volume: u32,
    /// The refill period.
    pub period: SimDuration,
}

impl TokenRate {
    /// `volume` requests per `period`.
    pub const fn new(volume: u32, period: SimDuration) -> Self {
        Self { volume, period }
    }

    /// Whether this rate never refuses (zero volume or zero period, nwaku's "unlimited").
    pub const fn is_unlimited(&self) -> bool {
        self.volume == 0 || self.period.0 == 0
    }
}

/// Which buckets a [`RateLimiter`] keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// One bucket shared by all peers.
    pub global: Option<TokenRate>,
    /// One bucket per requesting peer.
    pub per_peer: Option<TokenRate>,
    /// Bound on the per-peer table (default 10 000; the least recently used bucket is dropped).
    pub max_tracked_peers: usize,
    /// A peer bucket unused this long is dropped (nwaku: `2 × ratio × period`).
    pub peer_idle_expiry: SimDuration,
}

/// Default bound on the number of peers a limiter tracks.
pub const DEFAULT_MAX_TRACKED_PEERS: usize = 10_000;

impl RateLimitConfig {
    /// nwaku's `RequestRateLimiter` for the setting `volume` per `period` (see the module doc).
    pub fn nwaku(volume: u32, period: SimDuration) -> Self {
        let global = TokenRate::new(volume, period);
        let ratio: u64 = if global.is_unlimited() {
            1
        } else if period <= SimDuration::from_secs(1) {
            10
        } else if period <= SimDuration::from_mins(1) {
            3
        } else {
            2
        };
        // trunc(volume * ratio * 0.75), in integers.
        let peer_volume = (u64::from(volume) * ratio * 3 / 4).min(u64::from(u32::MAX)) as u32;
        Self {
            global: Some(global),
            per_peer: Some(TokenRate::new(peer_volume, period.saturating_mul(ratio))),
            max_tracked_peers: DEFAULT_MAX_TRACKED_PEERS,
            peer_idle_expiry: period.saturating_mul(ratio * 2),
        }
    }

    /// A per-peer bucket only, go-waku style: `volume` requests per `period` for each peer.
    pub fn per_peer(volume: u32, period: SimDuration) -> Self {
        Self {
            global: None,
            per_peer: Some(TokenRate::new(volume, period)),
            max_tracked_peers: DEFAULT_MAX_TRACKED_PEERS,
            peer_idle_expiry: period.saturating_mul(2).max(SimDuration::from_secs(1)),
        }
    }
}

/// A token bucket in exact integer arithmetic: one token is `period` nanosecond-units and
/// every elapsed nanosecond adds `volume` units.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bucket {
    units: u128,
    updated: SimTime,
}

impl Bucket {
    fn full(rate: TokenRate, now: SimTime) -> Self {
        Self {
            units: Self::capacity(rate),
            updated: now,
        }
    }

    fn capacity(rate: TokenRate) -> u128 {
        u128::from(rate.volume) * u128::from(rate.period.0)
    }

    /// Refills up to `now`, then takes one token if there is one.
    fn try_consume(&mut self, rate: TokenRate, now: SimTime) -> bool {
        if rate.is_unlimited() {
            return true;
        }
        let elapsed = u128::from(now.saturating_duration_since(self.updated).0);
        self.units = (self.units + elapsed * u128::from(rate.volume)).min(Self::capacity(rate));
        self.updated = self.updated.max(now);
        let token = u128::from(rate.period.0);
        if self.units >= token {
            self.units -= token;
            true
        } else {
            false
        }
    }
}

/// A peer's bucket and when it was last charged.
#[derive(Debug, Clone)]
struct PeerBucket {
    bucket: Bucket,
    last_used: SimTime,
}

/// Global and per-peer token buckets (see the module doc).
#[derive(Debug, Clone)]
pub struct RateLimiter {
    config: RateLimitConfig,
    global: Option<Bucket>,
    peers: BTreeMap<NodeId, PeerBucket>,
    /// `(last_used, peer)` for every entry of `peers`: expiry and LRU order.
    by_last_use: BTreeSet<(SimTime, NodeId)>,
}

impl RateLimiter {
    /// A limiter with full buckets at `now`.
    pub fn new(config: RateLimitConfig, now: SimTime) -> Self {
        let global = config.global.map(|rate| Bucket::full(rate, now));
        Self {
            config,
            global,
            peers: BTreeMap::new(),
            by_last_use: BTreeSet::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Number of peers with a bucket (at most `max_tracked_peers`).
    pub fn tracked_peers(&self) -> usize {
        self.peers.len()
    }

    /// Charges one request from `peer` at `now`; `true` if it is allowed.
    pub fn check(&mut self, now: SimTime, peer: NodeId) -> bool {
        self.expire(now);
        if let Some(rate) = self.config.per_peer
            && !rate.is_unlimited()
            && self.config.max_tracked_peers > 0
        {
            let allowed = self.charge_peer(rate, now, peer);
            if !allowed {
                return false;
            }
        }
        match (self.config.global, self.global.as_mut()) {
            (Some(rate), Some(bucket)) => bucket.try_consume(rate, now),
            _ => true,
        }
    }

    fn charge_peer(&mut self, rate: TokenRate, now: SimTime, peer: NodeId) -> bool {
        if let Some(entry) = self.peers.get_mut(&peer) {
            self.by_last_use.remove(&(entry.last_used, peer));
            entry.last_used = now;
            self.by_last_use.insert((now, peer));
            return entry.bucket.try_consume(rate, now);
        }
        while self.peers.len() >= self.config.max_tracked_peers {
            let Some((_, lru)) = self.by_last_use.pop_first() else {
                break;
            };
            self.peers.remove(&lru);
        }
        let mut bucket = Bucket::full(rate, now);
        let allowed = bucket.try_consume(rate, now);
        self.peers.insert(
            peer,
            PeerBucket {
                bucket,
                last_used: now,
            },
        );
        self.by_last_use.insert((now, peer));
        allowed
    }

    /// Drops peer buckets idle for `peer_idle_expiry` or longer.
    fn expire(&mut self, now: SimTime) {
        while let Some(&(last_used, peer)) = self.by_last_use.first() {
            if now.saturating_duration_since(last_used) < self.config.peer_idle_expiry {
                break;
            }
            self.by_last_use.pop_first();
            self.peers.remove(&peer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: NodeId = NodeId(1);
    const P2: NodeId = NodeId(2);

    fn at_ms(ms: u64) -> SimTime {
        SimTime(ms * 1_000_000)
    }

    #[test]
    fn per_peer_bucket_refills_at_the_configured_rate() {
        let mut rl = RateLimiter::new(
            RateLimitConfig::per_peer(1, SimDuration::from_secs(1)),
            SimTime::ZERO,
        );
        assert!(rl.check(at_ms(0), P1));
        assert!(!rl.check(at_ms(500), P1));
        assert!(rl.check(at_ms(500), P2), "peers have separate buckets");
        assert!(rl.check(at_ms(1500), P1), "one token after a full period");
        assert!(!rl.check(at_ms(1501), P1));
    }

    #[test]
    fn nwaku_shape_has_global_and_peer_share() {
        let cfg = RateLimitConfig::nwaku(10, SimDuration::from_secs(1));
        assert_eq!(
            cfg.per_peer,
            Some(TokenRate::new(75, SimDuration::from_secs(10)))
        );
        assert_eq!(cfg.peer_idle_expiry, SimDuration::from_secs(20));
        let cfg = RateLimitConfig::nwaku(30, SimDuration::from_mins(1));
        assert_eq!(
            cfg.per_peer,
            Some(TokenRate::new(67, SimDuration::from_mins(3)))
        );
        let mut rl = RateLimiter::new(
            RateLimitConfig::nwaku(3, SimDuration::from_secs(1)),
            SimTime::ZERO,
        );
        // Global bucket of 3: the fourth request within the period is refused, whoever sends it.
        assert!(rl.check(at_ms(0), P1));
        assert!(rl.check(at_ms(0), P2));
        assert!(rl.check(at_ms(0), P1));
        assert!(!rl.check(at_ms(0), P2));
    }

    #[test]
    fn unlimited_rates_never_refuse() {
        let mut rl = RateLimiter::new(
            RateLimitConfig::nwaku(0, SimDuration::from_secs(1)),
            SimTime::ZERO,
        );
        for _ in 0..1000 {
            assert!(rl.check(at_ms(0), P1));
        }
    }

    #[test]
    fn peer_table_is_bounded_and_expires() {
        let mut cfg = RateLimitConfig::per_peer(1, SimDuration::from_secs(10));
        cfg.max_tracked_peers = 3;
        let mut rl = RateLimiter::new(cfg, SimTime::ZERO);
        for i in 0..10 {
            assert!(rl.check(at_ms(i), NodeId(i as u32)));
            assert!(rl.tracked_peers() <= 3);
        }
        // Idle for 2 periods: forgotten.
        rl.check(at_ms(100_000), NodeId(99));
        assert_eq!(rl.tracked_peers(), 1);
    }
}
