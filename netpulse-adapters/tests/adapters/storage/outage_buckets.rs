//! `OutageStore::outage_state_buckets` on both databases: a series' stored round states per
//! 15-minute bucket from the epoch, bounded by the window, adding up to the window's time per
//! state (`outage_state_time`).

use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::check::{
    CheckKind, CheckMeasurement, CheckParams, CheckRole, CheckSpec, FailureClass, Family,
    FamilyMode, Outcome,
};
use netpulse_domain::id::CheckId;
use netpulse_domain::outage::SeriesFamily;
use netpulse_domain::outage::availability::StateTime;
use netpulse_domain::values::Labels;
use netpulse_ports::check_store::Check;
use netpulse_ports::storage::Storage;

use crate::storage::helpers::{T0, at, digest, new_id, probe};

const BUCKET: i64 = 15 * 60_000;
const PERIOD: i64 = 60_000;

pub(crate) async fn outage_buckets_group_stored_rounds(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let c = Check {
        id: CheckId::parse(&new_id()).unwrap(),
        probe_id: p.id.clone(),
        spec: CheckSpec {
            kind: CheckKind::Icmp,
            target: "1.1.1.1".into(),
            port: None,
            family: FamilyMode::V4,
            role: CheckRole::Connectivity,
            interval_s: 60,
            params: CheckParams::default_for(CheckKind::Icmp),
        }
        .validate()
        .unwrap(),
        alerts: None,
        enabled: true,
        labels: Labels::new(),
        created_at: at(0),
        updated_at: at(0),
    };
    s.create_checks(std::slice::from_ref(&c)).await.unwrap();
    // 90 rounds from 12:05 UTC; 12:25–12:34 down.
    let rounds: Vec<CheckMeasurement> = (0..90)
        .map(|k| {
            if (20..30).contains(&k) {
                CheckMeasurement::failed(
                    c.id.clone(),
                    at(k * 60),
                    Family::V4,
                    Outcome::Fail,
                    FailureClass::Timeout,
                    "no answer",
                )
            } else {
                CheckMeasurement::new(c.id.clone(), at(k * 60), Family::V4, Outcome::Ok)
            }
        })
        .collect();
    for batch in rounds.chunks(30) {
        s.record_check_results(&p.id, batch, &AlertPolicy::default())
            .await
            .unwrap();
    }
    let buckets = s
        .outage_state_buckets(&p.id, SeriesFamily::V4, at(0), at(90 * 60), BUCKET, PERIOD)
        .await
        .unwrap();
    let start = (T0 / BUCKET) * BUCKET;
    let expected: Vec<(i64, i64, i64)> = vec![
        (start, 10, 0),
        (start + BUCKET, 15, 5),
        (start + 2 * BUCKET, 15, 5),
        (start + 3 * BUCKET, 15, 0),
        (start + 4 * BUCKET, 15, 0),
        (start + 5 * BUCKET, 15, 0),
        (start + 6 * BUCKET, 5, 0),
    ];
    let got: Vec<(i64, i64, i64)> = buckets
        .iter()
        .map(|(b, t)| (b.unix_millis(), t.known_ms / PERIOD, t.complete_ms / PERIOD))
        .collect();
    assert_eq!(got, expected);
    // They add up to the window's time per state.
    let mut sum = StateTime::default();
    for (_, t) in &buckets {
        sum.merge(t);
    }
    let whole = s
        .outage_state_time(&p.id, SeriesFamily::V4, at(0), at(90 * 60), PERIOD)
        .await
        .unwrap();
    assert_eq!(sum, whole);
    // The window bounds the rounds, not the buckets: 12:20–12:35.
    let part = s
        .outage_state_buckets(
            &p.id,
            SeriesFamily::V4,
            at(15 * 60),
            at(30 * 60),
            BUCKET,
            PERIOD,
        )
        .await
        .unwrap();
    let got: Vec<(i64, i64, i64)> = part
        .iter()
        .map(|(b, t)| (b.unix_millis(), t.known_ms / PERIOD, t.complete_ms / PERIOD))
        .collect();
    assert_eq!(
        got,
        vec![(start + BUCKET, 10, 5), (start + 2 * BUCKET, 5, 5)]
    );
    // A series without rounds, or none at all: nothing.
    let none = s
        .outage_state_buckets(&p.id, SeriesFamily::V6, at(0), at(90 * 60), BUCKET, PERIOD)
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
}
