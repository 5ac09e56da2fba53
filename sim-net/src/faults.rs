//! Faults as data: a time-ordered schedule, churn and periodic processes that expand into
//! one, and a seeded random-fault generator (swarm testing, as TigerBeetle's VOPR does).
//!
//! A schedule is plain data: it can be printed, saved, replayed and shrunk. Generators draw
//! from a [`SimRng`] stream of their own, so the same seed gives the same schedule, and two
//! variants compared on one seed see the same faults.

use serde::Deserialize;
use sim_core::{NodeId, SimDuration, SimRng, SimTime};

use crate::link::LinkModel;

/// One fault (or recovery) applied at an instant.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Nodes in different groups cannot reach each other; unlisted nodes form one more group.
    /// Replaces any partition in force. Connections are not closed: they go stale.
    Partition {
        /// The groups.
        groups: Vec<Vec<NodeId>>,
    },
    /// Traffic from `from` to `to` is blocked; the reverse direction still flows.
    PartitionOneWay {
        /// Senders whose traffic is blocked.
        from: Vec<NodeId>,
        /// Receivers that stop hearing them.
        to: Vec<NodeId>,
    },
    /// Removes every partition.
    Heal,
    /// Every path touching one of `nodes` uses `model` until restored.
    DegradeLinks {
        /// Affected nodes.
        nodes: Vec<NodeId>,
        /// The degraded link model.
        model: LinkModel,
    },
    /// Undoes [`Fault::DegradeLinks`] for `nodes`.
    RestoreLinks {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// The hosts' network goes down (the processes keep running).
    Offline {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// The hosts' network comes back.
    Online {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// The processes freeze (desktop sleep, hibernation, a backgrounded mobile app).
    Sleep {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// The processes resume; overdue timers fire at once.
    Wake {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// The processes die: volatile state is lost, persistent state kept.
    Crash {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// Crashed processes start again.
    Restart {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// The nodes leave the network (host gone: unreachable, not refusing).
    Leave {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// Absent nodes (left, or never joined) join and start.
    Join {
        /// Affected nodes.
        nodes: Vec<NodeId>,
    },
    /// The nodes' bandwidth changes (0 = unlimited) until changed again. What their queues
    /// hold drains at the new rate from this instant on (the network reads these entries from
    /// the schedule before the run, to time queue departures exactly).
    SetBandwidth {
        /// Affected nodes.
        nodes: Vec<NodeId>,
        /// New upload capacity in bytes per second.
        up_bytes_per_s: u64,
        /// New download capacity in bytes per second.
        down_bytes_per_s: u64,
    },
    /// The nodes' clocks are offset from true time by `offset_ms` (may be negative).
    ClockSkew {
        /// Affected nodes.
        nodes: Vec<NodeId>,
        /// Offset in milliseconds.
        offset_ms: i64,
    },
}

impl Fault {
    /// The nodes this fault names (empty for network-wide faults).
    pub fn nodes(&self) -> &[NodeId] {
        match self {
            Fault::Partition { .. } | Fault::PartitionOneWay { .. } | Fault::Heal => &[],
            Fault::DegradeLinks { nodes, .. }
            | Fault::RestoreLinks { nodes }
            | Fault::Offline { nodes }
            | Fault::Online { nodes }
            | Fault::Sleep { nodes }
            | Fault::Wake { nodes }
            | Fault::Crash { nodes }
            | Fault::Restart { nodes }
            | Fault::Leave { nodes }
            | Fault::Join { nodes }
            | Fault::SetBandwidth { nodes, .. }
            | Fault::ClockSkew { nodes, .. } => nodes,
        }
    }

    /// Checks node ids against the network size; the error names the first bad id.
    pub fn validate(&self, node_count: u32) -> Result<(), String> {
        let mut all: Vec<NodeId> = self.nodes().to_vec();
        match self {
            Fault::Partition { groups } => all.extend(groups.iter().flatten()),
            Fault::PartitionOneWay { from, to } => all.extend(from.iter().chain(to)),
            Fault::DegradeLinks { model, .. } => model.validate()?,
            _ => {}
        }
        match all.iter().find(|n| n.0 >= node_count) {
            Some(bad) => Err(format!(
                "node {} does not exist (the network has nodes 0..{node_count})",
                bad.0
            )),
            None => Ok(()),
        }
    }
}

/// A fault at a time.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    /// When it happens.
    pub at: SimTime,
    /// What happens.
    pub fault: Fault,
}

/// Faults in time order (stable: equal times keep insertion order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSchedule {
    entries: Vec<ScheduledFault>,
}

impl FaultSchedule {
    /// An empty schedule.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `fault` at `at`.
    pub fn add(&mut self, at: SimTime, fault: Fault) -> &mut Self {
        self.entries.push(ScheduledFault { at, fault });
        self.entries.sort_by_key(|e| e.at);
        self
    }

    /// Adds every entry of `other`.
    pub fn extend(&mut self, other: FaultSchedule) {
        self.entries.extend(other.entries);
        self.entries.sort_by_key(|e| e.at);
    }

    /// The entries in time order.
    pub fn entries(&self) -> &[ScheduledFault] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// How a node is unavailable during a down period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outage {
    /// Network down, process running ([`Fault::Offline`] / [`Fault::Online`]).
    Offline,
    /// Process frozen ([`Fault::Sleep`] / [`Fault::Wake`]).
    Sleep,
    /// Process dead ([`Fault::Crash`] / [`Fault::Restart`]).
    Crash,
    /// Node gone ([`Fault::Leave`] / [`Fault::Join`]).
    Leave,
}

impl Outage {
    /// The fault that starts and the one that ends an outage of `nodes`.
    pub fn faults(self, nodes: Vec<NodeId>) -> (Fault, Fault) {
        let start_nodes = nodes.clone();
        match self {
            Outage::Offline => (
                Fault::Offline { nodes: start_nodes },
                Fault::Online { nodes },
            ),
            Outage::Sleep => (Fault::Sleep { nodes: start_nodes }, Fault::Wake { nodes }),
            Outage::Crash => (
                Fault::Crash { nodes: start_nodes },
                Fault::Restart { nodes },
            ),
            Outage::Leave => (Fault::Leave { nodes: start_nodes }, Fault::Join { nodes }),
        }
    }
}

/// Each node alternates independently between up periods (exponential, mean `mean_up`) and
/// outages (exponential, mean `mean_down`) from `start` to `end`; every outage that begins
/// before `end` also ends (possibly after `end`, capped at `end` + `mean_down`·10).
pub fn churn(
    nodes: &[NodeId],
    outage: Outage,
    mean_up: SimDuration,
    mean_down: SimDuration,
    start: SimTime,
    end: SimTime,
    rng: &mut SimRng,
) -> FaultSchedule {
    let mut schedule = FaultSchedule::new();
    for &node in nodes {
        let mut t = start;
        loop {
            let up = SimDuration(rng.exponential(mean_up.0 as f64) as u64);
            let down = SimDuration(rng.exponential(mean_down.0 as f64).max(1.0) as u64);
            t += up;
            if t >= end {
                break;
            }
            let (begin, finish) = outage.faults(vec![node]);
            schedule.entries.push(ScheduledFault {
                at: t,
                fault: begin,
            });
            t += down.min(mean_down.saturating_mul(10));
            schedule.entries.push(ScheduledFault {
                at: t,
                fault: finish,
            });
        }
    }
    schedule.entries.sort_by_key(|e| e.at);
    schedule
}

/// `nodes` are unavailable for `down_for` once every `period`, starting at `phase` (e.g. a
/// desktop that sleeps 8 h every 24 h), until `end`.
pub fn periodic(
    nodes: &[NodeId],
    outage: Outage,
    period: SimDuration,
    down_for: SimDuration,
    phase: SimDuration,
    end: SimTime,
) -> FaultSchedule {
    assert!(
        period.0 > 0 && down_for < period,
        "need 0 < down_for < period"
    );
    let mut schedule = FaultSchedule::new();
    let mut t = SimTime::ZERO + phase;
    while t < end {
        let (begin, finish) = outage.faults(nodes.to_vec());
        schedule.entries.push(ScheduledFault {
            at: t,
            fault: begin,
        });
        schedule.entries.push(ScheduledFault {
            at: t + down_for,
            fault: finish,
        });
        t += period;
    }
    schedule
}

/// The knobs of [`random_schedule`]: which fault kinds may occur and how often.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RandomFaultProfile {
    /// Mean number of fault episodes per simulated hour.
    pub episodes_per_hour: f64,
    /// Mean length of an episode.
    pub mean_episode: SimDuration,
    /// At most this share of nodes is affected by one episode (0..=1).
    pub max_affected_share: f64,
    /// Whether partitions may occur.
    pub partitions: bool,
    /// Outage kinds that may occur.
    pub outages: Vec<Outage>,
    /// Whether link degradation may occur (with this loss rate).
    pub degrade_loss: Option<f64>,
    /// Everything heals at this fraction of the run (0..=1): the rest measures convergence.
    pub heal_at_fraction: f64,
}

impl Default for RandomFaultProfile {
    fn default() -> Self {
        RandomFaultProfile {
            episodes_per_hour: 12.0,
            mean_episode: SimDuration::from_secs(60),
            max_affected_share: 0.2,
            partitions: true,
            outages: vec![Outage::Offline, Outage::Sleep, Outage::Crash],
            degrade_loss: Some(0.3),
            heal_at_fraction: 0.8,
        }
    }
}

/// Draws a random fault schedule for `node_count` nodes over `duration`: episodes arrive as a
/// Poisson process; each picks a kind among the enabled ones, a random subset of nodes and an
/// exponential length, and always ends with its recovery no later than the heal point.
pub fn random_schedule(
    profile: &RandomFaultProfile,
    node_count: u32,
    duration: SimDuration,
    rng: &mut SimRng,
) -> FaultSchedule {
    let mut schedule = FaultSchedule::new();
    let heal_at = SimTime((duration.0 as f64 * profile.heal_at_fraction.clamp(0.0, 1.0)) as u64);
    let mean_gap_ns = 3.6e12 / profile.episodes_per_hour.max(1e-9);
    let kinds = profile.outages.len()
        + usize::from(profile.partitions)
        + usize::from(profile.degrade_loss.is_some());
    if node_count < 2 || kinds == 0 {
        return schedule;
    }
    let max_affected = ((node_count as f64 * profile.max_affected_share) as usize).max(1);
    let mut t = SimTime::ZERO;
    loop {
        t += SimDuration(rng.exponential(mean_gap_ns) as u64);
        if t >= heal_at {
            break;
        }
        let length = SimDuration(rng.exponential(profile.mean_episode.0 as f64).max(1e6) as u64);
        let end = (t + length).min(heal_at);
        let count = 1 + rng.index(max_affected);
        let nodes: Vec<NodeId> = rng
            .sample_indices(node_count as usize, count)
            .into_iter()
            .map(|i| NodeId(i as u32))
            .collect();
        let mut kind = rng.index(kinds);
        let (begin, finish) = if kind < profile.outages.len() {
            profile.outages[kind].faults(nodes)
        } else {
            kind -= profile.outages.len();
            if profile.partitions && kind == 0 {
                (
                    Fault::Partition {
                        groups: vec![nodes],
                    },
                    Fault::Heal,
                )
            } else {
                let loss = profile.degrade_loss.unwrap_or(0.0);
                let model = LinkModel::default().with_loss(loss);
                let begin = Fault::DegradeLinks {
                    nodes: nodes.clone(),
                    model,
                };
                (begin, Fault::RestoreLinks { nodes })
            }
        };
        schedule.entries.push(ScheduledFault {
            at: t,
            fault: begin,
        });
        schedule.entries.push(ScheduledFault {
            at: end,
            fault: finish,
        });
    }
    schedule.entries.sort_by_key(|e| e.at);
    schedule
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u32) -> Vec<NodeId> {
        (0..n).map(NodeId).collect()
    }

    #[test]
    fn churn_alternates_and_is_seeded() {
        let run = |seed| {
            let mut rng = SimRng::stream(seed, "churn", 0);
            churn(
                &ids(5),
                Outage::Leave,
                SimDuration::from_mins(10),
                SimDuration::from_mins(2),
                SimTime::ZERO,
                SimTime::ZERO + SimDuration::from_mins(600),
                &mut rng,
            )
        };
        let a = run(1);
        assert_eq!(a, run(1));
        assert_ne!(a, run(2));
        // Per node, leaves and joins alternate, starting with a leave.
        for node in ids(5) {
            let kinds: Vec<bool> = a
                .entries()
                .iter()
                .filter(|e| e.fault.nodes() == [node])
                .map(|e| matches!(e.fault, Fault::Leave { .. }))
                .collect();
            assert!(
                kinds.len() >= 20,
                "about 50 cycles expected, got {}",
                kinds.len() / 2
            );
            assert!(kinds.iter().step_by(2).all(|&leave| leave));
            assert!(kinds.iter().skip(1).step_by(2).all(|&leave| !leave));
        }
        assert!(a.entries().windows(2).all(|w| w[0].at <= w[1].at));
    }

    #[test]
    fn periodic_sleep_every_night() {
        let day = SimDuration::from_secs(86_400);
        let end = SimTime::ZERO + day.saturating_mul(3);
        let s = periodic(
            &ids(2),
            Outage::Sleep,
            day,
            SimDuration::from_secs(8 * 3600),
            SimDuration::from_secs(22 * 3600),
            end,
        );
        let times: Vec<u64> = s
            .entries()
            .iter()
            .map(|e| e.at.0 / 3_600_000_000_000)
            .collect();
        assert_eq!(times, [22, 30, 46, 54, 70, 78]);
    }

    #[test]
    fn random_schedule_recovers_before_heal_point() {
        let profile = RandomFaultProfile::default();
        let duration = SimDuration::from_secs(3 * 3600);
        let mut rng = SimRng::stream(9, "faults", 0);
        let s = random_schedule(&profile, 50, duration, &mut rng);
        assert!(
            s.len() >= 20,
            "about 36 episodes expected, got {}",
            s.len() / 2
        );
        let heal = SimTime((duration.0 as f64 * 0.8) as u64);
        assert!(s.entries().iter().all(|e| e.at <= heal));
        assert!(s.entries().iter().all(|e| e.fault.validate(50).is_ok()));
        let starts = s.entries().iter().filter(|e| {
            matches!(
                e.fault,
                Fault::Offline { .. }
                    | Fault::Sleep { .. }
                    | Fault::Crash { .. }
                    | Fault::Partition { .. }
                    | Fault::DegradeLinks { .. }
            )
        });
        assert_eq!(
            starts.count() * 2,
            s.len(),
            "every episode has its recovery"
        );
    }

    #[test]
    fn validate_names_the_missing_node() {
        let f = Fault::Partition {
            groups: vec![vec![NodeId(1), NodeId(7)]],
        };
        assert_eq!(
            f.validate(5).unwrap_err(),
            "node 7 does not exist (the network has nodes 0..5)"
        );
    }
}
