//! js-waku's unit-test expectations (JSWAKU packages/sds/src/message_channel/
//! message_channel.spec.ts with `causalHistorySize = 2`, `reference/reliability.md` §2.6) on
//! the `js_waku` preset.

use super::*;

fn js() -> SdsConfig {
    SdsConfig {
        causal_history_length: 2,
        ..SdsConfig::js_waku()
    }
}

#[test]
fn js_causal_history_of_two_leaves_exactly_the_first_unacknowledged() {
    let mut a = channel(js(), "alice");
    let mut b = channel(js(), "bob");
    for (i, id) in ["a1", "a2", "a3"].into_iter().enumerate() {
        let m = send(&mut a, at_ms(i as u64 + 1), id);
        b.receive(at_ms(i as u64 + 1), m, None);
    }
    let reply = send(&mut b, at_ms(10), "b1");
    assert_eq!(ids(&reply.causal_history), ["a2", "a3"]);
    a.receive(at_ms(11), reply, None);
    let outs = drain(&mut a);
    assert_eq!(acknowledged(&outs), ["a2", "a3"]);
    assert_eq!(a.outgoing_ids().collect::<Vec<_>>(), ["a1"]);
    assert_eq!(a.possible_acks("a1"), Some(1));
}

#[test]
fn js_bloom_only_acknowledgements_reach_the_threshold() {
    let mut a = channel(js(), "alice");
    let mut b = channel(js(), "bob");
    for i in 1..=5u64 {
        let m = send(&mut a, at_ms(i), &format!("a{i}"));
        b.receive(at_ms(i), m, None);
    }
    // Never reaches bob.
    send(&mut a, at_ms(6), "a6");
    let b1 = send(&mut b, at_ms(10), "b1");
    a.receive(at_ms(11), b1, None);
    assert_eq!(acknowledged(&drain(&mut a)), ["a4", "a5"]);
    for id in ["a1", "a2", "a3"] {
        assert_eq!(a.possible_acks(id), Some(1), "{id}");
    }
    let threshold = js().possible_ack_threshold;
    for i in 1..threshold {
        let m = send(&mut b, at_ms(20 + u64::from(i)), &format!("b{}", i + 1));
        a.receive(at_ms(30), m, None);
    }
    assert_eq!(acknowledged(&drain(&mut a)), ["a1", "a2", "a3"]);
    assert_eq!(a.outgoing_ids().collect::<Vec<_>>(), ["a6"]);
    assert_eq!(a.possible_acks("a6"), Some(0));
}

#[test]
fn own_messages_looped_back_never_acknowledge_themselves() {
    let mut a = channel(js(), "alice");
    let m1 = send(&mut a, at_ms(1), "a1");
    a.receive(at_ms(2), m1.clone(), None);
    assert!(drain(&mut a).is_empty());
    let mut sync = m1;
    sync.message_id = "sync-x".into();
    sync.content = None;
    a.receive(at_ms(3), sync, None);
    assert!(drain(&mut a).is_empty());
    assert_eq!(a.outgoing_ids().collect::<Vec<_>>(), ["a1"]);
    assert_eq!(a.stats().own_loopbacks, 2);
}

#[test]
fn first_message_missed_then_resent_then_a_sync_acknowledges_it() {
    let mut a = channel(js(), "alice");
    let mut b = channel(js(), "bob");
    let _lost = send(&mut a, at_ms(0), "a1");
    let outs = run(&mut a, at_ms(30_000));
    let resent = broadcasts(&outs, BroadcastKind::Resend);
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].message_id, "a1");
    b.receive(at_ms(30_001), resent[0].clone(), None);
    assert_eq!(delivered(&drain(&mut b)), ["a1"]);
    assert!(b.send_sync(at_ms(30_002)));
    let sync = broadcasts(&drain(&mut b), BroadcastKind::Sync).remove(0);
    a.receive(at_ms(30_003), sync, None);
    assert_eq!(acknowledged(&drain(&mut a)), ["a1"]);
    assert_eq!(a.outgoing_ids().count(), 0);
}

