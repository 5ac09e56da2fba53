//! Message reception and gossip: IHAVE emission and budgets, IWANT serving from the message
//! cache windows, gossip promises, the seen cache, IDONTWANT, invalid messages, graylisting.

use sim_core::SimDuration;

use super::*;
use crate::relay::GossipsubImpl;

fn peers_with(ihaves: &[(PeerId, Vec<MessageId>)], id: &MessageId) -> Vec<PeerId> {
    ihaves
        .iter()
        .filter(|(_, ids)| ids.contains(id))
        .map(|(p, _)| *p)
        .collect()
}

#[test]
fn ihave_goes_to_at_most_d_lazy_non_mesh_peers_and_only_for_gossip_windows() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let (d_lazy, gossip_windows) = (config.d_lazy, config.mcache_gossip);
        let mut h = builder(config).peers(20).build();
        h.tick();
        let mesh = h.mesh();
        let (msg, id) = gossip_message(TOPIC, &waku_message(1, 100));
        h.rpc(mesh[0], message_rpc(msg));
        h.take();
        for beat in 1..=gossip_windows + 3 {
            h.tick();
            let sends = h.sends();
            let ihaves = ihaves_to(&sends);
            let with_id = peers_with(&ihaves, &id);
            if beat <= gossip_windows {
                // 20 - |mesh| = 16 candidates, gossip_factor × 16 = 4 <= D_lazy.
                assert_eq!(with_id.len(), d_lazy, "heartbeat {beat}");
                let mesh = h.mesh();
                assert!(with_id.iter().all(|p| !mesh.contains(p)));
            } else {
                assert!(
                    with_id.is_empty(),
                    "heartbeat {beat}: outside the gossip windows"
                );
            }
            assert!(ihaves.iter().all(|(_, ids)| ids == &vec![id]));
        }
    }
}

#[test]
fn ihave_reaches_gossip_factor_of_many_peers() {
    let mut h = builder(RelayConfig::nwaku()).peers(60).build();
    h.tick();
    let non_mesh = 60 - h.mesh().len();
    let (msg, id) = gossip_message(TOPIC, &waku_message(1, 100));
    h.rpc(h.mesh()[0], message_rpc(msg));
    h.tick();
    let sends = h.sends();
    let expected = (non_mesh as f64 * 0.25) as usize;
    assert!(expected > 6);
    assert_eq!(peers_with(&ihaves_to(&sends), &id).len(), expected);
}

#[test]
fn iwant_is_served_from_mcache_only_within_its_windows() {
    let config = RelayConfig::go_waku();
    let history = config.mcache_len;
    let mut h = builder(config).peers(10).build();
    let (now, mut out) = (h.now, Vec::new());
    let id = h
        .relay
        .publish(now, TOPIC, waku_message(1, 50), &mut h.rng, &mut out)
        .unwrap();
    for window in 0..history {
        let asker = PeerId(window as u32 + 1);
        h.rpc(asker, iwant_rpc(&[id]));
        assert_eq!(messages_to(&h.sends()), vec![asker], "window {window}");
        h.tick();
    }
    h.rpc(PeerId(9), iwant_rpc(&[id]));
    assert!(
        messages_to(&h.sends()).is_empty(),
        "gone after mcache_len shifts"
    );
}

#[test]
fn iwant_retransmissions_are_limited_per_peer_go() {
    let mut h = builder(RelayConfig::go_waku()).peers(4).build();
    let (now, mut out) = (h.now, Vec::new());
    let id = h
        .relay
        .publish(now, TOPIC, waku_message(1, 50), &mut h.rng, &mut out)
        .unwrap();
    for ask in 1..=4 {
        h.rpc(PeerId(1), iwant_rpc(&[id]));
        let served = !messages_to(&h.sends()).is_empty();
        assert_eq!(served, ask <= 3, "ask {ask}");
    }
}

#[test]
fn nim_serves_iwant_once_and_only_for_ids_it_advertised() {
    let mut h = builder(RelayConfig::nwaku()).peers(20).build();
    let mesh = h.mesh();
    let (msg, id) = gossip_message(TOPIC, &waku_message(1, 100));
    h.rpc(mesh[0], message_rpc(msg));
    let outsider = (1..=20).map(PeerId).find(|p| !mesh.contains(p)).unwrap();
    h.take();
    h.rpc(outsider, iwant_rpc(&[id]));
    assert!(messages_to(&h.sends()).is_empty(), "never advertised to it");
    h.tick();
    let advertised = peers_with(&ihaves_to(&h.sends()), &id)[0];
    h.rpc(advertised, iwant_rpc(&[id]));
    assert_eq!(messages_to(&h.sends()), vec![advertised]);
    h.rpc(advertised, iwant_rpc(&[id]));
    assert!(messages_to(&h.sends()).is_empty(), "served once");
}

