//! HTTP checks: the status must lie in an accepted range, then the total time must not exceed
//! `max_response_ms`, then the body must contain `body_contains` (the first failing condition
//! is reported).

use super::{FailureClass, Outcome};

/// Whether `status` lies in one of the inclusive ranges.
pub fn accepted(status: u16, ranges: &[(u16, u16)]) -> bool {
    ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&status))
}

/// What one response observed.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpObservation {
    /// The status.
    pub status: u16,
    /// From sending the request to the end of the (capped) body, ms.
    pub total_ms: f64,
    /// The body read (at most 64 KiB), lossily decoded; `None` when not read (HEAD).
    pub body: Option<String>,
}

/// Judges a response: `(outcome, failure class, message)`.
pub fn judge(
    observation: &HttpObservation,
    ranges: &[(u16, u16)],
    max_response_ms: Option<u32>,
    body_contains: Option<&str>,
) -> (Outcome, Option<FailureClass>, Option<String>) {
    if !accepted(observation.status, ranges) {
        let list: Vec<String> = ranges.iter().map(|(l, h)| format!("{l}-{h}")).collect();
        return (
            Outcome::Fail,
            Some(FailureClass::HttpStatus),
            Some(format!(
                "status {} is not accepted ({})",
                observation.status,
                list.join(", ")
            )),
        );
    }
    if let Some(max) = max_response_ms
        && observation.total_ms > f64::from(max)
    {
        return (
            Outcome::Fail,
            Some(FailureClass::Condition),
            Some(format!(
                "response took {:.1} ms, more than max_response_ms {max}",
                observation.total_ms
            )),
        );
    }
    if let Some(needle) = body_contains {
        let found = observation
            .body
            .as_deref()
            .is_some_and(|b| b.contains(needle));
        if !found {
            return (
                Outcome::Fail,
                Some(FailureClass::Condition),
                Some(format!("the body does not contain {needle:?}")),
            );
        }
    }
    (Outcome::Ok, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(status: u16, total_ms: f64, body: &str) -> HttpObservation {
        HttpObservation {
            status,
            total_ms,
            body: Some(body.to_owned()),
        }
    }

    #[test]
    fn accepted_ranges_are_inclusive() {
        let r = [(200, 399)];
        assert!(accepted(200, &r) && accepted(301, &r) && accepted(399, &r));
        assert!(!accepted(199, &r) && !accepted(400, &r));
        assert!(accepted(404, &[(200, 299), (404, 404)]));
    }

    #[test]
    fn the_first_failing_condition_is_reported() {
        let ok = judge(
            &obs(200, 10.0, "hello"),
            &[(200, 299)],
            Some(10),
            Some("ell"),
        );
        assert_eq!(ok, (Outcome::Ok, None, None));
        let (o, c, m) = judge(&obs(503, 99.0, ""), &[(200, 299)], Some(10), Some("x"));
        assert_eq!((o, c), (Outcome::Fail, Some(FailureClass::HttpStatus)));
        assert_eq!(m.unwrap(), "status 503 is not accepted (200-299)");
        let (_, c, m) = judge(&obs(200, 10.5, "x"), &[(200, 299)], Some(10), Some("x"));
        assert_eq!(c, Some(FailureClass::Condition));
        assert!(m.unwrap().contains("max_response_ms 10"));
        let (_, c, m) = judge(&obs(200, 1.0, "hello"), &[(200, 299)], None, Some("bye"));
        assert_eq!(c, Some(FailureClass::Condition));
        assert!(m.unwrap().contains("\"bye\""));
        let head = HttpObservation {
            status: 200,
            total_ms: 1.0,
            body: None,
        };
        assert_eq!(
            judge(&head, &[(200, 299)], None, Some("x")).0,
            Outcome::Fail
        );
    }
}
