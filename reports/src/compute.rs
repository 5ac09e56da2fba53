//! Computing a [`RunResult`] from the oracle's records and the [`RunContext`]: one pass over
//! the messages (in id order) fills deliveries, statuses, streams, buckets and the latency
//! histogram; the timeline pass adds node states; the rest are per-node and per-class sums.
//! The definitions of every quantity are in [`crate::result`] and `docs/outputs.md`.

use std::collections::BTreeMap;

use sim_core::{AppMessageId, NodeId, SimDuration, SimTime};

use crate::oracle::{
    DEADLINES, DEFAULT_BUCKET, DurationHist, MAX_BUCKETS, MessageRecord, Oracle, RunContext,
};
use crate::result::{
    Bucket, ClassTraffic, Delivery, LatencyBucket, MessageStatus, MetricKind, NamedMetric,
    NodeReport, Reach, RunResult, RunSettings, RunSummary, StreamCounters,
};
use crate::targets;
use crate::timeline::Timeline;

/// The bucket width actually used and the number of buckets.
fn bucket_layout(requested: SimDuration, end: SimTime) -> (SimDuration, u64) {
    let mut width = if requested.as_nanos() == 0 {
        DEFAULT_BUCKET
    } else {
        requested
    };
    let mut count = end.as_nanos().div_ceil(width.as_nanos()).max(1);
    if count > MAX_BUCKETS {
        width = SimDuration(end.as_nanos().div_ceil(MAX_BUCKETS));
        count = end.as_nanos().div_ceil(width.as_nanos()).max(1);
    }
    (width, count)
}

fn min_time(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The confirmation share actually used: clamped to `(0, 1]`; zero, negative and
/// non-finite values mean "one recipient" (the smallest share).
pub(crate) fn effective_share(share: f64) -> f64 {
    if share.is_finite() && share > 0.0 {
        share.min(1.0)
    } else {
        0.0
    }
}

/// How many of `n` recipients make up the share: ⌈share × n⌉, at least 1, at most `n`
/// (0 when `n` is 0). A tolerance of 1e-9 keeps `0.3 × 10` at 3.
pub(crate) fn share_count(share: f64, n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let k = (effective_share(share) * f64::from(n) - 1e-9).ceil();
    (k.max(1.0) as u32).min(n)
}

/// Per-node application counts accumulated over messages.
#[derive(Clone, Copy, Default)]
struct NodeApp {
    created: u64,
    first_receptions: u64,
    duplicates: u64,
}

/// Accumulators shared by the per-message pass.
struct Pass<'a> {
    ctx: &'a RunContext,
    timeline: &'a Timeline,
    bucket: SimDuration,
    buckets: Vec<Bucket>,
    latency: DurationHist,
    confirm_first: DurationHist,
    confirm_share: DurationHist,
    miss_detect: DurationHist,
    miss_repair: DurationHist,
    summary: RunSummary,
    deliveries: Vec<Delivery>,
    statuses: Vec<MessageStatus>,
    streams: BTreeMap<(NodeId, NodeId), StreamCounters>,
    node_app: Vec<NodeApp>,
    detect_sum_ns: u128,
    detect_count: u64,
    heal_last: Option<SimTime>,
    heal_complete: bool,
}

