//! Property tests of laws the network must obey for any seed and link parameters:
//! total loss delivers nothing, a partition carries nothing across, stream semantics deliver
//! everything in order whatever the loss below the reset threshold; bounded queues bound the
//! delay and account for every message, and a throttle window loses nothing on streams.

use proptest::prelude::*;
use sim_core::{Engine, NodeId, SimDuration, SimTime, StopAt};
use sim_net::testkit::{Probe, ProbeCommand, ProbeConfig, ProbeEvent};
use sim_net::{
    Fault, FaultSchedule, LatencyDist, LinkModel, LossModel, NetConfig, NetEvent, Network, NodeNet,
    Presence, Semantics,
};

type Log = Vec<(SimTime, NodeId, ProbeEvent)>;

fn at_ms(v: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_millis(v)
}

/// Every node dials every higher-numbered node; node `i` sends `per_pair` messages to each
/// other node, starting at 10 s (after every handshake).
fn mesh(
    config: NetConfig,
    seed: u64,
    count: u32,
    faults: &FaultSchedule,
    per_pair: u64,
) -> Engine<Network<Probe, Log>> {
    let nodes = (0..count)
        .map(|i| Probe::new((i + 1..count).map(NodeId).collect(), ProbeConfig::default()))
        .collect();
    let net = Network::new(config, seed, nodes, Log::new());
    let presence = vec![Presence::Present; count as usize];
    let mut engine = net.into_engine(&presence, faults).unwrap();
    let mut id = 0;
    for k in 0..per_pair {
        for from in 0..count {
            for to in (0..count).filter(|t| *t != from) {
                let command = ProbeCommand::Send {
                    to: NodeId(to),
                    id,
                    bytes: 200,
                };
                engine.schedule(
                    at_ms(10_000 + k * 50),
                    NetEvent::Command {
                        node: NodeId(from),
                        command,
                    },
                );
                id += 1;
            }
        }
    }
    engine
}

fn receptions(engine: &Engine<Network<Probe, Log>>) -> Vec<(SimTime, NodeId, NodeId, u64)> {
    engine
        .world
        .recorder
        .iter()
        .filter_map(|(t, to, e)| match e {
            ProbeEvent::Received { from, id, .. } => Some((*t, *from, *to, *id)),
            _ => None,
        })
        .collect()
}

/// The ids one (sender, receiver) pair of nodes `0..nodes` got out of sending order, if any
/// pair did (ids are sent in increasing order).
fn out_of_order(got: &[(SimTime, NodeId, NodeId, u64)], nodes: u32) -> Option<Vec<u64>> {
    (0..nodes)
        .flat_map(|from| (0..nodes).map(move |to| (from, to)))
        .map(|(from, to)| {
            (got.iter())
                .filter(|(_, f, t, _)| f.0 == from && t.0 == to)
                .map(|(_, _, _, id)| *id)
                .collect::<Vec<u64>>()
        })
        .find(|ids| !ids.windows(2).all(|w| w[0] < w[1]))
}

