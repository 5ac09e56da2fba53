//! What a run builder takes from a validated scenario: the network configuration, each
//! node's bandwidth / link class / region and initial presence, per-group link models, the
//! relay topology, and the complete fault schedule of one seed.
//!
//! The fault schedule of a seed is: scripted faults (selectors resolved, `until` recoveries
//! added) + group availability processes (periodic and churn, stream `availability` with the
//! group index) + planned joins and leaves + the random fault profile (stream
//! `random-faults`) + the heal point. It depends only on (scenario, seed), never on the
//! variant, so variants are compared under the same faults.
//!
//! Heal point (when `[heal]` is given): at `duration`, partitions are healed, links
//! restored, and every node that is not planned to be gone (`leaves_at`) joins, restarts,
//! comes online and wakes. Each of these is a no-op for a node already in that state.

use sim_core::{NodeId, SimDuration, SimRng, SimTime};
use sim_net::faults::{churn, periodic, random_schedule};
use sim_net::network::Presence;
use sim_net::topology::{Topology as Graph, TopologyError, per_group_degrees};
use sim_net::{DialParams, Fault, FaultSchedule, LinkModel, NetConfig, NodeNet, StreamParams};

use crate::faults::FaultAction;
use crate::layout::Layout;
use crate::model::{Availability, Topology};
use crate::scenario::Scenario;
use crate::units::Bandwidth;

impl Scenario {
    /// Node numbering and selector resolution.
    pub fn layout(&self) -> Layout {
        Layout::new(&self.groups)
    }

    /// Total number of nodes.
    pub fn node_count(&self) -> u32 {
        self.layout().node_count()
    }

    /// The network-wide configuration.
    pub fn net_config(&self) -> NetConfig {
        let n = &self.network;
        NetConfig {
            semantics: n.semantics,
            stream: StreamParams {
                rto_min: n.retransmission.rto_min,
                rto_max: n.retransmission.rto_max,
                max_retransmits: n.retransmission.max_retransmits,
            },
            dial: DialParams {
                handshake_round_trips: n.handshake_round_trips,
                timeout: n.dial_timeout,
            },
            default_link: n.link.clone(),
            regions: n.regions.clone(),
            queue_limit: n.queue_limit,
        }
    }

    /// The network attributes of group `index`'s nodes: bandwidth (group override, else
    /// network default), link class = group index, region index (0 without a region).
    pub fn group_net(&self, index: usize) -> NodeNet {
        let Some(g) = self.groups.get(index) else {
            return NodeNet::default();
        };
        let region = match (&g.region, &self.network.regions) {
            (Some(r), Some(m)) => m.regions.iter().position(|x| x == r).unwrap_or(0),
            _ => 0,
        };
        NodeNet {
            up_bytes_per_s: g
                .bandwidth
                .up
                .unwrap_or(self.network.bandwidth.up)
                .bytes_per_s,
            down_bytes_per_s: g
                .bandwidth
                .down
                .unwrap_or(self.network.bandwidth.down)
                .bytes_per_s,
            link_class: index as u16,
            region: region as u16,
        }
    }

    /// Link models per pair of link classes (group indexes), both orders implied: for a
    /// pair where either group overrides `link`, the later group's override wins. Empty
    /// when no group overrides its link (everything uses the network default).
    pub fn class_links(&self) -> Vec<(u16, u16, LinkModel)> {
        let mut out = Vec::new();
        if self.groups.iter().all(|g| g.link.is_none()) {
            return out;
        }
        for (a, ga) in self.groups.iter().enumerate() {
            for (b, gb) in self.groups.iter().enumerate().skip(a) {
                let model = gb
                    .link
                    .as_ref()
                    .or(ga.link.as_ref())
                    .unwrap_or(&self.network.link);
                out.push((a as u16, b as u16, model.clone()));
            }
        }
        out
    }

    /// Whether each node is present at time zero (absent: `joins_at` or `absent_at_start`).
    pub fn presence(&self) -> Vec<Presence> {
        self.groups
            .iter()
            .flat_map(|g| {
                let p = if g.starts_absent() {
                    Presence::Absent
                } else {
                    Presence::Present
                };
                std::iter::repeat_n(p, g.count as usize)
            })
            .collect()
    }

