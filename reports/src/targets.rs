//! The SDS targets of the roadmap (reliability.md §2.8, from PM FURPS `application/sds.md`):
//! "with a message in the group at least every S (≤ 5 s): the sender knows ≥ 1 recipient got
//! it within S; a receiver detects 90 % of missed messages within 3·S; eventual consistency
//! within 6·S". This module turns them into measurable, per-run checks over the ground truth
//! of a [`RunResult`], and aggregates them per variant for tables.
//!
//! S is the channel's message interval, given by the caller ([`evaluate`], or
//! [`RunContext::target_interval`](crate::RunContext::target_interval) to have the targets in
//! `runs.csv`). "Running throughout [a, b]" means the node's process was `Running` at every
//! instant of the interval (its network may be down), by the run's state log; a window
//! [a, b] counts only when b ≤ the run's end. With c the creation time of a message:
//!
//! - **T1 sender learns** ([`Target::SenderLearns`]): over messages with ≥ 1 intended
//!   recipient whose sender was running throughout [c, c+S] and with at least one intended
//!   recipient running throughout [c, c+S], the share whose first `Confirmed` (from any
//!   recipient) came at or before c+S. Holds when the share is ≥ [`SENDER_LEARNS_SHARE`]
//!   (90 %: the PM target has no share; 90 % is this simulator's reading of "the sender
//!   knows").
//! - **T2 miss detection** ([`Target::MissDetect`]): over (message, intended recipient)
//!   pairs, recipient ≠ sender, with sender and recipient running throughout [c, c+6S]
//!   ("eligible pairs"), a **miss** is a pair whose recipient did not first receive the
//!   message over a normal transport path ([`NORMAL_PATHS`]: relay, filter push, direct) at
//!   or before c+S. A miss is **handled in time** when the recipient reported `MissDetected`
//!   at or before c+3S, or received the message (any path) at or before c+3S (then there is
//!   nothing left to detect). The share is handled / misses; holds when ≥
//!   [`MISS_DETECT_SHARE`] (90 %).
//! - **T3 eventual consistency** ([`Target::Consistency`]): over the eligible pairs of T2,
//!   the share received (any path) at or before c+6S; holds when ≥ [`CONSISTENCY_SHARE`]
//!   (99 %: the PM target says "eventual consistency", i.e. everything; 99 % leaves room for
//!   a message created in the last instants of a fault).
//!
//! A target without samples (no eligible message, no miss) is not judged: its share and
//! verdict are `None` (empty cells). Requiring the *sender* to run through the window is a
//! choice: a message whose sender crashed or slept right after creating it may never have
//! left, which no receiver-side mechanism can detect or repair within the window.
//!
//! Per variant, [`variant_rows`] averages `runs.csv` rows over seeds (means of the per-run
//! values, and how many runs held each target) and sets the bytes sent per message against a
//! baseline variant (relay only: `none`); [`metrics_markdown`] and [`targets_markdown`]
//! render them. [`target_rows`] gives the per-run verdicts as a tidy table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sim_core::{DeliveryPath, SimDuration, SimTime};

use crate::read::RunRecord;
use crate::result::RunResult;
use crate::timeline::Timeline;

/// T1 holds when at least this share of eligible messages is confirmed within S.
pub const SENDER_LEARNS_SHARE: f64 = 0.90;
/// T2 holds when at least this share of misses is handled within [`MISS_DETECT_WITHIN`]·S.
pub const MISS_DETECT_SHARE: f64 = 0.90;
/// T3 holds when at least this share of eligible pairs is received within
/// [`CONSISTENCY_WITHIN`]·S.
pub const CONSISTENCY_SHARE: f64 = 0.99;
/// T2's deadline, in multiples of S.
pub const MISS_DETECT_WITHIN: u64 = 3;
/// T3's deadline (and the window recipients must be running through for T2 and T3), in
/// multiples of S.
pub const CONSISTENCY_WITHIN: u64 = 6;
/// Paths that count as the normal transport for T2: a first reception over any other path
/// (store fetch, repair, retransmission) means the transport missed the message.
pub const NORMAL_PATHS: [DeliveryPath; 3] = [
    DeliveryPath::Relay,
    DeliveryPath::FilterPush,
    DeliveryPath::Direct,
];

