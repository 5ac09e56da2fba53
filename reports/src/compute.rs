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
        for r in &m.recipients {
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
            let latency = r
                .first_at
                .map(|t| t.saturating_duration_since(m.created_at));
            if let (Some(at), Some(lat)) = (r.first_at, latency) {
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
                first_received_at: r.first_at,
                latency,
                path: r.first_path,
                receptions: r.receptions,
            });
        }
        self.status(id, m, delivered, first, last);
    }

    fn status(
        &mut self,
        id: AppMessageId,
        m: &MessageRecord,
        delivered: u32,
        first: Option<SimTime>,
        last: Option<SimTime>,
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
                    .any(|r| r.first_at.is_some_and(|t| t <= a))
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
        });
    }
}

/// Computes the run's result (see [`Oracle::finish`]).
pub(crate) fn compute(oracle: &Oracle, ctx: RunContext) -> RunResult {
    let (bucket, count) = bucket_layout(ctx.bucket, ctx.end);
    let timeline = Timeline::new(&ctx.nodes, &ctx.state_log, ctx.end);
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
    RunResult {
        settings: RunSettings {
            end: ctx.end,
            heal_at: ctx.heal_at,
            late_after: ctx.late_after,
            bucket,
            classes: class_names(&ctx),
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
    }
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
        ("oracle.duplicate_creations", a.duplicate_creations),
        ("oracle.foreign_statuses", a.foreign_statuses),
        ("oracle.unintended_receptions", oracle.unintended_receptions),
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
