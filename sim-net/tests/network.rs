//! Behaviour of the simulated network, driven with scripted probe nodes: delivery semantics,
//! loss laws, bandwidth, partitions, node states and what each side learns.

use sim_core::{DialError, DisconnectReason, Engine, NodeId, SimDuration, SimTime, StopAt};
use sim_net::testkit::{Probe, ProbeCommand, ProbeConfig, ProbeEvent};
use sim_net::{
    Fault, FaultSchedule, LinkModel, NetConfig, NetEvent, Network, NodeNet, Presence, Semantics,
};

type Log = Vec<(SimTime, NodeId, ProbeEvent)>;
type Sim = Engine<Network<Probe, Log>>;

fn ms(v: u64) -> SimDuration {
    SimDuration::from_millis(v)
}
fn at_ms(v: u64) -> SimTime {
    SimTime::ZERO + ms(v)
}
fn n(i: u32) -> NodeId {
    NodeId(i)
}

/// `count` probes; probe 0 dials every other one at start.
fn star(
    config: NetConfig,
    seed: u64,
    count: u32,
    probe: ProbeConfig,
    faults: &FaultSchedule,
) -> Sim {
    let nodes = (0..count)
        .map(|i| {
            let peers = if i == 0 {
                (1..count).map(n).collect()
            } else {
                vec![]
            };
            Probe::new(peers, probe)
        })
        .collect();
    let net = Network::new(config, seed, nodes, Log::new());
    net.into_engine(&vec![Presence::Present; count as usize], faults)
        .expect("valid schedule")
}

fn link(latency_ms: u64, loss: f64) -> NetConfig {
    NetConfig {
        default_link: LinkModel::constant(ms(latency_ms)).with_loss(loss),
        ..NetConfig::default()
    }
}

fn send(sim: &mut Sim, at: SimTime, from: u32, to: u32, id: u64, bytes: u32) {
    let command = ProbeCommand::Send {
        to: n(to),
        id,
        bytes,
    };
    sim.schedule(
        at,
        NetEvent::Command {
            node: n(from),
            command,
        },
    );
}

fn events_of(sim: &Sim, node: u32) -> Vec<(SimTime, ProbeEvent)> {
    let log = &sim.world.recorder;
    log.iter()
        .filter(|(_, who, _)| *who == n(node))
        .map(|(t, _, e)| (*t, e.clone()))
        .collect()
}

/// (arrival time, id, one-way delay) of every data message `node` received.
fn received(sim: &Sim, node: u32) -> Vec<(SimTime, u64, SimDuration)> {
    events_of(sim, node)
        .into_iter()
        .filter_map(|(t, e)| match e {
            ProbeEvent::Received { id, sent_at, .. } => Some((t, id, t - sent_at)),
            _ => None,
        })
        .collect()
}

fn run_until(sim: &mut Sim, t: SimTime) {
    sim.run(StopAt::time(t)).expect("no livelock");
}

#[test]
fn dial_costs_handshake_round_trips_on_each_side() {
    let mut sim = star(
        link(50, 0.0),
        1,
        2,
        ProbeConfig::default(),
        &FaultSchedule::new(),
    );
    run_until(&mut sim, at_ms(1000));
    // 3 round trips of 100 ms for the dialer; the listener is one leg earlier.
    let up = |node| {
        events_of(&sim, node)
            .into_iter()
            .find(|(_, e)| matches!(e, ProbeEvent::Connected { .. }))
            .map(|(t, _)| t)
    };
    assert_eq!(up(0), Some(at_ms(300)));
    assert_eq!(up(1), Some(at_ms(250)));
}

#[test]
fn datagram_total_loss_delivers_nothing() {
    for seed in 0..20 {
        let mut config = link(10 + seed, 1.0);
        config.semantics = Semantics::Datagram;
        // Dials must still succeed: loss applies to messages, not handshakes.
        let mut sim = star(
            config,
            seed,
            3,
            ProbeConfig::default(),
            &FaultSchedule::new(),
        );
        for i in 0..100 {
            send(
                &mut sim,
                at_ms(1000 + i * 10),
                0,
                1 + (i % 2) as u32,
                i,
                500,
            );
        }
        run_until(&mut sim, at_ms(60_000));
        assert!(received(&sim, 1).is_empty() && received(&sim, 2).is_empty());
        assert_eq!(sim.world.stats(n(0)).msgs_dropped, 100);
    }
}

