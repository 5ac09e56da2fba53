//! End-to-end tests of the `wakusim` binary: validation errors and exit codes, byte-identical
//! outputs for the same seed, for any `--jobs` and for merged shards, resuming an interrupted
//! sweep, `compare` and `report`. Scenarios are tiny (six relay nodes, two simulated minutes)
//! because tests run the debug build.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Six relay nodes, two seeds, a two-point sweep: four runs.
const TINY: &str = r#"name = "tiny"
description = "Six relay nodes chatting under a short partition."
duration = "2m"
seeds = [1, 2]
variants = ["none"]

[network]
link = { latency = { kind = "constant", value = "30ms" }, loss = { kind = "iid", p = 0.01 } }

[topology]
kind = "random_regular"
degree = 2

[[group]]
name = "relays"
count = 6
roles = ["relay"]

[[traffic]]
name = "dms"
kind = "direct"
participants = "relays"
conversations = 3
rate = { kind = "constant", every = "10s" }

[[fault]]
at = "30s"
until = "50s"
kind = "partition"
groups = [["relays[0..3]"]]

[sweep]
"network.link.loss.p" = [0.0, 0.2]
"#;

/// A fresh directory under the system temp dir holding `tiny.toml`; removed when the test
/// passes (kept for inspection when it fails).
struct Workdir(PathBuf);

impl std::ops::Deref for Workdir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

fn workdir(name: &str) -> Workdir {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("wakusim-cli-{name}-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("tiny.toml"), TINY).unwrap();
    Workdir(dir)
}

fn wakusim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wakusim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the wakusim binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts success and returns the output.
fn ok(dir: &Path, args: &[&str]) -> Output {
    let o = wakusim(dir, args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "wakusim {args:?} failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// Asserts exit code `code`, no panic, and returns stderr.
fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let o = wakusim(dir, args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "wakusim {args:?}:\n{err}");
    assert!(
        !err.contains("panicked"),
        "wakusim {args:?} panicked:\n{err}"
    );
    err
}

/// Every file under `dir` (relative path → bytes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The merged CSV files at the top of a results directory.
fn merged_csvs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let out: BTreeMap<String, Vec<u8>> = files(dir)
        .into_iter()
        .filter(|(name, _)| name.ends_with(".csv") && !name.contains(['/', '\\']))
        .collect();
    assert!(out.contains_key("runs.csv"), "{dir:?} has runs.csv");
    assert_eq!(
        out.len(),
        10,
        "ten merged tables in {dir:?}: {:?}",
        out.keys()
    );
    out
}

fn assert_same(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "same files"
    );
    for (name, bytes) in a {
        assert!(b[name] == *bytes, "{name} differs");
    }
}

#[test]
fn check_accepts_a_valid_file_and_locates_errors() {
    let dir = workdir("check");
    let o = ok(&dir, &["check", "tiny.toml", "default"]);
    assert_eq!(stdout(&o), "ok: tiny.toml (4 runs)\nok: default (3 runs)\n");

    let bad = TINY.replace(r#"roles = ["relay"]"#, r#"roles = ["relai"]"#);
    fs::write(dir.join("bad.toml"), &bad).unwrap();
    let line = bad.lines().position(|l| l.contains("relai")).unwrap() + 1;
    let err = fails(&dir, &["check", "tiny.toml", "bad.toml"], 2);
    let first = err.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("bad.toml:{line}:")),
        "located at line {line}: {err}"
    );
    assert!(first.contains("relai") && first.contains("relay"), "{err}");

    fs::write(dir.join("syntax.toml"), "name = \"x\"\nduration = \n").unwrap();
    let err = fails(&dir, &["check", "syntax.toml"], 2);
    assert!(err.starts_with("syntax.toml:2:"), "{err}");

    fs::write(
        dir.join("unknown.toml"),
        TINY.replace("degree = 2", "degre = 2"),
    )
    .unwrap();
    let err = fails(&dir, &["check", "unknown.toml"], 2);
    assert!(err.contains("degre") && err.contains("degree"), "{err}");

    let err = fails(&dir, &["check", "missing.toml"], 2);
    assert!(err.contains("missing.toml"), "{err}");
    // A file with a scenario error is never run either.
    let err = fails(&dir, &["run", "bad.toml", "--out", "never"], 2);
    assert!(err.starts_with(&format!("bad.toml:{line}:")), "{err}");
    assert!(!dir.join("never").exists());
}

