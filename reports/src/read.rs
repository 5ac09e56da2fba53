//! Reading result files back: `runs.csv` as typed [`RunRecord`]s (for `compare` and the
//! HTML report), and streaming readers for the columns the plots need from
//! `timeseries.csv`, `faults.csv` and `latency.csv`.
//!
//! Columns a record does not name are ignored and columns a file lacks read as missing, so
//! files with extra columns (a newer format) still load, and so do files written before a
//! column existed (layout version 1 lacks the confirmation, miss, SDS overhead and target
//! columns: they read as `None`).

use std::path::Path;

use serde::Deserialize;

use crate::csv_out::csv_reader;
use crate::error::ReportError;

/// The run key of a row: (scenario, variant, sweep point, seed).
pub type RunKey = (String, String, String, u64);

/// The columns of a `runs.csv` row that comparisons and reports use.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct RunRecord {
    pub scenario: String,
    pub variant: String,
    pub sweep_point: String,
    pub sweep_x_name: String,
    pub sweep_x: Option<f64>,
    pub sweep_y_name: String,
    pub sweep_y: Option<f64>,
    pub seed: u64,
    pub nodes: Option<u32>,
    pub messages_created: Option<u64>,
    pub deliveries_intended: Option<u64>,
    pub deliveries_delivered: Option<u64>,
    pub delivery_ratio: Option<f64>,
    pub delivery_ratio_1s: Option<f64>,
    pub delivery_ratio_10s: Option<f64>,
    pub delivery_ratio_60s: Option<f64>,
    pub latency_ms_p50: Option<f64>,
    pub latency_ms_p90: Option<f64>,
    pub latency_ms_p99: Option<f64>,
    pub latency_ms_max: Option<f64>,
    pub duplicates: Option<u64>,
    pub messages_false_sent: Option<u64>,
    pub messages_undetected_loss: Option<u64>,
    pub bytes_sent_per_node_mean: Option<f64>,
    pub bytes_received_per_node_mean: Option<f64>,
    pub convergence_time_s: Option<f64>,
    pub overhead_bytes: Option<u64>,
    pub miss_detected: Option<u64>,
    pub confirm_share: Option<f64>,
    pub confirmations: Option<u64>,
    pub confirmations_false: Option<u64>,
    pub confirmed_any_ratio: Option<f64>,
    pub confirm_first_ms_p50: Option<f64>,
    pub confirm_first_ms_p99: Option<f64>,
    pub confirmed_pct_ratio: Option<f64>,
    pub confirm_pct_ms_p50: Option<f64>,
    pub confirm_pct_ms_p99: Option<f64>,
    pub misses_detected: Option<u64>,
    pub misses_repaired: Option<u64>,
    pub miss_detect_ms_p50: Option<f64>,
    pub miss_detect_ms_p99: Option<f64>,
    pub miss_repair_ms_p50: Option<f64>,
    pub miss_repair_ms_p99: Option<f64>,
    pub overhead_bytes_per_message: Option<f64>,
    pub sds_overhead_bytes_per_message: Option<f64>,
    pub sds_bloom_bytes_per_message: Option<f64>,
    pub sds_history_bytes_per_message: Option<f64>,
    pub sds_repair_bytes_per_message: Option<f64>,
    pub sds_sync_bytes_per_message: Option<f64>,
    pub sds_sync_messages_per_message: Option<f64>,
    pub target_interval_ms: Option<f64>,
    pub target_sender_learns_messages: Option<u64>,
    pub target_sender_learns_share: Option<f64>,
    pub target_sender_learns_holds: Option<bool>,
    pub target_miss_detect_misses: Option<u64>,
    pub target_miss_detect_share: Option<f64>,
    pub target_miss_detect_holds: Option<bool>,
    pub target_consistency_pairs: Option<u64>,
    pub target_consistency_share: Option<f64>,
    pub target_consistency_holds: Option<bool>,
}

impl RunRecord {
    /// The row's run key.
    pub fn key(&self) -> RunKey {
        (
            self.scenario.clone(),
            self.variant.clone(),
            self.sweep_point.clone(),
            self.seed,
        )
    }
}

/// Reads every row of a `runs.csv`.
pub fn read_runs_csv(path: &Path) -> Result<Vec<RunRecord>, ReportError> {
    let mut reader = csv_reader(path)?;
    reader
        .deserialize()
        .map(|r| r.map_err(|e| ReportError::csv(path, e)))
        .collect()
}

/// The `timeseries.csv` columns the delivery-over-time plot uses.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct TimeseriesRecord {
    pub scenario: String,
    pub variant: String,
    pub sweep_point: String,
    pub seed: u64,
    pub t_start_s: f64,
    pub t_end_s: f64,
    pub delivery_ratio: Option<f64>,
    pub delivery_ratio_by_deadline: Option<f64>,
}

/// The `faults.csv` columns the plots use.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct FaultRecord {
    pub scenario: String,
    pub variant: String,
    pub sweep_point: String,
    pub seed: u64,
    pub start_s: f64,
    pub end_s: f64,
}

/// The `latency.csv` columns.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct LatencyRecord {
    pub scenario: String,
    pub variant: String,
    pub sweep_point: String,
    pub seed: u64,
    pub latency_ms: f64,
    pub count: u64,
}

/// Calls `visit` for each row of a CSV file, in file order, without holding the file in
/// memory. A missing file is not an error (nothing is visited).
pub fn for_each_row<T, F>(path: &Path, mut visit: F) -> Result<(), ReportError>
where
    T: for<'de> Deserialize<'de>,
    F: FnMut(T),
{
    if !path.is_file() {
        return Ok(());
    }
    let mut reader = csv_reader(path)?;
    for row in reader.deserialize() {
        visit(row.map_err(|e| ReportError::csv(path, e))?);
    }
    Ok(())
}
