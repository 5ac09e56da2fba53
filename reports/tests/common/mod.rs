//! Shared fixtures: a hand-made run whose every number is worked out in `tests/oracle.rs`,
//! and scratch directories under the target directory.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use reports::{NodeInfo, Oracle, RunContext, RunIdentity, RunResult, SweepAxis};
use sim_core::{
    AppMessageId, AppObservation, BelievedStatus, DeliveryPath, NodeId, SimDuration, SimTime,
};
use sim_net::{NodeStats, Process, Recorder, StateChange};

/// Milliseconds as a `SimTime`.
pub fn ms(v: u64) -> SimTime {
    SimTime(v * 1_000_000)
}

/// A fresh empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("reports-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn created(o: &mut Oracle, at: u64, node: u32, id: u64, to: &[u32]) {
    let recipients = to.iter().map(|n| NodeId(*n)).collect();
    let obs = AppObservation::Created {
        id: AppMessageId(id),
        recipients,
        payload_bytes: 100,
    };
    o.record(ms(at), NodeId(node), obs);
}

fn received(o: &mut Oracle, at: u64, node: u32, id: u64, path: DeliveryPath) {
    let obs = AppObservation::Received {
        id: AppMessageId(id),
        path,
    };
    o.record(ms(at), NodeId(node), obs);
}

fn status(o: &mut Oracle, at: u64, node: u32, id: u64, status: BelievedStatus) {
    let obs = AppObservation::Status {
        id: AppMessageId(id),
        status,
    };
    o.record(ms(at), NodeId(node), obs);
}

/// The hand-made run (times in ms):
/// - m1 0→{1,2,3} at 1000: n1 at 1500 (relay) and 2000 (duplicate), n2 at 12000 (store, late),
///   n0 at 1200 (own message, ignored); Sent at 1100; never failed.
/// - m2 0→{1} at 2000: n1 at 2500; n3 at 2600 (unintended); Sent 2100, Acked 3000.
/// - m3 0→{1} at 5000 while n0 is offline (4000..20000): never received; Sent at 5000.
/// - m4 1→{0,2} at 30000: n2 at 30200; Failed at 90000.
/// - m5 1→{2} at 31000: Acked at 31500; n2 at 33000 (after m6: out of order).
/// - m6 1→{2} at 32000: n2 at 32100; Failed at 40000.
/// - a reception of unknown id 99 by n3; counters store_queries 3 + 4; a duration; overhead
///   100 bytes; one MissDetected.
pub fn hand_made_oracle() -> Oracle {
    let mut o = Oracle::new();
    created(&mut o, 1000, 0, 1, &[3, 1, 2, 1]);
    status(&mut o, 1100, 0, 1, BelievedStatus::Sent);
    received(&mut o, 1200, 0, 1, DeliveryPath::Relay);
    received(&mut o, 1500, 1, 1, DeliveryPath::Relay);
    received(&mut o, 2000, 1, 1, DeliveryPath::StoreFetch);
    created(&mut o, 2000, 0, 2, &[1]);
    status(&mut o, 2100, 0, 2, BelievedStatus::Sent);
    received(&mut o, 2500, 1, 2, DeliveryPath::Relay);
    received(&mut o, 2600, 3, 2, DeliveryPath::Relay);
    status(&mut o, 3000, 0, 2, BelievedStatus::Acked);
    created(&mut o, 5000, 0, 3, &[1]);
    status(&mut o, 5000, 0, 3, BelievedStatus::Sent);
    received(&mut o, 12000, 2, 1, DeliveryPath::StoreFetch);
    created(&mut o, 30000, 1, 4, &[0, 2]);
    received(&mut o, 30200, 2, 4, DeliveryPath::FilterPush);
    created(&mut o, 31000, 1, 5, &[2]);
    status(&mut o, 31500, 1, 5, BelievedStatus::Acked);
    created(&mut o, 32000, 1, 6, &[2]);
    received(&mut o, 32100, 2, 6, DeliveryPath::Relay);
    received(&mut o, 33000, 2, 5, DeliveryPath::Retransmission);
    status(&mut o, 40000, 1, 6, BelievedStatus::Failed);
    status(&mut o, 90000, 1, 4, BelievedStatus::Failed);
    received(&mut o, 50000, 3, 99, DeliveryPath::Relay);
    let counter = |name, delta| AppObservation::Counter { name, delta };
    o.record(ms(10), NodeId(2), counter("store_queries", 3));
    o.record(ms(20), NodeId(2), counter("store_queries", 4));
    let duration = AppObservation::Duration {
        name: "rtt",
        value: SimDuration::from_millis(250),
    };
    o.record(ms(30), NodeId(2), duration);
    o.record(ms(40), NodeId(1), AppObservation::Overhead { bytes: 100 });
    let miss = AppObservation::MissDetected {
        id: AppMessageId(3),
    };
    o.record(ms(50), NodeId(1), miss);
    o
}

fn stats(sent: &[u64], received: &[u64]) -> NodeStats {
    NodeStats {
        bytes_sent: sent.to_vec(),
        bytes_received: received.to_vec(),
        msgs_sent: 7,
        dials: 2,
        ..NodeStats::default()
    }
}

/// An identity with the given variant, seed and optional sweep axes.
pub fn identity(variant: &str, seed: u64, axes: &[(&str, f64)]) -> RunIdentity {
    let sweep_point = axes
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    RunIdentity {
        scenario: "hand-made".into(),
        variant: variant.into(),
        sweep_point,
        sweep_axes: axes
            .iter()
            .map(|(n, v)| SweepAxis {
                name: n.to_string(),
                value: *v,
            })
            .collect(),
        seed,
        scenario_hash: "abc123".into(),
        code_version: "0.1.0-test".into(),
    }
}

/// The context of the hand-made run: 4 nodes, end 100 s, heal at 31.5 s, n0 offline 4..20 s.
pub fn hand_made_context(id: RunIdentity) -> RunContext {
    let mut ctx = RunContext::new(id, ms(100_000));
    ctx.heal_at = Some(ms(31_500));
    ctx.classes = vec!["relay".into(), "Store v3".into()];
    ctx.nodes = vec![
        NodeInfo {
            label: "relay".into(),
            present_at_start: true,
            stats: stats(&[100, 20], &[50, 0]),
        },
        NodeInfo {
            label: "relay".into(),
            present_at_start: true,
            stats: stats(&[300, 0], &[10, 5]),
        },
        NodeInfo {
            label: "light".into(),
            present_at_start: true,
            stats: NodeStats::default(),
        },
        NodeInfo {
            label: "light, \"quoted\"".into(),
            present_at_start: true,
            stats: stats(&[0, 0], &[0, 0]),
        },
    ];
    let change = |at, up| StateChange {
        at: ms(at),
        node: NodeId(0),
        process: Process::Running,
        network_up: up,
    };
    ctx.state_log = vec![change(4000, false), change(20_000, true)];
    ctx
}

/// The hand-made run's result for `id`.
pub fn hand_made_result(id: RunIdentity) -> RunResult {
    hand_made_oracle().finish(hand_made_context(id))
}
