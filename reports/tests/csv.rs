//! CSV files: documented columns, round trip, determinism, atomic writes, completion marker,
//! and merging shards.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::{hand_made_result, identity, scratch};
use reports::atomic::{temp_path, write_atomic};
use reports::csv_out::{self, TABLES, write_runs_csv};
use reports::rows;
use reports::{
    ReportError, RunDir, WriteOptions, complete_run_dirs, merge_results_dir, merge_runs,
};
use serde::Serialize;

/// Column lists per file, parsed from the tables of `docs/outputs.md` (entries with `<` are
/// patterns such as `bytes_sent_<class>`).
fn documented_columns() -> BTreeMap<String, Vec<String>> {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/outputs.md");
    let text = fs::read_to_string(&doc).expect("docs/outputs.md exists");
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            current = h
                .split('`')
                .nth(1)
                .filter(|f| f.ends_with(".csv"))
                .map(str::to_string);
            continue;
        }
        let Some(file) = &current else { continue };
        if let Some(rest) = line.strip_prefix("| `") {
            let col = rest.split('`').next().unwrap_or_default();
            if !col.contains('<') {
                out.entry(file.clone()).or_default().push(col.to_string());
            }
        }
    }
    out
}

fn constants() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        ("runs.csv", rows::RUNS_COLUMNS),
        ("deliveries.csv", rows::DELIVERIES_COLUMNS),
        ("statuses.csv", rows::STATUSES_COLUMNS),
        ("streams.csv", rows::STREAMS_COLUMNS),
        ("timeseries.csv", rows::TIMESERIES_COLUMNS),
        ("nodes.csv", rows::NODES_COLUMNS),
        ("traffic.csv", rows::TRAFFIC_COLUMNS),
        ("counters.csv", rows::COUNTERS_COLUMNS),
        ("faults.csv", rows::FAULTS_COLUMNS),
        ("latency.csv", rows::LATENCY_COLUMNS),
    ]
}

#[test]
fn documented_columns_match_the_code() {
    let doc = documented_columns();
    let consts = constants();
    assert_eq!(doc.len(), consts.len(), "one documented table per file");
    assert_eq!(consts.len(), TABLES.len());
    for (file, cols) in consts {
        let documented = doc
            .get(file)
            .unwrap_or_else(|| panic!("{file} not documented"));
        assert_eq!(documented, cols, "{file}: docs/outputs.md vs code");
    }
}

/// The header serde derives from a row struct's fields.
fn derived_header<T: Serialize>(row: T) -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(row).expect("serialize");
    let bytes = w.into_inner().expect("flush");
    let text = String::from_utf8(bytes).expect("utf8");
    text.lines()
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect()
}

#[test]
fn row_structs_match_the_column_lists() {
    let r = hand_made_result(identity("v", 1, &[("loss", 0.1)]));
    let check = |h: Vec<String>, cols: &[&str]| assert_eq!(h, cols);
    check(derived_header(rows::run_row(&r)), rows::RUNS_COLUMNS);
    check(
        derived_header(rows::delivery_rows(&r).next().unwrap()),
        rows::DELIVERIES_COLUMNS,
    );
    check(
        derived_header(rows::status_rows(&r).next().unwrap()),
        rows::STATUSES_COLUMNS,
    );
    check(
        derived_header(rows::stream_rows(&r).next().unwrap()),
        rows::STREAMS_COLUMNS,
    );
    check(
        derived_header(rows::timeseries_rows(&r).next().unwrap()),
        rows::TIMESERIES_COLUMNS,
    );
    check(
        derived_header(rows::traffic_rows(&r).next().unwrap()),
        rows::TRAFFIC_COLUMNS,
    );
    check(
        derived_header(rows::counter_rows(&r).next().unwrap()),
        rows::COUNTERS_COLUMNS,
    );
    check(
        derived_header(rows::fault_rows(&r).next().unwrap()),
        rows::FAULTS_COLUMNS,
    );
    check(
        derived_header(rows::latency_rows(&r).next().unwrap()),
        rows::LATENCY_COLUMNS,
    );
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).expect("open csv");
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let records = r
        .records()
        .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, records)
}

fn cell<'a>(header: &[String], row: &'a [String], col: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("no {col}"));
    &row[i]
}

