//! Keep-alive rounds and intervals, sleep detection, offline detection, and go-waku's
//! per-peer disconnection.

use sim_core::{NodeId, SimDuration, SimRng, SimTime};

use super::{disconnects, manager, pings, quiet, secs};
use crate::peer_manager::{PeerManager, PeerManagerConfig, PeerManagerOutput};

/// A peer manager with `outbound` outbound and `inbound` inbound relay connections at t = 0,
/// and no connectivity-loop dialling (targets met or zero).
fn connected(config: PeerManagerConfig, outbound: u32, inbound: u32) -> PeerManager {
    let config = PeerManagerConfig {
        out_relay_target: 0,
        in_relay_target: 50,
        prune_inbound_on_connect: false,
        ..quiet(config)
    };
    let mut pm = manager(config, 60);
    for id in 1..=outbound {
        pm.on_connected(SimTime::ZERO, NodeId(id), true, &mut Vec::new());
    }
    for id in 0..inbound {
        pm.on_connected(SimTime::ZERO, NodeId(30 + id), false, &mut Vec::new());
    }
    pm
}

/// Ticks at `now` and answers every ping with `ok`; returns the tick's outputs.
fn round(pm: &mut PeerManager, rng: &mut SimRng, now: SimTime, ok: bool) -> Vec<PeerManagerOutput> {
    let mut out = Vec::new();
    pm.tick(now, rng, &mut out);
    let mut i = 0;
    while i < out.len() {
        if let PeerManagerOutput::Ping(p) = out[i] {
            let mut more = Vec::new();
            pm.on_ping_result(now, p, ok, &mut more);
            out.extend(more);
        }
        i += 1;
    }
    out
}

#[test]
fn nwaku_pings_mesh_plus_random_every_10s_and_all_outbound_every_2min() {
    let mut pm = connected(PeerManagerConfig::nwaku(), 15, 3);
    let mut rng = SimRng::from_seed(1);
    // Mesh peers include an inbound one; they are always pinged.
    pm.set_mesh_peers([NodeId(1), NodeId(2), NodeId(30)]);
    assert_eq!(pm.next_keepalive, Some(secs(10)));
    for t in (10..120).step_by(10) {
        let out = round(&mut pm, &mut rng, secs(t), true);
        let p = pings(&out);
        assert_eq!(p.len(), 10, "3 mesh + 7 random outbound at {t} s");
        for m in [1, 2, 30] {
            assert!(p.contains(&NodeId(m)));
        }
        assert!(
            p.iter().all(|x| x.0 <= 15 || x.0 == 30),
            "random ones are outbound"
        );
    }
    let out = round(&mut pm, &mut rng, secs(120), true);
    let mut p = pings(&out);
    p.sort();
    assert_eq!(
        p,
        (1..=15).map(NodeId).collect::<Vec<_>>(),
        "all outbound at 2 min"
    );
    let out = round(&mut pm, &mut rng, secs(130), true);
    assert_eq!(pings(&out).len(), 10);
    assert_eq!(pm.failed_keepalive_rounds(), 0);
}

#[test]
fn go_waku_pings_relay_peers_of_both_directions_and_filter_service_peers() {
    let mut pm = connected(PeerManagerConfig::go_waku(), 3, 3);
    let mut rng = SimRng::from_seed(2);
    pm.set_filter_service_peers([NodeId(2)]);
    let out = round(&mut pm, &mut rng, secs(10), true);
    let mut p = pings(&out);
    p.sort();
    assert_eq!(p, [1, 2, 3, 30, 31, 32].map(NodeId).to_vec());
    // The all-peers round comes at 5 min.
    for t in (20..300).step_by(10) {
        round(&mut pm, &mut rng, secs(t), true);
    }
    let out = round(&mut pm, &mut rng, secs(300), true);
    assert_eq!(pings(&out).len(), 6);
    assert_eq!(pm.next_all_peers_ping, secs(600));
}

#[test]
fn a_gap_over_30s_between_runs_is_sleep_and_drops_every_connection() {
    let mut pm = connected(PeerManagerConfig::nwaku(), 4, 2);
    let mut rng = SimRng::from_seed(3);
    round(&mut pm, &mut rng, secs(10), true);
    // Exactly 30 s later is not yet sleep.
    let out = round(&mut pm, &mut rng, secs(40), true);
    assert!(
        !out.iter()
            .any(|o| matches!(o, PeerManagerOutput::SleepDetected { .. }))
    );
    assert_eq!(pm.connections().count(), 6);
    // The host sleeps; the next run is 45 s after the previous one.
    let out = round(&mut pm, &mut rng, secs(85), true);
    assert_eq!(
        out.first(),
        Some(&PeerManagerOutput::SleepDetected {
            gap: SimDuration::from_secs(45)
        })
    );
    let mut dropped = disconnects(&out);
    dropped.sort();
    assert_eq!(dropped, [1, 2, 3, 4, 30, 31].map(NodeId).to_vec());
    assert_eq!(pm.connections().count(), 0);
    assert!(pings(&out).is_empty());
}

#[test]
fn nwaku_drops_everything_after_three_rounds_of_failed_pings() {
    let mut pm = connected(PeerManagerConfig::nwaku(), 3, 0);
    let mut rng = SimRng::from_seed(4);
    for (k, t) in [10, 20, 30].into_iter().enumerate() {
        let out = round(&mut pm, &mut rng, secs(t), false);
        assert!(
            disconnects(&out).is_empty(),
            "nwaku never drops a peer for a failed ping"
        );
        assert_eq!(pm.failed_keepalive_rounds(), k as u32 + 1);
    }
    let out = round(&mut pm, &mut rng, secs(40), false);
    assert_eq!(disconnects(&out).len(), 3);
    assert_eq!(pm.failed_keepalive_rounds(), 0);
    assert_eq!(pm.peer(NodeId(1)).unwrap().failed_pings, 3);
}

#[test]
fn go_waku_retries_a_failed_ping_once_then_closes_that_connection() {
    let mut pm = connected(PeerManagerConfig::go_waku(), 2, 0);
    let mut rng = SimRng::from_seed(5);
    let mut out = Vec::new();
    pm.tick(secs(10), &mut rng, &mut out);
    assert_eq!(pings(&out).len(), 2);
    pm.on_ping_result(secs(12), NodeId(2), true, &mut out);
    let mut retry = Vec::new();
    pm.on_ping_result(secs(17), NodeId(1), false, &mut retry);
    assert_eq!(retry, vec![PeerManagerOutput::Ping(NodeId(1))]);
    let mut last = Vec::new();
    pm.on_ping_result(secs(24), NodeId(1), false, &mut last);
    assert_eq!(last, vec![PeerManagerOutput::Disconnect(NodeId(1))]);
    assert_eq!(pm.connections().count(), 1);
    assert_eq!(pm.failed_keepalive_rounds(), 0, "one ping succeeded");
}

#[test]
fn go_waku_without_relay_runs_no_keepalive() {
    let cfg = PeerManagerConfig {
        relay: false,
        ..PeerManagerConfig::go_waku()
    };
    let mut pm = connected(cfg, 2, 0);
    let mut out = Vec::new();
    pm.tick(secs(100), &mut SimRng::from_seed(6), &mut out);
    assert!(pings(&out).is_empty());
    assert!(
        !out.iter()
            .any(|o| matches!(o, PeerManagerOutput::SleepDetected { .. }))
    );
}
