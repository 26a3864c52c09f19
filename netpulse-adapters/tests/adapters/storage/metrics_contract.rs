//! The `MetricsStore` contract, on both databases: the per-scrape catalog reads one row per
//! connection, and the startup snapshot finds the newest completed result per connection and
//! engine and counts runs by status and verdict.

use netpulse_domain::degradation::{AdaptivePolicy, HealthSample};
use netpulse_domain::model::Measurement;
use netpulse_domain::pool::Engine;
use netpulse_ports::metrics_store::MeasurementTally;
use netpulse_ports::storage::Storage;

use crate::storage::helpers::{
    at, connection, digest, failed, measurement, observation, probe, record, seeded,
};

pub(crate) async fn catalog_lists_every_connection_with_its_state(s: &dyn Storage) {
    assert!(s.metrics_connections().await.unwrap().is_empty());
    let (p, mut c) = seeded(s).await;
    let mut idle = connection(&p.id, "idle");
    idle.enabled = false;
    idle.adaptive = AdaptivePolicy::new(60, 2, 4).unwrap();
    s.create_connection(&idle).await.unwrap();
    // A slow result (unhealthy) then a failure.
    record(s, measurement(&c, at(10), None, observation(100.0, 10.0))).await;
    record(s, measurement(&c, at(20), None, failed())).await;

    let all = s.metrics_connections().await.unwrap();
    assert_eq!(all.len(), 2);
    let (a, b) = (&all[0], &all[1]);
    // By probe, then name.
    assert_eq!((a.name.as_str(), b.name.as_str()), ("idle", "wan1"));
    assert!(!a.enabled);
    assert_eq!(a.adaptive, idle.adaptive);
    assert!(a.history.newest_first().is_empty());
    assert_eq!(a.last_completed_at, None);
    assert_eq!(b.id, c.id);
    assert_eq!(b.probe_id, p.id);
    assert_eq!(b.isp, "Acme");
    assert_eq!(b.expected, c.expected);
    assert!(b.enabled);
    assert_eq!(
        b.history.newest_first(),
        [HealthSample::Failed, HealthSample::Unhealthy]
    );
    assert_eq!(b.last_completed_at, Some(at(10)));

    c.name = netpulse_domain::values::Name::parse("name", "renamed").unwrap();
    s.update_connection(&c).await.unwrap();
    s.delete_connection(&idle.id).await.unwrap();
    let all = s.metrics_connections().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "renamed");
}

fn with_engine(mut m: Measurement, engine: Engine) -> Measurement {
    m.engine = engine;
    m
}

pub(crate) async fn latest_completed_per_engine_skips_failures_and_older_results(s: &dyn Storage) {
    let (p, c) = seeded(s).await;
    let other = connection(&p.id, "wan2");
    s.create_connection(&other).await.unwrap();
    let never = connection(&p.id, "never");
    s.create_connection(&never).await.unwrap();
    let q = probe("office");
    s.create_probe(&q, &digest(2)).await.unwrap();

    let old = measurement(&c, at(10), None, observation(500.0, 10.0));
    let newest = measurement(&c, at(30), None, observation(600.0, 11.0));
    // A failure after the newest completed one, and an older result that arrives last.
    let fail = measurement(&c, at(40), None, failed());
    let late = measurement(&c, at(20), None, observation(700.0, 12.0));
    let iperf = with_engine(
        measurement(&c, at(15), None, observation(900.0, 1.0)),
        Engine::Iperf3,
    );
    let only_failed = measurement(&other, at(50), None, failed());
    for m in [&old, &newest, &fail, &late, &iperf, &only_failed] {
        record(s, m.clone()).await;
    }
    // Two results at the same instant: the larger id wins (the list order's tie-break).
    let mut tie_a = with_engine(
        measurement(&other, at(60), None, observation(10.0, 1.0)),
        Engine::Http,
    );
    let mut tie_b = tie_a.clone();
    tie_a.id =
        netpulse_domain::id::ResultId::parse("00000000-0000-4000-8000-000000000001").unwrap();
    tie_b.id =
        netpulse_domain::id::ResultId::parse("00000000-0000-4000-8000-000000000002").unwrap();
    tie_b.observation.download_bps = Some(20e6);
    record(s, tie_a).await;
    record(s, tie_b.clone()).await;

    let mut latest = s.latest_completed_per_engine().await.unwrap();
    latest.sort_by(|x, y| x.id.as_str().cmp(y.id.as_str()));
    let mut want = vec![newest.id.clone(), iperf.id.clone(), tie_b.id.clone()];
    want.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    assert_eq!(
        latest.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        want
    );
    let got = latest.iter().find(|m| m.id == newest.id).unwrap();
    // Everything but the raw output (left empty) round-trips.
    let mut expected = newest.clone();
    expected.raw.stdout = String::new();
    expected.raw.stderr = String::new();
    expected.verdict = got.verdict.clone();
    assert_eq!(got, &expected);
    assert_eq!(got.engine, Engine::Ookla);
    assert_eq!(
        latest
            .iter()
            .find(|m| m.id == tie_b.id)
            .unwrap()
            .observation
            .download_bps,
        Some(20e6)
    );
}

pub(crate) async fn tallies_count_by_engine_status_and_verdict(s: &dyn Storage) {
    assert!(s.measurement_tallies().await.unwrap().is_empty());
    let (_, c) = seeded(s).await;
    // 1000/500 plan at 0.7: 900 Mbps is healthy, 100 Mbps is not.
    for (i, obs) in [
        observation(900.0, 10.0),
        observation(900.0, 10.0),
        observation(100.0, 10.0),
        failed(),
        failed(),
        failed(),
    ]
    .into_iter()
    .enumerate()
    {
        record(s, measurement(&c, at(i as i64), None, obs)).await;
    }
    record(
        s,
        with_engine(
            measurement(&c, at(100), None, observation(900.0, 10.0)),
            Engine::Iperf3,
        ),
    )
    .await;
    let mut tallies = s.measurement_tallies().await.unwrap();
    tallies.sort_by_key(|t| (t.engine.as_str(), t.completed, t.healthy));
    let t = |engine, completed, healthy, count| MeasurementTally {
        connection_id: c.id.clone(),
        engine,
        completed,
        healthy,
        count,
    };
    assert_eq!(
        tallies,
        vec![
            t(Engine::Iperf3, true, true, 1),
            t(Engine::Ookla, false, false, 3),
            t(Engine::Ookla, true, false, 1),
            t(Engine::Ookla, true, true, 2),
        ]
    );
}

macro_rules! metrics_contract_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::storage::helpers::sqlite().await;
                    super::$name(db.storage.as_ref()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = crate::storage::helpers::pg().await {
                        super::$name(db.storage.as_ref()).await;
                    }
                }
            )*
        }
    };
}

metrics_contract_tests!(
    catalog_lists_every_connection_with_its_state,
    latest_completed_per_engine_skips_failures_and_older_results,
    tallies_count_by_engine_status_and_verdict,
);