#[test]
fn datagram_loss_rate_matches_probability() {
    let mut config = link(20, 0.3);
    config.semantics = Semantics::Datagram;
    let mut sim = star(config, 7, 2, ProbeConfig::default(), &FaultSchedule::new());
    let total = 20_000;
    for i in 0..total {
        send(&mut sim, at_ms(1000 + i), 0, 1, i, 100);
    }
    run_until(&mut sim, at_ms(100_000));
    let ratio = received(&sim, 1).len() as f64 / total as f64;
    // 3 sigma of a binomial(20000, 0.7) ratio is about 0.0097.
    assert!((ratio - 0.7).abs() < 0.01, "delivery ratio {ratio}");
}

/// Stream semantics: every message arrives, later as loss grows, and the mean extra delay
/// follows the retransmission law E[extra] = Σ_k p^k · rto(k-1).
#[test]
fn stream_loss_delays_but_delivers_following_the_retransmission_law() {
    let latency = ms(40);
    let mut previous_mean = 0.0;
    for p in [0.0, 0.1, 0.2, 0.3] {
        let config = link(40, p);
        let params = config.stream;
        let mut sim = star(config, 3, 2, ProbeConfig::default(), &FaultSchedule::new());
        let total = 20_000u64;
        // 20 s apart: no message waits behind another's retransmission.
        for i in 0..total {
            send(&mut sim, at_ms(1000 + i * 20_000), 0, 1, i, 200);
        }
        run_until(&mut sim, at_ms(1000 + total * 20_000 + 600_000));
        let got = received(&sim, 1);
        assert_eq!(got.len() as u64, total, "p={p}: every message arrives");
        let delays: Vec<f64> = got.iter().map(|(_, _, d)| d.as_millis_f64()).collect();
        let mean_ms = delays.iter().sum::<f64>() / total as f64;
        let variance = delays.iter().map(|d| (d - mean_ms).powi(2)).sum::<f64>() / total as f64;
        let standard_error = (variance / total as f64).sqrt();
        let expected_extra: f64 = (1..=params.max_retransmits)
            .map(|k| p.powi(k as i32) * params.rto(latency, k - 1).as_millis_f64())
            .sum();
        let expected = 40.0 + expected_extra;
        assert!(
            (mean_ms - expected).abs() <= 4.0 * standard_error + 0.01,
            "p={p}: mean delay {mean_ms:.1} ms vs analytic {expected:.1} ms (se {standard_error:.2})"
        );
        assert!(mean_ms >= previous_mean, "mean delay grows with loss");
        previous_mean = mean_ms;
    }
}

#[test]
fn stream_delivers_in_order_despite_retransmissions() {
    let mut sim = star(
        link(30, 0.3),
        11,
        2,
        ProbeConfig::default(),
        &FaultSchedule::new(),
    );
    for i in 0..500 {
        send(&mut sim, at_ms(1000 + i * 5), 0, 1, i, 100);
    }
    run_until(&mut sim, at_ms(300_000));
    let ids: Vec<u64> = received(&sim, 1).iter().map(|(_, id, _)| *id).collect();
    assert_eq!(ids, (0..500).collect::<Vec<_>>());
}

#[test]
fn one_mebibyte_over_one_mebibyte_per_second_takes_one_second_plus_latency() {
    let mut sim = star(
        link(50, 0.0),
        1,
        2,
        ProbeConfig::default(),
        &FaultSchedule::new(),
    );
    sim.world.set_node_net(
        n(0),
        NodeNet {
            up_bytes_per_s: 1 << 20,
            ..NodeNet::default()
        },
    );
    send(&mut sim, at_ms(1000), 0, 1, 1, 1 << 20);
    // A second message queues behind the first on the uplink.
    send(&mut sim, at_ms(1000), 0, 1, 2, 1 << 19);
    run_until(&mut sim, at_ms(10_000));
    let got = received(&sim, 1);
    assert_eq!(got[0].0, at_ms(2050), "1 s serialization + 50 ms latency");
    assert_eq!(
        got[1].0,
        at_ms(2550),
        "FIFO: waits for the first, then 0.5 s"
    );
}

