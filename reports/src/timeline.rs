//! Node state over time, reconstructed from the network's state log: which nodes were
//! running and online at any instant, fault periods, per-node downtime and per-bucket minima.
//!
//! Definitions (documented in `docs/outputs.md`):
//! - a node is **running** when its process is `Running`; **online** when it is running and
//!   its network is up;
//! - a node is **down** when it is not online *and* it has been running at some point of the
//!   run (a node that has not joined yet is not down; one that left is);
//! - a **fault period** is a maximal interval during which at least one node is down;
//! - changes that share a timestamp are applied together, so a crash and restart at the same
//!   instant do not open a zero-length period.
//!
//! Initial state: nodes present at start are running and online; absent nodes are neither.
//! Log entries naming unknown nodes or later than the run's end are ignored.

use sim_core::{NodeId, SimDuration, SimTime};
use sim_net::{Process, StateChange};

/// One fault period: at least one node was down from `start` (inclusive) to `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultPeriod {
    /// When the first node went down.
    pub start: SimTime,
    /// When the last node came back (or the end of the run).
    pub end: SimTime,
    /// The largest number of nodes down at the same time within the period.
    pub nodes_down_max: u32,
}

#[derive(Clone, Copy, Debug)]
struct NodeState {
    running: bool,
    up: bool,
    ever_running: bool,
}

impl NodeState {
    fn online(self) -> bool {
        self.running && self.up
    }
    fn down(self) -> bool {
        self.ever_running && !self.online()
    }
}

/// Counts after all changes of one instant were applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    running: u32,
    online: u32,
    down: u32,
}

/// What one pass over the log yields.
#[derive(Clone, Debug, Default)]
pub(crate) struct TimelineSummary {
    pub(crate) fault_periods: Vec<FaultPeriod>,
    /// Per node, total time down within `[0, end]`.
    pub(crate) downtime: Vec<SimDuration>,
    /// Per bucket, the fewest nodes running and online at any instant within it.
    pub(crate) bucket_minima: Vec<(u32, u32)>,
}

/// Node states reconstructed from a state log.
pub(crate) struct Timeline {
    initial: Vec<NodeState>,
    /// Valid changes in time order (stable).
    changes: Vec<StateChange>,
    /// Per node, indices into `changes`.
    per_node: Vec<Vec<usize>>,
    end: SimTime,
}

impl Timeline {
    /// `present_at_start[i]`: whether node `i` booted at time zero.
    pub(crate) fn new(present_at_start: &[bool], log: &[StateChange], end: SimTime) -> Self {
        let nodes = present_at_start;
        let initial: Vec<NodeState> = nodes
            .iter()
            .map(|&present| NodeState {
                running: present,
                up: true,
                ever_running: present,
            })
            .collect();
        let mut changes: Vec<StateChange> = log
            .iter()
            .filter(|c| c.node.index() < nodes.len() && c.at <= end)
            .cloned()
            .collect();
        changes.sort_by_key(|c| c.at);
        let mut per_node = vec![Vec::new(); nodes.len()];
        for (i, c) in changes.iter().enumerate() {
            per_node[c.node.index()].push(i);
        }
        Timeline {
            initial,
            changes,
            per_node,
            end,
        }
    }

    /// Whether `node` was online at `at` (after every change at or before `at`). Unknown
    /// nodes count as online (the oracle cannot say otherwise).
    pub(crate) fn online_at(&self, node: NodeId, at: SimTime) -> bool {
        let Some(initial) = self.initial.get(node.index()) else {
            return true;
        };
        let list = &self.per_node[node.index()];
        let n = list.partition_point(|&i| self.changes[i].at <= at);
        match n.checked_sub(1) {
            None => initial.online(),
            Some(last) => {
                let c = &self.changes[list[last]];
                c.process == Process::Running && c.network_up
            }
        }
    }

    /// The valid changes (known nodes, not after the end), in time order.
    pub(crate) fn into_changes(self) -> Vec<StateChange> {
        self.changes
    }

