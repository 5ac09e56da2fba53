//! Plots and the HTML report: well-formed, titled, deterministic.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::{hand_made_result, identity, scratch};
use reports::plots::{self, Bar, HeatCell, Series};
use reports::{ReportError, RunDir, WriteOptions, merge_results_dir, write_report};

fn assert_svg(svg: &str, title: &str) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(title), "title {title:?} missing");
    assert_eq!(svg.matches("<svg").count(), 1);
    assert!(!svg.contains("NaN"), "non-finite coordinates");
}

fn series(label: &str, points: &[(f64, f64)]) -> Series {
    Series {
        label: label.into(),
        points: points.to_vec(),
    }
}

#[test]
fn plots_are_well_formed_and_deterministic() {
    let lines = [
        series(
            "alpha",
            &[(5.0, 1.0), (15.0, 0.5), (25.0, f64::NAN), (35.0, 0.9)],
        ),
        series("beta <&>", &[(5.0, 0.8), (15.0, 0.7)]),
    ];
    let a = plots::delivery_over_time("Over time", &lines, &[(4.0, 20.0)], 40.0).unwrap();
    let b = plots::delivery_over_time("Over time", &lines, &[(4.0, 20.0)], 40.0).unwrap();
    assert_eq!(a, b);
    assert_svg(&a, "Over time");
    assert!(a.contains("beta &lt;&amp;&gt;"), "labels are escaped");
    assert!(a.contains("fault period"));

    let cdf = plots::latency_cdf("CDF", &[series("x", &[(1.0, 0.5), (3.0, 1.0)])]).unwrap();
    assert_svg(&cdf, "CDF");
    let bars = [
        Bar {
            label: "alpha".into(),
            mean: Some(0.9),
            values: vec![0.85, 0.95],
        },
        Bar {
            label: "beta".into(),
            mean: None,
            values: vec![],
        },
    ];
    let svg = plots::delivery_per_variant("Bars", &bars).unwrap();
    assert_svg(&svg, "Bars");
    assert!(svg.contains("alpha") && svg.contains("beta"));
    let svg =
        plots::sweep_curve("Sweep", "loss", &[series("a", &[(0.0, 1.0), (0.1, 0.9)])]).unwrap();
    assert_svg(&svg, "Sweep");
    let cells = [
        HeatCell {
            x: 0,
            y: 0,
            value: 1.0,
        },
        HeatCell {
            x: 1,
            y: 1,
            value: 0.25,
        },
        HeatCell {
            x: 7,
            y: 0,
            value: 0.5,
        },
    ];
    let labels = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let svg = plots::heatmap(
        "Heat",
        "loss",
        &labels(&["0", "0.1"]),
        "rate",
        &labels(&["1", "2"]),
        &cells,
    )
    .unwrap();
    assert_svg(&svg, "Heat");
    assert!(svg.contains("0.250"));
    // Degenerate input draws an empty chart instead of failing.
    let empty = plots::delivery_over_time("Empty", &[], &[], 0.0).unwrap();
    assert_svg(&empty, "Empty");
    assert_svg(&plots::latency_cdf("None", &[]).unwrap(), "None");
    assert_svg(&plots::sweep_curve("S", "x", &[]).unwrap(), "S");
}

fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn results_dir(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    let points: [&[(&str, f64)]; 5] = [
        &[("loss", 0.0), ("rate", 1.0)],
        &[("loss", 0.1), ("rate", 1.0)],
        &[("loss", 0.0), ("rate", 2.0)],
        &[("loss", 0.1), ("rate", 2.0)],
        &[],
    ];
    for variant in ["alpha", "beta"] {
        for axes in points {
            for seed in [1, 2] {
                let mut r = hand_made_result(identity(variant, seed, axes));
                if axes.is_empty() {
                    r.identity.scenario = "plain".into();
                }
                RunDir::write(
                    &RunDir::path(&dir, &r.identity),
                    &r,
                    &WriteOptions::default(),
                )
                .unwrap();
            }
        }
    }
    merge_results_dir(&dir, "wakusim sweep s.toml").unwrap();
    dir
}

