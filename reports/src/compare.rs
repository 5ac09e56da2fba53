//! The regression gate: compares two `runs.csv` files (BASE and NEW) metric by metric.
//!
//! Rows are matched by (scenario, variant, sweep point, seed) with [`Granularity::PerRun`],
//! or averaged over seeds per (scenario, variant, sweep point) with
//! [`Granularity::PerVariant`] (use it when the two sides ran different seeds). A matched
//! row regresses when, beyond its tolerance:
//! - `delivery_ratio` dropped by more than [`Tolerances::delivery_ratio_drop`] (absolute);
//! - `latency_ms_p99` rose above `base × (1 + latency_p99_increase) + latency_ms_slack`;
//! - `bytes_sent_per_node_mean` rose above `base × (1 + bytes_increase)`.
//!
//! A metric missing on either side is not compared. Rows present in BASE but not in NEW are
//! listed and count as a regression unless [`Tolerances::missing_is_regression`] is off; rows
//! only in NEW are listed and never fail. The comparison prints as a plain-text table.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::error::ReportError;
use crate::read::{RunRecord, read_runs_csv};

/// Slack for float noise from CSV round trips.
const EPSILON: f64 = 1e-9;

/// How far a metric may move before it counts as a regression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    /// Largest allowed absolute drop of `delivery_ratio` (default 0.01).
    pub delivery_ratio_drop: f64,
    /// Largest allowed relative rise of `latency_ms_p99` (default 0.10 = 10 %).
    pub latency_p99_increase: f64,
    /// Extra absolute allowance for `latency_ms_p99`, in milliseconds (default 0).
    pub latency_ms_slack: f64,
    /// Largest allowed relative rise of `bytes_sent_per_node_mean` (default 0.10).
    pub bytes_increase: f64,
    /// Whether a BASE row missing from NEW fails the comparison (default true).
    pub missing_is_regression: bool,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            delivery_ratio_drop: 0.01,
            latency_p99_increase: 0.10,
            latency_ms_slack: 0.0,
            bytes_increase: 0.10,
            missing_is_regression: true,
        }
    }
}

/// How rows are matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// One comparison per (scenario, variant, sweep point, seed).
    PerRun,
    /// Means over seeds, one comparison per (scenario, variant, sweep point).
    PerVariant,
}

/// A compared metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// `delivery_ratio`.
    DeliveryRatio,
    /// `latency_ms_p99`.
    LatencyP99,
    /// `bytes_sent_per_node_mean`.
    BytesPerNode,
}

impl Metric {
    /// The `runs.csv` column.
    pub fn column(self) -> &'static str {
        match self {
            Metric::DeliveryRatio => "delivery_ratio",
            Metric::LatencyP99 => "latency_ms_p99",
            Metric::BytesPerNode => "bytes_sent_per_node_mean",
        }
    }
}

/// One metric on both sides.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricDelta {
    /// Which metric.
    pub metric: Metric,
    /// BASE value.
    pub base: Option<f64>,
    /// NEW value.
    pub new: Option<f64>,
    /// Whether NEW is worse than BASE beyond the tolerance.
    pub regression: bool,
}

/// One matched row.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparedRow {
    /// Scenario.
    pub scenario: String,
    /// Variant.
    pub variant: String,
    /// Sweep point label.
    pub sweep_point: String,
    /// The seed (per-run matching only).
    pub seed: Option<u64>,
    /// Rows averaged on the BASE side.
    pub runs_base: usize,
    /// Rows averaged on the NEW side.
    pub runs_new: usize,
    /// The compared metrics.
    pub deltas: Vec<MetricDelta>,
}

impl ComparedRow {
    /// Whether any metric regressed.
    pub fn is_regression(&self) -> bool {
        self.deltas.iter().any(|d| d.regression)
    }

    fn label(&self) -> String {
        let mut s = format!("{}/{}", self.scenario, self.variant);
        if !self.sweep_point.is_empty() {
            s.push_str(&format!("[{}]", self.sweep_point));
        }
        match self.seed {
            Some(seed) => s.push_str(&format!(" seed={seed}")),
            None => s.push_str(&format!(" ({} vs {} runs)", self.runs_base, self.runs_new)),
        }
        s
    }
}

/// The outcome of comparing BASE with NEW.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// How rows were matched.
    pub granularity: Granularity,
    /// The tolerances used.
    pub tolerances: Tolerances,
    /// Matched rows, in key order.
    pub rows: Vec<ComparedRow>,
    /// Labels of BASE rows without a NEW counterpart.
    pub missing_in_new: Vec<String>,
    /// Labels of NEW rows without a BASE counterpart.
    pub missing_in_base: Vec<String>,
}

impl Comparison {
    /// Number of regressed rows, plus missing rows when they count.
    pub fn regressions(&self) -> usize {
        let rows = self.rows.iter().filter(|r| r.is_regression()).count();
        let missing = if self.tolerances.missing_is_regression {
            self.missing_in_new.len()
        } else {
            0
        };
        rows + missing
    }

    /// Whether the gate fails (the command exits non-zero).
    pub fn is_regression(&self) -> bool {
        self.regressions() > 0
    }
}

/// Reads two `runs.csv` files and compares them.
pub fn compare(
    base_runs_csv: &Path,
    new_runs_csv: &Path,
    tolerances: &Tolerances,
    granularity: Granularity,
) -> Result<Comparison, ReportError> {
    let base = read_runs_csv(base_runs_csv)?;
    let new = read_runs_csv(new_runs_csv)?;
    Ok(compare_rows(&base, &new, tolerances, granularity))
}

/// Group key: (scenario, variant, sweep point, seed or none).
type GroupKey = (String, String, String, Option<u64>);

