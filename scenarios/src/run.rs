//! Building and running one simulation from a scenario and a [`RunSpec`]: Waku nodes with the
//! roles and presets of their groups, the relay topology, light clients' service nodes,
//! conversations and the message schedule, network attributes, faults — then the run itself
//! and its ground-truth result.
//!
//! Random streams (all keyed by the run's seed): `topology`, `availability`, `random-faults`
//! (see `plan.rs`), `traffic.members` (conversation membership, per traffic entry),
//! `traffic.schedule` (send times, senders and sizes, per traffic entry), `services` (which
//! service nodes a light client uses), and the network's own streams. None depends on the
//! variant, so variants run on identical topologies, faults and message schedules.

use std::collections::BTreeSet;
use std::rc::Rc;

use reliability::{Conversation, Send, TrafficApp, TrafficConfig, Variant};
use reports::{Oracle, RunContext, RunIdentity, RunResult, SweepAxis};
use sim_core::{AppMessageId, Engine, NodeId, SimDuration, SimRng, SimTime, StopAt};
use sim_net::{Fault, NetEvent, Network, Presence};
use waku::node::{Implementation, NodeConfig, Roles, SIM_CLUSTER_ID, WakuNode, network_nodes};
use waku::peer_manager::Capabilities;
use waku::sharding::{RelayShard, autoshard};

use crate::expand::RunSpec;
use crate::model::{HealTraffic, Preset, Role};
use crate::scenario::Scenario;
use crate::traffic::{Rate, RatePer, ShardAssignment, SizeDist, Traffic, TrafficKind};

/// The engine type of a scenario run.
pub type RunEngine = Engine<Network<WakuNode<TrafficApp>, Oracle>>;

/// Messages one run may schedule in total (bounds memory).
pub const MAX_MESSAGES_PER_RUN: usize = 5_000_000;

/// A simulation built from a scenario, ready to run.
pub struct BuiltRun {
    /// The engine with nodes, faults and traffic scheduled.
    pub engine: RunEngine,
    /// Who is present at time zero.
    pub presence: Vec<Presence>,
    /// Each node's group name.
    pub labels: Vec<String>,
    /// When the run ends (duration + heal).
    pub end: SimTime,
    /// Start of the heal phase, if any.
    pub heal_at: Option<SimTime>,
    /// Identity for the reports.
    pub identity: RunIdentity,
    /// Messages scheduled.
    pub messages: usize,
}

/// What went wrong building or running (scenario validation already passed).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The run's scenario could not be derived (sweep point).
    #[error("{0}")]
    Scenario(#[from] crate::ScenarioError),
    /// Something the scenario asks for cannot be built.
    #[error("scenario {scenario}: {message}")]
    Build {
        /// Scenario name.
        scenario: String,
        /// What failed.
        message: String,
    },
    /// The engine aborted (livelock).
    #[error("scenario {scenario}, run {run}: {message}")]
    Engine {
        /// Scenario name.
        scenario: String,
        /// Run label.
        run: String,
        /// The engine's error.
        message: String,
    },
}

