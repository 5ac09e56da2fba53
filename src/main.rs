//! The `wakusim` command line. With no arguments it runs the built-in default and prints a
//! summary table; `wakusim --help` lists the options.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use sim_core::SimDuration;
use wakusim::demo::{self, DemoConfig, DemoSummary};

#[derive(Parser)]
#[command(
    name = "wakusim",
    version,
    about = "Deterministic network-fault simulator for Waku"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the built-in demo network (flooding nodes under a fault schedule).
    Demo(DemoArgs),
}

#[derive(Args)]
struct DemoArgs {
    /// Master seed: the same seed gives the same results, byte for byte.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of nodes (2..=1000000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    nodes: u32,
    /// Connections per node in the initial random regular graph.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    degree: u32,
    /// Length of the traffic phase, with a unit ("90s", "10m", "2h").
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    duration: SimDuration,
    /// Messages published per simulated second.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
}

impl Default for DemoArgs {
    fn default() -> Self {
        let d = DemoConfig::default();
        DemoArgs {
            seed: d.seed,
            nodes: d.nodes,
            degree: d.degree,
            duration: d.duration,
            rate: d.msgs_per_s,
        }
    }
}

fn parse_duration(text: &str) -> Result<SimDuration, String> {
    SimDuration::parse(text).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Demo(args)) => args,
        None => DemoArgs::default(),
    };
    if u64::from(args.nodes) * u64::from(args.degree) % 2 == 1 || args.degree >= args.nodes {
        eprintln!(
            "error: --nodes {} with --degree {}: the degree must be below the node count and \
             nodes × degree must be even",
            args.nodes, args.degree
        );
        return ExitCode::from(2);
    }
    let config = DemoConfig {
        seed: args.seed,
        nodes: args.nodes,
        degree: args.degree,
        duration: args.duration,
        msgs_per_s: args.rate,
        ..DemoConfig::default()
    };
    eprintln!(
        "wakusim: demo network, {} nodes, {}-regular, seed {}, {} of traffic + {} heal",
        config.nodes, config.degree, config.seed, config.duration, config.heal
    );
    let started = Instant::now();
    match demo::run(&config) {
        Ok(summary) => {
            print_summary(&config, &summary, started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
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
    println!();
    println!(
        "wakusim demo: {} flooding nodes, seed {}",
        config.nodes, config.seed
    );
    println!("faults: partition 20% of nodes, sleep 10%, offline 5%, crash+restart 3%");
    println!("{:-<64}", "");
    for (name, value) in rows {
        println!("{name:<32}{value}");
    }
}
