//! The rows of every CSV file: one `#[derive(Serialize)]` struct per file, whose field order
//! is the column order, the column lists as constants (tested against the structs and against
//! `docs/outputs.md`), and the conversions from a [`RunResult`].
//!
//! Every per-run file starts with the run key `scenario, variant, sweep_point, seed`, so files
//! from many runs concatenate into one tidy table. Times are exact decimals in the unit the
//! column name ends with; ratios and means have six decimals; missing values are empty cells.

use serde::Serialize;

use crate::format::{F6, Ms, Num, Secs, ratio};
use crate::oracle::RunIdentity;
use crate::result::RunResult;

/// Version of the column layout documented in `docs/outputs.md`; bump on any change.
pub const COLUMNS_VERSION: u32 = 3;

/// Columns of `runs.csv`.
#[rustfmt::skip]
pub const RUNS_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "sweep_x_name", "sweep_x", "sweep_y_name", "sweep_y",
    "seed", "scenario_hash", "code_version", "nodes", "messages_created", "deliveries_intended",
    "deliveries_delivered", "delivery_ratio", "delivery_ratio_1s", "delivery_ratio_10s",
    "delivery_ratio_60s", "latency_ms_p50", "latency_ms_p90", "latency_ms_p99", "latency_ms_max",
    "duplicates", "unintended_receptions", "out_of_order", "late", "late_after_ms",
    "messages_believed_sent", "messages_acked", "messages_failed", "messages_false_sent",
    "messages_false_acked", "messages_undetected_loss", "messages_false_failed",
    "time_to_detect_failure_ms_mean", "time_to_detect_failure_ms_max",
    "bytes_sent_per_node_mean", "bytes_sent_per_node_max", "bytes_received_per_node_mean",
    "bytes_received_per_node_max", "overhead_bytes", "store_queries", "miss_detected",
    "run_end_s", "heal_at_s", "convergence_time_s", "converged", "oracle_anomalies",
    "confirm_share", "confirmations", "confirmations_false", "confirmed_any_ratio",
    "confirm_first_ms_p50", "confirm_first_ms_p99", "confirmed_pct_ratio", "confirm_pct_ms_p50",
    "confirm_pct_ms_p99", "misses_detected", "misses_repaired", "miss_detect_ms_p50",
    "miss_detect_ms_p99", "miss_repair_ms_p50", "miss_repair_ms_p99",
    "overhead_bytes_per_message", "sds_overhead_bytes_per_message",
    "sds_bloom_bytes_per_message", "sds_history_bytes_per_message",
    "sds_repair_bytes_per_message", "sds_sync_bytes_per_message",
    "sds_sync_messages_per_message", "target_interval_ms", "target_sender_learns_messages",
    "target_sender_learns_share", "target_sender_learns_holds", "target_miss_detect_misses",
    "target_miss_detect_share", "target_miss_detect_holds", "target_consistency_pairs",
    "target_consistency_share", "target_consistency_holds",
];

/// Columns of `deliveries.csv`.
#[rustfmt::skip]
pub const DELIVERIES_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "message_id", "sender", "recipient",
    "created_at_ms", "received_at_ms", "latency_ms", "path", "receptions", "duplicates",
    "delivered", "confirmed_at_ms", "miss_detected_at_ms",
];

/// Columns of `statuses.csv`.
#[rustfmt::skip]
pub const STATUSES_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "message_id", "sender", "created_at_ms",
    "sender_online_at_creation", "payload_bytes", "recipients_intended", "recipients_delivered",
    "reach", "first_delivered_at_ms", "all_delivered_at_ms", "sent_at_ms", "acked_at_ms",
    "failed_at_ms", "status_final", "status_changes", "false_sent", "false_acked",
    "undetected_loss", "false_failed", "time_to_detect_failure_ms", "recipients_confirmed",
    "first_confirmed_at_ms", "share_confirmed_at_ms",
];

/// Columns of `streams.csv`.
#[rustfmt::skip]
pub const STREAMS_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "sender", "receiver", "expected", "received",
    "lost", "out_of_order", "late", "duplicates",
];

