//! Expanding a scenario into runs: sweep points × variants × seeds, each with a stable
//! label, in a fixed order; and sharding that list across machines.
//!
//! Order: sweep points outermost (first axis slowest, values in file order), then variants
//! in file order, then seeds in file order. Run `index` is the position in that list.
//! Labels look like `network.link.loss.p=0.1/variant=none/seed=3` (no sweep:
//! `variant=none/seed=3`); values are written as in TOML without string quotes, with any
//! character outside `A-Z a-z 0-9 . _ + -` replaced by `_` so a label is a safe path.
//!
//! Sharding (`--shard i/n`, `i` 0-based): shard `i` holds the runs whose index is `i` modulo
//! `n`. Shards are disjoint, their union is the full list, and sorting the merged shards by
//! index gives the unsharded order. Round-robin spreads slow sweep points over all shards.

use crate::error::ScenarioError;
use crate::overrides::{apply_overrides, split_path, to_edit_value};
use crate::scenario::{Scenario, parse_inner};

/// One combination of sweep-axis values (empty when the scenario has no sweep).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SweepPoint {
    /// `(axis path, value)` per axis, in axis order.
    pub values: Vec<(String, toml::Value)>,
}

impl SweepPoint {
    /// `path=value` per axis joined by `/` (empty for no sweep).
    pub fn label(&self) -> String {
        self.values
            .iter()
            .map(|(path, value)| format!("{}={}", sanitize(path), sanitize(&value_text(value))))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// A value as a label shows it: strings bare, everything else as TOML.
fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => to_edit_value(other).to_string().trim().to_string(),
    }
}

fn sanitize(text: &str) -> String {
    text.chars()
        .take(80)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One run: a seed, a variant and a sweep point.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Position in [`Scenario::runs`].
    pub index: usize,
    /// Stable label, e.g. `network.link.loss.p=0.1/variant=none/seed=3`.
    pub label: String,
    /// Master seed.
    pub seed: u64,
    /// Reliability variant.
    pub variant: String,
    /// Sweep point.
    pub point: SweepPoint,
}

impl Scenario {
    /// Every sweep point: the cartesian product of the axes, first axis slowest. One empty
    /// point when there is no sweep.
    pub fn sweep_points(&self) -> Vec<SweepPoint> {
        let mut points = vec![SweepPoint::default()];
        for axis in &self.sweep {
            points = points
                .into_iter()
                .flat_map(|p| {
                    axis.values.iter().map(move |v| {
                        let mut values = p.values.clone();
                        values.push((axis.path.clone(), v.clone()));
                        SweepPoint { values }
                    })
                })
                .collect();
        }
        points
    }

    /// Every run, in the documented order, with stable labels.
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut runs = Vec::new();
        for point in self.sweep_points() {
            let prefix = point.label();
            for variant in &self.variants {
                for &seed in &self.seeds {
                    let tail = format!("variant={}/seed={seed}", sanitize(variant));
                    let label = if prefix.is_empty() {
                        tail
                    } else {
                        format!("{prefix}/{tail}")
                    };
                    runs.push(RunSpec {
                        index: runs.len(),
                        label,
                        seed,
                        variant: variant.clone(),
                        point: point.clone(),
                    });
                }
            }
        }
        runs
    }

    /// The concrete scenario of a sweep point: the axis values applied, the sweep removed.
    pub fn at_point(&self, point: &SweepPoint) -> Result<Scenario, ScenarioError> {
        let text = point_text(&self.source, point).map_err(|(_, e)| e)?;
        parse_inner(&self.file, &text, false)
    }

    /// The concrete scenario of a run ([`Scenario::at_point`] of its sweep point).
    pub fn for_run(&self, run: &RunSpec) -> Result<Scenario, ScenarioError> {
        self.at_point(&run.point)
    }
}

/// `source` with the `[sweep]` table removed and the point's values set. The error carries
/// the index of the failing axis.
pub(crate) fn point_text(
    source: &str,
    point: &SweepPoint,
) -> Result<String, (usize, ScenarioError)> {
    let fail = |axis: usize, path: &str, message: String| {
        (
            axis,
            ScenarioError {
                file: "sweep".to_string(),
                line: 1,
                column: 1,
                field: path.to_string(),
                path: path.to_string(),
                message,
            },
        )
    };
    let mut doc: toml_edit::DocumentMut = source
        .parse()
        .map_err(|_| fail(0, "", "the scenario is not valid TOML".to_string()))?;
    doc.as_table_mut().remove("sweep");
    for (axis, (path, _)) in point.values.iter().enumerate() {
        let segs = split_path(path).map_err(|(_, m)| fail(axis, path, m))?;
        if let Some((first, _)) = segs.first()
            && crate::validate::UNSWEEPABLE.contains(&first.as_str())
        {
            return Err(fail(
                axis,
                path,
                format!("{first:?} cannot be swept (it defines the runs themselves)"),
            ));
        }
    }
    let sets: Vec<(String, String)> = point
        .values
        .iter()
        .map(|(p, v)| (p.clone(), to_edit_value(v).to_string()))
        .collect();
    let borrowed: Vec<(&str, &str)> = sets.iter().map(|(p, v)| (p.as_str(), v.as_str())).collect();
    apply_overrides(&doc.to_string(), &borrowed).map_err(|e| {
        // `--set` errors are numbered by override, i.e. by axis.
        let axis = e
            .line
            .saturating_sub(1)
            .min(point.values.len().saturating_sub(1));
        (axis, e)
    })
}

/// Parses `--shard i/n` (0-based `i < n`, `n >= 1`).
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("invalid shard {text:?}: write i/n with 0 <= i < n, e.g. 0/4");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.trim().parse::<usize>().map_err(|_| bad())?,
        n.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The runs of shard `index` of `count`: those whose `index` is `index` modulo `count`.
/// An invalid shard (`count == 0` or `index >= count`) selects nothing.
pub fn shard(runs: &[RunSpec], index: usize, count: usize) -> Vec<RunSpec> {
    if count == 0 || index >= count {
        return Vec::new();
    }
    runs.iter()
        .filter(|r| r.index % count == index)
        .cloned()
        .collect()
}
