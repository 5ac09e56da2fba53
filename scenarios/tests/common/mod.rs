//! Shared by the scenario integration tests: parse a scenario text and run every run of it.

#![allow(dead_code, unreachable_pub)]

use scenarios::RunSpec;
use scenarios::parse_str;
use scenarios::run::{RunOutput, execute};

/// Every run of the scenario `text` (named `file` in errors), in run order, with its output.
pub fn run_each(file: &str, text: &str) -> Vec<(RunSpec, RunOutput)> {
    let scenario = parse_str(file, text).expect("valid scenario");
    scenario
        .runs()
        .into_iter()
        .map(|run| {
            let out = execute(&scenario, &run, "test", &mut |_, _| {}).expect("runs");
            (run, out)
        })
        .collect()
}

/// The ground-truth delivery ratio of a run.
pub fn delivery_ratio(out: &RunOutput) -> f64 {
    out.result
        .summary
        .delivery_ratio()
        .expect("messages were sent")
}