impl Pass<'_> {
    fn bucket_of(&self, at: SimTime) -> usize {
        let i = at.as_nanos() / self.bucket.as_nanos();
        (i as usize).min(self.buckets.len() - 1)
    }

    fn node_app(&mut self, node: NodeId) -> Option<&mut NodeApp> {
        self.node_app.get_mut(node.index())
    }

    fn message(&mut self, id: AppMessageId, m: &MessageRecord) {
        let late_after = self.ctx.late_after;
        let before_heal = self.ctx.heal_at.is_some_and(|h| m.created_at < h);
        let b = self.bucket_of(m.created_at);
        self.summary.messages_created += 1;
        self.buckets[b].messages_created += 1;
        if let Some(n) = self.node_app(m.sender) {
            n.created += 1;
        }
        let (mut delivered, mut first, mut last) = (0u32, None::<SimTime>, None::<SimTime>);
        let mut confirmed: Vec<SimTime> = Vec::new();
        for r in &m.recipients {
            let first_at = r.first_at.get();
            let confirmed_at = r.confirmed_at.get();
            let miss_at = r.miss_at.get();
            if let Some(c) = confirmed_at {
                confirmed.push(c);
                self.summary.confirmations += 1;
                if first_at.is_none_or(|f| f > c) {
                    self.summary.confirmations_false += 1;
                }
            }
            if let Some(d) = miss_at {
                self.summary.misses_detected += 1;
                self.miss_detect
                    .record(d.saturating_duration_since(m.created_at));
                if let Some(f) = first_at {
                    self.summary.misses_repaired += 1;
                    self.miss_repair.record(f.saturating_duration_since(d));
                }
            }
            self.summary.deliveries_intended += 1;
            self.buckets[b].deliveries_intended += 1;
            let stream = self
                .streams
                .entry((m.sender, r.node))
                .or_insert(StreamCounters {
                    sender: m.sender,
                    receiver: r.node,
                    expected: 0,
                    received: 0,
                    lost: 0,
                    out_of_order: 0,
                    late: 0,
                    duplicates: 0,
                });
            stream.expected += 1;
            let latency = first_at.map(|t| t.saturating_duration_since(m.created_at));
            if let (Some(at), Some(lat)) = (first_at, latency) {
                let dups = u64::from(r.receptions.saturating_sub(1));
                stream.received += 1;
                stream.duplicates += dups;
                if lat > late_after {
                    stream.late += 1;
                }
                delivered += 1;
                first = Some(first.map_or(at, |f| f.min(at)));
                last = Some(last.map_or(at, |l| l.max(at)));
                self.summary.deliveries_delivered += 1;
                for (k, d) in DEADLINES.iter().enumerate() {
                    if lat <= *d {
                        self.summary.delivered_within[k] += 1;
                    }
                }
                self.summary.duplicates += dups;
                self.latency.record(lat);
                self.buckets[b].deliveries_delivered += 1;
                if lat <= late_after {
                    self.buckets[b].deliveries_by_deadline += 1;
                }
                let rb = self.bucket_of(at);
                self.buckets[rb].first_receptions += 1;
                if let Some(n) = self.node_app(r.node) {
                    n.first_receptions += 1;
                    n.duplicates += dups;
                }
                if before_heal {
                    self.heal_last = Some(self.heal_last.map_or(at, |l| l.max(at)));
                }
            } else if before_heal {
                self.heal_complete = false;
            }
            self.deliveries.push(Delivery {
                message: id,
                sender: m.sender,
                recipient: r.node,
                created_at: m.created_at,
                first_received_at: first_at,
                latency,
                path: r.first_path,
                receptions: r.receptions,
                confirmed_at,
                miss_detected_at: miss_at,
            });
        }
        let confirms = self.confirmations(m, confirmed);
        self.status(id, m, (delivered, first, last), confirms);
    }

    /// Records a message's confirmation times; returns (count, first, share-th).
    fn confirmations(&mut self, m: &MessageRecord, mut confirmed: Vec<SimTime>) -> Confirms {
        let n = m.recipients.len() as u32;
        if n == 0 {
            return (0, None, None);
        }
        self.summary.messages_with_recipients += 1;
        confirmed.sort_unstable();
        let first = confirmed.first().copied();
        let k = share_count(self.ctx.confirm_share, n) as usize;
        let share_at = confirmed.get(k - 1).copied();
        if let Some(f) = first {
            self.summary.messages_confirmed_any += 1;
            self.confirm_first
                .record(f.saturating_duration_since(m.created_at));
        }
        if let Some(s) = share_at {
            self.summary.messages_confirmed_share += 1;
            self.confirm_share
                .record(s.saturating_duration_since(m.created_at));
        }
        (confirmed.len() as u32, first, share_at)
    }

    fn status(
        &mut self,
        id: AppMessageId,
        m: &MessageRecord,
        (delivered, first, last): (u32, Option<SimTime>, Option<SimTime>),
        (recipients_confirmed, first_confirmed_at, share_confirmed_at): Confirms,
    ) {
        let n = m.recipients.len() as u32;
        let reach = if delivered == n {
            Reach::All
        } else if delivered == 0 {
            Reach::None
        } else {
            Reach::Some
        };
        let believed_out = min_time(m.sent_at, m.acked_at);
        let false_sent = n > 0 && believed_out.is_some() && delivered == 0;
        let false_acked = m.acked_at.is_some_and(|a| {
            n > 0
                && !m
                    .recipients
                    .iter()
                    .any(|r| r.first_at.get().is_some_and(|t| t <= a))
        });
        let undetected_loss = delivered < n && m.failed_at.is_none();
        let false_failed = m.failed_at.is_some() && n > 0 && delivered == n;
        let time_to_detect_failure = if delivered < n {
            m.failed_at
                .map(|f| f.saturating_duration_since(m.created_at))
        } else {
            None
        };
        let s = &mut self.summary;
        s.messages_believed_sent += u64::from(believed_out.is_some());
        s.messages_acked += u64::from(m.acked_at.is_some());
        s.messages_failed += u64::from(m.failed_at.is_some());
        s.false_sent += u64::from(false_sent);
        s.false_acked += u64::from(false_acked);
        s.undetected_loss += u64::from(undetected_loss);
        s.false_failed += u64::from(false_failed);
        if let Some(d) = time_to_detect_failure {
            self.detect_sum_ns += u128::from(d.as_nanos());
            self.detect_count += 1;
            let max = s.time_to_detect_failure_max.get_or_insert(d);
            *max = (*max).max(d);
        }
        self.statuses.push(MessageStatus {
            message: id,
            sender: m.sender,
            created_at: m.created_at,
            sender_online_at_creation: self.timeline.online_at(m.sender, m.created_at),
            payload_bytes: m.payload_bytes,
            recipients_intended: n,
            recipients_delivered: delivered,
            reach,
            first_delivered_at: first,
            all_delivered_at: (reach == Reach::All && n > 0).then_some(last).flatten(),
            sent_at: m.sent_at,
            acked_at: m.acked_at,
            failed_at: m.failed_at,
            final_status: m.final_status,
            status_changes: m.status_changes,
            false_sent,
            false_acked,
            undetected_loss,
            false_failed,
            time_to_detect_failure,
            recipients_confirmed,
            first_confirmed_at,
            share_confirmed_at,
        });
    }
}

