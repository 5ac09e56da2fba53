//! CSV output: the files of one run directory, the completion marker that makes sweeps
//! resumable, and merging run directories (from one sweep or many shards) into one result set.
//!
//! Layout of a results directory:
//!
//! ```text
//! <results>/runs/<run-dir>/{runs,deliveries,statuses,streams,timeseries,nodes,traffic,
//!                           counters,faults,latency}.csv + manifest.json
//! <results>/{runs,deliveries,...}.csv + manifest.json      (merged by merge_runs)
//! ```
//!
//! Every file is written atomically (see [`crate::atomic`]). A run directory is complete when
//! its `manifest.json` exists and every file it lists exists: the manifest is written last,
//! and an existing one is removed before a run directory is rewritten, so an interrupted
//! write is never mistaken for a finished run.
//!
//! Merging sorts runs by (scenario, variant, sweep point, seed) and concatenates each table
//! in that order, byte for byte, so merged shards equal an unsharded sweep. A run present in
//! several inputs is taken once (runs are deterministic).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::{ensure_dir, write_atomic, write_bytes_atomic};
use crate::error::ReportError;
use crate::oracle::RunIdentity;
use crate::result::RunResult;
use crate::rows::{self, COLUMNS_VERSION};

/// `runs.csv`: one row per run.
pub const RUNS_CSV: &str = "runs.csv";
/// `deliveries.csv`: one row per message × intended recipient.
pub const DELIVERIES_CSV: &str = "deliveries.csv";
/// `statuses.csv`: one row per message (belief vs truth).
pub const STATUSES_CSV: &str = "statuses.csv";
/// `streams.csv`: lite-protocol-tester counters per (sender, receiver).
pub const STREAMS_CSV: &str = "streams.csv";
/// `timeseries.csv`: one row per time bucket.
pub const TIMESERIES_CSV: &str = "timeseries.csv";
/// `nodes.csv`: one row per node.
pub const NODES_CSV: &str = "nodes.csv";
/// `traffic.csv`: one row per traffic class.
pub const TRAFFIC_CSV: &str = "traffic.csv";
/// `counters.csv`: one row per named counter or duration.
pub const COUNTERS_CSV: &str = "counters.csv";
/// `faults.csv`: one row per fault period.
pub const FAULTS_CSV: &str = "faults.csv";
/// `latency.csv`: the latency histogram's buckets.
pub const LATENCY_CSV: &str = "latency.csv";
/// The manifest, written last: the completion marker of a run or results directory.
pub const MANIFEST_JSON: &str = "manifest.json";
/// Subdirectory of a results directory that holds one directory per run.
pub const RUNS_SUBDIR: &str = "runs";

/// Every per-run table, in write and merge order.
pub const TABLES: &[&str] = &[
    RUNS_CSV,
    DELIVERIES_CSV,
    STATUSES_CSV,
    STREAMS_CSV,
    TIMESERIES_CSV,
    NODES_CSV,
    TRAFFIC_CSV,
    COUNTERS_CSV,
    FAULTS_CSV,
    LATENCY_CSV,
];

/// Options for writing a run directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// The command line that produced the run (recorded in the manifest).
    pub command: String,
    /// Whether to write `deliveries.csv` (it has one row per message × recipient and can be
    /// large; `latency.csv` and `statuses.csv` carry the aggregates without it).
    pub deliveries: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            command: String::new(),
            deliveries: true,
        }
    }
}

/// `manifest.json` of one run directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// [`COLUMNS_VERSION`] of the files.
    pub format_version: u32,
    /// The run's identity.
    pub identity: RunIdentity,
    /// The command that produced it.
    pub command: String,
    /// Run end, in nanoseconds.
    pub run_end_ns: u64,
    /// Heal start, in nanoseconds.
    pub heal_at_ns: Option<u64>,
    /// Lateness threshold, in nanoseconds.
    pub late_after_ns: u64,
    /// Time-series bucket width, in nanoseconds.
    pub bucket_ns: u64,
    /// Traffic class names (order of the `nodes.csv` byte columns).
    pub classes: Vec<String>,
    /// The files of the run directory (all present when the manifest exists).
    pub files: Vec<String>,
}

/// A scenario name with the hash it ran with.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScenarioEntry {
    /// Scenario name.
    pub name: String,
    /// Scenario hash.
    pub hash: String,
}

