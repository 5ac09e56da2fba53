//! Executing runs: each selected run whose directory is not already complete is simulated
//! and written to `<out>/runs/<run>/` (atomically, manifest last), by `jobs` workers that
//! pull run positions from a shared counter. One run never uses more than one thread, and
//! the files a run writes do not depend on which worker ran it or when, so any `--jobs`
//! gives the same bytes. A complete directory is reused, so an interrupted sweep resumes
//! where it stopped; the first failure stops workers from starting new runs (finished ones
//! are kept).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use reports::{RunDir, RunIdentity, WriteOptions};
use scenarios::run::RunError;
use scenarios::{RunSpec, Scenario};
use sim_core::{SimDuration, SimTime};

use super::progress::Progress;
use super::summary::{human_count, percent, wall};
use super::{CODE_VERSION, CliError};

/// What to execute and where.
pub(crate) struct Plan<'a> {
    /// The scenario (seeds and variants already narrowed by the command line).
    pub(crate) scenario: &'a Scenario,
    /// The selected runs (one shard, or all), in run order.
    pub(crate) runs: Vec<RunSpec>,
    /// Runs of the whole scenario (for "run 3/12").
    pub(crate) total: usize,
    /// The results directory.
    pub(crate) out: PathBuf,
    /// Worker threads.
    pub(crate) jobs: usize,
    /// Redo complete runs.
    pub(crate) force: bool,
    /// How run directories are written.
    pub(crate) write: WriteOptions,
}

/// What executing a run now measured (absent for a reused run).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fresh {
    /// Engine events processed.
    pub(crate) events: u64,
    /// Simulated time covered.
    pub(crate) simulated: SimDuration,
    /// Wall-clock time of simulating and writing the run.
    pub(crate) wall: Duration,
}

/// A selected run whose directory is complete.
pub(crate) struct Finished {
    /// Its directory.
    pub(crate) dir: PathBuf,
    /// Measurements if it was executed now; `None` if reused.
    pub(crate) fresh: Option<Fresh>,
}

/// The identity fields that name a run's directory.
fn identity(scenario: &Scenario, spec: &RunSpec) -> RunIdentity {
    RunIdentity {
        scenario: scenario.name.clone(),
        variant: spec.variant.clone(),
        sweep_point: spec.point.label(),
        seed: spec.seed,
        ..RunIdentity::default()
    }
}

/// `run 3/12 variant=none/seed=3`.
fn run_name(spec: &RunSpec, total: usize) -> String {
    format!("run {}/{total} {}", spec.index + 1, spec.label)
}

