//! Connection targets, dialling, backoff schedules, inbound pruning, limits, cluster checks,
//! the online check and the dynamic loop interval.

use std::rc::Rc;

use sim_core::{NodeId, SimDuration, SimRng, SimTime};

use super::{ME, dials, disconnects, manager, quiet, relay_directory, secs, tick_connect_all};
use crate::peer_manager::{
    BackoffPolicy, Capabilities, Directory, Origin, PeerManager, PeerManagerConfig,
    PeerManagerConfigError, PeerManagerOutput, PeerRecord, go_waku_relay_targets,
    nwaku_relay_targets,
};

#[test]
fn presets_derive_the_reference_targets() {
    assert_eq!(nwaku_relay_targets(50, 60), (10, 20));
    assert_eq!(go_waku_relay_targets(50), (13, 27));
    let nw = PeerManagerConfig::nwaku();
    assert_eq!(
        (nw.out_relay_target, nw.in_relay_target, nw.max_connections),
        (10, 20, 50)
    );
    assert_eq!(nw.peer_store_capacity, 250);
    let go = PeerManagerConfig::go_waku();
    assert_eq!((go.out_relay_target, go.in_relay_target), (13, 27));
    assert_eq!(go.connectivity_interval, SimDuration::from_secs(15));
    let bad = PeerManagerConfig {
        peer_store_capacity: 10,
        ..PeerManagerConfig::nwaku()
    };
    assert!(matches!(
        PeerManager::new(bad, ME, relay_directory(1), SimTime::ZERO),
        Err(PeerManagerConfigError::StoreSmallerThanConnections { .. })
    ));
}

#[test]
fn dials_up_to_the_outbound_target_and_refills_it() {
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 60);
    let mut rng = SimRng::from_seed(1);
    let out = tick_connect_all(&mut pm, &mut rng, secs(0));
    let first = dials(&out);
    assert_eq!(first.len(), 10);
    assert!(!first.contains(&ME));
    assert_eq!(pm.relay_connection_counts(), (0, 10));
    // At target: the loop relaxes to 30 s and dials nothing.
    assert_eq!(pm.poll_timeout(), Some(secs(5)), "online check first");
    let out = tick_connect_all(&mut pm, &mut rng, secs(30));
    assert!(dials(&out).is_empty());
    // Three connections drop: the next run dials exactly three.
    for p in &first[..3] {
        pm.on_disconnected(secs(31), *p);
    }
    let out = tick_connect_all(&mut pm, &mut rng, secs(60));
    assert_eq!(dials(&out).len(), 3);
    assert_eq!(pm.relay_connection_counts(), (0, 10));
}

#[test]
fn go_waku_dials_at_most_five_at_once_and_counts_inbound() {
    let mut pm = manager(quiet(PeerManagerConfig::go_waku()), 60);
    let mut rng = SimRng::from_seed(2);
    let mut out = Vec::new();
    pm.tick(secs(0), &mut rng, &mut out);
    assert_eq!(dials(&out).len(), 5, "maxActiveDials");
    let dialled = dials(&out);
    for p in &dialled {
        pm.on_connected(secs(1), *p, true, &mut Vec::new());
    }
    // Eight inbound relay peers: 5 + 8 = 13 connected = target, so nothing more is dialled.
    let inbound: Vec<NodeId> = (1..60)
        .map(NodeId)
        .filter(|p| !dialled.contains(p))
        .take(8)
        .collect();
    for p in inbound {
        pm.on_connected(secs(2), p, false, &mut Vec::new());
    }
    assert_eq!(pm.relay_connection_counts(), (8, 5));
    let out = tick_connect_all(&mut pm, &mut rng, secs(15));
    assert!(dials(&out).is_empty());
}

#[test]
fn nwaku_backoff_follows_120s_times_4_pow_n_minus_1_and_gives_up_after_5() {
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 2);
    let mut rng = SimRng::from_seed(3);
    let mut dial_times = Vec::new();
    let mut now = SimTime::ZERO;
    while now < secs(50_000) {
        let mut out = Vec::new();
        pm.tick(now, &mut rng, &mut out);
        for p in dials(&out) {
            dial_times.push(now.since_start().as_millis() / 1000);
            pm.on_dial_failed(now, &mut rng, p);
        }
        now = pm.poll_timeout().expect("loops always scheduled");
    }
    assert_eq!(dial_times, vec![0, 120, 600, 2520, 10_200]);
    let info = pm.peer(NodeId(1)).expect("known");
    assert!(info.gave_up);
    assert_eq!(info.failed_dials, 5);
}

