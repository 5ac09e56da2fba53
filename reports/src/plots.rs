//! SVG charts (plotters, SVG backend only; no fonts or system libraries): delivery ratio over
//! time with fault periods shaded, latency CDF per variant, delivery ratio per variant (bars
//! with one point per seed), sweep curves and 2-D sweep heatmaps.
//!
//! Each function returns the SVG document as a string. The output depends only on the
//! arguments (fixed size, palette, fonts named not loaded, no transcendental math), so the
//! same data gives the same bytes. Non-finite values are dropped; empty or degenerate ranges
//! are widened instead of failing.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::ReportError;

/// Width and height of every chart, in pixels.
pub const SIZE: (u32, u32) = (800, 450);

/// Series colours (the "tab10" palette), assigned in series order.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const FAULT_SHADE: RGBColor = RGBColor(250, 200, 200);
const FONT: &str = "sans-serif";

/// A named line: `(x, y)` points in x order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points; non-finite ones are skipped and split the line (a lone point is a dot).
    pub points: Vec<(f64, f64)>,
}

/// One bar: a mean with the individual values drawn as points over it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bar {
    /// Axis label.
    pub label: String,
    /// Bar height.
    pub mean: Option<f64>,
    /// Individual values (one per seed).
    pub values: Vec<f64>,
}

/// One heatmap cell: indices into the x and y value lists.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeatCell {
    /// Index into the x values.
    pub x: usize,
    /// Index into the y values.
    pub y: usize,
    /// The value (0..=1 is coloured; others are clamped).
    pub value: f64,
}

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn plot_err<E: std::fmt::Display>(title: &str) -> impl Fn(E) -> ReportError + '_ {
    move |e| ReportError::Plot {
        name: title.to_string(),
        message: e.to_string(),
    }
}

/// `(lo, hi)` widened to a non-empty finite range.
fn span(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    }
}

fn finite(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

/// Splits a series at non-finite points into runs of finite points.
fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for p in points {
        if finite(p) {
            if let Some(last) = out.last_mut() {
                last.push(*p);
            }
        } else if out.last().is_some_and(|s| !s.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Renders into a string with `draw` and returns the SVG text.
fn render<F>(title: &str, draw: F) -> Result<String, ReportError>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ReportError>,
{
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err(title))?;
        draw(&root)?;
        root.present().map_err(plot_err(title))?;
    }
    Ok(svg)
}

struct LineChart<'a> {
    title: &'a str,
    x_desc: &'a str,
    y_desc: &'a str,
    x: (f64, f64),
    y: (f64, f64),
    shade: &'a [(f64, f64)],
    series: &'a [Series],
    points: bool,
}

fn line_chart(c: &LineChart<'_>) -> Result<String, ReportError> {
    let title = c.title;
    render(title, |root| {
        let (x0, x1) = span(c.x.0, c.x.1);
        let (y0, y1) = span(c.y.0, c.y.1);
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(plot_err(title))?;
        chart
            .configure_mesh()
            .x_desc(c.x_desc)
            .y_desc(c.y_desc)
            .draw()
            .map_err(plot_err(title))?;
        let visible = |s: &&(f64, f64)| finite(s) && s.1 > x0 && s.0 < x1 && s.1 >= s.0;
        let shade = c.shade.iter().filter(visible).map(|&(a, b)| {
            Rectangle::new(
                [(a.max(x0), y0), (b.min(x1), y1)],
                FAULT_SHADE.mix(0.6).filled(),
            )
        });
        if !c.shade.is_empty() {
            chart
                .draw_series(shade)
                .map_err(plot_err(title))?
                .label("fault period")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], FAULT_SHADE.filled())
                });
        }
        for (i, s) in c.series.iter().enumerate() {
            let col = color(i);
            let mut first = true;
            for seg in segments(&s.points) {
                let drawn = chart
                    .draw_series(LineSeries::new(seg.iter().copied(), col.stroke_width(2)))
                    .map_err(plot_err(title))?;
                if first {
                    drawn.label(s.label.as_str()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], col.stroke_width(2))
                    });
                    first = false;
                }
                if c.points || seg.len() == 1 {
                    chart
                        .draw_series(seg.iter().map(|&p| Circle::new(p, 3, col.filled())))
                        .map_err(plot_err(title))?;
                }
            }
        }
        if !c.series.is_empty() || !c.shade.is_empty() {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .draw()
                .map_err(plot_err(title))?;
        }
        Ok(())
    })
}

/// Delivery ratio per time bucket (one line per variant) over `[0, end_s]`, with the fault
/// periods (`(start_s, end_s)`) shaded.
pub fn delivery_over_time(
    title: &str,
    series: &[Series],
    faults: &[(f64, f64)],
    end_s: f64,
) -> Result<String, ReportError> {
    line_chart(&LineChart {
        title,
        x_desc: "time of creation (s)",
        y_desc: "delivery ratio",
        x: (0.0, end_s),
        y: (0.0, 1.05),
        shade: faults,
        series,
        points: false,
    })
}

