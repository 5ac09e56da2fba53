//! The MVDS machine driven by hand (epochs, the retransmission schedule, ACKs, the
//! transmission limit, peer-online rescheduling, sleep) and against a lossy channel written
//! here, where delivery must follow the analytic law 1 − p^n for n transmissions.

use std::collections::BTreeMap;

use sim_core::{NodeId, SimDuration, SimRng, SimTime};
use waku::Bytes;

use reliability::mvds::{Mvds, MvdsConfig, MvdsId, MvdsMessage, MvdsOutput, Payload};

const A: NodeId = NodeId(1);
const B: NodeId = NodeId(2);
const EPOCH_NS: u64 = 300_000_000;

fn message(n: u8) -> MvdsMessage {
    MvdsMessage {
        group_id: Bytes::from(vec![7u8; 32]),
        timestamp: 1_000 + i64::from(n),
        body: Bytes::from(vec![n; 64]),
    }
}

fn sends(out: &[MvdsOutput]) -> Vec<(NodeId, Payload)> {
    out.iter()
        .filter_map(|o| match o {
            MvdsOutput::Send { peer, payload, .. } => Some((*peer, payload.clone())),
            _ => None,
        })
        .collect()
}

/// Runs `node` alone (nothing comes back) until it is idle; returns (time, output) pairs.
fn run_alone(node: &mut Mvds, rng: &mut SimRng) -> Vec<(SimTime, MvdsOutput)> {
    let mut log = Vec::new();
    while let Some(at) = node.poll_timeout() {
        let mut out = Vec::new();
        node.handle_timeout(at, rng, &mut out);
        log.extend(out.into_iter().map(|o| (at, o)));
    }
    log
}

#[test]
fn the_first_transmission_goes_out_at_the_next_epoch_boundary() {
    let mut rng = SimRng::from_seed(1);
    let mut a = Mvds::new(MvdsConfig::status_go(), SimTime::ZERO);
    let mut out = Vec::new();
    // Appended during epoch 0 (whose send step runs at 300 ms): due at epoch 1 (600 ms).
    a.append(SimTime(100_000_000), &[B], message(1), &mut rng, &mut out);
    assert!(out.is_empty());
    assert_eq!(a.poll_timeout(), Some(SimTime(2 * EPOCH_NS)));
    a.handle_timeout(SimTime(2 * EPOCH_NS), &mut rng, &mut out);
    let s = sends(&out);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, B);
    assert_eq!(s[0].1.messages.len(), 1);
    assert_eq!(s[0].1.messages[0].transmission, 1);
    assert_eq!(a.record(B, message(1).id()).unwrap().send_count, 1);
}

#[test]
fn retransmissions_follow_the_status_go_schedule_and_stop_after_15() {
    let config = MvdsConfig::status_go();
    for seed in 0..5 {
        let mut rng = SimRng::from_seed(seed);
        let mut a = Mvds::new(config.clone(), SimTime::ZERO);
        let id = a.append(SimTime::ZERO, &[B], message(1), &mut rng, &mut Vec::new());
        let log = run_alone(&mut a, &mut rng);
        let times: Vec<SimTime> = log
            .iter()
            .filter(|(_, o)| matches!(o, MvdsOutput::Send { .. }))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(times.len(), 15, "MaxSendCount 14 ⇒ 15 transmissions");
        for n in 1..times.len() {
            // After transmission n: 90·2^(n−1) + U[0, 30) epochs (27 s·2^(n−1) + U[0, 8.7 s]).
            let epochs = (times[n] - times[n - 1]).as_nanos() / EPOCH_NS;
            assert_eq!((times[n] - times[n - 1]).as_nanos() % EPOCH_NS, 0);
            let base = 90u64 << (n - 1);
            assert!(
                (base..base + 30).contains(&epochs),
                "gap after transmission {n}: {epochs} epochs, expected [{base}, {})",
                base + 30
            );
        }
        let total = times[14] - times[0];
        assert!(
            total >= SimDuration::from_secs(27 * ((1 << 14) - 1)),
            "about 5.1 days"
        );
        match &log.last().unwrap().1 {
            MvdsOutput::GaveUp {
                peer,
                id: gone,
                failed,
                ..
            } => assert_eq!((*peer, *gone, *failed), (B, id, true)),
            other => panic!("expected GaveUp, got {other:?}"),
        }
        assert_eq!(a.pending_records(), 0);
        assert_eq!(a.poll_timeout(), None);
    }
}

