//! A small SVG writer for the report's figures: line charts (training curves,
//! the latent-size sweep) and confusion-matrix heat maps. Hand-written because
//! the figures are simple and the output must be byte-for-byte deterministic
//! (fixed number formatting, no fonts measured, no timestamps), which is
//! easiest to guarantee with no plotting library in between.
//!
//! Elements a reader (or a test) may look for carry a class: `error-bar`,
//! `reference` (a horizontal line such as chance level), `marker` (a marked
//! point such as the best epoch), `title`.

use super::metrics::Confusion;
use std::fmt::Write;

/// One line of a chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The legend entry; empty: not in the legend.
    pub name: String,
    /// (x, y) points in data units, joined in order; non-finite points are
    /// left out.
    pub points: Vec<(f64, f64)>,
    /// Dashed lines tell apart series that share a colour (e.g. WA vs UA).
    pub dashed: bool,
    /// Half-length of each point's error bar (empty: none).
    pub errors: Vec<f64>,
    /// Colour of another series (its index) instead of its own, so that
    /// e.g. a fold's training and validation curves share one.
    pub colour_of: Option<usize>,
    /// Points drawn as open diamonds on this series (e.g. the best epoch).
    pub marked: Vec<(f64, f64)>,
}

/// A horizontal line across the plot, e.g. chance level.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// Height, in data units.
    pub y: f64,
    /// Its legend entry.
    pub label: String,
}

/// A line chart with axes, ticks and a legend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineChart {
    /// Heading above the plot.
    pub title: String,
    /// Caption of the horizontal axis.
    pub x_label: String,
    /// Caption of the vertical axis.
    pub y_label: String,
    /// The lines, drawn in order, coloured from the palette by index.
    pub series: Vec<Series>,
    /// Place x on a log2 axis (latent sizes 32..512 are evenly spaced then).
    pub x_log2: bool,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Horizontal reference lines (e.g. chance level).
    pub references: Vec<Reference>,
    /// What the diamonds mean, for the legend (when any series marks points).
    pub marker_name: String,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;
/// Colour-blind-safe palette (Okabe-Ito).
const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
];

impl LineChart {
    /// The chart as a complete SVG document (640 x 400 px); the same chart
    /// always gives the same bytes.
    pub fn to_svg(&self) -> String {
        let tx = |x: f64| if self.x_log2 { x.max(1e-12).log2() } else { x };
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let (mut x0, mut x1) = min_max(
            self.series
                .iter()
                .flat_map(|s| s.points.iter())
                .filter(finite)
                .map(|p| tx(p.0)),
        )
        .unwrap_or((0.0, 1.0));
        if x1 - x0 < 1e-12 {
            x0 -= 0.5;
            x1 += 0.5;
        }
        let (y0, y1, y_ticks) = match self.y_range {
            Some((lo, hi)) => (lo, hi, nice_ticks(lo, hi)),
            None => {
                // The data, their error bars and the reference lines all in view.
                let ys = self.series.iter().flat_map(|s| {
                    s.points
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| finite(p))
                        .flat_map(|(i, p)| {
                            let e = s
                                .errors
                                .get(i)
                                .copied()
                                .filter(|e| e.is_finite())
                                .unwrap_or(0.0);
                            [p.1 - e, p.1 + e]
                        })
                });
                let refs = self
                    .references
                    .iter()
                    .map(|r| r.y)
                    .filter(|y| y.is_finite());
                let (lo, hi) = min_max(ys.chain(refs)).unwrap_or((0.0, 1.0));
                let (lo, hi) = if hi - lo < 1e-12 {
                    (lo - 0.5, hi + 0.5)
                } else {
                    (lo, hi)
                };
                let ticks = nice_ticks(lo, hi);
                let first = *ticks.first().expect("at least two ticks");
                let last = *ticks.last().expect("at least two ticks");
                (first.min(lo), last.max(hi), ticks)
            }
        };
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let px = |x: f64| LEFT + (tx(x) - x0) / (x1 - x0) * plot_w;
        let py = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * plot_h;

