//! Sparklines as inline SVG, drawn on the server: no script, no inline style, readable by
//! screen readers through the label next to them.

use serde::Serialize;

/// A sparkline ready for the template: polylines (one per run of known values) in a
/// 100 × 24 view box.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sparkline {
    /// `points` attributes, one per unbroken run.
    pub lines: Vec<String>,
    /// Single known points between gaps, as (x, y).
    pub dots: Vec<(String, String)>,
    /// Whether there is anything to draw.
    pub empty: bool,
}

/// Draws values (oldest first; `None` breaks the line) scaled to their own min and max.
pub fn draw(values: &[Option<f64>]) -> Sparkline {
    let known: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if known.is_empty() {
        return Sparkline {
            empty: true,
            ..Sparkline::default()
        };
    }
    let min = known.iter().copied().fold(f64::INFINITY, f64::min);
    let max = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if max > min { max - min } else { 1.0 };
    let n = values.len().max(2) - 1;
    let point = |i: usize, v: f64| {
        let x = i as f64 * 100.0 / n as f64;
        // 2 px margin top and bottom; a flat line sits in the middle.
        let y = if max > min {
            22.0 - (v - min) / span * 20.0
        } else {
            12.0
        };
        (format!("{x:.1}"), format!("{y:.1}"))
    };
    let mut out = Sparkline::default();
    let mut run: Vec<(String, String)> = Vec::new();
    let flush = |run: &mut Vec<(String, String)>, out: &mut Sparkline| {
        match run.len() {
            0 => {}
            1 => out.dots.push(run[0].clone()),
            _ => out.lines.push(
                run.iter()
                    .map(|(x, y)| format!("{x},{y}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
        run.clear();
    };
    for (i, v) in values.iter().enumerate() {
        match v.filter(|v| v.is_finite()) {
            Some(v) => run.push(point(i, v)),
            None => flush(&mut run, &mut out),
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_gaps_and_scale_to_the_box() {
        let s = draw(&[
            Some(0.0),
            Some(10.0),
            None,
            Some(5.0),
            None,
            Some(10.0),
            Some(0.0),
        ]);
        assert_eq!(s.lines.len(), 2);
        assert_eq!(s.lines[0], "0.0,22.0 16.7,2.0");
        assert_eq!(s.dots, vec![("50.0".to_owned(), "12.0".to_owned())]);
        assert!(!s.empty);
        assert!(draw(&[None, None]).empty);
        assert_eq!(
            draw(&[Some(3.0), Some(3.0)]).lines[0],
            "0.0,12.0 100.0,12.0"
        );
    }
}
