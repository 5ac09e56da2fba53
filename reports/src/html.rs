//! The HTML report of a results directory: reads the merged CSV files, draws the plots into
//! `plots/*.svg` and writes `index.html` with the summary table and the plots.
//!
//! Plots, each at most [`MAX_PLOTS_PER_KIND`] per kind (the page says when some were left out):
//! - delivery ratio over time per (scenario, sweep point): one line per variant, from the
//!   lowest seed's `timeseries.csv` rows, that run's fault periods shaded (variants share the
//!   seed's fault schedule);
//! - latency CDF per (scenario, sweep point): one line per variant, all seeds pooled from
//!   `latency.csv`;
//! - delivery ratio per variant per (scenario, sweep point): mean bar, one point per seed;
//! - per scenario with one sweep axis: mean delivery ratio against the axis, one line per
//!   variant; with two axes: a heatmap per variant.
//!
//! Only `runs.csv` is required; plots whose file is missing are skipped. Everything is read
//! as a stream and aggregated into bounded maps, and the output is deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::atomic::{ensure_dir, write_bytes_atomic};
use crate::csv_out::{
    FAULTS_CSV, LATENCY_CSV, MANIFEST_JSON, RUNS_CSV, ResultsManifest, TIMESERIES_CSV,
};
use crate::error::ReportError;
use crate::format::{fixed6, html_escape};
use crate::plots::{self, Bar, HeatCell, Series};
use crate::read::{
    FaultRecord, LatencyRecord, RunRecord, TimeseriesRecord, for_each_row, read_runs_csv,
};

/// Most plots of one kind in a report.
pub const MAX_PLOTS_PER_KIND: usize = 50;

/// What [`write_report`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSummary {
    /// The `index.html` path.
    pub index: PathBuf,
    /// Every SVG written, in page order.
    pub plots: Vec<PathBuf>,
    /// Rows of `runs.csv`.
    pub runs: usize,
    /// Whether some plots were left out (more than [`MAX_PLOTS_PER_KIND`] of a kind).
    pub truncated: bool,
}

/// (scenario, sweep point).
type Group = (String, String);

struct Figure {
    file: String,
    caption: String,
}

fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u32);
    for v in values.flatten().filter(|v| v.is_finite()) {
        sum += v;
        n += 1;
    }
    (n > 0).then(|| sum / f64::from(n))
}

fn slug(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    s.trim_matches('-').to_string()
}

fn group_title(g: &Group) -> String {
    if g.1.is_empty() {
        g.0.clone()
    } else {
        format!("{} [{}]", g.0, g.1)
    }
}

