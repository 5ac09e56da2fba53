//! reports: what a run really did, written down (DESIGN §8).
//!
//! - [`oracle`]: the ground-truth [`Oracle`] recorder of application observations and the
//!   [`RunContext`] a run hands it at the end;
//! - [`result`]: the [`RunResult`] (deliveries, believed statuses vs truth, lite-tester
//!   streams, time series, nodes, traffic, counters, fault periods, latency histogram) and
//!   the precise definitions of every metric;
//! - `timeline`: node states over time from the network's state log (fault periods);
//! - [`csv_out`]: fixed-column CSV files, the run directory with its completion marker,
//!   atomic writes, and merging of run directories (shards) into one result set;
//! - [`plots`]: deterministic SVG charts (plotters, SVG backend only);
//! - [`html`]: `index.html` with the summary table and the plots of a result directory;
//! - [`mod@compare`]: the regression gate between two `runs.csv` files;
//! - [`rows`]: the row structs and column lists of every CSV file;
//! - [`targets`]: the SDS roadmap targets (sender learns within S, misses detected within
//!   3·S, consistency within 6·S) per run, and per-variant tables of the SDS metrics;
//! - [`read`]: typed reading of `runs.csv` and the tables the report plots;
//! - [`mod@format`], [`atomic`], [`error`]: number formatting, atomic file output, errors.
//!
//! Every file is documented column by column in `docs/outputs.md`. Nothing here reads a
//! clock or iterates an unordered collection: the same inputs give byte-identical files.

pub mod atomic;
pub mod compare;
mod compute;
pub mod csv_out;
pub mod error;
pub mod format;
pub mod html;
pub mod oracle;
pub mod plots;
pub mod read;
pub mod result;
pub mod rows;
pub mod targets;
mod timeline;

pub use compare::{Comparison, Granularity, Tolerances, compare, compare_rows};
pub use csv_out::{
    ResultsManifest, RunDir, RunManifest, WriteOptions, complete_run_dirs, merge_results_dir,
    merge_runs,
};
pub use error::ReportError;
pub use html::write_report;
pub use oracle::{NodeInfo, Oracle, RunContext, RunIdentity, SweepAxis};
pub use result::RunResult;
pub use targets::{Target, TargetOutcome, Targets};
pub use timeline::FaultPeriod;
