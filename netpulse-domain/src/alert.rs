//! Edge-debounced alerts: tell people once when a link goes bad and once when it is back.
//!
//! The debouncer is a small state machine fed one verdict at a time, so its state can be kept in
//! one row per connection and claimed with a conditional write (exactly one alert per edge even
//! with several server processes).

use crate::degradation::{HealthSample, MAX_POLICY_COUNT};
use crate::error::InvalidValue;

/// How many consecutive results make an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertPolicy {
    unhealthy_count: u32,
    healthy_count: u32,
}

impl Default for AlertPolicy {
    /// Alert on the 3rd consecutive unhealthy result; recover on the 1st healthy one.
    fn default() -> Self {
        Self {
            unhealthy_count: 3,
            healthy_count: 1,
        }
    }
}

impl AlertPolicy {
    /// Validates `1 <= n, m <= 20`.
    pub fn new(unhealthy_count: u32, healthy_count: u32) -> Result<Self, InvalidValue> {
        for (field, v) in [
            ("alert_after", unhealthy_count),
            ("recover_after", healthy_count),
        ] {
            if v < 1 {
                return Err(InvalidValue::new(field, v, "must be >= 1"));
            }
            if v > MAX_POLICY_COUNT {
                return Err(InvalidValue::new(
                    field,
                    v,
                    format!("must be <= {MAX_POLICY_COUNT}"),
                ));
            }
        }
        Ok(Self {
            unhealthy_count,
            healthy_count,
        })
    }

    /// N: consecutive unhealthy results that raise an alert.
    pub const fn unhealthy_count(&self) -> u32 {
        self.unhealthy_count
    }

    /// M: consecutive healthy results that, after an alert, send a recovery.
    pub const fn healthy_count(&self) -> u32 {
        self.healthy_count
    }
}

/// The debouncer's memory for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlertState {
    /// Whether an alert was sent and no recovery yet.
    pub alerting: bool,
    /// Consecutive unhealthy results up to now.
    pub unhealthy_run: u32,
    /// Consecutive healthy results up to now.
    pub healthy_run: u32,
}

/// What to tell people after a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertEdge {
    /// The link went bad: `consecutive` unhealthy results in a row.
    Alert {
        /// The length of the unhealthy run (N).
        consecutive: u32,
    },
    /// The link is back after an alert.
    Recovery {
        /// The length of the healthy run (M).
        consecutive: u32,
    },
}

impl AlertState {
    /// Feeds the newest result and returns the new state and the edge it crossed, if any.
    ///
    /// Unhealthy (failed or breaching) results extend the bad run and raise one alert when it
    /// reaches N; healthy results extend the good run and, after an alert, send one recovery
    /// when it reaches M; an unjudged result breaks both runs and changes nothing else.
    #[must_use]
    pub fn step(self, sample: HealthSample, policy: &AlertPolicy) -> (Self, Option<AlertEdge>) {
        let mut next = self;
        let mut edge = None;
        match sample {
            HealthSample::Unhealthy | HealthSample::Failed => {
                next.unhealthy_run = self.unhealthy_run.saturating_add(1);
                next.healthy_run = 0;
                if !self.alerting && next.unhealthy_run >= policy.unhealthy_count {
                    next.alerting = true;
                    edge = Some(AlertEdge::Alert {
                        consecutive: next.unhealthy_run,
                    });
                }
            }
            HealthSample::Healthy => {
                next.healthy_run = self.healthy_run.saturating_add(1);
                next.unhealthy_run = 0;
                if self.alerting && next.healthy_run >= policy.healthy_count {
                    next.alerting = false;
                    edge = Some(AlertEdge::Recovery {
                        consecutive: next.healthy_run,
                    });
                }
            }
            HealthSample::Unjudged => {
                next.unhealthy_run = 0;
                next.healthy_run = 0;
            }
        }
        (next, edge)
    }

