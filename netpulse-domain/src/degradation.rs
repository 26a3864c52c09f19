//! Health history and the adaptive policy: when a link is "degraded" and retested sooner.

use crate::error::InvalidValue;

/// How one recorded result counts for degradation, status and alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthSample {
    /// Completed and within every threshold.
    Healthy,
    /// Completed but breached a threshold.
    Unhealthy,
    /// The test failed.
    Failed,
    /// No verdict (e.g. imported history): neither healthy nor unhealthy; it breaks runs.
    Unjudged,
}

impl HealthSample {
    /// From a stored verdict: `None` when the result has no verdict.
    pub const fn from_verdict(failed: bool, healthy: Option<bool>) -> Self {
        match (failed, healthy) {
            (true, _) => Self::Failed,
            (false, Some(true)) => Self::Healthy,
            (false, Some(false)) => Self::Unhealthy,
            (false, None) => Self::Unjudged,
        }
    }

    /// Healthy.
    pub const fn is_healthy(self) -> bool {
        matches!(self, Self::Healthy)
    }

    /// Failed or breaching.
    pub const fn is_unhealthy(self) -> bool {
        matches!(self, Self::Unhealthy | Self::Failed)
    }

    /// The one-letter code used to store a history compactly: `H`, `U`, `F` or `N`.
    pub const fn code(self) -> char {
        match self {
            Self::Healthy => 'H',
            Self::Unhealthy => 'U',
            Self::Failed => 'F',
            Self::Unjudged => 'N',
        }
    }

    /// Reads a one-letter code.
    pub const fn from_code(c: char) -> Option<Self> {
        match c {
            'H' => Some(Self::Healthy),
            'U' => Some(Self::Unhealthy),
            'F' => Some(Self::Failed),
            'N' => Some(Self::Unjudged),
            _ => None,
        }
    }
}

/// How many recent samples are kept per connection; enough for every policy value allowed.
pub const HISTORY_LENGTH: usize = 32;

/// The largest count a policy accepts, so that [`HISTORY_LENGTH`] samples always suffice.
pub const MAX_POLICY_COUNT: u32 = 20;

/// Recent health samples of a connection, newest first, at most [`HISTORY_LENGTH`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthHistory(Vec<HealthSample>);

impl HealthHistory {
    /// From samples ordered newest first (extra samples are dropped).
    pub fn from_newest_first(mut samples: Vec<HealthSample>) -> Self {
        samples.truncate(HISTORY_LENGTH);
        Self(samples)
    }

    /// Adds the newest sample.
    pub fn push_newest(&mut self, sample: HealthSample) {
        self.0.insert(0, sample);
        self.0.truncate(HISTORY_LENGTH);
    }

    /// Samples, newest first.
    pub fn newest_first(&self) -> &[HealthSample] {
        &self.0
    }

    /// The compact text form (`"HUF"`, newest first).
    pub fn encode(&self) -> String {
        self.0.iter().map(|s| s.code()).collect()
    }

    /// Reads the compact text form; unknown letters are an error naming the text.
    pub fn decode(text: &str) -> Result<Self, InvalidValue> {
        text.chars()
            .map(HealthSample::from_code)
            .collect::<Option<Vec<_>>>()
            .map(Self::from_newest_first)
            .ok_or_else(|| {
                InvalidValue::new("recent_verdicts", text, "may only contain H, U, F, N")
            })
    }
}

/// When and how a struggling link is retested sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptivePolicy {
    adaptive_interval_seconds: u32,
    recovery_healthy_count: u32,
    max_consecutive_failures: u32,
}

impl Default for AdaptivePolicy {
    /// 300 s / 3 healthy to recover / back off after 5 failures.
    fn default() -> Self {
        Self {
            adaptive_interval_seconds: 300,
            recovery_healthy_count: 3,
            max_consecutive_failures: 5,
        }
    }
}