#[test]
fn sync_messages_skip_empty_history_and_stay_out_of_log_filter_and_buffer() {
    let mut a = channel(js(), "alice");
    let mut b = channel(js(), "bob");
    assert!(!b.send_sync(at_ms(1)));
    assert!(drain(&mut b).is_empty());
    assert_eq!(b.stats().syncs_skipped, 1);

    let m1 = send(&mut a, at_ms(2), "a1");
    b.receive(at_ms(3), m1, None);
    drain(&mut b);
    assert!(b.send_sync(at_ms(4)));
    let sync = broadcasts(&drain(&mut b), BroadcastKind::Sync).remove(0);
    assert!(sync.is_sync() && sync.message_id.starts_with("sync-"));
    assert_eq!(ids(&sync.causal_history), ["a1"]);
    assert!(sync.bloom_filter.is_some());
    assert_eq!(b.local_log().collect::<Vec<_>>(), ["a1"]);
    assert!(!b.bloom_contains(&sync.message_id));
    assert_eq!(b.outgoing_ids().count(), 0);

    a.receive(at_ms(5), sync.clone(), None);
    let outs = drain(&mut a);
    assert_eq!(acknowledged(&outs), ["a1"]);
    assert!(delivered(&outs).is_empty());
    assert!(!a.local_log().any(|id| id == sync.message_id));
    assert!(!a.bloom_contains(&sync.message_id));
    assert_eq!(a.incoming_len(), 0);
}

#[test]
fn ephemeral_messages_carry_no_metadata_and_are_delivered_at_once() {
    let mut a = channel(js(), "alice");
    let mut b = channel(js(), "bob");
    send(&mut a, at_ms(1), "a1");
    a.send_ephemeral(Bytes::from_static(b"typing"), "e1");
    let eph = broadcasts(&drain(&mut a), BroadcastKind::Ephemeral).remove(0);
    assert!(eph.is_ephemeral());
    assert!(eph.causal_history.is_empty() && eph.bloom_filter.is_none());
    b.receive(at_ms(2), eph, None);
    let outs = drain(&mut b);
    assert!(outs.contains(&SdsOutput::Deliver {
        message_id: "e1".into(),
        sender_id: "alice".into(),
        content: Bytes::from_static(b"typing"),
        lamport: None,
        retrieval_hint: None,
    }));
    assert_eq!(b.local_log().count(), 0);
    assert!(!b.bloom_contains("e1"));
    assert_eq!(a.outgoing_ids().collect::<Vec<_>>(), ["a1"]);
}

#[test]
fn incoming_sweep_with_a_lost_timeout_reports_lost_and_drops() {
    let config = SdsConfig {
        lost_timeout: Some(SimDuration::from_secs(10)),
        sync: SyncSchedule::Off,
        ..js()
    };
    let mut a = channel(config.clone(), "alice");
    let mut b = channel(config, "bob");
    let _a1 = send(&mut a, at_ms(0), "a1");
    let a2 = send(&mut a, at_ms(1), "a2");
    b.receive(at_ms(1_000), a2, None);
    drain(&mut b);
    assert!(b.is_buffered("a2"));
    // Arrived at 1 s, lost after 11 s, swept at the next 5 s tick.
    assert_eq!(b.poll_timeout(), Some(at_ms(15_000)));
    let outs = run(&mut b, at_ms(20_000));
    let lost: Vec<(&str, Vec<&str>)> = outs
        .iter()
        .filter_map(|o| match o {
            SdsOutput::Lost {
                message_id,
                missing,
            } => Some((message_id.as_str(), ids(missing))),
            _ => None,
        })
        .collect();
    assert_eq!(lost, [("a2", vec!["a1"])]);
    assert!(!b.is_buffered("a2") && delivered(&outs).is_empty());
}

#[test]
fn buffered_messages_are_delivered_when_dependencies_arrive_before_the_timeout() {
    let config = SdsConfig {
        lost_timeout: Some(SimDuration::from_secs(10)),
        ..js()
    };
    let mut a = channel(config.clone(), "alice");
    let mut b = channel(config, "bob");
    let a1 = send(&mut a, at_ms(0), "a1");
    let a2 = send(&mut a, at_ms(1), "a2");
    b.receive(at_ms(1_000), a2, None);
    b.receive(at_ms(5_000), a1, None);
    let outs = drain(&mut b);
    assert_eq!(delivered(&outs), ["a1", "a2"]);
    assert!(
        !run(&mut b, at_ms(60_000))
            .iter()
            .any(|o| matches!(o, SdsOutput::Lost { .. }))
    );
}