    /// Replays results oldest first from this state; returns the final state and the edge of
    /// the last result.
    pub fn replay(
        self,
        oldest_first: &[HealthSample],
        policy: &AlertPolicy,
    ) -> (Self, Option<AlertEdge>) {
        oldest_first
            .iter()
            .fold((self, None), |(state, _), s| state.step(*s, policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthSample::{Failed as F, Healthy as H, Unhealthy as U, Unjudged as N};
    use proptest::prelude::*;

    #[derive(Debug, PartialEq)]
    enum Want {
        None,
        Alert,
        Recovery,
    }

    /// Decides on the newest of a newest-first history, replaying it from a fresh state.
    fn decide(newest_first: &[HealthSample], n: u32, m: u32) -> Want {
        let mut oldest_first = newest_first.to_vec();
        oldest_first.reverse();
        let policy = AlertPolicy::new(n, m).unwrap();
        match AlertState::default().replay(&oldest_first, &policy).1 {
            None => Want::None,
            Some(AlertEdge::Alert { .. }) => Want::Alert,
            Some(AlertEdge::Recovery { .. }) => Want::Recovery,
        }
    }

    #[test]
    fn reference_examples_of_section_5_2() {
        let cases: [(&[HealthSample], Want); 9] = [
            (&[U, U, H], Want::None),
            (&[U, U, U, H], Want::Alert),
            (&[U, U, U], Want::Alert),
            (&[U, U, U, U, H], Want::None),
            (&[F, U, F, H], Want::Alert),
            (&[H, U, U, U], Want::Recovery),
            (&[H, F, U, F, U], Want::Recovery),
            (&[H, U, U, H], Want::None),
            (&[U, U, N], Want::None),
        ];
        for (h, want) in cases {
            assert_eq!(decide(h, 3, 1), want, "{h:?}");
        }
        assert_eq!(decide(&[U, H], 1, 1), Want::Alert);
        assert_eq!(decide(&[U, U, H], 1, 1), Want::None);
    }

    #[test]
    fn an_unjudged_result_between_alert_and_recovery_does_not_swallow_the_recovery() {
        // §5.2 lists [H, null, U, U, U] → none: the PHP version never sent the recovery, so the
        // alert it raised on the third U stayed open forever. Here the recovery is sent.
        assert_eq!(decide(&[H, N, U, U, U], 3, 1), Want::Recovery);
        // But an unjudged result does break runs.
        assert_eq!(decide(&[U, N, U, U], 3, 1), Want::None);
    }

    #[test]
    fn recovery_waits_for_m_healthy_results() {
        assert_eq!(decide(&[H, U, U, U], 3, 2), Want::None);
        assert_eq!(decide(&[H, H, U, U, U], 3, 2), Want::Recovery);
        assert_eq!(decide(&[H, U, H, U, U, U], 3, 2), Want::None);
    }

    #[test]
    fn policy_validation() {
        assert_eq!(AlertPolicy::new(0, 1).unwrap_err().field, "alert_after");
        assert_eq!(AlertPolicy::new(3, 0).unwrap_err().field, "recover_after");
        assert_eq!(AlertPolicy::new(3, 21).unwrap_err().field, "recover_after");
    }

    fn sample() -> impl Strategy<Value = HealthSample> {
        prop_oneof![Just(H), Just(U), Just(F), Just(N)]
    }

    proptest! {
        #[test]
        fn alerts_and_recoveries_alternate_starting_with_an_alert(
            samples in proptest::collection::vec(sample(), 0..200),
            n in 1u32..6,
            m in 1u32..4,
        ) {
            let policy = AlertPolicy::new(n, m).unwrap();
            let mut state = AlertState::default();
            let mut expect_alert = true;
            for s in samples {
                let (next, edge) = state.step(s, &policy);
                match edge {
                    Some(AlertEdge::Alert { consecutive }) => {
                        prop_assert!(expect_alert);
                        prop_assert_eq!(consecutive, n);
                        expect_alert = false;
                    }
                    Some(AlertEdge::Recovery { consecutive }) => {
                        prop_assert!(!expect_alert);
                        prop_assert_eq!(consecutive, m);
                        expect_alert = true;
                    }
                    None => {}
                }
                state = next;
            }
        }
    }
}