#[test]
fn ihave_is_answered_with_iwant_for_unseen_ids_within_budgets() {
    let ids: Vec<MessageId> = (0..20u8).map(|n| MessageId([n; 32])).collect();
    // nim: at most 10 ids requested per peer per heartbeat.
    let mut h = builder(RelayConfig::nwaku()).peers(4).build();
    h.rpc(PeerId(1), ihave_rpc(TOPIC, &ids));
    let asked = iwants_to(&h.sends());
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].1.len(), 10);
    assert!(asked[0].1.iter().all(|id| ids[..10].contains(id)));
    h.rpc(PeerId(1), ihave_rpc(TOPIC, &ids));
    assert!(iwants_to(&h.sends()).is_empty(), "budget spent");
    h.rpc(PeerId(2), ihave_rpc("/waku/2/rs/1/9", &ids));
    assert!(iwants_to(&h.sends()).is_empty(), "topic not subscribed");
    h.tick();
    h.take();
    h.rpc(PeerId(1), ihave_rpc(TOPIC, &ids));
    assert_eq!(
        iwants_to(&h.sends())[0].1.len(),
        10,
        "budget reset by the heartbeat"
    );

    // go: every unseen id, but at most 10 IHAVE messages per peer per heartbeat.
    let mut h = builder(RelayConfig::go_waku()).peers(4).build();
    let (seen_msg, seen_id) = gossip_message(TOPIC, &waku_message(7, 10));
    h.rpc(PeerId(2), message_rpc(seen_msg));
    let mut with_seen = ids.clone();
    with_seen.push(seen_id);
    h.take();
    h.rpc(PeerId(1), ihave_rpc(TOPIC, &with_seen));
    let asked = iwants_to(&h.sends());
    assert_eq!(asked[0].1.len(), 20);
    assert!(!asked[0].1.contains(&seen_id), "seen ids are not requested");
    for n in 0..9u8 {
        h.rpc(PeerId(1), ihave_rpc(TOPIC, &[MessageId([100 + n; 32])]));
    }
    assert_eq!(iwants_to(&h.sends()).len(), 9);
    h.rpc(PeerId(1), ihave_rpc(TOPIC, &[MessageId([200; 32])]));
    assert!(iwants_to(&h.sends()).is_empty(), "11th IHAVE ignored");
}

#[test]
fn broken_iwant_promise_earns_a_behaviour_penalty_go() {
    let mut h = builder(RelayConfig::go_waku()).peers(4).build();
    let (kept, kept_id) = gossip_message(TOPIC, &waku_message(1, 10));
    let broken_id = MessageId([9; 32]);
    h.rpc(PeerId(1), ihave_rpc(TOPIC, &[kept_id]));
    h.rpc(PeerId(2), ihave_rpc(TOPIC, &[broken_id]));
    h.rpc(PeerId(1), message_rpc(kept));
    for _ in 0..4 {
        h.tick();
    }
    assert_eq!(h.relay.score.behaviour_penalty(PeerId(1)), 0.0);
    assert_eq!(h.relay.score.behaviour_penalty(PeerId(2)), 1.0);
    assert_eq!(h.relay.state_sizes().promises, 0);
}

#[test]
fn duplicates_are_delivered_once_until_the_seen_ttl_expires() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let ttl = config.seen_ttl;
        let mut h = builder(config).peers(6).build();
        let (msg, id) = gossip_message(TOPIC, &waku_message(1, 10));
        h.rpc(PeerId(1), message_rpc(msg.clone()));
        h.rpc(PeerId(2), message_rpc(msg.clone()));
        h.rpc(PeerId(1), message_rpc(msg.clone()));
        assert_eq!(h.delivered(), vec![id]);
        h.take();
        h.advance(ttl.saturating_sub(SimDuration::from_millis(1)));
        h.rpc(PeerId(3), message_rpc(msg.clone()));
        assert!(h.delivered().is_empty(), "still seen just before the TTL");
        h.advance(SimDuration::from_millis(1));
        h.rpc(PeerId(3), message_rpc(msg));
        assert_eq!(h.delivered(), vec![id], "forgotten after the TTL");
    }
}