impl AdaptivePolicy {
    /// Validates every field `>= 1` (and the counts `<= 20`, interval `<= 86400`).
    pub fn new(
        adaptive_interval_seconds: u32,
        recovery_healthy_count: u32,
        max_consecutive_failures: u32,
    ) -> Result<Self, InvalidValue> {
        let check = |field: &'static str, v: u32, max: u32| {
            if v < 1 {
                Err(InvalidValue::new(field, v, "must be >= 1"))
            } else if v > max {
                Err(InvalidValue::new(field, v, format!("must be <= {max}")))
            } else {
                Ok(v)
            }
        };
        Ok(Self {
            adaptive_interval_seconds: check(
                "adaptive_interval_seconds",
                adaptive_interval_seconds,
                86_400,
            )?,
            recovery_healthy_count: check(
                "recovery_healthy_count",
                recovery_healthy_count,
                MAX_POLICY_COUNT,
            )?,
            max_consecutive_failures: check(
                "max_consecutive_failures",
                max_consecutive_failures,
                MAX_POLICY_COUNT,
            )?,
        })
    }

    /// Interval while degraded, seconds.
    pub const fn adaptive_interval_seconds(&self) -> u32 {
        self.adaptive_interval_seconds
    }
    /// Healthy results after the newest unhealthy one that end degradation.
    pub const fn recovery_healthy_count(&self) -> u32 {
        self.recovery_healthy_count
    }
    /// Consecutive failed results after which retesting backs off to the normal interval.
    pub const fn max_consecutive_failures(&self) -> u32 {
        self.max_consecutive_failures
    }

    /// Whether the newest `max_consecutive_failures` results all failed (the link is down hard;
    /// densifying would only burn data).
    pub fn in_back_off(&self, history: &HealthHistory) -> bool {
        let k = self.max_consecutive_failures as usize;
        let h = history.newest_first();
        h.len() >= k && h[..k].iter().all(|s| *s == HealthSample::Failed)
    }

    /// Degraded: the history holds an unhealthy result, fewer than `recovery_healthy_count`
    /// healthy results came after the newest unhealthy one, and the link is not in back-off.
    ///
    /// Unlike the PHP version, the recovery count is honoured: one healthy result after a bad
    /// one does not end degradation when the policy asks for three.
    pub fn is_degraded(&self, history: &HealthHistory) -> bool {
        let h = history.newest_first();
        let Some(newest_bad) = h.iter().position(|s| s.is_unhealthy()) else {
            return false;
        };
        let healthy_since = h[..newest_bad].iter().filter(|s| s.is_healthy()).count();
        healthy_since < self.recovery_healthy_count as usize && !self.in_back_off(history)
    }

    /// The interval to use when degraded: `min(normal, adaptive_interval_seconds)`.
    pub fn effective_interval(&self, normal_seconds: u32) -> u32 {
        normal_seconds.min(self.adaptive_interval_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthSample::{Failed as F, Healthy as H, Unhealthy as U, Unjudged as N};

    fn hist(s: &[HealthSample]) -> HealthHistory {
        HealthHistory::from_newest_first(s.to_vec())
    }

    #[test]
    fn reference_examples_of_section_1_6() {
        let p = AdaptivePolicy::new(300, 3, 4).unwrap();
        // (history newest first, expected, PHP's answer when it differs)
        let cases: [(&[HealthSample], bool); 8] = [
            (&[], false),
            // PHP: false (any healthy newest sample ended degradation). Here one healthy result
            // is not yet the three the policy asks for.
            (&[H, U], true),
            (&[U, H], true),
            (&[F, H], true),
            (&[N], false),
            (&[F, F, F, F, H], false),
            (&[F, F, F, H], true),
            (&[F, U, F, F], true),
        ];
        for (h, want) in cases {
            assert_eq!(p.is_degraded(&hist(h)), want, "{h:?}");
        }
    }

    #[test]
    fn recovery_count_ends_degradation() {
        let p = AdaptivePolicy::new(300, 3, 5).unwrap();
        assert!(p.is_degraded(&hist(&[H, H, U])));
        assert!(!p.is_degraded(&hist(&[H, H, H, U])));
        assert!(p.is_degraded(&hist(&[H, N, H, U])));
        assert!(!p.is_degraded(&hist(&[H, H, H])));
    }

    #[test]
    fn history_codes_round_trip() {
        let h = hist(&[H, U, F, N]);
        assert_eq!(h.encode(), "HUFN");
        assert_eq!(HealthHistory::decode("HUFN").unwrap(), h);
        assert_eq!(
            HealthHistory::decode("HX").unwrap_err().field,
            "recent_verdicts"
        );
        let mut long = HealthHistory::default();
        for _ in 0..100 {
            long.push_newest(F);
        }
        assert_eq!(long.newest_first().len(), HISTORY_LENGTH);
    }

    #[test]
    fn policy_validation_names_the_field() {
        assert_eq!(
            AdaptivePolicy::new(0, 3, 5).unwrap_err().to_string(),
            "adaptive_interval_seconds must be >= 1, got \"0\""
        );
        assert_eq!(
            AdaptivePolicy::new(300, 0, 5).unwrap_err().field,
            "recovery_healthy_count"
        );
        assert_eq!(
            AdaptivePolicy::new(300, 3, 21).unwrap_err().field,
            "max_consecutive_failures"
        );
        assert_eq!(AdaptivePolicy::default().effective_interval(3600), 300);
        assert_eq!(AdaptivePolicy::default().effective_interval(120), 120);
    }
}
