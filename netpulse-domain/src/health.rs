//! The verdict on one result: healthy, or the full list of thresholds it breaches.

use std::fmt;

use crate::error::InvalidValue;
use crate::measurement::Observation;
use crate::values::ExpectedSpeed;

/// A rule a result can break. The order of the variants is the order of the breach list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Breach {
    /// The test failed.
    TestFailed,
    /// Download below `min_download_ratio` × expected.
    DownloadBelow,
    /// Upload below `min_upload_ratio` × expected.
    UploadBelow,
    /// Idle latency above the cap.
    PingHigh,
    /// Jitter above the cap.
    JitterHigh,
    /// Packet loss above the cap.
    PacketLossHigh,
    /// Download, upload or ping more than the connection's deviation worse than its reliable
    /// baseline (see [`crate::baseline`]).
    BaselineDeviation,
}

impl Breach {
    /// Every breach, in list order.
    pub const ALL: [Self; 7] = [
        Self::TestFailed,
        Self::DownloadBelow,
        Self::UploadBelow,
        Self::PingHigh,
        Self::JitterHigh,
        Self::PacketLossHigh,
        Self::BaselineDeviation,
    ];

    /// The breach code on the wire and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TestFailed => "test_failed",
            Self::DownloadBelow => "download_below",
            Self::UploadBelow => "upload_below",
            Self::PingHigh => "ping_high",
            Self::JitterHigh => "jitter_high",
            Self::PacketLossHigh => "packet_loss_high",
            Self::BaselineDeviation => "baseline_deviation",
        }
    }

    /// Reads a breach code.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|b| b.as_str() == text)
            .ok_or_else(|| InvalidValue::new("breaches", text, "is not a known breach code"))
    }
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The limits a connection's results are judged against. A cap of `None` is disabled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    min_download_ratio: f64,
    min_upload_ratio: f64,
    max_ping_ms: Option<f64>,
    max_jitter_ms: Option<f64>,
    max_packet_loss_percent: Option<f64>,
    baseline_deviation_pct: f64,
}

impl Default for Thresholds {
    /// 0.7 / 0.7 of the plan, 100 ms ping, 50 ms jitter, 5 % loss, 30 % from the baseline.
    fn default() -> Self {
        Self {
            min_download_ratio: 0.7,
            min_upload_ratio: 0.7,
            max_ping_ms: Some(100.0),
            max_jitter_ms: Some(50.0),
            max_packet_loss_percent: Some(5.0),
            baseline_deviation_pct: crate::baseline::DEFAULT_DEVIATION_PCT,
        }
    }
}

/// The largest deviation from the baseline, percent.
pub const MAX_DEVIATION_PCT: f64 = 1000.0;

fn ratio(field: &'static str, v: f64) -> Result<f64, InvalidValue> {
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(InvalidValue::new(field, v, "must be in the (0, 1] range"))
    }
}

fn cap(field: &'static str, v: Option<f64>, max: f64) -> Result<Option<f64>, InvalidValue> {
    match v {
        Some(x) if !x.is_finite() || x < 0.0 => {
            Err(InvalidValue::new(field, x, "must be >= 0 when set"))
        }
        Some(x) if x > max => Err(InvalidValue::new(
            field,
            x,
            format!("must be <= {max} when set"),
        )),
        other => Ok(other),
    }
}

impl Thresholds {
    /// Validated thresholds: ratios in (0, 1]; caps ≥ 0 (loss also ≤ 100) or disabled; the
    /// baseline deviation is the default one (see [`Thresholds::with_baseline_deviation_pct`]).
    pub fn new(
        min_download_ratio: f64,
        min_upload_ratio: f64,
        max_ping_ms: Option<f64>,
        max_jitter_ms: Option<f64>,
        max_packet_loss_percent: Option<f64>,
    ) -> Result<Self, InvalidValue> {
        Ok(Self {
            min_download_ratio: ratio("min_download_ratio", min_download_ratio)?,
            min_upload_ratio: ratio("min_upload_ratio", min_upload_ratio)?,
            max_ping_ms: cap("max_ping_ms", max_ping_ms, f64::MAX)?,
            max_jitter_ms: cap("max_jitter_ms", max_jitter_ms, f64::MAX)?,
            max_packet_loss_percent: cap(
                "max_packet_loss_percent",
                max_packet_loss_percent,
                100.0,
            )?,
            baseline_deviation_pct: crate::baseline::DEFAULT_DEVIATION_PCT,
        })
    }

