//! Keeping the speed rollups exact: the rollup job (under the `rollups` lease, one process at
//! a time) takes the dirty (connection, UTC hour) pairs that ingest and re-parsing queued in the
//! result's own transaction, recomputes those hours and the local days they touch **from raw**
//! (all servers, and per server for the Servers page), re-merges the local ISO weeks of those
//! days from their seven stored days, and writes all of it with the queue rows in one
//! transaction. A row is cleared only at the version it was read at, so a result arriving
//! during the recompute keeps its hour dirty; recomputing (never incrementing) means replayed
//! and late results cannot count twice. Days and weeks are in the site time zone (DST-correct:
//! a local day may have 23 or 25 hours).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::tz::TimeZone;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::retention::{DataKind, recomputable};
use netpulse_domain::rollup::{Level, SpeedBucket};
use netpulse_ports::rollup_store::{DirtyHour, RawSpeedRow, RollupWrite, StoredRollup};

use super::App;
use crate::error::AppError;

/// Dirty hours taken per transaction.
pub const BATCH: u32 = 500;
/// How long a rollup lease lasts, seconds (renewed every round).
pub const LEASE_SECONDS: i64 = 120;
/// How often the rollup job runs, seconds.
pub const EVERY_SECONDS: u64 = 30;

const HOUR_MS: i64 = 3_600_000;

