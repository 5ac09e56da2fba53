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
