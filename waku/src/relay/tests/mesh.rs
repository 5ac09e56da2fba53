//! Mesh maintenance: GRAFT/PRUNE handling and backoff, D_low/D_high/D_score/D_out in the
//! heartbeat, subscription changes, and disconnection.

use sim_core::SimDuration;

use super::*;
use crate::relay::GossipsubImpl;

fn outbound_in(h: &Harness, outbound: &[u32]) -> usize {
    h.mesh().iter().filter(|p| outbound.contains(&p.0)).count()
}

#[test]
fn graft_during_backoff_is_answered_with_prune_penalised_and_backoff_refreshed() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let nim = config.implementation == GossipsubImpl::NimLibp2p;
        let mut h = builder(config).peers(10).build();
        let p = PeerId(7);
        // p prunes us asking for 60 s: we must not graft it, nor accept its GRAFT.
        h.rpc(p, prune_rpc(TOPIC, 60));
        h.take();
        h.advance(SimDuration::from_secs(5));
        h.rpc(p, graft_rpc(TOPIC));
        let sends = h.sends();
        assert_eq!(pruned_to(&sends), vec![(p, 60)], "answered with PRUNE");
        assert!(!h.mesh().contains(&p));
        // nim: +0.1; go: +1, and +1 more because the GRAFT came within the 10 s flood
        // threshold of the prune.
        let penalty = if nim { 0.1 } else { 2.0 };
        assert_eq!(h.relay.score.behaviour_penalty(p), penalty);
        assert_eq!(
            h.relay.backoff.expiry(TOPIC, p),
            Some(h.now + SimDuration::from_secs(60)),
            "backoff refreshed from the offending GRAFT"
        );

        h.advance(SimDuration::from_secs(61));
        h.tick();
        h.take();
        h.rpc(p, graft_rpc(TOPIC));
        let sends = h.sends();
        if nim {
            // nim scores P7 = -10 × 0.1² = -0.1, above the publish threshold: accepted.
            assert!(pruned_to(&sends).is_empty());
            assert!(h.mesh().contains(&p));
        } else {
            // go: P7 = -10 × 2² (decayed by 0.986 per 12 s) keeps the score negative: PRUNE.
            assert!(h.relay.peer_score(p) < 0.0);
            assert_eq!(pruned_to(&sends), vec![(p, 60)]);
        }
    }
}

#[test]
fn graft_outside_backoff_is_accepted_and_unknown_topics_ignored() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let mut h = builder(config).peers(10).build();
        h.clear_mesh();
        h.rpc(PeerId(3), graft_rpc(TOPIC));
        h.rpc(PeerId(4), graft_rpc("/waku/2/rs/1/7"));
        let sends = h.sends();
        assert!(
            pruned_to(&sends).is_empty(),
            "no PRUNE, not even for unknown topics"
        );
        assert_eq!(h.mesh(), vec![PeerId(3)]);
    }
}

#[test]
fn inbound_graft_into_a_full_mesh_is_pruned() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let mut h = builder(config).peers(12).outbound([12]).build();
        h.clear_mesh();
        h.force_mesh(1..=8); // D_high
        h.rpc(PeerId(9), graft_rpc(TOPIC));
        assert_eq!(pruned_to(&h.sends()), vec![(PeerId(9), 60)]);
        // An outbound peer is still accepted (both: it keeps D_out satisfiable).
        h.rpc(PeerId(12), graft_rpc(TOPIC));
        assert!(pruned_to(&h.sends()).is_empty());
        assert!(h.mesh().contains(&PeerId(12)));
    }
}

#[test]
fn mesh_above_d_high_is_pruned_to_d_keeping_d_out_outbound_go() {
    let outbound = [10, 11, 12];
    for seed in 0..20 {
        let mut h = builder(RelayConfig::go_waku())
            .peers(12)
            .outbound(outbound)
            .seed(seed)
            .build();
        h.force_mesh(1..=12);
        h.heartbeat();
        let sends = h.sends();
        let config = h.relay.config().clone();
        assert_eq!(h.mesh().len(), config.d);
        assert!(outbound_in(&h, &outbound) >= config.d_out);
        let pruned = pruned_to(&sends);
        assert_eq!(pruned.len(), 12 - config.d);
        for (peer, backoff_s) in pruned {
            assert_eq!(backoff_s, 60);
            assert!(h.relay.backoff.contains(TOPIC, peer));
        }
    }
}

#[test]
fn mesh_above_d_high_is_pruned_keeping_d_out_outbound_nim() {
    let outbound = [10, 11, 12];
    for seed in 0..20 {
        let mut h = builder(RelayConfig::nwaku())
            .peers(12)
            .outbound(outbound)
            .seed(seed)
            .build();
        h.force_mesh(1..=12);
        // nim's rebalance may leave D_high + 1 (it keeps D_out outbound among the prune
        // candidates on top of the D_score best); later heartbeats finish the job.
        let config = h.relay.config().clone();
        for _ in 0..5 {
            h.heartbeat();
            if h.mesh().len() <= config.d_high {
                break;
            }
        }
        let size = h.mesh().len();
        assert!((config.d..=config.d_high).contains(&size), "mesh {size}");
        assert_eq!(outbound_in(&h, &outbound), 3);
    }
}

