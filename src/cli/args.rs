//! The arguments of every command (clap derive) and the parsers of the values that have a
//! syntax of their own: `--seeds 1,2,5` / `--seeds 1..10`, `--set key.path=value`,
//! `--shard i/n`, tolerances and durations.

use std::path::PathBuf;

use clap::Args;
use sim_core::SimDuration;

/// Most seeds `--seeds` may list (the scenario format's limit).
const MAX_SEEDS: usize = scenarios::MAX_SEEDS;

/// What to run and how: shared by `run` and `sweep`.
#[derive(Args, Clone, Debug)]
pub(crate) struct RunArgs {
    /// A scenario file (TOML), or the name of a built-in scenario (`wakusim list`).
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenario: String,
    /// Run only this seed (instead of the scenario's `seeds`).
    #[arg(long, value_name = "N", conflicts_with = "seeds")]
    pub(crate) seed: Option<u64>,
    /// Run these seeds instead of the scenario's: a comma-separated list of seeds and
    /// inclusive ranges, e.g. `1,2,5` or `1..10` (= 1 to 10) or `1..3,7`.
    #[arg(long, value_name = "LIST", value_parser = parse_seeds)]
    pub(crate) seeds: Option<Seeds>,
    /// Run this reliability variant instead of the scenario's `variants` (repeatable).
    #[arg(long = "variant", value_name = "NAME",
          value_parser = clap::builder::PossibleValuesParser::new(scenarios::KNOWN_VARIANTS))]
    pub(crate) variants: Vec<String>,
    /// Override a value of the scenario before it is validated (repeatable), e.g.
    /// `--set network.link.loss.p=0.05` or `--set duration=20m`; paths as in `[sweep]`.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub(crate) sets: Vec<Override>,
    /// Results directory [default: results/<scenario name>].
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Runs to execute in parallel [run: 1; sweep: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jobs: Option<u16>,
    /// Redo runs whose directory is already complete (by default they are reused).
    #[arg(long)]
    pub(crate) force: bool,
    /// Do not write the HTML report (index.html and plots).
    #[arg(long)]
    pub(crate) no_report: bool,
    /// Do not write deliveries.csv (one row per message and recipient; it can be large).
    #[arg(long)]
    pub(crate) no_deliveries: bool,
}

impl RunArgs {
    /// What `wakusim` without arguments does: `wakusim run default`.
    pub(crate) fn default_scenario() -> Self {
        RunArgs {
            scenario: scenarios::builtin::DEFAULT.to_string(),
            seed: None,
            seeds: None,
            variants: Vec::new(),
            sets: Vec::new(),
            out: None,
            jobs: None,
            force: false,
            no_report: false,
            no_deliveries: false,
        }
    }

    /// The seeds selected on the command line, if any.
    pub(crate) fn selected_seeds(&self) -> Option<Vec<u64>> {
        match (&self.seeds, self.seed) {
            (Some(s), _) => Some(s.list.clone()),
            (None, Some(seed)) => Some(vec![seed]),
            (None, None) => None,
        }
    }
}

/// `sweep`: the options of `run` plus sharding.
#[derive(Args, Clone, Debug)]
pub(crate) struct SweepArgs {
    #[command(flatten)]
    pub(crate) run: RunArgs,
    /// Run only shard I of N (0-based): the runs whose index is I modulo N. Merge the shards'
    /// results directories with `wakusim merge`.
    #[arg(long, value_name = "I/N", value_parser = scenarios::parse_shard)]
    pub(crate) shard: Option<(usize, usize)>,
}

/// `check`.
#[derive(Args, Clone, Debug)]
pub(crate) struct CheckArgs {
    /// Scenario files (or built-in names) to validate.
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<String>,
    /// Apply these overrides before validating (repeatable), as with `run`.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub(crate) sets: Vec<Override>,
}

/// `merge`.
#[derive(Args, Clone, Debug)]
pub(crate) struct MergeArgs {
    /// The results directory to write the merged files into.
    #[arg(value_name = "OUT")]
    pub(crate) out: PathBuf,
    /// Results directories (with a `runs/` subdirectory) or single run directories.
    #[arg(value_name = "DIR", required = true)]
    pub(crate) inputs: Vec<PathBuf>,
    /// Do not write the HTML report.
    #[arg(long)]
    pub(crate) no_report: bool,
}

/// `report`.
#[derive(Args, Clone, Debug)]
pub(crate) struct ReportArgs {
    /// A results directory (its `runs/` are merged first when `runs.csv` is missing).
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,
}

/// `compare`.
#[derive(Args, Clone, Debug)]
pub(crate) struct CompareArgs {
    /// The baseline: a results directory or a `runs.csv` file.
    #[arg(value_name = "BASE")]
    pub(crate) base: PathBuf,
    /// The candidate: a results directory or a `runs.csv` file.
    #[arg(value_name = "NEW")]
    pub(crate) new: PathBuf,
    /// Largest allowed absolute drop of delivery_ratio.
    #[arg(long, value_name = "X", default_value = "0.01", value_parser = parse_tolerance)]
    pub(crate) delivery_drop: f64,
    /// Largest allowed relative rise of latency_ms_p99 (0.10 = 10 %).
    #[arg(long, value_name = "X", default_value = "0.10", value_parser = parse_tolerance)]
    pub(crate) latency_increase: f64,
    /// Extra absolute allowance for latency_ms_p99, in milliseconds.
    #[arg(long, value_name = "MS", default_value = "0", value_parser = parse_tolerance)]
    pub(crate) latency_slack_ms: f64,
    /// Largest allowed relative rise of bytes_sent_per_node_mean (0.10 = 10 %).
    #[arg(long, value_name = "X", default_value = "0.10", value_parser = parse_tolerance)]
    pub(crate) bytes_increase: f64,
    /// Compare run by run (same seeds on both sides) instead of means over seeds per
    /// (scenario, variant, sweep point).
    #[arg(long)]
    pub(crate) per_run: bool,
    /// Do not fail when a BASE row has no counterpart in NEW.
    #[arg(long)]
    pub(crate) allow_missing: bool,
}