/// A message's confirmations: (recipients confirmed, first, share-th).
type Confirms = (u32, Option<SimTime>, Option<SimTime>);

/// Computes the run's result (see [`Oracle::finish`]).
pub(crate) fn compute(oracle: &Oracle, ctx: RunContext) -> RunResult {
    let (bucket, count) = bucket_layout(ctx.bucket, ctx.end);
    let present: Vec<bool> = ctx.nodes.iter().map(|n| n.present_at_start).collect();
    let timeline = Timeline::new(&present, &ctx.state_log, ctx.end);
    let tl = timeline.summarize(bucket, count);
    let buckets = (0..count)
        .map(|i| {
            let start = SimTime(bucket.as_nanos().saturating_mul(i));
            let end = SimTime(bucket.as_nanos().saturating_mul(i + 1));
            Bucket {
                start,
                end: end.min(ctx.end).max(start),
                ..Bucket::default()
            }
        })
        .collect();
    let mut pass = Pass {
        ctx: &ctx,
        timeline: &timeline,
        bucket,
        buckets,
        latency: DurationHist::new(),
        confirm_first: DurationHist::new(),
        confirm_share: DurationHist::new(),
        miss_detect: DurationHist::new(),
        miss_repair: DurationHist::new(),
        summary: RunSummary::default(),
        deliveries: Vec::new(),
        statuses: Vec::with_capacity(oracle.messages.len()),
        streams: BTreeMap::new(),
        node_app: vec![NodeApp::default(); ctx.nodes.len()],
        detect_sum_ns: 0,
        detect_count: 0,
        heal_last: None,
        heal_complete: true,
    };
    for (id, m) in &oracle.messages {
        pass.message(*id, m);
    }
    for (key, state) in &oracle.streams {
        if let Some(s) = pass.streams.get_mut(key) {
            s.out_of_order = state.out_of_order;
        }
    }
    let mut summary = std::mem::take(&mut pass.summary);
    let streams: Vec<StreamCounters> = pass
        .streams
        .values()
        .map(|s| StreamCounters {
            lost: s.expected - s.received,
            ..*s
        })
        .collect();
    summary.out_of_order = streams.iter().map(|s| s.out_of_order).sum();
    summary.late = streams.iter().map(|s| s.late).sum();
    summary.nodes = ctx.nodes.len() as u32;
    summary.latency_p50 = pass.latency.quantile(0.50);
    summary.latency_p90 = pass.latency.quantile(0.90);
    summary.latency_p99 = pass.latency.quantile(0.99);
    summary.latency_max = pass.latency.max();
    summary.unintended_receptions = oracle.unintended_receptions;
    if pass.detect_count > 0 {
        let mean = pass.detect_sum_ns / u128::from(pass.detect_count);
        summary.time_to_detect_failure_mean = Some(SimDuration(mean as u64));
    }
    summary.overhead_bytes = oracle.overhead_bytes;
    summary.store_queries = oracle.counters.get("store_queries").map_or(0, |c| c.sum);
    summary.miss_detected = oracle.miss_detected;
    summary.confirm_first_p50 = pass.confirm_first.quantile(0.50);
    summary.confirm_first_p99 = pass.confirm_first.quantile(0.99);
    summary.confirm_share_p50 = pass.confirm_share.quantile(0.50);
    summary.confirm_share_p99 = pass.confirm_share.quantile(0.99);
    summary.miss_detect_p50 = pass.miss_detect.quantile(0.50);
    summary.miss_detect_p99 = pass.miss_detect.quantile(0.99);
    summary.miss_repair_p50 = pass.miss_repair.quantile(0.50);
    summary.miss_repair_p99 = pass.miss_repair.quantile(0.99);
    let counter = |name: &str| oracle.counters.get(name).map_or(0, |c| c.sum);
    summary.sds_bloom_bytes = counter("sds_bloom_bytes");
    summary.sds_history_bytes = counter("sds_history_bytes");
    summary.sds_repair_bytes = counter("sds_repair_bytes");
    summary.sds_sync_bytes = counter("sds_sync_bytes");
    summary.sds_sync_messages = counter("sds_sync_messages");
    summary.oracle_anomalies = oracle.anomalies.total();
    if let Some(h) = ctx.heal_at {
        summary.converged = Some(pass.heal_complete);
        summary.convergence_time = pass.heal_last.map(|t| t.saturating_duration_since(h));
    }
    let (traffic, totals) = traffic(&ctx);
    summary.bytes_sent_per_node_mean = totals.0;
    summary.bytes_sent_per_node_max = totals.1;
    summary.bytes_received_per_node_mean = totals.2;
    summary.bytes_received_per_node_max = totals.3;

    let mut timeseries = pass.buckets;
    let (mut cum_i, mut cum_d) = (0, 0);
    for (b, minima) in timeseries.iter_mut().zip(&tl.bucket_minima) {
        cum_i += b.deliveries_intended;
        cum_d += b.deliveries_delivered;
        b.deliveries_intended_cumulative = cum_i;
        b.deliveries_delivered_cumulative = cum_d;
        b.nodes_running_min = minima.0;
        b.nodes_online_min = minima.1;
    }
    let nodes = ctx
        .nodes
        .iter()
        .enumerate()
        .map(|(i, info)| NodeReport {
            node: NodeId(i as u32),
            label: info.label.clone(),
            present_at_start: info.present_at_start,
            stats: info.stats.clone(),
            messages_created: pass.node_app[i].created,
            first_receptions: pass.node_app[i].first_receptions,
            duplicate_receptions: pass.node_app[i].duplicates,
            downtime: tl.downtime.get(i).copied().unwrap_or_default(),
        })
        .collect();
    let latency_histogram = pass
        .latency
        .hist
        .iter_recorded()
        .map(|v| LatencyBucket {
            latency_us: v.value_iterated_to(),
            count: v.count_at_value(),
        })
        .collect();
    let mut result = RunResult {
        settings: RunSettings {
            end: ctx.end,
            heal_at: ctx.heal_at,
            late_after: ctx.late_after,
            bucket,
            classes: class_names(&ctx),
            confirm_share: effective_share(ctx.confirm_share),
            target_interval: ctx.target_interval,
        },
        identity: ctx.identity.clone(),
        summary,
        deliveries: pass.deliveries,
        statuses: pass.statuses,
        streams,
        timeseries,
        nodes,
        traffic,
        metrics: metrics(oracle),
        faults: tl.fault_periods,
        latency_histogram,
        state_log: timeline.into_changes(),
        targets: None,
    };
    if let Some(interval) = ctx.target_interval {
        result.targets = Some(targets::evaluate(&result, interval));
    }
    result
}

