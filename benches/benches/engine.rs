//! Engine benchmarks: the event queue under the classic *hold* model.
//!
//! Prefill N pending events, then every iteration pops the earliest event and pushes one at
//! its time plus a random increment, so N stays constant. Increments are exponential with a
//! given mean, drawn once from `SimRng::from_seed(1)` into a table that both queues replay
//! identically (so the generator's cost is not measured). Each iteration is one event
//! processed; criterion reports events per second.
//!
//! Compared in one group: our [`EventQueue`] and a bare `BinaryHeap<Reverse<(time, seq)>>`
//! doing the same work (same keys, no payload on either side).
//!
//! `cargo bench -p wakusim-benches --bench engine`. To try other queue geometries as extra
//! rows, set `QUEUE_GEOMETRIES` to `bucket_shift x slot_bits` pairs, e.g. `14x18,18x14`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sim_core::queue::{DEFAULT_BUCKET_SHIFT, DEFAULT_SLOT_BITS, EventQueue};
use sim_core::rng::SimRng;
use sim_core::time::SimTime;

/// Pending-event counts to hold constant.
const PENDING: [usize; 3] = [1_000, 100_000, 1_000_000];

/// Increment mixes: (name, mean in ns).
const MIXES: [(&str, f64); 2] = [("mean_10ms", 1e7), ("mean_1s", 1e9)];

/// Size of the replayed increment table (a power of two).
const TABLE: usize = 1 << 16;

/// A fixed cycle of exponential increments.
struct Increments {
    values: Vec<u64>,
    next: usize,
}

impl Increments {
    fn new(mean_ns: f64) -> Self {
        let mut rng = SimRng::from_seed(1);
        let values = (0..TABLE)
            .map(|_| rng.exponential(mean_ns) as u64)
            .collect();
        Increments { values, next: 0 }
    }

    #[inline]
    fn next(&mut self) -> u64 {
        let value = self.values[self.next];
        self.next = (self.next + 1) & (TABLE - 1);
        value
    }
}

/// What the hold loop needs from a queue.
trait Hold {
    fn push_at(&mut self, time: u64);
    fn pop_time(&mut self) -> u64;
}

impl Hold for EventQueue<()> {
    #[inline]
    fn push_at(&mut self, time: u64) {
        self.push(SimTime(time), ());
    }
    #[inline]
    fn pop_time(&mut self) -> u64 {
        self.pop().expect("hold model never empties").0.0
    }
}

/// The baseline: a binary heap keyed (time, seq).
#[derive(Default)]
struct BareHeap {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    next_seq: u64,
}

impl Hold for BareHeap {
    #[inline]
    fn push_at(&mut self, time: u64) {
        self.heap.push(Reverse((time, self.next_seq)));
        self.next_seq += 1;
    }
    #[inline]
    fn pop_time(&mut self) -> u64 {
        self.heap.pop().expect("hold model never empties").0.0
    }
}

/// Prefills `queue` with `pending` events and returns the increment source to continue with.
fn prefill(queue: &mut impl Hold, pending: usize, mean_ns: f64) -> Increments {
    let mut increments = Increments::new(mean_ns);
    for _ in 0..pending {
        queue.push_at(increments.next());
    }
    increments
}

/// One hold step: pop the earliest, push one later.
#[inline]
fn hold_step(queue: &mut impl Hold, increments: &mut Increments) {
    let now = queue.pop_time();
    queue.push_at(black_box(now) + increments.next());
}

/// Extra geometries from `QUEUE_GEOMETRIES` ("16x16,14x18").
fn extra_geometries() -> Vec<(u32, u32)> {
    let Ok(spec) = std::env::var("QUEUE_GEOMETRIES") else {
        return Vec::new();
    };
    spec.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|pair| {
            let (shift, bits) = pair
                .trim()
                .split_once('x')
                .expect("QUEUE_GEOMETRIES entries look like 16x16");
            (
                shift.parse().expect("bucket_shift is a number"),
                bits.parse().expect("slot_bits is a number"),
            )
        })
        .collect()
}

fn bench_hold<Q: Hold>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    mut queue: Q,
    pending: usize,
    mean_ns: f64,
) {
    let mut increments = prefill(&mut queue, pending, mean_ns);
    // The queue lives across warm-up and all samples: the hold model keeps running.
    group.bench_function(id, |b| b.iter(|| hold_step(&mut queue, &mut increments)));
}

fn queue_hold(c: &mut Criterion) {
    let extra = extra_geometries();
    for (mix, mean_ns) in MIXES {
        let mut group = c.benchmark_group(format!("queue_hold/{mix}"));
        group.throughput(Throughput::Elements(1));
        for pending in PENDING {
            bench_hold(
                &mut group,
                BenchmarkId::new("EventQueue", pending),
                EventQueue::<()>::new(),
                pending,
                mean_ns,
            );
            for &(shift, bits) in &extra {
                if (shift, bits) == (DEFAULT_BUCKET_SHIFT, DEFAULT_SLOT_BITS) {
                    continue;
                }
                bench_hold(
                    &mut group,
                    BenchmarkId::new(format!("EventQueue_{shift}x{bits}"), pending),
                    EventQueue::<()>::with_geometry(shift, bits),
                    pending,
                    mean_ns,
                );
            }
            bench_hold(
                &mut group,
                BenchmarkId::new("BinaryHeap", pending),
                BareHeap::default(),
                pending,
                mean_ns,
            );
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = queue_hold
}
criterion_main!(benches);
