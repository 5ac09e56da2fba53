//! The [`Scenario`] type and the parse pipeline: size check → TOML syntax (located) → serde
//! into the model (unknown fields and wrong types located) → semantic validation (located by
//! key path) → every sweep point re-parsed and validated.
//!
//! Every error is one [`ScenarioError`] naming file, line, column and field.

use indexmap::IndexMap;
use serde::Deserialize;
use sim_core::SimDuration;
use sim_net::RandomFaultProfile;

use crate::error::{Problem, ScenarioError};
use crate::faults::FaultEntry;
use crate::locate::SourceMap;
use crate::model::{Group, Heal, Network, Topology};
use crate::traffic::Traffic;
use crate::{MAX_SEEDS, MAX_SOURCE_BYTES, path, validate};

/// One sweep axis: a dotted key path into the scenario and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepAxis {
    /// Dotted path, e.g. `network.link.loss.p` or `group.mobiles.count`.
    pub path: String,
    /// The values, in file order.
    pub values: Vec<toml::Value>,
}

/// A validated scenario. Fields mirror the file; see `docs/scenario-format.md`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Short name (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Free text.
    pub description: String,
    /// Length of the faulty phase; faults and traffic happen before it ends.
    pub duration: SimDuration,
    /// Master seeds, each a separate run (from `seeds`, or `1..=seed_count`; default `[1]`).
    pub seeds: Vec<u64>,
    /// Optional convergence phase after `duration`.
    pub heal: Option<Heal>,
    /// Network defaults.
    pub network: Network,
    /// Connection graph among relay nodes.
    pub topology: Topology,
    /// Node groups, in file order (node ids follow this order).
    pub groups: Vec<Group>,
    /// Application traffic.
    pub traffic: Vec<Traffic>,
    /// Scripted faults, in file order.
    pub faults: Vec<FaultEntry>,
    /// Optional random fault generation (swarm testing).
    pub random_faults: Option<RandomFaultProfile>,
    /// Reliability variants compared on the same seeds and faults.
    pub variants: Vec<String>,
    /// Sweep axes (at most two).
    pub sweep: Vec<SweepAxis>,
    /// `[reliability.<protocol>]` presets and parameter overrides ([`crate::tuning`]).
    pub reliability: crate::tuning::Tuning,
    /// The file name used in errors.
    pub(crate) file: String,
    /// The text this scenario was parsed from.
    pub(crate) source: String,
}

/// The file as written (before defaults that depend on several fields).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: String,
    duration: SimDuration,
    seeds: Option<Vec<u64>>,
    seed_count: Option<u32>,
    heal: Option<Heal>,
    #[serde(default)]
    network: Network,
    topology: Option<Topology>,
    #[serde(default, rename = "group")]
    groups: Vec<Group>,
    #[serde(default)]
    traffic: Vec<Traffic>,
    #[serde(default, rename = "fault")]
    faults: Vec<FaultEntry>,
    random_faults: Option<RandomFaultProfile>,
    variants: Option<Vec<String>>,
    #[serde(default)]
    sweep: IndexMap<String, Vec<toml::Value>>,
    #[serde(default)]
    reliability: crate::tuning::Tuning,
}

impl Scenario {
    /// The file name used in errors.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The TOML text this scenario was parsed from (after overrides, if any).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The stable hash of this scenario's normalized text ([`crate::scenario_hash`]).
    pub fn hash(&self) -> String {
        crate::scenario_hash(&self.source)
    }

    /// Total simulated time: `duration` plus the heal phase.
    pub fn total_duration(&self) -> SimDuration {
        self.duration + self.heal.as_ref().map_or(SimDuration::ZERO, |h| h.duration)
    }
}

