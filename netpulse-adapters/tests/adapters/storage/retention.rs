//! Retention floors and the batched prune (migration 0019), on both databases: a floor only
//! moves forward, a count finds exactly the rows older than the cut and the oldest kept,
//! batches of a few rows remove exactly those and then nothing, rollup buckets go only when
//! they end by the cut, a rollup write that read another raw floor is refused, and a full
//! rollup re-mark starts at the floor.

use netpulse_domain::Timestamp;
use netpulse_domain::retention::DataKind;
use netpulse_domain::rollup::{Level, SpeedBucket, SpeedSample};
use netpulse_ports::rollup_store::{RollupWrite, StoredRollup};
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort, Storage};

use crate::storage::helpers::{at, measurement, observation, record, seeded};

async fn kept_times(s: &dyn Storage) -> Vec<Timestamp> {
    let page = s
        .measurements(
            &MeasurementFilter::default(),
            MeasurementSort::CompletedDesc,
            500,
            None,
        )
        .await
        .unwrap();
    let mut out: Vec<Timestamp> = page.items.iter().map(|m| m.completed_at).collect();
    out.sort();
    out
}

fn hour_row(c: &netpulse_domain::id::ConnectionId, start: Timestamp) -> StoredRollup {
    let sample = SpeedSample {
        at: start.plus_seconds(60),
        ok: true,
        healthy: true,
        values: [Some(1e8), Some(1e7), Some(10.0), Some(1.0), Some(0.0)],
    };
    StoredRollup {
        connection: c.clone(),
        level: Level::Hour,
        server_key: String::new(),
        bucket_at: start,
        bucket_end: start.plus_seconds(3_600),
        server_name: None,
        server_location: None,
        by_host: false,
        expected: 1.0,
        bucket: SpeedBucket::of([&sample]),
    }
}

async fn all(s: &dyn Storage) -> Vec<StoredRollup> {
    s.speed_rollups(
        None,
        Level::Hour,
        false,
        Timestamp::from_unix_millis(0),
        Timestamp::from_unix_millis(i64::MAX),
    )
    .await
    .unwrap()
}

pub(crate) async fn prune_batches_remove_exactly_what_is_older(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    // 25 results ten minutes apart, recorded newest first (late ones included).
    for i in (0..25).rev() {
        record(
            s,
            measurement(&c, at(i * 600), None, observation(100.0, 10.0)),
        )
        .await;
    }
    let cut = at(6_000);

    // Floors: none, then the cut; a lower one does not move it back.
    assert!(s.retention_floors().await.unwrap().is_empty());
    let f = s
        .raise_retention_floor(DataKind::RawSpeed, cut, at(0))
        .await
        .unwrap();
    assert_eq!(f, cut);
    let f = s
        .raise_retention_floor(DataKind::RawSpeed, at(60), at(1))
        .await
        .unwrap();
    assert_eq!(f, cut);
    assert_eq!(
        s.retention_floors().await.unwrap(),
        vec![(DataKind::RawSpeed, cut)]
    );

    let count = s.count_prunable(DataKind::RawSpeed, cut).await.unwrap();
    assert_eq!((count.rows, count.oldest_kept), (10, Some(cut)));
    let mut batches = Vec::new();
    loop {
        let n = s.prune_batch(DataKind::RawSpeed, cut, 3).await.unwrap();
        batches.push(n);
        if n < 3 {
            break;
        }
    }
    assert_eq!(batches, [3, 3, 3, 1]);
    let want: Vec<Timestamp> = (10..25).map(|i| at(i * 600)).collect();
    assert_eq!(kept_times(s).await, want);
    assert_eq!(s.prune_batch(DataKind::RawSpeed, cut, 3).await.unwrap(), 0);

    // A re-mark of every hour starts at the floor: the hours below it have no raw left
    // anyway, so mark from an hour further on and count.
    let from = at(3 * 3_600);
    let marked = s.mark_all_speed_dirty(from).await.unwrap();
    let hours: std::collections::BTreeSet<i64> = want
        .iter()
        .filter(|t| **t >= from)
        .map(|t| t.unix_millis().div_euclid(3_600_000))
        .collect();
    assert_eq!(marked, hours.len() as u64);

    // A rollup write that read another raw floor is refused and writes nothing.
    let hour0 = Timestamp::from_unix_millis(at(0).unix_millis().div_euclid(3_600_000) * 3_600_000);
    let rows: Vec<StoredRollup> = (0..5)
        .map(|h| hour_row(&c.id, hour0.plus_seconds(h * 3_600)))
        .collect();
    let mut write = RollupWrite {
        rows: rows.clone(),
        raw_floor: None,
        ..RollupWrite::default()
    };
    assert!(!s.write_speed_rollups(&write).await.unwrap());
    assert!(all(s).await.is_empty());
    write.raw_floor = Some(cut);
    assert!(s.write_speed_rollups(&write).await.unwrap());
    assert_eq!(all(s).await.len(), 5);

    // Hourly buckets go when they end by the cut: three of five, two per batch.
    let hour_cut = hour0.plus_seconds(3 * 3_600 + 1_800);
    let count = s.count_prunable(DataKind::Hourly, hour_cut).await.unwrap();
    assert_eq!(
        (count.rows, count.oldest_kept),
        (3, Some(hour0.plus_seconds(3 * 3_600)))
    );
    assert_eq!(
        s.count_prunable(DataKind::Daily, hour_cut)
            .await
            .unwrap()
            .rows,
        0
    );
    assert_eq!(
        s.prune_batch(DataKind::Hourly, hour_cut, 2).await.unwrap(),
        2
    );
    assert_eq!(
        s.prune_batch(DataKind::Hourly, hour_cut, 2).await.unwrap(),
        1
    );
    assert_eq!(all(s).await, rows[3..].to_vec());
    // Raw check results: none stored, none counted.
    let count = s.count_prunable(DataKind::RawChecks, cut).await.unwrap();
    assert_eq!((count.rows, count.oldest_kept), (0, None));
}