/// `manifest.json` of a merged results directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsManifest {
    /// [`COLUMNS_VERSION`] of the files.
    pub format_version: u32,
    /// The command that merged (or ran) the set.
    pub command: String,
    /// Distinct code versions of the runs.
    pub code_versions: Vec<String>,
    /// Distinct (scenario, hash) pairs.
    pub scenarios: Vec<ScenarioEntry>,
    /// Distinct variants.
    pub variants: Vec<String>,
    /// Distinct sweep point labels.
    pub sweep_points: Vec<String>,
    /// Distinct seeds.
    pub seeds: Vec<u64>,
    /// Runs merged.
    pub runs: usize,
    /// Inputs skipped because the same run was already merged.
    pub duplicate_runs_skipped: usize,
    /// Merged files written.
    pub files: Vec<String>,
}

/// Writes `rows` under the header `columns` to `path`, atomically. Returns the row count.
pub fn write_table<T, I>(path: &Path, columns: &[&str], rows: I) -> Result<usize, ReportError>
where
    T: Serialize,
    I: IntoIterator<Item = T>,
{
    let mut count = 0;
    write_atomic(path, |w| {
        let mut out = csv_writer(w);
        out.write_record(columns)
            .map_err(|e| ReportError::csv(path, e))?;
        for row in rows {
            out.serialize(row).map_err(|e| ReportError::csv(path, e))?;
            count += 1;
        }
        out.flush().map_err(|e| ReportError::io(path, e))
    })?;
    Ok(count)
}

/// Writes string records (already matching `header`) to `path`, atomically.
fn write_records<I>(path: &Path, header: &[String], records: I) -> Result<(), ReportError>
where
    I: IntoIterator<Item = Vec<String>>,
{
    write_atomic(path, |w| {
        let mut out = csv_writer(w);
        out.write_record(header)
            .map_err(|e| ReportError::csv(path, e))?;
        for r in records {
            out.write_record(&r)
                .map_err(|e| ReportError::csv(path, e))?;
        }
        out.flush().map_err(|e| ReportError::io(path, e))
    })
}

fn csv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w)
}

/// Writes `runs.csv` for several runs, sorted by (scenario, variant, sweep point, seed):
/// the same bytes [`merge_runs`] produces for those runs.
pub fn write_runs_csv(path: &Path, results: &[&RunResult]) -> Result<usize, ReportError> {
    let mut sorted: Vec<&RunResult> = results.to_vec();
    sorted.sort_by(|a, b| a.identity.key().cmp(&b.identity.key()));
    write_table(
        path,
        rows::RUNS_COLUMNS,
        sorted.iter().map(|r| rows::run_row(r)),
    )
}

/// A run directory: where a run's files live and whether they are complete.
pub struct RunDir;

impl RunDir {
    /// The directory name of a run: readable parts plus a hash of the full identity key, so
    /// distinct runs never share a directory. At most about 150 bytes.
    pub fn dir_name(id: &RunIdentity) -> String {
        let part = |s: &str| -> String {
            let clean: String = s
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .take(40)
                .collect();
            if clean.is_empty() {
                "_".to_string()
            } else {
                clean
            }
        };
        let mut h = Fnv::new();
        for s in [&id.scenario, &id.variant, &id.sweep_point] {
            h.write(s.as_bytes());
            h.write(&[0]);
        }
        h.write(&id.seed.to_le_bytes());
        format!(
            "{}__{}__{}__s{}__{:016x}",
            part(&id.scenario),
            part(&id.variant),
            part(&id.sweep_point),
            id.seed,
            h.0
        )
    }

    /// `<results>/runs/<dir_name>`.
    pub fn path(results_dir: &Path, id: &RunIdentity) -> PathBuf {
        results_dir.join(RUNS_SUBDIR).join(Self::dir_name(id))
    }

