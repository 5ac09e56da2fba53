//! The `wakusim` command line. With no arguments it runs the built-in `default` scenario,
//! writes its results to `results/default` and prints a summary table; `wakusim --help` lists
//! the commands. Exit codes: 0 success, 1 failure (I/O, a run that failed, a regression found
//! by `compare`), 2 invalid input (scenario errors, bad arguments). `docs/cli.md` documents
//! every command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

use cli::args::{CheckArgs, CompareArgs, DemoArgs, MergeArgs, ReportArgs, RunArgs, SweepArgs};
use cli::errln;

#[derive(Parser)]
#[command(
    name = "wakusim",
    version,
    about = "Deterministic network-fault simulator for Waku",
    long_about = "Deterministic network-fault simulator for Waku.\n\n\
        With no command, runs the built-in `default` scenario (like `wakusim run default`), \
        writes its results to results/default and prints a summary table.",
    after_help = "Exit codes: 0 success; 1 failure (I/O error, failed run, regression found by \
        `compare`); 2 invalid input (scenario error, bad argument)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (a file or a built-in name): every selected run, then merge the results
    /// and write the HTML report.
    Run(RunArgs),
    /// Like `run`, across all cores by default, optionally one shard of the runs.
    Sweep(SweepArgs),
    /// Validate scenario files without running them.
    Check(CheckArgs),
    /// List the built-in scenarios.
    List,
    /// Merge results directories (for example the shards of a sweep) into one.
    Merge(MergeArgs),
    /// Write the HTML report (index.html and plots) of a results directory.
    Report(ReportArgs),
    /// Compare two result sets and fail on a regression beyond the tolerances.
    Compare(CompareArgs),
    /// Run the old flooding demo network (no scenario file; used by benchmarks).
    Demo(DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => cli::run::run(&RunArgs::default_scenario(), "run", None),
        Some(Command::Run(args)) => cli::run::run(&args, "run", None),
        Some(Command::Sweep(args)) => cli::run::sweep(&args),
        Some(Command::Check(args)) => cli::commands::check(&args),
        Some(Command::List) => cli::commands::list(),
        Some(Command::Merge(args)) => cli::commands::merge(&args),
        Some(Command::Report(args)) => cli::commands::report(&args),
        Some(Command::Compare(args)) => cli::commands::compare(&args),
        Some(Command::Demo(args)) => cli::demo::demo(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            errln!("{e}");
            ExitCode::from(e.code)
        }
    }
}