#[test]
fn downlink_bandwidth_queues_arrivals() {
    let mut sim = star(
        link(10, 0.0),
        1,
        3,
        ProbeConfig::default(),
        &FaultSchedule::new(),
    );
    // Node 1 downloads at 100 KB/s; two 100 KB messages arrive together.
    sim.world.set_node_net(
        n(1),
        NodeNet {
            down_bytes_per_s: 100_000,
            ..NodeNet::default()
        },
    );
    send(&mut sim, at_ms(1000), 0, 1, 1, 100_000);
    send(&mut sim, at_ms(1000), 0, 1, 2, 100_000);
    run_until(&mut sim, at_ms(10_000));
    let times: Vec<SimTime> = received(&sim, 1).iter().map(|(t, _, _)| *t).collect();
    assert_eq!(times, [at_ms(2010), at_ms(3010)]);
}

#[test]
fn partition_carries_nothing_until_healed() {
    let mut faults = FaultSchedule::new();
    faults.add(
        at_ms(10_000),
        Fault::Partition {
            groups: vec![vec![n(0)]],
        },
    );
    faults.add(at_ms(40_000), Fault::Heal);
    let mut config = link(25, 0.0);
    config.stream.max_retransmits = 30; // long enough to survive the partition
    config.stream.rto_max = SimDuration::from_secs(4);
    let mut sim = star(config, 5, 3, ProbeConfig::default(), &faults);
    for i in 0..600 {
        send(
            &mut sim,
            at_ms(2_000 + i * 100),
            0,
            1 + (i % 2) as u32,
            i,
            300,
        );
    }
    run_until(&mut sim, at_ms(120_000));
    for node in [1, 2] {
        let got = received(&sim, node);
        let inside = got
            .iter()
            .filter(|(t, _, _)| *t >= at_ms(10_025) && *t < at_ms(40_000))
            .count();
        assert_eq!(inside, 0, "node {node} heard across the partition");
        assert_eq!(
            got.len(),
            300,
            "after healing, retransmissions deliver everything"
        );
        assert!(
            got.iter()
                .any(|(t, _, _)| *t > at_ms(40_000) && *t < at_ms(45_000))
        );
    }
}

#[test]
fn one_way_partition_blocks_one_direction() {
    let mut faults = FaultSchedule::new();
    faults.add(
        at_ms(5_000),
        Fault::PartitionOneWay {
            from: vec![n(0)],
            to: vec![n(1)],
        },
    );
    let mut config = link(10, 0.0);
    config.semantics = Semantics::Datagram;
    let mut sim = star(config, 1, 2, ProbeConfig::default(), &faults);
    for i in 0..10 {
        send(&mut sim, at_ms(6_000 + i * 100), 0, 1, i, 100);
        send(&mut sim, at_ms(6_000 + i * 100), 1, 0, 100 + i, 100);
    }
    run_until(&mut sim, at_ms(20_000));
    assert!(received(&sim, 1).is_empty());
    assert_eq!(received(&sim, 0).len(), 10);
}

#[test]
fn sleeping_node_processes_nothing_and_peers_notice_only_by_timeouts() {
    let mut faults = FaultSchedule::new();
    faults.add(at_ms(10_000), Fault::Sleep { nodes: vec![n(1)] });
    faults.add(at_ms(300_000), Fault::Wake { nodes: vec![n(1)] });
    let probe = ProbeConfig {
        redial_after: None,
        keepalive: Some(SimDuration::from_secs(10)),
    };
    let mut sim = star(link(20, 0.0), 2, 2, probe, &faults);
    send(&mut sim, at_ms(20_000), 0, 1, 7, 100);
    run_until(&mut sim, at_ms(400_000));

    let sleeper = events_of(&sim, 1);
    assert!(
        sleeper
            .iter()
            .all(|(t, _)| *t < at_ms(10_000) || *t >= at_ms(300_000)),
        "an asleep node processes nothing: {sleeper:?}"
    );
    // Node 0's keep-alive notices after 3 silent intervals (its own mechanism), not at 10 s.
    let noticed = events_of(&sim, 0)
        .into_iter()
        .find(|(_, e)| matches!(e, ProbeEvent::PeerTimedOut { .. }))
        .map(|(t, _)| t)
        .expect("the keep-alive notices the silent peer");
    assert!(
        noticed >= at_ms(40_000) && noticed <= at_ms(60_000),
        "{noticed}"
    );
    // On wake, the sleeper's overdue keep-alive timer fires at once and finds node 0 silent
    // for far too long (its clock jumped); node 0 had closed, so the sleeper's ping is reset.
    let after_wake: Vec<&ProbeEvent> = sleeper
        .iter()
        .filter(|(t, _)| *t >= at_ms(300_000))
        .map(|(_, e)| e)
        .collect();
    assert!(
        matches!(after_wake.first(), Some(ProbeEvent::PeerTimedOut { peer }) if *peer == n(0)),
        "{after_wake:?}"
    );
    assert!(
        received(&sim, 1).is_empty(),
        "the closed connection delivered nothing late"
    );
}

