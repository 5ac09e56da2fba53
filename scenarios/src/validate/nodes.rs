//! Semantic checks of the nodes: groups (names, counts, role combinations, presets,
//! links, regions, availability, joins and leaves) and the relay topology (degrees against
//! node counts, parity, edge bounds, per-group degrees).

use sim_core::SimDuration;
use sim_net::topology::{MAX_EDGES, TopologySpec};

use super::{Check, check_link, check_name, check_span, ensure, fail, probability};
use crate::error::Problem;
use crate::model::{Availability, Group, Preset, Role, Topology};
use crate::scenario::Scenario;
use crate::{MAX_FAULT_EVENTS, MAX_GROUPS, MAX_NODES, path};

pub(super) fn check_groups(s: &Scenario) -> Check {
    ensure(!s.groups.is_empty(), path!["group"], || {
        "the scenario has no [[group]]; declare at least one node group".into()
    })?;
    ensure(s.groups.len() <= MAX_GROUPS, path!["group"], || {
        format!(
            "{} groups; at most {MAX_GROUPS} are allowed",
            s.groups.len()
        )
    })?;
    let mut total: u64 = 0;
    let mut refs = 0.0;
    for (i, g) in s.groups.iter().enumerate() {
        refs += check_group(s, g).map_err(|p| p.under(&path!["group", [i]]))?;
        ensure(
            refs <= MAX_FAULT_EVENTS,
            path!["group", [i], "availability"],
            || {
                format!(
                    "the groups' availability, joins and leaves would put about {refs:.0} node \
                 entries in the fault schedule; at most {MAX_FAULT_EVENTS} are allowed (use \
                 longer periods or fewer nodes)"
                )
            },
        )?;
        if let Some(first) = s.groups[..i].iter().position(|o| o.name == g.name) {
            return fail(
                path!["group", [i], "name"],
                format!(
                    "duplicate group name {:?} (already used by group #{}); names must be unique",
                    g.name,
                    first + 1
                ),
            );
        }
        total += u64::from(g.count);
        ensure(total <= MAX_NODES, path!["group", [i], "count"], || {
            format!("the groups add up to {total} nodes; at most {MAX_NODES} are allowed")
        })?;
    }
    let light = s.groups.iter().position(Group::is_light);
    let service = s.groups.iter().any(|g| {
        g.roles
            .iter()
            .any(|r| matches!(r, Role::Store | Role::Filter | Role::Lightpush))
    });
    if let Some(i) = light {
        ensure(service, path!["group", [i], "roles"], || {
            "light clients need service nodes, but no group has role store, filter or \
             lightpush"
                .into()
        })?;
    }
    ensure(s.groups.iter().any(Group::is_relay), path!["group"], || {
        "no group has role relay; a Waku network needs relay nodes".into()
    })
}

