//! Semantic checks of what happens during a run: traffic (participants, members, rates,
//! sizes, windows, message bounds), scripted faults (times within the duration, recoveries,
//! selectors) and random fault profiles.

use sim_core::SimDuration;
use sim_net::RandomFaultProfile;

use super::{Check, check_link, check_name, check_span, ensure, fail, finite_in, probability};
use crate::error::{Path, Problem, Seg};
use crate::faults::{FaultAction, Selector, parse_signed_ms};
use crate::layout::Layout;
use crate::scenario::Scenario;
use crate::traffic::{Rate, ShardAssignment, SizeDist, Traffic, TrafficKind};
use crate::{MAX_FAULT_EVENTS, MAX_FAULTS, MAX_MESSAGE_BYTES, MAX_MESSAGES, path};

/// The nodes a selector names, or the problem at `field` (item index added for lists).
fn count(layout: &Layout, sel: &Selector, field: Path) -> Result<u64, Problem> {
    layout.count(sel).map_err(|(i, e)| {
        let mut p = field;
        p.push(Seg::Index(i));
        Problem::new(p, e)
    })
}

pub(super) fn check_traffic(s: &Scenario, layout: &Layout, t: &Traffic) -> Check {
    if let Some(name) = &t.name {
        check_name(name, path!["name"])?;
    }
    let available = count(layout, &t.participants, path!["participants"])?;
    if let Some(sel) = &t.always_in {
        count(layout, sel, path!["always_in"])?;
    }
    if let Some(sel) = &t.senders {
        count(layout, sel, path!["senders"])?;
    }
    ensure(
        (1..=1_000_000).contains(&t.conversations),
        path!["conversations"],
        || {
            format!(
                "conversations must be in 1..=1000000, got {}",
                t.conversations
            )
        },
    )?;
    let members = match (t.kind, t.members) {
        (TrafficKind::Direct, None | Some(2)) => 2,
        (TrafficKind::Direct, Some(m)) => {
            return fail(
                path!["members"],
                format!(
                    "a direct conversation has exactly 2 members, got {m} (omit members, or use private_group)"
                ),
            );
        }
        (TrafficKind::PrivateGroup, None) => {
            return fail(
                path!["kind"],
                "private_group needs members (the group size k, at least 2)",
            );
        }
        (_, Some(m)) => u64::from(m),
        (TrafficKind::CommunityChannel, None) => available,
    };
    ensure(members >= 2, path!["members"], || {
        format!("members must be at least 2, got {members}")
    })?;
    ensure(members <= available, path!["members"], || {
        format!("members = {members} but the participants select only {available} nodes")
    })?;
    check_rate(&t.rate).map_err(|p| p.under(&path!["rate"]))?;
    check_sizes(&t.message_size).map_err(|p| p.under(&path!["message_size"]))?;
    ensure(
        (1..=64).contains(&t.content_topics),
        path!["content_topics"],
        || format!("content_topics must be in 1..=64, got {}", t.content_topics),
    )?;
    match t.shard {
        ShardAssignment::Fixed { index } => ensure(index < 1024, path!["shard", "index"], || {
            format!("shard index must be in 0..1024, got {index}")
        })?,
        ShardAssignment::Auto { shards } => ensure(
            (1..=1024).contains(&shards),
            path!["shard", "shards"],
            || format!("shards must be in 1..=1024, got {shards}"),
        )?,
    }
    let stop = t.stop.unwrap_or(s.duration);
    ensure(t.start < s.duration, path!["start"], || {
        format!(
            "start = {} is not before the end of the scenario ({})",
            t.start, s.duration
        )
    })?;
    ensure(stop <= s.duration, path!["stop"], || {
        format!(
            "stop = {stop} is beyond the scenario's duration ({})",
            s.duration
        )
    })?;
    ensure(t.start < stop, path!["stop"], || {
        format!("stop ({stop}) must be after start ({})", t.start)
    })?;
    if let Some(max) = t.max_messages {
        ensure(max >= 1, path!["max_messages"], || {
            "max_messages must be at least 1 (omit it for no cap)".into()
        })?;
    }
    let streams = f64::from(t.conversations)
        * if t.rate_per == crate::traffic::RatePer::Sender {
            members as f64
        } else {
            1.0
        };
    let per_stream = (t.rate.per_second() * (stop.as_nanos() - t.start.as_nanos()) as f64 / 1e9)
        .min(t.max_messages.map_or(f64::INFINITY, |m| m as f64));
    let expected = streams * per_stream;
    ensure(expected <= MAX_MESSAGES, path!["rate"], || {
        format!("about {expected:.0} messages expected; at most {MAX_MESSAGES} per traffic entry")
    })
}

fn check_rate(r: &Rate) -> Check {
    match r {
        Rate::Constant { every } => check_span(*every, path!["every"], "every"),
        Rate::Poisson { mean, per } => {
            ensure(mean.is_finite() && *mean > 0.0, path!["mean"], || {
                format!("mean must be a positive number of messages, got {mean}")
            })?;
            check_span(*per, path!["per"], "per")
        }
        Rate::Bursty {
            messages,
            spacing,
            mean_gap,
        } => {
            ensure((1..=10_000).contains(messages), path!["messages"], || {
                format!("messages per burst must be in 1..=10000, got {messages}")
            })?;
            ensure(
                *spacing <= SimDuration::from_secs(3600),
                path!["spacing"],
                || "spacing is above the limit of 1h".into(),
            )?;
            check_span(*mean_gap, path!["mean_gap"], "mean_gap")
        }
    }
}

