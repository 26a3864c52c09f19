//! Baseline rows: replaced per day, the newest of each metric in force, and read by ingest
//! (a result far below a reliable baseline breaches `baseline_deviation`).

use netpulse_domain::baseline::{Baseline, Metric};
use netpulse_domain::health::Breach;
use netpulse_ports::baseline_store::StoredBaseline;
use netpulse_ports::storage::{RecordOutcome, Storage};

use crate::storage::helpers::{at, measurement, observation, record, seeded};

const DAY: i64 = 86_400;

fn row(
    c: &netpulse_domain::model::Connection,
    metric: Metric,
    day: i64,
    median: f64,
) -> StoredBaseline {
    StoredBaseline {
        connection: c.id.clone(),
        metric,
        day: format!("day{day}"),
        day_start: at(day * DAY),
        baseline: Baseline {
            n: 60,
            median,
            p10: median * 0.9,
            p90: median * 1.1,
            mad: 1.5,
        },
        computed_at: at(day * DAY + 1800),
    }
}

pub(crate) async fn baseline_rows_are_per_day_and_the_newest_is_in_force(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let a = [
        row(&c, Metric::Download, 1, 900e6),
        row(&c, Metric::Ping, 1, 10.0),
    ];
    s.write_baselines(&c.id, "day1", &a).await.unwrap();
    let b = [row(&c, Metric::Download, 2, 800e6)];
    s.write_baselines(&c.id, "day2", &b).await.unwrap();
    let now = at(2 * DAY + 600);
    let mut got = s.baselines_in_force(&c.id, at(0), now).await.unwrap();
    got.sort_by_key(|r| r.metric);
    assert_eq!(
        got,
        vec![b[0].clone(), a[1].clone()],
        "every field round-trips"
    );
    // Rows that started before `since`, or after `at`, are not in force.
    assert_eq!(
        s.baselines_in_force(&c.id, at(2 * DAY), now).await.unwrap(),
        vec![b[0].clone()]
    );
    assert!(
        s.baselines_in_force(&c.id, at(0), at(DAY - 1))
            .await
            .unwrap()
            .is_empty()
    );
    // Ingest reads them: 500 Mbps is more than 30 % below 800 Mbps (and below the plan floor).
    let m = measurement(&c, now, Some("a"), observation(500.0, 10.0));
    let RecordOutcome::Recorded { measurement: m, .. } = record(s, m).await else {
        panic!("recorded");
    };
    assert!(
        m.verdict.breaches.contains(&Breach::BaselineDeviation),
        "{:?}",
        m.verdict
    );
    // Rewriting a day replaces its rows: without day 2's, day 1's download is in force again.
    s.write_baselines(&c.id, "day2", &[]).await.unwrap();
    let got = s.baselines_in_force(&c.id, at(0), now).await.unwrap();
    assert!(got.contains(&a[0]) && got.len() == 2, "{got:?}");
}