/// Builds the simulation of `run` (seed, variant, sweep point) of `scenario`.
pub fn build(scenario: &Scenario, run: &RunSpec, code_version: &str) -> Result<BuiltRun, RunError> {
    let s = scenario.for_run(run)?;
    let fail = |message: String| RunError::Build {
        scenario: s.name.clone(),
        message,
    };
    let variant = Variant::parse(&run.variant)
        .ok_or_else(|| fail(format!("unknown variant {:?}", run.variant)))?;
    let layout = s.layout();
    let n = layout.node_count() as usize;
    let group_of: Vec<usize> = (0..n as u32)
        .map(|i| layout.group_of(NodeId(i)).expect("every node has a group"))
        .collect();
    let labels: Vec<String> = group_of.iter().map(|g| s.groups[*g].name.clone()).collect();

    let conversations = conversations(&s, run.seed).map_err(fail)?;
    let topics: BTreeSet<String> = conversations
        .iter()
        .map(|c| c.pubsub_topic.clone())
        .collect();
    let shards: Vec<u16> = topics
        .iter()
        .filter_map(|t| RelayShard::parse(t).ok().map(|r| r.shard_id))
        .collect();

    let mut configs: Vec<NodeConfig> = (0..n)
        .map(|i| node_config(&s, group_of[i], &topics, &shards))
        .collect();
    let relay_nodes = s.relay_nodes();
    let topology = s
        .relay_topology(run.seed)
        .map_err(|e| fail(e.to_string()))?;
    for dial in topology.dial_plan() {
        let (from, to) = (
            relay_nodes[dial.dialer as usize],
            relay_nodes[dial.listener as usize],
        );
        configs[from.index()].static_peers.push(to);
    }
    let (filter_services, lightpush_services) = services(&configs);
    let mut service_rng = SimRng::stream(run.seed, "services", 0);
    let mut apps = Vec::with_capacity(n);
    for (i, config) in configs.iter_mut().enumerate() {
        let me = NodeId(i as u32);
        let mine: Vec<Rc<Conversation>> = conversations
            .iter()
            .filter(|c| c.members.binary_search(&me).is_ok())
            .cloned()
            .collect();
        let (mut filter_peers, mut lightpush_peers) = (Vec::new(), Vec::new());
        if config.roles.is_light() {
            filter_peers = rotated(&filter_services, &mut service_rng);
            lightpush_peers = rotated(&lightpush_services, &mut service_rng);
            config.static_peers.extend(lightpush_peers.first().copied());
            config.static_peers.extend(filter_peers.first().copied());
            config.static_peers.dedup();
        }
        let reliability =
            crate::tuning::config_for(&s.reliability, implementation_of(&s.groups[group_of[i]]));
        if variant.uses_light_client() && config.roles.is_light() {
            reliability
                .light_client
                .apply_to_filter_client(&mut config.filter_client);
        }
        apps.push(
            TrafficApp::new(TrafficConfig {
                variant,
                conversations: mine,
                lightpush_peers,
                filter_peers,
            })
            .with_reliability(reliability),
        );
    }

    let nodes = network_nodes(configs.into_iter().zip(apps).collect());
    let mut network = Network::new(s.net_config(), run.seed, nodes, Oracle::new());
    for (i, g) in group_of.iter().enumerate() {
        network.set_node_net(NodeId(i as u32), s.group_net(*g));
    }
    for (a, b, model) in s.class_links() {
        network.set_class_link(a, b, model);
    }
    let mut faults = s.fault_schedule(run.seed);
    for change in s.bandwidth_schedule() {
        faults.add(
            change.at,
            Fault::SetBandwidth {
                nodes: change.nodes,
                up_bytes_per_s: change.up_bytes_per_s,
                down_bytes_per_s: change.down_bytes_per_s,
            },
        );
    }
    let presence = s.presence();
    let mut engine = network.into_engine(&presence, &faults).map_err(fail)?;

    let traffic_end = match &s.heal {
        Some(heal) if heal.traffic == HealTraffic::Continue => s.duration + heal.duration,
        _ => s.duration,
    };
    let sends = schedule(&s, &conversations, run.seed, traffic_end).map_err(fail)?;
    let messages = sends.len();
    for (at, node, send) in sends {
        engine.schedule(
            at,
            NetEvent::Command {
                node,
                command: send,
            },
        );
    }
    let heal_at = s.heal.as_ref().map(|_| SimTime::ZERO + s.duration);
    let identity = RunIdentity {
        scenario: s.name.clone(),
        variant: run.variant.clone(),
        sweep_point: run.point.label(),
        sweep_axes: run
            .point
            .values
            .iter()
            .map(|(path, value)| SweepAxis {
                name: path.clone(),
                value: axis_coordinate(scenario, path, value),
            })
            .collect(),
        seed: run.seed,
        scenario_hash: scenario.hash(),
        code_version: code_version.to_string(),
    };
    Ok(BuiltRun {
        engine,
        presence,
        labels,
        end: SimTime::ZERO + s.total_duration(),
        heal_at,
        identity,
        messages,
    })
}

/// The plotted coordinate of a sweep value: the number itself, or for text values (sizes,
/// durations, names) its position in the axis's list, so plots and CSVs always get a number.
fn axis_coordinate(scenario: &Scenario, path: &str, value: &toml::Value) -> f64 {
    if let Some(number) = value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
    {
        return number;
    }
    scenario
        .sweep
        .iter()
        .find(|axis| axis.path == path)
        .and_then(|axis| axis.values.iter().position(|v| v == value))
        .map_or(0.0, |i| i as f64)
}

/// What one finished run produced.
pub struct RunOutput {
    /// The ground-truth result (write it with `reports::RunDir::write`).
    pub result: RunResult,
    /// Engine events processed.
    pub events: u64,
    /// Simulated time covered.
    pub simulated: SimDuration,
    /// Audit hash of the run.
    pub audit_hash: u64,
}

