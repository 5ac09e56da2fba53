//! The light-client reliability machine driven by hand: filter eviction and replacement,
//! lightpush retries on other service nodes, store queries over offline gaps.

use reliability::light_client::{LightClient, LightClientConfig, LightClientOutput as Out};
use sim_core::{NodeId, SimDuration, SimTime};

const A: NodeId = NodeId(10);
const B: NodeId = NodeId(11);
const C: NodeId = NodeId(12);

fn at(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn machine(config: LightClientConfig) -> LightClient<u32> {
    LightClient::new(config, vec![A, B, C], vec![A, B, C])
}

fn subscribes(out: &[Out<u32>]) -> Vec<NodeId> {
    out.iter()
        .filter_map(|o| match o {
            Out::Subscribe { peer } => Some(*peer),
            _ => None,
        })
        .collect()
}

#[test]
fn presets_carry_the_reference_values() {
    let js = LightClientConfig::js_waku();
    assert_eq!(
        (js.lightpush_peers, js.filter_peers, js.max_attempts),
        (2, 2, 3)
    );
    assert_eq!(js.filter_ping_failures, 3);
    let go = LightClientConfig::go_waku();
    assert_eq!(
        (go.filter_ping_failures, go.filter_ping_timeout),
        (2, SimDuration::from_secs(5))
    );
    let logos = LightClientConfig::logos_delivery();
    assert_eq!((logos.lightpush_peers, logos.filter_ping_failures), (1, 1));
    assert_eq!(logos.filter_ping_interval, SimDuration::from_secs(30));
    assert_eq!(
        LightClientConfig::preset("spec"),
        Some(LightClientConfig::spec())
    );
    let mut client = waku::filter::FilterClientConfig::default();
    go.apply_to_filter_client(&mut client);
    assert_eq!(client.ping_failures_before_lost, 2);
    assert_eq!(client.ping_interval, SimDuration::from_secs(60));
}

#[test]
fn a_lost_filter_service_is_evicted_and_replaced_then_the_gap_is_queried() {
    let mut lc = machine(LightClientConfig::go_waku());
    let mut out = Vec::new();
    lc.start(&mut out);
    assert_eq!(subscribes(&out), vec![A, B], "two filter peers");
    // The filter client reports A lost after its k failed pings.
    out.clear();
    lc.subscription_lost(at(300), A, &mut out);
    assert_eq!(subscribes(&out), vec![C], "replaced by the next node");
    assert_eq!(lc.filter_in_use(), &[B, C]);
    let lookback = LightClientConfig::go_waku().lost_lookback();
    assert_eq!(lookback, SimDuration::from_secs(2 * 65 + 20));
    assert!(out.iter().any(|o| matches!(o,
        Out::Query { from, attempt: 0, .. } if *from == at(300 - 150))));
    // A second loss (of B) is replaced by A, now at the back of the list; a loss of a node
    // not in use changes nothing.
    out.clear();
    lc.subscription_lost(at(400), NodeId(99), &mut out);
    assert!(out.is_empty());
    lc.subscription_lost(at(400), B, &mut out);
    assert_eq!(subscribes(&out), vec![A]);
    assert_eq!(lc.filter_in_use(), &[C, A]);
}

#[test]
fn a_failed_lightpush_is_retried_on_another_node() {
    let config = LightClientConfig {
        lightpush_peers: 1,
        ..LightClientConfig::js_waku()
    };
    let mut lc = machine(config);
    let mut out = Vec::new();
    let key = lc.send(at(1), 7, &mut out);
    assert_eq!(
        out,
        vec![Out::Push {
            key,
            peer: A,
            copy: 0
        }]
    );
    out.clear();
    lc.pushed(at(2), key, A, false, &mut out);
    assert!(out.is_empty(), "no verdict yet");
    assert_eq!(lc.poll_timeout(), Some(at(3)), "retry after 1 s");
    lc.handle_timeout(at(3), &mut out);
    assert_eq!(
        out,
        vec![Out::Push {
            key,
            peer: B,
            copy: 1
        }],
        "next node"
    );
    out.clear();
    lc.pushed(at(4), key, B, true, &mut out);
    assert_eq!(out, vec![Out::Sent(7)]);
    assert_eq!(lc.pending_len(), 0);
    assert_eq!(
        lc.lightpush_order(),
        &[B, C, A],
        "the failing node went to the back"
    );
}

#[test]
fn redundant_pushes_succeed_with_one_answer_and_fail_after_every_attempt() {
    let mut lc = machine(LightClientConfig::js_waku());
    let mut out = Vec::new();
    let key = lc.send(at(0), 1, &mut out);
    assert_eq!(out.len(), 2, "pushed to two nodes");
    out.clear();
    lc.pushed(at(1), key, A, false, &mut out);
    lc.pushed(at(1), key, B, true, &mut out);
    assert_eq!(out, vec![Out::Sent(1)]);
    // Every push of every attempt fails: Failed after max_attempts (3).
    out.clear();
    let key = lc.send(at(10), 2, &mut out);
    for attempt in 0..3u64 {
        let peers: Vec<NodeId> = out
            .iter()
            .filter_map(|o| match o {
                Out::Push { peer, .. } => Some(*peer),
                _ => None,
            })
            .collect();
        assert_eq!(peers.len(), 2);
        out.clear();
        for p in peers {
            lc.pushed(at(11 + attempt * 2), key, p, false, &mut out);
        }
        if attempt < 2 {
            assert!(out.is_empty());
            lc.handle_timeout(at(12 + attempt * 2), &mut out);
        }
    }
    assert_eq!(out, vec![Out::Failed(2)]);
}

#[test]
fn reconnecting_queries_the_store_over_the_offline_window() {
    let mut lc = machine(LightClientConfig::logos_delivery());
    let mut out = Vec::new();
    lc.start(&mut out);
    out.clear();
    lc.came_online(at(50), &mut out);
    assert!(out.is_empty(), "never offline: nothing to do");
    lc.went_offline(at(100));
    lc.went_offline(at(120));
    lc.came_online(at(400), &mut out);
    assert_eq!(subscribes(&out), vec![A, B], "re-subscribed");
    let query = out.iter().find_map(|o| match o {
        Out::Query {
            token, from, to, ..
        } => Some((*token, *from, *to)),
        _ => None,
    });
    let (token, from, to) = query.expect("a gap query");
    assert_eq!((from, to), (at(95), at(405)), "[offline − 5 s, now + 5 s]");
    // A failed query is retried (same window) after the retry interval.
    out.clear();
    lc.query_done(at(401), token, false, &mut out);
    assert!(out.is_empty());
    lc.handle_timeout(at(402), &mut out);
    assert!(matches!(out.as_slice(),
        [Out::Query { from, attempt: 1, .. }] if *from == at(95)));
    // A sleep is an offline window too; it waits for the query in flight, then goes out.
    out.clear();
    lc.slept(at(1000), SimDuration::from_secs(500), &mut out);
    assert!(subscribes(&out).len() == 2 && out.len() == 2, "query waits");
    out.clear();
    lc.query_done(at(1001), token, true, &mut out);
    assert!(matches!(out.as_slice(),
        [Out::Query { from, to, attempt: 0, .. }] if *from == at(495) && *to == at(1005)));
}