/// `demo`: the old flooding network.
#[derive(Args, Clone, Debug)]
pub(crate) struct DemoArgs {
    /// Master seed: the same seed gives the same results, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Number of nodes (2..=1000000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    pub(crate) nodes: u32,
    /// Connections per node in the initial random regular graph.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub(crate) degree: u32,
    /// Length of the traffic phase, with a unit ("90s", "10m", "2h").
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub(crate) duration: SimDuration,
    /// Messages published per simulated second.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) rate: u32,
}

/// A seed list from `--seeds`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Seeds {
    /// The seeds, in the order given.
    pub(crate) list: Vec<u64>,
    /// The text as given (recorded in manifests).
    pub(crate) text: String,
}

/// One `--set key.path=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Override {
    /// The dotted key path.
    pub(crate) key: String,
    /// The value text (TOML, or a bare string).
    pub(crate) value: String,
}

/// Parses `1,2,5`, `1..10` (inclusive), `1..=10`, or a mix (`1..3,7`); seeds must be
/// distinct and at most [`MAX_SEEDS`].
pub(crate) fn parse_seeds(text: &str) -> Result<Seeds, String> {
    let bad = |item: &str, why: &str| {
        format!(
            "{why} in {item:?}; write seeds and inclusive ranges separated by commas, e.g. 1,2,5 or 1..10"
        )
    };
    let number = |item: &str, s: &str| -> Result<u64, String> {
        s.trim()
            .parse::<u64>()
            .map_err(|_| bad(item, "not a seed (a whole number ≥ 0)"))
    };
    let mut seeds: Vec<u64> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(bad(text, "an empty item"));
        }
        let (first, last) = match item.split_once("..") {
            Some((a, b)) => {
                let b = b.strip_prefix('=').unwrap_or(b);
                (number(item, a)?, number(item, b)?)
            }
            None => {
                let n = number(item, item)?;
                (n, n)
            }
        };
        if first > last {
            return Err(bad(item, "a range that ends before it starts"));
        }
        let count = (last - first).saturating_add(1);
        if count > (MAX_SEEDS - seeds.len().min(MAX_SEEDS)) as u64 {
            return Err(format!("more than {MAX_SEEDS} seeds in {text:?}"));
        }
        for seed in first..=last {
            if !seen.insert(seed) {
                return Err(format!(
                    "seed {seed} is listed twice in {text:?}; seeds must be distinct"
                ));
            }
            seeds.push(seed);
        }
    }
    Ok(Seeds {
        list: seeds,
        text: text.trim().to_string(),
    })
}

/// Parses `key.path=value` (split at the first `=`).
pub(crate) fn parse_set(text: &str) -> Result<Override, String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => Ok(Override {
            key: key.trim().to_string(),
            value: value.to_string(),
        }),
        _ => Err(format!(
            "expected KEY=VALUE, e.g. network.link.loss.p=0.05 or duration=20m; got {text:?}"
        )),
    }
}

/// A tolerance: a finite number ≥ 0.
fn parse_tolerance(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("expected a number ≥ 0 (e.g. 0.01), got {text:?}")),
    }
}

fn parse_duration(text: &str) -> Result<SimDuration, String> {
    SimDuration::parse(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_lists_and_ranges() {
        let list = |t: &str| parse_seeds(t).map(|s| s.list);
        assert_eq!(list("1,2,5"), Ok(vec![1, 2, 5]));
        assert_eq!(list("1..4"), Ok(vec![1, 2, 3, 4]));
        assert_eq!(list("1..=3, 7"), Ok(vec![1, 2, 3, 7]));
        assert_eq!(list("5..5"), Ok(vec![5]));
        for bad in [
            "", "1,,2", "a", "1..", "..3", "3..1", "1,1", "1..3,2", "-1", "1.5",
        ] {
            assert!(parse_seeds(bad).is_err(), "{bad:?}");
        }
        assert!(parse_seeds("0..18446744073709551615").is_err());
        assert!(parse_seeds(&format!("1..{MAX_SEEDS}")).is_ok());
        assert!(parse_seeds(&format!("0..{MAX_SEEDS}")).is_err());
    }

    #[test]
    fn overrides_split_at_the_first_equals_sign() {
        let o = parse_set("traffic.0.rate={ kind = \"constant\", every = \"1s\" }").unwrap();
        assert_eq!(o.key, "traffic.0.rate");
        assert_eq!(o.value, "{ kind = \"constant\", every = \"1s\" }");
        assert!(parse_set("duration").is_err());
        assert!(parse_set("=5").is_err());
        assert_eq!(parse_set("name=").unwrap().value, "");
    }

    #[test]
    fn tolerances_are_non_negative_numbers() {
        assert_eq!(parse_tolerance("0.1"), Ok(0.1));
        for bad in ["-0.1", "NaN", "inf", "x"] {
            assert!(parse_tolerance(bad).is_err(), "{bad}");
        }
    }
}
