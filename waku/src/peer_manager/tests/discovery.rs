//! Directory sampling (discv5), the discv5 loop's predicate, simulated ENRs, peer exchange both
//! ways, and the bounded peer store.

use std::collections::BTreeSet;
use std::rc::Rc;

use sim_core::{NodeId, SimRng, SimTime};

use super::{ME, manager, quiet, relay_directory, relay_record, secs};
use crate::peer_manager::{
    Capabilities, Directory, DirectoryError, Origin, PX_SUCCESS, PeerManager, PeerManagerConfig,
    PeerManagerOutput, PeerRecord, decode_enr, enr_wire_len,
};
use crate::proto::{PeerExchangePeerInfo, PeerExchangeQuery, PeerExchangeResponse};

fn ids(records: &[&PeerRecord]) -> Vec<u32> {
    records.iter().map(|r| r.id().0).collect()
}

#[test]
fn discv5_samples_are_deterministic_distinct_and_never_self() {
    let dir = relay_directory(50);
    let a = ids(&dir.discv5_sample(&mut SimRng::from_seed(42), NodeId(7), 16));
    let b = ids(&dir.discv5_sample(&mut SimRng::from_seed(42), NodeId(7), 16));
    assert_eq!(a, b);
    assert_ne!(
        a,
        ids(&dir.discv5_sample(&mut SimRng::from_seed(43), NodeId(7), 16))
    );
    assert_eq!(a.len(), 16);
    assert_eq!(a.iter().collect::<BTreeSet<_>>().len(), 16);

    let mut rng = SimRng::from_seed(1);
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let s = ids(&dir.discv5_sample(&mut rng, NodeId(7), 16));
        assert!(!s.contains(&7));
        seen.extend(s);
    }
    assert_eq!(seen.len(), 49, "every other node turns up");
    // Asking for more than exist returns everyone else.
    let all = ids(&dir.discv5_sample(&mut rng, NodeId(0), 100));
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 49);
    assert!(!all.contains(&0));
    // A directory holding only the asker yields nothing.
    let lonely = relay_directory(1);
    assert!(lonely.discv5_sample(&mut rng, NodeId(0), 16).is_empty());
}

#[test]
fn directory_rejects_duplicates_and_oversized_shard_lists() {
    assert_eq!(
        Directory::new([relay_record(1), relay_record(1)]).unwrap_err(),
        DirectoryError::DuplicateNode(NodeId(1))
    );
    assert!(matches!(
        PeerRecord::new(NodeId(1), Capabilities::RELAY, 1, 0..300),
        Err(DirectoryError::TooManyShards { count: 300, .. })
    ));
}

#[test]
fn simulated_enrs_round_trip_at_real_size() {
    let caps = Capabilities::RELAY | Capabilities::STORE | Capabilities::PEER_EXCHANGE;
    let rec = PeerRecord::new(NodeId(1234), caps, 16, [3, 1, 3]).unwrap();
    assert_eq!(rec.shards(), &[1, 3]);
    assert_eq!(rec.enr().len(), enr_wire_len(2));
    assert_eq!(enr_wire_len(0), 147);
    assert_eq!(enr_wire_len(1), 156);
    assert_eq!(enr_wire_len(8), 170);
    assert_eq!(decode_enr(rec.enr()).unwrap(), rec);
    assert_eq!(caps.waku2_field(), 0b11);
    assert!(decode_enr(&[0u8; 200]).is_err());
    assert!(decode_enr(&rec.enr()[..11]).is_err());
}