#[test]
fn seen_cache_is_bounded() {
    let config = RelayConfig {
        seen_capacity: 3,
        ..RelayConfig::nwaku()
    };
    let mut h = builder(config).peers(4).build();
    let messages: Vec<_> = (0..5)
        .map(|n| gossip_message(TOPIC, &waku_message(n, 10)))
        .collect();
    for (msg, _) in &messages {
        h.rpc(PeerId(1), message_rpc(msg.clone()));
    }
    assert_eq!(h.relay.state_sizes().seen_ids, 3);
    h.take();
    h.rpc(PeerId(2), message_rpc(messages[0].0.clone()));
    assert_eq!(
        h.delivered(),
        vec![messages[0].1],
        "the oldest id was evicted"
    );
}

#[test]
fn nwaku_sends_idontwant_to_mesh_peers_for_large_messages_go_waku_does_not() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let nim = config.send_idontwant;
        let mut h = builder(config).peers(12).build();
        h.tick();
        h.take();
        let mesh = h.mesh();
        let (large, _) = gossip_message(TOPIC, &waku_message(1, 2000));
        h.rpc(mesh[0], message_rpc(large));
        let sends = h.sends();
        let mut told = idontwants_to(&sends);
        told.sort();
        if nim {
            assert_eq!(told, mesh[1..].to_vec(), "every mesh peer but the sender");
        } else {
            assert!(told.is_empty());
        }
        let (small, _) = gossip_message(TOPIC, &waku_message(2, 100));
        h.rpc(mesh[0], message_rpc(small));
        assert!(
            idontwants_to(&h.sends()).is_empty(),
            "small messages: no IDONTWANT"
        );
    }
}

#[test]
fn idontwant_suppresses_forwarding_to_that_peer() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let mut h = builder(config).peers(12).build();
        h.tick();
        let mesh = h.mesh();
        let (msg, id) = gossip_message(TOPIC, &waku_message(1, 2000));
        h.rpc(mesh[1], idontwant_rpc(&[id]));
        h.take();
        h.rpc(mesh[0], message_rpc(msg));
        let mut forwarded = messages_to(&h.sends());
        forwarded.sort();
        assert_eq!(forwarded, mesh[2..].to_vec());
    }
}

#[test]
fn invalid_messages_are_penalised_not_forwarded_not_delivered() {
    let mut h = builder(RelayConfig::go_waku()).peers(6).build();
    h.tick();
    let garbage = GossipsubMessage {
        data: Some(vec![0xff, 0x01, 0x02].into()),
        topic: Some(TOPIC.into()),
        ..Default::default()
    };
    h.take();
    h.rpc(PeerId(1), message_rpc(garbage.clone()));
    h.rpc(PeerId(2), message_rpc(garbage));
    let sends = h.sends();
    assert!(messages_to(&sends).is_empty());
    assert!(h.delivered().is_empty());
    assert_eq!(h.relay.peer_score(PeerId(1)), -100.0);
    assert_eq!(
        h.relay.peer_score(PeerId(2)),
        -100.0,
        "forwarding it again costs too"
    );

    // StrictNoSign: author information is a protocol violation for go.
    let (mut signed, _) = gossip_message(TOPIC, &waku_message(3, 10));
    signed.from = Some(vec![1, 2, 3].into());
    h.rpc(PeerId(3), message_rpc(signed));
    assert!(h.delivered().is_empty());
    assert_eq!(h.relay.peer_score(PeerId(3)), -100.0);
}

#[test]
fn graylisted_peers_are_ignored_and_disconnected() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let nim = config.implementation == GossipsubImpl::NimLibp2p;
        let mut h = builder(config).peers(6).build();
        for n in 0..40u8 {
            let garbage = GossipsubMessage {
                data: Some(vec![0xff, n].into()),
                topic: Some(TOPIC.into()),
                ..Default::default()
            };
            h.rpc(PeerId(1), message_rpc(garbage));
        }
        h.take();
        // go checks scores on demand (go-waku's inspector runs every 6 s); nim at its next
        // score update (every 12 s).
        let mut ticks = 0;
        loop {
            h.tick();
            ticks += 1;
            if h.take()
                .contains(&RelayOutput::Disconnect { peer: PeerId(1) })
            {
                break;
            }
            assert!(ticks < 12, "asked to disconnect (nim: {nim})");
        }
        assert_eq!(ticks == 1, !nim);
        let (msg, _) = gossip_message(TOPIC, &waku_message(5, 10));
        h.rpc(PeerId(1), message_rpc(msg));
        assert!(
            h.delivered().is_empty(),
            "RPCs from a graylisted peer are ignored"
        );
    }
}