/// Reads and parses a scenario file; the path (as given) names the file in errors.
pub fn load_file(path: impl AsRef<std::path::Path>) -> Result<Scenario, ScenarioError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let fail = |message: String| ScenarioError {
        file: name.clone(),
        line: 1,
        column: 1,
        field: String::new(),
        path: String::new(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    if meta.len() > MAX_SOURCE_BYTES as u64 {
        return Err(fail(too_large(meta.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column) = crate::locate::line_column(
            &String::from_utf8_lossy(e.as_bytes()),
            e.utf8_error().valid_up_to(),
        );
        ScenarioError {
            line,
            column,
            ..fail("the file is not valid UTF-8".to_string())
        }
    })?;
    parse_str(&name, &text)
}

fn too_large(len: u64) -> String {
    format!("the scenario is {len} bytes; at most {MAX_SOURCE_BYTES} bytes are allowed")
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn parse_str(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    parse_inner(file, text, true)
}

pub(crate) fn parse_inner(
    file: &str,
    text: &str,
    check_sweep: bool,
) -> Result<Scenario, ScenarioError> {
    let map = SourceMap::parse(file, text)?;
    if text.len() > MAX_SOURCE_BYTES {
        return Err(map.error(&[], too_large(text.len() as u64)));
    }
    let raw: ScenarioFile = toml::from_str(text).map_err(|e| map.serde_error(&e))?;
    let seeds = resolve_seeds(&raw).map_err(|p| map.error(&p.path, p.message))?;
    let topology_declared = raw.topology.is_some();
    // Axis order is the file's order (the first axis varies slowest).
    let order = map.keys(&path!["sweep"]);
    let mut sweep: Vec<SweepAxis> = raw
        .sweep
        .into_iter()
        .map(|(path, values)| SweepAxis { path, values })
        .collect();
    sweep.sort_by_key(|a| {
        order
            .iter()
            .position(|k| *k == a.path)
            .unwrap_or(usize::MAX)
    });
    let scenario = Scenario {
        name: raw.name,
        description: raw.description,
        duration: raw.duration,
        seeds,
        heal: raw.heal,
        network: raw.network,
        topology: raw.topology.unwrap_or_default(),
        groups: raw.groups,
        traffic: raw.traffic,
        faults: raw.faults,
        random_faults: raw.random_faults,
        variants: raw.variants.unwrap_or_else(|| vec!["none".to_string()]),
        sweep,
        reliability: raw.reliability,
        file: file.to_string(),
        source: text.to_string(),
    };
    validate::check(&scenario, topology_declared).map_err(|p| map.error(&p.path, p.message))?;
    if check_sweep {
        check_sweep_points(&scenario, &map)?;
    }
    Ok(scenario)
}

/// `seeds`, or `1..=seed_count`, or `[1]`; errors for both, none, too many, duplicates.
fn resolve_seeds(raw: &ScenarioFile) -> Result<Vec<u64>, Problem> {
    match (&raw.seeds, raw.seed_count) {
        (Some(_), Some(_)) => Err(Problem::new(
            path!["seed_count"],
            "give either seeds (a list) or seed_count, not both",
        )),
        (Some(seeds), None) => {
            if seeds.is_empty() {
                return Err(Problem::new(
                    path!["seeds"],
                    "seeds is empty; list at least one seed (e.g. seeds = [1, 2, 3])",
                ));
            }
            if seeds.len() > MAX_SEEDS {
                return Err(Problem::new(
                    path!["seeds"],
                    format!("{} seeds; at most {MAX_SEEDS} are allowed", seeds.len()),
                ));
            }
            for (i, s) in seeds.iter().enumerate() {
                if seeds[..i].contains(s) {
                    return Err(Problem::new(
                        path!["seeds", [i]],
                        format!("seed {s} is listed twice; seeds must be distinct"),
                    ));
                }
            }
            Ok(seeds.clone())
        }
        (None, Some(n)) => {
            if n == 0 || n as usize > MAX_SEEDS {
                return Err(Problem::new(
                    path!["seed_count"],
                    format!("seed_count must be in 1..={MAX_SEEDS}, got {n}"),
                ));
            }
            Ok((1..=u64::from(n)).collect())
        }
        (None, None) => Ok(vec![1]),
    }
}

/// Re-parses the scenario at every sweep point (at most [`crate::MAX_SWEEP_POINTS`]); a
/// failure is reported at the axis with the point's own error.
fn check_sweep_points(scenario: &Scenario, map: &SourceMap<'_>) -> Result<(), ScenarioError> {
    if scenario.sweep.is_empty() {
        return Ok(());
    }
    let axis_path = |axis: usize| {
        scenario
            .sweep
            .get(axis)
            .map_or(String::new(), |a| a.path.clone())
    };
    for point in scenario.sweep_points() {
        let text = crate::expand::point_text(&scenario.source, &point).map_err(|(axis, e)| {
            let path = axis_path(axis);
            map.error(
                &path!["sweep", &path],
                format!("cannot set {path:?}: {}", e.message),
            )
        })?;
        if let Err(e) = parse_inner(&scenario.file, &text, false) {
            // Blame the first axis whose value alone reproduces the error.
            let axis = (0..point.values.len())
                .find(|&a| {
                    let single = crate::expand::SweepPoint {
                        values: point.values[a..=a].to_vec(),
                    };
                    crate::expand::point_text(&scenario.source, &single)
                        .ok()
                        .and_then(|t| parse_inner(&scenario.file, &t, false).err())
                        .is_some()
                })
                .unwrap_or(0);
            let Some((path, value)) = point.values.get(axis) else {
                return Err(e);
            };
            let index = scenario
                .sweep
                .get(axis)
                .and_then(|a| a.values.iter().position(|v| v == value))
                .unwrap_or(0);
            let field = if e.field.is_empty() {
                String::new()
            } else {
                format!("{}: ", e.field)
            };
            return Err(map.error(
                &path!["sweep", path.as_str(), [index]],
                format!("with {path} = {value}: {field}{}", e.message),
            ));
        }
    }
    Ok(())
}