#[test]
fn discv5_loop_keeps_only_peers_of_our_cluster_and_shards() {
    let mut records = vec![relay_record(0)];
    for id in 1..=60u32 {
        let (cluster, shard) = match id % 3 {
            0 => (1, 0),
            1 => (2, 0),
            _ => (1, 5),
        };
        records.push(PeerRecord::new(NodeId(id), Capabilities::RELAY, cluster, [shard]).unwrap());
    }
    let dir = Rc::new(Directory::new(records).unwrap());
    let cfg = PeerManagerConfig {
        shards: vec![0],
        px_interval: None,
        ..PeerManagerConfig::nwaku()
    };
    let mut pm = PeerManager::new(cfg, ME, Rc::clone(&dir), SimTime::ZERO).unwrap();
    let mut rng = SimRng::from_seed(5);
    for t in (0..300).step_by(5) {
        pm.tick(secs(t), &mut rng, &mut Vec::new());
    }
    let known: Vec<u32> = (1..=60).filter(|i| pm.peer(NodeId(*i)).is_some()).collect();
    assert!(known.len() >= 15, "most matching peers found: {known:?}");
    assert!(known.iter().all(|i| i % 3 == 0));
    assert_eq!(pm.peer(NodeId(3)).map(|p| p.origin), Some(Origin::Discv5));
}

#[test]
fn peer_exchange_answers_are_bounded_and_filtered() {
    let mut svc = manager(quiet(PeerManagerConfig::nwaku()), 100);
    let mut rng = SimRng::from_seed(6);
    // A peer whose last dial failed is not handed out; nor one learnt otherwise.
    svc.on_dial_failed(secs(1), &mut rng, NodeId(1));
    svc.add_static_peer(secs(1), NodeId(500));
    let five = svc.handle_peer_exchange_request(&mut rng, &PeerExchangeQuery { num_peers: 5 });
    assert_eq!(five.peer_infos.len(), 5);
    assert_eq!(five.status_code, Some(PX_SUCCESS));
    let many = svc.handle_peer_exchange_request(&mut rng, &PeerExchangeQuery { num_peers: 1000 });
    assert_eq!(many.peer_infos.len(), 60, "MaxPeersCacheSize");
    let handed: BTreeSet<u32> = many
        .peer_infos
        .iter()
        .map(|i| decode_enr(&i.enr).unwrap().id().0)
        .collect();
    assert_eq!(handed.len(), 60);
    assert!(!handed.contains(&1) && !handed.contains(&0));
    let none = svc.handle_peer_exchange_request(&mut rng, &PeerExchangeQuery { num_peers: 0 });
    assert!(none.peer_infos.is_empty());

    // The requester adds what it receives, except itself and garbage.
    let dir = relay_directory(100);
    let mut client = PeerManager::new(
        quiet(PeerManagerConfig::nwaku()),
        NodeId(9),
        dir,
        SimTime::ZERO,
    )
    .unwrap();
    let mut answer = five.clone();
    answer.peer_infos.push(PeerExchangePeerInfo {
        enr: relay_record(9).enr().clone(),
    });
    answer.peer_infos.push(PeerExchangePeerInfo {
        enr: vec![1, 2, 3].into(),
    });
    let added = client.handle_peer_exchange_response(secs(2), &answer);
    assert_eq!(added, 5 - usize::from(five_contains(&five, 9)));
    assert!(client.peer(NodeId(9)).is_none());
    let failed = PeerExchangeResponse {
        status_code: Some(503),
        ..five
    };
    assert_eq!(client.handle_peer_exchange_response(secs(3), &failed), 0);
}

fn five_contains(resp: &PeerExchangeResponse, id: u32) -> bool {
    resp.peer_infos
        .iter()
        .any(|i| decode_enr(&i.enr).map(|r| r.id().0) == Ok(id))
}