        let mut s = header(WIDTH, HEIGHT);
        let _ = writeln!(
            s,
            r#"<text class="title" x="{:.1}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            LEFT + plot_w / 2.0,
            escape(&self.title)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT:.1}" y="{TOP:.1}" width="{plot_w:.1}" height="{plot_h:.1}" fill="none" stroke="#444"/>"##
        );
        let y_step = y_ticks
            .get(1)
            .zip(y_ticks.first())
            .map_or(1.0, |(b, a)| b - a);
        for &v in y_ticks
            .iter()
            .filter(|&&v| v >= y0 - 1e-9 && v <= y1 + 1e-9)
        {
            let y = py(v);
            let _ = writeln!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
                LEFT,
                LEFT + plot_w,
                LEFT - 6.0,
                y + 4.0,
                tick_text(v, y_step)
            );
        }
        // x ticks: the distinct x values of the data when there are few
        // (latent sizes, a short run's epochs), else round numbers.
        let mut xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(finite)
            .map(|p| p.0)
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        if xs.len() > 12 || xs.is_empty() {
            xs = if self.x_log2 {
                (x0.ceil() as i32..=x1.floor() as i32)
                    .map(|e| f64::from(e).exp2())
                    .collect()
            } else {
                nice_ticks(x0, x1)
                    .into_iter()
                    .filter(|&v| v >= x0 - 1e-9 && v <= x1 + 1e-9)
                    .collect()
            };
        }
        let x_step = if self.x_log2 {
            1.0
        } else {
            xs.windows(2)
                .map(|w| w[1] - w[0])
                .fold(f64::INFINITY, f64::min)
        };
        for &v in &xs {
            let x = px(v);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#444"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"##,
                TOP + plot_h,
                TOP + plot_h + 5.0,
                TOP + plot_h + 18.0,
                tick_text(v, x_step)
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12">{}</text>"#,
            LEFT + plot_w / 2.0,
            HEIGHT - 12.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            s,
            r#"<text x="16" y="{:.1}" text-anchor="middle" font-size="12" transform="rotate(-90 16 {:.1})">{}</text>"#,
            TOP + plot_h / 2.0,
            TOP + plot_h / 2.0,
            escape(&self.y_label)
        );
        let mut legend = 0;
        let mut legend_line = |s: &mut String, name: &str, line: &str| {
            let ly = TOP + 10.0 + 18.0 * legend as f64;
            let lx = LEFT + plot_w + 12.0;
            let _ = writeln!(
                s,
                r#"{}<text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                line.replace("LX0", &format!("{lx:.1}"))
                    .replace("LX1", &format!("{:.1}", lx + 22.0))
                    .replace("LXM", &format!("{:.1}", lx + 11.0))
                    .replace("LY", &format!("{ly:.1}")),
                lx + 28.0,
                ly + 4.0,
                escape(name)
            );
            legend += 1;
        };
        for r in self.references.iter().filter(|r| r.y >= y0 && r.y <= y1) {
            let y = py(r.y);
            let _ = writeln!(
                s,
                r##"<line class="reference" x1="{LEFT:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#777" stroke-width="1.5" stroke-dasharray="2 3"/>"##,
                LEFT + plot_w
            );
            legend_line(
                &mut s,
                &r.label,
                r##"<line x1="LX0" y1="LY" x2="LX1" y2="LY" stroke="#777" stroke-width="1.5" stroke-dasharray="2 3"/>"##,
            );
        }
        for (i, series) in self.series.iter().enumerate() {
            let colour = PALETTE[series.colour_of.unwrap_or(i) % PALETTE.len()];
            let dash = if series.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let shown: Vec<(usize, (f64, f64))> = series
                .points
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, p)| p.0.is_finite() && p.1.is_finite())
                .collect();
            let path: Vec<String> = shown
                .iter()
                .map(|&(_, (x, y))| format!("{:.1},{:.1}", px(x), py(y)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                path.join(" ")
            );
            for &(k, (x, y)) in &shown {
                let (cx, cy) = (px(x), py(y));
                if let Some(&e) = series.errors.get(k).filter(|e| e.is_finite() && **e > 0.0) {
                    let (top, bottom) = (py((y + e).min(y1)), py((y - e).max(y0)));
                    let _ = writeln!(
                        s,
                        r#"<path class="error-bar" d="M{:.1},{top:.1}H{:.1}M{cx:.1},{top:.1}V{bottom:.1}M{:.1},{bottom:.1}H{:.1}" stroke="{colour}" stroke-width="1.5" fill="none"/>"#,
                        cx - 4.0,
                        cx + 4.0,
                        cx - 4.0,
                        cx + 4.0
                    );
                }
                let _ = writeln!(
                    s,
                    r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="2.5" fill="{colour}"/>"#
                );
            }
            for &(x, y) in series
                .marked
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
            {
                let (cx, cy) = (px(x), py(y));
                let _ = writeln!(
                    s,
                    r##"<path class="marker" d="M{cx:.1},{:.1}L{:.1},{cy:.1}L{cx:.1},{:.1}L{:.1},{cy:.1}Z" fill="#fff" stroke="{colour}" stroke-width="2"/>"##,
                    cy - 6.0,
                    cx + 6.0,
                    cy + 6.0,
                    cx - 6.0
                );
            }
            // Unnamed series share a named one's colour and legend line.
            if !series.name.is_empty() {
                legend_line(
                    &mut s,
                    &series.name,
                    &format!(
                        r#"<line x1="LX0" y1="LY" x2="LX1" y2="LY" stroke="{colour}" stroke-width="2"{dash}/>"#
                    ),
                );
            }
        }
        if self.series.iter().any(|s| !s.marked.is_empty()) && !self.marker_name.is_empty() {
            legend_line(
                &mut s,
                &self.marker_name,
                r##"<path d="MLXM,LYm6l6,6l-6,6l-6,-6Z" fill="#fff" stroke="#444" stroke-width="2"/>"##,
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

/// Round tick values covering `[lo, hi]`: steps of 1, 2 or 5 times a power
/// of ten, four to eight of them, the first at or below `lo` and the last at
/// or above `hi`.
pub fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo, lo + 1.0];
    }
    let raw = (hi - lo) / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&s| (hi - lo) / s <= 7.0)
        .unwrap_or(10.0 * power);
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    (first as i64..=last as i64)
        .map(|k| k as f64 * step)
        .collect()
}

