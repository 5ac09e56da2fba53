//! The reliability variants in a small simulated network (sim-net, `WakuNode` + `TrafficApp`):
//! a relay node that sleeps through part of a conversation gets more of it with store-based
//! reliability, with MVDS and with SDS than with plain relay, on the same seed, topology and
//! faults.

use std::rc::Rc;

use reliability::{Conversation, ReliabilityConfig, Send, TrafficApp, TrafficConfig, Variant};
use sim_core::{AppMessageId, AppObservation, BelievedStatus, DeliveryPath, Engine, NodeId};
use sim_core::{SimDuration, SimTime, StopAt};
use sim_net::{Fault, FaultSchedule, LinkModel, NetConfig, NetEvent, Network, Presence};
use waku::node::{Implementation, NodeConfig, Roles, SIM_CLUSTER_ID, WakuNode, network_nodes};
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
    run_in(variant, seed, end, &[SENDER, SLEEPER])
}

/// [`run`] with a conversation of `members` (sorted; node 1 sends to all of them).
fn run_in(variant: Variant, seed: u64, end: SimTime, members: &[NodeId]) -> Log {
    run_with(variant, seed, end, members, &ReliabilityConfig::default())
}

/// [`run_in`] with these reliability parameters.
fn run_with(
    variant: Variant,
    seed: u64,
    end: SimTime,
    members: &[NodeId],
    reliability: &ReliabilityConfig,
) -> Log {
    let conversation = Rc::new(Conversation {
        id: 0,
        pubsub_topic: RelayShard::new(SIM_CLUSTER_ID, 0).pubsub_topic(),
        content_topic: "/wakusim/1/dm-0/proto".to_string(),
        members: members.to_vec().into(),
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
        apps.push(
            TrafficApp::new(TrafficConfig {
                variant,
                conversations,
                lightpush_peers: Vec::new(),
                filter_peers: Vec::new(),
            })
            .with_reliability(reliability.clone()),
        );
    }
    let nodes = network_nodes(configs.into_iter().zip(apps).collect());
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
    for variant in [
        Variant::StoreCheck,
        Variant::MvdsStoreCheck,
        Variant::SdsRepair,
    ] {
        let a = run(variant, 7, secs(300));
        let b = run(variant, 7, secs(300));
        assert_eq!(a, b, "{}", variant.name());
    }
}

/// Members of the group channel of the SDS tests.
const GROUP: [NodeId; 4] = [SENDER, NodeId(2), NodeId(3), SLEEPER];

fn observed(log: &Log, pred: impl Fn(NodeId, &AppObservation) -> bool) -> usize {
    log.iter().filter(|(_, n, o)| pred(*n, o)).count()
}

#[test]
fn sds_detects_what_a_sleeper_missed_in_a_group_and_fetches_it_by_hint() {
    let messages = 27;
    for seed in [1, 2] {
        let none = run_in(Variant::None, seed, secs(500), &GROUP);
        let sds = run_in(Variant::Sds, seed, secs(500), &GROUP);
        let (got_none, got_sds) = (first_receptions(&none), first_receptions(&sds));
        println!(
            "seed {seed}: none {} / {messages}, sds {} / {messages}",
            got_none.len(),
            got_sds.len()
        );
        assert!(
            got_none.len() <= messages - 10,
            "plain relay loses the sleep"
        );
        assert_eq!(got_sds.len(), messages, "SDS gets every message back");
        let fetched = got_sds
            .iter()
            .filter(|(_, p)| *p == DeliveryPath::StoreFetch)
            .count();
        assert!(fetched > 0, "missed messages came from the store by hint");
        let misses = observed(&sds, |n, o| {
            n == SLEEPER && matches!(o, AppObservation::MissDetected { .. })
        });
        assert!(
            misses >= fetched,
            "every fetched message was detected missing first"
        );
        assert!(counter(&sds, "sds_store_lookups") > 0);
        assert!(counter(&sds, "sds_bloom_bytes") > 0);
        // The sender learns, per recipient, who holds its messages; only members confirm.
        let confirmations: Vec<NodeId> = sds
            .iter()
            .filter_map(|(_, n, o)| match o {
                AppObservation::Confirmed { by, .. } if *n == SENDER => Some(*by),
                _ => None,
            })
            .collect();
        assert!(
            confirmations.len() >= messages,
            "at least one confirmation per message"
        );
        assert!(
            confirmations
                .iter()
                .all(|b| GROUP.contains(b) && *b != SENDER)
        );
        assert!(
            confirmations.contains(&SLEEPER),
            "the sleeper's receptions are confirmed to the sender after it wakes"
        );
        assert_eq!(statuses(&sds, BelievedStatus::Acked), messages);
    }
}

#[test]
fn sds_repair_rebroadcasts_what_a_sleeper_missed() {
    let messages = 27;
    // No store lookups: what the sleeper gets back, SDS-R (or a resend) brought.
    let mut config = ReliabilityConfig::default();
    config.sds_retrieval.retrieval_interval = None;
    let log = run_with(Variant::SdsRepair, 3, secs(900), &GROUP, &config);
    let got = first_receptions(&log);
    println!(
        "sds+repair: {} / {messages}, repair responses {}",
        got.len(),
        counter(&log, "sds_repair_responses")
    );
    assert_eq!(got.len(), messages);
    assert!(
        counter(&log, "sds_repair_requests") > 0,
        "the sleeper asked for repair"
    );
    assert!(
        counter(&log, "sds_repair_responses") > 0,
        "someone rebroadcast a missed message"
    );
    assert!(counter(&log, "sds_sync_messages") > 0);
}
