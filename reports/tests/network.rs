//! `RunContext::from_network` on a real simulated network: classes, counters and the state
//! log reach the result (fault periods, downtime, bytes per node).

use reports::{Oracle, RunContext, RunIdentity};
use sim_core::{NodeId, SimDuration, SimTime, StopAt};
use sim_net::testkit::{Probe, ProbeCommand, ProbeConfig};
use sim_net::{Fault, FaultSchedule, NetConfig, NetEvent, Network, NodeNet, Presence};

fn at_s(s: u64) -> SimTime {
    SimTime(s * 1_000_000_000)
}

/// The command that makes `from` send message `id` of 1 000 bytes to `to`.
fn send_1kb<M>(from: NodeId, to: NodeId, id: u64) -> NetEvent<M, ProbeCommand> {
    let command = ProbeCommand::Send {
        to,
        id,
        bytes: 1000,
    };
    NetEvent::Command {
        node: from,
        command,
    }
}

#[test]
fn context_from_a_finished_network() {
    let nodes = vec![
        Probe::new(vec![NodeId(1), NodeId(2)], ProbeConfig::default()),
        Probe::new(vec![], ProbeConfig::default()),
        Probe::new(vec![], ProbeConfig::default()),
    ];
    let net = Network::new(NetConfig::default(), 3, nodes, Vec::new());
    let mut faults = FaultSchedule::new();
    faults.add(
        at_s(5),
        Fault::Offline {
            nodes: vec![NodeId(2)],
        },
    );
    faults.add(
        at_s(15),
        Fault::Online {
            nodes: vec![NodeId(2)],
        },
    );
    let presence = [Presence::Present; 3];
    let mut sim = net.into_engine(&presence, &faults).expect("valid schedule");
    sim.schedule(at_s(2), send_1kb(NodeId(0), NodeId(1), 1));
    sim.run(StopAt::time(at_s(30))).expect("no livelock");

    let labels = ["hub".to_string()];
    let identity = RunIdentity::default();
    let ctx = RunContext::from_network(identity, at_s(30), &sim.world, &presence, &labels);
    assert_eq!(ctx.classes, ["data", "ping"]);
    assert_eq!(ctx.nodes.len(), 3);
    assert_eq!(ctx.nodes[0].label, "hub");
    assert!(ctx.nodes.iter().all(|n| n.present_at_start));
    let r = Oracle::new().finish(ctx);
    assert_eq!(r.faults.len(), 1);
    assert_eq!((r.faults[0].start, r.faults[0].end), (at_s(5), at_s(15)));
    assert_eq!(r.nodes[2].downtime, SimDuration::from_secs(10));
    assert!(r.nodes[0].stats.bytes_sent[0] >= 1000);
    assert_eq!(r.traffic.len(), 2);
    assert_eq!(r.timeseries[0].nodes_online_min, 2, "n2 offline from 5 s");
}

/// A node sending faster than its uplink drains overflows its queue; `nodes.csv` reports the
/// drops the network counted, at the queue's node.
#[test]
fn queue_drops_reach_nodes_csv() {
    let nodes = vec![
        Probe::new(vec![NodeId(1)], ProbeConfig::default()),
        Probe::new(vec![], ProbeConfig::default()),
    ];
    let mut net = Network::new(NetConfig::default(), 3, nodes, Vec::new());
    net.set_node_net(
        NodeId(0),
        NodeNet {
            up_bytes_per_s: 1_000,
            ..NodeNet::default()
        },
    );
    let presence = [Presence::Present; 2];
    let mut sim = net
        .into_engine(&presence, &FaultSchedule::new())
        .expect("valid schedule");
    // 20 kB at once into a 1 kB/s uplink whose queue holds 5 s: most of it is refused.
    for id in 0..20 {
        sim.schedule(at_s(2), send_1kb(NodeId(0), NodeId(1), id));
    }
    sim.run(StopAt::time(at_s(10))).expect("no livelock");
    let dropped = sim.world.stats(NodeId(0)).queue_drops;
    assert!(dropped > 0, "the uplink overflowed");

    let identity = RunIdentity::default();
    let ctx = RunContext::from_network(identity, at_s(10), &sim.world, &presence, &[]);
    let r = Oracle::new().finish(ctx);
    let header = reports::rows::nodes_header(&r);
    let column = header
        .iter()
        .position(|c| c == "queue_drops")
        .expect("column");
    let rows: Vec<Vec<String>> = reports::rows::node_records(&r).collect();
    assert_eq!(rows[0][column], dropped.to_string());
    assert_eq!(rows[1][column], "0");
}
