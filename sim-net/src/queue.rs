//! A node's access link in one direction (uplink or downlink): a bandwidth-limited FIFO with
//! a bounded backlog, as `tc tbf` shapes a real interface.
//!
//! **One number per queue, timed at entry.** A queue is the instant its link will have sent
//! everything accepted so far (`free_at`). A segment of `b` bytes accepted at `now` leaves
//! when the link, sending from `max(free_at, now)` on, has sent `b` more bytes. The rate is a
//! known function of time — the node's configured rate, then the `SetBandwidth` changes of the
//! fault schedule — so that instant is computed exactly when the segment enters, through any
//! rate change ahead. This is exact, not an approximation: a FIFO departure depends only on
//! earlier arrivals and on the rate, never on later arrivals. So a backlog built up at 1 kbit/s
//! drains at the restored rate from the instant of the restore, as an explicit packet queue
//! would. The alternatives are worse: re-timing on the restore would have to move arrival
//! events already scheduled (the engine cannot), and an explicit queue with a departure
//! event per segment would cost an event per message and change the timing of every run. As
//! it is, a run whose queues never overflow and whose rates never change is timed exactly as
//! before, event for event.
//!
//! **Bounded backlog, tail drop.** A real shaper does not build an unbounded backlog: tbf holds
//! at most `limit` bytes (`tc` derives it as `rate × latency`) and drops what arrives beyond.
//! Here a queue holds at most [`NetConfig::queue_limit`] of transmission at the rate in force:
//! a segment that arrives while more than `rate(now) × queue_limit` bytes still wait is
//! dropped. The decision looks only at the present (bytes waiting, rate now), never at
//! scheduled changes. The arriving segment's own size does not count, so a message larger than
//! the limit still passes an empty queue (TCP would cut it into packets that fit). Without a
//! bound, a node that keeps sending into a slow link waits longer and longer; with it, the wait
//! for the first bit of a segment is at most `queue_limit` while the rate stays the same.
//! Data accepted before a rate cut drains at the new, lower rate (a real qdisc keeps what it
//! queued too); new arrivals are refused until the backlog is back under the limit.
//!
//! What a drop means follows the network's semantics (`network.rs` applies it): under stream
//! semantics it is a lost transmission attempt, retried after the retransmission timeout like
//! any loss (an uplink drop is offered to the uplink again, a downlink drop is sent again by
//! its sender), so repeated drops back off exponentially and, after the retransmission budget,
//! reset the connection, as TCP behind an overflowing qdisc does; under datagram semantics the
//! message is lost. Either way the queue's node counts it in `NodeStats::queue_drops`. There
//! is no congestion control: segments back off one by one, and those dropped together retry
//! together, so a queue flooded at once drains in rounds — slower than TCP would, never faster.
//!
//! [`NetConfig::queue_limit`]: crate::NetConfig::queue_limit

use sim_core::{SimDuration, SimTime};

use crate::config::serialization_time;

/// Nanoseconds per second: a rate in bytes per second times a span in nanoseconds is work in
/// these units (bytes × 10⁹).
const NS_PER_S: u128 = 1_000_000_000;

/// One node's scheduled rate changes, per direction: `(from, bytes per second)` with 0 meaning
/// unlimited, in time order; at equal times the later entry wins.
#[derive(Clone, Debug, Default)]
pub(crate) struct RatePlan {
    /// Uplink changes.
    pub(crate) up: Vec<(SimTime, u64)>,
    /// Downlink changes.
    pub(crate) down: Vec<(SimTime, u64)>,
}

/// One direction of a node's link: the configured rate until the first scheduled change.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link<'a> {
    /// Bytes per second before the first change (0 = unlimited).
    pub(crate) base: u64,
    /// Scheduled changes, in time order.
    pub(crate) steps: &'a [(SimTime, u64)],
}

