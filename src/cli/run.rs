//! `run` and `sweep` (and `wakusim` without arguments, which is `run default`): load the
//! scenario, narrow seeds and variants, pick this shard's runs, execute the ones not yet
//! complete, merge every complete run of the results directory, write the HTML report and
//! print the summary table.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use reports::WriteOptions;

use super::args::{RunArgs, SweepArgs};
use super::exec::{self, Plan};
use super::progress::Progress;
use super::summary::{self, wall};
use super::{CliError, CliResult, load};

/// `wakusim sweep`: `run` with all cores by default and `--shard`.
pub(crate) fn sweep(args: &SweepArgs) -> CliResult {
    run(&args.run, "sweep", args.shard)
}

/// `wakusim run` (`command` names the subcommand in manifests).
pub(crate) fn run(args: &RunArgs, command: &str, shard: Option<(usize, usize)>) -> CliResult {
    let started = Instant::now();
    let mut scenario = load::load(&args.scenario, &args.sets)?;
    if let Some(seeds) = args.selected_seeds() {
        scenario.seeds = seeds;
    }
    if !args.variants.is_empty() {
        for (i, v) in args.variants.iter().enumerate() {
            if args.variants[..i].contains(v) {
                return Err(CliError::input(format!(
                    "--variant {v} is given twice; variants must be distinct"
                )));
            }
        }
        scenario.variants = args.variants.clone();
    }
    let all = scenario.runs();
    let total = all.len();
    let runs = match shard {
        Some((i, n)) => scenarios::shard(&all, i, n),
        None => all,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&scenario.name));
    let jobs = match args.jobs {
        Some(j) => usize::from(j),
        None if command == "sweep" => std::thread::available_parallelism().map_or(1, |n| n.get()),
        None => 1,
    };
    let shard_text = shard.map_or(String::new(), |(i, n)| format!(", shard {i}/{n}"));
    errln!(
        "wakusim: scenario {} ({}): {} of {total} runs{shard_text} ({} seed(s) × {} variant(s) \
         × {} sweep point(s)), {} simulated each, {} job(s); results in {}",
        scenario.name,
        scenario.file(),
        runs.len(),
        scenario.seeds.len(),
        scenario.variants.len(),
        scenario.sweep_points().len(),
        scenario.total_duration(),
        jobs.min(runs.len()).max(1),
        out.display()
    );
    if runs.is_empty() {
        errln!("wakusim: this shard holds no runs; nothing to do");
        return Ok(ExitCode::SUCCESS);
    }

    let canonical = canonical_command(command, args);
    let plan = Plan {
        scenario: &scenario,
        runs,
        total,
        out: out.clone(),
        jobs,
        force: args.force,
        write: WriteOptions {
            command: canonical.clone(),
            deliveries: !args.no_deliveries,
        },
    };
    let progress = Progress::new(plan.runs.len() as u64);
    let finished = exec::execute(&plan, &progress);
    progress.finish();
    let finished = finished?;

    let merged = reports::merge_results_dir(&out, &canonical).map_err(|e| CliError::report(&e))?;
    let report = if args.no_report {
        None
    } else {
        Some(reports::write_report(&out).map_err(|e| CliError::report(&e))?)
    };
    let table = summary::render(&finished)?;
    let executed = finished.iter().filter(|f| f.fresh.is_some()).count();
    outln!();
    outln!(
        "wakusim {command} {}: {} run(s) ({executed} executed, {} reused) in {} wall time",
        scenario.name,
        finished.len(),
        finished.len() - executed,
        wall(started.elapsed().as_secs_f64())
    );
    outln!();
    crate::cli::write_out(format_args!("{table}"));
    outln!();
    outln!(
        "results: {} (runs.csv + {} more CSV files over {} runs; each run's own files in {})",
        display_dir(&out),
        merged.files.len().saturating_sub(1),
        merged.runs,
        display_dir(&out.join(reports::csv_out::RUNS_SUBDIR))
    );
    if let Some(r) = report {
        outln!("report:  {}", r.index.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn display_dir(dir: &Path) -> String {
    let mut s = PathBuf::from(dir).display().to_string();
    if !s.ends_with(std::path::MAIN_SEPARATOR) {
        s.push(std::path::MAIN_SEPARATOR);
    }
    s
}

/// The command recorded in manifests: what determines the results (scenario, seeds,
/// variants, overrides), not how they were computed (`--jobs`, `--shard`, `--out`,
/// `--force`, `--no-report`), so any parallelism or sharding records the same text.
pub(crate) fn canonical_command(command: &str, args: &RunArgs) -> String {
    let mut parts = vec![
        "wakusim".to_string(),
        command.to_string(),
        quote(&args.scenario),
    ];
    if let Some(seeds) = &args.seeds {
        parts.push("--seeds".into());
        parts.push(quote(&seeds.text));
    } else if let Some(seed) = args.seed {
        parts.push("--seed".into());
        parts.push(seed.to_string());
    }
    for v in &args.variants {
        parts.push("--variant".into());
        parts.push(quote(v));
    }
    for o in &args.sets {
        parts.push("--set".into());
        parts.push(quote(&format!("{}={}", o.key, o.value)));
    }
    if args.no_deliveries {
        parts.push("--no-deliveries".into());
    }
    parts.join(" ")
}

/// Quotes `text` for a POSIX shell when it holds anything but safe characters.
fn quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Override, parse_seeds};

    #[test]
    fn the_recorded_command_leaves_out_how_runs_were_computed() {
        let mut args = RunArgs::default_scenario();
        args.jobs = Some(4);
        args.force = true;
        args.out = Some(PathBuf::from("/tmp/x"));
        args.seeds = Some(parse_seeds("1..3").unwrap());
        args.variants = vec!["none".into()];
        args.sets = vec![Override {
            key: "network.link".into(),
            value: "{ latency = { kind = \"constant\", value = \"1s\" } }".into(),
        }];
        assert_eq!(
            canonical_command("sweep", &args),
            "wakusim sweep default --seeds 1..3 --variant none --set \
             'network.link={ latency = { kind = \"constant\", value = \"1s\" } }'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