#[test]
fn nwaku_successful_dial_resets_the_failure_count() {
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 2);
    let mut rng = SimRng::from_seed(4);
    pm.tick(secs(0), &mut rng, &mut Vec::new());
    pm.on_dial_failed(secs(1), &mut rng, NodeId(1));
    assert_eq!(pm.peer(NodeId(1)).unwrap().redial_at, Some(secs(121)));
    pm.on_connected(secs(5), NodeId(1), true, &mut Vec::new());
    let info = pm.peer(NodeId(1)).unwrap();
    assert_eq!((info.failed_dials, info.redial_at), (0, None));
}

#[test]
fn go_waku_backoff_is_full_jitter_between_one_minute_and_one_hour() {
    let policy = BackoffPolicy::go_waku();
    let mut rng = SimRng::from_seed(5);
    let min = SimDuration::from_mins(1);
    for attempt in 0..3 {
        assert_eq!(policy.delay(&mut rng, 1, attempt), Some(min));
    }
    let mut longest = SimDuration::ZERO;
    for _ in 0..2000 {
        let d3 = policy.delay(&mut rng, 1, 3).unwrap();
        assert!(d3 >= min && d3 < SimDuration::from_secs(125));
        let d4 = policy.delay(&mut rng, 1, 4).unwrap();
        assert!(d4 >= min && d4 < SimDuration::from_secs(625));
        let d9 = policy.delay(&mut rng, 1, 9).unwrap();
        assert!(d9 >= min && d9 < SimDuration::from_mins(60));
        longest = longest.max(d9);
    }
    assert!(
        longest > SimDuration::from_mins(55),
        "spreads up to the cap"
    );
    assert_eq!(policy.gives_up_after(), None);

    // Through the peer manager: never gives up, and success does not reset the draws.
    let mut pm = manager(quiet(PeerManagerConfig::go_waku()), 2);
    for k in 0..10u64 {
        let now = secs(10_000 * k);
        pm.on_dial_failed(now, &mut rng, NodeId(1));
        let info = pm.peer(NodeId(1)).unwrap();
        let wait = info.redial_at.unwrap().saturating_duration_since(now);
        assert!(wait >= min && wait < SimDuration::from_mins(60));
        assert!(!info.gave_up);
    }
    pm.on_connected(secs(200_000), NodeId(1), true, &mut Vec::new());
    let info = pm.peer(NodeId(1)).unwrap();
    assert_eq!((info.failed_dials, info.backoff_draws), (0, 10));
}

#[test]
fn backoff_blocks_redial_until_it_expires() {
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 2);
    let mut rng = SimRng::from_seed(6);
    let mut out = Vec::new();
    pm.tick(secs(0), &mut rng, &mut out);
    assert_eq!(dials(&out), vec![NodeId(1)]);
    pm.on_dial_failed(secs(0), &mut rng, NodeId(1));
    for t in 1..120 {
        let mut out = Vec::new();
        pm.tick(secs(t), &mut rng, &mut out);
        assert!(dials(&out).is_empty(), "dialled at {t} s during backoff");
    }
    let mut out = Vec::new();
    pm.tick(secs(120), &mut rng, &mut out);
    assert_eq!(dials(&out), vec![NodeId(1)]);
}

#[test]
fn nwaku_prunes_new_inbound_relay_peers_above_the_target() {
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 40);
    for id in 1..=20 {
        let mut out = Vec::new();
        pm.on_connected(secs(1), NodeId(id), false, &mut out);
        assert!(out.is_empty());
    }
    let mut out = Vec::new();
    pm.on_connected(secs(1), NodeId(21), false, &mut out);
    assert_eq!(disconnects(&out), vec![NodeId(21)]);
    assert_eq!(pm.relay_connection_counts(), (20, 0));
}