#[test]
fn sender_to_a_sleeping_peer_times_out_after_its_retransmission_budget() {
    let mut faults = FaultSchedule::new();
    faults.add(at_ms(5_000), Fault::Sleep { nodes: vec![n(1)] });
    let mut config = link(50, 0.0);
    config.stream.max_retransmits = 3;
    let params = config.stream;
    let mut sim = star(config, 2, 2, ProbeConfig::default(), &faults);
    send(&mut sim, at_ms(10_000), 0, 1, 1, 100);
    run_until(&mut sim, at_ms(60_000));
    let (t, reason) = events_of(&sim, 0)
        .into_iter()
        .find_map(|(t, e)| match e {
            ProbeEvent::Disconnected { reason, .. } => Some((t, reason)),
            _ => None,
        })
        .expect("the sender gives up");
    assert_eq!(reason, DisconnectReason::Timeout);
    let budget: SimDuration = (0..3).fold(SimDuration::ZERO, |acc, k| acc + params.rto(ms(50), k));
    assert_eq!(t, at_ms(10_050) + budget);
    assert!(events_of(&sim, 1).iter().all(|(t, _)| *t < at_ms(5_000)));
}

#[test]
fn offline_node_learns_at_once_its_peer_only_when_writing() {
    let mut faults = FaultSchedule::new();
    faults.add(at_ms(5_000), Fault::Offline { nodes: vec![n(1)] });
    let mut config = link(50, 0.0);
    config.stream.max_retransmits = 2;
    let mut sim = star(config, 2, 2, ProbeConfig::default(), &faults);
    send(&mut sim, at_ms(20_000), 0, 1, 1, 100);
    run_until(&mut sim, at_ms(60_000));
    let offline_view = events_of(&sim, 1);
    assert!(offline_view.contains(&(
        at_ms(5_000),
        ProbeEvent::Disconnected {
            peer: n(0),
            reason: DisconnectReason::NetworkDown
        }
    )));
    assert!(offline_view.contains(&(at_ms(5_000), ProbeEvent::Network { online: false })));
    let peer_learnt = events_of(&sim, 0)
        .into_iter()
        .find(|(_, e)| matches!(e, ProbeEvent::Disconnected { .. }))
        .expect("the writer learns eventually");
    assert!(
        peer_learnt.0 > at_ms(20_000),
        "not before it writes: {peer_learnt:?}"
    );
}

#[test]
fn dials_fail_by_timeout_refusal_or_network_down() {
    let mut faults = FaultSchedule::new();
    faults.add(at_ms(0), Fault::Sleep { nodes: vec![n(1)] });
    faults.add(at_ms(0), Fault::Crash { nodes: vec![n(2)] });
    let mut sim = star(link(40, 0.0), 1, 3, ProbeConfig::default(), &faults);
    run_until(&mut sim, at_ms(30_000));
    let failures: Vec<(SimTime, ProbeEvent)> = events_of(&sim, 0)
        .into_iter()
        .filter(|(_, e)| matches!(e, ProbeEvent::DialFailed { .. }))
        .collect();
    assert_eq!(
        failures,
        [
            (
                at_ms(80),
                ProbeEvent::DialFailed {
                    peer: n(2),
                    reason: DialError::Refused
                }
            ),
            (
                at_ms(10_000),
                ProbeEvent::DialFailed {
                    peer: n(1),
                    reason: DialError::Timeout
                }
            ),
        ]
    );
}

