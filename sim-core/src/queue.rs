//! The pending-event queue, ordered exactly by (time, sequence number).
//!
//! This file owns the order in which events leave the engine. Events with equal time leave in
//! the order they were scheduled: every push takes the next sequence number. Time never goes
//! backwards: pushing an event earlier than the last popped one is a bug in the caller and
//! panics. The order is exact, never approximate: determinism depends on it.
//!
//! # Structure: a calendar queue (single-level timing wheel)
//!
//! Virtual time is cut into buckets of `2^bucket_shift` ns; an event's bucket number is
//! `time >> bucket_shift`. The *cursor* is the bucket being drained: the bucket of the last
//! popped event, so no push can land before it. Every pending event lives in exactly one of
//! four places:
//!
//! - `current`: the events of the cursor bucket, sorted once when the cursor reached it
//!   (descending, so the next one is popped off the end), plus `late`, a small binary heap for
//!   events pushed into the cursor bucket after that. Popping takes the smaller head.
//! - `wheel`: `2^slot_bits` unsorted `Vec`s. Bucket `b` with `cursor < b < cursor + slots`
//!   lives in slot `b mod slots`. The cursor's own slot is always empty.
//! - `occupied`: a two-level bitmap of the non-empty slots, so finding the next non-empty
//!   bucket skips empty ones 64 (and 4096) at a time.
//! - `overflow`: a binary heap of events at buckets `>= cursor + slots` (beyond the horizon).
//!   They move into the wheel as the cursor advances. When the wheel is empty the cursor jumps
//!   straight to the earliest overflow event instead of scanning empty buckets, so sparse
//!   events hours or days apart cost no more than a heap.
//!
//! The cursor moves only inside `pop`, to the bucket of the event about to be popped, so
//! everything in `current`/`late` precedes everything in the wheel, which precedes everything
//! in `overflow` (checked by assertions). Moving it eagerly to the next non-empty bucket would
//! be simpler, but then every push landing between the last popped time and that bucket
//! would have to go to `late`: one far event (a "stop at 1 h" timer) with nothing else
//! pending turned the whole run into a binary heap, 3x slower. Instead [`EventQueue::peek_time`]
//! reads a cached minimum, kept exact by every push and recomputed after every pop (a look
//! at two heads, or once per bucket a scan of the next non-empty bucket).
//!
//! Memory: a slot's buffer becomes `current` when its bucket comes up (a swap, no copying);
//! the drained buffer goes back to the slot only if small. So the wheel holds about the
//! pending events (up to twice, from `Vec` growth) plus at most `slots * KEEP_SLOT_BYTES`,
//! however many laps it runs. (Keeping every buffer instead made a dense run retain one
//! bucket's worth of memory in every slot it had passed: 650 MB for 10^5 pending events.)
//! The larger drained buffers go to a small pool instead (at most [`SPARE_BUFFERS`] buffers
//! and [`SPARE_POOL_BYTES`] in all), from which a slot that starts filling takes one, so a
//! dense run does not regrow (and copy) a large buffer for every bucket it fills.
//! The two heaps keep their peak capacity, as any `BinaryHeap` does.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// Default bucket width as a power of two: 2^20 ns ≈ 1.05 ms.
///
/// Tuned with `benches/benches/engine.rs` (hold model, 10^3..10^6 pending events, exponential
/// increments with mean 10 ms and 1 s; 2^16..2^22 ns tried). Wider buckets cost a sort of more
/// events per bucket, which stays cheap even at ~10^5 events; narrower ones need more slots
/// for the same horizon, and a wheel that outgrows the CPU cache costs a miss per push.
pub const DEFAULT_BUCKET_SHIFT: u32 = 20;

/// Default number of wheel slots as a power of two: 2^12 = 4096 slots (96 KiB of `Vec` headers).
///
/// With [`DEFAULT_BUCKET_SHIFT`] the wheel spans 2^32 ns ≈ 4.3 s ahead of the cursor; later
/// events wait in the overflow heap.
pub const DEFAULT_SLOT_BITS: u32 = 12;

/// Largest accepted `slot_bits` (2^24 slots would already be 400 MiB of empty `Vec`s).
const MAX_SLOT_BITS: u32 = 24;

/// A drained slot keeps a buffer of at most this many bytes for its next lap; larger ones are
/// freed. Caps the memory a wheel retains at `slots * KEEP_SLOT_BYTES` beyond what is pending.
const KEEP_SLOT_BYTES: usize = 1024;

/// Drained buffers larger than [`KEEP_SLOT_BYTES`] kept for reuse, at most this many...
const SPARE_BUFFERS: usize = 64;

