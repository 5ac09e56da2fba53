//! When the channel's periodic work runs: [`Ticker`] turns a [`Sweep`] (exact per-item
//! timers, a fixed-period sweep, or never) into deadlines, and [`SyncTimer`] schedules
//! automatic sync messages (fixed interval, or js-waku's randomized backoff whose multiplier
//! the caller sets after each event).

use sim_core::{SimDuration, SimRng, SimTime};

use super::config::{Sweep, SyncSchedule};

/// A periodic task with a phase fixed at creation.
#[derive(Clone, Debug)]
pub(crate) struct Ticker {
    sweep: Sweep,
    next: SimTime,
}

impl Ticker {
    pub(crate) fn new(sweep: Sweep, now: SimTime) -> Self {
        let next = match sweep {
            Sweep::Every { interval } => now + interval.max(SimDuration(1)),
            _ => now,
        };
        Ticker { sweep, next }
    }

    /// When the task must next run, given the earliest time some of its work falls due.
    pub(crate) fn deadline(&self, earliest: Option<SimTime>) -> Option<SimTime> {
        let earliest = earliest?;
        match self.sweep {
            Sweep::Exact => Some(earliest),
            Sweep::Never => None,
            Sweep::Every { interval } => {
                if earliest <= self.next {
                    return Some(self.next);
                }
                let step = interval.as_nanos().max(1);
                let ticks = (earliest - self.next).as_nanos().div_ceil(step);
                Some(
                    self.next
                        .saturating_add(SimDuration(ticks.saturating_mul(step))),
                )
            }
        }
    }

    /// Whether the task runs at `now` (a fixed-period tick advances past `now`).
    pub(crate) fn fire(&mut self, now: SimTime) -> bool {
        match self.sweep {
            Sweep::Exact => true,
            Sweep::Never => false,
            Sweep::Every { interval } => {
                if now < self.next {
                    return false;
                }
                let step = interval.as_nanos().max(1);
                let ticks = (now - self.next).as_nanos() / step + 1;
                self.next = self
                    .next
                    .saturating_add(SimDuration(ticks.saturating_mul(step)));
                true
            }
        }
    }
}

/// Multipliers of js-waku's randomized sync backoff.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SyncEvent {
    /// Start, a sync received, own content sent: ×1.
    Neutral,
    /// Content received (ack faster): ×0.5.
    ContentReceived,
    /// A sync was just sent (do not hog the channel): ×2.
    SyncSent,
}

impl SyncEvent {
    fn multiplier(self) -> f64 {
        match self {
            SyncEvent::Neutral => 1.0,
            SyncEvent::ContentReceived => 0.5,
            SyncEvent::SyncSent => 2.0,
        }
    }
}

/// The automatic sync timer.
#[derive(Clone, Debug)]
pub(crate) struct SyncTimer {
    schedule: SyncSchedule,
    next: Option<SimTime>,
}

impl SyncTimer {
    pub(crate) fn new(schedule: SyncSchedule, now: SimTime, rng: &mut SimRng) -> Self {
        let mut timer = SyncTimer {
            schedule,
            next: None,
        };
        match schedule {
            SyncSchedule::Off => {}
            SyncSchedule::Fixed { interval } => {
                timer.next = Some(now + interval.max(SimDuration(1)));
            }
            SyncSchedule::Randomized { .. } => timer.restart(now, SyncEvent::Neutral, rng),
        }
        timer
    }

    pub(crate) fn next(&self) -> Option<SimTime> {
        self.next
    }

    /// Restarts a randomized timer at `random()·interval·multiplier` (no effect on others).
    pub(crate) fn restart(&mut self, now: SimTime, event: SyncEvent, rng: &mut SimRng) {
        if let SyncSchedule::Randomized { interval } = self.schedule {
            let delay = rng.unit_f64() * interval.as_nanos() as f64 * event.multiplier();
            self.next = Some(now + SimDuration(delay as u64));
        }
    }

    /// If a sync is due at `now`, reschedules the timer (as after sending one) and returns
    /// true.
    pub(crate) fn fire(&mut self, now: SimTime, rng: &mut SimRng) -> bool {
        if self.next.is_none_or(|t| t > now) {
            return false;
        }
        match self.schedule {
            SyncSchedule::Off => self.next = None,
            SyncSchedule::Fixed { interval } => {
                let step = interval.as_nanos().max(1);
                let next = self.next.unwrap_or(now);
                let ticks = (now - next).as_nanos() / step + 1;
                self.next = Some(next.saturating_add(SimDuration(ticks.saturating_mul(step))));
            }
            SyncSchedule::Randomized { .. } => self.restart(now, SyncEvent::SyncSent, rng),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_period_ticks_align_to_their_phase() {
        let s = SimDuration::from_secs;
        let mut t = Ticker::new(Sweep::Every { interval: s(60) }, SimTime::ZERO);
        assert_eq!(t.deadline(None), None);
        assert_eq!(
            t.deadline(Some(SimTime::ZERO + s(5))),
            Some(SimTime::ZERO + s(60))
        );
        assert_eq!(
            t.deadline(Some(SimTime::ZERO + s(61))),
            Some(SimTime::ZERO + s(120))
        );
        assert!(!t.fire(SimTime::ZERO + s(59)));
        assert!(t.fire(SimTime::ZERO + s(130)));
        assert_eq!(
            t.deadline(Some(SimTime::ZERO)),
            Some(SimTime::ZERO + s(180))
        );
        let exact = Ticker::new(Sweep::Exact, SimTime::ZERO);
        assert_eq!(
            exact.deadline(Some(SimTime::ZERO + s(7))),
            Some(SimTime::ZERO + s(7))
        );
        assert_eq!(
            Ticker::new(Sweep::Never, SimTime::ZERO).deadline(Some(SimTime::ZERO)),
            None
        );
    }

    #[test]
    fn randomized_sync_backoff_scales_with_the_multiplier() {
        let interval = SimDuration::from_secs(30);
        let mut rng = SimRng::from_seed(7);
        let mut timer = SyncTimer::new(
            SyncSchedule::Randomized { interval },
            SimTime::ZERO,
            &mut rng,
        );
        assert!(timer.next().unwrap() < SimTime::ZERO + interval);
        for _ in 0..50 {
            timer.restart(SimTime::ZERO, SyncEvent::ContentReceived, &mut rng);
            assert!(timer.next().unwrap() < SimTime::ZERO + SimDuration::from_secs(15));
        }
        let at = timer.next().unwrap();
        assert!(timer.fire(at, &mut rng));
        assert!(timer.next().unwrap() < at + SimDuration::from_secs(60));
        let mut fixed = SyncTimer::new(SyncSchedule::Fixed { interval }, SimTime::ZERO, &mut rng);
        assert!(!fixed.fire(SimTime::ZERO + SimDuration::from_secs(29), &mut rng));
        assert!(fixed.fire(SimTime::ZERO + interval, &mut rng));
        assert_eq!(
            fixed.next(),
            Some(SimTime::ZERO + SimDuration::from_secs(60))
        );
        let off = SyncTimer::new(SyncSchedule::Off, SimTime::ZERO, &mut rng);
        assert_eq!(off.next(), None);
    }
}