#[test]
fn bad_names_overrides_and_seed_lists_exit_2() {
    let dir = workdir("args");
    let err = fails(&dir, &["run", "no-such-scenario"], 2);
    assert!(
        err.contains("no-such-scenario") && err.contains("built-ins: default"),
        "{err}"
    );
    let err = fails(
        &dir,
        &["run", "tiny.toml", "--set", "network.link.loss.q=0.1"],
        2,
    );
    assert!(err.starts_with("--set:1:"), "{err}");
    assert!(err.contains("unknown field \"q\""), "{err}");
    let err = fails(
        &dir,
        &[
            "check",
            "tiny.toml",
            "--set",
            "duration=2m",
            "--set",
            "group.phones.count=3",
        ],
        2,
    );
    assert!(err.starts_with("--set:2:"), "{err}");
    let err = fails(&dir, &["run", "tiny.toml", "--set", "duration"], 2);
    assert!(err.contains("KEY=VALUE"), "{err}");
    let err = fails(&dir, &["run", "tiny.toml", "--set", "duration=-5"], 2);
    assert!(err.starts_with("tiny.toml:"), "{err}");
    for seeds in ["1..x", "3..1", "1,1", ""] {
        let err = fails(&dir, &["run", "tiny.toml", "--seeds", seeds], 2);
        assert!(err.contains("--seeds"), "{seeds}: {err}");
    }
    let err = fails(&dir, &["run", "tiny.toml", "--variant", "bogus"], 2);
    assert!(err.contains("bogus") && err.contains("none"), "{err}");
    let err = fails(&dir, &["sweep", "tiny.toml", "--shard", "2/2"], 2);
    assert!(err.contains("shard"), "{err}");
    fails(&dir, &["compare", "nowhere", "tiny.toml"], 2);
    fails(&dir, &["report", "nowhere"], 2);
    fails(&dir, &["merge", "out", "nowhere"], 2);
    fails(&dir, &["no-such-command"], 2);
    assert!(!dir.join("results").exists(), "nothing ran");
}

#[test]
fn the_same_scenario_and_seed_give_byte_identical_files() {
    let dir = workdir("same-seed");
    let o = ok(&dir, &["run", "tiny.toml", "--seed", "2", "--out", "a"]);
    let table = stdout(&o);
    for row in [
        "delivery ratio",
        "latency p99",
        "false sent",
        "real-time factor",
        "a/index.html",
    ] {
        assert!(table.contains(row), "summary has {row}:\n{table}");
    }
    let log = stderr(&o);
    assert!(
        !log.contains('\x1b'),
        "no progress bar when stderr is not a terminal:\n{log}"
    );
    assert!(
        log.contains(
            "[t=00:02:00.000] run 1/2 network.link.loss.p=0.0/variant=none/seed=2 done: delivery"
        ),
        "{log}"
    );
    ok(&dir, &["run", "tiny.toml", "--seed", "2", "--out", "b"]);
    let (a, b) = (files(&dir.join("a")), files(&dir.join("b")));
    assert!(
        a.keys()
            .any(|k| k.starts_with("runs") && k.ends_with("deliveries.csv"))
    );
    assert!(a.contains_key("index.html"));
    assert_same(&a, &b);
    // The merged files hold the two sweep points of seed 2.
    let runs = String::from_utf8(a["runs.csv"].clone()).unwrap();
    assert_eq!(runs.lines().count(), 3, "{runs}");
}