    /// The relay nodes in group order; topology index `i` is node `relay_nodes()[i]`.
    pub fn relay_nodes(&self) -> Vec<NodeId> {
        let layout = self.layout();
        (0..self.groups.len())
            .filter(|&i| self.groups[i].is_relay())
            .flat_map(|i| layout.group_nodes(i).map(NodeId))
            .collect()
    }

    /// The connection graph among relay nodes for `seed` (stream `topology`), over topology
    /// indexes (see [`Scenario::relay_nodes`]).
    pub fn relay_topology(&self, seed: u64) -> Result<Graph, TopologyError> {
        let mut rng = SimRng::stream(seed, "topology", 0);
        match &self.topology {
            Topology::Graph(spec) => spec.build(self.relay_nodes().len(), &mut rng),
            Topology::PerGroupDegrees => {
                let groups: Vec<(usize, usize)> = self
                    .groups
                    .iter()
                    .filter(|g| g.is_relay())
                    .map(|g| (g.count as usize, g.degree.unwrap_or(0) as usize))
                    .collect();
                per_group_degrees(&groups, &mut rng).map(|t| t.topology)
            }
        }
    }

    /// Every fault of the run with master seed `seed`, in time order (equal times keep the
    /// order: scripted faults in file order, then per group joins, leaves and availability,
    /// then random faults, then the heal point).
    pub fn fault_schedule(&self, seed: u64) -> FaultSchedule {
        let layout = self.layout();
        let end = SimTime::ZERO + self.duration;
        let mut parts = Vec::new();
        for entry in &self.faults {
            let mut resolve = |s: &crate::faults::Selector| layout.resolve_lenient(s);
            let Some((fault, recovery)) = entry.action.to_faults(&mut resolve) else {
                continue;
            };
            let mut part = FaultSchedule::new();
            part.add(SimTime::ZERO + entry.at, fault);
            if let (Some(until), Some(recovery)) = (entry.until, recovery) {
                part.add(SimTime::ZERO + until, recovery);
            }
            parts.push(part);
        }
        for (i, g) in self.groups.iter().enumerate() {
            let nodes: Vec<NodeId> = layout.group_nodes(i).map(NodeId).collect();
            let mut part = FaultSchedule::new();
            if let Some(at) = g.joins_at {
                part.add(
                    SimTime::ZERO + at,
                    Fault::Join {
                        nodes: nodes.clone(),
                    },
                );
            }
            if let Some(at) = g.leaves_at {
                part.add(
                    SimTime::ZERO + at,
                    Fault::Leave {
                        nodes: nodes.clone(),
                    },
                );
            }
            parts.push(part);
            let mut rng = SimRng::stream(seed, "availability", i as u64);
            parts.extend(availability(&g.availability, &nodes, end, &mut rng));
        }
        if let Some(profile) = &self.random_faults {
            let mut rng = SimRng::stream(seed, "random-faults", 0);
            parts.push(random_schedule(
                profile,
                layout.node_count(),
                self.duration,
                &mut rng,
            ));
        }
        if self.heal.is_some() {
            let everyone: Vec<NodeId> = (0..self.groups.len())
                .filter(|&i| self.groups[i].leaves_at.is_none())
                .flat_map(|i| layout.group_nodes(i).map(NodeId))
                .collect();
            let all: Vec<NodeId> = (0..layout.node_count()).map(NodeId).collect();
            let mut part = FaultSchedule::new();
            part.add(end, Fault::Heal);
            part.add(end, Fault::RestoreLinks { nodes: all });
            part.add(
                end,
                Fault::Join {
                    nodes: everyone.clone(),
                },
            );
            part.add(
                end,
                Fault::Restart {
                    nodes: everyone.clone(),
                },
            );
            part.add(
                end,
                Fault::Online {
                    nodes: everyone.clone(),
                },
            );
            part.add(end, Fault::Wake { nodes: everyone });
            parts.push(part);
        }
        merge_all(parts)
    }
}

