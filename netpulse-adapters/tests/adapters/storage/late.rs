//! Late results (an agent replaying an old spool, a backfill): stored, but they move no live
//! state and claim no edge.

use netpulse_domain::alert::AlertEdge;
use netpulse_domain::model::RunPhase;
use netpulse_ports::storage::{
    MeasurementFilter, MeasurementSort, RecordOutcome, RunScope, Storage,
};

use crate::storage::helpers::{at, failed, measurement, observation, record, seeded};

const DAY: i64 = 86_400;

fn edge_of(out: &RecordOutcome) -> Option<AlertEdge> {
    match out {
        RecordOutcome::Recorded { edge, .. } => *edge,
        RecordOutcome::AlreadyRecorded(_) => panic!("expected Recorded"),
    }
}

pub(crate) async fn late_results_are_stored_but_change_no_live_state(s: &dyn Storage) {
    let (p, c) = seeded(s).await;
    let now = at(40 * DAY);
    // The newest results are unhealthy (a failure, then two slow ones): the third one alerts.
    let mut edges = Vec::new();
    for i in 0..3 {
        let obs = if i == 0 {
            failed()
        } else {
            observation(300.0, 150.0)
        };
        let m = measurement(&c, now.plus_seconds(i * 600), Some("a"), obs);
        edges.push(edge_of(&record(s, m).await));
    }
    assert_eq!(
        edges,
        [None, None, Some(AlertEdge::Alert { consecutive: 3 })]
    );
    let alerting = s.connection_state(&c.id).await.unwrap().unwrap();
    assert!(alerting.alert.alerting);

    // A run-now request is running when the replay starts.
    s.request_run(RunScope::Connection(&c.id), None, now.plus_seconds(1300))
        .await
        .unwrap();
    assert_eq!(
        s.take_run_requests(&p.id, now.plus_seconds(1301))
            .await
            .unwrap()
            .len(),
        1
    );

    // Healthy (and a few unhealthy) results 7 to 30 days older than the newest one.
    for day in 7..=30 {
        let obs = if day % 5 == 0 {
            observation(300.0, 150.0)
        } else {
            observation(950.0, 5.0)
        };
        let m = measurement(&c, now.plus_seconds(-day * DAY), Some("b"), obs);
        let out = record(s, m.clone()).await;
        assert_eq!(edge_of(&out), None, "day -{day}: no edge");
        let stored = s.measurement(&m.id).await.unwrap().unwrap();
        assert_eq!(
            stored.verdict.healthy(),
            day % 5 != 0,
            "day -{day}: judged and stored"
        );
        assert_eq!(
            s.connection_state(&c.id).await.unwrap().unwrap(),
            alerting,
            "day -{day}: the live state is as it was"
        );
    }
    let page = s
        .measurements(
            &MeasurementFilter::default(),
            MeasurementSort::default(),
            100,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        page.items.len(),
        3 + 24,
        "every late result is in the history"
    );
    assert_eq!(
        s.run_state(&c.id).await.unwrap().unwrap().phase,
        RunPhase::Running,
        "a late result is not the answer to the running request"
    );

    // The next newer result still advances: it recovers and answers the request.
    let mut fresh = measurement(
        &c,
        now.plus_seconds(1400),
        Some("c"),
        observation(950.0, 5.0),
    );
    fresh.scheduled = false;
    assert_eq!(
        edge_of(&record(s, fresh).await),
        Some(AlertEdge::Recovery { consecutive: 1 })
    );
    let state = s.connection_state(&c.id).await.unwrap().unwrap();
    assert!(!state.alert.alerting);
    assert_eq!(state.history.encode(), "HUUF");
    assert_eq!(state.last.unwrap().completed_at, now.plus_seconds(1400));
    assert_eq!(
        s.run_state(&c.id).await.unwrap().unwrap().phase,
        RunPhase::Done
    );
}