/// Columns of `timeseries.csv`.
#[rustfmt::skip]
pub const TIMESERIES_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "t_start_s", "t_end_s", "messages_created",
    "deliveries_intended", "deliveries_delivered", "deliveries_by_deadline", "delivery_ratio",
    "delivery_ratio_by_deadline", "delivery_ratio_cumulative", "first_receptions",
    "nodes_running_min", "nodes_online_min", "nodes_total",
];

/// Fixed columns of `nodes.csv`; `bytes_sent_<class>` then `bytes_received_<class>` follow,
/// one per traffic class in the order of the run manifest's `classes`.
#[rustfmt::skip]
pub const NODES_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "node", "label", "downtime_s",
    "messages_created", "first_receptions", "duplicate_receptions", "bytes_sent_total",
    "bytes_received_total", "msgs_sent", "msgs_received", "retransmissions", "msgs_dropped",
    "conn_failures", "dials", "dial_failures", "commands_dropped", "sends_on_closed",
    "queue_drops",
];

/// Columns of `traffic.csv`.
#[rustfmt::skip]
pub const TRAFFIC_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "class", "bytes_sent_total",
    "bytes_received_total", "bytes_sent_per_node_mean", "bytes_sent_per_node_max",
    "bytes_received_per_node_mean", "bytes_received_per_node_max",
];

/// Columns of `counters.csv`.
#[rustfmt::skip]
pub const COUNTERS_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "name", "kind", "count", "sum",
    "value_ms_p50", "value_ms_p99", "value_ms_max",
];

/// Columns of `faults.csv`.
#[rustfmt::skip]
pub const FAULTS_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "start_s", "end_s", "duration_s",
    "nodes_down_max",
];

/// Columns of `latency.csv`.
#[rustfmt::skip]
pub const LATENCY_COLUMNS: &[&str] = &[
    "scenario", "variant", "sweep_point", "seed", "latency_ms", "count",
];

/// A row of `runs.csv`.
#[derive(Serialize)]
#[allow(missing_docs)]
pub struct RunRow {
    pub scenario: String,
    pub variant: String,
    pub sweep_point: String,
    pub sweep_x_name: String,
    pub sweep_x: Option<Num>,
    pub sweep_y_name: String,
    pub sweep_y: Option<Num>,
    pub seed: u64,
    pub scenario_hash: String,
    pub code_version: String,
    pub nodes: u32,
    pub messages_created: u64,
    pub deliveries_intended: u64,
    pub deliveries_delivered: u64,
    pub delivery_ratio: Option<F6>,
    pub delivery_ratio_1s: Option<F6>,
    pub delivery_ratio_10s: Option<F6>,
    pub delivery_ratio_60s: Option<F6>,
    pub latency_ms_p50: Option<Ms>,
    pub latency_ms_p90: Option<Ms>,
    pub latency_ms_p99: Option<Ms>,
    pub latency_ms_max: Option<Ms>,
    pub duplicates: u64,
    pub unintended_receptions: u64,
    pub out_of_order: u64,
    pub late: u64,
    pub late_after_ms: Ms,
    pub messages_believed_sent: u64,
    pub messages_acked: u64,
    pub messages_failed: u64,
    pub messages_false_sent: u64,
    pub messages_false_acked: u64,
    pub messages_undetected_loss: u64,
    pub messages_false_failed: u64,
    pub time_to_detect_failure_ms_mean: Option<Ms>,
    pub time_to_detect_failure_ms_max: Option<Ms>,
    pub bytes_sent_per_node_mean: Option<F6>,
    pub bytes_sent_per_node_max: u64,
    pub bytes_received_per_node_mean: Option<F6>,
    pub bytes_received_per_node_max: u64,
    pub overhead_bytes: u64,
    pub store_queries: u64,
    pub miss_detected: u64,
    pub run_end_s: Secs,
    pub heal_at_s: Option<Secs>,
    pub convergence_time_s: Option<Secs>,
    pub converged: Option<bool>,
    pub oracle_anomalies: u64,
    pub confirm_share: F6,
    pub confirmations: u64,
    pub confirmations_false: u64,
    pub confirmed_any_ratio: Option<F6>,
    pub confirm_first_ms_p50: Option<Ms>,
    pub confirm_first_ms_p99: Option<Ms>,
    pub confirmed_pct_ratio: Option<F6>,
    pub confirm_pct_ms_p50: Option<Ms>,
    pub confirm_pct_ms_p99: Option<Ms>,
    pub misses_detected: u64,
    pub misses_repaired: u64,
    pub miss_detect_ms_p50: Option<Ms>,
    pub miss_detect_ms_p99: Option<Ms>,
    pub miss_repair_ms_p50: Option<Ms>,
    pub miss_repair_ms_p99: Option<Ms>,
    pub overhead_bytes_per_message: Option<F6>,
    pub sds_overhead_bytes_per_message: Option<F6>,
    pub sds_bloom_bytes_per_message: Option<F6>,
    pub sds_history_bytes_per_message: Option<F6>,
    pub sds_repair_bytes_per_message: Option<F6>,
    pub sds_sync_bytes_per_message: Option<F6>,
    pub sds_sync_messages_per_message: Option<F6>,
    pub target_interval_ms: Option<Ms>,
    pub target_sender_learns_messages: Option<u64>,
    pub target_sender_learns_share: Option<F6>,
    pub target_sender_learns_holds: Option<bool>,
    pub target_miss_detect_misses: Option<u64>,
    pub target_miss_detect_share: Option<F6>,
    pub target_miss_detect_holds: Option<bool>,
    pub target_consistency_pairs: Option<u64>,
    pub target_consistency_share: Option<F6>,
    pub target_consistency_holds: Option<bool>,
}

