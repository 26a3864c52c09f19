//! How a result's judgement is said to people: speeds in Mbps or Gbps, and each breach as the
//! figure against its threshold ("Upload 98 Mbps < 350 Mbps (70 % of plan)"), each failure
//! class in words. Pages, notifications and the CLI share these words.

use crate::health::{Breach, Thresholds};
use crate::measurement::{FailureClass, Observation};
use crate::values::ExpectedSpeed;

/// A number rounded to one decimal, without the decimal when it is whole: `9.5`, `950`.
pub fn one_decimal(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// bits/s → `950 Mbps`, `9.5 Mbps`; from 1000 Mbps on `1.2 Gbps` (always one decimal).
pub fn speed(bits_per_second: f64) -> String {
    let mbps = (bits_per_second / 1e6 * 10.0).round() / 10.0;
    if mbps >= 1000.0 {
        format!("{:.1} Gbps", mbps / 1000.0)
    } else {
        format!("{} Mbps", one_decimal(mbps))
    }
}

/// bytes → `11.1 GB`, `850 MB` (decimal units, as the tools report).
pub fn volume(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{} GB", one_decimal(b / 1e9))
    } else {
        format!("{} MB", one_decimal(b / 1e6))
    }
}

/// What a failure class means, in a few words.
pub const fn failure_class(class: FailureClass) -> &'static str {
    match class {
        FailureClass::Configuration => "Configuration error",
        FailureClass::NoServers => "No test server found",
        FailureClass::Network => "Network unreachable",
        FailureClass::Licence => "Licence not accepted",
        FailureClass::Timeout => "Timed out",
        FailureClass::ToolMissing => "Test tool missing",
        FailureClass::InvalidOutput => "Unreadable tool output",
        FailureClass::Other => "Test failed",
    }
}

/// What a connectivity check's failure class means, in a few words.
pub const fn check_failure_class(class: crate::check::FailureClass) -> &'static str {
    use crate::check::FailureClass as C;
    match class {
        C::Timeout => "Timed out",
        C::Refused => "Refused",
        C::Unreachable => "Unreachable",
        C::NoRoute => "No route",
        C::NoAddress => "No address",
        C::Permission => "Not permitted",
        C::Dns => "DNS error",
        C::Tls => "TLS error",
        C::HttpStatus => "Unexpected HTTP status",
        C::Condition => "Condition not met",
        C::Protocol => "Protocol error",
    }
}

/// The short name of a breach: `Download`, `Ping`…
pub const fn breach_metric(breach: Breach) -> &'static str {
    match breach {
        Breach::TestFailed => "Test failed",
        Breach::DownloadBelow => "Download",
        Breach::UploadBelow => "Upload",
        Breach::PingHigh => "Ping",
        Breach::JitterHigh => "Jitter",
        Breach::PacketLossHigh => "Packet loss",
        Breach::BaselineDeviation => "Baseline",
    }
}

fn below(name: &str, actual: Option<f64>, plan_bps: u64, ratio: f64) -> String {
    let pct = one_decimal(ratio * 100.0);
    let floor = (ratio * plan_bps as f64).round();
    match actual.filter(|v| v.is_finite()) {
        Some(v) if plan_bps > 0 => {
            format!("{name} {} < {} ({pct} % of plan)", speed(v), speed(floor))
        }
        _ => format!("{name} below {pct} % of plan"),
    }
}

fn above(name: &str, actual: Option<f64>, cap: Option<f64>, unit: &str) -> String {
    match (actual.filter(|v| v.is_finite()), cap) {
        (Some(v), Some(c)) => format!(
            "{name} {} {unit} > {} {unit}",
            one_decimal(v),
            one_decimal(c)
        ),
        _ => format!("{name} above its cap"),
    }
}

