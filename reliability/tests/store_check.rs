//! The store-based reliability machine driven by hand: presence checks, re-publish, give-up,
//! store-node benching, and the receiver's window listing and fetch.

use sim_core::{NodeId, SimDuration, SimRng, SimTime};
use waku::MessageHash;
use waku::node::waku_timestamp;
use waku::proto::{WakuMessage, WakuMessageKeyValue};
use waku::store::StoreQuery;

use reliability::store_check::{
    GiveUpReason, Interest, OutgoingId, QueryToken, RepublishAs, StoreCheck, StoreCheckConfig,
    StoreCheckOutput,
};

type Out = Vec<StoreCheckOutput<u32>>;

const TOPIC: &str = "/waku/2/rs/1/0";
const CT: &str = "/test/1/chat/proto";
const STORES: &[NodeId] = &[NodeId(10), NodeId(11)];

fn secs(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn message(n: u8, at: SimTime) -> WakuMessage {
    WakuMessage::new(vec![n; 40], CT).with_timestamp_ns(waku_timestamp(at))
}

fn hash_kv(hash: MessageHash) -> WakuMessageKeyValue {
    WakuMessageKeyValue {
        message_hash: Some(hash.to_bytes()),
        message: None,
        pubsub_topic: None,
    }
}

fn data_kv(message: &WakuMessage) -> WakuMessageKeyValue {
    WakuMessageKeyValue {
        message_hash: Some(message.hash(TOPIC).to_bytes()),
        message: Some(message.clone()),
        pubsub_topic: Some(TOPIC.to_string()),
    }
}

/// A machine with `config`, started at `start` (no interests unless given).
fn machine(config: StoreCheckConfig, start: SimTime, interests: Vec<Interest>) -> StoreCheck<u32> {
    let mut sc = StoreCheck::new(config);
    sc.start(start, interests, &mut SimRng::from_seed(1));
    sc
}

/// Runs the machine's timeouts until one produces output or `until` passes.
fn run_until_output(sc: &mut StoreCheck<u32>, rng: &mut SimRng, until: SimTime) -> (SimTime, Out) {
    while let Some(at) = sc.poll_timeout() {
        if at > until {
            break;
        }
        let mut out = Vec::new();
        sc.handle_timeout(at, STORES, rng, &mut out);
        if !out.is_empty() {
            return (at, out);
        }
    }
    (until, Vec::new())
}

fn queries(out: &Out) -> Vec<(QueryToken, NodeId, StoreQuery)> {
    out.iter()
        .filter_map(|o| match o {
            StoreCheckOutput::Query { token, peer, query } => Some((*token, *peer, query.clone())),
            _ => None,
        })
        .collect()
}

fn one_query(out: &Out) -> (QueryToken, NodeId, StoreQuery) {
    let q = queries(out);
    assert_eq!(q.len(), 1, "one query expected in {out:?}");
    q[0].clone()
}

/// Answers a presence query: the store holds `present`.
fn answer(
    sc: &mut StoreCheck<u32>,
    now: SimTime,
    token: QueryToken,
    present: &[MessageHash],
    rng: &mut SimRng,
) -> Out {
    let mut out = Vec::new();
    let page = present.iter().copied().map(hash_kv).collect();
    sc.on_page(now, token, page, STORES, rng, &mut out);
    sc.on_done(now, token, true, false, STORES, rng, &mut out);
    out
}

#[test]
fn a_message_found_in_the_store_is_confirmed() {
    let mut rng = SimRng::from_seed(2);
    let mut sc = machine(StoreCheckConfig::go_waku(), secs(0), Vec::new());
    let mut out = Vec::new();
    let m = message(1, secs(10));
    let hash = m.hash(TOPIC);
    let id = sc.track(secs(10), TOPIC, m, 7, true, &mut out);
    assert!(out.is_empty());
    let (at, out) = run_until_output(&mut sc, &mut rng, secs(30));
    assert!(
        at >= secs(13) && at < secs(16),
        "first check once 3 s old, at {at}"
    );
    let (token, peer, query) = one_query(&out);
    assert!(STORES.contains(&peer));
    assert_eq!(query.message_hashes, vec![hash]);
    assert!(!query.include_data, "a presence query");
    let out = answer(&mut sc, at, token, &[hash], &mut rng);
    assert_eq!(out, vec![StoreCheckOutput::Confirmed { id, tag: 7 }]);
    assert_eq!(sc.outgoing_len(), 0);
    assert_eq!(
        sc.poll_timeout(),
        None,
        "nothing tracked, no receiver: idle"
    );
}

#[test]
fn a_message_missing_from_the_store_is_republished_at_once_by_nwaku() {
    let mut rng = SimRng::from_seed(3);
    let mut sc = machine(StoreCheckConfig::nwaku(), secs(0), Vec::new());
    let m = message(2, secs(1));
    let hash = m.hash(TOPIC);
    let id = sc.track(secs(1), TOPIC, m.clone(), 1, true, &mut Vec::new());
    let (at, out) = run_until_output(&mut sc, &mut rng, secs(20));
    let (token, _, _) = one_query(&out);
    let out = answer(&mut sc, at, token, &[], &mut rng);
    assert_eq!(out, vec![StoreCheckOutput::Republish { id, attempt: 2 }]);
    assert_eq!(sc.config().republish_as, RepublishAs::SameMessage);
    assert_eq!(sc.message(id), Some((TOPIC, &m)), "the identical message");
    // The next check asks for the same hash again, 3 s after the re-publish.
    let (at2, out) = run_until_output(&mut sc, &mut rng, secs(40));
    assert!(at2 >= at + SimDuration::from_secs(3));
    assert_eq!(one_query(&out).2.message_hashes, vec![hash]);
}

#[test]
fn go_waku_waits_for_expiry_then_reposts_a_new_envelope() {
    let mut rng = SimRng::from_seed(4);
    let mut sc = machine(StoreCheckConfig::go_waku(), secs(0), Vec::new());
    let m = message(3, secs(0));
    let id = sc.track(secs(0), TOPIC, m, 1, true, &mut Vec::new());
    let mut republished_at = None;
    let mut t = secs(0);
    while republished_at.is_none() {
        let (at, out) = run_until_output(&mut sc, &mut rng, secs(60));
        let (token, _, _) = one_query(&out);
        let out = answer(&mut sc, at, token, &[], &mut rng);
        if at < secs(10) {
            assert!(out.is_empty(), "not found but younger than 10 s: wait");
        } else if !out.is_empty() {
            assert_eq!(out, vec![StoreCheckOutput::Republish { id, attempt: 2 }]);
            republished_at = Some(at);
        }
        t = at;
    }
    assert!(
        t >= secs(10) && t < secs(14),
        "expired at the first check after 10 s: {t}"
    );
    // The glue builds a new envelope and re-keys the entry; checks follow the new hash.
    let repost = message(3, t);
    let new_hash = repost.hash(TOPIC);
    sc.rekey(id, repost);
    let (_, out) = run_until_output(&mut sc, &mut rng, secs(60));
    assert_eq!(one_query(&out).2.message_hashes, vec![new_hash]);
}

#[test]
fn the_sender_gives_up_after_max_attempts() {
    let mut rng = SimRng::from_seed(5);
    let config = StoreCheckConfig::go_waku();
    assert_eq!(config.max_attempts, 3);
    let mut sc = machine(config, secs(0), Vec::new());
    let id = sc.track(
        secs(0),
        TOPIC,
        message(4, secs(0)),
        9,
        true,
        &mut Vec::new(),
    );
    let mut republishes = 0;
    loop {
        let (at, out) = run_until_output(&mut sc, &mut rng, secs(600));
        assert!(at < secs(600), "the machine must settle");
        let (token, _, _) = one_query(&out);
        let out = answer(&mut sc, at, token, &[], &mut rng);
        match out.as_slice() {
            [] => {}
            [StoreCheckOutput::Republish { attempt, .. }] => {
                republishes += 1;
                assert_eq!(*attempt, republishes + 1);
            }
            [
                StoreCheckOutput::GaveUp {
                    id: gone,
                    tag,
                    reason,
                    report,
                    ..
                },
            ] => {
                assert_eq!(
                    (*gone, *tag, *reason, *report),
                    (id, 9, GiveUpReason::Attempts, true)
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(republishes, 2, "3 publishes in all");
    assert_eq!(sc.outgoing_len(), 0);
}

#[test]
fn nwaku_gives_up_after_a_minute_and_logos_drops_propagated_messages_silently() {
    for (config, propagated, report) in [
        (StoreCheckConfig::nwaku(), true, true),
        (StoreCheckConfig::logos_delivery(), true, false),
        (StoreCheckConfig::logos_delivery(), false, true),
    ] {
        let mut rng = SimRng::from_seed(6);
        let mut sc = machine(config, secs(0), Vec::new());
        sc.track(
            secs(0),
            TOPIC,
            message(5, secs(0)),
            1,
            propagated,
            &mut Vec::new(),
        );
        let mut verdict = None;
        while verdict.is_none() {
            let Some(at) = sc.poll_timeout() else { break };
            let mut out = Vec::new();
            sc.handle_timeout(at, STORES, &mut rng, &mut out);
            for o in out {
                match o {
                    StoreCheckOutput::Query { token, .. } => {
                        let _ = answer(&mut sc, at, token, &[], &mut rng);
                    }
                    StoreCheckOutput::GaveUp { reason, report, .. } => {
                        verdict = Some((at, reason, report));
                    }
                    _ => {}
                }
            }
        }
        let (at, reason, got_report) = verdict.expect("gave up");
        assert_eq!(reason, GiveUpReason::Expired);
        assert!(at >= secs(60) && at < secs(64), "{at}");
        assert_eq!(got_report, report);
    }
}

#[test]
fn a_failed_check_removes_nothing_and_two_failures_bench_the_store_node() {
    let mut rng = SimRng::from_seed(7);
    let mut sc = machine(StoreCheckConfig::go_waku(), secs(0), Vec::new());
    let id = sc.track(
        secs(0),
        TOPIC,
        message(6, secs(0)),
        1,
        true,
        &mut Vec::new(),
    );
    let mut first_peer = None;
    for _ in 0..2 {
        let (at, out) = run_until_output(&mut sc, &mut rng, secs(60));
        let (token, peer, _) = one_query(&out);
        assert_eq!(*first_peer.get_or_insert(peer), peer, "sticky store node");
        let mut out = Vec::new();
        sc.on_done(at, token, false, true, STORES, &mut rng, &mut out);
        assert!(out.is_empty());
        assert!(sc.message(id).is_some(), "still tracked");
    }
    let benched = first_peer.unwrap();
    let (at, out) = run_until_output(&mut sc, &mut rng, secs(60));
    assert!(sc.pool().is_benched(at, benched));
    let (_, peer, _) = one_query(&out);
    assert_ne!(peer, benched, "switched to the other store node");
}

#[test]
fn a_full_outgoing_buffer_gives_up_its_oldest_entry() {
    let config = StoreCheckConfig {
        max_outgoing: 2,
        ..StoreCheckConfig::go_waku()
    };
    let mut sc = machine(config, secs(0), Vec::new());
    let mut out = Vec::new();
    let first = sc.track(secs(1), TOPIC, message(1, secs(1)), 1, true, &mut out);
    sc.track(secs(1), TOPIC, message(2, secs(1)), 2, true, &mut out);
    assert!(out.is_empty());
    sc.track(secs(1), TOPIC, message(3, secs(1)), 3, true, &mut out);
    assert!(matches!(
        out.as_slice(),
        [StoreCheckOutput::GaveUp { id, reason: GiveUpReason::Evicted, .. }] if *id == first
    ));
    assert_eq!(sc.outgoing_len(), 2);
    assert_eq!(sc.tag(OutgoingId(1)), Some(&2));
}

fn interest() -> Vec<Interest> {
    vec![Interest {
        pubsub_topic: TOPIC.to_string(),
        content_topics: vec![CT.to_string()],
    }]
}

#[test]
fn the_receiver_lists_a_window_finds_a_missing_hash_and_fetches_it() {
    let mut rng = SimRng::from_seed(8);
    let start = secs(100);
    let mut sc = machine(StoreCheckConfig::go_waku(), start, interest());
    let known = message(1, secs(110));
    let missing = message(2, secs(111));
    sc.received(secs(110), known.hash(TOPIC));
    let (at, out) = run_until_output(&mut sc, &mut rng, secs(300));
    assert!(
        at >= start && at < start + SimDuration::from_mins(1),
        "{at}"
    );
    let (token, _, query) = one_query(&out);
    assert!(!query.include_data, "hashes only");
    assert_eq!(query.pubsub_topic.as_deref(), Some(TOPIC));
    assert_eq!(query.content_topics, vec![CT.to_string()]);
    assert!(query.message_hashes.is_empty());
    // go-waku: [last_checked − 20 s, now − 20 s] with last_checked = start − 20 s.
    assert_eq!(query.time_start, Some(waku_timestamp(secs(60))));
    assert_eq!(
        query.time_end,
        Some(waku_timestamp(SimTime(at.as_nanos() - 20_000_000_000)))
    );
    let mut out = Vec::new();
    let page = vec![hash_kv(known.hash(TOPIC)), hash_kv(missing.hash(TOPIC))];
    sc.on_page(at, token, page, STORES, &mut rng, &mut out);
    let (fetch, _, lookup) = one_query(&out);
    assert_eq!(lookup.message_hashes, vec![missing.hash(TOPIC)]);
    assert!(lookup.include_data, "a hash lookup returning the message");
    let mut out = Vec::new();
    sc.on_done(at, token, true, false, STORES, &mut rng, &mut out);
    assert!(out.is_empty());
    sc.on_page(
        at,
        fetch,
        vec![data_kv(&missing)],
        STORES,
        &mut rng,
        &mut out,
    );
    sc.on_done(at, fetch, true, false, STORES, &mut rng, &mut out);
    assert_eq!(
        out,
        vec![StoreCheckOutput::Fetched {
            pubsub_topic: TOPIC.to_string(),
            message: missing.clone()
        }]
    );
    // The next window starts where this one's check was issued (contiguous, 20 s lag).
    let (at2, out) = run_until_output(&mut sc, &mut rng, secs(400));
    assert_eq!(at2, at + SimDuration::from_mins(1));
    let (token2, _, query2) = one_query(&out);
    assert_eq!(
        query2.time_start,
        Some(waku_timestamp(SimTime(at.as_nanos() - 20_000_000_000)))
    );
    // Listing the fetched hash again fetches nothing.
    let mut out = Vec::new();
    sc.on_page(
        at2,
        token2,
        vec![hash_kv(missing.hash(TOPIC))],
        STORES,
        &mut rng,
        &mut out,
    );
    assert!(out.is_empty());
}

#[test]
fn a_failed_window_is_retried_and_then_widens_the_next_one() {
    let mut rng = SimRng::from_seed(9);
    let mut sc = machine(StoreCheckConfig::go_waku(), secs(0), interest());
    let (first_at, out) = run_until_output(&mut sc, &mut rng, secs(100));
    let (token, _, first) = one_query(&out);
    let mut out = Vec::new();
    sc.on_done(first_at, token, false, true, STORES, &mut rng, &mut out);
    // go-waku retries 3 times, 2 s apart, over the same start.
    for retry in 1..=3u64 {
        let (at, out) = run_until_output(&mut sc, &mut rng, secs(200));
        assert_eq!(at, first_at + SimDuration::from_secs(2 * retry));
        let (token, _, query) = one_query(&out);
        assert_eq!(query.time_start, first.time_start);
        sc.on_done(at, token, false, true, STORES, &mut rng, &mut Vec::new());
    }
    // The next period's window still starts where the failed one did: it is wider.
    let (at, out) = run_until_output(&mut sc, &mut rng, secs(200));
    assert_eq!(at, first_at + SimDuration::from_mins(1));
    let (_, _, query) = one_query(&out);
    assert_eq!(query.time_start, first.time_start);
    assert!(query.time_end > first.time_end);
}

#[test]
fn logos_checks_only_after_reconnection_from_the_offline_start() {
    let mut rng = SimRng::from_seed(10);
    let mut sc = machine(StoreCheckConfig::logos_delivery(), secs(0), interest());
    assert_eq!(sc.poll_timeout(), None, "no polling");
    sc.went_offline(secs(100));
    sc.came_online(secs(400));
    let (at, out) = run_until_output(&mut sc, &mut rng, secs(500));
    assert_eq!(at, secs(400));
    let (_, _, query) = one_query(&out);
    assert_eq!(query.time_start, Some(waku_timestamp(secs(95))));
    assert_eq!(query.time_end, Some(waku_timestamp(secs(405))));
}

#[test]
fn nwaku_windows_overlap_by_five_seconds_on_both_ends() {
    let mut rng = SimRng::from_seed(11);
    let mut sc = machine(StoreCheckConfig::nwaku(), secs(0), interest());
    let (at, out) = run_until_output(&mut sc, &mut rng, secs(1000));
    let (token, _, query) = one_query(&out);
    assert_eq!(
        (query.time_start, query.time_end),
        (
            Some(0),
            Some(waku_timestamp(at + SimDuration::from_secs(5)))
        )
    );
    sc.on_done(at, token, true, false, STORES, &mut rng, &mut Vec::new());
    let (at2, out) = run_until_output(&mut sc, &mut rng, secs(1000));
    assert_eq!(at2, at + SimDuration::from_mins(5));
    let (_, _, query) = one_query(&out);
    assert_eq!(
        query.time_start,
        Some(waku_timestamp(SimTime(at.as_nanos() - 5_000_000_000)))
    );
}

#[test]
fn the_received_cache_is_bounded_and_a_failed_fetch_is_retried_then_dropped() {
    let config = StoreCheckConfig {
        max_received: 1,
        query_retries: 1,
        ..StoreCheckConfig::go_waku()
    };
    let mut rng = SimRng::from_seed(12);
    let mut sc = machine(config, secs(0), interest());
    let (a, b) = (message(1, secs(1)), message(2, secs(2)));
    sc.received(secs(1), a.hash(TOPIC));
    sc.received(secs(2), b.hash(TOPIC));
    let (at, out) = run_until_output(&mut sc, &mut rng, secs(100));
    let (token, _, _) = one_query(&out);
    let mut out = Vec::new();
    let page = vec![hash_kv(a.hash(TOPIC)), hash_kv(b.hash(TOPIC))];
    sc.on_page(at, token, page, STORES, &mut rng, &mut out);
    let (fetch, _, lookup) = one_query(&out);
    assert_eq!(
        lookup.message_hashes,
        vec![a.hash(TOPIC)],
        "only the newest received hash is remembered"
    );
    sc.on_done(at, token, true, false, STORES, &mut rng, &mut Vec::new());
    // The fetch fails: retried once after 2 s, then given up.
    sc.on_done(at, fetch, false, true, STORES, &mut rng, &mut Vec::new());
    let (retry_at, out) = run_until_output(&mut sc, &mut rng, secs(100));
    assert_eq!(retry_at, at + SimDuration::from_secs(2));
    let (fetch, _, lookup) = one_query(&out);
    assert_eq!(lookup.message_hashes, vec![a.hash(TOPIC)]);
    let mut out = Vec::new();
    sc.on_done(retry_at, fetch, false, true, STORES, &mut rng, &mut out);
    assert!(out.is_empty());
    let (next, out) = run_until_output(&mut sc, &mut rng, secs(300));
    assert_eq!(
        next,
        at + SimDuration::from_mins(1),
        "only the next window is left"
    );
    assert!(one_query(&out).2.message_hashes.is_empty());
}

#[test]
fn without_store_nodes_queries_fail_locally_and_nothing_is_lost() {
    let mut rng = SimRng::from_seed(13);
    let mut sc = machine(StoreCheckConfig::go_waku(), secs(0), Vec::new());
    let id = sc.track(
        secs(0),
        TOPIC,
        message(1, secs(0)),
        1,
        true,
        &mut Vec::new(),
    );
    for _ in 0..5 {
        let at = sc.poll_timeout().expect("still ticking");
        let mut out = Vec::new();
        sc.handle_timeout(at, &[], &mut rng, &mut out);
        assert!(out.is_empty(), "no store node: no query, no verdict");
    }
    assert!(sc.message(id).is_some());
}
