//! Relay at scale: N nwaku relay nodes (D = 6) on a random 8-regular connection graph with
//! 100 ms links, one channel every node receives, 1 message per second of 1 KB from random
//! senders, built through the scenario pipeline exactly as `wakusim run` does.
//!
//! `cargo bench -p wakusim-benches --bench relay [-- 1000 10000]` prints, per size: events,
//! wall time, events/s, real-time factor (simulated / wall seconds, one core), peak heap per
//! node, heap allocations per event and the run's audit hash (so an optimisation that changes
//! behaviour shows), and writes `target/bench-results/relay.csv`. Targets (DESIGN §10): ≥ 500×
//! real time at 1 000 nodes, ≥ 50× at 10 000; figures and analysis in `docs/performance.md`.

use std::fmt::Write as _;
use std::time::Instant;

use sim_core::{SimTime, StopAt};
use wakusim_benches::{CountingAllocator, allocations, peak_since, reset_peak, write_result};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn scenario(nodes: u32) -> String {
    format!(
        r#"
name = "relay-bench"
duration = "120s"
seeds = [1]

[network]
link = {{ latency = {{ kind = "constant", value = "100ms" }} }}

[topology]
kind = "random_regular"
degree = 8

[[group]]
name = "relays"
count = {nodes}
roles = ["relay"]
preset = "nwaku"

[[traffic]]
name = "channel"
kind = "community_channel"
participants = "relays"
conversations = 1
rate = {{ kind = "constant", every = "1s" }}
start = "30s"
message_size = {{ kind = "constant", value = "1KB" }}
"#
    )
}

fn main() {
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000]
    } else {
        sizes
    };
    let mut csv = String::from(
        "nodes,simulated_s,events,wall_s,events_per_s,real_time_factor,peak_heap_bytes_per_node,allocations_per_event\n",
    );
    println!(
        "{:>7} {:>6} {:>11} {:>8} {:>11} {:>8} {:>12} {:>10} {:>16}",
        "nodes",
        "sim_s",
        "events",
        "wall_s",
        "events/s",
        "rtf",
        "heap B/node",
        "allocs/ev",
        "audit hash"
    );
    for nodes in sizes {
        let scenario = scenarios::parse_str("relay-bench", &scenario(nodes)).expect("valid");
        let run = scenario.runs().remove(0);
        let baseline = reset_peak();
        let mut built = scenarios::run::build(&scenario, &run, "bench").expect("builds");
        let allocations_before = allocations();
        let started = Instant::now();
        built
            .engine
            .run(StopAt::time(built.end))
            .expect("no livelock");
        let wall_s = started.elapsed().as_secs_f64();
        let allocations_per_event =
            (allocations() - allocations_before) as f64 / built.engine.events_processed() as f64;
        let heap = peak_since(baseline) as f64 / f64::from(nodes);
        let simulated_s = (built.end - SimTime::ZERO).as_secs_f64();
        let events = built.engine.events_processed();
        println!(
            "{nodes:>7} {simulated_s:>6.0} {events:>11} {wall_s:>8.2} {:>11.0} {:>8.1} {heap:>12.0} {allocations_per_event:>10.2} {:016x}",
            events as f64 / wall_s,
            simulated_s / wall_s,
            built.engine.audit_hash()
        );
        let _ = writeln!(
            csv,
            "{nodes},{simulated_s:.0},{events},{wall_s:.3},{:.0},{:.2},{heap:.0},{allocations_per_event:.3}",
            events as f64 / wall_s,
            simulated_s / wall_s
        );
    }
    println!("wrote {}", write_result("relay.csv", &csv).display());
}