/// Slack for float comparisons of shares.
const EPSILON: f64 = 1e-9;

/// One of the three SDS targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// T1: the sender learns that ≥ 1 recipient got the message within S.
    SenderLearns,
    /// T2: receivers detect 90 % of missed messages within 3·S.
    MissDetect,
    /// T3: eventual consistency within 6·S.
    Consistency,
}

impl Target {
    /// All targets, in order.
    pub const ALL: [Target; 3] = [
        Target::SenderLearns,
        Target::MissDetect,
        Target::Consistency,
    ];

    /// Stable snake_case name (the middle of the `runs.csv` column names).
    pub fn name(self) -> &'static str {
        match self {
            Target::SenderLearns => "sender_learns",
            Target::MissDetect => "miss_detect",
            Target::Consistency => "consistency",
        }
    }

    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Target::SenderLearns => "T1 sender learns ≤ S",
            Target::MissDetect => "T2 misses detected ≤ 3S",
            Target::Consistency => "T3 consistent ≤ 6S",
        }
    }

    /// The share at or above which the target holds.
    pub fn threshold(self) -> f64 {
        match self {
            Target::SenderLearns => SENDER_LEARNS_SHARE,
            Target::MissDetect => MISS_DETECT_SHARE,
            Target::Consistency => CONSISTENCY_SHARE,
        }
    }
}

/// One target measured on one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetOutcome {
    /// Which target.
    pub target: Target,
    /// Samples judged: eligible messages (T1), misses (T2), eligible pairs (T3).
    pub samples: u64,
    /// Samples that met the deadline.
    pub met: u64,
}

impl TargetOutcome {
    /// met / samples; `None` without samples.
    pub fn share(&self) -> Option<f64> {
        crate::format::ratio(self.met, self.samples)
    }

    /// Whether the share reaches the target's threshold; `None` without samples.
    pub fn holds(&self) -> Option<bool> {
        self.share().map(|s| s + EPSILON >= self.target.threshold())
    }
}

/// The three targets of one run at one interval S.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Targets {
    /// The message interval S.
    pub interval: SimDuration,
    /// T1.
    pub sender_learns: TargetOutcome,
    /// T2.
    pub miss_detect: TargetOutcome,
    /// T3.
    pub consistency: TargetOutcome,
}

impl Targets {
    /// The outcomes in [`Target::ALL`] order.
    pub fn outcomes(&self) -> [TargetOutcome; 3] {
        [self.sender_learns, self.miss_detect, self.consistency]
    }
}

fn at_or_before(t: Option<SimTime>, deadline: SimTime) -> bool {
    t.is_some_and(|t| t <= deadline)
}