#[test]
fn go_waku_prunes_excess_inbound_in_its_loop() {
    let mut pm = manager(quiet(PeerManagerConfig::go_waku()), 40);
    let mut rng = SimRng::from_seed(7);
    for id in 1..=30 {
        let mut out = Vec::new();
        pm.on_connected(secs(1), NodeId(id), false, &mut out);
        assert!(out.is_empty(), "go-waku does not prune on connect");
    }
    let mut out = Vec::new();
    pm.tick(secs(1), &mut rng, &mut out);
    assert_eq!(disconnects(&out).len(), 3);
    assert_eq!(pm.relay_connection_counts(), (27, 0));
}

#[test]
fn inbound_connections_beyond_the_limit_are_refused() {
    let cfg = PeerManagerConfig {
        max_connections: 5,
        in_relay_target: 50,
        peer_store_capacity: 50,
        ..quiet(PeerManagerConfig::nwaku())
    };
    let mut pm = manager(cfg, 10);
    for id in 1..=5 {
        pm.on_connected(secs(1), NodeId(id), false, &mut Vec::new());
    }
    let mut out = Vec::new();
    pm.on_connected(secs(1), NodeId(6), false, &mut out);
    assert_eq!(disconnects(&out), vec![NodeId(6)]);
    assert_eq!(pm.connections().count(), 5);
}

#[test]
fn a_peer_of_another_cluster_is_dropped_on_connect_and_never_dialled() {
    let records = vec![
        PeerRecord::new(ME, Capabilities::RELAY, 1, [0]).unwrap(),
        PeerRecord::new(NodeId(1), Capabilities::RELAY, 2, [0]).unwrap(),
    ];
    let dir = Rc::new(Directory::new(records).unwrap());
    let cfg = quiet(PeerManagerConfig::nwaku());
    let mut pm = PeerManager::new(cfg, ME, Rc::clone(&dir), SimTime::ZERO).unwrap();
    pm.add_peer(SimTime::ZERO, dir.get(NodeId(1)).unwrap(), Origin::Discv5);
    let mut out = Vec::new();
    pm.tick(secs(0), &mut SimRng::from_seed(8), &mut out);
    assert!(dials(&out).is_empty());
    let mut out = Vec::new();
    pm.on_connected(secs(1), NodeId(1), false, &mut out);
    assert_eq!(disconnects(&out), vec![NodeId(1)]);
    assert!(pm.peer(NodeId(1)).is_none(), "deleted from the store");
}

#[test]
fn offline_nodes_do_not_dial_and_report_the_change() {
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 20);
    let mut rng = SimRng::from_seed(9);
    pm.set_network_reachable(false);
    let mut out = Vec::new();
    pm.tick(secs(5), &mut rng, &mut out);
    assert_eq!(
        out.first(),
        Some(&PeerManagerOutput::OnlineChanged { online: false })
    );
    assert!(dials(&out).is_empty());
    assert!(!pm.is_online());
    pm.set_network_reachable(true);
    let mut out = Vec::new();
    pm.tick(secs(10), &mut rng, &mut out);
    assert_eq!(
        out.first(),
        Some(&PeerManagerOutput::OnlineChanged { online: true })
    );
    assert_eq!(dials(&out).len(), 10);
}

#[test]
fn nwaku_connectivity_interval_shrinks_with_missing_peers() {
    let mut rng = SimRng::from_seed(10);
    // No peer at all: outFactor 0 ⇒ the 1 s floor.
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 1);
    pm.tick(secs(0), &mut rng, &mut Vec::new());
    assert_eq!(pm.next_connectivity, secs(1));
    // Five peers for a target of ten: 30 s × 5/10 = 15 s (dials in flight count).
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 6);
    let out = tick_connect_all(&mut pm, &mut rng, secs(0));
    assert_eq!(dials(&out).len(), 5);
    assert_eq!(pm.next_connectivity, secs(15));
    // Target reached: the full 30 s.
    let mut pm = manager(quiet(PeerManagerConfig::nwaku()), 60);
    tick_connect_all(&mut pm, &mut rng, secs(0));
    assert_eq!(pm.next_connectivity, secs(30));
    // go-waku: always 15 s.
    let mut pm = manager(quiet(PeerManagerConfig::go_waku()), 1);
    pm.tick(secs(0), &mut rng, &mut Vec::new());
    assert_eq!(pm.next_connectivity, secs(15));
}