impl Link<'_> {
    /// The rate in force at `t`, and the index of the first change after `t`.
    fn at(&self, t: SimTime) -> (u64, usize) {
        let next = self.steps.partition_point(|(at, _)| *at <= t);
        let rate = match next {
            0 => self.base,
            i => self.steps[i - 1].1,
        };
        (rate, next)
    }

    /// Whether the link is unlimited at `t` (then its queue is empty: an unlimited period
    /// sends everything queued at its start).
    pub(crate) fn unlimited_at(&self, t: SimTime) -> bool {
        self.at(t).0 == 0
    }

    /// When the link, sending from `start` on, has sent `bytes` more bytes (rounded up to the
    /// nanosecond). With no change ahead this is `start + serialization_time(bytes, rate)`.
    pub(crate) fn finish(&self, start: SimTime, bytes: u32) -> SimTime {
        let (mut rate, next) = self.at(start);
        if next == self.steps.len() {
            return start + serialization_time(bytes, rate);
        }
        let mut work = u128::from(bytes) * NS_PER_S;
        let mut t = start;
        for &(at, next_rate) in &self.steps[next..] {
            if rate == 0 {
                return t;
            }
            let capacity = u128::from(rate) * u128::from((at - t).0);
            if capacity >= work {
                break;
            }
            work -= capacity;
            t = at;
            rate = next_rate;
        }
        if rate == 0 {
            return t;
        }
        let ns = work.div_ceil(u128::from(rate));
        t + SimDuration(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// Whether a segment arriving at `now` finds room in a queue that is busy until
    /// `free_at`: the bytes still waiting are at most `rate(now) × limit`.
    pub(crate) fn admits(&self, now: SimTime, free_at: SimTime, limit: SimDuration) -> bool {
        if free_at <= now {
            return true;
        }
        let (rate, next) = self.at(now);
        if rate == 0 {
            return true;
        }
        if next == self.steps.len() || self.steps[next].0 >= free_at {
            // Constant rate until the queue is empty: waiting bytes / rate is the wait.
            return free_at - now <= limit;
        }
        self.backlog(now, free_at) <= u128::from(rate) * u128::from(limit.0)
    }

    /// Work (bytes × 10⁹) still waiting at `now` in a queue that is busy until `free_at`.
    fn backlog(&self, now: SimTime, free_at: SimTime) -> u128 {
        let (mut rate, next) = self.at(now);
        let mut work = 0u128;
        let mut t = now;
        for &(at, next_rate) in &self.steps[next..] {
            if at >= free_at {
                break;
            }
            work += u128::from(rate) * u128::from((at - t).0);
            t = at;
            rate = next_rate;
        }
        work + u128::from(rate) * u128::from((free_at - t).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(v)
    }
    fn ms(v: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(v)
    }

    #[test]
    fn without_changes_finish_is_serialization_time() {
        let link = Link {
            base: 1000,
            steps: &[],
        };
        assert_eq!(link.finish(s(1), 500), ms(1500));
        assert_eq!(link.finish(s(1), 0), s(1));
        let unlimited = Link {
            base: 0,
            steps: &[],
        };
        assert_eq!(unlimited.finish(s(1), 1 << 30), s(1));
    }

    #[test]
    fn finish_follows_rate_changes() {
        // 125 B/s (1 kbit/s) from 10 s to 20 s, unlimited before and after.
        let steps = [(s(10), 125), (s(20), 0)];
        let link = Link {
            base: 0,
            steps: &steps,
        };
        assert_eq!(
            link.finish(s(5), 10_000),
            s(5),
            "unlimited before the window"
        );
        assert_eq!(link.finish(s(10), 250), s(12));
        // 1250 B fit into the window; the rest goes at once when the rate is restored.
        assert_eq!(link.finish(s(10), 100_000), s(20));
        assert_eq!(link.finish(s(19), 125), s(20));
        assert_eq!(link.finish(s(25), 125), s(25));
        // Restored to 1000 B/s instead: the remainder drains at the new rate.
        let steps = [(s(10), 125), (s(20), 1000)];
        let link = Link {
            base: 1000,
            steps: &steps,
        };
        assert_eq!(link.finish(s(10), 1250 + 500), ms(20_500));
        assert_eq!(
            link.finish(s(8), 3000),
            ms(18_000),
            "2000 B at 1000 B/s, then 1000 at 125"
        );
    }

    #[test]
    fn equal_time_changes_the_last_one_wins() {
        let steps = [(s(10), 1), (s(10), 100)];
        let link = Link {
            base: 50,
            steps: &steps,
        };
        assert_eq!(link.finish(s(10), 100), s(11));
        assert_eq!(
            link.finish(s(9), 100),
            ms(10_500),
            "50 B at 50 B/s, then 50 at 100"
        );
    }

    #[test]
    fn admission_bounds_the_waiting_bytes_at_the_present_rate() {
        let limit = SimDuration::from_secs(1);
        let link = Link {
            base: 1000,
            steps: &[],
        };
        assert!(link.admits(s(5), s(5), limit), "empty queue");
        assert!(link.admits(s(5), s(6), limit), "exactly the limit");
        assert!(!link.admits(s(5), ms(6001), limit));
        // The rate drops to 100 B/s at 6 s. At 5 s the limit is 1000 B (the rate in force
        // times 1 s); a queue busy until 6.5 s holds 1000 + 50 B, one busy until 6 s 1000 B.
        let steps = [(s(6), 100)];
        let link = Link {
            base: 1000,
            steps: &steps,
        };
        assert!(!link.admits(s(5), ms(6_500), limit));
        assert!(link.admits(s(5), s(6), limit));
        // After the cut the same limit is 100 B: a queue busy until 7.5 s (150 B) is full.
        assert!(!link.admits(s(6), ms(7_500), limit));
        assert!(link.admits(s(6), s(7), limit));
    }
}
