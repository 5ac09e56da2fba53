//! The command line's implementation, one module per concern:
//!
//! - [`args`]: the clap argument structs and the parsers of `--seeds`, `--set`, `--shard`;
//! - [`load`]: a scenario argument (file or built-in name) with its `--set` overrides;
//! - [`exec`]: running the selected runs on worker threads, resumably, with progress;
//! - [`progress`]: the progress bars and the log lines stamped with simulated time;
//! - [`summary`]: the summary table printed after `run` and `sweep`;
//! - [`run`]: the `run` and `sweep` commands (and the no-argument default);
//! - [`commands`]: `check`, `list`, `merge`, `report`, `compare`;
//! - [`demo`]: the old flooding demo.
//!
//! Threads live here only: one run is single-threaded, runs go in parallel.

use std::fmt;
use std::io::Write;

/// `println!` that ignores a closed stdout (`wakusim list | head -1` must not panic).
macro_rules! outln {
    () => { $crate::cli::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that ignores a closed stderr.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use errln;

/// Writes to stdout; errors (a closed pipe) are ignored: there is no one left to tell.
pub(crate) fn write_out(args: fmt::Arguments<'_>) {
    let _ = std::io::stdout().lock().write_fmt(args);
}

/// Writes to stderr; errors are ignored.
pub(crate) fn write_err(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

pub(crate) mod args;
pub(crate) mod commands;
pub(crate) mod demo;
pub(crate) mod exec;
pub(crate) mod load;
pub(crate) mod progress;
pub(crate) mod run;
pub(crate) mod summary;

/// The simulator version recorded in every run's identity.
pub(crate) const CODE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Exit code for a failure while working (I/O, a failed run, a regression).
pub(crate) const EXIT_FAILURE: u8 = 1;
/// Exit code for invalid input (scenario errors, bad arguments or paths given).
pub(crate) const EXIT_INPUT: u8 = 2;

/// An error that ends the command: the text printed on stderr and the exit code.
#[derive(Debug)]
pub(crate) struct CliError {
    /// Exit code ([`EXIT_FAILURE`] or [`EXIT_INPUT`]).
    pub(crate) code: u8,
    /// The full text, printed as it is.
    pub(crate) message: String,
}

impl CliError {
    /// Invalid input: `error: <message>`, exit 2.
    pub(crate) fn input(message: impl fmt::Display) -> Self {
        CliError {
            code: EXIT_INPUT,
            message: format!("error: {message}"),
        }
    }

    /// A failure while working: `error: <message>`, exit 1.
    pub(crate) fn failure(message: impl fmt::Display) -> Self {
        CliError {
            code: EXIT_FAILURE,
            message: format!("error: {message}"),
        }
    }

    /// A scenario error, printed exactly as its Display (`file:line:col: field: message`),
    /// exit 2.
    pub(crate) fn scenario(e: &scenarios::ScenarioError) -> Self {
        CliError {
            code: EXIT_INPUT,
            message: e.to_string(),
        }
    }

    /// A reports error: bad or missing input files exit 2, I/O failures exit 1.
    pub(crate) fn report(e: &reports::ReportError) -> Self {
        use reports::ReportError as R;
        let io = match e {
            R::Io { .. } | R::Plot { .. } => true,
            R::Csv { source, .. } => source.is_io_error(),
            R::Json { source, .. } => source.is_io(),
            _ => false,
        };
        if io { Self::failure(e) } else { Self::input(e) }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of a command: the exit code to return, or the error that ended it.
pub(crate) type CliResult = Result<std::process::ExitCode, CliError>;