#[test]
fn run_directory_round_trip() {
    let dir = scratch("round-trip").join("run");
    let r = hand_made_result(identity("v", 7, &[("loss", 0.1)]));
    let m = RunDir::write(&dir, &r, &WriteOptions::default()).expect("write");
    assert_eq!(m.files.len(), TABLES.len());
    assert!(RunDir::is_complete(&dir));
    for (file, cols) in constants() {
        let (header, records) = read_csv(&dir.join(file));
        if file == "nodes.csv" {
            assert_eq!(&header[..cols.len()], cols);
            assert_eq!(
                &header[cols.len()..],
                [
                    "bytes_sent_relay",
                    "bytes_sent_store_v3",
                    "bytes_received_relay",
                    "bytes_received_store_v3"
                ]
            );
        } else {
            assert_eq!(header, cols, "{file}");
        }
        assert!(
            records.iter().all(|rec| rec.len() == header.len()),
            "{file}"
        );
    }
    let (h, runs) = read_csv(&dir.join("runs.csv"));
    assert_eq!(runs.len(), 1);
    let row = &runs[0];
    let expect = [
        ("seed", "7"),
        ("sweep_x_name", "loss"),
        ("sweep_x", "0.1"),
        ("sweep_y", ""),
        ("delivery_ratio", "0.666667"),
        ("delivery_ratio_1s", "0.444444"),
        ("latency_ms_max", "11000"),
        ("late_after_ms", "10000"),
        ("messages_false_sent", "1"),
        ("time_to_detect_failure_ms_mean", "60000"),
        ("bytes_received_per_node_mean", "16.250000"),
        ("run_end_s", "100"),
        ("heal_at_s", "31.5"),
        ("convergence_time_s", "1.5"),
        ("converged", "false"),
    ];
    for (col, want) in expect {
        assert_eq!(cell(&h, row, col), want, "{col}");
    }
    let (h, d) = read_csv(&dir.join("deliveries.csv"));
    assert_eq!(d.len(), 9);
    assert_eq!(cell(&h, &d[0], "received_at_ms"), "1500");
    assert_eq!(cell(&h, &d[0], "path"), "relay");
    assert_eq!(
        cell(&h, &d[2], "latency_ms"),
        "",
        "never received: empty cell"
    );
    assert_eq!(cell(&h, &d[2], "delivered"), "false");
    let (h, n) = read_csv(&dir.join("nodes.csv"));
    assert_eq!(cell(&h, &n[3], "label"), "light, \"quoted\"");
    assert_eq!(cell(&h, &n[0], "downtime_s"), "16");
    let manifest = RunDir::read_manifest(&dir).expect("manifest");
    assert_eq!(manifest.identity, r.identity);
    assert_eq!(manifest.classes, ["relay", "Store v3"]);
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_file() {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            out.insert(name, fs::read(&p).expect("read"));
        }
    }
    out
}

#[test]
fn identical_input_gives_identical_bytes() {
    let base = scratch("identical");
    let a = base.join("a");
    let b = base.join("b");
    let opts = WriteOptions {
        command: "wakusim run x".into(),
        deliveries: true,
    };
    RunDir::write(&a, &hand_made_result(identity("v", 1, &[])), &opts).unwrap();
    RunDir::write(&b, &hand_made_result(identity("v", 1, &[])), &opts).unwrap();
    let (fa, fb) = (files_of(&a), files_of(&b));
    assert_eq!(fa.len(), TABLES.len() + 1);
    assert_eq!(fa, fb);
    assert!(fa.keys().all(|k| !k.ends_with(".tmp")));
}

#[test]
fn atomic_write_leaves_no_partial_file() {
    let dir = scratch("atomic");
    let path = dir.join("out.csv");
    let failing = write_atomic(&path, |w| {
        use std::io::Write;
        w.write_all(b"a,b\n1,").map_err(|e| ReportError::Io {
            path: path.clone(),
            source: e,
        })?;
        Err(ReportError::Invalid {
            path: path.clone(),
            message: "injected failure".into(),
        })
    });
    assert!(failing.is_err());
    assert!(!path.exists(), "no partial file");
    assert!(!temp_path(&path).exists(), "temporary file removed");
    // A previous version survives a failed rewrite.
    fs::write(&path, b"old\n").unwrap();
    let again = write_atomic(&path, |_| {
        Err(ReportError::Invalid {
            path: path.clone(),
            message: "injected".into(),
        })
    });
    assert!(again.is_err());
    assert_eq!(fs::read(&path).unwrap(), b"old\n");
    // A directory path that is a file is a caller error, not a panic.
    let not_dir = dir.join("file");
    fs::write(&not_dir, b"x").unwrap();
    let r = hand_made_result(identity("v", 1, &[]));
    let err = RunDir::write(&not_dir, &r, &WriteOptions::default()).unwrap_err();
    assert!(matches!(err, ReportError::NotADirectory { .. }), "{err}");
    // An unwritable target (its parent is a file) fails cleanly.
    let bad = not_dir.join("runs.csv");
    assert!(write_runs_csv(&bad, &[&r]).is_err());
}

