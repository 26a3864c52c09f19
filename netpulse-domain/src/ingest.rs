//! The ingest decision: what recording one measurement means for its connection.
//!
//! Storage loads the connection and its state (locked, so ingest is serialised per
//! connection), calls [`decide`], and stores exactly what it returns: the judged measurement,
//! the next [`ConnectionState`], the alert edge to announce, and whether the measurement is
//! late (a late one does not answer a running run-now request). Every rule of ingest lives here, so a change to it is
//! made in one place.
//!
//! # Late results
//!
//! Results arrive out of order: an agent replays a spool after an outage, a backfill imports
//! last month. The live state advances only on a result that is **not older than the newest
//! one applied** ([`ConnectionState::is_late`]). Ties: a result completed in the same
//! millisecond as the newest one is not late, whichever of the two arrives first (they are
//! simultaneous; a tie-break on the result id would drop one of a burst of results sharing a
//! completion time at random). A late result is judged and stored like any other (history,
//! charts, CSV), but:
//!
//! - the last-run marker, the degradation history (so the degraded flag and the status) and
//!   the alert debouncer stay as they were;
//! - it crosses no edge: no alert, no recovery, no incident opened or closed;
//! - it does not finish a running run-now request (it cannot be the answer to a request handed
//!   out after a newer result was recorded; the next newer result finishes it).
//!
//! The one figure a late result can move is `last_completed_at` (and with it the dashboard's
//! and `/metrics`' latest completed figures): it is the newest *completed* result, whatever the
//! arrival order, so a late completed result becomes it only when every newer result failed.

use crate::alert::{AlertEdge, AlertPolicy};
use crate::baseline::{InForce, deviates};
use crate::health::{Breach, evaluate};
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
    /// Whether the measurement is late: older than the newest result applied before it. A late
    /// one moved no live state and does not finish the connection's running run-now request.
    pub late: bool,
}

