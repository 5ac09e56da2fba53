//! Whole-simulation scale figures as CSV: events per second, real-time factor and memory per
//! node for the demo network at growing sizes (1 msg/s, 1 KiB, random 8-regular, faults on).
//!
//! `cargo bench -p wakusim-benches --bench scale` prints the table and writes
//! `target/bench-results/scale.csv`. Memory is measured by a counting global allocator: the
//! peak of live heap bytes during the run divided by the node count. Pass sizes as arguments
//! (`-- 1000 10000`) to override the default list.

use std::fmt::Write as _;
use std::time::Instant;

use sim_core::{SimDuration, SimTime, StopAt};
use wakusim::demo::{self, DemoConfig};
use wakusim_benches::{CountingAllocator, peak_since, reset_peak, write_result};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() {
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100, 1_000, 10_000]
    } else {
        sizes
    };
    let mut csv = String::from(
        "nodes,simulated_s,events,wall_s,events_per_s,real_time_factor,peak_heap_bytes_per_node\n",
    );
    println!(
        "{:>8} {:>10} {:>12} {:>8} {:>12} {:>10} {:>14}",
        "nodes", "sim_s", "events", "wall_s", "events/s", "rtf", "heap B/node"
    );
    for nodes in sizes {
        let config = DemoConfig {
            nodes,
            degree: 8,
            duration: SimDuration::from_secs(120),
            heal: SimDuration::from_secs(10),
            ..DemoConfig::default()
        };
        let baseline = reset_peak();
        let mut engine = demo::build(&config, &demo::demo_faults(&config)).expect("valid demo");
        let end = SimTime::ZERO + config.duration + config.heal;
        let started = Instant::now();
        engine.run(StopAt::time(end)).expect("no livelock");
        let wall_s = started.elapsed().as_secs_f64();
        let peak = peak_since(baseline);
        let simulated_s = end.since_start().as_secs_f64();
        let events = engine.events_processed();
        let row = (
            nodes,
            simulated_s,
            events,
            wall_s,
            events as f64 / wall_s,
            simulated_s / wall_s,
            peak as f64 / f64::from(nodes),
        );
        println!(
            "{:>8} {:>10.0} {:>12} {:>8.3} {:>12.0} {:>10.1} {:>14.0}",
            row.0, row.1, row.2, row.3, row.4, row.5, row.6
        );
        let _ = writeln!(
            csv,
            "{},{:.0},{},{:.4},{:.0},{:.2},{:.0}",
            row.0, row.1, row.2, row.3, row.4, row.5, row.6
        );
        drop(engine);
    }
    println!("wrote {}", write_result("scale.csv", &csv).display());
}
