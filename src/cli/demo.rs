//! `wakusim demo`: the old flooding demo network (no scenario file), kept for the benchmarks
//! and `cargo xtask determinism`, which use the same code through the library.

use std::process::ExitCode;
use std::time::Instant;

use wakusim::demo::{self, DemoConfig, DemoSummary};

use super::args::DemoArgs;
use super::{CliError, CliResult};

/// Runs the demo and prints its summary.
pub(crate) fn demo(args: &DemoArgs) -> CliResult {
    if u64::from(args.nodes) * u64::from(args.degree) % 2 == 1 || args.degree >= args.nodes {
        return Err(CliError::input(format!(
            "--nodes {} with --degree {}: the degree must be below the node count and \
             nodes × degree must be even",
            args.nodes, args.degree
        )));
    }
    let config = DemoConfig {
        seed: args.seed,
        nodes: args.nodes,
        degree: args.degree,
        duration: args.duration,
        msgs_per_s: args.rate,
        ..DemoConfig::default()
    };
    errln!(
        "wakusim: demo network, {} nodes, {}-regular, seed {}, {} of traffic + {} heal",
        config.nodes,
        config.degree,
        config.seed,
        config.duration,
        config.heal
    );
    let started = Instant::now();
    let summary = demo::run(&config).map_err(CliError::failure)?;
    print_summary(&config, &summary, started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn print_summary(config: &DemoConfig, s: &DemoSummary, wall_s: f64) {
    let pct = |part: u64| 100.0 * part as f64 / s.intended.max(1) as f64;
    let ms = |q: f64| s.latency_us.value_at_quantile(q) as f64 / 1000.0;
    let rows = [
        ("messages published", s.published.to_string()),
        ("intended deliveries", s.intended.to_string()),
        (
            "delivered",
            format!("{} ({:.2}%)", s.delivered, pct(s.delivered)),
        ),
        (
            "delivered within 1 s",
            format!("{:.2}%", pct(s.delivered_1s)),
        ),
        (
            "delivered within 10 s",
            format!("{:.2}%", pct(s.delivered_10s)),
        ),
        (
            "latency p50 / p90 / p99 / max",
            format!(
                "{:.1} / {:.1} / {:.1} / {:.1} ms",
                ms(0.5),
                ms(0.9),
                ms(0.99),
                s.latency_us.max() as f64 / 1000.0
            ),
        ),
        ("duplicate receptions", s.duplicates.to_string()),
        (
            "bytes sent per node",
            format!("{:.1} KiB", s.bytes_sent_per_node_mean / 1024.0),
        ),
        ("events processed", s.events.to_string()),
        (
            "simulated / wall time",
            format!(
                "{} / {:.2} s ({:.0}x real time, {:.2} M events/s)",
                s.simulated,
                wall_s,
                s.simulated.as_secs_f64() / wall_s.max(1e-9),
                s.events as f64 / wall_s.max(1e-9) / 1e6
            ),
        ),
        ("audit hash", format!("{:016x}", s.audit_hash)),
    ];
    outln!();
    outln!(
        "wakusim demo: {} flooding nodes, seed {}",
        config.nodes,
        config.seed
    );
    outln!("faults: partition 20% of nodes, sleep 10%, offline 5%, crash+restart 3%");
    outln!("{:-<64}", "");
    for (name, value) in rows {
        outln!("{name:<32}{value}");
    }
}