/// The run key columns shared by every per-run row.
#[derive(Clone)]
struct Key {
    scenario: String,
    variant: String,
    sweep_point: String,
    seed: u64,
}

fn key(id: &RunIdentity) -> Key {
    Key {
        scenario: id.scenario.clone(),
        variant: id.variant.clone(),
        sweep_point: id.sweep_point.clone(),
        seed: id.seed,
    }
}

/// Declares a row struct that starts with the run key columns.
macro_rules! keyed_row {
    ($(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Serialize)]
        #[allow(missing_docs)]
        pub struct $name {
            pub scenario: String,
            pub variant: String,
            pub sweep_point: String,
            pub seed: u64,
            $(pub $field: $ty,)*
        }
    };
}

keyed_row!(
    /// A row of `deliveries.csv`.
    DeliveryRow {
        message_id: u64, sender: u32, recipient: u32, created_at_ms: Ms,
        received_at_ms: Option<Ms>, latency_ms: Option<Ms>, path: &'static str,
        receptions: u32, duplicates: u32, delivered: bool, confirmed_at_ms: Option<Ms>,
        miss_detected_at_ms: Option<Ms>,
    }
);

keyed_row!(
    /// A row of `statuses.csv`.
    StatusRow {
        message_id: u64, sender: u32, created_at_ms: Ms, sender_online_at_creation: bool,
        payload_bytes: u32, recipients_intended: u32, recipients_delivered: u32,
        reach: &'static str, first_delivered_at_ms: Option<Ms>, all_delivered_at_ms: Option<Ms>,
        sent_at_ms: Option<Ms>, acked_at_ms: Option<Ms>, failed_at_ms: Option<Ms>,
        status_final: &'static str, status_changes: u32, false_sent: bool, false_acked: bool,
        undetected_loss: bool, false_failed: bool, time_to_detect_failure_ms: Option<Ms>,
        recipients_confirmed: u32, first_confirmed_at_ms: Option<Ms>,
        share_confirmed_at_ms: Option<Ms>,
    }
);

keyed_row!(
    /// A row of `streams.csv`.
    StreamRow {
        sender: u32, receiver: u32, expected: u64, received: u64, lost: u64,
        out_of_order: u64, late: u64, duplicates: u64,
    }
);