#[test]
fn the_receiver_acks_and_the_ack_stops_retransmission() {
    let mut rng = SimRng::from_seed(2);
    let mut a = Mvds::new(MvdsConfig::status_go(), SimTime::ZERO);
    let mut b = Mvds::new(MvdsConfig::status_go(), SimTime(123_000_000));
    let id = a.append(SimTime::ZERO, &[B], message(1), &mut rng, &mut Vec::new());
    let at = a.poll_timeout().unwrap();
    let mut out = Vec::new();
    a.handle_timeout(at, &mut rng, &mut out);
    let (_, payload) = sends(&out).remove(0);
    // B receives it 50 ms later: delivered now, ACKed at B's next epoch boundary.
    let mut out = Vec::new();
    let arrive = at + SimDuration::from_millis(50);
    b.on_payload(arrive, A, payload.clone(), &mut rng, &mut out);
    assert!(matches!(
        out.as_slice(),
        [MvdsOutput::Delivered { from, transmission: 1, duplicate: false, .. }] if *from == A
    ));
    let ack_at = b.poll_timeout().unwrap();
    assert!(ack_at > arrive && ack_at <= arrive + SimDuration(EPOCH_NS));
    let mut out = Vec::new();
    b.handle_timeout(ack_at, &mut rng, &mut out);
    let (to, ack) = sends(&out).remove(0);
    assert_eq!((to, ack.acks.clone(), ack.messages.len()), (A, vec![id], 0));
    assert_eq!(b.poll_timeout(), None, "ACKs are not retransmitted");
    // The ACK reaches A: the record is gone and nothing is scheduled any more.
    let mut out = Vec::new();
    a.on_payload(
        ack_at + SimDuration::from_millis(50),
        B,
        ack,
        &mut rng,
        &mut out,
    );
    assert!(matches!(
        out.as_slice(),
        [MvdsOutput::Acked { peer, first: true, .. }] if *peer == B
    ));
    assert_eq!(a.record(B, id), None);
    assert_eq!(a.poll_timeout(), None);
    // A duplicate of the message is delivered (flagged) and ACKed again.
    let mut out = Vec::new();
    b.on_payload(SimTime(100 * EPOCH_NS), A, payload, &mut rng, &mut out);
    assert!(matches!(
        out.as_slice(),
        [MvdsOutput::Delivered {
            duplicate: true,
            ..
        }]
    ));
    assert!(b.poll_timeout().is_some());
}

#[test]
fn a_group_message_fails_only_when_no_peer_acked() {
    let config = MvdsConfig {
        max_transmissions: 2,
        ..MvdsConfig::status_go()
    };
    let mut rng = SimRng::from_seed(3);
    let mut a = Mvds::new(config, SimTime::ZERO);
    let c = NodeId(3);
    let id = a.append(
        SimTime::ZERO,
        &[B, c],
        message(1),
        &mut rng,
        &mut Vec::new(),
    );
    let at = a.poll_timeout().unwrap();
    let mut out = Vec::new();
    a.handle_timeout(at, &mut rng, &mut out);
    assert_eq!(sends(&out).len(), 2, "one payload per peer");
    let ack = Payload {
        acks: vec![id],
        messages: Vec::new(),
    };
    a.on_payload(at, c, ack, &mut rng, &mut Vec::new());
    let log = run_alone(&mut a, &mut rng);
    let gave_up: Vec<(NodeId, bool)> = log
        .iter()
        .filter_map(|(_, o)| match o {
            MvdsOutput::GaveUp { peer, failed, .. } => Some((*peer, *failed)),
            _ => None,
        })
        .collect();
    assert_eq!(gave_up, vec![(B, false)], "C acknowledged, so not failed");
}