fn check_sizes(d: &SizeDist) -> Check {
    let size = |b: crate::units::ByteSize, k: &str| {
        ensure(b.0 >= 1 && b.0 <= MAX_MESSAGE_BYTES, path![k], || {
            format!(
                "{k} = {b} must be in 1B..={}",
                crate::units::ByteSize(MAX_MESSAGE_BYTES)
            )
        })
    };
    match d {
        SizeDist::Constant { value } => size(*value, "value"),
        SizeDist::Uniform { min, max } => {
            size(*min, "min")?;
            size(*max, "max")?;
            ensure(min <= max, path!["max"], || {
                format!("uniform sizes need min <= max (min={min}, max={max})")
            })
        }
        SizeDist::LogNormal { median, sigma, max } => {
            size(*median, "median")?;
            finite_in(*sigma, 0.0, 10.0, path!["sigma"], "sigma")?;
            if let Some(max) = max {
                size(*max, "max")?;
            }
            Ok(())
        }
    }
}

pub(super) fn check_faults(s: &Scenario, layout: &Layout) -> Check {
    ensure(s.faults.len() <= MAX_FAULTS, path!["fault"], || {
        format!("at most {MAX_FAULTS} [[fault]] entries are allowed")
    })?;
    let mut referenced: u64 = 0;
    for (i, f) in s.faults.iter().enumerate() {
        let here = |k: &str| path!["fault", [i], k];
        ensure(f.at < s.duration, here("at"), || {
            format!(
                "at = {} is beyond the scenario's duration ({}); faults must happen before it ends",
                f.at, s.duration
            )
        })?;
        if let Some(until) = f.until {
            ensure(f.action.recoverable(), here("until"), || {
                format!(
                    "until is not allowed for kind {} (it is already a recovery)",
                    f.action.kind()
                )
            })?;
            ensure(until > f.at, here("until"), || {
                format!("until ({until}) must be after at ({})", f.at)
            })?;
            ensure(until <= s.duration, here("until"), || {
                format!(
                    "until = {until} is beyond the scenario's duration ({})",
                    s.duration
                )
            })?;
        }
        for (field, index, sel) in f.action.selectors() {
            let mut p = here(field);
            p.extend(index.map(Seg::Index));
            let nodes = count(layout, sel, p.clone())?;
            // Two lists per entry at most (the fault and its recovery).
            referenced = referenced.saturating_add(nodes.saturating_mul(2));
            ensure(referenced as f64 <= MAX_FAULT_EVENTS, p, || {
                format!(
                    "the faults name {referenced} nodes in total so far; at most \
                     {MAX_FAULT_EVENTS} node references are allowed (use fewer or smaller \
                     selectors)"
                )
            })?;
        }
        match &f.action {
            FaultAction::Partition { groups } => {
                ensure(!groups.is_empty(), here("groups"), || {
                    "a partition needs at least one side (unlisted nodes form one more side)".into()
                })?
            }
            FaultAction::DegradeLinks { link, .. } => {
                check_link(link).map_err(|p| p.under(&here("link")))?
            }
            FaultAction::Throttle { up, down, .. } => {
                ensure(up.is_some() || down.is_some(), path!["fault", [i]], || {
                    "throttle needs up, down or both (e.g. up = \"1kbit/s\")".into()
                })?
            }
            FaultAction::ClockSkew { offset, .. } => {
                let ms = parse_signed_ms(offset).map_err(|e| Problem::new(here("offset"), e))?;
                ensure(ms.unsigned_abs() <= 86_400_000, here("offset"), || {
                    format!("clock offset {offset:?} is beyond one day")
                })?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a random fault profile for `nodes` nodes over `duration`.
pub(super) fn check_random(p: &RandomFaultProfile, nodes: u32, duration: SimDuration) -> Check {
    ensure(
        p.episodes_per_hour.is_finite()
            && p.episodes_per_hour > 0.0
            && p.episodes_per_hour <= 3600.0,
        path!["episodes_per_hour"],
        || {
            format!(
                "episodes_per_hour must be in (0, 3600], got {}",
                p.episodes_per_hour
            )
        },
    )?;
    check_span(p.mean_episode, path!["mean_episode"], "mean_episode")?;
    ensure(
        p.max_affected_share.is_finite()
            && p.max_affected_share > 0.0
            && p.max_affected_share <= 1.0,
        path!["max_affected_share"],
        || {
            format!(
                "max_affected_share must be in (0, 1], got {}",
                p.max_affected_share
            )
        },
    )?;
    probability(
        p.heal_at_fraction,
        path!["heal_at_fraction"],
        "heal_at_fraction",
    )?;
    if let Some(loss) = p.degrade_loss {
        probability(loss, path!["degrade_loss"], "degrade_loss")?;
    }
    ensure(
        !p.outages.is_empty() || p.partitions || p.degrade_loss.is_some(),
        path!["outages"],
        || "no fault kind is enabled (give outages, partitions = true or degrade_loss)".into(),
    )?;
    let episodes = p.episodes_per_hour * duration.as_secs_f64() / 3600.0;
    let max_affected = (f64::from(nodes) * p.max_affected_share).floor().max(1.0);
    let refs = episodes * (1.0 + max_affected) / 2.0 * 2.0;
    ensure(refs <= MAX_FAULT_EVENTS, path!["episodes_per_hour"], || {
        format!(
            "about {episodes:.0} episodes touching {refs:.0} nodes in total expected; at most \
             {MAX_FAULT_EVENTS} node entries are allowed (fewer episodes or a smaller \
             max_affected_share)"
        )
    })
}
