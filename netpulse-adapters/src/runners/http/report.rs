//! What the engine reports: its errors, its rounded figures and the one-line stderr summary.

use std::fmt::Write as _;
use std::time::Duration;

use netpulse_domain::measurement::FailureClass;

use crate::parse::http::{HttpEngineError, HttpEngineReport, HttpFlavour};

/// A report error of `class`.
pub(super) fn engine_error(class: FailureClass, message: impl Into<String>) -> HttpEngineError {
    HttpEngineError {
        class,
        message: message.into(),
    }
}

/// The report error of a failed request: `configuration` for requests that cannot be built,
/// `network` for connecting, sending, receiving and request timeouts, `other` otherwise.
pub(super) fn reqwest_error(what: &str, e: &reqwest::Error) -> HttpEngineError {
    let class = if e.is_builder() {
        FailureClass::Configuration
    } else if e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() {
        FailureClass::Network
    } else {
        FailureClass::Other
    };
    let mut message = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    engine_error(class, message)
}

pub(super) fn millis(d: Duration) -> f64 {
    round(d.as_secs_f64() * 1000.0, 3)
}

pub(super) fn round(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

/// A flavour's name, as in URLs and reports.
pub const fn flavour_name(flavour: HttpFlavour) -> &'static str {
    match flavour {
        HttpFlavour::Netpulse => "netpulse",
        HttpFlavour::Librespeed => "librespeed",
        HttpFlavour::Cloudflare => "cloudflare",
    }
}

/// The one-line human summary for stderr.
pub(super) fn summary(report: &HttpEngineReport) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &report.latency {
        let mut part = format!("idle latency {:.2} ms", l.ping_ms);
        if let Some(jitter) = l.jitter_ms {
            let _ = write!(part, " (jitter {jitter:.2} ms)");
        }
        parts.push(part);
    }
    for (name, transfer) in [("download", &report.download), ("upload", &report.upload)] {
        if let Some(t) = transfer {
            let mut part = format!("{name} {:.2} Mbit/s", t.bits_per_second / 1e6);
            if let Some(loaded) = t.latency_ms {
                let _ = write!(part, " (loaded latency {loaded:.2} ms)");
            }
            parts.push(part);
        }
    }
    let mut line = format!(
        "{} ({} flavour, {} streams) against {}",
        HttpEngineReport::ENGINE,
        flavour_name(report.flavour),
        report.streams,
        report.target
    );
    if !parts.is_empty() {
        line.push_str(": ");
        line.push_str(&parts.join(", "));
    }
    if let Some(e) = &report.error {
        let _ = write!(line, "; failed ({}): {}", e.class.as_str(), e.message);
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::http::{HttpLatency, HttpTransfer};

    #[test]
    fn the_summary_names_figures_and_failures() {
        let mut report = HttpEngineReport::new("http://x/", HttpFlavour::Librespeed, 4);
        report.latency = HttpLatency::from_samples(vec![1.0, 2.0, 4.0]);
        report.download = Some(HttpTransfer::new(1_000_000, 1.0, 0.5, Some(7.25)));
        report.error = Some(engine_error(FailureClass::Timeout, "ran out of time"));
        assert_eq!(
            summary(&report),
            "netpulse-http (librespeed flavour, 4 streams) against http://x/: idle latency 2.00 ms \
             (jitter 1.50 ms), download 8.00 Mbit/s (loaded latency 7.25 ms); failed (timeout): \
             ran out of time\n"
        );
    }
}