#[test]
fn a_peer_coming_online_is_retried_within_18_seconds() {
    let mut rng = SimRng::from_seed(4);
    let mut a = Mvds::new(MvdsConfig::status_go(), SimTime::ZERO);
    let id = a.append(SimTime::ZERO, &[B], message(1), &mut rng, &mut Vec::new());
    let first = a.poll_timeout().unwrap();
    a.handle_timeout(first, &mut rng, &mut Vec::new());
    assert!(a.record(B, id).unwrap().send_epoch >= a.epoch() + 89);
    let now = first + SimDuration::from_secs(1);
    a.peer_online(now, B, &mut rng, &mut Vec::new());
    let next = a.poll_timeout().unwrap();
    assert!(
        next >= now && next <= now + SimDuration::from_millis(18_300),
        "{next}"
    );
}

#[test]
fn epochs_do_not_advance_while_the_process_sleeps() {
    let mut rng = SimRng::from_seed(5);
    let mut a = Mvds::new(MvdsConfig::status_go(), SimTime::ZERO);
    a.append(SimTime::ZERO, &[B], message(1), &mut rng, &mut Vec::new());
    let first = a.poll_timeout().unwrap();
    a.handle_timeout(first, &mut rng, &mut Vec::new());
    let due = a.poll_timeout().unwrap();
    // The laptop sleeps through the due time; the overdue timer fires at wake-up.
    let wake = due + SimDuration::from_secs(8 * 3600);
    let mut out = Vec::new();
    a.handle_timeout(wake, &mut rng, &mut out);
    assert_eq!(sends(&out)[0].1.messages[0].transmission, 2);
    // The third transmission is 54 s + U[0, 9 s) of awake time later, not at once.
    let third = a.poll_timeout().unwrap();
    let gap = third - wake;
    assert!(
        gap >= SimDuration::from_secs(54) && gap < SimDuration::from_secs(63),
        "{gap}"
    );
}

/// Two MVDS nodes over a channel that loses each packet (either way) with probability `p`
/// and delays it 100 ms. Returns whether B received the message.
fn lossy_trial(config: &MvdsConfig, p: f64, seed: u64) -> (bool, u32) {
    let mut rng = SimRng::stream(seed, "mvds.nodes", 0);
    let mut loss = SimRng::stream(seed, "mvds.channel", 0);
    let mut nodes = [
        Mvds::new(config.clone(), SimTime::ZERO),
        Mvds::new(config.clone(), SimTime(loss.below(EPOCH_NS))),
    ];
    let ids = [A, B];
    let mut in_flight: BTreeMap<(SimTime, u64), (usize, usize, Payload)> = BTreeMap::new();
    let mut seq = 0u64;
    let mut delivered = false;
    let mut transmissions = 0;
    let mut out = Vec::new();
    nodes[0].append(SimTime::ZERO, &[B], message(1), &mut rng, &mut out);
    loop {
        let timers = (0..2).filter_map(|i| nodes[i].poll_timeout().map(|t| (t, i)));
        let next_timer = timers.min();
        let next_packet = in_flight.keys().next().copied();
        let (now, from, to, payload) = match (next_timer, next_packet) {
            (None, None) => break,
            (Some((t, i)), packet) if packet.is_none_or(|(pt, _)| t <= pt) => {
                let mut out = Vec::new();
                nodes[i].handle_timeout(t, &mut rng, &mut out);
                for (peer, payload) in sends(&out) {
                    let to = usize::from(peer == B);
                    transmissions += payload.messages.len() as u32 * u32::from(i == 0);
                    if !loss.bernoulli(p) {
                        let arrive = t + SimDuration::from_millis(100);
                        in_flight.insert((arrive, seq), (i, to, payload));
                        seq += 1;
                    }
                }
                continue;
            }
            (_, Some(key)) => {
                let (from, to, payload) = in_flight.remove(&key).expect("listed");
                (key.0, from, to, payload)
            }
            (Some(_), None) => unreachable!("handled above"),
        };
        let mut out = Vec::new();
        nodes[to].on_payload(now, ids[from], payload, &mut rng, &mut out);
        delivered |= out
            .iter()
            .any(|o| matches!(o, MvdsOutput::Delivered { .. }));
    }
    (delivered, transmissions)
}