/// Evaluates the targets on a run's ground truth with message interval `interval` (S). See
/// the module documentation for the exact definitions. Pure: the same result and interval
/// give the same outcome.
pub fn evaluate(result: &RunResult, interval: SimDuration) -> Targets {
    let present: Vec<bool> = result.nodes.iter().map(|n| n.present_at_start).collect();
    let end = result.settings.end;
    let timeline = Timeline::new(&present, &result.state_log, end);
    let running =
        |node, from: SimTime, to: SimTime| to <= end && timeline.running_throughout(node, from, to);
    let mut t1 = TargetOutcome {
        target: Target::SenderLearns,
        samples: 0,
        met: 0,
    };
    let mut t2 = TargetOutcome {
        target: Target::MissDetect,
        ..t1
    };
    let mut t3 = TargetOutcome {
        target: Target::Consistency,
        ..t1
    };
    let mut deliveries = result.deliveries.as_slice();
    for st in &result.statuses {
        let n = deliveries
            .iter()
            .take_while(|d| d.message == st.message)
            .count();
        let (mine, rest) = deliveries.split_at(n);
        deliveries = rest;
        let c = st.created_at;
        let within = |k: u64| c.saturating_add(interval.saturating_mul(k));
        let (s1, s3, s6) = (
            within(1),
            within(MISS_DETECT_WITHIN),
            within(CONSISTENCY_WITHIN),
        );
        if !mine.is_empty()
            && running(st.sender, c, s1)
            && mine.iter().any(|d| running(d.recipient, c, s1))
        {
            t1.samples += 1;
            t1.met += u64::from(at_or_before(st.first_confirmed_at, s1));
        }
        if !running(st.sender, c, s6) {
            continue;
        }
        for d in mine {
            if d.recipient == st.sender || !running(d.recipient, c, s6) {
                continue;
            }
            t3.samples += 1;
            t3.met += u64::from(at_or_before(d.first_received_at, s6));
            let normal = d.path.is_some_and(|p| NORMAL_PATHS.contains(&p))
                && at_or_before(d.first_received_at, s1);
            if !normal {
                t2.samples += 1;
                let handled =
                    at_or_before(d.miss_detected_at, s3) || at_or_before(d.first_received_at, s3);
                t2.met += u64::from(handled);
            }
        }
    }
    Targets {
        interval,
        sender_learns: t1,
        miss_detect: t2,
        consistency: t3,
    }
}

/// One target of one run, from a `runs.csv` row (a tidy table: one row per run × target).
#[derive(Clone, Debug, PartialEq)]
pub struct TargetRow {
    /// Scenario.
    pub scenario: String,
    /// Variant.
    pub variant: String,
    /// Sweep point label (the parameters).
    pub sweep_point: String,
    /// Seed.
    pub seed: u64,
    /// Which target.
    pub target: Target,
    /// S in milliseconds (`None`: the run was not evaluated).
    pub interval_ms: Option<f64>,
    /// Samples judged.
    pub samples: Option<u64>,
    /// Share that met the deadline.
    pub share: Option<f64>,
    /// Whether the target held.
    pub holds: Option<bool>,
}

/// A target's (samples, share, holds) columns of a `runs.csv` row.
fn record_target(r: &RunRecord, t: Target) -> (Option<u64>, Option<f64>, Option<bool>) {
    match t {
        Target::SenderLearns => (
            r.target_sender_learns_messages,
            r.target_sender_learns_share,
            r.target_sender_learns_holds,
        ),
        Target::MissDetect => (
            r.target_miss_detect_misses,
            r.target_miss_detect_share,
            r.target_miss_detect_holds,
        ),
        Target::Consistency => (
            r.target_consistency_pairs,
            r.target_consistency_share,
            r.target_consistency_holds,
        ),
    }
}

/// The per-run verdicts of `runs.csv` rows: three rows per run, in input order, then
/// [`Target::ALL`] order. Runs written without targets give rows with empty values.
pub fn target_rows(records: &[RunRecord]) -> Vec<TargetRow> {
    let mut out = Vec::with_capacity(records.len() * 3);
    for r in records {
        for t in Target::ALL {
            let (samples, share, holds) = record_target(r, t);
            out.push(TargetRow {
                scenario: r.scenario.clone(),
                variant: r.variant.clone(),
                sweep_point: r.sweep_point.clone(),
                seed: r.seed,
                target: t,
                interval_ms: r.target_interval_ms,
                samples,
                share,
                holds,
            });
        }
    }
    out
}

/// One target over the seeds of a (scenario, variant, sweep point).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetSummary {
    /// Which target.
    pub target: Target,
    /// Mean of the per-run shares (runs with a share).
    pub share_mean: Option<f64>,
    /// Runs with a verdict.
    pub runs_judged: usize,
    /// Runs where it held.
    pub runs_holding: usize,
}

impl TargetSummary {
    /// Whether it held in every judged run (`None` when no run was judged).
    pub fn holds_in_all(&self) -> Option<bool> {
        (self.runs_judged > 0).then_some(self.runs_holding == self.runs_judged)
    }
}

