//! A rollup write's clears (migration 0022's index, bounded below by `Level::max_seconds`),
//! on both databases: every bucket of the connection and level overlapping the range goes,
//! whatever its length or server key (a 25-hour local day, a per-server row), and
//! the buckets ending at the range's start or starting at its end stay.

use netpulse_domain::Timestamp;
use netpulse_domain::rollup::{Level, SpeedBucket, SpeedSample};
use netpulse_ports::rollup_store::{RollupWrite, StoredRollup};
use netpulse_ports::storage::Storage;

use crate::storage::helpers::seeded;

fn day_row(
    c: &netpulse_domain::id::ConnectionId,
    key: &str,
    start: Timestamp,
    hours: i64,
) -> StoredRollup {
    let sample = SpeedSample {
        at: start.plus_seconds(60),
        ok: true,
        healthy: true,
        values: [Some(1e8), Some(1e7), Some(10.0), Some(1.0), Some(0.0)],
    };
    StoredRollup {
        connection: c.clone(),
        level: Level::Day,
        server_key: key.to_owned(),
        bucket_at: start,
        bucket_end: start.plus_seconds(hours * 3_600),
        server_name: None,
        server_location: None,
        by_host: false,
        expected: 1.0,
        bucket: SpeedBucket::of([&sample]),
    }
}

async fn starts(s: &dyn Storage, per_server: bool) -> Vec<i64> {
    s.speed_rollups(
        None,
        Level::Day,
        per_server,
        Timestamp::from_unix_millis(0),
        Timestamp::from_unix_millis(i64::MAX),
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.bucket_at.unix_millis() / 3_600_000)
    .collect()
}

pub(crate) async fn rollup_clears_remove_every_overlapping_bucket(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let h = |n: i64| Timestamp::from_unix_millis(1_700_006_400_000 + n * 3_600_000);
    let base = 1_700_006_400_000 / 3_600_000;
    // Days (all servers, hours from `base`): [0, 24), [24, 49) a 25-hour day, [49, 73),
    // [84, 108) after a gap; and a per-server day [24, 49). With a bound of one nominal day
    // the 25-hour day would survive the first clear.
    let rows = vec![
        day_row(&c.id, "", h(0), 24),
        day_row(&c.id, "", h(24), 25),
        day_row(&c.id, "", h(49), 24),
        day_row(&c.id, "", h(84), 24),
        day_row(&c.id, "srv", h(24), 25),
    ];
    let write = RollupWrite {
        rows,
        ..RollupWrite::default()
    };
    assert!(s.write_speed_rollups(&write).await.unwrap());
    assert_eq!(
        starts(s, false).await,
        vec![base, base + 24, base + 49, base + 84]
    );
    // Clearing the last hour of the long day takes it and its per-server row, nothing else.
    let clear = RollupWrite {
        clear: vec![(c.id.clone(), Level::Day, h(48), h(49))],
        ..RollupWrite::default()
    };
    assert!(s.write_speed_rollups(&clear).await.unwrap());
    assert_eq!(starts(s, false).await, vec![base, base + 49, base + 84]);
    assert!(starts(s, true).await.is_empty());
    // A range from a day's end to the next one's start clears nothing.
    let clear = RollupWrite {
        clear: vec![(c.id.clone(), Level::Day, h(73), h(84))],
        ..RollupWrite::default()
    };
    assert!(s.write_speed_rollups(&clear).await.unwrap());
    assert_eq!(starts(s, false).await, vec![base, base + 49, base + 84]);
    // One overlapping two days clears both.
    let clear = RollupWrite {
        clear: vec![(c.id.clone(), Level::Day, h(23), h(50))],
        ..RollupWrite::default()
    };
    assert!(s.write_speed_rollups(&clear).await.unwrap());
    assert_eq!(starts(s, false).await, vec![base + 84]);
}
