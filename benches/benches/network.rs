//! Network delivery throughput: flooding nodes on a random 8-regular graph (8 connections per
//! node) at 10^3 and 10^4 nodes, every message crossing real simulated connections (stream
//! semantics, latency, 1% loss, bandwidth). Throughput is messages delivered per second of
//! wall time; the engine events per delivery are printed once per size.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim_core::{NodeId, SimDuration, SimTime, StopAt};
use sim_net::FaultSchedule;
use wakusim::demo::{self, DemoConfig};

fn config(nodes: u32) -> DemoConfig {
    DemoConfig {
        nodes,
        degree: 8,
        duration: SimDuration::from_secs(20),
        heal: SimDuration::from_secs(2),
        msgs_per_s: 2,
        ..DemoConfig::default()
    }
}

/// Builds, runs and returns (deliveries, events, time spent running).
fn run_once(config: &DemoConfig) -> (u64, u64, Duration) {
    let mut engine = demo::build(config, &FaultSchedule::new()).expect("valid demo");
    let end = SimTime::ZERO + config.duration + config.heal;
    let started = Instant::now();
    engine.run(StopAt::time(end)).expect("no livelock");
    let elapsed = started.elapsed();
    let deliveries = (0..config.nodes)
        .map(|i| engine.world.stats(NodeId(i)).msgs_received)
        .sum();
    (deliveries, engine.events_processed(), black_box(elapsed))
}

fn network(c: &mut Criterion) {
    let mut group = c.benchmark_group("network_delivery");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    for nodes in [1_000, 10_000] {
        let config = config(nodes);
        let (deliveries, events, _) = run_once(&config);
        eprintln!("network_delivery/{nodes}: {deliveries} deliveries, {events} events per run");
        group.throughput(Throughput::Elements(deliveries));
        group.bench_function(format!("{nodes}_nodes_8_conns"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run_once(&config).2).sum());
        });
    }
    group.finish();
}

criterion_group!(benches, network);
criterion_main!(benches);
