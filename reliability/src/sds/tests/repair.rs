//! SDS-R on the `spec` preset (exact timers, a sync as soon as a request is due):
//! request and response times within bounds, the original sender answering first, response
//! suppression, request suppression, response groups, and the cap on requests per message.

use super::*;
use crate::sds::repair::{in_response_group, request_delay, response_delay};

fn spec() -> SdsConfig {
    SdsConfig::spec()
}

/// Alice sends m1 (bob gets it, carol misses it) and m2 (both get it): carol now waits for
/// m1 and has a repair request pending.
fn carol_misses_m1() -> (SdsChannel, SdsChannel, SdsChannel) {
    let mut a = channel(spec(), "alice");
    let mut b = channel(spec(), "bob");
    let mut c = channel(spec(), "carol");
    let m1 = send(&mut a, at_ms(1), "m1");
    b.receive(at_ms(2), m1, None);
    let m2 = send(&mut a, at_ms(3), "m2");
    b.receive(at_ms(4), m2.clone(), None);
    c.receive(at_ms(4), m2, None);
    drain(&mut b);
    drain(&mut c);
    (a, b, c)
}

/// Runs carol's timers until her repair request goes out on a sync; returns it and when.
fn carol_requests(c: &mut SdsChannel) -> (SimTime, SdsMessage) {
    let t_req = c.repair_request_time("m1").expect("a pending request");
    let outs = run(c, t_req);
    let sync = broadcasts(&outs, BroadcastKind::Sync)
        .into_iter()
        .find(|m| !m.repair_request.is_empty())
        .expect("a sync carrying the request");
    (t_req, sync)
}

#[test]
fn repair_request_and_response_times_are_within_bounds() {
    let (mut a, mut b, mut c) = carol_misses_m1();
    let config = spec().repair.unwrap();
    let t_req = c.repair_request_time("m1").unwrap();
    assert_eq!(t_req, at_ms(4) + request_delay(&config, "carol", "m1"));
    assert!(t_req >= at_ms(4) + config.t_min && t_req < at_ms(4) + config.t_max);
    let (now, sync) = carol_requests(&mut c);
    assert_eq!(ids(&sync.repair_request), ["m1"]);
    assert_eq!(sync.repair_request[0].sender_id.as_deref(), Some("alice"));
    a.receive(now, sync.clone(), None);
    b.receive(now, sync, None);
    let t_resp = b.repair_response_time("m1").unwrap();
    assert_eq!(t_resp, now + response_delay(&config, "bob", "alice", "m1"));
    assert!(t_resp < now + config.t_max);
    assert_eq!(a.repair_response_time("m1"), Some(now));
}

#[test]
fn original_sender_answers_first_and_the_requester_is_repaired() {
    let (mut a, mut b, mut c) = carol_misses_m1();
    let (now, sync) = carol_requests(&mut c);
    a.receive(now, sync.clone(), None);
    b.receive(now, sync, None);
    drain(&mut a);
    drain(&mut b);
    assert!(b.repair_response_time("m1").unwrap() > now);
    assert_eq!(a.repair_response_time("m1"), Some(now));
    assert!(a.poll_timeout().is_some_and(|t| t <= now));
    a.handle_timeout(now);
    let outs = drain(&mut a);
    let repaired = broadcasts(&outs, BroadcastKind::RepairResponse);
    let repaired_ids: Vec<&str> = repaired.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(repaired_ids, ["m1"]);
    assert!(outs.contains(&SdsOutput::RepairServed {
        message_id: "m1".into()
    }));
    c.receive(now, repaired[0].clone(), None);
    assert_eq!(delivered(&drain(&mut c)), ["m1", "m2"]);
    assert_eq!(c.repair_pending(), (0, 0));
    assert_eq!(c.incoming_len(), 0);
}

