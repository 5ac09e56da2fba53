//! Scripted faults (`[[fault]]`) and node selectors.
//!
//! A fault entry is sim-net's [`Fault`] with node *selectors* instead of raw node ids, a time
//! `at`, and an optional `until` that schedules the matching recovery (heal, restore_links,
//! online, wake, restart, join, or a zero clock skew). Selectors are resolved to
//! [`NodeId`]s against the scenario's groups when a run is built.
//!
//! Selector syntax (a string, or a list of strings whose nodes are merged):
//!
//! | text | nodes |
//! |---|---|
//! | `"*"` | every node |
//! | `"desktops"` | every node of group `desktops` |
//! | `"desktops[3]"` | its node 3 (0-based, within the group) |
//! | `"desktops[0..10]"` | its nodes 0 to 9 (half-open; `[5..]` and `[..5]` allowed) |
//! | `"desktops[25%]"` | its first ⌈25 % × count⌉ nodes (at most two decimals) |

use std::fmt;

use serde::Deserialize;
use sim_core::{NodeId, SimDuration};
use sim_net::{Fault, LinkModel};

use crate::units::Bandwidth;

/// The part of a group a selector item names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The whole group.
    Whole,
    /// One node (0-based within the group).
    Index(u32),
    /// Nodes `start..end` (half-open; `None` = from the first / to the last).
    Range {
        /// First node (default 0).
        start: Option<u32>,
        /// One past the last node (default: the group size).
        end: Option<u32>,
    },
    /// The first ⌈share × count⌉ nodes; `basis_points` is the share in 1/100 %.
    Percent {
        /// 1..=10000.
        basis_points: u32,
    },
}

/// One item of a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorItem {
    /// Every node (`"*"`).
    All,
    /// (Part of) a named group.
    Group {
        /// Group name.
        name: String,
        /// Which nodes of it.
        part: Part,
    },
}

impl SelectorItem {
    /// Parses one selector string; errors say what the syntax is.
    pub fn parse(text: &str) -> Result<SelectorItem, String> {
        let syntax = "(write \"group\", \"group[3]\", \"group[0..10]\", \"group[25%]\" or \"*\")";
        let s = text.trim();
        if s == "*" {
            return Ok(SelectorItem::All);
        }
        let (name, part) = match s.split_once('[') {
            None => (s, Part::Whole),
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix(']')
                    .ok_or_else(|| format!("selector {text:?} lacks its closing ']' {syntax}"))?;
                (
                    name,
                    parse_part(inner).map_err(|e| format!("selector {text:?}: {e} {syntax}"))?,
                )
            }
        };
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "selector {text:?} does not start with a group name {syntax}"
            ));
        }
        Ok(SelectorItem::Group {
            name: name.to_string(),
            part,
        })
    }
}

fn parse_part(inner: &str) -> Result<Part, String> {
    let number = |t: &str| -> Result<u32, String> {
        t.trim()
            .parse::<u32>()
            .map_err(|_| format!("{t:?} is not a node index (0, 1, 2, …)"))
    };
    if let Some(pct) = inner.strip_suffix('%') {
        let (int, frac) = pct.trim().split_once('.').unwrap_or((pct.trim(), ""));
        if int.is_empty()
            || frac.len() > 2
            || !(int.chars().chain(frac.chars())).all(|c| c.is_ascii_digit())
        {
            return Err(format!("{pct:?}% is not a percentage (e.g. 25% or 12.5%)"));
        }
        let frac_bp: u32 = format!("{frac:0<2}").parse().unwrap_or(0);
        let bp = int
            .parse::<u32>()
            .ok()
            .and_then(|i| i.checked_mul(100))
            .and_then(|i| i.checked_add(frac_bp))
            .unwrap_or(u32::MAX);
        if bp == 0 || bp > 10_000 {
            return Err(format!("{pct}% must be above 0% and at most 100%"));
        }
        return Ok(Part::Percent { basis_points: bp });
    }
    if let Some((a, b)) = inner.split_once("..") {
        let start = if a.trim().is_empty() {
            None
        } else {
            Some(number(a)?)
        };
        let end = if b.trim().is_empty() {
            None
        } else {
            Some(number(b)?)
        };
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            return Err(format!("range {s}..{e} is empty (need start < end)"));
        }
        return Ok(Part::Range { start, end });
    }
    Ok(Part::Index(number(inner)?))
}