/// Means of the compared metrics over a group of rows.
#[derive(Clone, Copy, Default)]
struct Means {
    runs: usize,
    sums: [(f64, u32); 3],
}

impl Means {
    fn add(&mut self, r: &RunRecord) {
        self.runs += 1;
        let values = [
            r.delivery_ratio,
            r.latency_ms_p99,
            r.bytes_sent_per_node_mean,
        ];
        for (slot, v) in self.sums.iter_mut().zip(values) {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                slot.0 += v;
                slot.1 += 1;
            }
        }
    }
    fn mean(&self, i: usize) -> Option<f64> {
        let (sum, n) = self.sums[i];
        (n > 0).then(|| sum / f64::from(n))
    }
}

fn group(rows: &[RunRecord], granularity: Granularity) -> BTreeMap<GroupKey, Means> {
    let mut out: BTreeMap<GroupKey, Means> = BTreeMap::new();
    for r in rows {
        let seed = (granularity == Granularity::PerRun).then_some(r.seed);
        let key = (
            r.scenario.clone(),
            r.variant.clone(),
            r.sweep_point.clone(),
            seed,
        );
        out.entry(key).or_default().add(r);
    }
    out
}

fn key_label(k: &GroupKey) -> String {
    let mut s = format!("{}/{}", k.0, k.1);
    if !k.2.is_empty() {
        s.push_str(&format!("[{}]", k.2));
    }
    if let Some(seed) = k.3 {
        s.push_str(&format!(" seed={seed}"));
    }
    s
}

/// Compares already-read rows (see the module documentation for the rules).
pub fn compare_rows(
    base: &[RunRecord],
    new: &[RunRecord],
    tolerances: &Tolerances,
    granularity: Granularity,
) -> Comparison {
    let t = tolerances;
    let base = group(base, granularity);
    let new = group(new, granularity);
    let mut rows = Vec::new();
    let mut missing_in_new = Vec::new();
    for (key, b) in &base {
        let Some(n) = new.get(key) else {
            missing_in_new.push(key_label(key));
            continue;
        };
        let metrics = [
            Metric::DeliveryRatio,
            Metric::LatencyP99,
            Metric::BytesPerNode,
        ];
        let deltas = metrics
            .iter()
            .enumerate()
            .map(|(i, &metric)| {
                let (bv, nv) = (b.mean(i), n.mean(i));
                let regression = match (bv, nv) {
                    (Some(bv), Some(nv)) => match metric {
                        Metric::DeliveryRatio => nv < bv - t.delivery_ratio_drop - EPSILON,
                        Metric::LatencyP99 => {
                            nv > bv * (1.0 + t.latency_p99_increase) + t.latency_ms_slack + EPSILON
                        }
                        Metric::BytesPerNode => nv > bv * (1.0 + t.bytes_increase) + EPSILON,
                    },
                    _ => false,
                };
                MetricDelta {
                    metric,
                    base: bv,
                    new: nv,
                    regression,
                }
            })
            .collect();
        rows.push(ComparedRow {
            scenario: key.0.clone(),
            variant: key.1.clone(),
            sweep_point: key.2.clone(),
            seed: key.3,
            runs_base: b.runs,
            runs_new: n.runs,
            deltas,
        });
    }
    let missing_in_base = new
        .keys()
        .filter(|k| !base.contains_key(*k))
        .map(key_label)
        .collect();
    Comparison {
        granularity,
        tolerances: *tolerances,
        rows,
        missing_in_new,
        missing_in_base,
    }
}

fn cell(metric: Metric, v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(v) => match metric {
            Metric::DeliveryRatio => format!("{v:.4}"),
            Metric::LatencyP99 => format!("{v:.1}"),
            Metric::BytesPerNode => format!("{v:.0}"),
        },
    }
}

impl fmt::Display for Comparison {
    /// A plain-text table: one line per matched row, then missing rows and a verdict.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table: Vec<Vec<String>> = vec![vec![
            "run".into(),
            "delivery_ratio base→new".into(),
            "latency_ms_p99 base→new".into(),
            "bytes_sent/node base→new".into(),
            "verdict".into(),
        ]];
        for r in &self.rows {
            let mut line = vec![r.label()];
            for d in &r.deltas {
                let mark = if d.regression { " !" } else { "" };
                line.push(format!(
                    "{} → {}{mark}",
                    cell(d.metric, d.base),
                    cell(d.metric, d.new)
                ));
            }
            line.push(
                if r.is_regression() {
                    "REGRESSION"
                } else {
                    "ok"
                }
                .into(),
            );
            table.push(line);
        }
        let widths: Vec<usize> = (0..5)
            .map(|c| {
                table
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in &table {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(s, w)| format!("{s}{}", " ".repeat(w - s.chars().count())))
                .collect();
            writeln!(f, "{}", cells.join("  ").trim_end())?;
        }
        for m in &self.missing_in_new {
            writeln!(f, "missing in NEW: {m}")?;
        }
        for m in &self.missing_in_base {
            writeln!(f, "only in NEW: {m}")?;
        }
        let t = &self.tolerances;
        writeln!(
            f,
            "tolerances: delivery_ratio drop ≤ {}, latency_ms_p99 rise ≤ {}% (+{} ms), \
             bytes_sent/node rise ≤ {}%",
            t.delivery_ratio_drop,
            t.latency_p99_increase * 100.0,
            t.latency_ms_slack,
            t.bytes_increase * 100.0
        )?;
        if self.is_regression() {
            writeln!(f, "RESULT: {} regression(s)", self.regressions())
        } else {
            writeln!(
                f,
                "RESULT: no regression ({} rows compared)",
                self.rows.len()
            )
        }
    }
}