keyed_row!(
    /// A row of `timeseries.csv`.
    TimeseriesRow {
        t_start_s: Secs, t_end_s: Secs, messages_created: u64, deliveries_intended: u64,
        deliveries_delivered: u64, deliveries_by_deadline: u64, delivery_ratio: Option<F6>,
        delivery_ratio_by_deadline: Option<F6>, delivery_ratio_cumulative: Option<F6>,
        first_receptions: u64, nodes_running_min: u32, nodes_online_min: u32, nodes_total: u32,
    }
);

keyed_row!(
    /// A row of `traffic.csv`.
    TrafficRow {
        class: String, bytes_sent_total: u64, bytes_received_total: u64,
        bytes_sent_per_node_mean: Option<F6>, bytes_sent_per_node_max: u64,
        bytes_received_per_node_mean: Option<F6>, bytes_received_per_node_max: u64,
    }
);

keyed_row!(
    /// A row of `counters.csv`.
    CounterRow {
        name: String, kind: &'static str, count: u64, sum: Option<u64>,
        value_ms_p50: Option<Ms>, value_ms_p99: Option<Ms>, value_ms_max: Option<Ms>,
    }
);

keyed_row!(
    /// A row of `faults.csv`.
    FaultRow { start_s: Secs, end_s: Secs, duration_s: Secs, nodes_down_max: u32 }
);

keyed_row!(
    /// A row of `latency.csv`.
    LatencyRow { latency_ms: Ms, count: u64 }
);

macro_rules! with_key {
    ($k:expr, $name:ident { $($body:tt)* }) => {{
        let k = $k.clone();
        $name { scenario: k.scenario, variant: k.variant, sweep_point: k.sweep_point, seed: k.seed, $($body)* }
    }};
}

fn f6(x: Option<f64>) -> Option<F6> {
    x.map(F6)
}

fn ms(d: Option<sim_core::SimDuration>) -> Option<Ms> {
    d.map(|d| Ms(d.as_nanos()))
}

