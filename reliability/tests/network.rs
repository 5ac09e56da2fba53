//! The reliability variants in a small simulated network (sim-net, `WakuNode` + `TrafficApp`):
//! a relay node that sleeps through part of a conversation gets more of it with store-based
//! reliability and with MVDS than with plain relay, on the same seed, topology and faults.

use std::rc::Rc;

use reliability::{Conversation, Send, TrafficApp, TrafficConfig, Variant};
use sim_core::{AppMessageId, AppObservation, BelievedStatus, DeliveryPath, Engine, NodeId};
use sim_core::{SimDuration, SimTime, StopAt};
use sim_net::{Fault, FaultSchedule, LinkModel, NetConfig, NetEvent, Network, Presence};
use waku::node::{Implementation, NodeConfig, Roles, SIM_CLUSTER_ID, WakuNode, directory_for};
use waku::sharding::RelayShard;

type Log = Vec<(SimTime, NodeId, AppObservation)>;

const NODES: u32 = 8;
const SENDER: NodeId = NodeId(1);
const SLEEPER: NodeId = NodeId(5);

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

/// Node 0 is a store service node; nodes 1..8 are relay nodes on a ring with chords. Node 1
/// sends to node 5 every 10 s from 30 s to 290 s; node 5 sleeps from 60 s to 200 s.
fn run(variant: Variant, seed: u64, end: SimTime) -> Log {
    let conversation = Rc::new(Conversation {
        id: 0,
        pubsub_topic: RelayShard::new(SIM_CLUSTER_ID, 0).pubsub_topic(),
        content_topic: "/wakusim/1/dm-0/proto".to_string(),
        members: vec![SENDER, SLEEPER].into(),
    });
    let mut configs = Vec::new();
    let mut apps = Vec::new();
    for i in 0..NODES {
        let roles = if i == 0 { Roles::SERVICE } else { Roles::RELAY };
        let mut config = NodeConfig::preset(Implementation::Nwaku, roles);
        config.static_peers = vec![NodeId((i + 1) % NODES), NodeId((i + 3) % NODES)];
        configs.push(config);
        let me = NodeId(i);
        let conversations = if conversation.members.contains(&me) {
            vec![Rc::clone(&conversation)]
        } else {
            Vec::new()
        };
        apps.push(TrafficApp::new(TrafficConfig {
            variant,
            conversations,
            lightpush_peers: Vec::new(),
            filter_peers: Vec::new(),
        }));
    }
    let directory = Rc::new(directory_for(&configs));
    let nodes: Vec<WakuNode<TrafficApp>> = configs
        .into_iter()
        .zip(apps)
        .enumerate()
        .map(|(i, (config, app))| {
            WakuNode::new(config, NodeId(i as u32), Rc::clone(&directory), app)
        })
        .collect();
    let net = NetConfig {
        default_link: LinkModel::constant(SimDuration::from_millis(30)),
        ..NetConfig::default()
    };
    let mut faults = FaultSchedule::new();
    faults.add(
        secs(60),
        Fault::Sleep {
            nodes: vec![SLEEPER],
        },
    );
    faults.add(
        secs(200),
        Fault::Wake {
            nodes: vec![SLEEPER],
        },
    );
    let mut engine: Engine<Network<WakuNode<TrafficApp>, Log>> =
        Network::new(net, seed, nodes, Log::new())
            .into_engine(&vec![Presence::Present; NODES as usize], &faults)
            .expect("valid faults");
    for (k, s) in (30..300).step_by(10).enumerate() {
        engine.schedule(
            secs(s),
            NetEvent::Command {
                node: SENDER,
                command: Send {
                    id: AppMessageId(k as u64),
                    conversation: 0,
                    bytes: 300,
                },
            },
        );
    }
    engine.run(StopAt::time(end)).expect("runs");
    engine.world.recorder
}

