//! Running built-in scenarios end to end: results are complete, plausible and reproducible.

use scenarios::builtin;
use scenarios::run::execute;

#[test]
fn the_default_scenario_runs_and_reproduces() {
    let scenario = builtin::load("default").expect("built in").expect("valid");
    let run = scenario
        .runs()
        .into_iter()
        .next()
        .expect("at least one run");
    let first = execute(&scenario, &run, "test", &mut |_, _| {}).expect("runs");
    let summary = &first.result.summary;
    println!("{summary:#?}");
    assert!(summary.deliveries_intended > 0, "traffic was scheduled");
    let ratio = summary.delivery_ratio().expect("some deliveries intended");
    assert!(ratio > 0.5 && ratio <= 1.0, "delivery ratio {ratio}");
    let again = execute(&scenario, &run, "test", &mut |_, _| {}).expect("runs");
    assert_eq!(first.audit_hash, again.audit_hash);
    assert_eq!(
        format!("{:?}", first.result.summary),
        format!("{:?}", again.result.summary)
    );
}

#[test]
fn text_sweep_values_get_numeric_coordinates() {
    let scenario = builtin::load("relay-calibration")
        .expect("built in")
        .expect("valid");
    let runs = scenario.runs();
    let last = runs.last().expect("runs");
    let built = scenarios::run::build(&scenario, last, "test").expect("builds");
    let axes = &built.identity.sweep_axes;
    assert_eq!(axes.len(), 1);
    // "500KB" is the third value of the axis.
    assert_eq!(axes[0].value, 2.0);
}
