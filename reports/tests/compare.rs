//! The regression gate.

mod common;

use common::{hand_made_result, identity, scratch};
use reports::read::RunRecord;
use reports::{
    Granularity, RunDir, Tolerances, WriteOptions, compare, compare_rows, merge_results_dir,
};

fn row(variant: &str, seed: u64, ratio: f64, p99: f64, bytes: f64) -> RunRecord {
    RunRecord {
        scenario: "s".into(),
        variant: variant.into(),
        seed,
        delivery_ratio: Some(ratio),
        latency_ms_p99: Some(p99),
        bytes_sent_per_node_mean: Some(bytes),
        ..RunRecord::default()
    }
}

#[test]
fn flags_a_delivery_ratio_drop_and_passes_within_tolerance() {
    let tol = Tolerances::default();
    let base = [
        row("a", 1, 0.99, 100.0, 1000.0),
        row("a", 2, 0.95, 100.0, 1000.0),
    ];
    let within = [
        row("a", 1, 0.981, 109.0, 1099.0),
        row("a", 2, 0.95, 100.0, 1000.0),
    ];
    let c = compare_rows(&base, &within, &tol, Granularity::PerRun);
    assert!(!c.is_regression(), "{c}");
    assert_eq!(c.rows.len(), 2);

    let dropped = [
        row("a", 1, 0.97, 100.0, 1000.0),
        row("a", 2, 0.95, 100.0, 1000.0),
    ];
    let c = compare_rows(&base, &dropped, &tol, Granularity::PerRun);
    assert!(c.is_regression());
    assert_eq!(c.regressions(), 1);
    assert!(c.rows[0].deltas[0].regression);
    let text = c.to_string();
    assert!(
        text.contains("REGRESSION") && text.contains("s/a seed=1"),
        "{text}"
    );

    let exactly_at_tolerance = [
        row("a", 1, 0.98, 110.0, 1100.0),
        row("a", 2, 0.95, 100.0, 1000.0),
    ];
    let c = compare_rows(&base, &exactly_at_tolerance, &tol, Granularity::PerRun);
    assert!(!c.is_regression(), "{c}");
}

#[test]
fn latency_bytes_and_missing_rows() {
    let tol = Tolerances::default();
    let base = [
        row("a", 1, 0.99, 100.0, 1000.0),
        row("b", 1, 0.99, 100.0, 1000.0),
    ];
    let slower = [
        row("a", 1, 0.99, 111.0, 1000.0),
        row("b", 1, 0.99, 100.0, 1111.0),
    ];
    let c = compare_rows(&base, &slower, &tol, Granularity::PerRun);
    assert_eq!(c.regressions(), 2);
    assert!(c.rows[0].deltas[1].regression && c.rows[1].deltas[2].regression);
    let loose = Tolerances {
        latency_p99_increase: 0.2,
        bytes_increase: 0.2,
        ..tol
    };
    assert!(!compare_rows(&base, &slower, &loose, Granularity::PerRun).is_regression());

    let missing = [row("a", 1, 0.99, 100.0, 1000.0), row("c", 1, 0.5, 1.0, 1.0)];
    let c = compare_rows(&base, &missing, &tol, Granularity::PerRun);
    assert_eq!(c.missing_in_new, ["s/b seed=1"]);
    assert_eq!(c.missing_in_base, ["s/c seed=1"]);
    assert!(c.is_regression());
    let lenient = Tolerances {
        missing_is_regression: false,
        ..tol
    };
    assert!(!compare_rows(&base, &missing, &lenient, Granularity::PerRun).is_regression());
}

#[test]
fn per_variant_means_over_seeds() {
    let tol = Tolerances::default();
    let base = [
        row("a", 1, 1.0, 100.0, 1000.0),
        row("a", 2, 0.9, 100.0, 1000.0),
    ];
    // Different seeds, same mean delivery ratio 0.95.
    let new = [
        row("a", 3, 0.95, 100.0, 1000.0),
        row("a", 4, 0.95, 100.0, 1000.0),
    ];
    assert!(compare_rows(&base, &new, &tol, Granularity::PerRun).is_regression());
    let c = compare_rows(&base, &new, &tol, Granularity::PerVariant);
    assert!(!c.is_regression(), "{c}");
    assert_eq!((c.rows[0].runs_base, c.rows[0].runs_new), (2, 2));
    let worse = [row("a", 3, 0.9, 100.0, 1000.0)];
    assert!(compare_rows(&base, &worse, &tol, Granularity::PerVariant).is_regression());
}

#[test]
fn compares_runs_csv_files() {
    let dir = scratch("compare");
    for seed in [1, 2] {
        let r = hand_made_result(identity("v", seed, &[]));
        RunDir::write(
            &RunDir::path(&dir, &r.identity),
            &r,
            &WriteOptions::default(),
        )
        .unwrap();
    }
    merge_results_dir(&dir, "").unwrap();
    let runs = dir.join("runs.csv");
    let c = compare(&runs, &runs, &Tolerances::default(), Granularity::PerRun).unwrap();
    assert!(!c.is_regression());
    assert_eq!(c.rows.len(), 2);
    assert_eq!(c.rows[0].deltas[0].base, Some(0.666667));
    let err = compare(
        &dir.join("nope.csv"),
        &runs,
        &Tolerances::default(),
        Granularity::PerRun,
    );
    assert!(err.is_err());
}
