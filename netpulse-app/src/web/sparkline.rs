//! Sparklines as inline SVG, drawn on the server: no script, no inline style, readable by
//! screen readers through the label next to them. Points sit at their time in the window and
//! are joined across small gaps (the rule of `netpulse_domain::chart_line`), so a test every
//! few hours is a solid line, not dots; only a real gap breaks it.

use netpulse_domain::Timestamp;
use netpulse_domain::chart_line::{alone, breaks_after};
use serde::Serialize;

/// A sparkline ready for the template: polylines (one per joined run) in a 100 × 24 view box.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sparkline {
    /// `points` attributes, one per unbroken run.
    pub lines: Vec<String>,
    /// Points with no joined neighbour, as (x, y).
    pub dots: Vec<(String, String)>,
    /// Whether there is anything to draw.
    pub empty: bool,
}

/// Draws the known values of `points` (any order) over `[since, since + window_seconds)`,
/// scaled to their own min and max, joined when at most `join_limit_seconds` apart.
pub fn draw(
    points: &[(Timestamp, Option<f64>)],
    since: Timestamp,
    window_seconds: i64,
    join_limit_seconds: i64,
) -> Sparkline {
    let mut known: Vec<(Timestamp, f64)> = points
        .iter()
        .filter_map(|(t, v)| v.filter(|v| v.is_finite()).map(|v| (*t, v)))
        .collect();
    known.sort_by_key(|(t, _)| *t);
    if known.is_empty() {
        return Sparkline {
            empty: true,
            ..Sparkline::default()
        };
    }
    let min = known.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
    let max = known
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::NEG_INFINITY, f64::max);
    let window = window_seconds.max(1) as f64;
    let point = |(t, v): (Timestamp, f64)| {
        let x = (t.seconds_since(since) as f64 / window * 100.0).clamp(0.0, 100.0);
        // 2 px margin top and bottom; a flat line sits in the middle.
        let y = if max > min {
            22.0 - (v - min) / (max - min) * 20.0
        } else {
            12.0
        };
        (format!("{x:.1}"), format!("{y:.1}"))
    };
    let times: Vec<Timestamp> = known.iter().map(|(t, _)| *t).collect();
    let breaks = breaks_after(&times, join_limit_seconds);
    let single = alone(&times, join_limit_seconds);
    let mut out = Sparkline::default();
    let mut run: Vec<String> = Vec::new();
    for (i, p) in known.iter().enumerate() {
        let (x, y) = point(*p);
        if single[i] {
            out.dots.push((x, y));
        } else {
            run.push(format!("{x},{y}"));
        }
        if breaks.contains(&i) || i + 1 == known.len() {
            if run.len() > 1 {
                out.lines.push(run.join(" "));
            }
            run.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> Timestamp {
        Timestamp::from_unix_seconds(h * 3600)
    }

    #[test]
    fn lines_join_small_gaps_break_at_real_ones_and_scale_to_the_box() {
        // Every 3 hours (a bucket grid of 30 minutes would leave 5 empty buckets between).
        let s = draw(
            &[
                (at(0), Some(0.0)),
                (at(3), Some(10.0)),
                (at(6), None),
                (at(12), Some(5.0)),
                (at(20), Some(10.0)),
                (at(23), Some(0.0)),
            ],
            at(0),
            24 * 3600,
            3 * 3 * 3600,
        );
        assert_eq!(s.lines.len(), 1, "{s:?}");
        assert_eq!(s.lines[0], "0.0,22.0 12.5,2.0 50.0,12.0 83.3,2.0 95.8,22.0");
        assert!(s.dots.is_empty());
        // The same with a 2-hour join limit: only 20–23 h stays a line.
        let s = draw(
            &[
                (at(0), Some(0.0)),
                (at(12), Some(5.0)),
                (at(20), Some(10.0)),
                (at(21), Some(0.0)),
            ],
            at(0),
            24 * 3600,
            2 * 3600,
        );
        assert_eq!(s.lines, vec!["83.3,2.0 87.5,22.0".to_owned()]);
        assert_eq!(s.dots.len(), 2);
        assert!(draw(&[(at(1), None)], at(0), 3600, 60).empty);
        assert_eq!(
            draw(&[(at(0), Some(3.0)), (at(1), Some(3.0))], at(0), 3600, 7200).lines[0],
            "0.0,12.0 100.0,12.0"
        );
    }
}
