//! A small SVG writer for the report's figures: line charts (training curves,
//! the latent-size sweep) and confusion-matrix heat maps. Hand-written because
//! the figures are simple and the output must be byte-for-byte deterministic
//! (fixed number formatting, no fonts measured, no timestamps), which is
//! easiest to guarantee with no plotting library in between.

use super::metrics::Confusion;
use std::fmt::Write;

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Dashed lines tell apart series that share a colour (e.g. WA vs UA).
    pub dashed: bool,
}

/// A line chart with axes, ticks and a legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Place x on a log2 axis (latent sizes 32..512 are evenly spaced then).
    pub x_log2: bool,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
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
    pub fn to_svg(&self) -> String {
        let tx = |x: f64| if self.x_log2 { x.max(1e-12).log2() } else { x };
        let points = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter())
                .filter(|p| p.0.is_finite() && p.1.is_finite())
        };
        let (mut x0, mut x1) = min_max(points().map(|p| tx(p.0))).unwrap_or((0.0, 1.0));
        let (mut y0, mut y1) = match self.y_range {
            Some(r) => r,
            None => min_max(points().map(|p| p.1)).unwrap_or((0.0, 1.0)),
        };
        if x1 - x0 < 1e-12 {
            x0 -= 0.5;
            x1 += 0.5;
        }
        if y1 - y0 < 1e-12 {
            y0 -= 0.5;
            y1 += 0.5;
        }
        if self.y_range.is_none() {
            let pad = 0.05 * (y1 - y0);
            y0 -= pad;
            y1 += pad;
        }
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let px = |x: f64| LEFT + (tx(x) - x0) / (x1 - x0) * plot_w;
        let py = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * plot_h;

        let mut s = header(WIDTH, HEIGHT);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            LEFT + plot_w / 2.0,
            escape(&self.title)
        );
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT:.1}" y="{TOP:.1}" width="{plot_w:.1}" height="{plot_h:.1}" fill="none" stroke="#444"/>"##
        );
        // y ticks: five evenly spaced values.
        for i in 0..=4 {
            let v = y0 + (y1 - y0) * i as f64 / 4.0;
            let y = py(v);
            let _ = writeln!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
                LEFT,
                LEFT + plot_w,
                LEFT - 6.0,
                y + 4.0,
                tick_label(v)
            );
        }
        // x ticks: the distinct x values of the data when there are few
        // (epochs, latent sizes), else five evenly spaced ones.
        let mut xs: Vec<f64> = points().map(|p| p.0).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        if xs.len() > 12 || xs.is_empty() {
            xs = (0..=4)
                .map(|i| {
                    let t = x0 + (x1 - x0) * i as f64 / 4.0;
                    if self.x_log2 {
                        t.exp2()
                    } else {
                        t
                    }
                })
                .collect();
        }
        for &v in &xs {
            let x = px(v);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#444"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"##,
                TOP + plot_h,
                TOP + plot_h + 5.0,
                TOP + plot_h + 18.0,
                tick_label(v)
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
        for (i, series) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let dash = if series.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let path: Vec<String> = series
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                path.join(" ")
            );
            for p in &path {
                let (x, y) = p.split_once(',').expect("formatted as x,y");
                let _ = writeln!(s, r#"<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>"#);
            }
            let ly = TOP + 10.0 + 18.0 * i as f64;
            let lx = LEFT + plot_w + 12.0;
            let _ = writeln!(
                s,
                r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                lx + 22.0,
                lx + 28.0,
                ly + 4.0,
                escape(&series.name)
            );
        }
        s.push_str("</svg>\n");
        s
    }
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
        r#"<text x="{:.1}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
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

fn tick_label(v: f64) -> String {
    if (v == v.round() && v.abs() < 1e6) || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
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
                dashed: false,
            }],
            x_log2: true,
            y_range: Some((0.0, 100.0)),
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