/// The `runs.csv` row of a run.
pub fn run_row(r: &RunResult) -> RunRow {
    let id = &r.identity;
    let s = &r.summary;
    let axis = |i: usize| id.sweep_axes.get(i);
    let per_message = |total: u64| f6(s.per_message(total));
    let t = r.targets.as_ref();
    let outcome = |f: fn(&crate::targets::Targets) -> crate::targets::TargetOutcome| t.map(f);
    let t1 = outcome(|t| t.sender_learns);
    let t2 = outcome(|t| t.miss_detect);
    let t3 = outcome(|t| t.consistency);
    RunRow {
        scenario: id.scenario.clone(),
        variant: id.variant.clone(),
        sweep_point: id.sweep_point.clone(),
        sweep_x_name: axis(0).map(|a| a.name.clone()).unwrap_or_default(),
        sweep_x: axis(0).map(|a| Num(a.value)),
        sweep_y_name: axis(1).map(|a| a.name.clone()).unwrap_or_default(),
        sweep_y: axis(1).map(|a| Num(a.value)),
        seed: id.seed,
        scenario_hash: id.scenario_hash.clone(),
        code_version: id.code_version.clone(),
        nodes: s.nodes,
        messages_created: s.messages_created,
        deliveries_intended: s.deliveries_intended,
        deliveries_delivered: s.deliveries_delivered,
        delivery_ratio: f6(s.delivery_ratio()),
        delivery_ratio_1s: f6(s.delivery_ratio_within(0)),
        delivery_ratio_10s: f6(s.delivery_ratio_within(1)),
        delivery_ratio_60s: f6(s.delivery_ratio_within(2)),
        latency_ms_p50: s.latency_p50.map(|d| Ms(d.as_nanos())),
        latency_ms_p90: s.latency_p90.map(|d| Ms(d.as_nanos())),
        latency_ms_p99: s.latency_p99.map(|d| Ms(d.as_nanos())),
        latency_ms_max: s.latency_max.map(|d| Ms(d.as_nanos())),
        duplicates: s.duplicates,
        unintended_receptions: s.unintended_receptions,
        out_of_order: s.out_of_order,
        late: s.late,
        late_after_ms: Ms(r.settings.late_after.as_nanos()),
        messages_believed_sent: s.messages_believed_sent,
        messages_acked: s.messages_acked,
        messages_failed: s.messages_failed,
        messages_false_sent: s.false_sent,
        messages_false_acked: s.false_acked,
        messages_undetected_loss: s.undetected_loss,
        messages_false_failed: s.false_failed,
        time_to_detect_failure_ms_mean: s.time_to_detect_failure_mean.map(|d| Ms(d.as_nanos())),
        time_to_detect_failure_ms_max: s.time_to_detect_failure_max.map(|d| Ms(d.as_nanos())),
        bytes_sent_per_node_mean: f6(s.bytes_sent_per_node_mean),
        bytes_sent_per_node_max: s.bytes_sent_per_node_max,
        bytes_received_per_node_mean: f6(s.bytes_received_per_node_mean),
        bytes_received_per_node_max: s.bytes_received_per_node_max,
        overhead_bytes: s.overhead_bytes,
        store_queries: s.store_queries,
        miss_detected: s.miss_detected,
        run_end_s: Secs(r.settings.end.as_nanos()),
        heal_at_s: r.settings.heal_at.map(|t| Secs(t.as_nanos())),
        convergence_time_s: s.convergence_time.map(|d| Secs(d.as_nanos())),
        converged: s.converged,
        oracle_anomalies: s.oracle_anomalies,
        confirm_share: F6(r.settings.confirm_share),
        confirmations: s.confirmations,
        confirmations_false: s.confirmations_false,
        confirmed_any_ratio: f6(s.confirmed_any_ratio()),
        confirm_first_ms_p50: ms(s.confirm_first_p50),
        confirm_first_ms_p99: ms(s.confirm_first_p99),
        confirmed_pct_ratio: f6(s.confirmed_share_ratio()),
        confirm_pct_ms_p50: ms(s.confirm_share_p50),
        confirm_pct_ms_p99: ms(s.confirm_share_p99),
        misses_detected: s.misses_detected,
        misses_repaired: s.misses_repaired,
        miss_detect_ms_p50: ms(s.miss_detect_p50),
        miss_detect_ms_p99: ms(s.miss_detect_p99),
        miss_repair_ms_p50: ms(s.miss_repair_p50),
        miss_repair_ms_p99: ms(s.miss_repair_p99),
        overhead_bytes_per_message: per_message(s.overhead_bytes),
        sds_overhead_bytes_per_message: per_message(s.sds_overhead_bytes()),
        sds_bloom_bytes_per_message: per_message(s.sds_bloom_bytes),
        sds_history_bytes_per_message: per_message(s.sds_history_bytes),
        sds_repair_bytes_per_message: per_message(s.sds_repair_bytes),
        sds_sync_bytes_per_message: per_message(s.sds_sync_bytes),
        sds_sync_messages_per_message: per_message(s.sds_sync_messages),
        target_interval_ms: t.map(|t| Ms(t.interval.as_nanos())),
        target_sender_learns_messages: t1.map(|o| o.samples),
        target_sender_learns_share: f6(t1.and_then(|o| o.share())),
        target_sender_learns_holds: t1.and_then(|o| o.holds()),
        target_miss_detect_misses: t2.map(|o| o.samples),
        target_miss_detect_share: f6(t2.and_then(|o| o.share())),
        target_miss_detect_holds: t2.and_then(|o| o.holds()),
        target_consistency_pairs: t3.map(|o| o.samples),
        target_consistency_share: f6(t3.and_then(|o| o.share())),
        target_consistency_holds: t3.and_then(|o| o.holds()),
    }
}

/// The `deliveries.csv` rows of a run.
pub fn delivery_rows(r: &RunResult) -> impl Iterator<Item = DeliveryRow> + '_ {
    let k = key(&r.identity);
    r.deliveries.iter().map(move |d| {
        with_key!(
            k,
            DeliveryRow {
                message_id: d.message.0,
                sender: d.sender.0,
                recipient: d.recipient.0,
                created_at_ms: Ms(d.created_at.as_nanos()),
                received_at_ms: d.first_received_at.map(|t| Ms(t.as_nanos())),
                latency_ms: d.latency.map(|l| Ms(l.as_nanos())),
                path: d.path.map_or("", |p| p.as_str()),
                receptions: d.receptions,
                duplicates: d.receptions.saturating_sub(1),
                delivered: d.first_received_at.is_some(),
                confirmed_at_ms: d.confirmed_at.map(|t| Ms(t.as_nanos())),
                miss_detected_at_ms: d.miss_detected_at.map(|t| Ms(t.as_nanos())),
            }
        )
    })
}