/// Fails if `out` holds complete runs of a scenario with this name but other content: they
/// would be reused or merged with these.
fn check_not_stale(scenario: &Scenario, out: &Path) -> Result<(), CliError> {
    let hash = scenario.hash();
    let dirs = reports::complete_run_dirs(out).map_err(|e| CliError::report(&e))?;
    for dir in dirs {
        let Ok(m) = RunDir::read_manifest(&dir) else {
            continue;
        };
        if m.identity.scenario == scenario.name && m.identity.scenario_hash != hash {
            return Err(CliError::input(format!(
                "{} already holds runs of scenario {:?} with different content (scenario hash \
                 {} there, {} now; e.g. {}); write to another directory with --out, or \
                 delete that one",
                out.display(),
                scenario.name,
                short(&m.identity.scenario_hash),
                short(&hash),
                dir.display()
            )));
        }
    }
    Ok(())
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Runs every selected run that is not complete yet; returns all selected runs in order.
pub(crate) fn execute(plan: &Plan<'_>, progress: &Progress) -> Result<Vec<Finished>, CliError> {
    let runs_dir = plan.out.join(reports::csv_out::RUNS_SUBDIR);
    std::fs::create_dir_all(&runs_dir).map_err(|e| {
        CliError::failure(format!(
            "{}: cannot create the directory: {e}",
            runs_dir.display()
        ))
    })?;
    check_not_stale(plan.scenario, &plan.out)?;

    let dirs: Vec<PathBuf> = plan
        .runs
        .iter()
        .map(|spec| RunDir::path(&plan.out, &identity(plan.scenario, spec)))
        .collect();
    let mut todo = Vec::new();
    for (k, (spec, dir)) in plan.runs.iter().zip(&dirs).enumerate() {
        if !plan.force && RunDir::is_complete(dir) {
            let end = RunDir::read_manifest(dir).map_or(SimTime::ZERO, |m| SimTime(m.run_end_ns));
            progress.log(&format!(
                "[{end}] {} reused: already complete in {}",
                run_name(spec, plan.total),
                dir.display()
            ));
            progress.run_done();
        } else {
            todo.push(k);
        }
    }

    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let outcomes: Mutex<Vec<Option<Result<Fresh, CliError>>>> =
        Mutex::new((0..todo.len()).map(|_| None).collect());
    let work = || {
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&k) = todo.get(i) else {
                return;
            };
            let outcome = run_one(plan, &plan.runs[k], progress);
            if outcome.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            progress.run_done();
            outcomes.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(outcome);
        }
    };
    let helpers = plan.jobs.min(todo.len()).saturating_sub(1);
    std::thread::scope(|s| {
        for w in 0..helpers {
            // A worker that cannot be started leaves its share to the others.
            let _ = std::thread::Builder::new()
                .name(format!("run-worker-{w}"))
                .stack_size(8 << 20)
                .spawn_scoped(s, work);
        }
        work();
    });

    let outcomes = outcomes
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let mut fresh: Vec<Option<Fresh>> = vec![None; plan.runs.len()];
    let mut errors = Vec::new();
    for (&k, outcome) in todo.iter().zip(outcomes) {
        match outcome {
            Some(Ok(f)) => fresh[k] = Some(f),
            Some(Err(e)) => errors.push(e),
            None => {}
        }
    }
    if let Some(first) = errors.first() {
        let done = plan.runs.len() - todo.len() + fresh.iter().flatten().count();
        let mut message: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
        message.push(format!(
            "{done} of {} selected runs are complete in {}; fix the problem and rerun the same \
             command to resume",
            plan.runs.len(),
            plan.out.display()
        ));
        return Err(CliError {
            code: first.code,
            message: message.join("\n"),
        });
    }
    Ok(plan
        .runs
        .iter()
        .zip(dirs)
        .zip(fresh)
        .map(|((_, dir), fresh)| Finished { dir, fresh })
        .collect())
}

/// Simulates one run and writes its directory.
fn run_one(plan: &Plan<'_>, spec: &RunSpec, progress: &Progress) -> Result<Fresh, CliError> {
    let name = run_name(spec, plan.total);
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let bar = progress.run_bar(&name);
        let output = scenarios::run::execute(plan.scenario, spec, CODE_VERSION, &mut |now, end| {
            bar.update(now, end);
        });
        drop(bar);
        let output = output.map_err(|e| run_error(&name, &e))?;
        let dir = RunDir::path(&plan.out, &output.result.identity);
        RunDir::write(&dir, &output.result, &plan.write).map_err(|e| {
            let e = CliError::report(&e);
            CliError {
                code: e.code,
                message: format!("{}\n  (while writing {name})", e.message),
            }
        })?;
        Ok((
            output.events,
            output.simulated,
            output.result.summary.delivery_ratio(),
        ))
    }));
    let (events, simulated, delivery) = match outcome {
        Ok(result) => result?,
        Err(_) => {
            return Err(CliError::failure(format!(
                "{name}: the simulator panicked (message above); this is a bug in wakusim"
            )));
        }
    };
    let wall_time = started.elapsed();
    progress.log(&format!(
        "[{}] {name} done: delivery {} (events {}, {})",
        SimTime::ZERO + simulated,
        delivery.map_or_else(|| "n/a".to_string(), |r| percent(r, 1)),
        human_count(events as f64),
        wall(wall_time.as_secs_f64()),
    ));
    Ok(Fresh {
        events,
        simulated,
        wall: wall_time,
    })
}

fn run_error(name: &str, e: &RunError) -> CliError {
    match e {
        RunError::Scenario(e) => CliError::scenario(e),
        RunError::Build { .. } => CliError::input(format!("{name}: {e}")),
        RunError::Engine { .. } => CliError::failure(format!("{name}: {e}")),
    }
}