/// The per-variant report of one (scenario, variant, sweep point): means over its seeds of
/// the per-run values (so `confirm_first_ms_p50` is the mean of the runs' medians).
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub struct VariantRow {
    pub scenario: String,
    pub variant: String,
    pub sweep_point: String,
    /// Runs (seeds) averaged.
    pub runs: usize,
    pub delivery_ratio: Option<f64>,
    pub confirmed_any_ratio: Option<f64>,
    pub confirm_first_ms_p50: Option<f64>,
    pub confirm_first_ms_p99: Option<f64>,
    /// The runs' `confirm_share` (mean; one value when all runs used the same N).
    pub confirm_share: Option<f64>,
    pub confirmed_pct_ratio: Option<f64>,
    pub confirm_pct_ms_p50: Option<f64>,
    pub confirm_pct_ms_p99: Option<f64>,
    pub misses_detected: Option<f64>,
    pub misses_repaired: Option<f64>,
    pub miss_detect_ms_p50: Option<f64>,
    pub miss_detect_ms_p99: Option<f64>,
    pub miss_repair_ms_p50: Option<f64>,
    pub miss_repair_ms_p99: Option<f64>,
    pub sds_overhead_bytes_per_message: Option<f64>,
    pub sds_bloom_bytes_per_message: Option<f64>,
    pub sds_history_bytes_per_message: Option<f64>,
    pub sds_repair_bytes_per_message: Option<f64>,
    pub sds_sync_bytes_per_message: Option<f64>,
    pub sds_sync_messages_per_message: Option<f64>,
    /// Bytes all nodes handed to the network (all classes) per message created:
    /// `bytes_sent_per_node_mean × nodes / messages_created`.
    pub bytes_sent_per_message: Option<f64>,
    /// `bytes_sent_per_message` minus the baseline variant's at the same scenario and sweep
    /// point (the bandwidth overhead relative to relay only); `None` without a baseline.
    pub bytes_sent_per_message_over_baseline: Option<f64>,
    /// `bytes_sent_per_message` / the baseline's.
    pub bytes_sent_per_message_vs_baseline_ratio: Option<f64>,
    /// S in milliseconds (mean; one value when all runs used the same S).
    pub target_interval_ms: Option<f64>,
    /// The targets in [`Target::ALL`] order.
    pub targets: [TargetSummary; 3],
}

/// Mean of the finite present values.
fn mean<I: IntoIterator<Item = Option<f64>>>(values: I) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

fn bytes_per_message(r: &RunRecord) -> Option<f64> {
    let (bytes, nodes, messages) = (r.bytes_sent_per_node_mean?, r.nodes?, r.messages_created?);
    (messages > 0).then(|| bytes * f64::from(nodes) / messages as f64)
}

