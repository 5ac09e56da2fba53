//! A 1000-node relay network (nwaku preset, D = 6, 100 ms links): every message reaches every
//! node, meshes stay within [D_low, D_high] after warm-up, and the per-node relay bandwidth at
//! 1 msg/s of 1 KB is measured (the published figure is about 10 KB/s).

mod common;

use common::{TestApp, build, publish, receptions};
use sim_core::{NodeId, SimDuration, SimRng, SimTime, StopAt};
use sim_net::topology::random_regular;
use sim_net::{FaultSchedule, LinkModel, NetConfig};
use waku::node::{Implementation, NodeConfig, Roles};
use waku::relay::RelayConfig;

const NODES: u32 = 1000;

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn network(seed: u64) -> common::Sim {
    let mut rng = SimRng::stream(seed, "topology", 0);
    let topology = random_regular(NODES as usize, 4, &mut rng).expect("valid graph");
    let mut configs: Vec<NodeConfig> = (0..NODES)
        .map(|_| NodeConfig::preset(Implementation::Nwaku, Roles::RELAY))
        .collect();
    for dial in topology.dial_plan() {
        configs[dial.dialer as usize]
            .static_peers
            .push(NodeId(dial.listener));
    }
    let net = NetConfig {
        default_link: LinkModel::constant(SimDuration::from_millis(100)),
        ..NetConfig::default()
    };
    let nodes = configs
        .into_iter()
        .map(|c| (c, TestApp::default()))
        .collect();
    build(nodes, net, seed, &FaultSchedule::new())
}

fn topic() -> String {
    waku::sharding::RelayShard::new(waku::node::SIM_CLUSTER_ID, 0).pubsub_topic()
}

#[test]
fn thousand_node_relay_delivers_everything_with_bounded_meshes() {
    let mut sim = network(1);
    let mut rng = SimRng::stream(1, "publishers", 0);
    let messages = 20u64;
    for id in 0..messages {
        let publisher = rng.below(u64::from(NODES)) as u32;
        publish(
            &mut sim,
            secs(60) + SimDuration::from_millis(500 * id),
            publisher,
            id,
            10_000,
        );
    }
    sim.run(StopAt::time(secs(90))).unwrap();

    let mut receivers = vec![0u32; messages as usize];
    for (_, _, id, _) in receptions(&sim) {
        receivers[id as usize] += 1;
    }
    assert!(receivers.iter().all(|&r| r == NODES - 1), "{receivers:?}");

    let config = RelayConfig::nwaku();
    let (low, high) = (config.d_low, config.d_high);
    for i in 0..NODES {
        let mesh = sim.world.node(NodeId(i)).mesh_peers(&topic()).len();
        assert!(
            (low..=high).contains(&mesh),
            "node {i}: mesh {mesh} outside [{low}, {high}]"
        );
    }
}

#[test]
fn thousand_node_relay_bandwidth_at_one_message_per_second() {
    let mut sim = network(2);
    let mut rng = SimRng::stream(2, "publishers", 0);
    let (start, seconds) = (60u64, 60u64);
    sim.run(StopAt::time(secs(start))).unwrap();
    let before: Vec<(u64, u64)> = (0..NODES)
        .map(|i| {
            let s = sim.world.stats(NodeId(i));
            (s.bytes_sent[0], s.bytes_received[0])
        })
        .collect();
    for id in 0..seconds {
        let publisher = rng.below(u64::from(NODES)) as u32;
        publish(&mut sim, secs(start + id), publisher, id, 1000);
    }
    sim.run(StopAt::time(secs(start + seconds))).unwrap();
    let (mut sent, mut received) = (0u64, 0u64);
    for i in 0..NODES {
        let s = sim.world.stats(NodeId(i));
        sent += s.bytes_sent[0] - before[i as usize].0;
        received += s.bytes_received[0] - before[i as usize].1;
    }
    let per_node = |bytes: u64| bytes as f64 / f64::from(NODES) / seconds as f64 / 1000.0;
    let (out_kbps, in_kbps) = (per_node(sent), per_node(received));
    println!(
        "relay bandwidth per node at 1 msg/s of 1 KB: {out_kbps:.1} KB/s out, {in_kbps:.1} KB/s in (published: ~10 KB/s)"
    );
    // Each message crosses every mesh link about once (D = 6 → ~6 KB/s each way), plus gossip.
    assert!((3.0..30.0).contains(&in_kbps), "{in_kbps} KB/s in");
    assert!(
        (in_kbps - out_kbps).abs() < 0.5,
        "bytes in and out balance over the network"
    );
}