/// The `statuses.csv` rows of a run.
pub fn status_rows(r: &RunResult) -> impl Iterator<Item = StatusRow> + '_ {
    let k = key(&r.identity);
    let ms = |t: Option<sim_core::SimTime>| t.map(|t| Ms(t.as_nanos()));
    r.statuses.iter().map(move |s| {
        with_key!(
            k,
            StatusRow {
                message_id: s.message.0,
                sender: s.sender.0,
                created_at_ms: Ms(s.created_at.as_nanos()),
                sender_online_at_creation: s.sender_online_at_creation,
                payload_bytes: s.payload_bytes,
                recipients_intended: s.recipients_intended,
                recipients_delivered: s.recipients_delivered,
                reach: s.reach.as_str(),
                first_delivered_at_ms: ms(s.first_delivered_at),
                all_delivered_at_ms: ms(s.all_delivered_at),
                sent_at_ms: ms(s.sent_at),
                acked_at_ms: ms(s.acked_at),
                failed_at_ms: ms(s.failed_at),
                status_final: s.final_status.as_str(),
                status_changes: s.status_changes,
                false_sent: s.false_sent,
                false_acked: s.false_acked,
                undetected_loss: s.undetected_loss,
                false_failed: s.false_failed,
                time_to_detect_failure_ms: s.time_to_detect_failure.map(|d| Ms(d.as_nanos())),
                recipients_confirmed: s.recipients_confirmed,
                first_confirmed_at_ms: ms(s.first_confirmed_at),
                share_confirmed_at_ms: ms(s.share_confirmed_at),
            }
        )
    })
}

/// The `streams.csv` rows of a run.
pub fn stream_rows(r: &RunResult) -> impl Iterator<Item = StreamRow> + '_ {
    let k = key(&r.identity);
    r.streams.iter().map(move |s| {
        with_key!(
            k,
            StreamRow {
                sender: s.sender.0,
                receiver: s.receiver.0,
                expected: s.expected,
                received: s.received,
                lost: s.lost,
                out_of_order: s.out_of_order,
                late: s.late,
                duplicates: s.duplicates,
            }
        )
    })
}

/// The `timeseries.csv` rows of a run.
pub fn timeseries_rows(r: &RunResult) -> impl Iterator<Item = TimeseriesRow> + '_ {
    let k = key(&r.identity);
    let total = r.nodes.len() as u32;
    r.timeseries.iter().map(move |b| {
        with_key!(
            k,
            TimeseriesRow {
                t_start_s: Secs(b.start.as_nanos()),
                t_end_s: Secs(b.end.as_nanos()),
                messages_created: b.messages_created,
                deliveries_intended: b.deliveries_intended,
                deliveries_delivered: b.deliveries_delivered,
                deliveries_by_deadline: b.deliveries_by_deadline,
                delivery_ratio: f6(ratio(b.deliveries_delivered, b.deliveries_intended)),
                delivery_ratio_by_deadline: f6(ratio(
                    b.deliveries_by_deadline,
                    b.deliveries_intended
                )),
                delivery_ratio_cumulative: f6(ratio(
                    b.deliveries_delivered_cumulative,
                    b.deliveries_intended_cumulative,
                )),
                first_receptions: b.first_receptions,
                nodes_running_min: b.nodes_running_min,
                nodes_online_min: b.nodes_online_min,
                nodes_total: total,
            }
        )
    })
}

/// A traffic class name made safe for a column name (`[a-z0-9_]`).
pub fn class_column(class: &str) -> String {
    let s: String = class
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "unnamed".to_string()
    } else {
        s
    }
}

