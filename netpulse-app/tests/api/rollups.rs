//! Speed rollups end to end: random results pushed in random order (late and replayed ones
//! included) through the real ingest, the rollup job run, and every hourly, daily and weekly
//! bucket held to the answer computed from the raw rows (counts and means exact, quantiles
//! within the sketch's 1 %), local days in a DST-changing zone, and a full rebuild equal to
//! the incremental result.

use netpulse_app::service::{rollups, server_averages, settings};
use netpulse_domain::Timestamp;
use netpulse_domain::model::Measurement;
use netpulse_domain::rollup::{Level, SpeedMetric};
use netpulse_ports::rollup_store::StoredRollup;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort};

use crate::helpers::{TestApp, ookla_stdout, push_body};

fn lcg(x: &mut u64) -> u64 {
    *x = x
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *x >> 33
}

fn value(m: &Measurement, metric: SpeedMetric) -> Option<f64> {
    let o = &m.observation;
    match metric {
        SpeedMetric::Download => o.download_bps,
        SpeedMetric::Upload => o.upload_bps,
        SpeedMetric::Ping => o.ping_ms,
        SpeedMetric::Jitter => o.jitter_ms,
        SpeedMetric::Loss => o.packet_loss_percent,
    }
}

async fn all_raw(t: &TestApp) -> Vec<Measurement> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = t
            .app
            .storage
            .measurements(
                &MeasurementFilter::default(),
                MeasurementSort::CompletedDesc,
                500,
                cursor.as_deref(),
            )
            .await
            .unwrap();
        out.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            return out;
        }
    }
}