fn link_strategy() -> impl Strategy<Value = LinkModel> {
    (1u64..300, 0u64..100, any::<bool>()).prop_map(|(latency_ms, jitter_ms, reorder)| LinkModel {
        latency: LatencyDist::ExponentialAboveFloor {
            floor: SimDuration::from_millis(latency_ms),
            mean_extra: SimDuration::from_millis(latency_ms / 2 + 1),
        },
        jitter: SimDuration::from_millis(jitter_ms),
        reorder,
        loss: LossModel::None,
        duplicate: 0.0,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn total_datagram_loss_delivers_nothing(seed in any::<u64>(), link in link_strategy()) {
        let config = NetConfig {
            semantics: Semantics::Datagram,
            default_link: LinkModel { loss: LossModel::Iid { p: 1.0 }, ..link },
            ..NetConfig::default()
        };
        let mut engine = mesh(config, seed, 4, &FaultSchedule::new(), 5);
        engine.run(StopAt::time(at_ms(120_000))).unwrap();
        prop_assert!(receptions(&engine).is_empty());
    }

    #[test]
    fn a_partition_carries_nothing_across(
        seed in any::<u64>(),
        link in link_strategy(),
        datagram in any::<bool>(),
        split in 1u32..5,
    ) {
        let side: Vec<NodeId> = (0..split).map(NodeId).collect();
        let mut faults = FaultSchedule::new();
        faults.add(at_ms(9_000), Fault::Partition { groups: vec![side] });
        let semantics = if datagram { Semantics::Datagram } else { Semantics::Stream };
        let config = NetConfig { semantics, default_link: link, ..NetConfig::default() };
        let mut engine = mesh(config, seed, 6, &faults, 4);
        engine.run(StopAt::time(at_ms(600_000))).unwrap();
        let crossing = receptions(&engine)
            .into_iter()
            .filter(|(t, from, to, _)| *t >= at_ms(9_000) && (from.0 < split) != (to.0 < split))
            .count();
        prop_assert_eq!(crossing, 0);
    }

    #[test]
    fn stream_delivers_everything_in_order_below_the_reset_threshold(
        seed in any::<u64>(),
        link in link_strategy(),
        loss in 0.0f64..0.4,
    ) {
        let config = NetConfig {
            default_link: LinkModel { loss: LossModel::Iid { p: loss }, ..link },
            stream: sim_net::StreamParams { max_retransmits: 40, ..Default::default() },
            ..NetConfig::default()
        };
        let per_pair = 6;
        let mut engine = mesh(config, seed, 3, &FaultSchedule::new(), per_pair);
        engine.run(StopAt::time(at_ms(3_600_000))).unwrap();
        let got = receptions(&engine);
        prop_assert_eq!(got.len() as u64, per_pair * 6);
        if let Some(ids) = out_of_order(&got, 3) {
            prop_assert!(false, "out of order: {ids:?}");
        }
    }

    /// With constant rates, a datagram waits at most `queue_limit` in the sender's uplink and
    /// at most `queue_limit` in the receiver's downlink, whatever the load: its delay is at
    /// most latency + 2·queue_limit + its two serialisations. And nothing vanishes: every
    /// message sent is received or counted as dropped, and without link loss every drop is a
    /// full queue's.
    #[test]
    fn bounded_queues_bound_the_delay_and_account_for_every_message(
        seed in any::<u64>(),
        latency_ms in 1u64..200,
        up in 500u64..20_000,
        down in 500u64..20_000,
        limit_ms in 50u64..3_000,
    ) {
        let latency = SimDuration::from_millis(latency_ms);
        let limit = SimDuration::from_millis(limit_ms);
        let config = NetConfig {
            semantics: Semantics::Datagram,
            default_link: LinkModel::constant(latency),
            queue_limit: limit,
            ..NetConfig::default()
        };
        let count = 4;
        let per_pair = 20;
        let mut engine = mesh(config, seed, count, &FaultSchedule::new(), per_pair);
        for i in 0..count {
            let net = NodeNet { up_bytes_per_s: up, down_bytes_per_s: down, ..NodeNet::default() };
            engine.world.set_node_net(NodeId(i), net);
        }
        engine.run(StopAt::time(at_ms(600_000))).unwrap();
        // 200-byte messages, serialisation rounded up to the nanosecond.
        let serialisation = |rate: u64| SimDuration((200 * 1_000_000_000u64).div_ceil(rate));
        let bound = latency + limit + limit + serialisation(up) + serialisation(down);
        for (t, _, e) in &engine.world.recorder {
            if let ProbeEvent::Received { sent_at, .. } = e {
                prop_assert!(*t - *sent_at <= bound, "delay {} above {bound}", *t - *sent_at);
            }
        }
        let received = receptions(&engine).len() as u64;
        let (mut dropped, mut queue_drops) = (0, 0);
        for i in 0..count {
            let stats = engine.world.stats(NodeId(i));
            dropped += stats.msgs_dropped;
            queue_drops += stats.queue_drops;
        }
        prop_assert_eq!(received + dropped, per_pair * u64::from(count * (count - 1)));
        prop_assert_eq!(dropped, queue_drops);
    }

    /// Stream semantics lose nothing to a throttle window: whatever the window and the rate,
    /// every message arrives, in order per sender and receiver, and the connections survive.
    #[test]
    fn stream_delivers_everything_in_order_through_a_throttle_window(
        seed in any::<u64>(),
        link in link_strategy(),
        start_ms in 8_000u64..11_000,
        length_ms in 100u64..20_000,
        rate in 50u64..5_000,
        limit_ms in 50u64..3_000,
    ) {
        let config = NetConfig {
            default_link: link,
            queue_limit: SimDuration::from_millis(limit_ms),
            ..NetConfig::default()
        };
        let throttled = vec![NodeId(0), NodeId(1)];
        let mut faults = FaultSchedule::new();
        for (at, rate) in [(start_ms, rate), (start_ms + length_ms, 0)] {
            let fault = Fault::SetBandwidth {
                nodes: throttled.clone(),
                up_bytes_per_s: rate,
                down_bytes_per_s: rate,
            };
            faults.add(at_ms(at), fault);
        }
        let per_pair = 10;
        let mut engine = mesh(config, seed, 3, &faults, per_pair);
        engine.run(StopAt::time(at_ms(3_600_000))).unwrap();
        let got = receptions(&engine);
        prop_assert_eq!(got.len() as u64, per_pair * 6);
        if let Some(ids) = out_of_order(&got, 3) {
            prop_assert!(false, "out of order: {ids:?}");
        }
        for node in 0..3 {
            prop_assert_eq!(engine.world.stats(NodeId(node)).conn_failures, 0);
        }
    }
}