fn jiff_ts(at: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(at.unix_millis()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn ours(z: &jiff::Zoned) -> Timestamp {
    Timestamp::from_unix_millis(z.timestamp().as_millisecond())
}

/// The local day containing `at`: `[start, end)`.
pub fn local_day(at: Timestamp, tz: &TimeZone) -> (Timestamp, Timestamp) {
    let z = jiff_ts(at).to_zoned(tz.clone());
    let start = z.start_of_day().unwrap_or_else(|_| z.clone());
    let end = z
        .date()
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(tz.clone()).ok())
        .map_or_else(|| ours(&start).plus_seconds(86_400), |e| ours(&e));
    (ours(&start), end)
}

/// The local ISO week (from Monday 00:00) containing `at`: `[start, end)`.
pub fn local_week(at: Timestamp, tz: &TimeZone) -> (Timestamp, Timestamp) {
    let date = jiff_ts(at).to_zoned(tz.clone()).date();
    let back = i64::from(date.weekday().to_monday_zero_offset());
    let day = |offset: i64| {
        date.checked_add(jiff::Span::new().days(offset))
            .ok()
            .and_then(|d| d.to_zoned(tz.clone()).ok())
            .map(|z| ours(&z))
    };
    let start = day(-back).unwrap_or(at);
    let end = day(7 - back).unwrap_or_else(|| start.plus_seconds(7 * 86_400));
    (start, end)
}

/// The start of the bucket of `level` containing `at`.
pub fn bucket_start(level: Level, at: Timestamp, tz: &TimeZone) -> Timestamp {
    match level {
        Level::Hour => Timestamp::from_unix_millis(at.unix_millis().div_euclid(HOUR_MS) * HOUR_MS),
        Level::Day => local_day(at, tz).0,
        Level::Week => local_week(at, tz).0,
    }
}

/// One round of the rollup job: takes the `rollups` lease and works through the queue in
/// batches; returns the dirty hours done (0 without the lease).
pub async fn maintain(app: &App, holder: &str) -> Result<usize, AppError> {
    let now = app.clock.now();
    if !app
        .storage
        .acquire_lease("rollups", holder, now, now.plus_seconds(LEASE_SECONDS))
        .await?
    {
        return Ok(0);
    }
    catch_up(app).await
}

/// Works through the whole queue now (tests, benchmarks, `rollups rebuild`).
pub async fn catch_up(app: &App) -> Result<usize, AppError> {
    let mut done = 0;
    loop {
        let n = batch(app, None).await?;
        if n == 0 {
            return Ok(done);
        }
        done += n;
    }
}

/// Marks every stored hour from the raw-speed retention floor on dirty and recomputes it
/// (after a time-zone change, or to build the rollups of data loaded behind ingest's back);
/// returns the hours recomputed. Buckets below the floor are final and kept as they are.
pub async fn rebuild(app: &App) -> Result<usize, AppError> {
    mark_all_dirty(app).await?;
    catch_up(app).await
}

/// Marks every hour with raw results from the raw-speed floor on dirty.
pub(crate) async fn mark_all_dirty(app: &App) -> Result<u64, AppError> {
    let floor = super::retention::raw_speed_floor(app).await?;
    let from = floor.unwrap_or(Timestamp::from_unix_millis(i64::MIN));
    Ok(app.storage.mark_all_speed_dirty(from).await?)
}

fn expected(interval_s: Option<u32>, from: Timestamp, until: Timestamp) -> f64 {
    let secs = until.seconds_since(from) as f64;
    interval_s
        .filter(|i| *i > 0)
        .map_or(0.0, |i| secs / f64::from(i))
}

/// Recomputes up to [`BATCH`] dirty hours (of one connection, or of all); returns how many it
/// took. A batch that raced a prune (the raw-speed floor moved before it was written) is
/// discarded and done again.
pub(crate) async fn batch(app: &App, connection: Option<&ConnectionId>) -> Result<usize, AppError> {
    loop {
        if let Some(n) = try_batch(app, connection).await? {
            return Ok(n);
        }
    }
}

/// One attempt of [`batch`]: `None` when the write found the raw-speed floor moved.
///
/// Dirty hours below the raw-speed floor (late results older than the raw retention) are
/// cleared without a recompute: their raw data may be gone, so their buckets are final (the
/// late result, pruned at the next prune, counts in no bucket). Hours below the hourly floor
/// get no hourly bucket again, though their days are recomputed while their raw is kept.
async fn try_batch(
    app: &App,
    connection: Option<&ConnectionId>,
) -> Result<Option<usize>, AppError> {
    let dirty = app.storage.dirty_speed_hours(connection, BATCH).await?;
    if dirty.is_empty() {
        return Ok(Some(0));
    }
    let floors = super::retention::floors(app).await?;
    let raw_floor = floors.get(&DataKind::RawSpeed).copied();
    let hourly_floor = floors.get(&DataKind::Hourly).copied();
    let live: Vec<&DirtyHour> = dirty
        .iter()
        .filter(|d| recomputable(d.hour_at, raw_floor))
        .collect();
    let tz = super::settings::load(app).await?.tz;
    let intervals: HashMap<String, u32> = app
        .storage
        .connections(None)
        .await?
        .into_iter()
        .map(|c| {
            let i = c.schedule.normal_interval_seconds(&c.id);
            (c.id.as_str().to_owned(), i)
        })
        .collect();
    let mut days: BTreeSet<(ConnectionId, Timestamp, Timestamp)> = BTreeSet::new();
    for d in &live {
        for at in [d.hour_at, d.hour_at.plus_seconds(3_599)] {
            let (s, e) = local_day(at, &tz);
            // A day begun below the floor (keyed in another zone than the prune's) is final.
            if recomputable(s, raw_floor) {
                days.insert((d.connection.clone(), s, e));
            }
        }
    }
    // Raw rows per (connection, day), read once.
    let mut raw: BTreeMap<(ConnectionId, Timestamp), (Timestamp, Vec<RawSpeedRow>)> =
        BTreeMap::new();
    for (c, s, e) in &days {
        let rows = app.storage.raw_speed_rows(c, *s, *e).await?;
        raw.insert((c.clone(), *s), (*e, rows));
    }
    let mut write = RollupWrite {
        computed_at: Some(app.clock.now()),
        raw_floor,
        ..RollupWrite::default()
    };
    let hours: BTreeSet<(ConnectionId, Timestamp)> = live
        .iter()
        .filter(|d| recomputable(d.hour_at, hourly_floor))
        .map(|d| (d.connection.clone(), d.hour_at))
        .collect();
    // Each raw row read once into its UTC hour (the days are disjoint and cover every dirty
    // hour, so every hour gets exactly its rows, in the order they were read; hours of those
    // days that are not dirty are summed too and dropped).
    let mut by_hour: HashMap<(&ConnectionId, Timestamp), SpeedBucket> = HashMap::new();
    for ((c, _), (_, rows)) in &raw {
        for r in rows {
            let h = bucket_start(Level::Hour, r.sample.at, &tz);
            by_hour.entry((c, h)).or_default().add(&r.sample);
        }
    }
    for (c, h) in &hours {
        let end = h.plus_seconds(3_600);
        let interval = intervals.get(c.as_str()).copied();
        write.clear.push((c.clone(), Level::Hour, *h, end));
        let bucket = by_hour.remove(&(c, *h)).unwrap_or_default();
        if bucket.results > 0 {
            write.rows.push(row(
                c,
                Level::Hour,
                "",
                *h,
                end,
                expected(interval, *h, end),
                bucket,
            ));
        }
    }
    let mut new_days: HashMap<(ConnectionId, Timestamp), Option<StoredRollup>> = HashMap::new();
    for ((c, s), (e, rows)) in &raw {
        let interval = intervals.get(c.as_str()).copied();
        write.clear.push((c.clone(), Level::Day, *s, *e));
        let all = SpeedBucket::of(rows.iter().map(|r| &r.sample));
        let day = (all.results > 0)
            .then(|| row(c, Level::Day, "", *s, *e, expected(interval, *s, *e), all));
        if let Some(d) = &day {
            write.rows.push(d.clone());
        }
        new_days.insert((c.clone(), *s), day);
        write.rows.extend(per_server(c, *s, *e, rows));
    }
    let weeks: BTreeSet<(ConnectionId, Timestamp, Timestamp)> = days
        .iter()
        .map(|(c, s, _)| {
            let (ws, we) = local_week(*s, &tz);
            (c.clone(), ws, we)
        })
        .collect();
    for (c, ws, we) in weeks {
        // The stored days of the week, less those this batch recomputes (and stale ones
        // overlapping them, keyed in a previous zone), plus the recomputed ones.
        let fresh: Vec<(Timestamp, Timestamp)> = raw
            .iter()
            .filter(|((nc, ns), _)| *nc == c && *ns >= ws && *ns < we)
            .map(|((_, ns), (ne, _))| (*ns, *ne))
            .collect();
        let mut stored: BTreeMap<Timestamp, SpeedBucket> = app
            .storage
            .speed_rollups(Some(&c), Level::Day, false, ws, we)
            .await?
            .into_iter()
            .filter(|r| {
                !fresh
                    .iter()
                    .any(|(s, e)| r.bucket_at < *e && r.bucket_end > *s)
            })
            .map(|r| (r.bucket_at, r.bucket))
            .collect();
        for (ns, _) in &fresh {
            if let Some(Some(d)) = new_days.get(&(c.clone(), *ns)) {
                stored.insert(*ns, d.bucket.clone());
            }
        }
        write.clear.push((c.clone(), Level::Week, ws, we));
        let merged = SpeedBucket::merged(stored.values());
        if merged.results > 0 {
            let interval = intervals.get(c.as_str()).copied();
            write.rows.push(row(
                &c,
                Level::Week,
                "",
                ws,
                we,
                expected(interval, ws, we),
                merged,
            ));
        }
    }
    write.done = dirty;
    if !app.storage.write_speed_rollups(&write).await? {
        return Ok(None);
    }
    Ok(Some(write.done.len()))
}

fn per_server(
    c: &ConnectionId,
    s: Timestamp,
    e: Timestamp,
    rows: &[RawSpeedRow],
) -> Vec<StoredRollup> {
    let mut by: BTreeMap<&str, Vec<&RawSpeedRow>> = BTreeMap::new();
    for r in rows {
        if let Some(k) = r.server_key.as_deref() {
            by.entry(k).or_default().push(r);
        }
    }
    by.into_iter()
        .map(|(k, rs)| {
            let newest = rs.iter().max_by_key(|r| r.sample.at).copied();
            let mut r = row(
                c,
                Level::Day,
                k,
                s,
                e,
                0.0,
                SpeedBucket::of(rs.iter().map(|r| &r.sample)),
            );
            r.server_name = newest.and_then(|n| n.server_name.clone());
            r.server_location = newest.and_then(|n| n.server_location.clone());
            r.by_host = newest.is_some_and(|n| n.by_host);
            r
        })
        .collect()
}

fn row(
    c: &ConnectionId,
    level: Level,
    server_key: &str,
    at: Timestamp,
    end: Timestamp,
    expected: f64,
    bucket: SpeedBucket,
) -> StoredRollup {
    StoredRollup {
        connection: c.clone(),
        level,
        server_key: server_key.to_owned(),
        bucket_at: at,
        bucket_end: end,
        server_name: None,
        server_location: None,
        by_host: false,
        expected,
        bucket,
    }
}

/// The dirty hours still queued (for tests and `rollups status`).
pub async fn pending(app: &App) -> Result<Vec<DirtyHour>, AppError> {
    Ok(app.storage.dirty_speed_hours(None, u32::MAX).await?)
}