/// One breach of `o` as the figure against its threshold: `Upload 98 Mbps < 350 Mbps (70 % of
/// plan)`, `Ping 140 ms > 100 ms`, `Packet loss 7 % > 5 %`.
pub fn breach(b: Breach, o: &Observation, t: &Thresholds, plan: &ExpectedSpeed) -> String {
    match b {
        Breach::TestFailed => o.failure.as_ref().map_or_else(
            || "Test failed".to_owned(),
            |f| failure_class(f.class).to_owned(),
        ),
        Breach::DownloadBelow => below(
            "Download",
            o.download_bps,
            plan.download_bps,
            t.min_download_ratio(),
        ),
        Breach::UploadBelow => below(
            "Upload",
            o.upload_bps,
            plan.upload_bps,
            t.min_upload_ratio(),
        ),
        Breach::PingHigh => above("Ping", o.ping_ms, t.max_ping_ms(), "ms"),
        Breach::JitterHigh => above("Jitter", o.jitter_ms, t.max_jitter_ms(), "ms"),
        Breach::PacketLossHigh => above(
            "Packet loss",
            o.packet_loss_percent,
            t.max_packet_loss_percent(),
            "%",
        ),
        Breach::BaselineDeviation => format!(
            "More than {} % worse than the baseline",
            one_decimal(t.baseline_deviation_pct())
        ),
    }
}

/// A failed result's reason: `Network unreachable: <the tool's message>`.
pub fn failure_reason(o: &Observation) -> Option<String> {
    o.failure.as_ref().map(|f| {
        let message = f.message.trim();
        if message.is_empty() {
            failure_class(f.class).to_owned()
        } else {
            format!("{}: {message}", failure_class(f.class))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::Failure;

    #[test]
    fn breaches_say_the_figure_against_the_threshold() {
        let t = Thresholds::new(0.7, 0.7, Some(100.0), Some(50.0), Some(5.0)).unwrap();
        let plan = ExpectedSpeed::from_mbps(1000, 500);
        let o = Observation {
            download_bps: Some(650e6),
            upload_bps: Some(98e6),
            ping_ms: Some(140.0),
            jitter_ms: Some(60.25),
            packet_loss_percent: Some(7.0),
            ..Observation::default()
        };
        assert_eq!(
            breach(Breach::UploadBelow, &o, &t, &plan),
            "Upload 98 Mbps < 350 Mbps (70 % of plan)"
        );
        assert_eq!(
            breach(Breach::DownloadBelow, &o, &t, &plan),
            "Download 650 Mbps < 700 Mbps (70 % of plan)"
        );
        assert_eq!(
            breach(Breach::PingHigh, &o, &t, &plan),
            "Ping 140 ms > 100 ms"
        );
        assert_eq!(
            breach(Breach::JitterHigh, &o, &t, &plan),
            "Jitter 60.3 ms > 50 ms"
        );
        assert_eq!(
            breach(Breach::PacketLossHigh, &o, &t, &plan),
            "Packet loss 7 % > 5 %"
        );
        assert_eq!(
            breach(Breach::BaselineDeviation, &o, &t, &plan),
            "More than 30 % worse than the baseline"
        );
        let unknown = Observation::default();
        assert_eq!(
            breach(Breach::UploadBelow, &unknown, &t, &plan),
            "Upload below 70 % of plan"
        );
    }

    #[test]
    fn failures_and_units() {
        let o = Observation {
            failure: Some(Failure {
                class: FailureClass::Network,
                message: " Cannot open socket ".into(),
            }),
            ..Observation::default()
        };
        assert_eq!(
            failure_reason(&o).as_deref(),
            Some("Network unreachable: Cannot open socket")
        );
        assert_eq!(
            breach(
                Breach::TestFailed,
                &o,
                &Thresholds::default(),
                &ExpectedSpeed::from_mbps(1, 1)
            ),
            "Network unreachable"
        );
        assert_eq!(failure_reason(&Observation::default()), None);
        assert_eq!(speed(1.2e9), "1.2 Gbps");
        assert_eq!(speed(9.5e6), "9.5 Mbps");
        assert_eq!(volume(11_072_000_000), "11.1 GB");
        assert_eq!(volume(850_000_000), "850 MB");
    }
}
