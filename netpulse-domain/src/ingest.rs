//! The ingest decision: what recording one measurement means for its connection.
//!
//! Storage loads the connection and its state (locked, so ingest is serialised per
//! connection), calls [`decide`], and stores exactly what it returns: the judged measurement,
//! the next [`ConnectionState`] and the alert edge to announce. Every rule of ingest lives here,
//! so a change to it (e.g. how an out-of-order result moves the state) is made in one place.

use crate::alert::{AlertEdge, AlertPolicy};
use crate::health::evaluate;
use crate::model::{Connection, ConnectionState, Measurement};

/// What recording one measurement changes.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestDecision {
    /// The measurement with its verdict, judged against the connection's thresholds now.
    pub measurement: Measurement,
    /// The connection's state after the measurement (last run, history, debouncer).
    pub next: ConnectionState,
    /// The alert or recovery the measurement triggers, if any.
    pub edge: Option<AlertEdge>,
}

/// Decides what recording `measurement` for `connection` does, given the connection's state
/// before it.
///
/// - The verdict is computed from the connection's current thresholds and plan (whatever the
///   agent sent is replaced).
/// - The alert debouncer steps with the measurement's sample under the connection's own alert
///   policy, or `default_alerts` when it has none.
/// - The state advances as [`ConnectionState::after`] describes (the last-run marker only moves
///   forward; the sample always joins the history as the newest).
#[must_use]
pub fn decide(
    previous: &ConnectionState,
    connection: &Connection,
    mut measurement: Measurement,
    default_alerts: &AlertPolicy,
) -> IngestDecision {
    measurement.verdict = evaluate(
        &measurement.observation,
        &connection.thresholds,
        &connection.expected,
    );
    let sample = measurement.sample();
    let policy = connection.alerts.unwrap_or(*default_alerts);
    let (alert, edge) = previous.alert.step(sample, &policy);
    let mut next = previous.clone().after(
        measurement.completed_at,
        measurement.pool_entry.clone(),
        sample,
    );
    next.alert = alert;
    IngestDecision {
        measurement,
        next,
        edge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;
    use crate::alert::AlertState;
    use crate::degradation::{AdaptivePolicy, HealthHistory, HealthSample};
    use crate::due_work::LastRun;
    use crate::health::{Breach, Thresholds, Verdict};
    use crate::id::{ConnectionId, ProbeId, ResultId};
    use crate::measurement::{FailureClass, Observation};
    use crate::model::RawOutput;
    use crate::pool::{Engine, PoolEntry, ServerPool};
    use crate::schedule::{EvenSchedule, Schedule};
    use crate::values::{Colour, ExpectedSpeed, Labels, Name};

    const CONNECTION: &str = "11111111-1111-4111-8111-111111111111";
    const PROBE: &str = "22222222-2222-4222-8222-222222222222";

    fn t(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(1_780_747_500 + seconds)
    }

    fn connection(alerts: Option<AlertPolicy>) -> Connection {
        Connection {
            id: ConnectionId::parse(CONNECTION).unwrap(),
            probe_id: ProbeId::parse(PROBE).unwrap(),
            name: Name::parse("name", "Fibre").unwrap(),
            isp: String::new(),
            expected: ExpectedSpeed {
                download_bps: 100_000_000,
                upload_bps: 20_000_000,
            },
            colour: Colour::default(),
            labels: Labels::new(),
            pool: ServerPool::parse_all(&["a", "b"]).unwrap(),
            schedule: Schedule::Even(EvenSchedule::new(24, 0).unwrap()),
            thresholds: Thresholds::default(),
            adaptive: AdaptivePolicy::default(),
            alerts,
            source_interface: None,
            source_address: None,
            enabled: true,
            created_at: t(-86_400),
        }
    }

    /// A completed result at `at` with `download_bps`; the agent's verdict claims healthy.
    fn measurement(n: u32, at: Timestamp, download_bps: f64) -> Measurement {
        Measurement {
            id: ResultId::parse(&format!("33333333-3333-4333-8333-{n:012}")).unwrap(),
            probe_id: ProbeId::parse(PROBE).unwrap(),
            connection_id: ConnectionId::parse(CONNECTION).unwrap(),
            engine: Engine::Ookla,
            pool_entry: Some(PoolEntry::parse("a").unwrap()),
            observation: Observation {
                download_bps: Some(download_bps),
                upload_bps: Some(20_000_000.0),
                ping_ms: Some(10.0),
                ..Observation::default()
            },
            started_at: at.plus_seconds(-30),
            completed_at: at,
            received_at: at,
            scheduled: true,
            verdict: Verdict { breaches: vec![] },
            raw: RawOutput::default(),
        }
    }

    const SLOW: f64 = 10_000_000.0;
    const FAST: f64 = 95_000_000.0;

    #[test]
    fn the_verdict_comes_from_the_connection_not_the_agent() {
        let d = decide(
            &ConnectionState::default(),
            &connection(None),
            measurement(1, t(0), SLOW),
            &AlertPolicy::default(),
        );
        assert_eq!(d.measurement.verdict.breaches, vec![Breach::DownloadBelow]);
        assert_eq!(
            d.next.history.newest_first(),
            &[HealthSample::Unhealthy][..]
        );
    }

    #[test]
    fn the_state_advances_with_the_result() {
        let d = decide(
            &ConnectionState::default(),
            &connection(None),
            measurement(1, t(0), FAST),
            &AlertPolicy::default(),
        );
        assert!(d.measurement.verdict.healthy());
        assert_eq!(
            d.next.last,
            Some(LastRun {
                completed_at: t(0),
                pool_entry: Some(PoolEntry::parse("a").unwrap()),
            })
        );
        assert_eq!(d.next.last_completed_at, Some(t(0)));
        assert_eq!(d.next.history.newest_first(), &[HealthSample::Healthy][..]);
        assert_eq!(
            d.next.alert,
            AlertState {
                alerting: false,
                unhealthy_run: 0,
                healthy_run: 1,
            }
        );
        assert_eq!(d.edge, None);
    }

    #[test]
    fn a_failed_result_moves_the_last_run_but_not_the_last_completion() {
        let mut m = measurement(1, t(0), FAST);
        m.observation = Observation::failed(FailureClass::Network, "unreachable");
        let d = decide(
            &ConnectionState::default(),
            &connection(None),
            m,
            &AlertPolicy::default(),
        );
        assert_eq!(d.measurement.verdict.breaches, vec![Breach::TestFailed]);
        assert_eq!(d.next.last.map(|l| l.completed_at), Some(t(0)));
        assert_eq!(d.next.last_completed_at, None);
        assert_eq!(d.next.history.newest_first(), &[HealthSample::Failed][..]);
    }

    #[test]
    fn an_older_result_joins_the_history_without_moving_the_last_run_back() {
        let previous = ConnectionState {
            last: Some(LastRun {
                completed_at: t(600),
                pool_entry: Some(PoolEntry::parse("b").unwrap()),
            }),
            history: HealthHistory::from_newest_first(vec![HealthSample::Healthy]),
            last_completed_at: Some(t(600)),
            alert: AlertState::default(),
        };
        let d = decide(
            &previous,
            &connection(None),
            measurement(1, t(0), SLOW),
            &AlertPolicy::default(),
        );
        assert_eq!(d.next.last, previous.last);
        assert_eq!(d.next.last_completed_at, Some(t(600)));
        assert_eq!(
            d.next.history.newest_first(),
            &[HealthSample::Unhealthy, HealthSample::Healthy][..]
        );
    }

    /// Feeds `speeds` one at a time from a fresh state; returns each step's edge.
    fn edges(connection: &Connection, speeds: &[f64]) -> Vec<Option<AlertEdge>> {
        let mut state = ConnectionState::default();
        let mut out = Vec::new();
        for (i, speed) in speeds.iter().enumerate() {
            let n = u32::try_from(i).unwrap();
            let at = t(i64::from(n) * 3600);
            let d = decide(
                &state,
                connection,
                measurement(n, at, *speed),
                &AlertPolicy::default(),
            );
            state = d.next;
            out.push(d.edge);
        }
        out
    }

    #[test]
    fn the_debouncer_alerts_once_on_the_nth_unhealthy_result_and_recovers_once() {
        let got = edges(&connection(None), &[SLOW, SLOW, SLOW, SLOW, FAST, FAST]);
        assert_eq!(
            got,
            vec![
                None,
                None,
                Some(AlertEdge::Alert { consecutive: 3 }),
                None,
                Some(AlertEdge::Recovery { consecutive: 1 }),
                None,
            ]
        );
    }

    #[test]
    fn the_connections_own_policy_overrides_the_default() {
        let own = AlertPolicy::new(1, 2).unwrap();
        let got = edges(&connection(Some(own)), &[SLOW, FAST, FAST, SLOW]);
        assert_eq!(
            got,
            vec![
                Some(AlertEdge::Alert { consecutive: 1 }),
                None,
                Some(AlertEdge::Recovery { consecutive: 2 }),
                Some(AlertEdge::Alert { consecutive: 1 }),
            ]
        );
    }

    #[test]
    fn the_debouncer_continues_from_the_stored_state() {
        let previous = ConnectionState {
            alert: AlertState {
                alerting: false,
                unhealthy_run: 2,
                healthy_run: 0,
            },
            ..ConnectionState::default()
        };
        let d = decide(
            &previous,
            &connection(None),
            measurement(1, t(0), SLOW),
            &AlertPolicy::default(),
        );
        assert_eq!(d.edge, Some(AlertEdge::Alert { consecutive: 3 }));
        assert!(d.next.alert.alerting);
    }
}
