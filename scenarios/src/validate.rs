//! Semantic validation: everything serde cannot check — positive durations and rates,
//! counts, role combinations, presets, group references and selector ranges, fault times
//! within the duration, possible topologies, known variants, sweep shapes, and the bounds
//! that keep a run's memory and time finite.
//!
//! Each check returns the first [`Problem`] (key path + message saying what is allowed);
//! checks run in file order: top level, network, groups, topology, traffic, faults, random
//! faults, variants, reliability parameters, sweep.

mod activity;
mod nodes;

use sim_core::SimDuration;
use sim_net::{LatencyDist, LinkModel, LossModel};

use crate::error::{Path, Problem};
use crate::layout::Layout;
use crate::scenario::Scenario;
use crate::{
    KNOWN_VARIANTS, MAX_DURATION, MAX_RUNS, MAX_SWEEP_AXES, MAX_SWEEP_POINTS, MAX_SWEEP_VALUES,
    MAX_TRAFFIC, MAX_VARIANTS, path,
};
use activity::{check_faults, check_random, check_traffic};
use nodes::{check_groups, check_topology};

/// Top-level keys a sweep axis may not start with.
pub(crate) const UNSWEEPABLE: &[&str] = &["sweep", "seeds", "seed_count", "variants", "name"];

type Check = Result<(), Problem>;

fn fail<T>(path: Path, message: impl Into<String>) -> Result<T, Problem> {
    Err(Problem::new(path, message))
}

fn ensure(ok: bool, path: Path, message: impl FnOnce() -> String) -> Check {
    if ok { Ok(()) } else { fail(path, message()) }
}

/// Checks a scenario; `topology_declared` says whether `[topology]` was written.
pub(crate) fn check(s: &Scenario, topology_declared: bool) -> Check {
    check_top(s)?;
    check_network(s)?;
    check_groups(s)?;
    let layout = Layout::new(&s.groups);
    check_topology(s, topology_declared)?;
    for (i, t) in s.traffic.iter().enumerate() {
        check_traffic(s, &layout, t).map_err(|p| p.under(&path!["traffic", [i]]))?;
    }
    ensure(s.traffic.len() <= MAX_TRAFFIC, path!["traffic"], || {
        format!("at most {MAX_TRAFFIC} [[traffic]] entries are allowed")
    })?;
    unique_names(s.traffic.iter().map(|t| t.name.as_deref()), "traffic")?;
    check_faults(s, &layout)?;
    if let Some(profile) = &s.random_faults {
        check_random(profile, layout.node_count(), s.duration)
            .map_err(|p| p.under(&path!["random_faults"]))?;
    }
    check_variants(s)?;
    crate::tuning::check(&s.reliability)?;
    check_sweep(s)
}

fn check_top(s: &Scenario) -> Check {
    check_name(&s.name, path!["name"])?;
    ensure(s.description.len() <= 4096, path!["description"], || {
        "description is longer than 4096 bytes".into()
    })?;
    check_span(s.duration, path!["duration"], "duration")?;
    if let Some(heal) = &s.heal {
        check_span(heal.duration, path!["heal", "duration"], "heal.duration")?;
    }
    Ok(())
}

/// A positive duration no longer than [`MAX_DURATION`].
fn check_span(d: SimDuration, path: Path, what: &str) -> Check {
    ensure(d > SimDuration::ZERO, path.clone(), || {
        format!("{what} must be positive (e.g. \"10m\")")
    })?;
    ensure(d <= MAX_DURATION, path, || {
        format!("{what} = {d} is longer than the limit of {MAX_DURATION}")
    })
}

/// Names: 1–64 characters, letters, digits, `_`, `-`, `.`, starting with a letter.
fn check_name(name: &str, path: Path) -> Check {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ensure(ok, path, || {
        format!(
            "invalid name {name:?} (allowed: 1-64 letters, digits, '_', '-', '.', starting \
             with a letter)"
        )
    })
}