#[test]
fn seeing_the_repair_suppresses_a_duplicate_response() {
    let (mut a, mut b, mut c) = carol_misses_m1();
    let (now, sync) = carol_requests(&mut c);
    a.receive(now, sync.clone(), None);
    b.receive(now, sync, None);
    a.handle_timeout(now);
    let repaired = broadcasts(&drain(&mut a), BroadcastKind::RepairResponse).remove(0);
    assert_eq!(b.repair_pending().1, 1);
    b.receive(now, repaired, None);
    assert_eq!(b.repair_pending().1, 0);
    assert_eq!(b.stats().repair_responses_suppressed, 1);
    assert_eq!(b.stats().duplicates, 1);
    let outs = run(&mut b, now + SimDuration::from_secs(600));
    assert!(broadcasts(&outs, BroadcastKind::RepairResponse).is_empty());
}

#[test]
fn someone_elses_request_suppresses_our_own() {
    let (mut a, _b, mut c) = carol_misses_m1();
    // dave misses m1 too.
    let mut d = channel(spec(), "dave");
    let m3 = send(&mut a, at_ms(5), "m3");
    d.receive(at_ms(6), m3, None);
    assert!(d.repair_request_time("m1").is_some());
    let (now, sync) = carol_requests(&mut c);
    d.receive(now, sync, None);
    assert_eq!(d.repair_request_time("m1"), None);
    assert_eq!(d.stats().repair_requests_suppressed, 1);
}

#[test]
fn only_the_senders_response_group_answers() {
    let groups = 4;
    let config = SdsConfig {
        repair: Some(RepairConfig {
            num_response_groups: groups,
            ..RepairConfig::spec()
        }),
        ..spec()
    };
    let mut a = channel(config.clone(), "alice");
    let m1 = send(&mut a, at_ms(1), "m1");
    let request = SdsMessage {
        sender_id: "zed".into(),
        message_id: "sync-zed".into(),
        channel_id: "0".into(),
        lamport_timestamp: Some(1),
        causal_history: Vec::new(),
        bloom_filter: None,
        repair_request: vec![HistoryEntry {
            message_id: "m1".into(),
            retrieval_hint: None,
            sender_id: Some("alice".into()),
        }],
        content: None,
    };
    let mut answering = 0;
    for i in 0..64 {
        let id = format!("p{i}");
        let mut p = channel(config.clone(), &id);
        p.receive(at_ms(2), m1.clone(), None);
        p.receive(at_ms(3), request.clone(), None);
        let answers = p.repair_response_time("m1").is_some();
        assert_eq!(
            answers,
            in_response_group(groups, &id, "alice", "m1"),
            "{id}"
        );
        answering += usize::from(answers);
    }
    assert!((4..40).contains(&answering), "{answering} of 64 answer");
    a.receive(at_ms(3), request, None);
    assert_eq!(a.repair_response_time("m1"), Some(at_ms(3)));
}

#[test]
fn at_most_three_requests_ride_on_a_message_lowest_t_req_first() {
    let config = SdsConfig {
        causal_history_length: 5,
        repair: Some(RepairConfig {
            sync_on_eligible_request: false,
            ..RepairConfig::spec()
        }),
        ..spec()
    };
    let mut a = channel(config.clone(), "alice");
    let mut c = channel(config, "carol");
    let mut last = None;
    for i in 0..6 {
        last = Some(send(&mut a, at_ms(i), &format!("m{i}")));
    }
    c.receive(at_ms(10), last.unwrap(), None);
    drain(&mut c);
    let mut pending: Vec<(SimTime, String)> = (0..5)
        .map(|i| format!("m{i}"))
        .map(|id| (c.repair_request_time(&id).unwrap(), id))
        .collect();
    pending.sort();
    let later = at_ms(10) + SimDuration::from_secs(200);
    let carrier = send(&mut c, later, "c1");
    let want: Vec<&str> = pending[..3].iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids(&carrier.repair_request), want);
    let next = send(&mut c, later, "c2");
    assert_eq!(next.repair_request.len(), 2);
    assert!(send(&mut c, later, "c3").repair_request.is_empty());
    assert_eq!(c.stats().repair_requests_sent, 5);
}