async fn stored(t: &TestApp, level: Level) -> Vec<StoredRollup> {
    t.app
        .storage
        .speed_rollups(
            None,
            level,
            false,
            Timestamp::from_unix_millis(0),
            Timestamp::from_unix_millis(i64::MAX),
        )
        .await
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Each bucket against the raw results it covers.
fn check_against_raw(rows: &[StoredRollup], raw: &[Measurement], level: Level) {
    let mut covered = 0;
    for r in rows {
        let inside: Vec<&Measurement> = raw
            .iter()
            .filter(|m| m.completed_at >= r.bucket_at && m.completed_at < r.bucket_end)
            .collect();
        let b = &r.bucket;
        covered += inside.len();
        assert_eq!(
            b.results as usize,
            inside.len(),
            "{level:?} {:?}",
            r.bucket_at
        );
        let failed = inside.iter().filter(|m| !m.observation.completed()).count();
        let healthy = inside.iter().filter(|m| m.verdict.healthy()).count();
        assert_eq!((b.fail as usize, b.healthy as usize), (failed, healthy));
        assert_eq!(b.last_at, inside.iter().map(|m| m.completed_at).max());
        for metric in SpeedMetric::ALL {
            let mut v: Vec<f64> = inside.iter().filter_map(|m| value(m, metric)).collect();
            let got = b.metric(metric);
            assert_eq!(got.values as usize, v.len(), "{metric:?}");
            if v.is_empty() {
                assert_eq!(got.mean(), None);
                continue;
            }
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            assert!(close(got.mean().unwrap(), mean), "{metric:?} mean");
            v.sort_by(f64::total_cmp);
            assert_eq!(got.min, v.first().copied());
            assert_eq!(got.max, v.last().copied());
            for q in [0.05, 0.5, 0.95] {
                let exact = v[(q * (v.len() - 1) as f64).floor() as usize];
                let est = got.quantile(q).unwrap();
                assert!(
                    (est - exact).abs() <= exact.abs() * 0.01 + 1e-9,
                    "{metric:?} q{q}: {est} vs {exact}"
                );
            }
        }
    }
    // Every result is in exactly one bucket of the level.
    assert_eq!(covered, raw.len(), "{level:?}");
}

/// Random results in random order; the rollups equal the raw answers at every level.
pub(crate) async fn rollups_equal_raw_answers_over_random_data_in_random_order(t: &TestApp) {
    let now = t.clock_now();
    t.app
        .storage
        .set_setting(settings::TIME_ZONE, "Europe/Berlin", now)
        .await
        .unwrap();
    let agent = t.probe("rollups").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    // Nine days around the spring DST change (29 March 2026 has 23 hours in Berlin).
    let base = Timestamp::parse_rfc3339("2026-03-24T21:00:00Z").unwrap();
    let template = ookla_stdout();
    let mut seed = 0x5eed_u64;
    let mut bodies = Vec::new();
    for _ in 0..140 {
        let at = base.plus_seconds((lcg(&mut seed) % (9 * 86_400)) as i64);
        let body = if lcg(&mut seed).is_multiple_of(8) {
            push_body(at, &c, None, "", 1, true)
        } else {
            let stdout = template
                .replace(
                    "116445504",
                    &(1_000_000 + lcg(&mut seed) % 120_000_000).to_string(),
                )
                .replace(
                    "6181475",
                    &(500_000 + lcg(&mut seed) % 60_000_000).to_string(),
                )
                .replace(
                    "17.148",
                    &format!("{:.3}", 5.0 + (lcg(&mut seed) % 75_000) as f64 / 1e3),
                )
                .replace(
                    "\"packetLoss\": 0",
                    &format!("\"packetLoss\": {}", (lcg(&mut seed) % 300) as f64 / 100.0),
                );
            push_body(at, &c, None, &stdout, 0, true)
        };
        bodies.push(body);
    }
    // Two thirds, the job, then the rest (older and newer) and a replay of one.
    let (first, rest) = bodies.split_at(93);
    for b in first {
        let (status, r) = t.push(&agent, b).await;
        assert_eq!(status, 201, "{r}");
    }
    rollups::catch_up(&t.app).await.unwrap();
    for b in rest {
        let (status, r) = t.push(&agent, b).await;
        assert_eq!(status, 201, "{r}");
    }
    let (status, _) = t.push(&agent, &bodies[10]).await;
    assert!(status < 300, "a replay is answered, not refused");
    rollups::catch_up(&t.app).await.unwrap();
    assert!(rollups::pending(&t.app).await.unwrap().is_empty());

    let raw = all_raw(t).await;
    assert_eq!(raw.len(), 140);
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let mut incremental = Vec::new();
    for level in [Level::Hour, Level::Day, Level::Week] {
        let rows = stored(t, level).await;
        assert!(!rows.is_empty());
        check_against_raw(&rows, &raw, level);
        for r in &rows {
            let start = jiff::Timestamp::from_millisecond(r.bucket_at.unix_millis())
                .unwrap()
                .to_zoned(tz.clone());
            let hours = r.bucket_end.seconds_since(r.bucket_at) / 3_600;
            match level {
                Level::Hour => assert_eq!(hours, 1),
                Level::Day => {
                    assert_eq!((start.hour(), start.minute()), (0, 0), "local midnight");
                    let want = if start.date() == jiff::civil::date(2026, 3, 29) {
                        23
                    } else {
                        24
                    };
                    assert_eq!(hours, want, "{}", start.date());
                }
                Level::Week => {
                    assert_eq!(start.weekday(), jiff::civil::Weekday::Monday);
                    assert_eq!((start.hour(), start.minute()), (0, 0));
                }
            }
        }
        incremental.push(rows);
    }
    // The Servers page's figures equal the raw means of the window's days.
    let servers = server_averages::per_connection(&t.app, base, base.plus_seconds(10 * 86_400))
        .await
        .unwrap();
    assert_eq!(servers.len(), 1);
    let dl: Vec<f64> = raw
        .iter()
        .filter_map(|m| m.observation.download_bps)
        .collect();
    let s = &servers[0].summary;
    assert_eq!(
        s.tests,
        140 - raw
            .iter()
            .filter(|m| m.observation.server.id.is_none())
            .count() as u64
    );
    assert!(close(
        s.download_bps.unwrap(),
        dl.iter().sum::<f64>() / dl.len() as f64
    ));

    // A rebuild from scratch gives the same buckets as the incremental job.
    rollups::rebuild(&t.app).await.unwrap();
    for (level, before) in [Level::Hour, Level::Day, Level::Week]
        .into_iter()
        .zip(incremental)
    {
        assert_eq!(stored(t, level).await, before, "{level:?}");
    }

    // A new site zone (+5:30, hours straddle local days) re-keys the days and weeks.
    let general = settings::General::check("NetPulse", "Asia/Kolkata").unwrap();
    settings::save_general(&t.app, &general).await.unwrap();
    rollups::catch_up(&t.app).await.unwrap();
    let kolkata = jiff::tz::TimeZone::get("Asia/Kolkata").unwrap();
    let days = stored(t, Level::Day).await;
    check_against_raw(&days, &raw, Level::Day);
    check_against_raw(&stored(t, Level::Week).await, &raw, Level::Week);
    for d in &days {
        let start = jiff::Timestamp::from_millisecond(d.bucket_at.unix_millis())
            .unwrap()
            .to_zoned(kolkata.clone());
        assert_eq!((start.hour(), start.minute()), (0, 0), "Kolkata midnight");
    }
}
