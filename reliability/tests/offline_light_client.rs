//! A plain light client (variant `none`, `TrafficApp` in a small sim-net network) whose network
//! goes down long enough to lose its filter subscription: it subscribes again and receives once
//! the network is back, as js-waku/go-waku light clients do.

use std::rc::Rc;

use reliability::{Conversation, Send, TrafficApp, TrafficConfig, Variant};
use sim_core::{AppMessageId, AppObservation, Engine, NodeId, SimDuration, SimTime, StopAt};
use sim_net::{Fault, FaultSchedule, LinkModel, NetConfig, NetEvent, Network, Presence};
use waku::node::{Implementation, NodeConfig, Roles, SIM_CLUSTER_ID, WakuNode, network_nodes};
use waku::sharding::RelayShard;

type Log = Vec<(SimTime, NodeId, AppObservation)>;

const DESKTOP: NodeId = NodeId(2);
const PHONE: NodeId = NodeId(3);
const OFFLINE: (u64, u64) = (100, 400);

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

/// Nodes 0 and 1 are service nodes, node 2 a relay node, node 3 a light client using both
/// services. Node 2 sends to node 3 every 10 s from 30 s to 650 s; node 3's network is down
/// from 100 s to 400 s.
fn run(variant: Variant) -> Log {
    let conversation = Rc::new(Conversation {
        id: 0,
        pubsub_topic: RelayShard::new(SIM_CLUSTER_ID, 0).pubsub_topic(),
        content_topic: "/wakusim/1/dm-0/proto".to_string(),
        members: vec![DESKTOP, PHONE].into(),
    });
    let mut configs = Vec::new();
    let mut apps = Vec::new();
    for i in 0..4u32 {
        let (implementation, roles, static_peers) = match i {
            0 => (Implementation::Nwaku, Roles::SERVICE, vec![NodeId(1)]),
            1 => (Implementation::Nwaku, Roles::SERVICE, vec![]),
            2 => (
                Implementation::GoWaku,
                Roles::RELAY,
                vec![NodeId(0), NodeId(1)],
            ),
            _ => (Implementation::GoWaku, Roles::LIGHT, vec![]),
        };
        let mut config = NodeConfig::preset(implementation, roles);
        config.static_peers = static_peers;
        configs.push(config);
        let member = conversation.members.contains(&NodeId(i));
        apps.push(TrafficApp::new(TrafficConfig {
            variant,
            conversations: if member {
                vec![Rc::clone(&conversation)]
            } else {
                Vec::new()
            },
            lightpush_peers: if i == 3 {
                vec![NodeId(0), NodeId(1)]
            } else {
                vec![]
            },
            filter_peers: if i == 3 {
                vec![NodeId(0), NodeId(1)]
            } else {
                vec![]
            },
        }));
    }
    let nodes = network_nodes(configs.into_iter().zip(apps).collect());
    let net = NetConfig {
        default_link: LinkModel::constant(SimDuration::from_millis(30)),
        ..NetConfig::default()
    };
    let mut faults = FaultSchedule::new();
    faults.add(secs(OFFLINE.0), Fault::Offline { nodes: vec![PHONE] });
    faults.add(secs(OFFLINE.1), Fault::Online { nodes: vec![PHONE] });
    let mut engine: Engine<Network<WakuNode<TrafficApp>, Log>> =
        Network::new(net, 1, nodes, Log::new())
            .into_engine(&[Presence::Present; 4], &faults)
            .expect("valid faults");
    for s in (30..=650).step_by(10) {
        engine.schedule(
            secs(s),
            NetEvent::Command {
                node: DESKTOP,
                command: Send {
                    id: AppMessageId(s),
                    conversation: 0,
                    bytes: 300,
                },
            },
        );
    }
    engine.run(StopAt::time(secs(700))).expect("runs");
    engine.world.recorder
}

/// Ids (= send times in s) of the messages the phone received.
fn received(log: &Log) -> Vec<u64> {
    let mut ids: Vec<u64> = log
        .iter()
        .filter_map(|(_, node, o)| match o {
            AppObservation::Received { id, .. } if *node == PHONE => Some(id.0),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[test]
fn a_light_client_subscribes_again_after_its_network_comes_back() {
    for variant in [Variant::None, Variant::Mvds] {
        let got = received(&run(variant));
        let before = got.iter().filter(|s| **s < OFFLINE.0).count();
        assert_eq!(before, 7, "{variant:?}: 30..=90 s arrive before the outage");
        // Sent well after the network came back (time to redial and subscribe).
        let after = got.iter().filter(|s| **s >= OFFLINE.1 + 20).count();
        let sent_after = (OFFLINE.1 + 20..=650).step_by(10).count();
        assert_eq!(
            after, sent_after,
            "{variant:?}: the phone receives again after the outage: {got:?}"
        );
    }
}