#[test]
fn pruning_keeps_the_d_score_best_scored_peers() {
    let config = RelayConfig {
        d_out: 0,
        ..RelayConfig::go_waku()
    };
    let mut h = builder(config).peers(12).build();
    h.force_mesh(1..=12);
    for (tag, peer) in (1..=4).enumerate() {
        let (m, _) = gossip_message(TOPIC, &waku_message(tag as u32, 10));
        h.rpc(PeerId(peer), message_rpc(m));
    }
    h.heartbeat();
    assert_eq!(h.mesh(), (1..=4).map(PeerId).collect::<Vec<_>>());
}

#[test]
fn mesh_below_d_low_is_grafted_up_to_d_on_heartbeat() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let d = config.d;
        let mut h = builder(config).peers(12).build();
        h.clear_mesh();
        h.force_mesh([5, 6]);
        // Peers 1 and 2 pruned us: they are backing off and must not be grafted.
        h.rpc(PeerId(1), prune_rpc(TOPIC, 60));
        h.rpc(PeerId(2), prune_rpc(TOPIC, 60));
        h.take();
        h.tick();
        let sends = h.sends();
        let mesh = h.mesh();
        assert_eq!(mesh.len(), d);
        assert!(!mesh.contains(&PeerId(1)) && !mesh.contains(&PeerId(2)));
        let mut grafted = grafted_to(&sends);
        grafted.sort();
        let new: Vec<PeerId> = mesh
            .into_iter()
            .filter(|p| *p != PeerId(5) && *p != PeerId(6))
            .collect();
        assert_eq!(grafted, new, "GRAFT sent to exactly the new mesh peers");
    }
}

#[test]
fn heartbeat_tops_up_outbound_peers_to_d_out() {
    let outbound = [9, 10, 11, 12];
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let d_out = config.d_out;
        let mut h = builder(config).peers(12).outbound(outbound).build();
        h.clear_mesh();
        h.force_mesh(1..=5);
        h.tick();
        assert!(outbound_in(&h, &outbound) >= d_out);
    }
}

#[test]
fn received_prune_removes_from_mesh_and_blocks_regrafting_until_backoff_ends() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let mut h = builder(config).peers(4).build();
        h.tick();
        assert_eq!(h.mesh().len(), 4);
        h.rpc(PeerId(2), prune_rpc(TOPIC, 10));
        assert!(!h.mesh().contains(&PeerId(2)));
        for _ in 0..9 {
            h.tick();
            assert!(!h.mesh().contains(&PeerId(2)), "backing off");
        }
        for _ in 0..20 {
            h.tick();
        }
        assert!(
            h.mesh().contains(&PeerId(2)),
            "grafted again after the backoff"
        );
    }
}

#[test]
fn subscribe_announces_and_grafts_unsubscribe_prunes_with_unsubscribe_backoff() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let d = config.d;
        let mut h = builder(config).peers(10).subscribe(false).build();
        let (now, mut out) = (h.now, Vec::new());
        h.relay.subscribe(now, TOPIC, &mut h.rng, &mut out);
        h.out = out;
        let sends = h.sends();
        let announced = sends
            .iter()
            .filter(|(_, rpc)| rpc.subscriptions.iter().any(|s| s.subscribe()))
            .count();
        assert_eq!(announced, 10);
        assert_eq!(grafted_to(&sends).len(), d);
        assert_eq!(h.mesh().len(), d);

        let mesh = h.mesh();
        let mut out = Vec::new();
        h.relay.unsubscribe(now, TOPIC, &mut out);
        h.out = out;
        let sends = h.sends();
        let mut pruned = pruned_to(&sends);
        pruned.sort();
        assert_eq!(pruned, mesh.iter().map(|&p| (p, 5)).collect::<Vec<_>>());
        let unannounced = sends
            .iter()
            .filter(|(_, rpc)| rpc.subscriptions.iter().any(|s| !s.subscribe()))
            .count();
        assert_eq!(unannounced, 10);
        assert!(!h.relay.is_subscribed(TOPIC));
        assert!(mesh.iter().all(|&p| h.relay.backoff.contains(TOPIC, p)));
    }
}

#[test]
fn backoff_on_disconnect_is_nims_switch() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let nim = config.backoff_on_disconnect;
        let mut h = builder(config).peers(4).build();
        h.tick();
        assert!(h.mesh().contains(&PeerId(1)));
        let (now, mut out) = (h.now, Vec::new());
        h.relay.remove_peer(now, PeerId(1), &mut out);
        assert!(out.contains(&RelayOutput::Pruned {
            topic: TOPIC.into(),
            peer: PeerId(1)
        }));
        h.relay.add_peer(now, PeerId(1), false, &mut out);
        h.rpc(PeerId(1), subscribe_rpc(TOPIC));
        h.tick();
        assert_eq!(h.mesh().contains(&PeerId(1)), !nim);
        if nim {
            for _ in 0..60 {
                h.tick();
            }
            assert!(h.mesh().contains(&PeerId(1)), "after prune_backoff");
        }
    }
}

#[test]
fn remote_unsubscribe_leaves_mesh_and_topic() {
    for config in [RelayConfig::nwaku(), RelayConfig::go_waku()] {
        let mut h = builder(config).peers(4).build();
        h.tick();
        assert!(h.mesh().contains(&PeerId(3)));
        let mut rpc = subscribe_rpc(TOPIC);
        rpc.subscriptions[0].subscribe = Some(false);
        h.rpc(PeerId(3), rpc);
        assert!(!h.mesh().contains(&PeerId(3)));
        assert_eq!(h.relay.peers_on_topic(TOPIC), 3);
    }
}