impl fmt::Display for SelectorItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectorItem::All => f.write_str("*"),
            SelectorItem::Group { name, part } => {
                f.write_str(name)?;
                match part {
                    Part::Whole => Ok(()),
                    Part::Index(i) => write!(f, "[{i}]"),
                    Part::Range { start, end } => {
                        f.write_str("[")?;
                        if let Some(s) = start {
                            write!(f, "{s}")?;
                        }
                        f.write_str("..")?;
                        if let Some(e) = end {
                            write!(f, "{e}")?;
                        }
                        f.write_str("]")
                    }
                    Part::Percent { basis_points } => {
                        let (i, r) = (basis_points / 100, basis_points % 100);
                        if r == 0 {
                            write!(f, "[{i}%]")
                        } else {
                            write!(f, "[{i}.{}%]", format!("{r:02}").trim_end_matches('0'))
                        }
                    }
                }
            }
        }
    }
}

/// A set of nodes: one or more [`SelectorItem`]s (TOML: a string or a list of strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(pub Vec<SelectorItem>);

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Selector;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a node selector string such as \"group[0..10]\", or a list of them")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Selector, E> {
                SelectorItem::parse(text)
                    .map(|i| Selector(vec![i]))
                    .map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Selector, A::Error> {
                use serde::de::Error;
                let mut items = Vec::new();
                while let Some(text) = seq.next_element::<String>()? {
                    if items.len() >= crate::MAX_SELECTOR_ITEMS {
                        return Err(A::Error::custom(format!(
                            "a selector list has at most {} items",
                            crate::MAX_SELECTOR_ITEMS
                        )));
                    }
                    items.push(SelectorItem::parse(&text).map_err(A::Error::custom)?);
                }
                if items.is_empty() {
                    return Err(A::Error::custom("an empty selector list selects no node"));
                }
                Ok(Selector(items))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A scripted fault, with selectors: sim-net's [`Fault`] kinds under the same names.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// Nodes in different groups cannot reach each other; unlisted nodes form one more group.
    Partition {
        /// The sides; each a selector.
        groups: Vec<Selector>,
    },
    /// Traffic from `from` to `to` is blocked.
    PartitionOneWay {
        /// Senders.
        from: Selector,
        /// Receivers.
        to: Selector,
    },
    /// Removes every partition.
    Heal {},
    /// Paths touching `nodes` use `link` until restored.
    DegradeLinks {
        /// Affected nodes.
        nodes: Selector,
        /// The degraded link model.
        link: LinkModel,
    },
    /// Undoes `degrade_links`.
    RestoreLinks {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Network down.
    Offline {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Network up.
    Online {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Process frozen.
    Sleep {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Process resumes.
    Wake {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Process dies.
    Crash {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Crashed process starts again.
    Restart {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Node leaves the network.
    Leave {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Absent node joins.
    Join {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Bandwidth limited (e.g. `up = "1kbit/s"`); `until` restores the configured values.
    /// Not a sim-net fault: see [`crate::plan`]'s bandwidth schedule.
    Throttle {
        /// Affected nodes.
        nodes: Selector,
        /// Upload capacity during the fault (default: unchanged).
        up: Option<Bandwidth>,
        /// Download capacity during the fault (default: unchanged).
        down: Option<Bandwidth>,
    },
    /// Restores the configured bandwidth.
    Unthrottle {
        /// Affected nodes.
        nodes: Selector,
    },
    /// Clock offset from true time, e.g. `"-2s"` or `"500ms"`.
    ClockSkew {
        /// Affected nodes.
        nodes: Selector,
        /// Signed offset with a unit.
        offset: String,
    },
}

/// The fault kinds, for messages.
pub const FAULT_KINDS: &str = "partition, partition_one_way, heal, degrade_links, \
     restore_links, offline, online, sleep, wake, crash, restart, leave, join, throttle, unthrottle, \
     clock_skew";

impl FaultAction {
    /// The kind's name as written in files.
    pub fn kind(&self) -> &'static str {
        match self {
            FaultAction::Partition { .. } => "partition",
            FaultAction::PartitionOneWay { .. } => "partition_one_way",
            FaultAction::Heal {} => "heal",
            FaultAction::DegradeLinks { .. } => "degrade_links",
            FaultAction::RestoreLinks { .. } => "restore_links",
            FaultAction::Offline { .. } => "offline",
            FaultAction::Online { .. } => "online",
            FaultAction::Sleep { .. } => "sleep",
            FaultAction::Wake { .. } => "wake",
            FaultAction::Crash { .. } => "crash",
            FaultAction::Restart { .. } => "restart",
            FaultAction::Leave { .. } => "leave",
            FaultAction::Join { .. } => "join",
            FaultAction::Throttle { .. } => "throttle",
            FaultAction::Unthrottle { .. } => "unthrottle",
            FaultAction::ClockSkew { .. } => "clock_skew",
        }
    }

    /// Every selector of the action with its field name (and list index for partitions).
    pub fn selectors(&self) -> Vec<(&'static str, Option<usize>, &Selector)> {
        match self {
            FaultAction::Partition { groups } => groups
                .iter()
                .enumerate()
                .map(|(i, s)| ("groups", Some(i), s))
                .collect(),
            FaultAction::PartitionOneWay { from, to } => {
                vec![("from", None, from), ("to", None, to)]
            }
            FaultAction::Heal {} => Vec::new(),
            FaultAction::DegradeLinks { nodes, .. }
            | FaultAction::RestoreLinks { nodes }
            | FaultAction::Offline { nodes }
            | FaultAction::Online { nodes }
            | FaultAction::Sleep { nodes }
            | FaultAction::Wake { nodes }
            | FaultAction::Crash { nodes }
            | FaultAction::Restart { nodes }
            | FaultAction::Leave { nodes }
            | FaultAction::Join { nodes }
            | FaultAction::Throttle { nodes, .. }
            | FaultAction::Unthrottle { nodes }
            | FaultAction::ClockSkew { nodes, .. } => vec![("nodes", None, nodes)],
        }
    }

    /// Whether `until` may schedule a recovery for this kind.
    pub fn recoverable(&self) -> bool {
        !matches!(
            self,
            FaultAction::Heal {}
                | FaultAction::RestoreLinks { .. }
                | FaultAction::Online { .. }
                | FaultAction::Wake { .. }
                | FaultAction::Restart { .. }
                | FaultAction::Join { .. }
                | FaultAction::Unthrottle { .. }
        )
    }

    /// The sim-net fault, and its recovery, with selectors resolved by `resolve`; `None` for
    /// bandwidth changes (`throttle`, `unthrottle`), which sim-net does not model as faults.
    pub fn to_faults(
        &self,
        resolve: &mut dyn FnMut(&Selector) -> Vec<NodeId>,
    ) -> Option<(Fault, Option<Fault>)> {
        let mut nodes_of = |s: &Selector| resolve(s);
        Some(match self {
            FaultAction::Throttle { .. } | FaultAction::Unthrottle { .. } => return None,
            FaultAction::Partition { groups } => (
                Fault::Partition {
                    groups: groups.iter().map(&mut nodes_of).collect(),
                },
                Some(Fault::Heal),
            ),
            FaultAction::PartitionOneWay { from, to } => (
                Fault::PartitionOneWay {
                    from: nodes_of(from),
                    to: nodes_of(to),
                },
                Some(Fault::Heal),
            ),
            FaultAction::Heal {} => (Fault::Heal, None),
            FaultAction::DegradeLinks { nodes, link } => {
                let nodes = nodes_of(nodes);
                let restore = Fault::RestoreLinks {
                    nodes: nodes.clone(),
                };
                let model = link.clone();
                (Fault::DegradeLinks { nodes, model }, Some(restore))
            }
            FaultAction::RestoreLinks { nodes } => (
                Fault::RestoreLinks {
                    nodes: nodes_of(nodes),
                },
                None,
            ),
            FaultAction::Offline { nodes } => pair(sim_net::Outage::Offline, nodes_of(nodes)),
            FaultAction::Sleep { nodes } => pair(sim_net::Outage::Sleep, nodes_of(nodes)),
            FaultAction::Crash { nodes } => pair(sim_net::Outage::Crash, nodes_of(nodes)),
            FaultAction::Leave { nodes } => pair(sim_net::Outage::Leave, nodes_of(nodes)),
            FaultAction::Online { nodes } => (
                Fault::Online {
                    nodes: nodes_of(nodes),
                },
                None,
            ),
            FaultAction::Wake { nodes } => (
                Fault::Wake {
                    nodes: nodes_of(nodes),
                },
                None,
            ),
            FaultAction::Restart { nodes } => (
                Fault::Restart {
                    nodes: nodes_of(nodes),
                },
                None,
            ),
            FaultAction::Join { nodes } => (
                Fault::Join {
                    nodes: nodes_of(nodes),
                },
                None,
            ),
            FaultAction::ClockSkew { nodes, offset } => {
                let nodes = nodes_of(nodes);
                let offset_ms = parse_signed_ms(offset).unwrap_or(0);
                let reset = Fault::ClockSkew {
                    nodes: nodes.clone(),
                    offset_ms: 0,
                };
                (Fault::ClockSkew { nodes, offset_ms }, Some(reset))
            }
        })
    }
}

fn pair(outage: sim_net::Outage, nodes: Vec<NodeId>) -> (Fault, Option<Fault>) {
    let (begin, end) = outage.faults(nodes);
    (begin, Some(end))
}

/// Parses a signed duration (`"-2s"`, `"+500ms"`, `"1h"`) into whole milliseconds.
pub fn parse_signed_ms(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (negative, rest) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let d = SimDuration::parse(rest).map_err(|e| e.to_string())?;
    if d.as_nanos() % 1_000_000 != 0 {
        return Err(format!(
            "clock offset {text:?} must be a whole number of milliseconds"
        ));
    }
    let ms =
        i64::try_from(d.as_millis()).map_err(|_| format!("clock offset {text:?} is too large"))?;
    Ok(if negative { -ms } else { ms })
}

/// One `[[fault]]` entry: when, what, and optionally when it is undone.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultEntry {
    /// When the fault happens (time since the start of the run).
    pub at: SimDuration,
    /// When the recovery is scheduled, if any.
    pub until: Option<SimDuration>,
    /// What happens.
    pub action: FaultAction,
}

impl<'de> Deserialize<'de> for FaultEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(d)?;
        let take = |table: &mut toml::Table, key: &str| -> Result<Option<SimDuration>, D::Error> {
            match table.remove(key) {
                None => Ok(None),
                Some(v) => v
                    .try_into::<SimDuration>()
                    .map(Some)
                    .map_err(|e| D::Error::custom(format!("{key}: {}", e.message().trim()))),
            }
        };
        let at = take(&mut table, "at")?.ok_or_else(|| D::Error::custom("missing field `at`"))?;
        let until = take(&mut table, "until")?;
        match table.get("kind") {
            None => return Err(D::Error::custom("missing field `kind`")),
            Some(toml::Value::String(kind)) if !FAULT_KINDS.split(", ").any(|k| k == kind) => {
                return Err(D::Error::custom(format!(
                    "unknown fault kind {kind:?} (allowed: {FAULT_KINDS})"
                )));
            }
            _ => {}
        }
        let action = toml::Value::Table(table)
            .try_into::<FaultAction>()
            .map_err(|e| {
                let msg = e.message().trim();
                // The entry's own keys are accepted too: say so when serde lists the allowed ones.
                D::Error::custom(if msg.starts_with("unknown field") {
                    msg.replacen("expected", "expected `at`, `until`, `kind` or", 1)
                } else {
                    msg.to_string()
                })
            })?;
        Ok(FaultEntry { at, until, action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_and_print() {
        for text in [
            "*",
            "desk",
            "desk[3]",
            "desk[0..10]",
            "desk[5..]",
            "desk[..5]",
            "desk[25%]",
            "desk[12.5%]",
        ] {
            let item = SelectorItem::parse(text).unwrap();
            assert_eq!(item.to_string(), text);
        }
        assert_eq!(
            SelectorItem::parse("a[12.5%]").unwrap(),
            SelectorItem::Group {
                name: "a".into(),
                part: Part::Percent { basis_points: 1250 }
            }
        );
        for (bad, want) in [
            ("a[0..", "closing"),
            ("a[5..2]", "empty"),
            ("a[x]", "not a node index"),
            ("a[0%]", "above 0%"),
            ("a[101%]", "at most 100%"),
            ("a[1.234%]", "not a percentage"),
            ("[3]", "group name"),
            ("a b", "group name"),
        ] {
            let err = SelectorItem::parse(bad).unwrap_err();
            assert!(err.contains(want), "{bad}: {err}");
        }
    }

    #[test]
    fn signed_offsets() {
        assert_eq!(parse_signed_ms("-2s"), Ok(-2000));
        assert_eq!(parse_signed_ms("+500ms"), Ok(500));
        assert!(parse_signed_ms("5").is_err());
        assert!(parse_signed_ms("1us").unwrap_err().contains("whole number"));
    }
}