/// Class names: the context's, extended with `class<i>` for counters beyond them.
fn class_names(ctx: &RunContext) -> Vec<String> {
    let widest = ctx
        .nodes
        .iter()
        .map(|n| n.stats.bytes_sent.len().max(n.stats.bytes_received.len()))
        .max()
        .unwrap_or(0)
        .max(ctx.classes.len());
    (0..widest)
        .map(|i| {
            ctx.classes
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("class{i}"))
        })
        .collect()
}

/// All-class bytes per node: (mean sent, max sent, mean received, max received).
type NodeTotals = (Option<f64>, u64, Option<f64>, u64);

/// Per-class traffic and the all-class per-node (mean sent, max sent, mean recv, max recv).
fn traffic(ctx: &RunContext) -> (Vec<ClassTraffic>, NodeTotals) {
    let n = ctx.nodes.len() as u64;
    let mean = |total: u64| crate::format::ratio(total, n);
    let at = |v: &Vec<u64>, i: usize| v.get(i).copied().unwrap_or(0);
    let classes = class_names(ctx)
        .into_iter()
        .enumerate()
        .map(|(i, class)| {
            let sent = ctx.nodes.iter().map(|x| at(&x.stats.bytes_sent, i));
            let recv = ctx.nodes.iter().map(|x| at(&x.stats.bytes_received, i));
            let (sent_total, sent_max) =
                sent.fold((0u64, 0u64), |(t, m), v| (t.saturating_add(v), m.max(v)));
            let (recv_total, recv_max) =
                recv.fold((0u64, 0u64), |(t, m), v| (t.saturating_add(v), m.max(v)));
            ClassTraffic {
                class,
                bytes_sent_total: sent_total,
                bytes_received_total: recv_total,
                bytes_sent_per_node_mean: mean(sent_total),
                bytes_sent_per_node_max: sent_max,
                bytes_received_per_node_mean: mean(recv_total),
                bytes_received_per_node_max: recv_max,
            }
        })
        .collect();
    let per_node_sent = ctx.nodes.iter().map(|x| {
        x.stats
            .bytes_sent
            .iter()
            .fold(0u64, |a, b| a.saturating_add(*b))
    });
    let per_node_recv = ctx.nodes.iter().map(|x| {
        x.stats
            .bytes_received
            .iter()
            .fold(0u64, |a, b| a.saturating_add(*b))
    });
    let (st, sm) = per_node_sent.fold((0u64, 0u64), |(t, m), v| (t.saturating_add(v), m.max(v)));
    let (rt, rm) = per_node_recv.fold((0u64, 0u64), |(t, m), v| (t.saturating_add(v), m.max(v)));
    (classes, (mean(st), sm, mean(rt), rm))
}