/// The full `nodes.csv` header of a run (fixed columns, then per-class byte columns).
pub fn nodes_header(r: &RunResult) -> Vec<String> {
    let mut h: Vec<String> = NODES_COLUMNS.iter().map(|c| c.to_string()).collect();
    for dir in ["sent", "received"] {
        for class in &r.settings.classes {
            h.push(format!("bytes_{dir}_{}", class_column(class)));
        }
    }
    h
}

/// The `nodes.csv` records of a run, as cells matching [`nodes_header`].
pub fn node_records(r: &RunResult) -> impl Iterator<Item = Vec<String>> + '_ {
    let id = &r.identity;
    let classes = r.settings.classes.len();
    r.nodes.iter().map(move |n| {
        let st = &n.stats;
        let sum = |v: &Vec<u64>| v.iter().fold(0u64, |a, b| a.saturating_add(*b));
        let mut cells = vec![
            id.scenario.clone(),
            id.variant.clone(),
            id.sweep_point.clone(),
            id.seed.to_string(),
            n.node.0.to_string(),
            n.label.clone(),
            crate::format::ns_as_s(n.downtime.as_nanos()),
        ];
        let numbers = [
            n.messages_created,
            n.first_receptions,
            n.duplicate_receptions,
            sum(&st.bytes_sent),
            sum(&st.bytes_received),
            st.msgs_sent,
            st.msgs_received,
            st.retransmissions,
            st.msgs_dropped,
            st.conn_failures,
            st.dials,
            st.dial_failures,
            st.commands_dropped,
            st.sends_on_closed,
            st.queue_drops,
        ];
        cells.extend(numbers.iter().map(|v| v.to_string()));
        for v in [&st.bytes_sent, &st.bytes_received] {
            cells.extend((0..classes).map(|i| v.get(i).copied().unwrap_or(0).to_string()));
        }
        cells
    })
}

/// The `traffic.csv` rows of a run.
pub fn traffic_rows(r: &RunResult) -> impl Iterator<Item = TrafficRow> + '_ {
    let k = key(&r.identity);
    r.traffic.iter().map(move |t| {
        with_key!(
            k,
            TrafficRow {
                class: t.class.clone(),
                bytes_sent_total: t.bytes_sent_total,
                bytes_received_total: t.bytes_received_total,
                bytes_sent_per_node_mean: f6(t.bytes_sent_per_node_mean),
                bytes_sent_per_node_max: t.bytes_sent_per_node_max,
                bytes_received_per_node_mean: f6(t.bytes_received_per_node_mean),
                bytes_received_per_node_max: t.bytes_received_per_node_max,
            }
        )
    })
}

/// The `counters.csv` rows of a run.
pub fn counter_rows(r: &RunResult) -> impl Iterator<Item = CounterRow> + '_ {
    let k = key(&r.identity);
    r.metrics.iter().map(move |m| {
        with_key!(
            k,
            CounterRow {
                name: m.name.clone(),
                kind: m.kind.as_str(),
                count: m.count,
                sum: m.sum,
                value_ms_p50: m.p50.map(|d| Ms(d.as_nanos())),
                value_ms_p99: m.p99.map(|d| Ms(d.as_nanos())),
                value_ms_max: m.max.map(|d| Ms(d.as_nanos())),
            }
        )
    })
}

/// The `faults.csv` rows of a run.
pub fn fault_rows(r: &RunResult) -> impl Iterator<Item = FaultRow> + '_ {
    let k = key(&r.identity);
    r.faults.iter().map(move |f| {
        with_key!(
            k,
            FaultRow {
                start_s: Secs(f.start.as_nanos()),
                end_s: Secs(f.end.as_nanos()),
                duration_s: Secs(f.end.saturating_duration_since(f.start).as_nanos()),
                nodes_down_max: f.nodes_down_max,
            }
        )
    })
}

/// The `latency.csv` rows of a run.
pub fn latency_rows(r: &RunResult) -> impl Iterator<Item = LatencyRow> + '_ {
    let k = key(&r.identity);
    r.latency_histogram.iter().map(move |b| {
        with_key!(
            k,
            LatencyRow {
                latency_ms: Ms(b.latency_us.saturating_mul(1_000)),
                count: b.count,
            }
        )
    })
}
