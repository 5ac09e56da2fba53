//! The summary table printed after `run` and `sweep`: one column per (scenario, sweep point,
//! variant), metrics as rows, pooled over the selected runs' seeds. Numbers come from each
//! run directory's `runs.csv` and `latency.csv` (so reused runs count like fresh ones);
//! events, wall time and the real-time factor cover the runs executed by this command.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use reports::csv_out::{LATENCY_CSV, RUNS_CSV};
use sim_core::SimDuration;

use super::CliError;
use super::exec::Finished;

/// Groups per block of columns (keeps lines under about 100 characters).
const GROUPS_PER_BLOCK: usize = 4;

/// One run's numbers, from its `runs.csv` row.
#[derive(Debug, Default)]
struct RunNumbers {
    scenario: String,
    variant: String,
    sweep_point: String,
    messages: u64,
    intended: u64,
    delivered: u64,
    within: [Option<f64>; 3],
    believed_sent: u64,
    false_sent: u64,
    failed: u64,
    bytes_sent_per_node: Option<f64>,
    run_end_s: f64,
}

/// Totals of one (scenario, sweep point, variant).
#[derive(Debug, Default)]
struct Group {
    key: (String, String, String),
    runs: usize,
    reused: usize,
    messages: u64,
    intended: u64,
    delivered: u64,
    /// Σ ratio × intended per deadline.
    within: [f64; 3],
    believed_sent: u64,
    false_sent: u64,
    failed: u64,
    bytes_sum: f64,
    bytes_n: u32,
    run_end_s_max: f64,
    /// Pooled latency histogram: microseconds → count.
    latency: BTreeMap<u64, u64>,
    events: u64,
    fresh_simulated_s: f64,
    fresh_wall_s: f64,
}

fn read_error(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("{}: {e}", path.display()))
}

fn reader(path: &Path) -> Result<csv::Reader<std::fs::File>, CliError> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| read_error(path, e))
}

fn read_run(dir: &Path) -> Result<RunNumbers, CliError> {
    let path = dir.join(RUNS_CSV);
    let mut rdr = reader(&path)?;
    let headers = rdr.headers().map_err(|e| read_error(&path, e))?.clone();
    let mut record = csv::StringRecord::new();
    if !rdr
        .read_record(&mut record)
        .map_err(|e| read_error(&path, e))?
    {
        return Err(read_error(&path, "no row"));
    }
    let get = |name: &str| -> &str {
        headers
            .iter()
            .position(|h| h == name)
            .and_then(|i| record.get(i))
            .unwrap_or("")
    };
    let count = |name: &str| get(name).parse::<u64>().unwrap_or(0);
    let float = |name: &str| get(name).parse::<f64>().ok().filter(|x| x.is_finite());
    Ok(RunNumbers {
        scenario: get("scenario").to_string(),
        variant: get("variant").to_string(),
        sweep_point: get("sweep_point").to_string(),
        messages: count("messages_created"),
        intended: count("deliveries_intended"),
        delivered: count("deliveries_delivered"),
        within: [
            float("delivery_ratio_1s"),
            float("delivery_ratio_10s"),
            float("delivery_ratio_60s"),
        ],
        believed_sent: count("messages_believed_sent"),
        false_sent: count("messages_false_sent"),
        failed: count("messages_failed"),
        bytes_sent_per_node: float("bytes_sent_per_node_mean"),
        run_end_s: float("run_end_s").unwrap_or(0.0),
    })
}

fn read_latency(dir: &Path, into: &mut BTreeMap<u64, u64>) -> Result<(), CliError> {
    let path = dir.join(LATENCY_CSV);
    if !path.is_file() {
        return Ok(());
    }
    let mut rdr = reader(&path)?;
    let headers = rdr.headers().map_err(|e| read_error(&path, e))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(ms), Some(count)) = (col("latency_ms"), col("count")) else {
        return Ok(());
    };
    for record in rdr.records() {
        let record = record.map_err(|e| read_error(&path, e))?;
        let value = record.get(ms).and_then(|v| v.parse::<f64>().ok());
        let n = record.get(count).and_then(|v| v.parse::<u64>().ok());
        if let (Some(value), Some(n)) = (value, n)
            && value.is_finite()
            && value >= 0.0
        {
            *into.entry((value * 1000.0).round() as u64).or_default() += n;
        }
    }
    Ok(())
}