/// A confusion matrix as a heat map: each cell shows its count, shaded by the
/// row-normalised rate (the recall of the row's class on the diagonal).
pub fn confusion_svg(title: &str, labels: &[String], confusion: &Confusion) -> String {
    let k = confusion.classes;
    let cell = 60.0;
    let left = 110.0;
    let top = 70.0;
    let width = left + cell * k as f64 + 30.0;
    let height = top + cell * k as f64 + 50.0;
    let mut s = header(width, height);
    let _ = writeln!(
        s,
        r#"<text class="title" x="{:.1}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="44" text-anchor="middle" font-size="12">predicted</text>"#,
        left + cell * k as f64 / 2.0
    );
    let _ = writeln!(
        s,
        r#"<text x="14" y="{:.1}" text-anchor="middle" font-size="12" transform="rotate(-90 14 {:.1})">true</text>"#,
        top + cell * k as f64 / 2.0,
        top + cell * k as f64 / 2.0
    );
    for (j, label) in labels.iter().enumerate().take(k) {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
            left + cell * (j as f64 + 0.5),
            top - 8.0,
            escape(label)
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"#,
            left - 8.0,
            top + cell * (j as f64 + 0.5) + 4.0,
            escape(label)
        );
    }
    for t in 0..k {
        let support = confusion.support(t);
        for p in 0..k {
            let count = confusion.get(t, p);
            let rate = if support > 0 {
                count as f64 / support as f64
            } else {
                0.0
            };
            // White (0) to a dark blue (1), linear in each channel.
            let shade = |full: f64| (255.0 - rate * (255.0 - full)).round() as u8;
            let fill = format!("#{:02x}{:02x}{:02x}", shade(8.0), shade(48.0), shade(107.0));
            let text = if rate > 0.5 { "#fff" } else { "#000" };
            let x = left + cell * p as f64;
            let y = top + cell * t as f64;
            let _ = writeln!(
                s,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{cell:.1}" height="{cell:.1}" fill="{fill}" stroke="#888"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12" fill="{text}">{count}</text><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="9" fill="{text}">{:.0}%</text>"##,
                x + cell / 2.0,
                y + cell / 2.0,
                x + cell / 2.0,
                y + cell / 2.0 + 14.0,
                rate * 100.0
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn header(width: f64, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\">\n\
<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
    )
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// A tick value with as many decimals as the spacing of the ticks needs
/// (0.25, 0.5, 0.75 rather than 0.25, 0.50, 0.75 or 0, 0, 1).
fn tick_text(v: f64, step: f64) -> String {
    let decimals = if step.is_finite() && step > 0.0 {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    } else {
        2
    };
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    let text = format!("{v:.decimals$}");
    // A step like 0.25 needs one more decimal than its power of ten gives.
    let again: f64 = text.parse().unwrap_or(v);
    if (again - v).abs() > 1e-9 * step.abs().max(1e-12) && decimals < 6 {
        format!("{v:.prec$}", prec = decimals + 1)
    } else {
        text
    }
}

/// Escapes text for SVG element content.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_places_points_inside_the_plot_and_escapes_text() {
        let chart = LineChart {
            title: "UA <sweep> & WA".into(),
            x_label: "latent".into(),
            y_label: "%".into(),
            series: vec![Series {
                name: "VAE".into(),
                points: vec![(32.0, 50.0), (64.0, 60.0), (512.0, 55.0)],
                ..Series::default()
            }],
            x_log2: true,
            y_range: Some((0.0, 100.0)),
            ..LineChart::default()
        };
        let svg = chart.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("UA &lt;sweep&gt; &amp; WA"));
        // log2 axis: 32 at the left edge, 512 at the right edge of the plot.
        let right = WIDTH - RIGHT;
        assert!(svg.contains(&format!(
            "{LEFT:.1},{:.1}",
            TOP + 0.5 * (HEIGHT - TOP - BOTTOM)
        )));
        assert!(svg.contains(&format!("{right:.1},")));
        assert_eq!(svg, chart.to_svg(), "output is deterministic");
    }

    #[test]
    fn confusion_map_shows_every_count() {
        let c = Confusion::from_labels(2, &[0, 0, 1], &[0, 1, 1]);
        let svg = confusion_svg("t", &["a".into(), "b".into()], &c);
        assert_eq!(svg.matches("<rect x=").count(), 4);
        assert!(svg.contains(">50%<") && svg.contains(">100%<") && svg.contains(">0%<"));
    }
}