fn finite_in(x: f64, lo: f64, hi: f64, path: Path, what: &str) -> Check {
    ensure(x.is_finite() && (lo..=hi).contains(&x), path, || {
        format!("{what} must be in [{lo}, {hi}], got {x}")
    })
}

fn probability(p: f64, path: Path, what: &str) -> Check {
    finite_in(p, 0.0, 1.0, path, &format!("{what} is a probability and"))
}

fn check_network(s: &Scenario) -> Check {
    let n = &s.network;
    check_link(&n.link).map_err(|p| p.under(&path!["network", "link"]))?;
    ensure(
        (1..=16).contains(&n.handshake_round_trips),
        path!["network", "handshake_round_trips"],
        || {
            format!(
                "handshake_round_trips must be in 1..=16, got {}",
                n.handshake_round_trips
            )
        },
    )?;
    check_span(
        n.dial_timeout,
        path!["network", "dial_timeout"],
        "dial_timeout",
    )?;
    check_span(
        n.queue_limit,
        path!["network", "queue_limit"],
        "queue_limit",
    )?;
    let hour = SimDuration::from_secs(3600);
    ensure(
        n.queue_limit <= hour,
        path!["network", "queue_limit"],
        || format!("queue_limit = {} is above the limit of 1h", n.queue_limit),
    )?;
    let r = &n.retransmission;
    let here = |k: &str| path!["network", "retransmission", k];
    check_span(r.rto_min, here("rto_min"), "rto_min")?;
    ensure(r.rto_max >= r.rto_min, here("rto_max"), || {
        format!(
            "rto_max ({}) must be at least rto_min ({})",
            r.rto_max, r.rto_min
        )
    })?;
    ensure(r.max_retransmits <= 64, here("max_retransmits"), || {
        format!(
            "max_retransmits must be at most 64, got {}",
            r.max_retransmits
        )
    })?;
    if let Some(m) = &n.regions {
        let here = |k: &str| path!["network", "regions", k];
        ensure(
            !m.regions.is_empty() && m.regions.len() <= 256,
            here("regions"),
            || "regions needs 1 to 256 region names".into(),
        )?;
        for (i, r) in m.regions.iter().enumerate() {
            check_name(r, path!["network", "regions", "regions", [i]])?;
            ensure(
                !m.regions[..i].contains(r),
                path!["network", "regions", "regions", [i]],
                || format!("region {r:?} is listed twice"),
            )?;
        }
        m.validate().map_err(|e| Problem::new(here("one_way"), e))?;
    }
    Ok(())
}

/// A link model's fields; problems carry paths relative to the model.
pub(crate) fn check_link(link: &LinkModel) -> Check {
    let hour = SimDuration::from_secs(3600);
    let lat = |k: &str| path!["latency", k];
    let latency_bound = |d: SimDuration, k: &str| {
        ensure(d <= hour, lat(k), || {
            format!("{k} = {d} is above the limit of 1h")
        })
    };
    match &link.latency {
        LatencyDist::Constant { value } => latency_bound(*value, "value")?,
        LatencyDist::Uniform { min, max } => {
            latency_bound(*max, "max")?;
            ensure(min <= max, lat("max"), || {
                format!("uniform latency needs min <= max (min={min}, max={max})")
            })?;
        }
        LatencyDist::Normal { mean, sd, floor } => {
            latency_bound(*mean, "mean")?;
            latency_bound(*sd, "sd")?;
            latency_bound(*floor, "floor")?;
        }
        LatencyDist::LogNormal { median, sigma } => {
            latency_bound(*median, "median")?;
            finite_in(*sigma, 0.0, 10.0, lat("sigma"), "sigma")?;
        }
        LatencyDist::ExponentialAboveFloor { floor, mean_extra } => {
            latency_bound(*floor, "floor")?;
            latency_bound(*mean_extra, "mean_extra")?;
        }
    }
    ensure(link.jitter <= hour, path!["jitter"], || {
        "jitter is above the limit of 1h".into()
    })?;
    match &link.loss {
        LossModel::None => {}
        LossModel::Iid { p } => probability(*p, path!["loss", "p"], "p")?,
        LossModel::GilbertElliott {
            p_good_to_bad,
            p_bad_to_good,
            loss_good,
            loss_bad,
        } => {
            for (k, v) in [
                ("p_good_to_bad", p_good_to_bad),
                ("p_bad_to_good", p_bad_to_good),
                ("loss_good", loss_good),
                ("loss_bad", loss_bad),
            ] {
                probability(*v, path!["loss", k], k)?;
            }
        }
    }
    probability(link.duplicate, path!["duplicate"], "duplicate")
}