/// Some nodes' bandwidth from an instant on (from `throttle` / `unthrottle` faults, their
/// `until`, and the heal point). sim-net has no bandwidth fault, so the run builder applies
/// these itself (`Network::set_node_net` keeps the link class and region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BandwidthChange {
    /// When.
    pub at: SimTime,
    /// Affected nodes (all of one group), ascending.
    pub nodes: Vec<NodeId>,
    /// New upload capacity in bytes per second (0 = unlimited).
    pub up_bytes_per_s: u64,
    /// New download capacity in bytes per second (0 = unlimited).
    pub down_bytes_per_s: u64,
}

impl Scenario {
    /// Every bandwidth change, in time order (equal times in file order), one entry per
    /// affected group.
    pub fn bandwidth_schedule(&self) -> Vec<BandwidthChange> {
        let layout = self.layout();
        let mut out = Vec::new();
        let mut push =
            |at: SimTime, nodes: Vec<NodeId>, up: Option<Bandwidth>, down: Option<Bandwidth>| {
                for g in 0..self.groups.len() {
                    let range = layout.group_nodes(g);
                    let mine: Vec<NodeId> = nodes
                        .iter()
                        .copied()
                        .filter(|n| range.contains(&n.0))
                        .collect();
                    if mine.is_empty() {
                        continue;
                    }
                    let net = self.group_net(g);
                    out.push(BandwidthChange {
                        at,
                        nodes: mine,
                        up_bytes_per_s: up.map_or(net.up_bytes_per_s, |b| b.bytes_per_s),
                        down_bytes_per_s: down.map_or(net.down_bytes_per_s, |b| b.bytes_per_s),
                    });
                }
            };
        let mut throttled = false;
        for entry in &self.faults {
            let at = SimTime::ZERO + entry.at;
            match &entry.action {
                FaultAction::Throttle { nodes, up, down } => {
                    throttled = true;
                    let nodes = layout.resolve_lenient(nodes);
                    push(at, nodes.clone(), *up, *down);
                    if let Some(until) = entry.until {
                        push(SimTime::ZERO + until, nodes, None, None);
                    }
                }
                FaultAction::Unthrottle { nodes } => {
                    push(at, layout.resolve_lenient(nodes), None, None)
                }
                _ => {}
            }
        }
        if throttled && self.heal.is_some() {
            let all = (0..layout.node_count()).map(NodeId).collect();
            push(SimTime::ZERO + self.duration, all, None, None);
        }
        out.sort_by_key(|c| c.at);
        out
    }
}

/// Merges time-ordered schedules, keeping the parts' order for equal times. Pairwise rounds,
/// so the cost is O(total · log parts) (each `extend` merges two sorted runs).
fn merge_all(mut parts: Vec<FaultSchedule>) -> FaultSchedule {
    parts.retain(|p| !p.is_empty());
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut iter = parts.into_iter();
        while let Some(mut left) = iter.next() {
            if let Some(right) = iter.next() {
                left.extend(right);
            }
            next.push(left);
        }
        parts = next;
    }
    parts.pop().unwrap_or_default()
}

/// The outages of one group's availability process (one part per node with `spread`).
fn availability(
    a: &Availability,
    nodes: &[NodeId],
    end: SimTime,
    rng: &mut SimRng,
) -> Vec<FaultSchedule> {
    match a {
        Availability::AlwaysOn {} => Vec::new(),
        Availability::Periodic {
            outage,
            period,
            down_for,
            phase,
            spread,
        } => {
            if period.as_nanos() == 0 || down_for >= period {
                return Vec::new(); // rejected by validation; never panic in sim-net
            }
            if spread.as_nanos() == 0 {
                return vec![periodic(nodes, *outage, *period, *down_for, *phase, end)];
            }
            nodes
                .iter()
                .map(|&node| {
                    let shift = SimDuration(rng.range_inclusive(0, spread.as_nanos()));
                    periodic(&[node], *outage, *period, *down_for, *phase + shift, end)
                })
                .collect()
        }
        Availability::Churn {
            outage,
            mean_up,
            mean_down,
            from,
            until,
        } => {
            let stop = until.map_or(end, |u| SimTime::ZERO + u);
            vec![churn(
                nodes,
                *outage,
                *mean_up,
                *mean_down,
                SimTime::ZERO + *from,
                stop,
                rng,
            )]
        }
    }
}