    /// Whether `node`'s process was running at every instant of `[from, to]`: running after
    /// every change at or before `from`, and after every instant in `(from, to]` at which it
    /// changed (changes of one instant are applied together, so a crash and restart at the
    /// same instant do not interrupt). Unknown nodes count as running.
    pub(crate) fn running_throughout(&self, node: NodeId, from: SimTime, to: SimTime) -> bool {
        let Some(initial) = self.initial.get(node.index()) else {
            return true;
        };
        let list = &self.per_node[node.index()];
        let n = list.partition_point(|&i| self.changes[i].at <= from);
        let running_at_from = match n.checked_sub(1) {
            None => initial.running,
            Some(last) => self.changes[list[last]].process == Process::Running,
        };
        if !running_at_from {
            return false;
        }
        let within = &list[n..];
        let stop = within.partition_point(|&i| self.changes[i].at <= to);
        let within = &within[..stop];
        within.iter().enumerate().all(|(k, &i)| {
            let c = &self.changes[i];
            let last_of_instant = within
                .get(k + 1)
                .is_none_or(|&next| self.changes[next].at != c.at);
            !last_of_instant || c.process == Process::Running
        })
    }

    /// One pass: fault periods, downtime per node, and per-bucket minima for `buckets`
    /// buckets of width `bucket` (the last one ends at the run's end).
    pub(crate) fn summarize(&self, bucket: SimDuration, buckets: u64) -> TimelineSummary {
        let mut states = self.initial.clone();
        let mut counts = Counts {
            running: states.iter().filter(|s| s.running).count() as u32,
            online: states.iter().filter(|s| s.online()).count() as u32,
            down: 0,
        };
        let mut down_since: Vec<Option<SimTime>> = vec![None; states.len()];
        let mut downtime = vec![SimDuration::ZERO; states.len()];
        // (instant, counts after every change of that instant)
        let mut visits: Vec<(SimTime, Counts)> = Vec::new();
        let mut i = 0;
        if self.changes.first().is_none_or(|c| c.at > SimTime::ZERO) {
            visits.push((SimTime::ZERO, counts));
        }
        while i < self.changes.len() {
            let at = self.changes[i].at;
            while i < self.changes.len() && self.changes[i].at == at {
                let c = &self.changes[i];
                let idx = c.node.index();
                let before = states[idx];
                let running = c.process == Process::Running;
                let after = NodeState {
                    running,
                    up: c.network_up,
                    ever_running: before.ever_running || running,
                };
                states[idx] = after;
                counts.running =
                    counts.running + u32::from(after.running) - u32::from(before.running);
                counts.online =
                    counts.online + u32::from(after.online()) - u32::from(before.online());
                counts.down = counts.down + u32::from(after.down()) - u32::from(before.down());
                if !before.down() && after.down() {
                    down_since[idx] = Some(at);
                } else if before.down()
                    && !after.down()
                    && let Some(since) = down_since[idx].take()
                {
                    downtime[idx] =
                        downtime[idx].saturating_add(at.saturating_duration_since(since));
                }
                i += 1;
            }
            visits.push((at, counts));
        }
        for (idx, since) in down_since.iter().enumerate() {
            if let Some(since) = since {
                downtime[idx] =
                    downtime[idx].saturating_add(self.end.saturating_duration_since(*since));
            }
        }
        TimelineSummary {
            fault_periods: self.fault_periods(&visits),
            downtime,
            bucket_minima: bucket_minima(&visits, bucket, buckets),
        }
    }

    fn fault_periods(&self, visits: &[(SimTime, Counts)]) -> Vec<FaultPeriod> {
        let mut periods = Vec::new();
        let mut open: Option<FaultPeriod> = None;
        for &(at, counts) in visits {
            match (&mut open, counts.down > 0) {
                (None, true) => {
                    open = Some(FaultPeriod {
                        start: at,
                        end: at,
                        nodes_down_max: counts.down,
                    });
                }
                (Some(p), true) => p.nodes_down_max = p.nodes_down_max.max(counts.down),
                (Some(p), false) => {
                    p.end = at;
                    periods.push(*p);
                    open = None;
                }
                (None, false) => {}
            }
        }
        if let Some(mut p) = open {
            p.end = self.end.max(p.start);
            periods.push(p);
        }
        periods
    }
}

