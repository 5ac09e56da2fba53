//! The commands that do not simulate: `check`, `list`, `merge`, `report`, `compare`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reports::csv_out::{RUNS_CSV, RUNS_SUBDIR};
use reports::{Granularity, RunDir, Tolerances};
use scenarios::builtin;

use super::args::{CheckArgs, CompareArgs, MergeArgs, ReportArgs};
use super::{CliError, CliResult, EXIT_FAILURE, EXIT_INPUT, load};

/// `check FILE...`: validates each scenario; exit 2 if any is invalid.
pub(crate) fn check(args: &CheckArgs) -> CliResult {
    let mut invalid = 0;
    for file in &args.files {
        match load::load(file, &args.sets) {
            Ok(s) => outln!("ok: {file} ({} runs)", s.runs().len()),
            Err(e) => {
                errln!("{e}");
                invalid += 1;
            }
        }
    }
    if invalid > 0 {
        if args.files.len() > 1 {
            errln!("{invalid} of {} scenarios are invalid", args.files.len());
        }
        Ok(ExitCode::from(EXIT_INPUT))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

/// `list`: the built-in scenarios with their run counts and descriptions.
pub(crate) fn list() -> CliResult {
    for (name, _) in builtin::all() {
        match builtin::load(name) {
            Some(Ok(s)) => {
                outln!(
                    "{name:<24}{:>5} runs  {} nodes, {} simulated per run",
                    s.runs().len(),
                    s.node_count(),
                    s.total_duration()
                );
                for line in wrap(&s.description, 88) {
                    outln!("    {line}");
                }
            }
            Some(Err(e)) => outln!("{name:<24}invalid: {e}"),
            None => {}
        }
    }
    outln!();
    outln!("Run one with `wakusim run NAME`; `wakusim check NAME` validates it.");
    Ok(ExitCode::SUCCESS)
}

/// Words of `text` joined into lines of at most `width` characters (longer words alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The complete run directories of a results directory or a single run directory.
fn run_dirs_of(input: &Path) -> Result<Vec<PathBuf>, CliError> {
    if !input.exists() {
        return Err(CliError::input(format!(
            "{}: no such directory",
            input.display()
        )));
    }
    let runs = input.join(RUNS_SUBDIR);
    if runs.is_dir() {
        let complete = reports::complete_run_dirs(input).map_err(|e| CliError::report(&e))?;
        let all = std::fs::read_dir(&runs)
            .map_err(|e| CliError::failure(format!("{}: {e}", runs.display())))?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .count();
        if all > complete.len() {
            errln!(
                "wakusim: {}: skipping {} incomplete run directories (interrupted runs)",
                input.display(),
                all - complete.len()
            );
        }
        return Ok(complete);
    }
    if RunDir::is_complete(input) {
        return Ok(vec![input.to_path_buf()]);
    }
    Err(CliError::input(format!(
        "{}: neither a results directory (with a {RUNS_SUBDIR}/ subdirectory) nor a complete \
         run directory",
        input.display()
    )))
}

/// `merge OUT DIR...`: every complete run of the inputs merged into OUT, then the report.
pub(crate) fn merge(args: &MergeArgs) -> CliResult {
    let mut dirs = Vec::new();
    for input in &args.inputs {
        dirs.extend(run_dirs_of(input)?);
    }
    if dirs.is_empty() {
        return Err(CliError::input("the inputs hold no complete runs"));
    }
    // The same run with different scenario content cannot be merged.
    let mut hashes: BTreeMap<(String, String, String, u64), (String, PathBuf)> = BTreeMap::new();
    for dir in &dirs {
        let m = RunDir::read_manifest(dir).map_err(|e| CliError::report(&e))?;
        let id = m.identity;
        let key = (id.scenario, id.variant, id.sweep_point, id.seed);
        if let Some((hash, other)) = hashes.get(&key)
            && *hash != id.scenario_hash
        {
            return Err(CliError::input(format!(
                "{} and {} are the same run of different scenario contents (scenario hashes \
                 differ); merge results of one scenario version",
                other.display(),
                dir.display()
            )));
        }
        hashes.insert(key, (id.scenario_hash, dir.clone()));
    }
    let mut command = vec!["wakusim".to_string(), "merge".to_string()];
    command.push(args.out.display().to_string());
    command.extend(args.inputs.iter().map(|p| p.display().to_string()));
    let manifest = reports::merge_runs(&dirs, &args.out, &command.join(" "))
        .map_err(|e| CliError::report(&e))?;
    outln!(
        "merged {} runs into {} ({} duplicate runs skipped): {}",
        manifest.runs,
        args.out.display(),
        manifest.duplicate_runs_skipped,
        manifest.files.join(", ")
    );
    if !args.no_report {
        let report = reports::write_report(&args.out).map_err(|e| CliError::report(&e))?;
        outln!("report: {}", report.index.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `report DIR`: merges DIR's runs first when it has no `runs.csv`, then writes the report.
pub(crate) fn report(args: &ReportArgs) -> CliResult {
    let dir = &args.dir;
    if !dir.is_dir() {
        return Err(CliError::input(format!(
            "{}: not a directory (give a results directory)",
            dir.display()
        )));
    }
    if !dir.join(RUNS_CSV).is_file() {
        if !dir.join(RUNS_SUBDIR).is_dir() {
            return Err(CliError::input(format!(
                "{}: not a results directory (no {RUNS_CSV} and no {RUNS_SUBDIR}/)",
                dir.display()
            )));
        }
        let command = format!("wakusim report {}", dir.display());
        let m = reports::merge_results_dir(dir, &command).map_err(|e| CliError::report(&e))?;
        if m.runs == 0 {
            return Err(CliError::input(format!(
                "{}: no complete runs to report on",
                dir.display()
            )));
        }
        errln!("wakusim: merged {} runs of {}", m.runs, dir.display());
    }
    let r = reports::write_report(dir).map_err(|e| CliError::report(&e))?;
    outln!(
        "report: {} ({} runs, {} plots{})",
        r.index.display(),
        r.runs,
        r.plots.len(),
        if r.truncated {
            "; some plots were left out"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// A results directory's `runs.csv`, or the file itself.
fn runs_csv(path: &Path) -> Result<PathBuf, CliError> {
    if path.is_dir() {
        let file = path.join(RUNS_CSV);
        if file.is_file() {
            return Ok(file);
        }
        return Err(CliError::input(format!(
            "{}: no {RUNS_CSV} here (give a results directory or a {RUNS_CSV} file; \
             `wakusim report DIR` merges a directory's runs)",
            path.display()
        )));
    }
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    Err(CliError::input(format!(
        "{}: no such file or directory",
        path.display()
    )))
}

/// `compare BASE NEW`: prints the comparison; exit 1 on a regression.
pub(crate) fn compare(args: &CompareArgs) -> CliResult {
    let base = runs_csv(&args.base)?;
    let new = runs_csv(&args.new)?;
    let tolerances = Tolerances {
        delivery_ratio_drop: args.delivery_drop,
        latency_p99_increase: args.latency_increase,
        latency_ms_slack: args.latency_slack_ms,
        bytes_increase: args.bytes_increase,
        missing_is_regression: !args.allow_missing,
    };
    let granularity = if args.per_run {
        Granularity::PerRun
    } else {
        Granularity::PerVariant
    };
    let comparison = reports::compare(&base, &new, &tolerances, granularity)
        .map_err(|e| CliError::report(&e))?;
    outln!("BASE {}\nNEW  {}\n", base.display(), new.display());
    crate::cli::write_out(format_args!("{comparison}"));
    if comparison.is_regression() {
        Ok(ExitCode::from(EXIT_FAILURE))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn descriptions_wrap_at_word_boundaries() {
        assert_eq!(wrap("a bb ccc\n dd", 4), ["a bb", "ccc", "dd"]);
        assert_eq!(wrap("", 4), Vec::<String>::new());
        assert_eq!(wrap("toolongword x", 4), ["toolongword", "x"]);
    }
}