    /// The same thresholds with another baseline deviation, percent in (0, 1000].
    pub fn with_baseline_deviation_pct(self, pct: f64) -> Result<Self, InvalidValue> {
        if pct.is_finite() && pct > 0.0 && pct <= MAX_DEVIATION_PCT {
            Ok(Self {
                baseline_deviation_pct: pct,
                ..self
            })
        } else {
            Err(InvalidValue::new(
                "baseline_deviation_pct",
                pct,
                format!("must be in the (0, {MAX_DEVIATION_PCT}] range"),
            ))
        }
    }

    /// How much worse than its reliable baseline a result may be, percent.
    pub const fn baseline_deviation_pct(&self) -> f64 {
        self.baseline_deviation_pct
    }

    /// Minimum download as a fraction of the expected speed.
    pub const fn min_download_ratio(&self) -> f64 {
        self.min_download_ratio
    }
    /// Minimum upload as a fraction of the expected speed.
    pub const fn min_upload_ratio(&self) -> f64 {
        self.min_upload_ratio
    }
    /// Idle latency cap in ms, if enabled.
    pub const fn max_ping_ms(&self) -> Option<f64> {
        self.max_ping_ms
    }
    /// Jitter cap in ms, if enabled.
    pub const fn max_jitter_ms(&self) -> Option<f64> {
        self.max_jitter_ms
    }
    /// Packet-loss cap in percent, if enabled.
    pub const fn max_packet_loss_percent(&self) -> Option<f64> {
        self.max_packet_loss_percent
    }
}

/// The judgement of one result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every rule broken, in [`Breach`] order; empty means healthy.
    pub breaches: Vec<Breach>,
}

impl Verdict {
    /// Whether no rule was broken.
    pub fn healthy(&self) -> bool {
        self.breaches.is_empty()
    }
}

/// Whether `actual` bits/s falls short of `ratio` × `expected`. The floor is rounded to whole
/// bits so that a result exactly at the floor (700,000,000 of 1 Gbps at 0.7) is healthy whatever
/// the binary rounding of the product.
fn below(actual: Option<f64>, expected: u64, ratio: f64) -> bool {
    if expected == 0 {
        return false;
    }
    actual.is_some_and(|bps| bps < (ratio * expected as f64).round())
}

fn above(actual: Option<f64>, cap: Option<f64>) -> bool {
    matches!((actual, cap), (Some(v), Some(c)) if v > c)
}