    /// Writes every file of `result` into `dir` (created if needed), the manifest last.
    pub fn write(
        dir: &Path,
        result: &RunResult,
        options: &WriteOptions,
    ) -> Result<RunManifest, ReportError> {
        ensure_dir(dir)?;
        let marker = dir.join(MANIFEST_JSON);
        match fs::remove_file(&marker) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ReportError::io(&marker, e)),
        }
        let mut files = Vec::new();
        let mut table = |name: &str, f: &mut dyn FnMut(&Path) -> Result<(), ReportError>| {
            f(&dir.join(name))?;
            files.push(name.to_string());
            Ok::<(), ReportError>(())
        };
        let r = result;
        table(RUNS_CSV, &mut |p| {
            write_table(p, rows::RUNS_COLUMNS, [rows::run_row(r)]).map(drop)
        })?;
        if options.deliveries {
            table(DELIVERIES_CSV, &mut |p| {
                write_table(p, rows::DELIVERIES_COLUMNS, rows::delivery_rows(r)).map(drop)
            })?;
        }
        table(STATUSES_CSV, &mut |p| {
            write_table(p, rows::STATUSES_COLUMNS, rows::status_rows(r)).map(drop)
        })?;
        table(STREAMS_CSV, &mut |p| {
            write_table(p, rows::STREAMS_COLUMNS, rows::stream_rows(r)).map(drop)
        })?;
        table(TIMESERIES_CSV, &mut |p| {
            write_table(p, rows::TIMESERIES_COLUMNS, rows::timeseries_rows(r)).map(drop)
        })?;
        table(NODES_CSV, &mut |p| {
            write_records(p, &rows::nodes_header(r), rows::node_records(r))
        })?;
        table(TRAFFIC_CSV, &mut |p| {
            write_table(p, rows::TRAFFIC_COLUMNS, rows::traffic_rows(r)).map(drop)
        })?;
        table(COUNTERS_CSV, &mut |p| {
            write_table(p, rows::COUNTERS_COLUMNS, rows::counter_rows(r)).map(drop)
        })?;
        table(FAULTS_CSV, &mut |p| {
            write_table(p, rows::FAULTS_COLUMNS, rows::fault_rows(r)).map(drop)
        })?;
        table(LATENCY_CSV, &mut |p| {
            write_table(p, rows::LATENCY_COLUMNS, rows::latency_rows(r)).map(drop)
        })?;
        let manifest = RunManifest {
            format_version: COLUMNS_VERSION,
            identity: r.identity.clone(),
            command: options.command.clone(),
            run_end_ns: r.settings.end.as_nanos(),
            heal_at_ns: r.settings.heal_at.map(|t| t.as_nanos()),
            late_after_ns: r.settings.late_after.as_nanos(),
            bucket_ns: r.settings.bucket.as_nanos(),
            classes: r.settings.classes.clone(),
            files,
        };
        write_json(&marker, &manifest)?;
        Ok(manifest)
    }

    /// Whether `dir` holds a finished run: its manifest exists, parses, and every file it
    /// lists exists. Never fails: anything unreadable counts as incomplete.
    pub fn is_complete(dir: &Path) -> bool {
        match Self::read_manifest(dir) {
            Ok(m) => m
                .files
                .iter()
                .all(|f| plain_name(f) && dir.join(f).is_file()),
            Err(_) => false,
        }
    }

    /// Reads a run directory's manifest.
    pub fn read_manifest(dir: &Path) -> Result<RunManifest, ReportError> {
        let path = dir.join(MANIFEST_JSON);
        let bytes = fs::read(&path).map_err(|e| ReportError::io(&path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| ReportError::json(&path, e))
    }
}

/// Whether `name` is a plain file name (no directory part), as this crate writes them.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\'])
}

/// Pretty JSON with a trailing newline, written atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ReportError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| ReportError::json(path, e))?;
    bytes.push(b'\n');
    write_bytes_atomic(path, &bytes)
}