/// For each bucket, the minimum running and online counts in effect at any instant within it.
fn bucket_minima(
    visits: &[(SimTime, Counts)],
    bucket: SimDuration,
    buckets: u64,
) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(buckets as usize);
    let mut next = 0; // first visit not yet applied
    let mut current = visits.first().map(|v| v.1);
    for b in 0..buckets {
        let start = SimTime(bucket.as_nanos().saturating_mul(b));
        let stop = SimTime(bucket.as_nanos().saturating_mul(b + 1));
        // The state in effect at `start`.
        while next < visits.len() && visits[next].0 <= start {
            current = Some(visits[next].1);
            next += 1;
        }
        let Some(mut c) = current else {
            out.push((0, 0));
            continue;
        };
        let (mut running, mut online) = (c.running, c.online);
        while next < visits.len() && visits[next].0 < stop {
            c = visits[next].1;
            running = running.min(c.running);
            online = online.min(c.online);
            next += 1;
        }
        current = Some(c);
        out.push((running, online));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(present: bool) -> bool {
        present
    }

    fn change(at_s: u64, node: u32, process: Process, up: bool) -> StateChange {
        StateChange {
            at: SimTime(at_s * 1_000_000_000),
            node: NodeId(node),
            process,
            network_up: up,
        }
    }

    #[test]
    fn periods_downtime_and_minima() {
        let nodes = [info(true), info(true), info(false)];
        let log = [
            change(5, 0, Process::Running, false),
            change(8, 1, Process::Asleep, true),
            change(12, 0, Process::Running, true),
            change(15, 2, Process::Running, true), // joins: not a fault
            change(18, 1, Process::Running, true),
            change(30, 2, Process::Absent, true), // leaves: down until the end
        ];
        let t = Timeline::new(&nodes, &log, SimTime(40_000_000_000));
        let s = t.summarize(SimDuration::from_secs(10), 4);
        let secs = |p: &FaultPeriod| {
            (
                p.start.0 / 1_000_000_000,
                p.end.0 / 1_000_000_000,
                p.nodes_down_max,
            )
        };
        let periods: Vec<_> = s.fault_periods.iter().map(secs).collect();
        assert_eq!(periods, vec![(5, 18, 2), (30, 40, 1)]);
        let down: Vec<u64> = s
            .downtime
            .iter()
            .map(|d| d.as_nanos() / 1_000_000_000)
            .collect();
        assert_eq!(down, vec![7, 10, 10]);
        // Bucket 1 starts with node 1 still asleep and node 0 still offline (since 5 s, 8 s).
        assert_eq!(s.bucket_minima, vec![(1, 0), (1, 0), (3, 3), (2, 2)]);
        assert!(t.online_at(NodeId(0), SimTime(4_000_000_000)));
        assert!(!t.online_at(NodeId(0), SimTime(5_000_000_000)));
        assert!(!t.online_at(NodeId(2), SimTime(1)));
        assert!(t.online_at(NodeId(9), SimTime(1)));
    }

    #[test]
    fn running_throughout_an_interval() {
        let nodes = [info(true), info(true), info(false), info(true)];
        let log = [
            change(5, 0, Process::Running, false), // offline but running
            change(8, 1, Process::Asleep, true),
            change(12, 1, Process::Running, true),
            change(15, 2, Process::Running, true), // joins
            change(20, 3, Process::Crashed, true),
            change(20, 3, Process::Running, true), // restart at the same instant
        ];
        let t = Timeline::new(&nodes, &log, SimTime(40_000_000_000));
        let s = |v: u64| SimTime(v * 1_000_000_000);
        assert!(t.running_throughout(NodeId(0), s(0), s(40)));
        assert!(t.running_throughout(NodeId(1), s(0), s(7)));
        assert!(
            !t.running_throughout(NodeId(1), s(0), s(8)),
            "asleep at 8 s"
        );
        assert!(!t.running_throughout(NodeId(1), s(9), s(10)));
        assert!(t.running_throughout(NodeId(1), s(12), s(40)));
        assert!(
            !t.running_throughout(NodeId(2), s(10), s(20)),
            "not joined yet"
        );
        assert!(t.running_throughout(NodeId(2), s(15), s(20)));
        assert!(t.running_throughout(NodeId(3), s(0), s(40)));
        assert!(t.running_throughout(NodeId(9), s(0), s(40)), "unknown node");
    }

    #[test]
    fn same_instant_changes_do_not_open_periods() {
        let nodes = [info(true)];
        let log = [
            change(5, 0, Process::Crashed, true),
            change(5, 0, Process::Running, true),
        ];
        let t = Timeline::new(&nodes, &log, SimTime(10_000_000_000));
        let s = t.summarize(SimDuration::from_secs(10), 1);
        assert!(s.fault_periods.is_empty());
        assert_eq!(s.bucket_minima, vec![(1, 1)]);
    }
}
