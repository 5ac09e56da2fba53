//! `cargo xtask ci`: everything CI checks, in order, stopping at the first failure.
//!
//! The steps are formatting, clippy with warnings denied, the workspace tests, the
//! generated-code check, the determinism check and tidy. The cargo steps run as child
//! processes in the workspace root with inherited stdio; the others run in this process.
//! Each step prints its name and how long it took (wall-clock time is fine here: xtask is
//! not part of a simulation run).

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How a step is carried out.
enum Action {
    /// `cargo` with these arguments.
    Cargo(&'static [&'static str]),
    /// A function of this crate, given the workspace root.
    InProcess(fn(&Path) -> anyhow::Result<()>),
}

struct Step {
    name: &'static str,
    action: Action,
}

const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        action: Action::Cargo(&["fmt", "--all", "--", "--check"]),
    },
    Step {
        name: "clippy",
        action: Action::Cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    },
    Step {
        name: "test",
        action: Action::Cargo(&["test", "--workspace", "--locked"]),
    },
    Step {
        name: "codegen --check",
        action: Action::InProcess(|root| crate::codegen::run(root, true)),
    },
    Step {
        name: "determinism",
        action: Action::InProcess(|root| crate::determinism::run(root, &[])),
    },
    Step {
        name: "tidy",
        action: Action::InProcess(crate::tidy::run),
    },
];

/// Runs every CI step in the workspace at `root`; fails naming the first step that fails.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    run_steps(root, STEPS)
}

fn run_steps(root: &Path, steps: &[Step]) -> anyhow::Result<()> {
    let total = steps.len();
    let mut timings: Vec<(&str, Duration)> = Vec::with_capacity(total);
    for (index, step) in steps.iter().enumerate() {
        eprintln!(
            "\n==> ci step {}/{total}: {} ({})",
            index + 1,
            step.name,
            describe(step)
        );
        let started = Instant::now();
        let outcome = run_step(root, step);
        let elapsed = started.elapsed();
        if let Err(error) = outcome {
            eprintln!(
                "<== ci step `{}` FAILED after {}",
                step.name,
                seconds(elapsed)
            );
            return Err(error.context(format!(
                "ci failed at step {}/{total} `{}` ({})",
                index + 1,
                step.name,
                describe(step)
            )));
        }
        eprintln!("<== ci step `{}` ok in {}", step.name, seconds(elapsed));
        timings.push((step.name, elapsed));
    }
    eprintln!("\nci passed:");
    for (name, elapsed) in &timings {
        eprintln!("    {name:<16} {:>9}", seconds(*elapsed));
    }
    let sum: Duration = timings.iter().map(|(_, d)| *d).sum();
    eprintln!("    {:<16} {:>9}", "total", seconds(sum));
    Ok(())
}

fn run_step(root: &Path, step: &Step) -> anyhow::Result<()> {
    match step.action {
        Action::Cargo(args) => {
            let cargo = cargo_program();
            let status = Command::new(&cargo)
                .args(args)
                .current_dir(root)
                .status()
                .map_err(|e| {
                    anyhow::anyhow!("could not start `{}`: {e}", cargo.to_string_lossy())
                })?;
            if !status.success() {
                anyhow::bail!("`cargo {}` exited with {status}", args.join(" "));
            }
            Ok(())
        }
        Action::InProcess(function) => function(root),
    }
}

/// The cargo that runs this xtask (cargo sets `CARGO`), so every step uses one toolchain.
fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

fn describe(step: &Step) -> String {
    match step.action {
        Action::Cargo(args) => format!("cargo {}", args.join(" ")),
        Action::InProcess(_) => format!("cargo xtask {}", step.name),
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_run_in_the_documented_order() {
        let names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "fmt",
                "clippy",
                "test",
                "codegen --check",
                "determinism",
                "tidy"
            ]
        );
        assert_eq!(describe(&STEPS[0]), "cargo fmt --all -- --check");
        assert_eq!(
            describe(&STEPS[1]),
            "cargo clippy --workspace --all-targets --locked -- -D warnings"
        );
        assert_eq!(describe(&STEPS[2]), "cargo test --workspace --locked");
    }

    #[test]
    fn ci_stops_at_the_first_failing_step_and_names_it() {
        static RAN_AFTER_FAILURE: std::sync::atomic::AtomicBool =
            std::sync::atomic::AtomicBool::new(false);
        let steps = [
            Step {
                name: "passes",
                action: Action::InProcess(|_| Ok(())),
            },
            Step {
                name: "always-fails",
                action: Action::InProcess(|_| anyhow::bail!("boom")),
            },
            Step {
                name: "never-reached",
                action: Action::InProcess(|_| {
                    RAN_AFTER_FAILURE.store(true, std::sync::atomic::Ordering::SeqCst);
                    Ok(())
                }),
            },
        ];
        let error = run_steps(Path::new("."), &steps).unwrap_err();
        let message = format!("{error:#}");
        assert!(message.contains("step 2/3 `always-fails`"), "{message}");
        assert!(message.ends_with(": boom"), "{message}");
        assert!(!RAN_AFTER_FAILURE.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_failing_cargo_command_is_an_error() {
        let step = Step {
            name: "bad-subcommand",
            action: Action::Cargo(&["no-such-subcommand-for-xtask-tests"]),
        };
        let error = run_step(Path::new(env!("CARGO_MANIFEST_DIR")), &step).unwrap_err();
        assert!(error.to_string().contains("exited with"), "{error}");
        assert_eq!(seconds(Duration::from_millis(1300)), "1.3s");
    }
}
