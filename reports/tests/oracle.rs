//! The oracle on hand-made records: every number of `common::hand_made_oracle` worked out.

mod common;

use common::{hand_made_context, hand_made_oracle, hand_made_result, identity, ms};
use reports::result::Reach;
use reports::{Oracle, RunContext};
use sim_core::{
    AppMessageId, AppObservation, BelievedStatus, DeliveryPath, NodeId, SimDuration, SimTime,
};
use sim_net::Recorder;

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

#[test]
fn delivery_ratio_latency_and_deadlines_are_exact() {
    let r = hand_made_result(identity("v", 1, &[]));
    let s = &r.summary;
    assert_eq!(s.messages_created, 6);
    assert_eq!(s.deliveries_intended, 9, "m1 has 3 distinct recipients");
    assert_eq!(s.deliveries_delivered, 6);
    assert_eq!(s.delivery_ratio(), Some(6.0 / 9.0));
    // Latencies: 500, 11000, 500, 200, 2000, 100 ms.
    assert_eq!(s.delivered_within, [4, 5, 6]);
    assert_eq!(s.delivery_ratio_within(0), Some(4.0 / 9.0));
    assert_eq!(s.latency_max, Some(SimDuration::from_millis(11_000)));
    let close = |got: Option<SimDuration>, want_ms: u64| {
        let got = got.expect("has deliveries").as_nanos() as f64;
        let want = want_ms as f64 * 1e6;
        assert!((got - want).abs() <= want * 0.001, "{got} vs {want}");
    };
    close(s.latency_p50, 500);
    close(s.latency_p90, 11_000);
    close(s.latency_p99, 11_000);
    assert_eq!(s.duplicates, 1);
    assert_eq!(
        s.unintended_receptions, 1,
        "n3 got m2; n0's own m1 is ignored"
    );
    assert_eq!(s.store_queries, 7);
    assert_eq!(s.overhead_bytes, 100);
    assert_eq!(s.miss_detected, 1);
    assert_eq!(s.oracle_anomalies, 1, "reception of unknown id 99");
    // Heal at 31.5 s; last first reception of a message created before it: m5 at 33 s.
    assert_eq!(s.convergence_time, Some(SimDuration::from_millis(1500)));
    assert_eq!(s.converged, Some(false));

    let d = &r.deliveries;
    assert_eq!(d.len(), 9);
    let m1: Vec<_> = d.iter().filter(|x| x.message == AppMessageId(1)).collect();
    assert_eq!(
        m1.iter().map(|x| x.recipient.0).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(m1[0].latency, Some(SimDuration::from_millis(500)));
    assert_eq!(m1[0].path, Some(DeliveryPath::Relay));
    assert_eq!(m1[0].receptions, 2);
    assert_eq!(m1[1].path, Some(DeliveryPath::StoreFetch));
    assert_eq!(m1[2].first_received_at, None);
    assert_eq!(m1[2].receptions, 0);
}

#[test]
fn a_message_created_while_offline_counts_as_intended() {
    let r = hand_made_result(identity("v", 1, &[]));
    let m3 = &r.statuses[2];
    assert_eq!(m3.message, AppMessageId(3));
    assert!(!m3.sender_online_at_creation);
    assert_eq!(m3.recipients_intended, 1);
    assert_eq!(m3.reach, Reach::None);
    assert!(r.statuses[0].sender_online_at_creation);
    // The bucket [0, 10 s) holds m1, m2, m3: 5 intended deliveries.
    assert_eq!(r.timeseries[0].deliveries_intended, 5);
}

#[test]
fn believed_status_against_truth() {
    let r = hand_made_result(identity("v", 1, &[]));
    let flags: Vec<(u64, &str, bool, bool, bool, bool)> = r
        .statuses
        .iter()
        .map(|s| {
            (
                s.message.0,
                s.reach.as_str(),
                s.false_sent,
                s.false_acked,
                s.undetected_loss,
                s.false_failed,
            )
        })
        .collect();
    assert_eq!(
        flags,
        vec![
            (1, "some", false, false, true, false),
            (2, "all", false, false, false, false),
            (3, "none", true, false, true, false),
            (4, "some", false, false, false, false),
            (5, "all", false, true, false, false),
            (6, "all", false, false, false, true),
        ]
    );
    let m4 = &r.statuses[3];
    assert_eq!(m4.failed_at, Some(ms(90_000)));
    assert_eq!(m4.time_to_detect_failure, Some(secs(60)));
    assert_eq!(r.statuses[5].time_to_detect_failure, None, "m6 reached all");
    let m2 = &r.statuses[1];
    assert_eq!(m2.sent_at, Some(ms(2100)));
    assert_eq!(m2.acked_at, Some(ms(3000)));
    assert_eq!(m2.final_status, BelievedStatus::Acked);
    assert_eq!(m2.status_changes, 2);
    assert_eq!(m2.all_delivered_at, Some(ms(2500)));
    assert_eq!(r.statuses[0].all_delivered_at, None);
    let s = &r.summary;
    assert_eq!(
        (
            s.false_sent,
            s.false_acked,
            s.undetected_loss,
            s.false_failed
        ),
        (1, 1, 2, 1)
    );
    assert_eq!(
        (
            s.messages_believed_sent,
            s.messages_acked,
            s.messages_failed
        ),
        (4, 2, 2)
    );
    assert_eq!(s.time_to_detect_failure_mean, Some(secs(60)));
    assert_eq!(s.time_to_detect_failure_max, Some(secs(60)));
}

#[test]
fn lite_tester_counters_per_stream() {
    let r = hand_made_result(identity("v", 1, &[]));
    let rows: Vec<[u64; 8]> = r
        .streams
        .iter()
        .map(|s| {
            [
                u64::from(s.sender.0),
                u64::from(s.receiver.0),
                s.expected,
                s.received,
                s.lost,
                s.out_of_order,
                s.late,
                s.duplicates,
            ]
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            [0, 1, 3, 2, 1, 0, 0, 1],
            [0, 2, 1, 1, 0, 0, 1, 0],
            [0, 3, 1, 0, 1, 0, 0, 0],
            [1, 0, 1, 0, 1, 0, 0, 0],
            [1, 2, 3, 3, 0, 1, 0, 0],
        ]
    );
    assert_eq!((r.summary.out_of_order, r.summary.late), (1, 1));
}

#[test]
fn late_follows_the_configured_deadline() {
    let mut ctx = hand_made_context(identity("v", 1, &[]));
    ctx.late_after = SimDuration::from_millis(400);
    let r = hand_made_oracle().finish(ctx);
    // Latencies above 400 ms: 500 (m1→n1), 11000, 500 (m2), 2000 (m5).
    assert_eq!(r.summary.late, 4);
    assert_eq!(r.settings.late_after, SimDuration::from_millis(400));
}

#[test]
fn timeseries_faults_nodes_and_traffic() {
    let r = hand_made_result(identity("v", 1, &[]));
    assert_eq!(r.timeseries.len(), 10);
    let b0 = &r.timeseries[0];
    assert_eq!(
        (
            b0.messages_created,
            b0.deliveries_delivered,
            b0.deliveries_by_deadline
        ),
        (3, 3, 2)
    );
    assert_eq!(
        (
            b0.first_receptions,
            b0.nodes_running_min,
            b0.nodes_online_min
        ),
        (2, 4, 3)
    );
    assert_eq!(r.timeseries[1].first_receptions, 1);
    assert_eq!(r.timeseries[1].nodes_online_min, 3);
    assert_eq!(r.timeseries[2].nodes_online_min, 4, "n0 back at 20 s");
    let b3 = &r.timeseries[3];
    assert_eq!(
        (
            b3.messages_created,
            b3.deliveries_intended,
            b3.first_receptions
        ),
        (3, 4, 3)
    );
    assert_eq!(
        (
            b3.deliveries_intended_cumulative,
            b3.deliveries_delivered_cumulative
        ),
        (9, 6)
    );
    assert_eq!(r.timeseries[9].end, ms(100_000));

    assert_eq!(r.faults.len(), 1);
    assert_eq!((r.faults[0].start, r.faults[0].end), (ms(4000), ms(20_000)));
    assert_eq!(r.faults[0].nodes_down_max, 1);

    assert_eq!(r.nodes.len(), 4);
    assert_eq!(r.nodes[0].downtime, secs(16));
    assert_eq!(r.nodes[0].messages_created, 3);
    assert_eq!(r.nodes[1].first_receptions, 2);
    assert_eq!(r.nodes[1].duplicate_receptions, 1);
    assert_eq!(r.nodes[2].first_receptions, 4);

    let s = &r.summary;
    assert_eq!(s.bytes_sent_per_node_mean, Some(105.0));
    assert_eq!(s.bytes_sent_per_node_max, 300);
    assert_eq!(s.bytes_received_per_node_mean, Some(16.25));
    assert_eq!(s.bytes_received_per_node_max, 50);
    assert_eq!(r.traffic.len(), 2);
    assert_eq!(r.traffic[0].bytes_sent_total, 400);
    assert_eq!(r.traffic[0].bytes_sent_per_node_mean, Some(100.0));
    assert_eq!(r.traffic[1].class, "Store v3");
    assert_eq!(r.traffic[1].bytes_sent_per_node_max, 20);

    let names: Vec<&str> = r.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(&names[..2], ["store_queries", "rtt"]);
    assert_eq!(r.metrics[0].sum, Some(7));
    assert_eq!(r.metrics[1].max, Some(SimDuration::from_millis(250)));
    assert_eq!(r.latency_histogram.iter().map(|b| b.count).sum::<u64>(), 6);
}

#[test]
fn anomalies_are_counted_not_fatal() {
    let mut o = Oracle::new();
    let created = |id| AppObservation::Created {
        id: AppMessageId(id),
        recipients: vec![NodeId(1)],
        payload_bytes: 1,
    };
    o.record(ms(1), NodeId(0), created(1));
    o.record(ms(2), NodeId(5), created(1));
    let st = |id| AppObservation::Status {
        id: AppMessageId(id),
        status: BelievedStatus::Sent,
    };
    o.record(ms(3), NodeId(1), st(1));
    o.record(ms(3), NodeId(0), st(7));
    let a = o.anomalies();
    assert_eq!(
        (
            a.duplicate_creations,
            a.foreign_statuses,
            a.unknown_statuses
        ),
        (1, 1, 1)
    );
    // No nodes, a zero end time and a zero bucket: still a result, no panic.
    let mut ctx = RunContext::new(identity("v", 1, &[]), SimTime::ZERO);
    ctx.bucket = SimDuration::ZERO;
    let r = o.finish(ctx);
    assert_eq!(r.summary.deliveries_intended, 1);
    assert_eq!(r.summary.delivery_ratio(), Some(0.0));
    assert_eq!(r.summary.bytes_sent_per_node_mean, None);
    assert_eq!(r.timeseries.len(), 1);
    assert_eq!(r.summary.oracle_anomalies, 3);
}

#[test]
fn bucket_count_is_bounded() {
    let mut ctx = RunContext::new(identity("v", 1, &[]), SimTime(u64::MAX / 2));
    ctx.bucket = SimDuration::from_nanos(1);
    let r = Oracle::new().finish(ctx);
    assert!(r.timeseries.len() as u64 <= reports::oracle::MAX_BUCKETS);
}