#[test]
fn html_report_shows_table_and_plots() {
    let dir = results_dir("html");
    let summary = write_report(&dir).unwrap();
    assert_eq!(summary.runs, 20);
    let html = fs::read_to_string(&summary.index).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("<title>wakusim report</title>"));
    assert!(html.contains("<h2>Summary</h2>"));
    assert!(html.contains("<td class=\"t\">plain</td><td class=\"t\">alpha</td>"));
    assert!(
        html.contains("0.666667"),
        "mean delivery ratio in the table"
    );
    assert!(html.contains("wakusim sweep s.toml"));
    assert_eq!(
        html.matches("<table>").count(),
        html.matches("</table>").count()
    );
    assert_eq!(html.matches("<tr>").count(), html.matches("</tr>").count());
    // 5 groups × (time, latency, variants) + 2 heatmaps (one per variant of "hand-made").
    assert_eq!(summary.plots.len(), 17);
    for p in &summary.plots {
        let svg = fs::read_to_string(p).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let rel = p.strip_prefix(&dir).unwrap().to_string_lossy().to_string();
        assert!(
            html.contains(&format!("src=\"{rel}\"")),
            "{rel} not on the page"
        );
    }
    let kinds = |k: &str| {
        summary
            .plots
            .iter()
            .filter(|p| p.to_string_lossy().contains(k))
            .count()
    };
    assert_eq!(
        (
            kinds("/time-"),
            kinds("/latency-"),
            kinds("/variants-"),
            kinds("/heatmap-")
        ),
        (5, 5, 5, 2)
    );
    let time = fs::read_to_string(
        summary
            .plots
            .iter()
            .find(|p| p.to_string_lossy().contains("/time-"))
            .unwrap(),
    )
    .unwrap();
    assert!(time.contains("Delivery ratio over time") && time.contains("fault period"));

    let before = all_files(&dir);
    fs::write(dir.join("plots/stale.svg"), "<svg></svg>").unwrap();
    write_report(&dir).unwrap();
    assert!(
        !dir.join("plots/stale.svg").exists(),
        "plots of an earlier report are removed"
    );
    assert_eq!(before, all_files(&dir), "same input, same bytes");
}

#[test]
fn sweep_curve_for_one_axis() {
    let dir = scratch("sweep1");
    for (variant, loss) in [("a", 0.0), ("a", 0.2), ("b", 0.0), ("b", 0.2)] {
        let r = hand_made_result(identity(variant, 1, &[("loss", loss)]));
        RunDir::write(
            &RunDir::path(&dir, &r.identity),
            &r,
            &WriteOptions::default(),
        )
        .unwrap();
    }
    merge_results_dir(&dir, "").unwrap();
    let summary = write_report(&dir).unwrap();
    let sweeps: Vec<_> = summary
        .plots
        .iter()
        .filter(|p| p.to_string_lossy().contains("/sweep-"))
        .collect();
    assert_eq!(sweeps.len(), 1);
    let svg = fs::read_to_string(sweeps[0]).unwrap();
    assert!(svg.contains("Delivery ratio vs loss"));
}

#[test]
fn report_errors_are_caller_errors() {
    let dir = scratch("report-errors");
    let err = write_report(&dir).unwrap_err();
    assert!(matches!(err, ReportError::Missing { .. }), "{err}");
    let err = write_report(&dir.join("absent")).unwrap_err();
    assert!(matches!(err, ReportError::NotADirectory { .. }), "{err}");
    fs::write(dir.join("runs.csv"), "scenario,seed\nx,notanumber\n").unwrap();
    let err = write_report(&dir).unwrap_err();
    assert!(matches!(err, ReportError::Csv { .. }), "{err}");
    // Only runs.csv present: the report still renders (no time series, no latency plots).
    fs::write(
        dir.join("runs.csv"),
        "scenario,variant,seed,delivery_ratio\nx,a,1,0.5\n",
    )
    .unwrap();
    let s = write_report(&dir).unwrap();
    assert_eq!(s.plots.len(), 1);
}
