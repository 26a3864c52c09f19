//! Service-check alerts: how a result feeds the shared edge debouncer
//! ([`crate::alert::AlertState`]), per check and family. Gatus's defaults: alert after 3 failed
//! rounds in a row, recover after 2 ok rounds.

use super::Outcome;
use crate::alert::AlertPolicy;
use crate::degradation::HealthSample;

/// Failed rounds in a row before a service check alerts.
pub const SERVICE_ALERT_AFTER: u32 = 3;
/// Ok rounds in a row before it recovers.
pub const SERVICE_RECOVER_AFTER: u32 = 2;

/// What a result is to the debouncer: ok is healthy, fail is failed; `not_applicable` and
/// `local_error` are unjudged (they break runs but never alert: the target was not measured).
pub fn alert_sample(outcome: Outcome) -> HealthSample {
    match outcome {
        Outcome::Ok => HealthSample::Healthy,
        Outcome::Fail => HealthSample::Failed,
        Outcome::NotApplicable | Outcome::LocalError => HealthSample::Unjudged,
    }
}

/// The default policy of service checks (3 to alert, 2 to recover).
pub fn default_service_alerts() -> AlertPolicy {
    AlertPolicy::new(SERVICE_ALERT_AFTER, SERVICE_RECOVER_AFTER)
        .expect("the default service-check alert policy is valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertState;

    #[test]
    fn three_failed_rounds_alert_and_two_ok_rounds_recover() {
        let policy = default_service_alerts();
        let mut state = AlertState::default();
        let mut edges = Vec::new();
        for o in [
            Outcome::Fail,
            Outcome::Fail,
            Outcome::Fail,
            Outcome::Fail,
            Outcome::Ok,
            Outcome::Ok,
        ] {
            let (next, edge) = state.step(alert_sample(o), &policy);
            state = next;
            edges.push(edge.is_some());
        }
        assert_eq!(edges, [false, false, true, false, false, true]);
        assert_eq!(alert_sample(Outcome::NotApplicable), HealthSample::Unjudged);
        assert_eq!(alert_sample(Outcome::LocalError), HealthSample::Unjudged);
    }
}