/// Checks one group; returns the fault-schedule node references its availability, joins
/// and leaves add.
fn check_group(s: &Scenario, g: &Group) -> Result<f64, Problem> {
    check_name(&g.name, path!["name"])?;
    ensure(g.count > 0, path!["count"], || {
        "count must be at least 1 (a group with no nodes is a mistake; remove it)".into()
    })?;
    ensure(!g.roles.is_empty(), path!["roles"], || {
        "roles is empty (allowed: relay, store, filter, lightpush, light)".into()
    })?;
    for (i, role) in g.roles.iter().enumerate() {
        ensure(!g.roles[..i].contains(role), path!["roles", [i]], || {
            format!("role {role} is listed twice")
        })?;
    }
    if g.is_light() {
        if let Some(i) = g.roles.iter().position(|r| *r != Role::Light) {
            return fail(
                path!["roles", [i]],
                format!(
                    "role {} cannot be combined with light (a light client uses service nodes \
                 and does not relay)",
                    g.roles[i]
                ),
            );
        }
    } else if let Some(i) = g.roles.iter().position(|r| *r != Role::Relay)
        && !g.is_relay()
    {
        return fail(
            path!["roles", [i]],
            format!(
                "service role {} needs relay too (write roles = [\"relay\", \"{}\"])",
                g.roles[i], g.roles[i]
            ),
        );
    }
    if g.preset == Some(Preset::JsWaku) && !g.is_light() {
        return fail(
            path!["preset"],
            "preset js-waku is for light clients only (roles = [\"light\"]); use nwaku or go-waku for relay and service nodes",
        );
    }
    if let Some(link) = &g.link {
        check_link(link).map_err(|p| p.under(&path!["link"]))?;
    }
    if let Some(region) = &g.region {
        let Some(m) = &s.network.regions else {
            return fail(
                path!["region"],
                format!("region {region:?} given but network.regions declares no regions"),
            );
        };
        ensure(m.regions.contains(region), path!["region"], || {
            format!(
                "unknown region {region:?} (allowed: {})",
                m.regions.join(", ")
            )
        })?;
    }
    let refs = check_availability(&g.availability, g.count, s.duration)
        .map_err(|p| p.under(&path!["availability"]))?;
    if let Some(at) = g.joins_at {
        ensure(at < s.duration, path!["joins_at"], || {
            format!(
                "joins_at = {at} is not before the end of the scenario ({})",
                s.duration
            )
        })?;
    }
    if let Some(at) = g.leaves_at {
        ensure(at <= s.duration, path!["leaves_at"], || {
            format!(
                "leaves_at = {at} is beyond the scenario's duration ({})",
                s.duration
            )
        })?;
        ensure(
            g.joins_at.is_none_or(|j| j < at),
            path!["leaves_at"],
            || "leaves_at must be after joins_at".into(),
        )?;
    }
    let planned = usize::from(g.joins_at.is_some()) + usize::from(g.leaves_at.is_some());
    Ok(refs + planned as f64 * f64::from(g.count))
}

/// Checks an availability process; returns the node references it adds to the schedule.
fn check_availability(a: &Availability, count: u32, duration: SimDuration) -> Result<f64, Problem> {
    match a {
        Availability::AlwaysOn {} => Ok(0.0),
        Availability::Periodic {
            period,
            down_for,
            phase,
            spread,
            ..
        } => {
            check_span(*period, path!["period"], "period")?;
            check_span(*down_for, path!["down_for"], "down_for")?;
            ensure(down_for < period, path!["down_for"], || {
                format!("down_for ({down_for}) must be shorter than period ({period})")
            })?;
            ensure(*phase < duration, path!["phase"], || {
                format!(
                    "phase = {phase} is not before the end of the scenario ({duration}); the outage would never happen"
                )
            })?;
            ensure(spread < period, path!["spread"], || {
                format!("spread ({spread}) must be shorter than period ({period})")
            })?;
            let cycles = duration.as_nanos() / period.as_nanos().max(1) + 1;
            Ok(cycles as f64 * 2.0 * f64::from(count))
        }
        Availability::Churn {
            mean_up,
            mean_down,
            from,
            until,
            ..
        } => {
            check_span(*mean_up, path!["mean_up"], "mean_up")?;
            check_span(*mean_down, path!["mean_down"], "mean_down")?;
            let until_v = until.unwrap_or(duration);
            ensure(until_v <= duration, path!["until"], || {
                format!("until = {until_v} is beyond the scenario's duration ({duration})")
            })?;
            ensure(*from < until_v, path!["from"], || {
                format!("from ({from}) must be before until ({until_v})")
            })?;
            let window = (until_v.as_nanos() - from.as_nanos()) as f64;
            let cycle = (mean_up.as_nanos() + mean_down.as_nanos()) as f64;
            Ok(f64::from(count) * (window / cycle.max(1.0) + 1.0) * 2.0)
        }
    }
}