/// Per (scenario, variant, sweep point), sorted by that key: means over seeds and target
/// verdict counts. `baseline_variant` (usually `none`, relay only) is the variant whose
/// bytes sent per message the others are set against at the same scenario and sweep point.
pub fn variant_rows(records: &[RunRecord], baseline_variant: &str) -> Vec<VariantRow> {
    let mut groups: BTreeMap<(&str, &str, &str), Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        groups
            .entry((&r.scenario, &r.variant, &r.sweep_point))
            .or_default()
            .push(r);
    }
    let baseline: BTreeMap<(&str, &str), Option<f64>> = groups
        .iter()
        .filter(|((_, v, _), _)| *v == baseline_variant)
        .map(|((s, _, p), rs)| ((*s, *p), mean(rs.iter().map(|r| bytes_per_message(r)))))
        .collect();
    groups
        .iter()
        .map(|(&(scenario, variant, sweep_point), rs)| {
            let m = |f: &dyn Fn(&RunRecord) -> Option<f64>| mean(rs.iter().map(|r| f(r)));
            let bytes = m(&bytes_per_message);
            let base = baseline.get(&(scenario, sweep_point)).copied().flatten();
            let targets = Target::ALL.map(|t| {
                let verdicts = rs.iter().map(|r| record_target(r, t));
                TargetSummary {
                    target: t,
                    share_mean: mean(verdicts.clone().map(|v| v.1)),
                    runs_judged: verdicts.clone().filter(|v| v.2.is_some()).count(),
                    runs_holding: verdicts.filter(|v| v.2 == Some(true)).count(),
                }
            });
            let count = |x: Option<u64>| x.map(|v| v as f64);
            VariantRow {
                scenario: scenario.to_string(),
                variant: variant.to_string(),
                sweep_point: sweep_point.to_string(),
                runs: rs.len(),
                delivery_ratio: m(&|r| r.delivery_ratio),
                confirmed_any_ratio: m(&|r| r.confirmed_any_ratio),
                confirm_first_ms_p50: m(&|r| r.confirm_first_ms_p50),
                confirm_first_ms_p99: m(&|r| r.confirm_first_ms_p99),
                confirm_share: m(&|r| r.confirm_share),
                confirmed_pct_ratio: m(&|r| r.confirmed_pct_ratio),
                confirm_pct_ms_p50: m(&|r| r.confirm_pct_ms_p50),
                confirm_pct_ms_p99: m(&|r| r.confirm_pct_ms_p99),
                misses_detected: m(&|r| count(r.misses_detected)),
                misses_repaired: m(&|r| count(r.misses_repaired)),
                miss_detect_ms_p50: m(&|r| r.miss_detect_ms_p50),
                miss_detect_ms_p99: m(&|r| r.miss_detect_ms_p99),
                miss_repair_ms_p50: m(&|r| r.miss_repair_ms_p50),
                miss_repair_ms_p99: m(&|r| r.miss_repair_ms_p99),
                sds_overhead_bytes_per_message: m(&|r| r.sds_overhead_bytes_per_message),
                sds_bloom_bytes_per_message: m(&|r| r.sds_bloom_bytes_per_message),
                sds_history_bytes_per_message: m(&|r| r.sds_history_bytes_per_message),
                sds_repair_bytes_per_message: m(&|r| r.sds_repair_bytes_per_message),
                sds_sync_bytes_per_message: m(&|r| r.sds_sync_bytes_per_message),
                sds_sync_messages_per_message: m(&|r| r.sds_sync_messages_per_message),
                bytes_sent_per_message: bytes,
                bytes_sent_per_message_over_baseline: bytes.zip(base).map(|(b, n)| b - n),
                bytes_sent_per_message_vs_baseline_ratio: bytes
                    .zip(base)
                    .and_then(|(b, n)| (n > 0.0).then(|| b / n)),
                target_interval_ms: m(&|r| r.target_interval_ms),
                targets,
            }
        })
        .collect()
}

/// A value with `decimals` decimals, or `–`.
fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.decimals$}"))
}

/// `p50 / p99` in milliseconds.
fn pair_ms(p50: Option<f64>, p99: Option<f64>) -> String {
    if p50.is_none() && p99.is_none() {
        return "–".to_string();
    }
    format!("{} / {}", num(p50, 0), num(p99, 0))
}

/// Escapes a cell for a markdown table.
fn cell(text: &str) -> String {
    if text.is_empty() {
        "–".to_string()
    } else {
        text.replace('|', "\\|")
    }
}