/// The complete run directories under `<results>/runs`, sorted by path; empty when the
/// subdirectory does not exist. Incomplete ones (interrupted runs) are left out: a resumed
/// sweep redoes exactly those.
pub fn complete_run_dirs(results_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let runs = results_dir.join(RUNS_SUBDIR);
    if !runs.exists() {
        return Ok(Vec::new());
    }
    if !runs.is_dir() {
        return Err(ReportError::NotADirectory { path: runs });
    }
    let mut dirs = Vec::new();
    for entry in fs::read_dir(&runs).map_err(|e| ReportError::io(&runs, e))? {
        let path = entry.map_err(|e| ReportError::io(&runs, e))?.path();
        if path.is_dir() && RunDir::is_complete(&path) {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Merges complete run directories into `out_dir`: every table concatenated in run-key
/// order (columns are the union of the inputs' columns in order of first appearance, empty
/// where a run lacks one), then `manifest.json` last. Fails on an incomplete run directory
/// or runs written with a different column version.
pub fn merge_runs(
    run_dirs: &[PathBuf],
    out_dir: &Path,
    command: &str,
) -> Result<ResultsManifest, ReportError> {
    let mut runs: Vec<(RunManifest, &PathBuf)> = Vec::with_capacity(run_dirs.len());
    for dir in run_dirs {
        if !RunDir::is_complete(dir) {
            return Err(ReportError::Missing {
                path: dir.clone(),
                what: "a complete run (manifest.json and the files it lists)".into(),
            });
        }
        let m = RunDir::read_manifest(dir)?;
        if m.format_version != COLUMNS_VERSION {
            return Err(ReportError::invalid(
                &dir.join(MANIFEST_JSON),
                format!(
                    "column format version {} (this build writes {COLUMNS_VERSION})",
                    m.format_version
                ),
            ));
        }
        runs.push((m, dir));
    }
    runs.sort_by(|a, b| (a.0.identity.key(), a.1).cmp(&(b.0.identity.key(), b.1)));
    let before = runs.len();
    runs.dedup_by(|b, a| a.0.identity.key() == b.0.identity.key());
    let duplicates = before - runs.len();

    ensure_dir(out_dir)?;
    let marker = out_dir.join(MANIFEST_JSON);
    if marker.exists() {
        fs::remove_file(&marker).map_err(|e| ReportError::io(&marker, e))?;
    }
    let mut files = Vec::new();
    for table in TABLES {
        let inputs: Vec<PathBuf> = runs
            .iter()
            .filter(|(m, _)| m.files.iter().any(|f| f == table))
            .map(|(_, dir)| dir.join(table))
            .collect();
        if inputs.is_empty() {
            continue;
        }
        concat_tables(&inputs, &out_dir.join(table))?;
        files.push(table.to_string());
    }
    let set = |f: &dyn Fn(&RunManifest) -> String| -> Vec<String> {
        let s: BTreeSet<String> = runs.iter().map(|(m, _)| f(m)).collect();
        s.into_iter().collect()
    };
    let scenarios: BTreeSet<ScenarioEntry> = runs
        .iter()
        .map(|(m, _)| ScenarioEntry {
            name: m.identity.scenario.clone(),
            hash: m.identity.scenario_hash.clone(),
        })
        .collect();
    let seeds: BTreeSet<u64> = runs.iter().map(|(m, _)| m.identity.seed).collect();
    let manifest = ResultsManifest {
        format_version: COLUMNS_VERSION,
        command: command.to_string(),
        code_versions: set(&|m| m.identity.code_version.clone()),
        scenarios: scenarios.into_iter().collect(),
        variants: set(&|m| m.identity.variant.clone()),
        sweep_points: set(&|m| m.identity.sweep_point.clone()),
        seeds: seeds.into_iter().collect(),
        runs: runs.len(),
        duplicate_runs_skipped: duplicates,
        files,
    };
    write_json(&marker, &manifest)?;
    Ok(manifest)
}

/// Merges the complete runs under `<results>/runs` into `<results>` itself.
pub fn merge_results_dir(
    results_dir: &Path,
    command: &str,
) -> Result<ResultsManifest, ReportError> {
    let dirs = complete_run_dirs(results_dir)?;
    merge_runs(&dirs, results_dir, command)
}

/// Concatenates CSV files with possibly different columns into `out`, streaming.
fn concat_tables(inputs: &[PathBuf], out: &Path) -> Result<(), ReportError> {
    let mut header: Vec<String> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut maps: Vec<Vec<usize>> = Vec::with_capacity(inputs.len());
    for path in inputs {
        let mut reader = csv_reader(path)?;
        let cols = reader.headers().map_err(|e| ReportError::csv(path, e))?;
        let map = cols
            .iter()
            .map(|c| {
                *index.entry(c.to_string()).or_insert_with(|| {
                    header.push(c.to_string());
                    header.len() - 1
                })
            })
            .collect();
        maps.push(map);
    }
    write_atomic(out, |w| {
        let mut writer = csv_writer(w);
        writer
            .write_record(&header)
            .map_err(|e| ReportError::csv(out, e))?;
        let mut cells: Vec<String> = vec![String::new(); header.len()];
        for (path, map) in inputs.iter().zip(&maps) {
            let mut reader = csv_reader(path)?;
            let mut record = csv::StringRecord::new();
            while reader
                .read_record(&mut record)
                .map_err(|e| ReportError::csv(path, e))?
            {
                cells.iter_mut().for_each(String::clear);
                for (value, &to) in record.iter().zip(map) {
                    cells[to].push_str(value);
                }
                writer
                    .write_record(&cells)
                    .map_err(|e| ReportError::csv(out, e))?;
            }
        }
        writer.flush().map_err(|e| ReportError::io(out, e))
    })
}

/// A CSV reader with headers that accepts rows of any length (missing cells read as absent).
pub(crate) fn csv_reader(path: &Path) -> Result<csv::Reader<fs::File>, ReportError> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| ReportError::csv(path, e))
}

/// FNV-1a, 64 bits: a stable hash for directory names (not for security).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
