//! The run loop: pops events in (time, sequence) order and hands them to a [`World`].
//!
//! The engine owns virtual time, the event queue and the audit hash; the world owns all
//! state and decides what an event means. One run is single-threaded and a pure function of
//! its inputs. Stop conditions (a time limit, an event budget, quiescence) end a run normally;
//! a livelock — too many events without time advancing — ends it with an error that says
//! where, since no real system does unbounded work in zero time.

use std::fmt::Debug;

use crate::audit::{Audit, AuditHasher, AuditPoint};
use crate::queue::EventQueue;
use crate::time::{SimDuration, SimTime};

/// The simulated system: receives each event at its time and may schedule more.
pub trait World {
    /// What the queue carries.
    type Event: Audit + Debug;

    /// Processes one event at `now`. New events go through `schedule`.
    fn handle(
        &mut self,
        now: SimTime,
        event: Self::Event,
        schedule: &mut Scheduler<'_, Self::Event>,
    );
}

/// The handle a [`World`] schedules future events through.
pub struct Scheduler<'a, E> {
    queue: &'a mut EventQueue<E>,
    now: SimTime,
}

impl<E> Scheduler<'_, E> {
    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time` (not earlier than now).
    pub fn at(&mut self, time: SimTime, event: E) {
        debug_assert!(time >= self.now, "scheduling in the past");
        self.queue.push(time.max(self.now), event);
    }

    /// Schedules `event` after `delay`.
    pub fn after(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now + delay, event);
    }

    /// Number of pending events (including ones scheduled during this call).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// When a call to [`Engine::run`] stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopAt {
    /// Process no event later than this time; the clock ends here.
    pub time: SimTime,
    /// Process at most this many events in this call.
    pub max_events: u64,
}

impl StopAt {
    /// Stop at `time`, with no event budget.
    pub fn time(time: SimTime) -> Self {
        StopAt {
            time,
            max_events: u64::MAX,
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The next event lies beyond the time limit; the clock was advanced to the limit.
    TimeLimit,
    /// The event budget of this call was used up.
    EventBudget,
    /// Nothing is pending: the system is quiescent.
    Quiescent,
}

/// A run that had to be aborted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// More than `limit` events were processed without time advancing.
    Livelock {
        /// The instant time stopped advancing at.
        time: SimTime,
        /// The configured limit.
        limit: u64,
        /// The last event processed, for diagnosis.
        last_event: String,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Livelock {
                time,
                limit,
                last_event,
            } => write!(
                f,
                "livelock at {time}: more than {limit} events without time advancing \
                 (last event: {last_event})"
            ),
        }
    }
}

impl std::error::Error for RunError {}

/// Engine limits that guard against runaway runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineLimits {
    /// Events allowed at one instant before the run is declared a livelock.
    pub max_events_per_instant: u64,
}

impl Default for EngineLimits {
    fn default() -> Self {
        EngineLimits {
            max_events_per_instant: 5_000_000,
        }
    }
}

/// The discrete-event engine driving one [`World`].
pub struct Engine<W: World> {
    /// The simulated system; public so callers can inspect it between runs.
    pub world: W,
    queue: EventQueue<W::Event>,
    now: SimTime,
    audit: AuditHasher,
    events_processed: u64,
    events_at_now: u64,
    limits: EngineLimits,
    trace: Option<Vec<AuditPoint>>,
    capture_index: Option<u64>,
    captured: Option<String>,
}

impl<W: World> Engine<W> {
    /// An engine at time zero with nothing scheduled.
    pub fn new(world: W) -> Self {
        Engine {
            world,
            queue: EventQueue::new(),
            now: SimTime::ZERO,
            audit: AuditHasher::new(),
            events_processed: 0,
            events_at_now: 0,
            limits: EngineLimits::default(),
            trace: None,
            capture_index: None,
            captured: None,
        }
    }

    /// Replaces the livelock guard's limits.
    pub fn set_limits(&mut self, limits: EngineLimits) {
        self.limits = limits;
    }

    /// Records an [`AuditPoint`] after every event from now on (for determinism checks).
    pub fn enable_trace(&mut self) {
        self.trace.get_or_insert_with(Vec::new);
    }

    /// Keeps the `Debug` rendering of event number `index`, to explain a divergence.
    pub fn capture_event(&mut self, index: u64) {
        self.capture_index = Some(index);
    }

    /// The captured event rendering, if [`Engine::capture_event`]'s event has run.
    pub fn captured_event(&self) -> Option<&str> {
        self.captured.as_deref()
    }

    /// The recorded trace (empty unless [`Engine::enable_trace`] was called).
    pub fn trace(&self) -> &[AuditPoint] {
        self.trace.as_deref().unwrap_or(&[])
    }

    /// Schedules an event from outside the run loop (setup, tests).
    pub fn schedule(&mut self, time: SimTime, event: W::Event) {
        assert!(
            time >= self.now,
            "scheduling in the past: {time:?} < {:?}",
            self.now
        );
        self.queue.push(time, event);
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Events still pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// The audit hash over every event processed so far.
    pub fn audit_hash(&self) -> u64 {
        self.audit.finish()
    }

    /// Processes events until a stop condition holds.
    ///
    /// On [`StopReason::TimeLimit`] the clock is left at `stop.time`, so a following call
    /// continues seamlessly; events at exactly `stop.time` are processed.
    pub fn run(&mut self, stop: StopAt) -> Result<StopReason, RunError> {
        let mut budget = stop.max_events;
        loop {
            if budget == 0 {
                return Ok(StopReason::EventBudget);
            }
            let Some(next_time) = self.queue.peek_time() else {
                return Ok(StopReason::Quiescent);
            };
            if next_time > stop.time {
                self.now = self.now.max(stop.time);
                return Ok(StopReason::TimeLimit);
            }
            let (time, _seq, event) = self.queue.pop().expect("peeked an event");
            self.step(time, event)?;
            budget -= 1;
        }
    }

    fn step(&mut self, time: SimTime, event: W::Event) -> Result<(), RunError> {
        debug_assert!(
            time >= self.now,
            "the queue returned an event from the past"
        );
        if time == self.now {
            self.events_at_now += 1;
            if self.events_at_now > self.limits.max_events_per_instant {
                return Err(RunError::Livelock {
                    time,
                    limit: self.limits.max_events_per_instant,
                    last_event: format!("{event:?}"),
                });
            }
        } else {
            self.now = time;
            self.events_at_now = 1;
        }
        self.audit.write_u64(time.0);
        event.audit(&mut self.audit);
        if self.capture_index == Some(self.events_processed) {
            self.captured = Some(format!("{event:?}"));
        }
        let mut scheduler = Scheduler {
            queue: &mut self.queue,
            now: time,
        };
        self.world.handle(time, event, &mut scheduler);
        if let Some(trace) = &mut self.trace {
            trace.push(AuditPoint {
                index: self.events_processed,
                time,
                hash: self.audit.finish(),
            });
        }
        self.events_processed += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A world of counters that reschedule themselves: ping-pong and a zero-delay loop.
    #[derive(Debug)]
    enum Ev {
        Tick { id: u64, period_ns: u64 },
        Spin,
    }

    impl Audit for Ev {
        fn audit(&self, h: &mut AuditHasher) {
            match self {
                Ev::Tick { id, period_ns } => {
                    h.write_u64(1);
                    h.write_u64(*id);
                    h.write_u64(*period_ns);
                }
                Ev::Spin => h.write_u64(2),
            }
        }
    }

    #[derive(Default)]
    struct Ticks {
        seen: Vec<(u64, u64)>,
    }

    impl World for Ticks {
        type Event = Ev;
        fn handle(&mut self, now: SimTime, event: Ev, schedule: &mut Scheduler<'_, Ev>) {
            match event {
                Ev::Tick { id, period_ns } => {
                    self.seen.push((now.0, id));
                    schedule.after(SimDuration(period_ns), Ev::Tick { id, period_ns });
                }
                Ev::Spin => schedule.after(SimDuration::ZERO, Ev::Spin),
            }
        }
    }

    fn ticking_engine() -> Engine<Ticks> {
        let mut engine = Engine::new(Ticks::default());
        engine.schedule(
            SimTime(0),
            Ev::Tick {
                id: 1,
                period_ns: 3,
            },
        );
        engine.schedule(
            SimTime(0),
            Ev::Tick {
                id: 2,
                period_ns: 2,
            },
        );
        engine
    }

    #[test]
    fn processes_in_time_then_schedule_order() {
        let mut engine = ticking_engine();
        let reason = engine.run(StopAt::time(SimTime(6))).unwrap();
        assert_eq!(reason, StopReason::TimeLimit);
        assert_eq!(engine.now(), SimTime(6));
        // Both fire at t=6; id 1 was rescheduled first (at t=3, id 2 at t=4), so its sequence
        // number is lower and it goes first.
        assert_eq!(
            engine.world.seen,
            [(0, 1), (0, 2), (2, 2), (3, 1), (4, 2), (6, 1), (6, 2)]
        );
    }

    #[test]
    fn event_budget_and_quiescence() {
        let mut engine = ticking_engine();
        let stop = StopAt {
            time: SimTime::MAX,
            max_events: 4,
        };
        assert_eq!(engine.run(stop), Ok(StopReason::EventBudget));
        assert_eq!(engine.events_processed(), 4);
        let mut empty = Engine::new(Ticks::default());
        assert_eq!(
            empty.run(StopAt::time(SimTime(10))),
            Ok(StopReason::Quiescent)
        );
    }

    #[test]
    fn same_inputs_same_hash_and_trace() {
        let run = || {
            let mut engine = ticking_engine();
            engine.enable_trace();
            engine.run(StopAt::time(SimTime(1000))).unwrap();
            (engine.audit_hash(), engine.trace().to_vec())
        };
        let (hash_a, trace_a) = run();
        let (hash_b, trace_b) = run();
        assert_eq!(hash_a, hash_b);
        assert_eq!(crate::audit::first_divergence(&trace_a, &trace_b), None);
        let mut other = Engine::new(Ticks::default());
        other.schedule(
            SimTime(0),
            Ev::Tick {
                id: 1,
                period_ns: 4,
            },
        );
        other.run(StopAt::time(SimTime(1000))).unwrap();
        assert_ne!(other.audit_hash(), hash_a);
    }

    #[test]
    fn livelock_is_reported_with_time_and_event() {
        let mut engine = Engine::new(Ticks::default());
        engine.set_limits(EngineLimits {
            max_events_per_instant: 100,
        });
        engine.schedule(SimTime(7), Ev::Spin);
        let err = engine.run(StopAt::time(SimTime(10))).unwrap_err();
        let RunError::Livelock {
            time, last_event, ..
        } = &err;
        assert_eq!(*time, SimTime(7));
        assert_eq!(last_event, "Spin");
        assert!(err.to_string().contains("livelock at t=00:00:00.000"));
    }

    #[test]
    fn captures_the_requested_event() {
        let mut engine = ticking_engine();
        engine.capture_event(2);
        engine.run(StopAt::time(SimTime(10))).unwrap();
        assert_eq!(
            engine.captured_event(),
            Some("Tick { id: 2, period_ns: 2 }")
        );
    }
}