/// Writes `plots/*.svg` and `index.html` into `dir` from the CSV files there.
pub fn write_report(dir: &Path) -> Result<ReportSummary, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let runs_path = dir.join(RUNS_CSV);
    if !runs_path.is_file() {
        return Err(ReportError::Missing {
            path: runs_path,
            what: "runs.csv (merge the run directories first)".into(),
        });
    }
    let runs = read_runs_csv(&runs_path)?;
    let plots_dir = dir.join("plots");
    ensure_dir(&plots_dir)?;

    // (scenario, sweep point) → variant → rows.
    let mut groups: BTreeMap<Group, BTreeMap<String, Vec<&RunRecord>>> = BTreeMap::new();
    for r in &runs {
        let g = (r.scenario.clone(), r.sweep_point.clone());
        groups
            .entry(g)
            .or_default()
            .entry(r.variant.clone())
            .or_default()
            .push(r);
    }
    let mut truncated = groups.len() > MAX_PLOTS_PER_KIND;
    let plotted: Vec<&Group> = groups.keys().take(MAX_PLOTS_PER_KIND).collect();
    let mut figures: Vec<(&'static str, Vec<Figure>)> = Vec::new();
    let mut written = Vec::new();
    let mut save = |kind: &str, i: usize, name: &str, svg: String| -> Result<String, ReportError> {
        let file = format!("{kind}-{i:02}-{}.svg", slug(name));
        let path = plots_dir.join(&file);
        write_bytes_atomic(&path, svg.as_bytes())?;
        written.push(path);
        Ok(format!("plots/{file}"))
    };

    // Delivery over time: lowest seed per group.
    let lowest: BTreeMap<(String, String, u64), usize> = plotted
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let seed = groups[*g].values().flatten().map(|r| r.seed).min()?;
            Some(((g.0.clone(), g.1.clone(), seed), i))
        })
        .collect();
    let mut series: BTreeMap<(usize, String), Vec<(f64, f64)>> = BTreeMap::new();
    let mut ends: BTreeMap<usize, f64> = BTreeMap::new();
    for_each_row(&dir.join(TIMESERIES_CSV), |t: TimeseriesRecord| {
        if let Some(&i) = lowest.get(&(t.scenario, t.sweep_point, t.seed)) {
            // Buckets without messages have no ratio: the line joins its neighbours.
            let mid = (t.t_start_s + t.t_end_s) / 2.0;
            let points = series.entry((i, t.variant)).or_default();
            if let Some(y) = t.delivery_ratio {
                points.push((mid, y));
            }
            let end = ends.entry(i).or_insert(0.0);
            *end = end.max(t.t_end_s);
        }
    })?;
    let mut faults: BTreeMap<usize, (String, Vec<(f64, f64)>)> = BTreeMap::new();
    for_each_row(&dir.join(FAULTS_CSV), |f: FaultRecord| {
        if let Some(&i) = lowest.get(&(f.scenario, f.sweep_point, f.seed)) {
            let entry = faults
                .entry(i)
                .or_insert_with(|| (f.variant.clone(), Vec::new()));
            if entry.0 == f.variant {
                entry.1.push((f.start_s, f.end_s));
            }
        }
    })?;
    let mut over_time = Vec::new();
    for (i, g) in plotted.iter().enumerate() {
        let lines: Vec<Series> = series
            .range((i, String::new())..(i + 1, String::new()))
            .map(|((_, v), pts)| Series {
                label: v.clone(),
                points: pts.clone(),
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let shade = faults.get(&i).map(|f| f.1.clone()).unwrap_or_default();
        let seed = lowest
            .iter()
            .find(|(_, j)| **j == i)
            .map_or(0, |(k, _)| k.2);
        let title = format!(
            "Delivery ratio over time — {} (seed {seed})",
            group_title(g)
        );
        let svg = plots::delivery_over_time(
            &title,
            &lines,
            &shade,
            ends.get(&i).copied().unwrap_or(0.0),
        )?;
        let file = save("time", i, &group_title(g), svg)?;
        over_time.push(Figure {
            file,
            caption: title,
        });
    }
    figures.push(("Delivery ratio over time (fault periods shaded)", over_time));

    // Latency CDF: pooled histogram buckets per (group, variant), keyed by microseconds.
    let index: BTreeMap<&Group, usize> = plotted.iter().enumerate().map(|(i, g)| (*g, i)).collect();
    let mut hist: BTreeMap<(usize, String), BTreeMap<u64, u64>> = BTreeMap::new();
    for_each_row(&dir.join(LATENCY_CSV), |l: LatencyRecord| {
        let g = (l.scenario, l.sweep_point);
        if let Some(&i) = index.get(&g)
            && l.latency_ms.is_finite()
            && l.latency_ms >= 0.0
        {
            let us = (l.latency_ms * 1000.0).round() as u64;
            let c = hist
                .entry((i, l.variant))
                .or_default()
                .entry(us)
                .or_default();
            *c = c.saturating_add(l.count);
        }
    })?;
    let mut cdfs = Vec::new();
    for (i, g) in plotted.iter().enumerate() {
        let lines: Vec<Series> = hist
            .range((i, String::new())..(i + 1, String::new()))
            .map(|((_, v), buckets)| {
                let total = buckets.values().fold(0u64, |a, b| a.saturating_add(*b));
                let mut cum = 0u64;
                let points = buckets
                    .iter()
                    .map(|(us, c)| {
                        cum = cum.saturating_add(*c);
                        (*us as f64 / 1000.0, cum as f64 / total.max(1) as f64)
                    })
                    .collect();
                Series {
                    label: v.clone(),
                    points,
                }
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let title = format!("Latency CDF — {}", group_title(g));
        let file = save(
            "latency",
            i,
            &group_title(g),
            plots::latency_cdf(&title, &lines)?,
        )?;
        cdfs.push(Figure {
            file,
            caption: title,
        });
    }
    figures.push(("Latency CDF per variant", cdfs));

    // Delivery ratio per variant.
    let mut bars_figs = Vec::new();
    for (i, g) in plotted.iter().enumerate() {
        let bars: Vec<Bar> = groups[*g]
            .iter()
            .map(|(v, rows)| Bar {
                label: v.clone(),
                mean: mean(rows.iter().map(|r| r.delivery_ratio)),
                values: rows.iter().filter_map(|r| r.delivery_ratio).collect(),
            })
            .collect();
        let title = format!("Delivery ratio per variant — {}", group_title(g));
        let file = save(
            "variants",
            i,
            &group_title(g),
            plots::delivery_per_variant(&title, &bars)?,
        )?;
        bars_figs.push(Figure {
            file,
            caption: title,
        });
    }
    figures.push((
        "Delivery ratio per variant (bar: mean, points: seeds)",
        bars_figs,
    ));

    let (sweeps, sweep_truncated) = sweep_figures(&runs, &mut save)?;
    truncated |= sweep_truncated;
    figures.push(("Sweeps", sweeps));

    remove_stale_plots(&plots_dir, &written)?;
    let manifest: Option<ResultsManifest> = std::fs::read(dir.join(MANIFEST_JSON))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let html = page(&runs, &groups, &figures, manifest.as_ref(), truncated);
    let index_path = dir.join("index.html");
    write_bytes_atomic(&index_path, html.as_bytes())?;
    Ok(ReportSummary {
        index: index_path,
        plots: written,
        runs: runs.len(),
        truncated,
    })
}

/// Removes `*.svg` files in `plots_dir` that this report did not write (left over from an
/// earlier report of a different result set), so the directory matches the page.
fn remove_stale_plots(plots_dir: &Path, written: &[PathBuf]) -> Result<(), ReportError> {
    let keep: BTreeSet<&PathBuf> = written.iter().collect();
    let entries = std::fs::read_dir(plots_dir).map_err(|e| ReportError::io(plots_dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| ReportError::io(plots_dir, e))?.path();
        let svg = path.extension().is_some_and(|e| e == "svg");
        if svg && path.is_file() && !keep.contains(&path) {
            std::fs::remove_file(&path).map_err(|e| ReportError::io(&path, e))?;
        }
    }
    Ok(())
}

type Save<'a> = dyn FnMut(&str, usize, &str, String) -> Result<String, ReportError> + 'a;

/// Sweep curves (one axis) and heatmaps (two axes).
fn sweep_figures(
    runs: &[RunRecord],
    save: &mut Save<'_>,
) -> Result<(Vec<Figure>, bool), ReportError> {
    // scenario → variant → (x bits, y bits) → delivery ratios.
    type Cells = BTreeMap<(u64, Option<u64>), Vec<Option<f64>>>;
    let mut by: BTreeMap<String, (String, String, BTreeMap<String, Cells>)> = BTreeMap::new();
    for r in runs {
        let Some(x) = r.sweep_x.filter(|x| x.is_finite()) else {
            continue;
        };
        let y = r.sweep_y.filter(|y| y.is_finite());
        let entry = by.entry(r.scenario.clone()).or_insert_with(|| {
            (
                r.sweep_x_name.clone(),
                r.sweep_y_name.clone(),
                BTreeMap::new(),
            )
        });
        let key = (ordered_bits(x), y.map(ordered_bits));
        entry
            .2
            .entry(r.variant.clone())
            .or_default()
            .entry(key)
            .or_default()
            .push(r.delivery_ratio);
    }
    let mut figures = Vec::new();
    let mut count = 0;
    let mut truncated = false;
    for (scenario, (x_name, y_name, variants)) in &by {
        let two_d = variants
            .values()
            .flat_map(|c| c.keys())
            .any(|k| k.1.is_some());
        if !two_d {
            if count >= MAX_PLOTS_PER_KIND {
                truncated = true;
                break;
            }
            let lines: Vec<Series> = variants
                .iter()
                .map(|(v, cells)| Series {
                    label: v.clone(),
                    points: cells
                        .iter()
                        .map(|(k, vals)| {
                            (
                                from_ordered_bits(k.0),
                                mean(vals.iter().copied()).unwrap_or(f64::NAN),
                            )
                        })
                        .collect(),
                })
                .collect();
            let title = format!("Delivery ratio vs {x_name} — {scenario}");
            let file = save(
                "sweep",
                count,
                scenario,
                plots::sweep_curve(&title, x_name, &lines)?,
            )?;
            figures.push(Figure {
                file,
                caption: title,
            });
            count += 1;
            continue;
        }
        let xs: BTreeSet<u64> = variants
            .values()
            .flat_map(|c| c.keys().map(|k| k.0))
            .collect();
        let ys: BTreeSet<u64> = variants
            .values()
            .flat_map(|c| c.keys().filter_map(|k| k.1))
            .collect();
        let xs: Vec<u64> = xs.into_iter().collect();
        let ys: Vec<u64> = ys.into_iter().collect();
        let label = |b: &u64| crate::format::shortest(from_ordered_bits(*b)).unwrap_or_default();
        let x_labels: Vec<String> = xs.iter().map(label).collect();
        let y_labels: Vec<String> = ys.iter().map(label).collect();
        for (variant, cells) in variants {
            if count >= MAX_PLOTS_PER_KIND {
                truncated = true;
                break;
            }
            let heat: Vec<HeatCell> = cells
                .iter()
                .filter_map(|(k, vals)| {
                    let x = xs.binary_search(&k.0).ok()?;
                    let y = ys.binary_search(&k.1?).ok()?;
                    Some(HeatCell {
                        x,
                        y,
                        value: mean(vals.iter().copied())?,
                    })
                })
                .collect();
            let title = format!("Delivery ratio — {scenario} / {variant}");
            let svg = plots::heatmap(&title, x_name, &x_labels, y_name, &y_labels, &heat)?;
            let file = save("heatmap", count, &format!("{scenario}-{variant}"), svg)?;
            figures.push(Figure {
                file,
                caption: title,
            });
            count += 1;
        }
    }
    Ok((figures, truncated))
}

/// Maps an f64 to bits whose unsigned order is the numeric order (for BTreeMap keys).
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

fn from_ordered_bits(b: u64) -> f64 {
    f64::from_bits(if b >> 63 == 1 { b & !(1 << 63) } else { !b })
}

fn num(v: Option<f64>, decimals: usize) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) => format!("{v:.decimals$}"),
        None => "–".to_string(),
    }
}