#[test]
fn jobs_and_shards_give_the_same_merged_outputs() {
    let dir = workdir("jobs");
    ok(&dir, &["sweep", "tiny.toml", "--jobs", "1", "--out", "j1"]);
    ok(&dir, &["sweep", "tiny.toml", "--jobs", "2", "--out", "j2"]);
    let j1 = files(&dir.join("j1"));
    assert_same(&j1, &files(&dir.join("j2")));
    assert_eq!(
        j1.keys().filter(|k| k.ends_with("manifest.json")).count(),
        5
    );

    let s0 = ok(
        &dir,
        &["sweep", "tiny.toml", "--shard", "0/2", "--out", "s0"],
    );
    assert!(
        stderr(&s0).contains("2 of 4 runs, shard 0/2"),
        "{}",
        stderr(&s0)
    );
    ok(
        &dir,
        &[
            "sweep",
            "tiny.toml",
            "--shard",
            "1/2",
            "--jobs",
            "2",
            "--out",
            "s1",
        ],
    );
    let o = ok(&dir, &["merge", "merged", "s0", "s1"]);
    assert!(stdout(&o).contains("merged 4 runs"), "{}", stdout(&o));
    assert!(dir.join("merged/index.html").is_file());
    assert_same(
        &merged_csvs(&dir.join("j1")),
        &merged_csvs(&dir.join("merged")),
    );
    // Merging overlapping inputs takes each run once.
    let o = ok(&dir, &["merge", "again", "j1", "s0", "--no-report"]);
    assert!(
        stdout(&o).contains("2 duplicate runs skipped"),
        "{}",
        stdout(&o)
    );
    assert_same(
        &merged_csvs(&dir.join("j1")),
        &merged_csvs(&dir.join("again")),
    );
}

#[test]
fn an_interrupted_sweep_resumes_without_redoing_finished_runs() {
    let dir = workdir("resume");
    ok(&dir, &["sweep", "tiny.toml", "--jobs", "2", "--out", "r"]);
    let before = merged_csvs(&dir.join("r"));
    let runs_dir = dir.join("r/runs");
    let mut run_dirs: Vec<PathBuf> = fs::read_dir(&runs_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    run_dirs.sort();
    assert_eq!(run_dirs.len(), 4);
    let victim = run_dirs[1].clone();
    let survivors: Vec<(PathBuf, std::time::SystemTime)> = run_dirs
        .iter()
        .filter(|d| **d != victim)
        .map(|d| {
            (
                d.clone(),
                fs::metadata(d.join("runs.csv"))
                    .unwrap()
                    .modified()
                    .unwrap(),
            )
        })
        .collect();
    // An interruption before the manifest was written: also a half-written temp file.
    fs::remove_file(victim.join("manifest.json")).unwrap();
    fs::write(victim.join("statuses.csv.tmp"), "scenario,varia").unwrap();

    let o = ok(&dir, &["sweep", "tiny.toml", "--jobs", "2", "--out", "r"]);
    let log = stderr(&o);
    assert_eq!(log.matches(" done: ").count(), 1, "one run redone:\n{log}");
    assert_eq!(log.matches(" reused").count(), 3, "three reused:\n{log}");
    let name = victim.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        log.contains(" reused")
            && !log.contains(&format!("reused: already complete in r/runs/{name}"))
    );
    assert!(victim.join("manifest.json").is_file());
    for (d, mtime) in survivors {
        assert_eq!(
            fs::metadata(d.join("runs.csv"))
                .unwrap()
                .modified()
                .unwrap(),
            mtime,
            "{d:?} was not rewritten"
        );
    }
    assert_same(&before, &merged_csvs(&dir.join("r")));
    assert!(
        stdout(&o).contains("(1 executed, 3 reused)"),
        "{}",
        stdout(&o)
    );

    // --force redoes everything, with the same bytes.
    let o = ok(
        &dir,
        &["sweep", "tiny.toml", "--jobs", "2", "--out", "r", "--force"],
    );
    assert_eq!(stderr(&o).matches(" done: ").count(), 4);
    assert_same(&before, &merged_csvs(&dir.join("r")));

    // Other scenario content into the same directory is refused.
    let err = fails(
        &dir,
        &["sweep", "tiny.toml", "--out", "r", "--set", "duration=3m"],
        2,
    );
    assert!(err.contains("different content"), "{err}");
}

