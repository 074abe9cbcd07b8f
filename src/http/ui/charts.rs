//! The overview's charts as inline SVG, drawn on the server with
//! `plotters` (no JavaScript, readable on a phone, safe: plotters escapes
//! every label it writes).

use plotters::coord::Shift;
use plotters::prelude::*;

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
    b.margin(8).x_label_area_size(28).y_label_area_size(48);
    b
}

/// One line of a line chart: its name (legend) and its points as
/// `(index into the x labels, value)`; missing indexes are gaps.
pub struct Series {
    pub name: String,
    pub points: Vec<(usize, f64)>,
}

/// A line chart over `labels` (x) of every series, y from 0 to the largest
/// value (at least `y_floor`), y axis described by `y_desc`.
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
        chart
            .configure_mesh()
            .x_labels(labels.len().min(8))
            .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
            .y_desc(y_desc)
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, s) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            // A line joins consecutive days only: a gap stays a gap.
            chart
                .draw_series(
                    runs(&s.points)
                        .into_iter()
                        .map(|run| PathElement::new(run, colour.stroke_width(2))),
                )
                .map_err(|e| e.to_string())?
                .label(s.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(s.points.iter().map(|p| Circle::new(*p, 2, colour.filled())))
                .map_err(|e| e.to_string())?;
        }
        if series.len() > 1 || series.iter().any(|s| !s.name.is_empty()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.2))
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
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
/// `y_desc`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_chart_draws_every_series_and_escapes_names() {
        let labels: Vec<String> = ["06-01", "06-02", "06-03"].map(String::from).to_vec();
        let svg = lines(
            &labels,
            &[
                Series {
                    name: "aliyun".into(),
                    points: vec![(0, 3.0), (1, 5.0), (2, 1.0)],
                },
                Series {
                    name: "<img src=x onerror=alert(1)>".into(),
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
        assert!(svg.contains("&lt;img src=x"), "the name is escaped");
        assert!(!svg.contains("<img"), "no markup from a name");
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
    fn lines_break_at_gaps() {
        assert_eq!(
            runs(&[(0, 1.0), (1, 2.0), (3, 1.0)]),
            vec![vec![(0, 1.0), (1, 2.0)], vec![(3, 1.0)]]
        );
    }
}
