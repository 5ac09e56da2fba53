//! `cargo xtask determinism`: runs simulations twice with the same seed and fails at the first
//! event whose audit hash differs, printing where (event index, simulated time) and what the
//! two runs processed there.
//!
//! Subjects: the built-in `default` scenario (shortened, so the check stays fast in debug
//! builds) — the full Waku stack, traffic, faults and the oracle — and the flooding demo
//! network under its scripted faults and under a randomly drawn fault schedule (swarm
//! testing). Arguments: optional seeds (`cargo xtask determinism 7 8 9`); default 1, 2, 3.

use std::path::Path;

use anyhow::{Context, bail};
use sim_core::audit::{AuditPoint, Divergence, first_divergence};
use sim_core::{SimDuration, SimRng, SimTime, StopAt};
use sim_net::faults::{RandomFaultProfile, random_schedule};
use wakusim::demo::{self, DemoConfig};

/// One traced run: the trace, its final hash and, when asked, the rendering of one event.
struct Traced {
    trace: Vec<AuditPoint>,
    captured: Option<String>,
    hash: u64,
}

/// What a check runs.
#[derive(Clone, Copy, Debug)]
enum Subject {
    /// The built-in default scenario with a shortened duration.
    DefaultScenario,
    /// The same under a reliability variant that depends on the seed ([`VARIANT_BY_SEED`]),
    /// so the reliability layers (SDS, MVDS, store check, light client) are checked too.
    DefaultVariant,
    /// The demo network with its scripted faults.
    DemoScripted,
    /// The demo network with scripted plus random faults.
    DemoRandom,
}

/// Overrides that keep the default scenario short enough for a debug build.
const SHORT: &[(&str, &str)] = &[
    ("duration", "\"3m\""),
    ("heal.duration", "\"1m\""),
    ("fault.0.at", "\"1m\""),
    ("fault.0.until", "\"2m\""),
];

/// The variant [`Subject::DefaultVariant`] runs for seed `s`: `VARIANT_BY_SEED[s % 4]`.
const VARIANT_BY_SEED: [&str; 4] = ["light-client", "sds+repair", "mvds+store-check", "sds"];

impl Subject {
    fn run(self, seed: u64, capture: Option<u64>) -> anyhow::Result<Traced> {
        match self {
            Subject::DefaultScenario => scenario_run(seed, None, capture),
            Subject::DefaultVariant => {
                let variant = VARIANT_BY_SEED[(seed % 4) as usize];
                scenario_run(seed, Some(variant), capture)
            }
            Subject::DemoScripted | Subject::DemoRandom => demo_run(self, seed, capture),
        }
    }
}

fn finish<W: sim_core::World>(
    engine: &mut sim_core::Engine<W>,
    end: SimTime,
    capture: Option<u64>,
) -> anyhow::Result<Traced> {
    engine.enable_trace();
    if let Some(index) = capture {
        engine.capture_event(index);
    }
    engine.run(StopAt::time(end)).map_err(anyhow::Error::msg)?;
    Ok(Traced {
        trace: engine.trace().to_vec(),
        captured: engine.captured_event().map(str::to_string),
        hash: engine.audit_hash(),
    })
}

fn scenario_run(seed: u64, variant: Option<&str>, capture: Option<u64>) -> anyhow::Result<Traced> {
    let text = scenarios::builtin::get("default").context("built-in default scenario")?;
    let variants = variant.map(|v| format!("[\"{v}\"]"));
    let mut sets = SHORT.to_vec();
    if let Some(v) = &variants {
        sets.push(("variants", v.as_str()));
    }
    let text = scenarios::apply_overrides(text, &sets).map_err(|e| anyhow::anyhow!("{e}"))?;
    let scenario = scenarios::parse_str("default", &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut run = scenario.runs().remove(0);
    run.seed = seed;
    let mut built = scenarios::run::build(&scenario, &run, "determinism")?;
    finish(&mut built.engine, built.end, capture)
}

fn demo_run(subject: Subject, seed: u64, capture: Option<u64>) -> anyhow::Result<Traced> {
    let config = DemoConfig {
        seed,
        nodes: 60,
        duration: SimDuration::from_mins(4),
        ..DemoConfig::default()
    };
    let mut schedule = demo::demo_faults(&config);
    if let Subject::DemoRandom = subject {
        let mut rng = SimRng::stream(config.seed, "faults", 0);
        // Dense enough that every short check run sees several episodes.
        let profile = RandomFaultProfile {
            episodes_per_hour: 120.0,
            ..RandomFaultProfile::default()
        };
        schedule.extend(random_schedule(
            &profile,
            config.nodes,
            config.duration,
            &mut rng,
        ));
    }
    let mut engine = demo::build(&config, &schedule).map_err(anyhow::Error::msg)?;
    finish(
        &mut engine,
        SimTime::ZERO + config.duration + config.heal,
        capture,
    )
}

pub(crate) fn run(_root: &Path, args: &[String]) -> anyhow::Result<()> {
    let seeds: Vec<u64> = if args.is_empty() {
        vec![1, 2, 3]
    } else {
        args.iter()
            .map(|a| {
                a.parse()
                    .with_context(|| format!("seed {a:?} is not a number"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    for seed in seeds {
        for subject in [
            Subject::DefaultScenario,
            Subject::DefaultVariant,
            Subject::DemoScripted,
            Subject::DemoRandom,
        ] {
            check(subject, seed)?;
        }
    }
    Ok(())
}

fn check(subject: Subject, seed: u64) -> anyhow::Result<()> {
    let first = subject.run(seed, None)?;
    let second = subject.run(seed, None)?;
    let label = format!("{subject:?} seed {seed}");
    match first_divergence(&first.trace, &second.trace) {
        None => {
            println!(
                "determinism: {label}: {} events, audit hash {:016x}, identical",
                first.trace.len(),
                first.hash
            );
            Ok(())
        }
        Some(Divergence::Length { first, second }) => {
            bail!("determinism: {label}: runs processed {first} and {second} events")
        }
        Some(Divergence::Event {
            first: a,
            second: b,
        }) => {
            let again_a = subject.run(seed, Some(a.index))?;
            let again_b = subject.run(seed, Some(b.index))?;
            bail!(
                "determinism: {label}: first divergence at event #{} ({}):\n  run 1: {}\n  run 2: {}",
                a.index,
                a.time,
                again_a.captured.unwrap_or_default(),
                again_b.captured.unwrap_or_default()
            )
        }
    }
}