#[test]
fn graceful_close_and_crash_reach_the_peer_after_latency() {
    // Node 0 closes its connection to node 1 while node 2 crashes, both at 5 s.
    let mut faults = FaultSchedule::new();
    faults.add(at_ms(5_000), Fault::Crash { nodes: vec![n(2)] });
    let mut crash = star(link(30, 0.0), 1, 3, ProbeConfig::default(), &faults);
    crash.schedule(
        at_ms(5_000),
        NetEvent::Command {
            node: n(0),
            command: ProbeCommand::Close(n(1)),
        },
    );
    run_until(&mut crash, at_ms(20_000));
    let learnt = |node, peer| {
        events_of(&crash, node)
            .into_iter()
            .find(|(_, e)| matches!(e, ProbeEvent::Disconnected { peer: p, .. } if *p == n(peer)))
    };
    assert_eq!(
        learnt(1, 0),
        Some((
            at_ms(5_030),
            ProbeEvent::Disconnected {
                peer: n(0),
                reason: DisconnectReason::ClosedByPeer
            }
        ))
    );
    assert_eq!(
        learnt(0, 2),
        Some((
            at_ms(5_030),
            ProbeEvent::Disconnected {
                peer: n(2),
                reason: DisconnectReason::Reset
            }
        ))
    );
    assert_eq!(
        learnt(0, 1),
        None,
        "the closing side is not told about its own close"
    );
}

#[test]
fn crash_restart_boots_afresh_and_redials() {
    let mut faults = FaultSchedule::new();
    faults.add(at_ms(5_000), Fault::Crash { nodes: vec![n(0)] });
    faults.add(at_ms(8_000), Fault::Restart { nodes: vec![n(0)] });
    let mut sim = star(link(10, 0.0), 1, 3, ProbeConfig::default(), &faults);
    run_until(&mut sim, at_ms(20_000));
    let starts = events_of(&sim, 0)
        .iter()
        .filter(|(_, e)| *e == ProbeEvent::Started)
        .count();
    assert_eq!(starts, 2);
    assert_eq!(sim.world.node(n(0)).connected_peers(), [n(1), n(2)]);
}

