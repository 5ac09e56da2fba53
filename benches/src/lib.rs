//! Shared pieces of the benchmarks in `benches/`: a counting global allocator for memory
//! figures and a CSV helper. The benchmarks themselves are the files in `benches/benches/`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A global allocator that counts allocations and live and peak heap bytes (install with
/// `#[global_allocator]`).
///
/// The counters are updated with plain loads and stores, not read-modify-write atomics: a
/// benchmark runs the simulation on one thread (DESIGN §3), and a locked instruction per
/// allocation would cost more than some of the events being measured. With several
/// allocating threads the figures would be approximate, never unsafe.
pub struct CountingAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE_BYTES.load(Ordering::Relaxed) + layout.size();
            LIVE_BYTES.store(live, Ordering::Relaxed);
            if live > PEAK_BYTES.load(Ordering::Relaxed) {
                PEAK_BYTES.store(live, Ordering::Relaxed);
            }
            let count = ALLOCATIONS.load(Ordering::Relaxed);
            ALLOCATIONS.store(count + 1, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        let live = LIVE_BYTES.load(Ordering::Relaxed);
        LIVE_BYTES.store(live.saturating_sub(layout.size()), Ordering::Relaxed);
    }
}

/// Heap allocations made so far (reallocations included).
pub fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Starts a peak measurement: returns the live bytes now (the baseline).
pub fn reset_peak() -> usize {
    let live = LIVE_BYTES.load(Ordering::Relaxed);
    PEAK_BYTES.store(live, Ordering::Relaxed);
    live
}

/// Peak live bytes since [`reset_peak`] returned `baseline`, above the baseline.
pub fn peak_since(baseline: usize) -> usize {
    PEAK_BYTES.load(Ordering::Relaxed).saturating_sub(baseline)
}

/// Writes `csv` to `target/bench-results/<name>` and returns the path.
pub fn write_result(name: &str, csv: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-results");
    std::fs::create_dir_all(&dir).expect("create target/bench-results");
    let path = dir.join(name);
    std::fs::write(&path, csv).expect("write bench result");
    path
}
