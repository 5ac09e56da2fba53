//! nim-sds's unit-test expectations (NIMSDS tests/test_reliability.nim,
//! `reference/reliability.md` §2.6) on the `nim_sds` preset.

use super::*;

fn nim() -> SdsConfig {
    SdsConfig::nim_sds()
}

fn missing_reports(outs: &[SdsOutput]) -> Vec<(String, Vec<HistoryEntry>)> {
    outs.iter()
        .filter_map(|o| match o {
            SdsOutput::Missing {
                message_id,
                missing,
            } => Some((message_id.clone(), missing.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn nim_dependency_chain_reports_missing_then_delivers_in_order() {
    let mut a = channel(nim(), "alice");
    let m1 = send(&mut a, at_ms(1), "msg1");
    let m2 = send(&mut a, at_ms(2), "msg2");
    let m3 = send(&mut a, at_ms(3), "msg3");
    assert_eq!(ids(&m3.causal_history), ["msg1", "msg2"]);
    assert_eq!(ids(&m2.causal_history), ["msg1"]);

    let mut b = channel(nim(), "bob");
    b.receive(at_ms(4), m3, None);
    let outs = drain(&mut b);
    let reports = missing_reports(&outs);
    assert_eq!(reports.len(), 1, "one missing-dependencies report");
    assert_eq!(
        (reports[0].0.as_str(), ids(&reports[0].1)),
        ("msg3", vec!["msg1", "msg2"])
    );
    assert!(delivered(&outs).is_empty());

    b.receive(at_ms(5), m2, None);
    let outs = drain(&mut b);
    let reports = missing_reports(&outs);
    assert_eq!(reports.len(), 1);
    assert_eq!(
        (reports[0].0.as_str(), ids(&reports[0].1)),
        ("msg2", vec!["msg1"])
    );
    assert!(delivered(&outs).is_empty());
    assert_eq!(b.incoming_len(), 2);

    b.receive(at_ms(6), m1, None);
    assert_eq!(delivered(&drain(&mut b)), ["msg1", "msg2", "msg3"]);
    assert_eq!(b.incoming_len(), 0);
    assert_eq!(b.local_log().collect::<Vec<_>>(), ["msg1", "msg2", "msg3"]);
}

#[test]
fn nim_marking_a_dependency_met_releases_its_dependants() {
    let mut a = channel(nim(), "alice");
    let _m1 = send(&mut a, at_ms(1), "msg1");
    let m2 = send(&mut a, at_ms(2), "msg2");
    let m3 = send(&mut a, at_ms(3), "msg3");
    let mut b = channel(nim(), "bob");
    b.receive(at_ms(4), m3, None);
    b.receive(at_ms(5), m2, None);
    drain(&mut b);
    b.mark_dependencies_met(&["msg1"]);
    assert_eq!(delivered(&drain(&mut b)), ["msg2", "msg3"]);
    assert_eq!(b.incoming_len(), 0);
    assert!(b.bloom_contains("msg1"));
}

#[test]
fn nim_causal_history_acknowledges_three_of_six() {
    let mut a = channel(nim(), "alice");
    for i in 0..6 {
        send(&mut a, at_ms(i), &format!("msg{i}"));
    }
    assert_eq!(a.outgoing_ids().count(), 6);
    let reply = SdsMessage {
        sender_id: "bob".into(),
        message_id: "bob-1".into(),
        channel_id: "0".into(),
        lamport_timestamp: Some(1),
        causal_history: ["msg0", "msg2", "msg4"]
            .into_iter()
            .map(HistoryEntry::new)
            .collect(),
        bloom_filter: None,
        repair_request: Vec::new(),
        content: Some(Bytes::from_static(b"reply")),
    };
    a.receive(at_ms(10), reply, None);
    assert_eq!(acknowledged(&drain(&mut a)), ["msg0", "msg2", "msg4"]);
    assert_eq!(
        a.outgoing_ids().collect::<Vec<_>>(),
        ["msg1", "msg3", "msg5"]
    );
}

#[test]
fn nim_one_bloom_hit_acknowledges() {
    let mut a = channel(nim(), "alice");
    let m1 = send(&mut a, at_ms(1), "msg1");
    let mut b = channel(nim(), "bob");
    b.receive(at_ms(2), m1, None);
    let mut reply = send(&mut b, at_ms(3), "bob-1");
    reply.causal_history.clear();
    a.receive(at_ms(4), reply, None);
    let outs = drain(&mut a);
    assert_eq!(acknowledged(&outs), ["msg1"]);
    assert!(outs.contains(&SdsOutput::AckEvidence {
        message_id: "msg1".into(),
        from_participant: "bob".into(),
        via: AckVia::Bloom,
    }));
    assert!(
        !outs
            .iter()
            .any(|o| matches!(o, SdsOutput::PossiblyAcknowledged { .. }))
    );
    assert_eq!(a.outgoing_ids().count(), 0);
}

#[test]
fn nim_retrieval_hints_travel_in_history_and_missing_reports() {
    let mut a = channel(nim(), "alice");
    let hint = Bytes::from_static(&[0xaa; 32]);
    a.send(
        at_ms(1),
        Bytes::from_static(b"one"),
        "msg1",
        Some(hint.clone()),
    )
    .unwrap();
    drain(&mut a);
    let m2 = send(&mut a, at_ms(2), "msg2");
    assert_eq!(m2.causal_history[0].retrieval_hint.as_ref(), Some(&hint));
    let m3 = send(&mut a, at_ms(3), "msg3");
    assert_eq!(m3.causal_history[1].message_id, "msg2");
    assert_eq!(m3.causal_history[1].retrieval_hint, None);

    let mut b = channel(nim(), "bob");
    b.receive(at_ms(4), m2, None);
    let reports = missing_reports(&drain(&mut b));
    assert_eq!(reports[0].1[0].retrieval_hint.as_ref(), Some(&hint));
    b.receive(at_ms(5), m3, Some(Bytes::from_static(b"waku-hash-3")));
    let reports = missing_reports(&drain(&mut b));
    // msg2 is buffered, so only msg1 is reported missing again.
    assert_eq!(ids(&reports[0].1), ["msg1"]);
    // A hint supplied after the send (the transport's message hash) replaces none.
    a.transport_result(at_ms(6), "msg2", true, Some(Bytes::from_static(b"h2")));
    assert_eq!(a.retrieval_hint("msg2").map(|h| &h[..]), Some(&b"h2"[..]));
}

#[test]
fn nim_history_cap_keeps_the_newest_thousand() {
    let mut a = channel(nim(), "alice");
    for i in 0..1006 {
        send(&mut a, at_ms(i), &format!("msg{i}"));
    }
    let log: Vec<&str> = a.local_log().collect();
    assert!(log.len() <= 1000, "{}", log.len());
    assert_eq!(log.last(), Some(&"msg1005"));
}

#[test]
fn nim_resends_are_counted_then_the_message_is_given_up_as_sent() {
    let config = SdsConfig {
        resend_interval: SimDuration::from_millis(100),
        possibly_acked_resend_interval: SimDuration::from_millis(100),
        outgoing_sweep: Sweep::Every {
            interval: SimDuration::from_millis(50),
        },
        max_resends: 3,
        bloom_capacity: 2,
        sync: SyncSchedule::Off,
        ..nim()
    };
    let mut a = channel(config, "alice");
    send(&mut a, at_ms(0), "msg1");
    let mut outs = run(&mut a, at_ms(250));
    send(&mut a, at_ms(250), "msg2");
    outs.extend(run(&mut a, at_ms(300)));
    send(&mut a, at_ms(300), "msg3");
    outs.extend(run(&mut a, at_ms(500)));
    // nim-sds only counts the attempts: nothing is rebroadcast.
    assert!(broadcasts(&outs, BroadcastKind::Resend).is_empty());
    assert!(outs.contains(&SdsOutput::GaveUp {
        message_id: "msg1".into(),
        reason: GiveUpReason::MaxResends,
        reported_as_sent: true,
    }));
    assert_eq!(a.outgoing_ids().collect::<Vec<_>>(), ["msg2", "msg3"]);
    assert_eq!(a.resends("msg2"), Some(2));
    // The filter rolled over (capacity 2): msg1 is no longer in it, the newest id is.
    assert!(!a.bloom_contains("msg1"));
    assert!(a.bloom_contains("msg3"));
}