fn check_variants(s: &Scenario) -> Check {
    ensure(!s.variants.is_empty(), path!["variants"], || {
        format!(
            "variants is empty; list at least one (allowed: {})",
            KNOWN_VARIANTS.join(", ")
        )
    })?;
    ensure(s.variants.len() <= MAX_VARIANTS, path!["variants"], || {
        format!("at most {MAX_VARIANTS} variants")
    })?;
    for (i, v) in s.variants.iter().enumerate() {
        ensure(
            KNOWN_VARIANTS.contains(&v.as_str()),
            path!["variants", [i]],
            || {
                format!(
                    "unknown variant {v:?} (allowed: {})",
                    KNOWN_VARIANTS.join(", ")
                )
            },
        )?;
        ensure(!s.variants[..i].contains(v), path!["variants", [i]], || {
            format!("variant {v:?} is listed twice")
        })?;
    }
    Ok(())
}

fn check_sweep(s: &Scenario) -> Check {
    ensure(s.sweep.len() <= MAX_SWEEP_AXES, path!["sweep"], || {
        format!(
            "{} sweep axes; at most {MAX_SWEEP_AXES} are allowed",
            s.sweep.len()
        )
    })?;
    let mut points: u64 = 1;
    for axis in &s.sweep {
        let p = path!["sweep", axis.path.as_str()];
        ensure(
            !axis.values.is_empty() && axis.values.len() <= MAX_SWEEP_VALUES,
            p.clone(),
            || {
                format!(
                    "a sweep axis needs 1 to {MAX_SWEEP_VALUES} values, got {}",
                    axis.values.len()
                )
            },
        )?;
        let segs = crate::overrides::split_path(&axis.path)
            .map_err(|(_, m)| Problem::new(p.clone(), m))?;
        let first = segs.first().map(|s| s.0.as_str()).unwrap_or("");
        ensure(!UNSWEEPABLE.contains(&first), p.clone(), || {
            format!(
                "{first:?} cannot be swept (it defines the runs themselves); sweep a scenario field such as network.link.loss.p"
            )
        })?;
        for (i, v) in axis.values.iter().enumerate() {
            ensure(
                !axis.values[..i].contains(v),
                path!["sweep", axis.path.as_str(), [i]],
                || format!("value {v} is listed twice"),
            )?;
        }
        points = points.saturating_mul(axis.values.len() as u64);
    }
    ensure(points <= MAX_SWEEP_POINTS as u64, path!["sweep"], || {
        format!("{points} sweep points; at most {MAX_SWEEP_POINTS}")
    })?;
    let runs = points
        .saturating_mul(s.seeds.len() as u64)
        .saturating_mul(s.variants.len() as u64);
    ensure(runs <= MAX_RUNS as u64, path!["sweep"], || {
        format!("{runs} runs (sweep points x variants x seeds); at most {MAX_RUNS} are allowed")
    })
}

/// Names of entries that have one must be unique.
fn unique_names<'a>(names: impl Iterator<Item = Option<&'a str>>, table: &str) -> Check {
    let names: Vec<Option<&str>> = names.collect();
    for (i, name) in names.iter().enumerate() {
        if let Some(n) = name
            && names[..i].contains(&Some(n))
        {
            return fail(
                path![table, [i], "name"],
                format!("duplicate {table} name {n:?}; names must be unique"),
            );
        }
    }
    Ok(())
}