/// The value at quantile `q` of a histogram (the first bucket whose cumulative count reaches
/// `q` of the total), in microseconds.
fn quantile(hist: &BTreeMap<u64, u64>, q: f64) -> Option<u64> {
    let total: u64 = hist.values().sum();
    if total == 0 {
        return None;
    }
    let target = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (&value, &n) in hist {
        seen += n;
        if seen >= target {
            return Some(value);
        }
    }
    hist.keys().next_back().copied()
}

/// Reads the finished runs and renders the table.
pub(crate) fn render(finished: &[Finished]) -> Result<String, CliError> {
    let mut groups: Vec<Group> = Vec::new();
    for run in finished {
        let n = read_run(&run.dir)?;
        let key = (n.scenario.clone(), n.sweep_point.clone(), n.variant.clone());
        let g = match groups.iter().position(|g| g.key == key) {
            Some(i) => &mut groups[i],
            None => {
                groups.push(Group {
                    key,
                    ..Group::default()
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        g.runs += 1;
        g.messages += n.messages;
        g.intended += n.intended;
        g.delivered += n.delivered;
        for (sum, r) in g.within.iter_mut().zip(n.within) {
            *sum += r.unwrap_or(0.0) * n.intended as f64;
        }
        g.believed_sent += n.believed_sent;
        g.false_sent += n.false_sent;
        g.failed += n.failed;
        if let Some(b) = n.bytes_sent_per_node {
            g.bytes_sum += b;
            g.bytes_n += 1;
        }
        g.run_end_s_max = g.run_end_s_max.max(n.run_end_s);
        read_latency(&run.dir, &mut g.latency)?;
        match run.fresh {
            Some(f) => {
                g.events += f.events;
                g.fresh_simulated_s += f.simulated.as_secs_f64();
                g.fresh_wall_s += f.wall.as_secs_f64();
            }
            None => g.reused += 1,
        }
    }
    Ok(table(&groups))
}

fn table(groups: &[Group]) -> String {
    let any_point = groups.iter().any(|g| !g.key.1.is_empty());
    let mut labels: Vec<&str> = vec!["scenario", "variant"];
    if any_point {
        labels.push("sweep point");
    }
    labels.extend([
        "runs",
        "messages created",
        "delivery ratio",
        "  within 1 s",
        "  within 10 s",
        "  within 60 s",
        "latency p50",
        "latency p99",
        "believed sent",
        "  false sent",
        "failed",
        "bytes sent per node",
        "events",
        "simulated time",
        "wall time",
        "real-time factor",
    ]);
    let columns: Vec<Vec<String>> = groups.iter().map(|g| column(g, any_point)).collect();
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for block in columns.chunks(GROUPS_PER_BLOCK) {
        if !out.is_empty() {
            out.push('\n');
        }
        let widths: Vec<usize> = block
            .iter()
            .map(|c| c.iter().map(|v| v.chars().count()).max().unwrap_or(0) + 2)
            .collect();
        let total: usize = label_width + widths.iter().sum::<usize>();
        for (i, label) in labels.iter().enumerate() {
            let mut line = pad(label, label_width);
            for (c, w) in block.iter().zip(&widths) {
                line.push_str(&pad(&c[i], *w));
            }
            let _ = writeln!(out, "{}", line.trim_end());
            if i == if any_point { 2 } else { 1 } {
                let _ = writeln!(out, "{}", "-".repeat(total.saturating_sub(2)));
            }
        }
    }
    let reused: usize = groups.iter().map(|g| g.reused).sum();
    if reused > 0 {
        let _ = writeln!(
            out,
            "\n{reused} run(s) were complete already and reused: events, wall time and the \
             real-time factor cover only the runs executed now."
        );
    }
    out
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(n)))
}

fn column(g: &Group, any_point: bool) -> Vec<String> {
    let ratio = |num: f64| {
        if g.intended == 0 {
            "n/a".to_string()
        } else {
            percent(num / g.intended as f64, 2)
        }
    };
    let latency = |q: f64| {
        quantile(&g.latency, q).map_or_else(|| "n/a".to_string(), |us| ms(us as f64 / 1000.0))
    };
    let fresh = g.runs - g.reused;
    let mut col = vec![g.key.0.clone(), g.key.2.clone()];
    if any_point {
        col.push(if g.key.1.is_empty() {
            "-".to_string()
        } else {
            g.key.1.clone()
        });
    }
    let simulated = SimDuration((g.run_end_s_max * 1e9).round() as u64);
    col.extend([
        if g.reused > 0 {
            format!("{} ({} reused)", g.runs, g.reused)
        } else {
            g.runs.to_string()
        },
        g.messages.to_string(),
        ratio(g.delivered as f64),
        ratio(g.within[0]),
        ratio(g.within[1]),
        ratio(g.within[2]),
        latency(0.5),
        latency(0.99),
        g.believed_sent.to_string(),
        g.false_sent.to_string(),
        g.failed.to_string(),
        if g.bytes_n == 0 {
            "n/a".to_string()
        } else {
            bytes(g.bytes_sum / f64::from(g.bytes_n))
        },
        if fresh == 0 {
            "-".to_string()
        } else {
            human_count(g.events as f64)
        },
        if g.runs > 1 {
            format!("{} × {simulated}", g.runs)
        } else {
            simulated.to_string()
        },
        if fresh == 0 {
            "-".to_string()
        } else {
            wall(g.fresh_wall_s)
        },
        if fresh == 0 || g.fresh_wall_s <= 0.0 {
            "-".to_string()
        } else {
            format!("{:.0}×", g.fresh_simulated_s / g.fresh_wall_s)
        },
    ]);
    col
}

/// `97.31%` with `decimals` decimals.
pub(crate) fn percent(ratio: f64, decimals: usize) -> String {
    format!("{:.*}%", decimals, ratio * 100.0)
}

/// `123.4 ms`, `2.35 s`.
fn ms(value: f64) -> String {
    if value >= 10_000.0 {
        format!("{:.2} s", value / 1000.0)
    } else {
        format!("{value:.1} ms")
    }
}

/// `1.23 MiB`.
fn bytes(value: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = value;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.2} {}", UNITS[unit])
    }
}

