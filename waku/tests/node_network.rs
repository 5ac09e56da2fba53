//! WakuNode in small simulated networks: relay dissemination, light clients through lightpush
//! and filter, store archiving, and recovery after sleep.

mod common;

use common::{TestApp, build, counter, publish, receptions};
use sim_core::{DeliveryPath, NodeId, SimDuration, SimTime, StopAt};
use sim_net::{Fault, FaultSchedule, LinkModel, NetConfig};
use waku::node::{Implementation, NodeConfig, Roles};

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn net(latency_ms: u64) -> NetConfig {
    NetConfig {
        default_link: LinkModel::constant(SimDuration::from_millis(latency_ms)),
        ..NetConfig::default()
    }
}

/// `n` nodes with `roles`; node i dials i+1 and i+3 (mod n): a connected ring with chords.
fn ring(n: u32, roles: Roles) -> Vec<(NodeConfig, TestApp)> {
    (0..n)
        .map(|i| {
            let mut config = NodeConfig::preset(Implementation::Nwaku, roles);
            config.static_peers = vec![NodeId((i + 1) % n), NodeId((i + 3) % n)];
            (config, TestApp::default())
        })
        .collect()
}

fn first_receivers(sim: &common::Sim, id: u64) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = receptions(sim)
        .into_iter()
        .filter(|(_, _, m, _)| *m == id)
        .map(|(_, n, _, _)| n)
        .collect();
    nodes.sort();
    nodes
}

#[test]
fn relay_network_delivers_every_message_to_every_other_node_once() {
    let mut sim = build(ring(12, Roles::RELAY), net(20), 1, &FaultSchedule::new());
    for id in 0..5u64 {
        publish(&mut sim, secs(30 + id), (id * 5 % 12) as u32, id, 1000);
    }
    sim.run(StopAt::time(secs(60))).unwrap();
    for id in 0..5u64 {
        let publisher = NodeId((id * 5 % 12) as u32);
        let expected: Vec<NodeId> = (0..12).map(NodeId).filter(|n| *n != publisher).collect();
        assert_eq!(first_receivers(&sim, id), expected, "message {id}");
    }
    for i in 0..12 {
        let mesh = sim.world.node(NodeId(i)).mesh_peers(&topic());
        assert!(!mesh.is_empty(), "node {i} has a mesh");
    }
}

fn topic() -> String {
    waku::sharding::RelayShard::new(waku::node::SIM_CLUSTER_ID, 0).pubsub_topic()
}

#[test]
fn light_clients_send_with_lightpush_and_receive_with_filter() {
    let mut nodes = ring(6, Roles::SERVICE);
    for (service_push, service_filter) in [(0, 1), (2, 3)] {
        let config = NodeConfig::preset(Implementation::Nwaku, Roles::LIGHT);
        let app = TestApp {
            filter_service: Some(NodeId(service_filter)),
            lightpush_service: Some(NodeId(service_push)),
        };
        nodes.push((config, app));
    }
    let mut sim = build(nodes, net(30), 2, &FaultSchedule::new());
    publish(&mut sim, secs(20), 6, 100, 500);
    publish(&mut sim, secs(21), 7, 101, 500);
    publish(&mut sim, secs(22), 4, 102, 500);
    sim.run(StopAt::time(secs(40))).unwrap();
    let got = receptions(&sim);
    for (id, sender, other_light) in [(100, 6, 7), (101, 7, 6), (102, 4, 6)] {
        let to_light: Vec<DeliveryPath> = got
            .iter()
            .filter(|(_, n, m, _)| *m == id && *n == NodeId(other_light))
            .map(|(_, _, _, p)| *p)
            .collect();
        assert_eq!(
            to_light,
            [DeliveryPath::FilterPush],
            "message {id} reaches the other light client"
        );
        let relays = got
            .iter()
            .filter(|(_, n, m, p)| *m == id && n.0 < 6 && *p == DeliveryPath::Relay)
            .count();
        // Every service node but the one that published it (the sender, or its lightpush
        // service node) receives it over relay.
        assert_eq!(
            relays, 5,
            "message {id} from {sender} reaches the other service nodes"
        );
    }
    for i in 0..6 {
        assert_eq!(
            sim.world.node(NodeId(i)).archived_messages(),
            3,
            "store node {i}"
        );
    }
    assert_eq!(sim.world.node(NodeId(1)).filter_subscribers(), 1);
}

#[test]
fn a_relay_node_that_sleeps_detects_it_reconnects_and_regrafts() {
    let mut faults = FaultSchedule::new();
    faults.add(
        secs(60),
        Fault::Sleep {
            nodes: vec![NodeId(3)],
        },
    );
    faults.add(
        secs(600),
        Fault::Wake {
            nodes: vec![NodeId(3)],
        },
    );
    let mut sim = build(ring(10, Roles::RELAY), net(20), 3, &faults);
    publish(&mut sim, secs(300), 0, 1, 500);
    publish(&mut sim, secs(720), 0, 2, 500);
    sim.run(StopAt::time(secs(780))).unwrap();
    assert!(counter(&sim, NodeId(3), "sleep_detected") >= 1);
    assert!(
        !first_receivers(&sim, 1).contains(&NodeId(3)),
        "asleep when message 1 went out"
    );
    assert!(
        first_receivers(&sim, 2).contains(&NodeId(3)),
        "back in the mesh for message 2"
    );
    assert!(!sim.world.node(NodeId(3)).mesh_peers(&topic()).is_empty());
}

#[test]
fn a_filter_client_resubscribes_after_its_service_node_stops_answering_pings() {
    let mut nodes = ring(4, Roles::SERVICE);
    let app = TestApp {
        filter_service: Some(NodeId(0)),
        lightpush_service: None,
    };
    nodes.push((NodeConfig::preset(Implementation::Nwaku, Roles::LIGHT), app));
    let mut faults = FaultSchedule::new();
    faults.add(
        secs(60),
        Fault::Sleep {
            nodes: vec![NodeId(0)],
        },
    );
    let mut sim = build(nodes, net(20), 4, &faults);
    publish(&mut sim, secs(1200), 2, 9, 300);
    sim.run(StopAt::time(secs(1260))).unwrap();
    assert!(counter(&sim, NodeId(4), "subscription_lost") >= 1);
    let to_client: Vec<_> = receptions(&sim)
        .into_iter()
        .filter(|(_, n, m, _)| *n == NodeId(4) && *m == 9)
        .collect();
    assert_eq!(
        to_client.len(),
        1,
        "received once through the new service node"
    );
    assert_eq!(to_client[0].3, DeliveryPath::FilterPush);
}
