//! Behaviours that need two server processes on one PostgreSQL: each "process" here is its own
//! connection pool, so the database, not the process, must arbitrate.

use netpulse_adapters::storage::postgres::PostgresStorage;
use netpulse_domain::alert::AlertPolicy;
use netpulse_ports::storage::{
    IncomingResult, MeasurementStore, RecordOutcome, RunScope, SchedulingStore, Storage,
};

use crate::storage::helpers::{at, measurement, observation, pg, seeded};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_polls_never_take_the_same_run_request() {
    let Some(db) = pg().await else { return };
    let a: &dyn Storage = db.storage.as_ref();
    let second = PostgresStorage::open(&db.url).await.unwrap();
    let (p, c) = seeded(a).await;
    for round in 0..40 {
        a.request_run(RunScope::Connection(&c.id), None, at(round))
            .await
            .unwrap();
        let (x, y) = tokio::join!(
            a.take_run_requests(&p.id, at(round)),
            second.take_run_requests(&p.id, at(round))
        );
        let taken = x.unwrap().len() + y.unwrap().len();
        assert_eq!(
            taken, 1,
            "round {round}: exactly one poll takes the request"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicate_pushes_store_one_measurement() {
    let Some(db) = pg().await else { return };
    let a: &dyn Storage = db.storage.as_ref();
    let second = PostgresStorage::open(&db.url).await.unwrap();
    let (_, c) = seeded(a).await;
    for round in 0..20 {
        let m = measurement(&c, at(round * 60), None, observation(900.0, 10.0));
        let policy = AlertPolicy::default();
        let (x, y) = tokio::join!(
            a.record(
                IncomingResult {
                    measurement: m.clone()
                },
                &policy
            ),
            second.record(
                IncomingResult {
                    measurement: m.clone()
                },
                &policy
            )
        );
        let outcomes = [x.unwrap(), y.unwrap()];
        let recorded = outcomes
            .iter()
            .filter(|o| matches!(o, RecordOutcome::Recorded { .. }))
            .count();
        assert_eq!(
            recorded, 1,
            "round {round}: one push records, the other sees it"
        );
    }
    let state = a.connection_state(&c.id).await.unwrap().unwrap();
    assert_eq!(
        state.history.newest_first().len(),
        20,
        "state advanced once per result"
    );
}