/// Judges one result against the connection's thresholds and plan, as configured now.
///
/// A failed test is unhealthy with `test_failed` alone. Otherwise every rule is checked and
/// every breach listed. Differences from the PHP version: an unknown figure (e.g. packet loss
/// the tool could not measure, or the upload of a download-only iperf3 run) is unknown, neither 0
/// nor a breach.
pub fn evaluate(
    result: &Observation,
    thresholds: &Thresholds,
    expected: &ExpectedSpeed,
) -> Verdict {
    if !result.completed() {
        return Verdict {
            breaches: vec![Breach::TestFailed],
        };
    }
    let checks = [
        (
            Breach::DownloadBelow,
            below(
                result.download_bps,
                expected.download_bps,
                thresholds.min_download_ratio,
            ),
        ),
        (
            Breach::UploadBelow,
            below(
                result.upload_bps,
                expected.upload_bps,
                thresholds.min_upload_ratio,
            ),
        ),
        (
            Breach::PingHigh,
            above(result.ping_ms, thresholds.max_ping_ms),
        ),
        (
            Breach::JitterHigh,
            above(result.jitter_ms, thresholds.max_jitter_ms),
        ),
        (
            Breach::PacketLossHigh,
            above(
                result.packet_loss_percent,
                thresholds.max_packet_loss_percent,
            ),
        ),
    ];
    Verdict {
        breaches: checks
            .into_iter()
            .filter(|(_, hit)| *hit)
            .map(|(b, _)| b)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::FailureClass;

    fn result(dl: f64, ul: f64, ping: f64, jitter: f64, loss: Option<f64>) -> Observation {
        Observation {
            download_bps: Some(dl),
            upload_bps: Some(ul),
            ping_ms: Some(ping),
            jitter_ms: Some(jitter),
            packet_loss_percent: loss,
            ..Observation::default()
        }
    }

    const GIG: ExpectedSpeed = ExpectedSpeed::from_mbps(1000, 500);

    #[test]
    fn reference_examples_of_section_1_8() {
        let t = Thresholds::default();
        let cases: Vec<(Observation, Vec<Breach>)> = vec![
            (result(900e6, 450e6, 20.0, 5.0, Some(1.0)), vec![]),
            (result(700e6, 450e6, 20.0, 5.0, Some(1.0)), vec![]),
            (
                result(700e6 - 8.0, 450e6, 20.0, 5.0, Some(1.0)),
                vec![Breach::DownloadBelow],
            ),
            (result(900e6, 450e6, 100.0, 5.0, Some(1.0)), vec![]),
            (
                result(900e6, 450e6, 100.1, 5.0, Some(1.0)),
                vec![Breach::PingHigh],
            ),
            (
                result(900e6, 450e6, 20.0, 50.5, Some(1.0)),
                vec![Breach::JitterHigh],
            ),
            (
                result(900e6, 450e6, 20.0, 5.0, Some(6.0)),
                vec![Breach::PacketLossHigh],
            ),
            (
                result(400e6, 200e6, 150.0, 80.0, Some(10.0)),
                vec![
                    Breach::DownloadBelow,
                    Breach::UploadBelow,
                    Breach::PingHigh,
                    Breach::JitterHigh,
                    Breach::PacketLossHigh,
                ],
            ),
        ];
        for (r, want) in cases {
            assert_eq!(evaluate(&r, &t, &GIG).breaches, want, "{r:?}");
        }
    }

    #[test]
    fn disabled_caps_and_unknown_plans_never_breach() {
        let open = Thresholds::new(0.7, 0.7, None, None, None).unwrap();
        let r = result(1.0, 1.0, 999.0, 999.0, Some(100.0));
        assert!(evaluate(&r, &open, &ExpectedSpeed::default()).healthy());
    }

    #[test]
    fn unknown_figures_are_not_breaches() {
        let r = Observation {
            download_bps: Some(900e6),
            ..Observation::default()
        };
        assert!(evaluate(&r, &Thresholds::default(), &GIG).healthy());
    }

    #[test]
    fn a_failed_test_is_only_test_failed() {
        let r = Observation::failed(FailureClass::Network, "Cannot open socket");
        assert_eq!(
            evaluate(&r, &Thresholds::default(), &GIG).breaches,
            vec![Breach::TestFailed]
        );
    }

    #[test]
    fn thresholds_validate_with_field_names() {
        assert_eq!(
            Thresholds::new(0.0, 0.7, None, None, None)
                .unwrap_err()
                .to_string(),
            "min_download_ratio must be in the (0, 1] range, got \"0\""
        );
        assert_eq!(
            Thresholds::new(0.7, 1.5, None, None, None)
                .unwrap_err()
                .field,
            "min_upload_ratio"
        );
        assert_eq!(
            Thresholds::new(0.7, 0.7, Some(-1.0), None, None)
                .unwrap_err()
                .field,
            "max_ping_ms"
        );
        assert_eq!(
            Thresholds::new(0.7, 0.7, None, None, Some(101.0))
                .unwrap_err()
                .field,
            "max_packet_loss_percent"
        );
        assert!(Thresholds::new(1.0, 1.0, Some(0.0), Some(0.0), Some(0.0)).is_ok());
        let t = Thresholds::default();
        assert_eq!(t.baseline_deviation_pct().to_bits(), 30f64.to_bits());
        for bad in [0.0, -1.0, 1000.5, f64::NAN] {
            assert_eq!(
                t.with_baseline_deviation_pct(bad).unwrap_err().field,
                "baseline_deviation_pct"
            );
        }
        let t = t.with_baseline_deviation_pct(12.5).unwrap();
        assert_eq!(t.baseline_deviation_pct().to_bits(), 12.5f64.to_bits());
        for b in Breach::ALL {
            assert_eq!(Breach::parse(b.as_str()).unwrap(), b);
        }
    }
}
