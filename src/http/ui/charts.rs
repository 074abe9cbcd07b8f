//! The overview's charts as inline SVG, drawn on the server with
//! `plotters` (no JavaScript, readable on a phone, safe: plotters escapes
//! every label it writes).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Chart size in SVG user units; the page scales it to the column width.
const SIZE: (u32, u32) = (640, 300);

/// Distinct colours for series, in order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(37, 99, 235),
    RGBColor(220, 104, 3),
    RGBColor(6, 118, 71),
    RGBColor(180, 35, 24),
    RGBColor(105, 65, 198),
    RGBColor(2, 132, 199),
    RGBColor(192, 38, 211),
    RGBColor(71, 84, 103),
];

/// Each outcome's colour, the same as the `.o-*` classes of `app.css`,
/// so a colour means one outcome on every page: green answered, ambers
/// for not reached, reds for refused or failed, greys for unknown.
pub const OUTCOME_COLOURS: [(&str, RGBColor); 16] = [
    ("answered", RGBColor(0x12, 0xb7, 0x6a)),
    ("voicemail", RGBColor(0x7a, 0x5a, 0xf8)),
    ("no_answer", RGBColor(0xf7, 0x90, 0x09)),
    ("busy", RGBColor(0xfb, 0x65, 0x14)),
    ("rejected", RGBColor(0xf0, 0x44, 0x38)),
    ("powered_off", RGBColor(0x66, 0x70, 0x85)),
    ("suspended", RGBColor(0x98, 0xa2, 0xb3)),
    ("unreachable", RGBColor(0xb5, 0x47, 0x08)),
    ("invalid_number", RGBColor(0xd9, 0x2d, 0x20)),
    ("blocked", RGBColor(0x7a, 0x27, 0x1a)),
    ("abandoned", RGBColor(0xee, 0x46, 0xbc)),
    ("canceled", RGBColor(0x47, 0x54, 0x67)),
    ("failed", RGBColor(0xb4, 0x23, 0x18)),
    ("other", RGBColor(0x0b, 0xa5, 0xec)),
    ("unknown", RGBColor(0xd0, 0xd5, 0xdd)),
    ("awaiting-report", RGBColor(0x84, 0xca, 0xff)),
];

/// The colour of `outcome` ([`OUTCOME_COLOURS`]; grey for a name not there).
pub fn outcome_colour(outcome: &str) -> RGBColor {
    OUTCOME_COLOURS
        .iter()
        .find(|(o, _)| *o == outcome)
        .map_or(RGBColor(0xd0, 0xd5, 0xdd), |(_, c)| *c)
}

/// Axis label text size: readable when a 640-unit chart is shown 360
/// pixels wide on a phone.
const LABEL_SIZE: u32 = 17;

/// A y-axis label for counts: whole numbers only (no `0.5 calls`).
fn count_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

/// A white SVG canvas of [`SIZE`] writing into `svg`.
fn canvas(svg: &mut String) -> Result<DrawingArea<SVGBackend<'_>, Shift>, String> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    Ok(root)
}

/// Every chart's margins and axis label areas.
fn frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.margin(10)
        .margin_right(28)
        .x_label_area_size(34)
        .y_label_area_size(56);
    b
}

/// One line of a line chart: its colour (the page's legend names it) and
/// its points as `(index into the x labels, value)`; missing indexes are
/// gaps.
pub struct Series {
    pub colour: RGBColor,
    pub points: Vec<(usize, f64)>,
}

/// A vendor's colour, the same on every chart: the built-in vendors in
/// their order, a mapped vendor by a hash of its name.
pub fn vendor_colour(vendor: &str) -> RGBColor {
    let i = crate::domain::Vendor::ALL
        .iter()
        .position(|v| v.as_str() == vendor)
        .unwrap_or_else(|| {
            vendor
                .bytes()
                .fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
        });
    PALETTE[i % PALETTE.len()]
}

/// `#rrggbb` of `c`, for the page's legends.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// A line chart over `labels` (x) of every series, y from 0 to the largest
/// value (at least `y_floor`), y axis described by `y_desc`: `%` labels its
/// ticks as percentages, anything else as whole counts. At most 6 x labels
/// are written, evenly spaced, so they never overlap. The legend is the
/// page's (HTML, below the chart), so it never hides a line.
///
/// Errors: plotters' drawing error, as text.
pub fn lines(
    labels: &[String],
    series: &[Series],
    y_floor: f64,
    y_desc: &str,
) -> Result<String, String> {
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(y_floor, f64::max)
        * 1.05;
    let n = labels.len().max(2);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        let mut chart = frame(&root)
            .build_cartesian_2d(0..n - 1, 0f64..y_max)
            .map_err(|e| e.to_string())?;
        let percent = y_desc == "%";
        let y_label = |v: &f64| match percent {
            true => format!("{v:.0}%"),
            false => count_label(v),
        };
        chart
            .configure_mesh()
            .x_labels(labels.len().min(6))
            .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
            .y_labels(6)
            .y_label_formatter(&y_label)
            .label_style(("sans-serif", LABEL_SIZE))
            .y_desc(y_desc)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        for s in series {
            let colour = s.colour;
            // A line joins consecutive days only: a gap stays a gap.
            chart
                .draw_series(
                    runs(&s.points)
                        .into_iter()
                        .map(|run| PathElement::new(run, colour.stroke_width(2))),
                )
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(s.points.iter().map(|p| Circle::new(*p, 2, colour.filled())))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// `points` split where an index is skipped.
fn runs(points: &[(usize, f64)]) -> Vec<Vec<(usize, f64)>> {
    let mut out: Vec<Vec<(usize, f64)>> = Vec::new();
    for p in points {
        match out.last_mut() {
            Some(run) if run.last().is_some_and(|q| q.0 + 1 == p.0) => run.push(*p),
            _ => out.push(vec![*p]),
        }
    }
    out
}

/// A bar chart: one bar per label with its value, y axis described by
/// `y_desc` (`calls` labels its ticks as whole numbers).
///
/// Errors: plotters' drawing error, as text.
pub fn bars(labels: &[String], values: &[f64], y_desc: &str) -> Result<String, String> {
    let y_max = values
        .iter()
        .copied()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.1;
    // The segmented axis needs two slots at least; a lone bar gets an empty neighbour.
    let n = labels.len().max(2);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        let mut chart = frame(&root)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_labels(6)
            .y_label_formatter(&|v| match y_desc {
                "calls" => count_label(v),
                _ => format!("{v}"),
            })
            .label_style(("sans-serif", LABEL_SIZE))
            .y_desc(y_desc)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let colour = PALETTE[i % PALETTE.len()];
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), *v),
                    ],
                    colour.filled(),
                );
                bar.set_margin(0, 0, 6, 6);
                bar
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// One bar of [`shares`]: its label, its count and its colour.
pub struct Share {
    pub label: String,
    pub count: i64,
    pub colour: RGBColor,
}