fn markdown(header: &[&str], right_from: usize, rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i >= right_from { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", align.join("|"));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out
}

/// The variant metrics as a markdown table: delivery, confirmations, misses, overhead.
pub fn metrics_markdown(rows: &[VariantRow]) -> String {
    let header = [
        "scenario",
        "variant",
        "parameters",
        "runs",
        "delivery ratio",
        "≥1 confirmed",
        "first confirm ms p50 / p99",
        "≥N % confirmed (N)",
        "N % confirm ms p50 / p99",
        "misses detected / repaired",
        "detect ms p50 / p99",
        "repair ms p50 / p99",
        "SDS bytes/msg (bloom, history, repair, sync)",
        "sync msgs/msg",
        "bytes sent/msg",
        "over relay only",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                cell(&r.scenario),
                cell(&r.variant),
                cell(&r.sweep_point),
                r.runs.to_string(),
                num(r.delivery_ratio, 4),
                num(r.confirmed_any_ratio, 4),
                pair_ms(r.confirm_first_ms_p50, r.confirm_first_ms_p99),
                match r.confirmed_pct_ratio {
                    None => "–".to_string(),
                    Some(v) => format!("{v:.4} ({})", num(r.confirm_share, 2)),
                },
                pair_ms(r.confirm_pct_ms_p50, r.confirm_pct_ms_p99),
                format!(
                    "{} / {}",
                    num(r.misses_detected, 1),
                    num(r.misses_repaired, 1)
                ),
                pair_ms(r.miss_detect_ms_p50, r.miss_detect_ms_p99),
                pair_ms(r.miss_repair_ms_p50, r.miss_repair_ms_p99),
                match r.sds_overhead_bytes_per_message {
                    None => "–".to_string(),
                    Some(v) => format!(
                        "{v:.0} ({}, {}, {}, {})",
                        num(r.sds_bloom_bytes_per_message, 0),
                        num(r.sds_history_bytes_per_message, 0),
                        num(r.sds_repair_bytes_per_message, 0),
                        num(r.sds_sync_bytes_per_message, 0)
                    ),
                },
                num(r.sds_sync_messages_per_message, 3),
                num(r.bytes_sent_per_message, 0),
                num(r.bytes_sent_per_message_over_baseline, 0),
            ]
        })
        .collect();
    markdown(&header, 3, &body)
}

/// One target's cell: mean share, then how many runs held (`✓` all, `✗` none held).
fn target_cell(t: &TargetSummary) -> String {
    match t.holds_in_all() {
        None => "–".to_string(),
        Some(all) => {
            let mark = if all {
                "✓"
            } else if t.runs_holding == 0 {
                "✗"
            } else {
                "~"
            };
            format!(
                "{} {mark} {}/{}",
                num(t.share_mean, 3),
                t.runs_holding,
                t.runs_judged
            )
        }
    }
}

/// The targets per variant as a markdown table: mean share, a mark (`✓` held in every run,
/// `~` in some, `✗` in none) and runs holding / runs judged; `–` when not judged.
pub fn targets_markdown(rows: &[VariantRow]) -> String {
    let mut header = vec!["scenario", "variant", "parameters", "runs", "S ms"];
    header.extend(Target::ALL.map(Target::label));
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut line = vec![
                cell(&r.scenario),
                cell(&r.variant),
                cell(&r.sweep_point),
                r.runs.to_string(),
                num(r.target_interval_ms, 0),
            ];
            line.extend(r.targets.iter().map(target_cell));
            line
        })
        .collect();
    markdown(&header, 3, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(target: Target, samples: u64, met: u64) -> TargetOutcome {
        TargetOutcome {
            target,
            samples,
            met,
        }
    }

    #[test]
    fn thresholds_are_inclusive_and_empty_is_unjudged() {
        assert_eq!(outcome(Target::SenderLearns, 10, 9).holds(), Some(true));
        assert_eq!(outcome(Target::SenderLearns, 10, 8).holds(), Some(false));
        assert_eq!(outcome(Target::Consistency, 100, 99).holds(), Some(true));
        assert_eq!(outcome(Target::Consistency, 1000, 989).holds(), Some(false));
        assert_eq!(outcome(Target::MissDetect, 0, 0).holds(), None);
        assert_eq!(outcome(Target::MissDetect, 0, 0).share(), None);
    }

    #[test]
    fn markdown_escapes_and_marks() {
        let t = |runs_holding, runs_judged| TargetSummary {
            target: Target::MissDetect,
            share_mean: Some(0.9),
            runs_judged,
            runs_holding,
        };
        assert_eq!(target_cell(&t(2, 2)), "0.900 ✓ 2/2");
        assert_eq!(target_cell(&t(1, 2)), "0.900 ~ 1/2");
        assert_eq!(target_cell(&t(0, 2)), "0.900 ✗ 0/2");
        assert_eq!(target_cell(&t(0, 0)), "–");
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell(""), "–");
    }
}