/// `950`, `12.3k`, `1.23M`, `4.56G`.
pub(crate) fn human_count(value: f64) -> String {
    if value < 1e3 {
        format!("{value:.0}")
    } else if value < 1e6 {
        format!("{:.1}k", value / 1e3)
    } else if value < 1e9 {
        format!("{:.2}M", value / 1e6)
    } else {
        format!("{:.2}G", value / 1e9)
    }
}

/// `0.84 s`, `12.3 s`, `4m 05s`, `1h 02m`.
pub(crate) fn wall(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.2} s")
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else if seconds < 3600.0 {
        let s = seconds.round() as u64;
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        let m = (seconds / 60.0).round() as u64;
        format!("{}h {:02}m", m / 60, m % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_pooled_histogram() {
        let hist: BTreeMap<u64, u64> = [(1000, 50), (2000, 49), (9000, 1)].into_iter().collect();
        assert_eq!(quantile(&hist, 0.5), Some(1000));
        assert_eq!(quantile(&hist, 0.51), Some(2000));
        assert_eq!(quantile(&hist, 0.99), Some(2000));
        assert_eq!(quantile(&hist, 1.0), Some(9000));
        assert_eq!(quantile(&BTreeMap::new(), 0.5), None);
    }

    #[test]
    fn number_formats() {
        assert_eq!(percent(0.97314, 2), "97.31%");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.50 KiB");
        assert_eq!(human_count(1_234_567.0), "1.23M");
        assert_eq!(human_count(999.0), "999");
        assert_eq!(wall(4.123), "4.12 s");
        assert_eq!(wall(245.0), "4m 05s");
        assert_eq!(ms(123.46), "123.5 ms");
    }
}