#[test]
fn delivery_over_a_lossy_channel_follows_one_minus_p_to_the_n() {
    for (p, n, trials) in [(0.5, 3u32, 3000u64), (0.3, 2, 3000), (0.8, 5, 3000)] {
        let config = MvdsConfig {
            max_transmissions: n,
            ..MvdsConfig::status_go()
        };
        let mut delivered = 0u64;
        let mut max_tx = 0;
        for seed in 0..trials {
            let (ok, tx) = lossy_trial(&config, p, seed);
            delivered += u64::from(ok);
            max_tx = max_tx.max(tx);
        }
        assert!(max_tx <= n, "never more than {n} transmissions");
        let expected = 1.0 - f64::powi(p, n as i32);
        let observed = delivered as f64 / trials as f64;
        let sigma = (expected * (1.0 - expected) / trials as f64).sqrt();
        println!("p = {p}, n = {n}: delivered {observed:.4}, law {expected:.4} (σ {sigma:.4})");
        assert!(
            (observed - expected).abs() <= 4.0 * sigma,
            "p = {p}, n = {n}: delivered {observed:.4}, law {expected:.4} (σ {sigma:.4})"
        );
    }
}

#[test]
fn ids_are_stable_and_distinct() {
    let ids: Vec<MvdsId> = (0..10).map(|n| message(n).id()).collect();
    for (i, a) in ids.iter().enumerate() {
        assert_eq!(*a, message(i as u8).id());
        assert!(ids[i + 1..].iter().all(|b| b != a));
    }
}

#[test]
fn a_full_message_store_gives_up_the_oldest_message() {
    let config = MvdsConfig {
        max_messages: 2,
        ..MvdsConfig::status_go()
    };
    let mut rng = SimRng::from_seed(6);
    let mut a = Mvds::new(config, SimTime::ZERO);
    let mut out = Vec::new();
    let first = a.append(SimTime::ZERO, &[B], message(1), &mut rng, &mut out);
    a.append(SimTime::ZERO, &[B], message(2), &mut rng, &mut out);
    assert!(out.is_empty());
    a.append(SimTime::ZERO, &[B], message(3), &mut rng, &mut out);
    assert!(matches!(
        out.as_slice(),
        [MvdsOutput::GaveUp { id, failed: true, .. }] if *id == first
    ));
    assert_eq!(a.pending_records(), 2);
}

#[test]
fn due_messages_for_one_peer_share_a_payload_with_the_pending_acks() {
    let mut rng = SimRng::from_seed(7);
    let mut a = Mvds::new(MvdsConfig::status_go(), SimTime::ZERO);
    let t = SimTime(EPOCH_NS / 2);
    let mut out = Vec::new();
    a.append(t, &[B], message(1), &mut rng, &mut out);
    a.append(t, &[B], message(2), &mut rng, &mut out);
    let incoming = Payload {
        acks: Vec::new(),
        messages: vec![reliability::mvds::WireMessage {
            message: message(9),
            transmission: 1,
        }],
    };
    a.on_payload(t, B, incoming, &mut rng, &mut out);
    // The ACK goes at the end of the current epoch, the messages one epoch later.
    let mut out = Vec::new();
    a.handle_timeout(a.poll_timeout().unwrap(), &mut rng, &mut out);
    let s = sends(&out);
    assert_eq!(
        (s.len(), s[0].1.acks.len(), s[0].1.messages.len()),
        (1, 1, 0)
    );
    let mut out = Vec::new();
    a.handle_timeout(a.poll_timeout().unwrap(), &mut rng, &mut out);
    let s = sends(&out);
    assert_eq!((s.len(), s[0].1.messages.len()), (1, 2));
}