#[test]
fn run_dir_is_complete_only_with_its_marker() {
    let base = scratch("complete");
    let dir = base.join("run");
    assert!(!RunDir::is_complete(&dir), "missing directory");
    let r = hand_made_result(identity("v", 1, &[]));
    RunDir::write(
        &dir,
        &r,
        &WriteOptions {
            command: String::new(),
            deliveries: false,
        },
    )
    .unwrap();
    assert!(RunDir::is_complete(&dir));
    assert!(!dir.join("deliveries.csv").exists());
    fs::remove_file(dir.join("manifest.json")).unwrap();
    assert!(!RunDir::is_complete(&dir), "files without the marker");
    RunDir::write(&dir, &r, &WriteOptions::default()).unwrap();
    assert!(RunDir::is_complete(&dir));
    fs::remove_file(dir.join("statuses.csv")).unwrap();
    assert!(!RunDir::is_complete(&dir), "a listed file is missing");
    fs::write(dir.join("manifest.json"), b"{ not json").unwrap();
    assert!(!RunDir::is_complete(&dir), "unreadable marker");
}

fn write_runs(results: &Path, which: &[(&str, u64)]) -> Vec<reports::RunResult> {
    which
        .iter()
        .map(|(v, seed)| {
            let r = hand_made_result(identity(v, *seed, &[]));
            RunDir::write(
                &RunDir::path(results, &r.identity),
                &r,
                &WriteOptions::default(),
            )
            .unwrap();
            r
        })
        .collect()
}

#[test]
fn merged_shards_equal_an_unsharded_sweep() {
    let base = scratch("merge");
    let all = [("alpha", 2), ("beta", 1), ("alpha", 1), ("beta", 2)];
    let full = base.join("full");
    let results = write_runs(&full, &all);
    // An interrupted run directory (no marker) is not merged.
    fs::create_dir_all(full.join("runs/partial")).unwrap();
    fs::write(full.join("runs/partial/runs.csv"), b"scenario\n").unwrap();
    let m = merge_results_dir(&full, "wakusim sweep").unwrap();
    assert_eq!(m.runs, 4);
    assert_eq!(m.seeds, [1, 2]);
    assert_eq!(m.variants, ["alpha", "beta"]);

    let shard1 = base.join("shard1");
    let shard2 = base.join("shard2");
    write_runs(&shard1, &all[..2]);
    write_runs(&shard2, &all[2..]);
    let mut dirs: Vec<PathBuf> = complete_run_dirs(&shard2).unwrap();
    dirs.extend(complete_run_dirs(&shard1).unwrap());
    dirs.extend(complete_run_dirs(&shard1).unwrap()); // the same run twice: taken once
    let merged = base.join("merged");
    let m2 = merge_runs(&dirs, &merged, "wakusim sweep").unwrap();
    assert_eq!(m2.duplicate_runs_skipped, 2);
    assert_eq!(m2.runs, 4);

    let full_files: BTreeMap<_, _> = files_of(&full);
    let mut merged_files = files_of(&merged);
    let (fm, mm) = (
        full_files["manifest.json"].clone(),
        merged_files.remove("manifest.json").unwrap(),
    );
    assert_ne!(fm, mm, "duplicate count differs");
    for table in TABLES {
        assert_eq!(full_files[*table], merged_files[*table], "{table}");
    }
    // Rows are in run-key order.
    let (h, runs) = read_csv(&full.join("runs.csv"));
    let keys: Vec<(String, String)> = runs
        .iter()
        .map(|r| {
            (
                cell(&h, r, "variant").to_string(),
                cell(&h, r, "seed").to_string(),
            )
        })
        .collect();
    let want = [("alpha", "1"), ("alpha", "2"), ("beta", "1"), ("beta", "2")];
    assert_eq!(keys, want.map(|(a, b)| (a.to_string(), b.to_string())));
    // Writing all rows at once gives the same runs.csv.
    let once = base.join("once.csv");
    let refs: Vec<&reports::RunResult> = results.iter().collect();
    write_runs_csv(&once, &refs).unwrap();
    assert_eq!(fs::read(&once).unwrap(), full_files["runs.csv"]);
    // Merging an incomplete directory is a caller error.
    let err = merge_runs(&[full.join("runs/partial")], &base.join("x"), "").unwrap_err();
    assert!(matches!(err, ReportError::Missing { .. }), "{err}");
    assert_eq!(csv_out::MANIFEST_JSON, "manifest.json");
}