#[test]
fn peer_exchange_client_asks_for_five_every_minute() {
    let cfg = PeerManagerConfig {
        discv5_interval: None,
        ..PeerManagerConfig::nwaku()
    };
    let mut pm = PeerManager::new(cfg, ME, relay_directory(3), SimTime::ZERO).unwrap();
    pm.set_peer_exchange_peer(Some(NodeId(2)));
    let mut rng = SimRng::from_seed(7);
    let mut asked = Vec::new();
    let mut now = SimTime::ZERO;
    while now <= secs(180) {
        let mut out = Vec::new();
        pm.tick(now, &mut rng, &mut out);
        for o in out {
            if let PeerManagerOutput::PeerExchangeRequest { peer, query } = o {
                assert_eq!((peer, query.num_peers), (NodeId(2), 5));
                asked.push(now);
            }
        }
        now = pm.poll_timeout().unwrap();
    }
    assert_eq!(asked, vec![secs(0), secs(60), secs(120), secs(180)]);

    // go-waku asks only while below its outbound target.
    let go = PeerManagerConfig {
        discv5_interval: None,
        out_relay_target: 1,
        ..PeerManagerConfig::go_waku()
    };
    let mut pm = PeerManager::new(go, ME, relay_directory(3), SimTime::ZERO).unwrap();
    pm.set_peer_exchange_peer(Some(NodeId(2)));
    pm.on_connected(SimTime::ZERO, NodeId(1), true, &mut Vec::new());
    let mut out = Vec::new();
    pm.tick(SimTime::ZERO, &mut rng, &mut out);
    assert!(
        !out.iter()
            .any(|o| matches!(o, PeerManagerOutput::PeerExchangeRequest { .. }))
    );
}

#[test]
fn the_peer_store_stays_bounded_and_prunes_failed_peers_first() {
    let cfg = PeerManagerConfig {
        max_connections: 5,
        peer_store_capacity: 20,
        peer_store_hard_limit: 30,
        ..quiet(PeerManagerConfig::nwaku())
    };
    let dir = relay_directory(100);
    let mut pm = PeerManager::new(cfg, ME, Rc::clone(&dir), SimTime::ZERO).unwrap();
    let mut rng = SimRng::from_seed(8);
    for r in dir.iter().take(25) {
        pm.add_peer(SimTime::ZERO, r, Origin::Discv5);
    }
    for id in 1..=3 {
        for _ in 0..5 {
            pm.on_dial_failed(SimTime::ZERO, &mut rng, NodeId(id));
        }
    }
    for r in dir.iter().skip(25) {
        pm.add_peer(secs(1), r, Origin::Discv5);
        assert!(pm.known_peers() <= 30);
    }
    assert_eq!(pm.known_peers(), 30);
    assert!(
        pm.peer(NodeId(1)).is_none(),
        "given-up peers are evicted first"
    );
    // Pruning at 10 min brings the store down to its capacity.
    pm.tick(secs(600), &mut rng, &mut Vec::new());
    assert_eq!(pm.known_peers(), 20);
}

#[test]
fn a_whole_peer_manager_run_is_a_function_of_its_seed() {
    let run = |seed: u64| {
        let cfg = PeerManagerConfig {
            shards: vec![0],
            ..PeerManagerConfig::nwaku()
        };
        let mut pm = PeerManager::new(cfg, ME, relay_directory(200), SimTime::ZERO).unwrap();
        let mut rng = SimRng::from_seed(seed);
        let mut log = Vec::new();
        let mut now = SimTime::ZERO;
        while now < secs(900) {
            let mut out = Vec::new();
            pm.tick(now, &mut rng, &mut out);
            for o in &out {
                match o {
                    // Odd peers accept, even ones are unreachable.
                    PeerManagerOutput::Dial(p) if p.0 % 2 == 1 => {
                        pm.on_connected(now, *p, true, &mut Vec::new());
                    }
                    PeerManagerOutput::Dial(p) => pm.on_dial_failed(now, &mut rng, *p),
                    PeerManagerOutput::Ping(p) => {
                        pm.on_ping_result(now, *p, true, &mut Vec::new());
                    }
                    _ => {}
                }
            }
            log.push((now, out));
            now = pm.poll_timeout().unwrap();
        }
        (log, pm.known_peers())
    };
    let a = run(11);
    assert_eq!(a, run(11));
    assert_ne!(a.0, run(12).0);
    assert!(a.1 > 50, "discv5 filled the store");
}