/// Latency CDF per variant: points `(latency_ms, fraction of deliveries ≤ latency)`.
pub fn latency_cdf(title: &str, series: &[Series]) -> Result<String, ReportError> {
    let max_x = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| finite(p))
        .map(|p| p.0)
        .fold(0.0_f64, f64::max);
    line_chart(&LineChart {
        title,
        x_desc: "latency (ms)",
        y_desc: "fraction of deliveries",
        x: (0.0, max_x * 1.02),
        y: (0.0, 1.0),
        shade: &[],
        series,
        points: false,
    })
}

/// Delivery ratio (y) against a sweep axis (x), one line per variant.
pub fn sweep_curve(title: &str, x_name: &str, series: &[Series]) -> Result<String, ReportError> {
    let xs = || {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|p| finite(p))
    };
    let lo = xs().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi = xs().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let pad = if hi > lo { (hi - lo) * 0.03 } else { 0.0 };
    line_chart(&LineChart {
        title,
        x_desc: x_name,
        y_desc: "delivery ratio (mean over seeds)",
        x: (lo - pad, hi + pad),
        y: (0.0, 1.05),
        shade: &[],
        series,
        points: true,
    })
}

/// Label of the category at `v` (integer positions), empty between categories.
fn category(labels: &[String], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// Delivery ratio per variant: a bar at the mean, a point per seed.
pub fn delivery_per_variant(title: &str, bars: &[Bar]) -> Result<String, ReportError> {
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    render(title, |root| {
        let n = bars.len().max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..n - 0.5, 0.0..1.05)
            .map_err(plot_err(title))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len().max(1) * 2 + 1)
            .x_label_formatter(&|v| category(&labels, *v))
            .x_desc("variant")
            .y_desc("delivery ratio")
            .draw()
            .map_err(plot_err(title))?;
        for (i, b) in bars.iter().enumerate() {
            let x = i as f64;
            let col = color(i);
            if let Some(m) = b.mean.filter(|m| m.is_finite()) {
                let bar = Rectangle::new([(x - 0.3, 0.0), (x + 0.3, m)], col.mix(0.5).filled());
                chart.draw_series([bar]).map_err(plot_err(title))?;
            }
            let k = b.values.len();
            let points = b
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(j, &v)| {
                    let offset = if k > 1 {
                        -0.2 + 0.4 * j as f64 / (k - 1) as f64
                    } else {
                        0.0
                    };
                    Circle::new((x + offset, v), 4, BLACK.filled())
                });
            chart.draw_series(points).map_err(plot_err(title))?;
        }
        Ok(())
    })
}

/// Linear blend from red (0) through yellow (0.5) to green (1).
fn heat_color(v: f64) -> RGBColor {
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let lerp =
        |a: u8, b: u8, t: f64| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    if v < 0.5 {
        let t = v * 2.0;
        RGBColor(lerp(215, 250, t), lerp(48, 220, t), lerp(39, 80, t))
    } else {
        let t = (v - 0.5) * 2.0;
        RGBColor(lerp(250, 26, t), lerp(220, 150, t), lerp(80, 65, t))
    }
}

/// A heatmap of `cells` on a grid of `x_values` × `y_values` (value printed in each cell).
pub fn heatmap(
    title: &str,
    x_name: &str,
    x_values: &[String],
    y_name: &str,
    y_values: &[String],
    cells: &[HeatCell],
) -> Result<String, ReportError> {
    render(title, |root| {
        let nx = x_values.len().max(1) as f64;
        let ny = y_values.len().max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..nx - 0.5, -0.5..ny - 0.5)
            .map_err(plot_err(title))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(x_values.len().max(1) * 2 + 1)
            .y_labels(y_values.len().max(1) * 2 + 1)
            .x_label_formatter(&|v| category(x_values, *v))
            .y_label_formatter(&|v| category(y_values, *v))
            .x_desc(x_name)
            .y_desc(y_name)
            .draw()
            .map_err(plot_err(title))?;
        let valid = cells
            .iter()
            .filter(|c| c.x < x_values.len() && c.y < y_values.len());
        let rects = valid.clone().map(|c| {
            let (x, y) = (c.x as f64, c.y as f64);
            Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                heat_color(c.value).filled(),
            )
        });
        chart.draw_series(rects).map_err(plot_err(title))?;
        let labels = valid.map(|c| {
            let text = if c.value.is_finite() {
                format!("{:.3}", c.value)
            } else {
                String::new()
            };
            Text::new(
                text,
                (c.x as f64 - 0.15, c.y as f64),
                (FONT, 14).into_font().color(&BLACK),
            )
        });
        chart.draw_series(labels).map_err(plot_err(title))?;
        Ok(())
    })
}
