//! `cargo xtask determinism`: runs built-in simulations twice with the same seed and fails at
//! the first event whose audit hash differs, printing where (event index, simulated time) and
//! what the two runs processed there.
//!
//! Covered today: the demo network (flooding nodes under the scripted fault schedule) and the
//! same network under a randomly drawn fault schedule (swarm testing), each for a few seeds.
//! Arguments: optional seeds (`cargo xtask determinism 7 8 9`); the default is 1, 2, 3.

use std::path::Path;

use anyhow::{Context, bail};
use sim_core::audit::{AuditPoint, Divergence, first_divergence};
use sim_core::{SimDuration, SimRng, SimTime, StopAt};
use sim_net::faults::{RandomFaultProfile, random_schedule};
use wakusim::demo::{self, DemoConfig};

/// One traced run: the trace and, when asked, the rendering of one event.
struct Traced {
    trace: Vec<AuditPoint>,
    captured: Option<String>,
    hash: u64,
}

/// Which fault schedule a check uses.
#[derive(Clone, Copy, Debug)]
enum Faults {
    Scripted,
    Random,
}

fn traced_run(config: &DemoConfig, faults: Faults, capture: Option<u64>) -> anyhow::Result<Traced> {
    let mut schedule = demo::demo_faults(config);
    if let Faults::Random = faults {
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
    let mut engine = demo::build(config, &schedule).map_err(anyhow::Error::msg)?;
    engine.enable_trace();
    if let Some(index) = capture {
        engine.capture_event(index);
    }
    let end = SimTime::ZERO + config.duration + config.heal;
    engine.run(StopAt::time(end)).map_err(anyhow::Error::msg)?;
    Ok(Traced {
        trace: engine.trace().to_vec(),
        captured: engine.captured_event().map(str::to_string),
        hash: engine.audit_hash(),
    })
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
        for faults in [Faults::Scripted, Faults::Random] {
            let config = DemoConfig {
                seed,
                nodes: 60,
                duration: SimDuration::from_mins(4),
                ..DemoConfig::default()
            };
            check(&config, faults)?;
        }
    }
    Ok(())
}

fn check(config: &DemoConfig, faults: Faults) -> anyhow::Result<()> {
    let first = traced_run(config, faults, None)?;
    let second = traced_run(config, faults, None)?;
    let label = format!("demo ({faults:?} faults) seed {}", config.seed);
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
            let again_a = traced_run(config, faults, Some(a.index))?;
            let again_b = traced_run(config, faults, Some(b.index))?;
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
