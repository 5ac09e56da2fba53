//! Reconnection backoff after failed dials: nwaku's deterministic exponential schedule with
//! a give-up count, and go-waku's go-libp2p exponential backoff with full jitter.

use sim_core::{SimDuration, SimRng};

/// How long a peer is not redialled after a failed dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackoffPolicy {
    /// nwaku `peer_manager.nim` `calculateBackoff`/`canBeConnected`: after the n-th
    /// consecutive failure wait `initial × factor^(n−1)` from that failure (120 s, 480 s,
    /// 1920 s, 7680 s); at `max_failed_attempts` failures the peer is never redialled. A
    /// successful dial resets the count.
    Exponential {
        /// Delay after the first failure (`InitialBackoffInSec` = 120 s).
        initial: SimDuration,
        /// Growth per failure (`BackoffFactor` = 4).
        factor: u64,
        /// Failures after which the peer is given up (`MaxFailedAttempts` = 5).
        max_failed_attempts: u32,
    },
    /// go-waku `peer_connector.go` `getBackOff`: go-libp2p `NewExponentialBackoff(1 min, 1 h,
    /// FullJitter, 1 s, 5.0, 0)`. The k-th delay drawn for a peer (k = 0, 1, …) is `min` when
    /// `base^k × unit ≤ min`, else uniform in `[min, min(base^k × unit, max))`. The strategy
    /// object lives in a 600-peer LRU and is **not** reset by a successful dial, so k counts
    /// every failure while the peer stays cached.
    FullJitter {
        /// Lower bound (1 min).
        min: SimDuration,
        /// Upper bound (1 h).
        max: SimDuration,
        /// Exponent base (5).
        base: u64,
        /// Unit the power is counted in (1 s).
        unit: SimDuration,
    },
}

impl BackoffPolicy {
    /// nwaku's schedule.
    pub const fn nwaku() -> Self {
        Self::Exponential {
            initial: SimDuration::from_secs(120),
            factor: 4,
            max_failed_attempts: 5,
        }
    }

    /// go-waku's schedule.
    pub const fn go_waku() -> Self {
        Self::FullJitter {
            min: SimDuration::from_mins(1),
            max: SimDuration::from_mins(60),
            base: 5,
            unit: SimDuration::from_secs(1),
        }
    }

    /// The wait after a failed dial. `failures` is the consecutive-failure count including
    /// this one (nwaku), `attempt` the number of delays drawn for this peer before (go-waku).
    /// `None` = never dial this peer again.
    pub fn delay(self, rng: &mut SimRng, failures: u32, attempt: u32) -> Option<SimDuration> {
        match self {
            Self::Exponential {
                initial,
                factor,
                max_failed_attempts,
            } => {
                if failures >= max_failed_attempts {
                    return None;
                }
                let growth = factor.saturating_pow(failures.saturating_sub(1));
                Some(initial.saturating_mul(growth))
            }
            Self::FullJitter {
                min,
                max,
                base,
                unit,
            } => {
                let raw = unit.saturating_mul(base.saturating_pow(attempt));
                if raw <= min {
                    return Some(min);
                }
                let upper = raw.min(max);
                if upper <= min {
                    return Some(min);
                }
                let ns = rng.range_inclusive(min.as_nanos(), upper.as_nanos() - 1);
                Some(SimDuration::from_nanos(ns))
            }
        }
    }

    /// Failures after which a peer is never redialled, if the policy gives up.
    pub fn gives_up_after(self) -> Option<u32> {
        match self {
            Self::Exponential {
                max_failed_attempts,
                ..
            } => Some(max_failed_attempts),
            Self::FullJitter { .. } => None,
        }
    }
}