/// Horizontal bars of each item's share of the total, in percent, each
/// labelled with its name on the left and `57.1% (4)` at its end: the
/// names never overlap however many there are or however narrow the
/// screen, since each has its own row.
///
/// Errors: plotters' drawing error, as text.
pub fn shares(items: &[Share]) -> Result<String, String> {
    let total: i64 = items.iter().map(|s| s.count).sum();
    let n = items.len().max(1);
    let height = 24 + 30 * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(0)
            .y_label_area_size(150)
            .build_cartesian_2d(0f64..135f64, (0..n - 1).into_segmented())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => items
                    .get(n - 1 - *i)
                    .map(|s| s.label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .label_style(("sans-serif", LABEL_SIZE))
            .draw()
            .map_err(|e| e.to_string())?;
        let pct = |c: i64| match total {
            0 => 0.0,
            t => c as f64 * 100.0 / t as f64,
        };
        chart
            .draw_series(items.iter().enumerate().map(|(i, s)| {
                // The first item on top.
                let i = n - 1 - i;
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (pct(s.count), SegmentValue::Exact(i + 1)),
                    ],
                    s.colour.filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                bar
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, s)| {
                let i = n - 1 - i;
                Text::new(
                    format!("{:.1}% ({})", pct(s.count), s.count),
                    (pct(s.count) + 1.5, SegmentValue::CenterOf(i)),
                    TextStyle::from(("sans-serif", LABEL_SIZE).into_font())
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_chart_draws_every_series() {
        let labels: Vec<String> = ["06-01", "06-02", "06-03"].map(String::from).to_vec();
        let svg = lines(
            &labels,
            &[
                Series {
                    colour: vendor_colour("aliyun"),
                    points: vec![(0, 3.0), (1, 5.0), (2, 1.0)],
                },
                Series {
                    colour: vendor_colour("<img src=x onerror=alert(1)>"),
                    points: vec![(1, 2.0)],
                },
            ],
            1.0,
            "calls",
        )
        .unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("polyline"), "a line is drawn");
        assert!(svg.contains("06-02"));
        assert_eq!(hex(vendor_colour("aliyun")), hex(PALETTE[0]));
    }

    #[test]
    fn a_bar_chart_draws_one_bar_per_value() {
        let labels: Vec<String> = ["answered", "busy"].map(String::from).to_vec();
        let svg = bars(&labels, &[7.0, 2.0], "calls").unwrap();
        let filled = svg.matches("<rect").count();
        // The background, then one rectangle per bar.
        assert!(filled >= 3, "{filled} rects");
        assert!(svg.contains("answered") && svg.contains("busy"));
    }

    #[test]
    fn a_lone_small_bar_is_drawn_to_scale() {
        let svg = bars(&["USD 0.14".to_owned()], &[0.14], "amount").unwrap();
        assert!(svg.contains("USD 0.14"));
        assert!(svg.matches("<rect").count() >= 2, "{svg}");
    }

    #[test]
    fn shares_label_each_bar_with_its_percentage_and_colour() {
        let items = [("answered", 4), ("no_answer", 3), ("<b>x</b>", 1)].map(|(l, c)| Share {
            label: l.to_owned(),
            count: c,
            colour: outcome_colour(l),
        });
        let svg = shares(&items).unwrap();
        assert!(svg.contains("50.0% (4)"), "{svg}");
        assert!(svg.contains("37.5% (3)") && svg.contains("12.5% (1)"));
        assert!(
            svg.contains("#12B76A") || svg.contains("#12b76a"),
            "answered is green"
        );
        assert!(!svg.contains("<b>"), "labels are escaped");
    }

    #[test]
    fn count_axes_have_whole_numbers_only() {
        assert_eq!(count_label(&2.0), "2");
        assert_eq!(count_label(&0.5), "");
        let labels: Vec<String> = ["06-01", "06-02"].map(String::from).to_vec();
        let svg = lines(
            &labels,
            &[Series {
                colour: PALETTE[0],
                points: vec![(0, 1.0), (1, 1.0)],
            }],
            1.0,
            "calls",
        )
        .unwrap();
        assert!(!svg.contains(">0.2<") && !svg.contains(">0.5<"), "{svg}");
    }

    #[test]
    fn lines_break_at_gaps() {
        assert_eq!(
            runs(&[(0, 1.0), (1, 2.0), (3, 1.0)]),
            vec![vec![(0, 1.0), (1, 2.0)], vec![(3, 1.0)]]
        );
    }
}