/// ...and this many bytes in all (a buffer that does not fit is freed).
const SPARE_POOL_BYTES: usize = 8 << 20;

/// A scheduled event as the queue stores it.
struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    /// The total order the queue pops in: (time, seq) packed into one integer, which compares
    /// exactly like the pair but without a branch. `seq` is unique, so no two keys are equal.
    #[inline]
    fn key(&self) -> u128 {
        ((self.time.0 as u128) << 64) | self.seq as u128
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// A set of slot indices as a two-level bitmap: one bit per slot in `words`, and one bit per
/// non-zero word in `summary`.
struct Occupancy {
    words: Vec<u64>,
    summary: Vec<u64>,
}

impl Occupancy {
    fn new(slots: usize) -> Self {
        let words = slots.div_ceil(64);
        Occupancy {
            words: vec![0; words],
            summary: vec![0; words.div_ceil(64)],
        }
    }

    #[inline]
    fn insert(&mut self, slot: usize) {
        let word = slot / 64;
        self.words[word] |= 1 << (slot % 64);
        self.summary[word / 64] |= 1 << (word % 64);
    }

    #[inline]
    fn remove(&mut self, slot: usize) {
        let word = slot / 64;
        self.words[word] &= !(1 << (slot % 64));
        if self.words[word] == 0 {
            self.summary[word / 64] &= !(1 << (word % 64));
        }
    }

    /// The smallest slot `>= from` in the set.
    fn first_from(&self, from: usize) -> Option<usize> {
        let word = from / 64;
        let bits = *self.words.get(word)? & (u64::MAX << (from % 64));
        if bits != 0 {
            return Some(word * 64 + bits.trailing_zeros() as usize);
        }
        // Later words, found through the summary.
        let next_word = word + 1;
        let mut group = next_word / 64;
        let mut bits = *self.summary.get(group)? & (u64::MAX << (next_word % 64));
        loop {
            if bits != 0 {
                let word = group * 64 + bits.trailing_zeros() as usize;
                debug_assert_ne!(self.words[word], 0, "summary bit set for an empty word");
                return Some(word * 64 + self.words[word].trailing_zeros() as usize);
            }
            group += 1;
            bits = *self.summary.get(group)?;
        }
    }
}

/// Pending events, popped in (time, sequence) order.
pub struct EventQueue<E> {
    /// log2 of the bucket width in ns.
    bucket_shift: u32,
    /// Number of wheel slots minus one (the slot count is a power of two).
    slot_mask: u64,
    /// The bucket number being drained.
    cursor: u64,
    /// Events at or before the cursor bucket, sorted descending by (time, seq).
    current: Vec<Entry<E>>,
    /// Events at or before the cursor bucket pushed after `current` was sorted.
    late: BinaryHeap<Reverse<Entry<E>>>,
    /// Slot `b & slot_mask` holds the events of bucket `b`, `cursor < b <= cursor + slot_mask`.
    wheel: Vec<Vec<Entry<E>>>,
    /// Number of events in `wheel`.
    wheel_len: usize,
    /// Empty buffers of drained buckets, for slots that start filling (bounded, see the
    /// module docs), and their total capacity in bytes.
    spares: Vec<Vec<Entry<E>>>,
    spare_bytes: usize,
    /// Which wheel slots are non-empty.
    occupied: Occupancy,
    /// Events at buckets beyond `cursor + slot_mask`.
    overflow: BinaryHeap<Reverse<Entry<E>>>,
    /// Number of pending events in all places.
    len: usize,
    /// The time of the earliest pending event.
    next_time: Option<SimTime>,
    next_seq: u64,
    last_popped: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero with the default geometry.
    pub fn new() -> Self {
        Self::with_geometry(DEFAULT_BUCKET_SHIFT, DEFAULT_SLOT_BITS)
    }

    /// An empty queue at time zero with buckets `2^bucket_shift` ns wide and `2^slot_bits`
    /// wheel slots. Any geometry gives the same pop order; it only changes speed.
    ///
    /// Panics if `bucket_shift > 63` or `slot_bits` is outside `1..=24`.
    pub fn with_geometry(bucket_shift: u32, slot_bits: u32) -> Self {
        assert!(bucket_shift <= 63, "bucket_shift {bucket_shift} > 63");
        assert!(
            (1..=MAX_SLOT_BITS).contains(&slot_bits),
            "slot_bits {slot_bits} outside 1..={MAX_SLOT_BITS}"
        );
        let slots = 1usize << slot_bits;
        let mut wheel = Vec::with_capacity(slots);
        wheel.resize_with(slots, Vec::new);
        EventQueue {
            bucket_shift,
            slot_mask: slots as u64 - 1,
            cursor: 0,
            current: Vec::new(),
            late: BinaryHeap::new(),
            wheel,
            wheel_len: 0,
            spares: Vec::new(),
            spare_bytes: 0,
            occupied: Occupancy::new(slots),
            overflow: BinaryHeap::new(),
            len: 0,
            next_time: None,
            next_seq: 0,
            last_popped: SimTime::ZERO,
        }
    }

    /// Schedules `event` at `time` and returns its sequence number.
    ///
    /// Panics if `time` is earlier than the last popped event (time travel is a bug).
    pub fn push(&mut self, time: SimTime, event: E) -> u64 {
        assert!(
            time >= self.last_popped,
            "event scheduled in the past: {time:?} < {:?}",
            self.last_popped
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        self.place(Entry { time, seq, event });
        self.len += 1;
        self.next_time = Some(self.next_time.map_or(time, |next| next.min(time)));
        seq
    }

    /// Removes and returns the earliest event with its time and sequence number.
    pub fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        if self.len == 0 {
            return None;
        }
        if self.current.is_empty() && self.late.is_empty() {
            self.advance();
        }
        let take_late = match (self.current.last(), self.late.peek()) {
            (Some(sorted), Some(Reverse(late))) => late.key() < sorted.key(),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => unreachable!("advance() fills the current bucket"),
        };
        let entry = if take_late {
            self.late.pop().map(|Reverse(entry)| entry)
        } else {
            self.current.pop()
        }
        .expect("the chosen head exists");
        debug_assert_eq!(Some(entry.time), self.next_time, "cached minimum is stale");
        self.len -= 1;
        self.last_popped = entry.time;
        self.next_time = self.find_next_time();
        Some((entry.time, entry.seq, entry.event))
    }

    /// The time of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.next_time
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn bucket_of(&self, time: SimTime) -> u64 {
        time.0 >> self.bucket_shift
    }

    /// Puts a new entry where it belongs.
    #[inline]
    fn place(&mut self, entry: Entry<E>) {
        let bucket = self.bucket_of(entry.time);
        // The cursor is the bucket of the last popped event (or earlier), and pushes are
        // never earlier than that.
        debug_assert!(bucket >= self.cursor, "push before the cursor bucket");
        if bucket <= self.cursor {
            self.late.push(Reverse(entry));
        } else if bucket - self.cursor <= self.slot_mask {
            self.put_in_wheel(bucket, entry);
        } else {
            self.overflow.push(Reverse(entry));
        }
    }

    #[inline]
    fn put_in_wheel(&mut self, bucket: u64, entry: Entry<E>) {
        debug_assert!(bucket > self.cursor && bucket - self.cursor <= self.slot_mask);
        let slot = (bucket & self.slot_mask) as usize;
        let contents = &mut self.wheel[slot];
        if contents.is_empty() {
            self.occupied.insert(slot);
            if contents.capacity() == 0
                && let Some(spare) = self.spares.pop()
            {
                self.spare_bytes -= spare.capacity() * size_of::<Entry<E>>();
                *contents = spare;
            }
        }
        contents.push(entry);
        self.wheel_len += 1;
    }

    /// The earliest pending time, recomputed after a pop.
    fn find_next_time(&self) -> Option<SimTime> {
        match (self.current.last(), self.late.peek()) {
            (Some(sorted), Some(Reverse(late))) => Some(sorted.time.min(late.time)),
            (Some(sorted), None) => Some(sorted.time),
            (None, Some(Reverse(late))) => Some(late.time),
            // The cursor bucket is drained: the earliest event is in the next non-empty
            // bucket (unsorted, so scan it) or, with an empty wheel, at the overflow's head.
            (None, None) if self.wheel_len > 0 => {
                let slot = (self.next_occupied_bucket() & self.slot_mask) as usize;
                self.wheel[slot].iter().map(|entry| entry.time).min()
            }
            (None, None) => self.overflow.peek().map(|Reverse(entry)| entry.time),
        }
    }

    /// Moves the cursor to the next non-empty bucket and makes it current. Called by `pop`
    /// when the cursor bucket is drained but events are pending.
    fn advance(&mut self) {
        assert!(self.current.is_empty() && self.late.is_empty() && self.len > 0);
        if self.wheel_len > 0 {
            let bucket = self.next_occupied_bucket();
            self.cursor = bucket;
            let slot = (bucket & self.slot_mask) as usize;
            // The slot's buffer becomes the current bucket; the slot gets the drained one
            // back, unless that is big: a dense stretch must not leave every slot it passed
            // holding a large buffer for the next lap.
            std::mem::swap(&mut self.current, &mut self.wheel[slot]);
            let spare = &mut self.wheel[slot];
            let bytes = spare.capacity() * size_of::<Entry<E>>();
            if bytes > KEEP_SLOT_BYTES {
                let spare = std::mem::take(spare);
                if self.spare_bytes + bytes <= SPARE_POOL_BYTES && self.spares.len() < SPARE_BUFFERS
                {
                    self.spare_bytes += bytes;
                    self.spares.push(spare);
                }
            }
            self.occupied.remove(slot);
            self.wheel_len -= self.current.len();
        } else {
            // Nothing within the horizon: jump straight to the earliest far event.
            let Reverse(first) = self
                .overflow
                .peek()
                .expect("events pending but none stored");
            self.cursor = self.bucket_of(first.time);
        }
        self.migrate_overflow();
        assert!(!self.current.is_empty(), "advanced to an empty bucket");
        self.current.sort_unstable_by_key(|e| Reverse(e.key()));
    }

    /// The bucket number of the first non-empty wheel slot after the cursor.
    fn next_occupied_bucket(&self) -> u64 {
        let cursor_slot = (self.cursor & self.slot_mask) as usize;
        let slot = self
            .occupied
            .first_from(cursor_slot + 1)
            .or_else(|| self.occupied.first_from(0))
            .expect("wheel_len > 0 but no slot is occupied");
        let ahead = (slot as u64).wrapping_sub(cursor_slot as u64) & self.slot_mask;
        assert_ne!(ahead, 0, "the cursor's own slot is occupied");
        self.cursor + ahead
    }

    /// Moves overflow events that the horizon now reaches into the wheel (or into the
    /// current bucket when they belong to it).
    fn migrate_overflow(&mut self) {
        while let Some(Reverse(first)) = self.overflow.peek() {
            let bucket = self.bucket_of(first.time);
            assert!(bucket >= self.cursor, "overflow event before the cursor");
            if bucket - self.cursor > self.slot_mask {
                break;
            }
            let Reverse(entry) = self.overflow.pop().expect("peeked");
            if bucket == self.cursor {
                self.current.push(entry);
            } else {
                self.put_in_wheel(bucket, entry);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;
    const SEC: u64 = 1_000_000_000;
    const HOUR: u64 = 3600 * SEC;

    /// The reference: a plain heap keyed (time, seq).
    #[derive(Default)]
    struct Model {
        heap: BinaryHeap<Reverse<(u64, u64)>>,
        next_seq: u64,
        now: u64,
    }

    impl Model {
        fn push(&mut self, time: u64) -> u64 {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.heap.push(Reverse((time, seq)));
            seq
        }
        fn pop(&mut self) -> Option<(u64, u64)> {
            let Reverse((time, seq)) = self.heap.pop()?;
            self.now = time;
            Some((time, seq))
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Push at now + this increment.
        Push(u64),
        Pop,
    }

    fn increment() -> impl Strategy<Value = u64> {
        prop_oneof![
            2 => Just(0u64),
            3 => 0..MS,
            3 => MS..10 * SEC,
            1 => 60 * SEC..3 * 24 * HOUR,
        ]
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![
            3 => increment().prop_map(Op::Push),
            2 => Just(Op::Pop),
        ];
        prop::collection::vec(op, 0..1500)
    }

    /// Runs `ops` on a queue of the given geometry and on the model, then drains both;
    /// every pop, peek and length must agree.
    fn check_against_model(ops: &[Op], bucket_shift: u32, slot_bits: u32) {
        let mut queue = EventQueue::with_geometry(bucket_shift, slot_bits);
        let mut model = Model::default();
        let compare_pop = |queue: &mut EventQueue<u64>, model: &mut Model| {
            let got = queue.pop().map(|(time, seq, event)| {
                assert_eq!(
                    event,
                    seq.wrapping_mul(31),
                    "payload travelled with its key"
                );
                (time.0, seq)
            });
            assert_eq!(got, model.pop());
        };
        for op in ops {
            match *op {
                Op::Push(inc) => {
                    let time = model.now.saturating_add(inc);
                    let seq = model.push(time);
                    assert_eq!(queue.push(SimTime(time), seq.wrapping_mul(31)), seq);
                }
                Op::Pop => compare_pop(&mut queue, &mut model),
            }
            assert_eq!(queue.len(), model.heap.len());
            assert_eq!(queue.is_empty(), model.heap.is_empty());
            assert_eq!(
                queue.peek_time().map(|t| t.0),
                model.heap.peek().map(|r| r.0.0)
            );
        }
        while !model.heap.is_empty() {
            compare_pop(&mut queue, &mut model);
        }
        assert_eq!(queue.pop().map(|(t, s, _)| (t, s)), None);
        assert!(queue.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn matches_reference_heap_default_geometry(ops in ops()) {
            check_against_model(&ops, DEFAULT_BUCKET_SHIFT, DEFAULT_SLOT_BITS);
        }

        /// Tiny wheels wrap around and overflow constantly, exercising migration and jumps.
        #[test]
        fn matches_reference_heap_any_geometry(
            ops in ops(),
            bucket_shift in prop_oneof![Just(0u32), 10u32..40, Just(63u32)],
            slot_bits in 1u32..8,
        ) {
            check_against_model(&ops, bucket_shift, slot_bits);
        }
    }

    #[test]
    fn equal_times_pop_in_push_order() {
        let mut queue = EventQueue::new();
        let mut expected = Vec::new();
        for i in 0..10_000u64 {
            let seq = queue.push(SimTime(5 * MS), i);
            expected.push((5 * MS, seq, i));
            // Some company in neighbouring buckets.
            queue.push(SimTime(5 * MS + 1 + i % 3 * SEC), u64::MAX);
        }
        // Same-instant events scheduled while draining go behind the earlier ones.
        for i in 0..10_000u64 {
            let (time, seq, event) = queue.pop().expect("pending");
            assert_eq!((time.0, seq, event), expected[i as usize]);
            if i % 2 == 0 {
                let seq = queue.push(time, 10_000 + i);
                expected.push((5 * MS, seq, 10_000 + i));
            }
        }
        for want in &expected[10_000..] {
            let (time, seq, event) = queue.pop().expect("pending");
            assert_eq!((time.0, seq, event), *want);
        }
        assert_eq!(queue.peek_time(), Some(SimTime(5 * MS + 1)));
        assert_eq!(queue.len(), 10_000);
    }

    #[test]
    fn sparse_events_hours_apart() {
        let mut queue = EventQueue::new();
        // Pushed out of order, hours to days apart, plus one at the very end of time.
        let times: Vec<u64> = [7, 1, 30, 2, 500, 3, 48, 9]
            .iter()
            .map(|h| h * HOUR + 17)
            .chain([u64::MAX])
            .collect();
        for (i, &t) in times.iter().enumerate() {
            queue.push(SimTime(t), i);
        }
        let mut sorted: Vec<(u64, usize)> = times.iter().copied().zip(0..).collect();
        sorted.sort();
        for (t, i) in sorted {
            assert_eq!(queue.peek_time(), Some(SimTime(t)));
            let (time, seq, event) = queue.pop().expect("pending");
            assert_eq!((time.0, seq, event), (t, i as u64, i));
            // Something soon after each pop, which must come out before the next far one.
            if t != u64::MAX {
                queue.push(SimTime(t + MS), usize::MAX);
                assert_eq!(
                    queue.pop().map(|(t, _, e)| (t.0, e)),
                    Some((t + MS, usize::MAX))
                );
            }
        }
        assert!(queue.is_empty());
        assert_eq!(queue.peek_time(), None);
    }

    /// A lone far event (a run's end timer) must not drag the cursor ahead of the events that
    /// are pushed afterwards: they belong in the wheel, not in the `late` heap.
    #[test]
    fn far_event_does_not_move_the_cursor_ahead() {
        let mut queue = EventQueue::new();
        queue.push(SimTime(HOUR), 0);
        let mut now = 0;
        for i in 1..=10_000u64 {
            queue.push(SimTime(now + i % 97 * MS), i);
        }
        for _ in 0..100_000 {
            let (time, _, event) = queue.pop().expect("pending");
            assert!(time.0 >= now && time.0 < HOUR, "popped {time:?} at {now}");
            now = time.0;
            assert!(
                queue.late.len() <= 1_000,
                "late heap grew to {}",
                queue.late.len()
            );
            queue.push(SimTime(now + event % 89 * MS), event);
        }
        assert_eq!(queue.len(), 10_001);
        assert_eq!(queue.overflow.len(), 1);
    }

    #[test]
    fn pushing_into_the_past_panics() {
        let mut queue = EventQueue::new();
        queue.push(SimTime(10 * SEC), ());
        queue.push(SimTime(20 * SEC), ());
        assert_eq!(
            queue.pop().map(|(t, s, ())| (t, s)),
            Some((SimTime(10 * SEC), 0))
        );
        // Pushing at the last popped time is fine; earlier is not.
        queue.push(SimTime(10 * SEC), ());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            queue.push(SimTime(10 * SEC - 1), ());
        }));
        assert!(result.is_err(), "a push into the past must panic");
    }
}