fn page(
    runs: &[RunRecord],
    groups: &BTreeMap<Group, BTreeMap<String, Vec<&RunRecord>>>,
    figures: &[(&str, Vec<Figure>)],
    manifest: Option<&ResultsManifest>,
    truncated: bool,
) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<title>wakusim report</title>\n<style>\n");
    h.push_str("body{font-family:sans-serif;margin:2em;color:#222}\n");
    h.push_str("table{border-collapse:collapse;font-size:14px}\n");
    h.push_str("th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\n");
    h.push_str("th{background:#f0f0f0}td.t{text-align:left}\n");
    h.push_str(
        "figure{display:inline-block;margin:1em}img{max-width:100%}\n</style>\n</head>\n<body>\n",
    );
    h.push_str("<h1>wakusim report</h1>\n");
    let _ = writeln!(
        h,
        "<p>{} runs. Files: <code>runs.csv</code> and the other CSV files in this directory (columns in <code>docs/outputs.md</code>).</p>",
        runs.len()
    );
    if let Some(m) = manifest {
        let _ = writeln!(
            h,
            "<p>Code version: {}. Seeds: {}. Command: <code>{}</code></p>",
            html_escape(&m.code_versions.join(", ")),
            m.seeds.len(),
            html_escape(&m.command)
        );
    }
    h.push_str("<h2>Summary</h2>\n<table>\n<tr><th>scenario</th><th>variant</th><th>sweep point</th><th>runs</th>");
    h.push_str(
        "<th>delivery ratio (mean)</th><th>delivery ratio (min)</th><th>within 10 s (mean)</th>",
    );
    h.push_str(
        "<th>latency p50 ms (mean)</th><th>latency p99 ms (mean)</th><th>false sent (sum)</th>",
    );
    h.push_str("<th>undetected loss (sum)</th><th>bytes sent per node (mean)</th></tr>\n");
    for ((scenario, sweep), variants) in groups {
        for (variant, rows) in variants {
            let ratios = rows
                .iter()
                .filter_map(|r| r.delivery_ratio)
                .filter(|v| v.is_finite());
            let min = ratios.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
            let sum = |f: &dyn Fn(&RunRecord) -> Option<u64>| {
                rows.iter()
                    .filter_map(|r| f(r))
                    .fold(0u64, u64::saturating_add)
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(scenario),
                html_escape(variant),
                html_escape(sweep),
                rows.len(),
                fixed6(mean(rows.iter().map(|r| r.delivery_ratio)).unwrap_or(f64::NAN))
                    .unwrap_or_else(|| "–".into()),
                min.and_then(fixed6).unwrap_or_else(|| "–".into()),
                fixed6(mean(rows.iter().map(|r| r.delivery_ratio_10s)).unwrap_or(f64::NAN))
                    .unwrap_or_else(|| "–".into()),
                num(mean(rows.iter().map(|r| r.latency_ms_p50)), 1),
                num(mean(rows.iter().map(|r| r.latency_ms_p99)), 1),
                sum(&|r| r.messages_false_sent),
                sum(&|r| r.messages_undetected_loss),
                num(mean(rows.iter().map(|r| r.bytes_sent_per_node_mean)), 0),
            );
        }
    }
    h.push_str("</table>\n");
    if truncated {
        let _ = writeln!(
            h,
            "<p>Some plots were left out (at most {MAX_PLOTS_PER_KIND} per kind).</p>"
        );
    }
    for (heading, figs) in figures {
        if figs.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<h2>{}</h2>", html_escape(heading));
        for f in figs {
            let _ = writeln!(
                h,
                "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                html_escape(&f.file),
                html_escape(&f.caption),
                html_escape(&f.caption)
            );
        }
    }
    h.push_str("</body>\n</html>\n");
    h
}