/// Decides what recording `measurement` for `connection` does, given the connection's state
/// before it.
///
/// - The verdict is computed from the connection's current thresholds and plan (whatever the
///   agent sent is replaced), for late results too. A completed result more than the
///   connection's deviation worse than one of the reliable baselines `in_force` (those of the
///   result's local day, looked up by storage) also breaches `baseline_deviation`.
/// - A result that is not late ([`ConnectionState::is_late`]) steps the alert debouncer with
///   its sample, under the connection's own alert policy or `default_alerts` when it has none,
///   and advances the state as [`ConnectionState::after`] describes.
/// - A late result crosses no edge and leaves the state as it was (see the module doc).
#[must_use]
pub fn decide(
    previous: &ConnectionState,
    connection: &Connection,
    mut measurement: Measurement,
    default_alerts: &AlertPolicy,
    in_force: &InForce,
) -> IngestDecision {
    measurement.verdict = evaluate(
        &measurement.observation,
        &connection.thresholds,
        &connection.expected,
    );
    if deviates(
        &measurement.observation,
        in_force,
        connection.thresholds.baseline_deviation_pct(),
    ) {
        // The last breach in list order.
        measurement.verdict.breaches.push(Breach::BaselineDeviation);
    }
    let sample = measurement.sample();
    let late = previous.is_late(measurement.completed_at);
    let (alert, edge) = if late {
        (previous.alert, None)
    } else {
        let policy = connection.alerts.unwrap_or(*default_alerts);
        previous.alert.step(sample, &policy)
    };
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
        late,
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
            &[],
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
            &[],
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
            &[],
        );
        assert_eq!(d.measurement.verdict.breaches, vec![Breach::TestFailed]);
        assert_eq!(d.next.last.map(|l| l.completed_at), Some(t(0)));
        assert_eq!(d.next.last_completed_at, None);
        assert_eq!(d.next.history.newest_first(), &[HealthSample::Failed][..]);
    }

    #[test]
    fn an_older_result_moves_neither_the_last_run_nor_the_history() {
        let previous = ConnectionState {
            last: Some(LastRun {
                completed_at: t(600),
                pool_entry: Some(PoolEntry::parse("b").unwrap()),
            }),
            history: HealthHistory::from_newest_first(vec![HealthSample::Healthy]),
            last_completed_at: Some(t(600)),
            ..ConnectionState::default()
        };
        let d = decide(
            &previous,
            &connection(None),
            measurement(1, t(0), SLOW),
            &AlertPolicy::default(),
            &[],
        );
        assert!(d.late);
        assert_eq!(d.next, previous);
        assert_eq!(d.measurement.verdict.breaches, vec![Breach::DownloadBelow]);
    }

    /// The state after `speeds` pushed in order, an hour apart from `t(0)`, ids 1, 2, ...
    fn alerting_state(connection: &Connection, speeds: &[f64]) -> ConnectionState {
        let mut state = ConnectionState::default();
        for (i, speed) in speeds.iter().enumerate() {
            let n = u32::try_from(i).unwrap() + 1;
            let at = t(i64::from(n) * 3600);
            state = decide(
                &state,
                connection,
                measurement(n, at, *speed),
                &AlertPolicy::default(),
                &[],
            )
            .next;
        }
        state
    }

    #[test]
    fn an_older_result_sends_nothing_and_leaves_the_live_state_as_it_was() {
        let c = connection(None);
        let previous = alerting_state(&c, &[SLOW, SLOW, SLOW]);
        assert!(previous.alert.alerting);
        // Healthy and failed results from days before the newest one (a replayed spool).
        for (n, days) in [(100, 7), (101, 30), (102, 8)] {
            let mut m = measurement(n, t(-86_400 * days), FAST);
            if n == 102 {
                m.observation = Observation::failed(FailureClass::Network, "unreachable");
            }
            let d = decide(&previous, &c, m, &AlertPolicy::default(), &[]);
            assert_eq!(d.edge, None, "no recovery, no alert");
            assert_eq!(d.next, previous, "no live state moves");
        }
        // Its verdict is still judged (and stored with it).
        let d = decide(
            &previous,
            &c,
            measurement(103, t(-86_400 * 7), SLOW),
            &AlertPolicy::default(),
            &[],
        );
        assert_eq!(d.measurement.verdict.breaches, vec![Breach::DownloadBelow]);
        assert_eq!(d.next, previous);
    }

    #[test]
    fn a_newer_result_after_older_ones_still_advances() {
        let c = connection(None);
        let mut state = alerting_state(&c, &[SLOW, SLOW, SLOW]);
        for n in 0..5 {
            state = decide(
                &state,
                &c,
                measurement(200 + n, t(-3600 * i64::from(n + 1)), FAST),
                &AlertPolicy::default(),
                &[],
            )
            .next;
        }
        let d = decide(
            &state,
            &c,
            measurement(300, t(5 * 3600), FAST),
            &AlertPolicy::default(),
            &[],
        );
        assert_eq!(d.edge, Some(AlertEdge::Recovery { consecutive: 1 }));
        assert_eq!(d.next.last.map(|l| l.completed_at), Some(t(5 * 3600)));
        assert_eq!(
            d.next.history.newest_first(),
            &[
                HealthSample::Healthy,
                HealthSample::Unhealthy,
                HealthSample::Unhealthy,
                HealthSample::Unhealthy
            ][..]
        );
    }

    #[test]
    fn a_late_unhealthy_result_does_not_make_a_healthy_link_degraded() {
        let c = connection(None);
        let previous = alerting_state(&c, &[FAST, FAST, FAST]);
        assert!(!c.adaptive.is_degraded(&previous.history));
        let mut state = previous.clone();
        for n in 0..3 {
            let d = decide(
                &state,
                &c,
                measurement(400 + n, t(-60 * i64::from(n + 1)), SLOW),
                &AlertPolicy::default(),
                &[],
            );
            assert_eq!(d.edge, None);
            state = d.next;
        }
        assert_eq!(state, previous);
        assert!(!c.adaptive.is_degraded(&state.history));
    }

    #[test]
    fn a_result_completed_at_the_same_time_as_the_newest_one_is_not_late() {
        let c = connection(None);
        let first = measurement(2, t(0), SLOW);
        let second = measurement(1, t(0), SLOW);
        for order in [[&first, &second], [&second, &first]] {
            let mut state = ConnectionState::default();
            for m in order {
                let d = decide(&state, &c, m.clone(), &AlertPolicy::default(), &[]);
                assert!(!d.late, "{order:?}");
                state = d.next;
            }
            assert_eq!(state.history.encode(), "UU");
            assert_eq!(state.alert.unhealthy_run, 2);
        }
    }

    /// A result of kind `kind` (0 healthy, 1 unhealthy, 2 failed).
    fn result_of(n: u32, at: Timestamp, kind: u8) -> Measurement {
        let mut m = measurement(n, at, if kind == 0 { FAST } else { SLOW });
        if kind == 2 {
            m.observation = Observation::failed(FailureClass::Network, "unreachable");
        }
        m
    }

    /// Pushes `results` in order from a fresh state; returns the final state and the edges.
    fn push_all(c: &Connection, results: &[Measurement]) -> (ConnectionState, Vec<AlertEdge>) {
        let mut state = ConnectionState::default();
        let mut edges = Vec::new();
        for m in results {
            let d = decide(&state, c, m.clone(), &AlertPolicy::default(), &[]);
            state = d.next;
            edges.extend(d.edge);
        }
        (state, edges)
    }

    proptest::proptest! {
        /// A live stream in order, with late results (each older than one already pushed)
        /// slipped in at two different places: the same final state and the same messages
        /// as the live stream alone.
        #[test]
        fn late_results_never_change_the_outcome(
            live in proptest::collection::vec(0u8..3, 1..16),
            late in proptest::collection::vec((0u8..3, 0usize..16, 1i64..2_592_000, 0usize..16, 0usize..16), 0..16),
        ) {
            let c = connection(None);
            let live: Vec<Measurement> = live
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let n = u32::try_from(i).unwrap() + 1;
                    result_of(n, t(i64::from(n) * 3600), *k)
                })
                .collect();
            // Each late result: older than live[pivot], inserted after live[p] with p >= pivot.
            let mut first: Vec<Vec<Measurement>> = vec![Vec::new(); live.len()];
            let mut second = first.clone();
            for (j, (kind, pivot, age, a, b)) in late.iter().enumerate() {
                let pivot = pivot % live.len();
                let m = result_of(
                    1000 + u32::try_from(j).unwrap(),
                    live[pivot].completed_at.plus_seconds(-age),
                    *kind,
                );
                let span = live.len() - pivot;
                first[pivot + a % span].push(m.clone());
                second[pivot + b % span].insert(0, m);
            }
            let interleave = |extra: &[Vec<Measurement>]| -> Vec<Measurement> {
                live.iter()
                    .zip(extra)
                    .flat_map(|(m, e)| std::iter::once(m.clone()).chain(e.iter().cloned()))
                    .collect()
            };
            let (alone, alone_edges) = push_all(&c, &live);
            let (one, one_edges) = push_all(&c, &interleave(&first));
            let (two, two_edges) = push_all(&c, &interleave(&second));
            proptest::prop_assert_eq!(&one.last, &alone.last);
            proptest::prop_assert_eq!(&one.history, &alone.history);
            proptest::prop_assert_eq!(one.alert, alone.alert);
            proptest::prop_assert_eq!(&one_edges, &alone_edges);
            proptest::prop_assert_eq!(&one, &two);
            proptest::prop_assert_eq!(&one_edges, &two_edges);
        }

        /// Whatever the arrival order, the last run and the last completion are those of the
        /// newest results.
        #[test]
        fn the_newest_result_does_not_depend_on_the_arrival_order(
            results in proptest::collection::vec((0u8..3, 0i64..4), 1..12),
            seed in 0usize..1000,
        ) {
            let c = connection(None);
            let set: Vec<Measurement> = results
                .iter()
                .enumerate()
                .map(|(i, (kind, hour))| {
                    result_of(u32::try_from(i).unwrap() + 1, t(hour * 3600), *kind)
                })
                .collect();
            let mut shuffled = set.clone();
            shuffled.rotate_left(seed % set.len());
            shuffled.reverse();
            let newest = set.iter().map(|m| m.completed_at).max();
            let newest_completed = set
                .iter()
                .filter(|m| m.observation.completed())
                .map(|m| m.completed_at)
                .max();
            for order in [&set, &shuffled] {
                let (state, _) = push_all(&c, order);
                proptest::prop_assert_eq!(state.last.as_ref().map(|l| l.completed_at), newest);
                proptest::prop_assert_eq!(state.last_completed_at, newest_completed);
                // Only results of the newest time joined the history after the first of them.
                let simultaneous = set.iter().filter(|m| Some(m.completed_at) == newest).count();
                proptest::prop_assert!(state.history.newest_first().len() >= simultaneous);
            }
        }
    }

    #[test]
    fn a_deviation_from_a_reliable_baseline_is_a_breach_that_alerts_after_n() {
        use crate::baseline::{Baseline, Metric};
        let c = connection(None);
        let reliable = [(Metric::Download, Baseline::of(&[FAST; 50]).unwrap())];
        let collecting = [(Metric::Download, Baseline::of(&[FAST; 49]).unwrap())];
        // No plan (so no plan floor): 65 Mbps is only more than 30 % below the 95 Mbps
        // baseline (66.5 Mbps).
        let mut c0 = c.clone();
        c0.expected.download_bps = 0;
        let slowish = 65_000_000.0;
        let mut state = ConnectionState::default();
        let mut edges = vec![];
        for n in 1..=3 {
            let d = decide(
                &state,
                &c0,
                measurement(500 + n, t(i64::from(n) * 3600), slowish),
                &AlertPolicy::default(),
                &reliable,
            );
            assert_eq!(
                d.measurement.verdict.breaches,
                vec![Breach::BaselineDeviation]
            );
            state = d.next;
            edges.extend(d.edge);
        }
        assert_eq!(edges, vec![AlertEdge::Alert { consecutive: 3 }]);
        // Collecting, or no baseline: healthy.
        for in_force in [&collecting[..], &[]] {
            let d = decide(
                &ConnectionState::default(),
                &c0,
                measurement(600, t(0), slowish),
                &AlertPolicy::default(),
                in_force,
            );
            assert!(d.measurement.verdict.healthy());
        }
        // A wider deviation on the connection lets it pass.
        c0.thresholds = c0.thresholds.with_baseline_deviation_pct(40.0).unwrap();
        let d = decide(
            &ConnectionState::default(),
            &c0,
            measurement(601, t(0), slowish),
            &AlertPolicy::default(),
            &reliable,
        );
        assert!(d.measurement.verdict.healthy());
    }
}