/// Counters (by name), durations (by name), then the oracle's anomaly counts.
fn metrics(oracle: &Oracle) -> Vec<NamedMetric> {
    let mut out = Vec::new();
    for (name, c) in &oracle.counters {
        out.push(NamedMetric {
            name: name.to_string(),
            kind: MetricKind::Counter,
            count: c.increments,
            sum: Some(c.sum),
            p50: None,
            p99: None,
            max: None,
        });
    }
    for (name, d) in &oracle.durations {
        out.push(NamedMetric {
            name: name.to_string(),
            kind: MetricKind::Duration,
            count: d.count(),
            sum: None,
            p50: d.quantile(0.50),
            p99: d.quantile(0.99),
            max: d.max(),
        });
    }
    let a = oracle.anomalies;
    let oracle_counts = [
        ("oracle.duplicate_confirmations", a.duplicate_confirmations),
        ("oracle.duplicate_creations", a.duplicate_creations),
        ("oracle.foreign_confirmations", a.foreign_confirmations),
        ("oracle.foreign_statuses", a.foreign_statuses),
        (
            "oracle.miss_detections_after_reception",
            oracle.miss_detections_after_reception,
        ),
        (
            "oracle.unintended_confirmations",
            oracle.unintended_confirmations,
        ),
        (
            "oracle.unintended_miss_detections",
            oracle.unintended_miss_detections,
        ),
        ("oracle.unintended_receptions", oracle.unintended_receptions),
        ("oracle.unknown_confirmations", a.unknown_confirmations),
        ("oracle.unknown_miss_detections", a.unknown_miss_detections),
        ("oracle.unknown_receptions", a.unknown_receptions),
        ("oracle.unknown_statuses", a.unknown_statuses),
    ];
    for (name, value) in oracle_counts {
        out.push(NamedMetric {
            name: name.to_string(),
            kind: MetricKind::Oracle,
            count: value,
            sum: Some(value),
            p50: None,
            p99: None,
            max: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_counts() {
        assert_eq!(share_count(0.5, 0), 0);
        assert_eq!(share_count(0.5, 1), 1);
        assert_eq!(share_count(0.5, 3), 2);
        assert_eq!(share_count(0.5, 4), 2);
        assert_eq!(share_count(0.3, 10), 3, "no float round-up");
        assert_eq!(share_count(0.9, 10), 9);
        assert_eq!(share_count(1.0, 7), 7);
        assert_eq!(share_count(2.0, 7), 7);
        assert_eq!(share_count(0.0, 7), 1);
        assert_eq!(share_count(-1.0, 7), 1);
        assert_eq!(share_count(f64::NAN, 7), 1);
        assert_eq!(effective_share(f64::INFINITY), 0.0);
        assert_eq!(effective_share(0.25), 0.25);
    }
}