pub(super) fn check_topology(s: &Scenario, declared: bool) -> Check {
    let relay: Vec<(usize, &Group)> = s
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.is_relay())
        .collect();
    let n: u64 = relay.iter().map(|(_, g)| u64::from(g.count)).sum();
    let tp = |k: &str| path!["topology", k];
    let is_per_group = s.topology == Topology::PerGroupDegrees;
    for (i, g) in s.groups.iter().enumerate() {
        let p = path!["group", [i], "degree"];
        match g.degree {
            Some(_) if !is_per_group => {
                return fail(
                    p,
                    "degree is only used with topology kind per_group_degrees",
                );
            }
            Some(_) if !g.is_relay() => {
                return fail(
                    p,
                    "degree is for relay groups only (light clients are not in the relay topology)",
                );
            }
            Some(d) => ensure(d >= 1 && u64::from(d) < n, p, || {
                format!("degree must be in 1..{n} (below the {n} relay nodes), got {d}")
            })?,
            None if is_per_group && g.is_relay() => {
                return fail(
                    path!["group", [i]],
                    "topology kind per_group_degrees needs a degree for every relay group",
                );
            }
            None => {}
        }
    }
    let spec = match &s.topology {
        Topology::PerGroupDegrees => {
            let stubs: u64 = relay
                .iter()
                .map(|(_, g)| u64::from(g.count) * u64::from(g.degree.unwrap_or(0)))
                .sum();
            return ensure(stubs / 2 <= MAX_EDGES, tp("kind"), || {
                format!(
                    "the graph would have {} edges; at most {MAX_EDGES}",
                    stubs / 2
                )
            });
        }
        Topology::Graph(spec) => spec,
    };
    let default_note = if declared {
        ""
    } else {
        " (this is the default topology; write a [topology] table to choose another)"
    };
    match spec {
        TopologySpec::FullMesh {} => {
            ensure(n * n.saturating_sub(1) / 2 <= MAX_EDGES, tp("kind"), || {
                format!(
                    "a full mesh of {n} relay nodes has too many edges (at most {MAX_EDGES}); use random_regular"
                )
            })
        }
        TopologySpec::RandomRegular { degree } => {
            let k = u64::from(*degree);
            ensure(k >= 1, tp("degree"), || "degree must be at least 1".into())?;
            ensure(k < n, tp("degree"), || {
                format!(
                    "random_regular degree {k} must be below the number of relay nodes ({n}){default_note}"
                )
            })?;
            ensure((n * k).is_multiple_of(2), tp("degree"), || {
                format!(
                    "random_regular needs relay nodes x degree to be even ({n} x {k} is odd){default_note}"
                )
            })?;
            ensure(n * k / 2 <= MAX_EDGES, tp("degree"), || {
                format!(
                    "the graph would have {} edges; at most {MAX_EDGES}",
                    n * k / 2
                )
            })
        }
        TopologySpec::ErdosRenyi { p } => {
            probability(*p, tp("p"), "p")?;
            let edges = *p * (n * n.saturating_sub(1) / 2) as f64;
            ensure(edges <= MAX_EDGES as f64, tp("p"), || {
                format!("about {edges:.0} edges expected; at most {MAX_EDGES}")
            })
        }
        TopologySpec::BarabasiAlbert { m } => ensure(*m >= 1 && u64::from(*m) < n, tp("m"), || {
            format!("barabasi_albert m must be in 1..{n} (below the {n} relay nodes), got {m}")
        }),
        TopologySpec::Edges { edges } => {
            for (i, [a, b]) in edges.iter().enumerate() {
                let p = path!["topology", "edges", [i]];
                ensure(u64::from(*a) < n && u64::from(*b) < n, p.clone(), || {
                    format!(
                        "edge [{a}, {b}] names a node outside 0..{n} (edges index relay nodes in group order)"
                    )
                })?;
                ensure(a != b, p, || format!("edge [{a}, {b}] is a self loop"))?;
            }
            Ok(())
        }
    }
}
