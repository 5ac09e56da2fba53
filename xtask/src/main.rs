//! `cargo xtask`: project automation that needs nothing but cargo.
//!
//! Subcommands:
//! - `ci`: everything CI checks (fmt, clippy, tests, codegen check, determinism, tidy);
//! - `determinism`: runs built-in scenarios twice and fails at the first diverging event;
//! - `tidy`: fails on determinism-rule violations in the simulation crates (DESIGN §3);
//! - `codegen [--check]`: regenerates the checked-in protobuf code (no system protoc);
//! - `results [NAME…]`: runs the reliability comparison scenarios (release binary) and
//!   writes `docs/results.md`.
//! - `sds`: runs the SDS community-channel variants and parameter sweeps (release binary)
//!   and writes `docs/sds-results.md`.

mod ci;
mod codegen;
mod determinism;
mod results;
mod sds;
mod tidy;

use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the cause chain on one line each, without a backtrace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> anyhow::Result<()> {
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("ci") => ci::run(&root),
        Some("determinism") => determinism::run(&root, &args[1..]),
        Some("tidy") => tidy::run(&root),
        Some("results") => results::run(&root, &args[1..]),
        Some("sds") => sds::run(&root),
        Some("codegen") => codegen::run(&root, args.iter().any(|a| a == "--check")),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | determinism | tidy | codegen [--check] | results [NAME…] | sds>"
            );
            std::process::exit(2);
        }
    }
}

/// The workspace root (the parent of this crate's directory).
fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