/// Builds and runs `run`, calling `progress(now, end)` about every 1% of simulated time.
pub fn execute(
    scenario: &Scenario,
    run: &RunSpec,
    code_version: &str,
    progress: &mut dyn FnMut(SimTime, SimTime),
) -> Result<RunOutput, RunError> {
    let mut built = build(scenario, run, code_version)?;
    let end = built.end;
    let step = SimDuration((end.as_nanos() / 100).max(1));
    let mut now = SimTime::ZERO;
    while now < end {
        now = (now + step).min(end);
        built
            .engine
            .run(StopAt::time(now))
            .map_err(|e| RunError::Engine {
                scenario: scenario.name.clone(),
                run: run.label.clone(),
                message: e.to_string(),
            })?;
        progress(now, end);
    }
    let network = &built.engine.world;
    let mut ctx =
        RunContext::from_network(built.identity, end, network, &built.presence, &built.labels);
    ctx.heal_at = built.heal_at;
    if let Some(interval) = target_interval(scenario) {
        ctx = ctx.with_target_interval(interval);
    }
    Ok(RunOutput {
        result: network.recorder.finish(ctx),
        events: built.engine.events_processed(),
        simulated: end.since_start(),
        audit_hash: built.engine.audit_hash(),
    })
}

/// S of the SDS roadmap targets (`reports::targets`): the mean time between messages of a
/// conversation of the first traffic entry; none when that rate is per sender.
fn target_interval(s: &Scenario) -> Option<SimDuration> {
    let traffic = s.traffic.first()?;
    if traffic.rate_per != RatePer::Conversation {
        return None;
    }
    let per_second = traffic.rate.per_second();
    (per_second > 0.0).then(|| SimDuration::from_nanos((1e9 / per_second).round() as u64))
}

/// The node configuration of a member of group `g`.
fn node_config(s: &Scenario, g: usize, topics: &BTreeSet<String>, shards: &[u16]) -> NodeConfig {
    let group = &s.groups[g];
    let has = |r: Role| group.roles.contains(&r);
    let relay = has(Role::Relay);
    let roles = Roles {
        relay,
        store: has(Role::Store),
        filter: has(Role::Filter),
        lightpush: has(Role::Lightpush),
        peer_exchange: relay && (has(Role::Store) || has(Role::Filter) || has(Role::Lightpush)),
    };
    let mut config = NodeConfig::preset(implementation_of(group), roles);
    if !topics.is_empty() {
        config.pubsub_topics = topics.iter().cloned().collect();
        config.peer_manager.shards = shards.to_vec();
    }
    config
}

/// The implementation a group's preset names.
fn implementation_of(group: &crate::Group) -> Implementation {
    match group.preset() {
        Preset::Nwaku => Implementation::Nwaku,
        Preset::GoWaku => Implementation::GoWaku,
        Preset::JsWaku => Implementation::JsWaku,
    }
}

/// Filter and lightpush service nodes, in id order.
fn services(configs: &[NodeConfig]) -> (Vec<NodeId>, Vec<NodeId>) {
    let with = |cap: Capabilities| -> Vec<NodeId> {
        configs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.roles.capabilities().contains(cap))
            .map(|(i, _)| NodeId(i as u32))
            .collect()
    };
    (with(Capabilities::FILTER), with(Capabilities::LIGHTPUSH))
}

/// `nodes` rotated by a random offset: a light client's order of preference.
fn rotated(nodes: &[NodeId], rng: &mut SimRng) -> Vec<NodeId> {
    if nodes.is_empty() {
        return Vec::new();
    }
    let offset = rng.index(nodes.len());
    nodes[offset..]
        .iter()
        .chain(&nodes[..offset])
        .copied()
        .collect()
}

/// Every conversation of every traffic entry, in (entry, conversation) order.
fn conversations(s: &Scenario, seed: u64) -> Result<Vec<Rc<Conversation>>, String> {
    let layout = s.layout();
    let mut out = Vec::new();
    for (t, traffic) in s.traffic.iter().enumerate() {
        let participants = layout
            .resolve(&traffic.participants)
            .map_err(|(_, e)| format!("traffic #{t}: {e}"))?;
        let always: Vec<NodeId> = match &traffic.always_in {
            Some(sel) => layout
                .resolve(sel)
                .map_err(|(_, e)| format!("traffic #{t}: {e}"))?,
            None => Vec::new(),
        };
        let per_conversation = match traffic.kind {
            TrafficKind::Direct => traffic.members.unwrap_or(2),
            _ => traffic.members.unwrap_or(participants.len() as u32),
        } as usize;
        let mut rng = SimRng::stream(seed, "traffic.members", t as u64);
        let name = traffic.name.clone().unwrap_or_else(|| format!("t{t}"));
        for c in 0..traffic.conversations {
            let mut members: Vec<NodeId> = rng
                .sample_indices(participants.len(), per_conversation)
                .into_iter()
                .map(|i| participants[i])
                .chain(always.iter().copied())
                .collect();
            members.sort_unstable();
            members.dedup();
            let content_topic = format!("/wakusim/1/{name}-{c}/proto");
            let pubsub_topic = match traffic.shard {
                ShardAssignment::Fixed { index } => {
                    RelayShard::new(SIM_CLUSTER_ID, index).pubsub_topic()
                }
                ShardAssignment::Auto { shards } => {
                    autoshard(&content_topic, SIM_CLUSTER_ID, u32::from(shards))
                        .map_err(|e| format!("traffic #{t}: autosharding {content_topic}: {e}"))?
                        .pubsub_topic()
                }
            };
            out.push(Rc::new(Conversation {
                id: out.len() as u32,
                pubsub_topic,
                content_topic,
                members: members.into(),
            }));
        }
    }
    Ok(out)
}