/// Messages the sleeper received at least once, and how the first copy came.
fn first_receptions(log: &Log) -> Vec<(AppMessageId, DeliveryPath)> {
    let mut seen: Vec<(AppMessageId, DeliveryPath)> = Vec::new();
    for (_, node, o) in log {
        if let AppObservation::Received { id, path } = o
            && *node == SLEEPER
            && !seen.iter().any(|(i, _)| i == id)
        {
            seen.push((*id, *path));
        }
    }
    seen
}

fn statuses(log: &Log, status: BelievedStatus) -> usize {
    log.iter()
        .filter(|(_, n, o)| {
            *n == SENDER && matches!(o, AppObservation::Status { status: s, .. } if *s == status)
        })
        .count()
}

fn counter(log: &Log, name: &str) -> u64 {
    log.iter()
        .filter_map(|(_, _, o)| match o {
            AppObservation::Counter { name: n, delta } if *n == name => Some(*delta),
            _ => None,
        })
        .sum()
}

#[test]
fn store_check_recovers_what_a_sleeping_relay_node_missed() {
    let messages = 27;
    for seed in [1, 2] {
        let none = run(Variant::None, seed, secs(400));
        let store = run(Variant::StoreCheck, seed, secs(400));
        let got_none = first_receptions(&none);
        let got_store = first_receptions(&store);
        println!(
            "seed {seed}: none {} / {messages}, store-check {} / {messages}",
            got_none.len(),
            got_store.len()
        );
        assert!(
            got_none.len() <= messages - 10,
            "plain relay loses what was sent during the sleep"
        );
        assert_eq!(
            got_store.len(),
            messages,
            "store-check retrieves every message"
        );
        let fetched = got_store
            .iter()
            .filter(|(_, p)| *p == DeliveryPath::StoreFetch)
            .count();
        assert_eq!(
            fetched,
            messages - got_none.len(),
            "the gap came from the store"
        );
        let misses = store
            .iter()
            .filter(|(_, n, o)| *n == SLEEPER && matches!(o, AppObservation::MissDetected { .. }))
            .count();
        assert_eq!(misses, fetched);
        assert!(counter(&store, "store_queries") > 0);
        assert_eq!(counter(&none, "store_queries"), 0);
        // The sender believes Sent once a store node has the message, for every message.
        assert_eq!(statuses(&store, BelievedStatus::Sent), messages);
        assert_eq!(statuses(&store, BelievedStatus::Failed), 0);
    }
}

#[test]
fn mvds_retransmits_to_a_peer_that_slept_and_gets_acks() {
    let messages = 27;
    let none = run(Variant::None, 3, secs(700));
    for variant in [Variant::Mvds, Variant::MvdsStoreCheck] {
        let log = run(variant, 3, secs(700));
        let got = first_receptions(&log);
        println!(
            "{}: {} / {messages} (none {}), acked {}",
            variant.name(),
            got.len(),
            first_receptions(&none).len(),
            statuses(&log, BelievedStatus::Acked)
        );
        assert_eq!(got.len(), messages, "{}: all delivered", variant.name());
        assert!(
            got.iter().any(|(_, p)| *p != DeliveryPath::Relay),
            "some arrived by retransmission or from the store"
        );
        assert_eq!(statuses(&log, BelievedStatus::Acked), messages);
        assert!(counter(&log, "mvds_retransmissions") > 0);
        let overhead: u64 = log
            .iter()
            .filter_map(|(_, _, o)| match o {
                AppObservation::Overhead { bytes } => Some(u64::from(*bytes)),
                _ => None,
            })
            .sum();
        assert!(overhead > 0);
    }
}

#[test]
fn variants_are_deterministic() {
    for variant in [Variant::StoreCheck, Variant::MvdsStoreCheck] {
        let a = run(variant, 7, secs(300));
        let b = run(variant, 7, secs(300));
        assert_eq!(a, b, "{}", variant.name());
    }
}