#[test]
fn compare_passes_on_itself_and_fails_on_a_regression() {
    let dir = workdir("compare");
    ok(
        &dir,
        &["sweep", "tiny.toml", "--out", "base", "--no-report"],
    );
    let o = ok(&dir, &["compare", "base", "base"]);
    assert!(
        stdout(&o).contains("RESULT: no regression"),
        "{}",
        stdout(&o)
    );
    ok(&dir, &["compare", "base/runs.csv", "base", "--per-run"]);

    // Lower every delivery_ratio by 0.2.
    let text = fs::read_to_string(dir.join("base/runs.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let col = header
        .split(',')
        .position(|c| c == "delivery_ratio")
        .unwrap();
    let mut doctored = format!("{header}\n");
    for line in lines {
        assert!(!line.contains('"'), "no quoted cells: {line}");
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        let v: f64 = cells[col].parse().unwrap();
        cells[col] = format!("{:.6}", v - 0.2);
        doctored.push_str(&cells.join(","));
        doctored.push('\n');
    }
    fs::create_dir_all(dir.join("worse")).unwrap();
    fs::write(dir.join("worse/runs.csv"), doctored).unwrap();
    let o = wakusim(&dir, &["compare", "base", "worse"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("REGRESSION"), "{}", stdout(&o));
    let o = wakusim(
        &dir,
        &["compare", "base", "worse", "--delivery-drop", "0.25"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Improvements never fail.
    assert_eq!(
        wakusim(&dir, &["compare", "worse", "base"]).status.code(),
        Some(0)
    );
    fails(
        &dir,
        &["compare", "base", "worse", "--delivery-drop", "-1"],
        2,
    );
    fs::write(dir.join("garbage.csv"), "scenario,seed\nx,notanumber\n").unwrap();
    fails(&dir, &["compare", "base", "garbage.csv"], 2);
}

#[test]
fn report_writes_index_html() {
    let dir = workdir("report");
    ok(
        &dir,
        &[
            "run",
            "tiny.toml",
            "--seed",
            "1",
            "--out",
            "r",
            "--no-report",
        ],
    );
    assert!(!dir.join("r/index.html").exists());
    let o = ok(&dir, &["report", "r"]);
    assert!(stdout(&o).contains("index.html"), "{}", stdout(&o));
    let html = fs::read_to_string(dir.join("r/index.html")).unwrap();
    assert!(html.contains("tiny"));
    // A results directory whose merged files are gone is merged first.
    for name in ["runs.csv", "index.html", "manifest.json"] {
        fs::remove_file(dir.join("r").join(name)).unwrap();
    }
    ok(&dir, &["report", "r"]);
    assert!(dir.join("r/index.html").is_file() && dir.join("r/runs.csv").is_file());
}

#[test]
fn list_and_demo_still_work() {
    let dir = workdir("list");
    let o = ok(&dir, &["list"]);
    let text = stdout(&o);
    assert!(text.starts_with("default "), "{text}");
    assert!(text.contains("relay-calibration"), "{text}");
    let o = ok(
        &dir,
        &[
            "demo",
            "--nodes",
            "10",
            "--degree",
            "2",
            "--duration",
            "10s",
        ],
    );
    assert!(stdout(&o).contains("intended deliveries"), "{}", stdout(&o));
    fails(&dir, &["demo", "--nodes", "5", "--degree", "3"], 2);
}