#[test]
fn same_seed_same_audit_hash_different_seed_different_hash() {
    let run = |seed| {
        let mut config = link(30, 0.1);
        config.default_link.jitter = ms(20);
        let mut sim = star(
            config,
            seed,
            4,
            ProbeConfig::default(),
            &FaultSchedule::new(),
        );
        for i in 0..200 {
            send(&mut sim, at_ms(1000 + i * 7), 0, 1 + (i % 3) as u32, i, 100);
        }
        run_until(&mut sim, at_ms(100_000));
        sim.audit_hash()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn a_completed_close_frees_the_connection() {
    let mut sim = star(
        link(10, 0.0),
        1,
        3,
        ProbeConfig::default(),
        &FaultSchedule::new(),
    );
    run_until(&mut sim, at_ms(1_000));
    assert_eq!(sim.world.live_connections(), 2);
    sim.schedule(
        at_ms(2_000),
        NetEvent::Command {
            node: n(0),
            command: ProbeCommand::Close(n(1)),
        },
    );
    run_until(&mut sim, at_ms(3_000));
    assert_eq!(
        sim.world.live_connections(),
        1,
        "both sides of the closed connection are gone"
    );
}

#[test]
fn bandwidth_changes_during_a_run() {
    let mut faults = FaultSchedule::new();
    faults.add(
        at_ms(5_000),
        Fault::SetBandwidth {
            nodes: vec![n(0)],
            up_bytes_per_s: 1_000,
            down_bytes_per_s: 0,
        },
    );
    let mut sim = star(link(10, 0.0), 1, 2, ProbeConfig::default(), &faults);
    send(&mut sim, at_ms(1_000), 0, 1, 1, 1_000);
    send(&mut sim, at_ms(6_000), 0, 1, 2, 1_000);
    run_until(&mut sim, at_ms(20_000));
    let times: Vec<SimTime> = received(&sim, 1).iter().map(|(t, _, _)| *t).collect();
    assert_eq!(
        times,
        [at_ms(1_010), at_ms(7_010)],
        "1 KB at 1 KB/s takes a second"
    );
}

/// 100 Mbit/s, the rate the built-in scenarios restore after a throttle.
const FAST: u64 = 12_500_000;

/// Node 0's uplink and downlink at 1 kbit/s (125 B/s) from 5 s to 15 s, 100 Mbit/s otherwise:
/// the Vac-QA `tbf rate 1kbit` window of the `flaky-links` scenario.
fn throttle_window() -> FaultSchedule {
    let mut faults = FaultSchedule::new();
    for (at, rate) in [(5_000, 125), (15_000, FAST)] {
        faults.add(
            at_ms(at),
            Fault::SetBandwidth {
                nodes: vec![n(0)],
                up_bytes_per_s: rate,
                down_bytes_per_s: rate,
            },
        );
    }
    faults
}

fn fast_links(sim: &mut Sim, count: u32) {
    for i in 0..count {
        sim.world.set_node_net(
            n(i),
            NodeNet {
                up_bytes_per_s: FAST,
                down_bytes_per_s: FAST,
                ..NodeNet::default()
            },
        );
    }
}

/// While throttled, node 0 keeps sending to node 1 far more than 1 kbit/s can carry. Once the
/// rate is restored, a message to node 2 goes out at once, and the backlog to node 1 is not
/// stuck behind the old rate: what the queue held drains at once, what it dropped comes back
/// with the retransmission backoff, so everything arrives in order within one window length
/// (plus the first RTO) of the restore.
#[test]
fn a_backlog_built_while_throttled_drains_at_the_restored_rate() {
    let config = NetConfig {
        queue_limit: SimDuration::from_secs(1),
        ..link(10, 0.0)
    };
    let mut sim = star(config, 1, 3, ProbeConfig::default(), &throttle_window());
    fast_links(&mut sim, 3);
    for i in 0..100 {
        send(&mut sim, at_ms(5_000 + i * 100), 0, 1, i, 1_000);
    }
    send(&mut sim, at_ms(15_500), 0, 2, 1_000, 1_000);
    run_until(&mut sim, at_ms(600_000));

    let after = received(&sim, 2);
    assert_eq!(after.len(), 1);
    assert!(
        after[0].0 <= at_ms(15_511),
        "sent 0.5 s after the restore, arrives after the normal latency: {}",
        after[0].0
    );

    let got = received(&sim, 1);
    let ids: Vec<u64> = got.iter().map(|(_, id, _)| *id).collect();
    assert_eq!(ids, (0..100).collect::<Vec<_>>(), "stream: all, in order");
    // A message first dropped at s >= 5 s is retried at s + rto0·(2^k - 1) (rto0 = 220 ms):
    // its first retry after the restore at 15 s comes before 30 s - s + rto0 <= 25.22 s.
    let last = got.last().expect("delivered").0;
    assert!(last <= at_ms(25_300), "last of the backlog at {last}");
    let stats = sim.world.stats(n(0));
    assert!(stats.queue_drops > 0, "the throttled uplink overflowed");
    assert_eq!(stats.retransmissions, stats.queue_drops, "no other loss");
    assert_eq!(stats.conn_failures, 0);
}

/// 20 messages of 500 B handed at once to a 1000 B/s link with a 1 s queue: three fit (the
/// third waits exactly 1 s), the rest are dropped and counted at the queue's node (the sender
/// for its uplink, the receiver for its downlink). Datagrams are lost; streams retransmit
/// until everything is through, in order.
#[test]
fn full_queues_drop_arrivals_and_count_them_at_the_queue_node() {
    for uplink in [true, false] {
        for semantics in [Semantics::Datagram, Semantics::Stream] {
            let what = format!("uplink={uplink} {semantics:?}");
            let config = NetConfig {
                semantics,
                queue_limit: SimDuration::from_secs(1),
                ..link(10, 0.0)
            };
            let mut sim = star(config, 5, 2, ProbeConfig::default(), &FaultSchedule::new());
            let (queue_node, net) = if uplink {
                let net = NodeNet {
                    up_bytes_per_s: 1_000,
                    ..NodeNet::default()
                };
                (0, net)
            } else {
                let net = NodeNet {
                    down_bytes_per_s: 1_000,
                    ..NodeNet::default()
                };
                (1, net)
            };
            sim.world.set_node_net(n(queue_node), net);
            for i in 0..20 {
                send(&mut sim, at_ms(1_000), 0, 1, i, 500);
            }
            run_until(&mut sim, at_ms(600_000));
            let got = received(&sim, 1);
            let ids: Vec<u64> = got.iter().map(|(_, id, _)| *id).collect();
            let (sender, queue) = (sim.world.stats(n(0)), sim.world.stats(n(queue_node)));
            match semantics {
                Semantics::Datagram => {
                    assert_eq!(ids, [0, 1, 2], "{what}");
                    let times: Vec<SimTime> = got.iter().map(|(t, _, _)| *t).collect();
                    assert_eq!(times, [at_ms(1_510), at_ms(2_010), at_ms(2_510)], "{what}");
                    assert_eq!(queue.queue_drops, 17, "{what}");
                    assert_eq!(sender.msgs_dropped, 17, "{what}");
                    assert_eq!(sender.retransmissions, 0, "{what}");
                }
                Semantics::Stream => {
                    assert_eq!(ids, (0..20).collect::<Vec<_>>(), "{what}");
                    assert!(queue.queue_drops >= 17, "{what}: {}", queue.queue_drops);
                    assert_eq!(sender.retransmissions, queue.queue_drops, "{what}");
                    assert_eq!(sender.msgs_dropped, 0, "{what}");
                    // Segments dropped together back off together (RTO 220 ms, doubling):
                    // each retry round at 1 s + 0.22 s·(2^k - 1) gets what fits in the
                    // emptied queue through; the last two in round 8, at 57.1 s.
                    let last = got.last().expect("delivered").0;
                    assert!(last <= at_ms(60_000), "{what}: last at {last}");
                    assert_eq!(sender.conn_failures, 0, "{what}");
                }
            }
        }
    }
}

/// The queue limit is a network parameter (default 5 s): with 10 s of room, all 20 datagrams
/// of the test above fit and arrive one after another.
#[test]
fn the_queue_limit_is_configurable() {
    let mut config = link(10, 0.0);
    config.semantics = Semantics::Datagram;
    config.queue_limit = SimDuration::from_secs(10);
    let mut sim = star(config, 5, 2, ProbeConfig::default(), &FaultSchedule::new());
    sim.world.set_node_net(
        n(0),
        NodeNet {
            up_bytes_per_s: 1_000,
            ..NodeNet::default()
        },
    );
    for i in 0..20 {
        send(&mut sim, at_ms(1_000), 0, 1, i, 500);
    }
    run_until(&mut sim, at_ms(60_000));
    let got = received(&sim, 1);
    assert_eq!(got.len(), 20);
    assert_eq!(got[19].0, at_ms(11_010));
    assert_eq!(sim.world.stats(n(0)).queue_drops, 0);
    assert_eq!(NetConfig::default().queue_limit, SimDuration::from_secs(5));
    let bad = NetConfig {
        queue_limit: SimDuration::ZERO,
        ..NetConfig::default()
    };
    assert!(bad.validate().unwrap_err().contains("queue_limit"));
}

/// A rate restored in the middle of a long message shortens the rest of it: 1250 B go at
/// 125 B/s until the restore at 15 s, the remaining ~99 kB at 100 Mbit/s.
#[test]
fn a_message_straddling_the_restore_finishes_at_the_restored_rate() {
    let mut sim = star(
        link(10, 0.0),
        1,
        2,
        ProbeConfig::default(),
        &throttle_window(),
    );
    fast_links(&mut sim, 2);
    send(&mut sim, at_ms(5_000), 0, 1, 1, 100_000);
    run_until(&mut sim, at_ms(60_000));
    let got = received(&sim, 1);
    assert_eq!(got.len(), 1);
    // 98 750 B at 12.5 MB/s = 7.9 ms, + 10 ms latency, + 8 ms through node 1's downlink.
    let expected = at_ms(15_010) + SimDuration::from_micros(7_900 + 8_000);
    assert_eq!(got[0].0, expected);
}