/// Every send of the run: (time, sender, command), in time order, ids assigned in that order.
fn schedule(
    s: &Scenario,
    conversations: &[Rc<Conversation>],
    seed: u64,
    traffic_end: SimDuration,
) -> Result<Vec<(SimTime, NodeId, Send)>, String> {
    let layout = s.layout();
    let mut sends: Vec<(SimTime, NodeId, u32, u32)> = Vec::new();
    let mut first = 0usize;
    for (t, traffic) in s.traffic.iter().enumerate() {
        let mut rng = SimRng::stream(seed, "traffic.schedule", t as u64);
        let allowed: Option<Vec<NodeId>> = match &traffic.senders {
            Some(sel) => Some(
                layout
                    .resolve(sel)
                    .map_err(|(_, e)| format!("traffic #{t}: {e}"))?,
            ),
            None => None,
        };
        let stop = traffic.stop.unwrap_or(traffic_end).min(traffic_end);
        for conversation in &conversations[first..first + traffic.conversations as usize] {
            let senders: Vec<NodeId> = conversation
                .members
                .iter()
                .copied()
                .filter(|m| allowed.as_ref().is_none_or(|a| a.contains(m)))
                .collect();
            if senders.is_empty() {
                continue;
            }
            let streams: Vec<Option<NodeId>> = match traffic.rate_per {
                RatePer::Conversation => vec![None],
                RatePer::Sender => senders.iter().copied().map(Some).collect(),
            };
            for fixed in streams {
                for at in send_times(traffic, stop, &mut rng) {
                    let sender = fixed.unwrap_or_else(|| senders[rng.index(senders.len())]);
                    let bytes = size(&traffic.message_size, &mut rng);
                    sends.push((SimTime::ZERO + at, sender, conversation.id, bytes));
                    if sends.len() > MAX_MESSAGES_PER_RUN {
                        return Err(format!(
                            "more than {MAX_MESSAGES_PER_RUN} messages in one run"
                        ));
                    }
                }
            }
        }
        first += traffic.conversations as usize;
    }
    sends.sort_by_key(|(at, node, conversation, _)| (*at, *conversation, *node));
    Ok(sends
        .into_iter()
        .enumerate()
        .map(|(i, (at, node, conversation, bytes))| {
            let send = Send {
                id: AppMessageId(i as u64),
                conversation,
                bytes,
            };
            (at, node, send)
        })
        .collect())
}

/// Send times of one rate stream in `[traffic.start, stop)`, at most `max_messages`.
fn send_times(traffic: &Traffic, stop: SimDuration, rng: &mut SimRng) -> Vec<SimDuration> {
    let cap = traffic
        .max_messages
        .unwrap_or(u64::MAX)
        .min(MAX_MESSAGES_PER_RUN as u64 + 1);
    let mut times = Vec::new();
    let mut t = traffic.start;
    loop {
        let gaps: Vec<SimDuration> = match &traffic.rate {
            Rate::Constant { every } => vec![*every],
            Rate::Poisson { mean, per } => {
                vec![SimDuration(
                    rng.exponential(per.as_nanos() as f64 / mean) as u64
                )]
            }
            Rate::Bursty {
                messages,
                spacing,
                mean_gap,
            } => {
                let first = SimDuration(rng.exponential(mean_gap.as_nanos() as f64) as u64);
                std::iter::once(first)
                    .chain(std::iter::repeat_n(*spacing, *messages as usize - 1))
                    .collect()
            }
        };
        for gap in gaps {
            t = t + gap;
            if t >= stop || times.len() as u64 >= cap {
                return times;
            }
            times.push(t);
        }
    }
}

/// One payload size.
fn size(dist: &SizeDist, rng: &mut SimRng) -> u32 {
    let limit = waku::message::MAX_MESSAGE_BYTES as u64 - 1024;
    let bytes = match dist {
        SizeDist::Constant { value } => value.0,
        SizeDist::Uniform { min, max } => rng.range_inclusive(min.0, max.0.max(min.0)),
        SizeDist::LogNormal { median, sigma, max } => {
            let v = median.0 as f64 * sim_core::rng::exp(sigma * rng.standard_normal());
            (v as u64).min(max.map_or(limit, |m| m.0))
        }
    };
    bytes.clamp(u64::from(reliability::app::HEADER_BYTES), limit) as u32
}
