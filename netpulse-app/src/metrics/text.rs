//! The Prometheus text exposition (format 0.0.4) of a [`Frame`], written directly: the same
//! families, names, types, help texts, labels and values as the `opentelemetry-prometheus`
//! exporter produces from the instruments observing that frame (a test compares the two), at a
//! fraction of the cost (no per-series allocations in an SDK and a registry; see the benchmark).
//!
//! Families are sorted by name; series keep the frame's order (by probe, then connection);
//! labels keep their declaration order (`probe`, `connection`, `site`, …).

use std::fmt::Write;

use opentelemetry::Value;

use super::state::{Family, Frame, Kind};

fn escape_label(out: &mut String, text: &str) {
    if !text.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Writes a sample value as Prometheus reads it (frames hold finite values only).
fn value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        // Whole numbers (counts, flags, bits per second) print as integers; cheaper than the
        // float formatter and the same text.
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// The exposition of every family that has a series.
pub fn render(frame: &Frame) -> String {
    let mut families: Vec<Family> = Family::ALL
        .into_iter()
        .filter(|f| !frame.series(*f).is_empty())
        .collect();
    families.sort_by_key(|f| f.name());
    let series: usize = families.iter().map(|f| frame.series(*f).len()).sum();
    let mut out = String::with_capacity(series * 128 + families.len() * 160);
    for family in families {
        let (name, kind, help) = family.describe();
        out.push_str("# HELP ");
        out.push_str(name);
        out.push(' ');
        escape_help(&mut out, help);
        out.push_str("\n# TYPE ");
        out.push_str(name);
        out.push_str(match kind {
            Kind::Gauge => " gauge\n",
            Kind::Counter => " counter\n",
        });
        for series in frame.series(family) {
            out.push_str(name);
            if !series.shared.is_empty() || !series.own.is_empty() {
                out.push('{');
                for (i, kv) in series.labels().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(kv.key.as_str());
                    out.push_str("=\"");
                    match &kv.value {
                        Value::String(s) => escape_label(&mut out, s.as_str()),
                        other => escape_label(&mut out, &other.to_string()),
                    }
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            value(&mut out, series.value);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats_like_the_text_format_wants() {
        let mut s = String::new();
        escape_label(&mut s, "a\"b\\c\nd");
        assert_eq!(s, "a\\\"b\\\\c\\nd");
        let mut s = String::new();
        escape_help(&mut s, "x\\y\nz\"");
        assert_eq!(s, "x\\\\y\\nz\"");
        for (v, text) in [
            (1.0, "1"),
            (0.017_148, "0.017148"),
            (931_564_032.0, "931564032"),
            (-0.5, "-0.5"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1.780_747_500_123e9, "1780747500.123"),
            (-0.0, "0"),
            (1e15, "1000000000000000"),
        ] {
            let mut s = String::new();
            value(&mut s, v);
            assert_eq!(s, text);
        }
    }
}
