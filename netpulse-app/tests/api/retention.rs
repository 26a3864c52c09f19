//! Retention and prune end to end (issue 17), on both databases: a prune removes exactly
//! what is older than each kind's cut and keeps the rest, a dry run removes nothing, the
//! rollups stay equal to before after raw results are pruned, a rollup rebuild or a late
//! result below the floor wipes no bucket, an outage rebuild after pruning check results keeps
//! the episodes, and bad values are refused naming the setting or field.

use netpulse_app::error::AppError;
use netpulse_app::service::{outages as outage_service, retention, rollups, settings};
use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckMeasurement, Family};
use netpulse_domain::model::Measurement;
use netpulse_domain::retention::DataKind;
use netpulse_domain::rollup::Level;
use netpulse_ports::check_store::CheckResultFilter;
use netpulse_ports::rollup_store::StoredRollup;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort};

use crate::helpers::{TestApp, ookla_stdout, push_body};
use crate::outages::{MIN, Round, T0, outages_of, probe_with_defaults, results};

const DAY: i64 = 86_400;

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

async fn buckets(t: &TestApp, level: Level, per_server: bool) -> Vec<StoredRollup> {
    let mut rows = t
        .app
        .storage
        .speed_rollups(
            None,
            level,
            per_server,
            Timestamp::from_unix_millis(0),
            Timestamp::from_unix_millis(i64::MAX),
        )
        .await
        .unwrap();
    rows.sort_by(|a, b| (a.bucket_at, &a.server_key).cmp(&(b.bucket_at, &b.server_key)));
    rows
}

async fn every_level(t: &TestApp) -> Vec<Vec<StoredRollup>> {
    let mut out = Vec::new();
    for level in [Level::Hour, Level::Day, Level::Week] {
        out.push(buckets(t, level, false).await);
    }
    out.push(buckets(t, Level::Day, true).await);
    out
}

fn of(report: &[retention::KindPrune], kind: DataKind) -> &retention::KindPrune {
    report.iter().find(|k| k.kind == kind).unwrap()
}

fn invalid_field(e: AppError) -> (String, String) {
    match e {
        AppError::Invalid { field, message } => (field, message),
        other => panic!("not an input error: {other:?}"),
    }
}

/// Raw speed results over 60 days, pruned at 35: exactly the older ones go, the rollups of
/// every level stay equal, a rebuild and a late result below the floor change no bucket;
/// hourly rollups pruned at 35 days lose only the buckets ending by the cut.
pub(crate) async fn prune_removes_exactly_what_is_older_and_rollups_stay(t: &TestApp) {
    let now = Timestamp::parse_rfc3339("2026-06-15T10:17:00Z").unwrap();
    t.clock.set(now);
    t.app
        .storage
        .set_setting(settings::TIME_ZONE, "Europe/Berlin", now)
        .await
        .unwrap();
    let agent = t.probe("retention").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let stdout = ookla_stdout();
    // Every 11 hours for 60 days, newest last; every seventh one failed.
    for i in (1..=130_i64).rev() {
        let at = now.plus_seconds(-i * 11 * 3_600 - 600);
        let body = if i % 7 == 0 {
            push_body(at, &c, None, "", 1, true)
        } else {
            push_body(at, &c, None, &stdout, 0, true)
        };
        let (status, r) = t.push(&agent, &body).await;
        assert_eq!(status, 201, "{r}");
    }
    rollups::catch_up(&t.app).await.unwrap();
    let before = every_level(t).await;
    let raw = all_raw(t).await;
    assert_eq!(raw.len(), 130);

    // Raw speed results kept 35 days: the cut is the Berlin midnight 35 days back.
    retention::set(&t.app, "raw-speed", "35").await.unwrap();
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let cut = rollups::local_day(now.plus_seconds(-35 * DAY), &berlin).0;
    let older = raw.iter().filter(|m| m.completed_at < cut).count() as u64;
    let oldest_kept = raw
        .iter()
        .map(|m| m.completed_at)
        .filter(|at| *at >= cut)
        .min();
    assert!(older > 30 && older < 100, "{older}");

    // A dry run counts and removes nothing.
    let dry = retention::prune(&t.app, true).await.unwrap();
    let speed = of(&dry, DataKind::RawSpeed);
    assert_eq!(
        (speed.cut, speed.rows, speed.oldest_kept),
        (Some(cut), older, oldest_kept)
    );
    assert_eq!(of(&dry, DataKind::Weekly).cut, None);
    assert_eq!(of(&dry, DataKind::Hourly).rows, 0, "hourly kept 400 days");
    assert_eq!(all_raw(t).await.len(), 130);
    assert!(retention::floors(&t.app).await.unwrap().is_empty());

    // The prune removes exactly the older ones; the rollups are as before.
    let done = retention::prune(&t.app, false).await.unwrap();
    let speed = of(&done, DataKind::RawSpeed);
    assert_eq!((speed.rows, speed.oldest_kept), (older, oldest_kept));
    let kept = all_raw(t).await;
    let mut want: Vec<&str> = raw
        .iter()
        .filter(|m| m.completed_at >= cut)
        .map(|m| m.id.as_str())
        .collect();
    let mut got: Vec<&str> = kept.iter().map(|m| m.id.as_str()).collect();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(retention::raw_speed_floor(&t.app).await.unwrap(), Some(cut));
    assert_eq!(every_level(t).await, before, "rollups after pruning raw");
    // A second prune finds nothing more.
    let again = retention::prune(&t.app, false).await.unwrap();
    assert_eq!(of(&again, DataKind::RawSpeed).rows, 0);

    // A rebuild starts at the floor and wipes no bucket below it.
    rollups::rebuild(&t.app).await.unwrap();
    assert_eq!(every_level(t).await, before, "rollups after a rebuild");

    // A late result below the floor is stored but recomputes no final bucket.
    let late = push_body(cut.plus_seconds(-5 * DAY), &c, None, &stdout, 0, true);
    let (status, r) = t.push(&agent, &late).await;
    assert_eq!(status, 201, "{r}");
    rollups::catch_up(&t.app).await.unwrap();
    assert!(rollups::pending(&t.app).await.unwrap().is_empty());
    assert_eq!(every_level(t).await, before, "rollups after a late result");
    // The next prune removes it.
    let next = retention::prune(&t.app, false).await.unwrap();
    assert_eq!(of(&next, DataKind::RawSpeed).rows, 1);

    // Hourly rollups kept 35 days: buckets ending by now − 35 d go, the others stay.
    retention::set(&t.app, "hourly", "35").await.unwrap();
    let hour_cut = now.plus_seconds(-35 * DAY);
    let hours_before = &before[0];
    let dry = retention::prune(&t.app, true).await.unwrap();
    let gone = hours_before
        .iter()
        .filter(|b| b.bucket_end <= hour_cut)
        .count() as u64;
    assert!(gone > 0);
    assert_eq!(of(&dry, DataKind::Hourly).rows, gone);
    retention::prune(&t.app, false).await.unwrap();
    let hours: Vec<StoredRollup> = hours_before
        .iter()
        .filter(|b| b.bucket_end > hour_cut)
        .cloned()
        .collect();
    assert_eq!(buckets(t, Level::Hour, false).await, hours);
    let after = every_level(t).await;
    assert_eq!(after[1..], before[1..], "days and weeks untouched");
    // And a rebuild brings no pruned hourly bucket back.
    rollups::rebuild(&t.app).await.unwrap();
    assert_eq!(buckets(t, Level::Hour, false).await, hours);
}

async fn check_rounds(t: &TestApp, probe: &netpulse_domain::id::ProbeId) -> Vec<Timestamp> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let filter = CheckResultFilter {
        probe: Some(probe.clone()),
        ..CheckResultFilter::default()
    };
    loop {
        let page = t
            .app
            .storage
            .check_results(&filter, 500, cursor.as_deref())
            .await
            .unwrap();
        out.extend(page.items.iter().map(|m| m.round_at));
        cursor = page.next_cursor;
        if cursor.is_none() {
            out.sort();
            return out;
        }
    }
}

async fn push_rounds(
    t: &TestApp,
    probe: &netpulse_domain::id::ProbeId,
    checks: &[(netpulse_domain::id::CheckId, Family)],
    first: i64,
    plan: &[Round],
) {
    for (i, what) in plan.iter().enumerate() {
        let m = first + i as i64;
        let mut batch: Vec<CheckMeasurement> = results(checks, Family::V4, m, *what);
        batch.extend(results(checks, Family::V6, m, *what));
        netpulse_app::service::check_results::ingest(&t.app, probe, batch)
            .await
            .unwrap();
    }
}

/// Check results kept 15 days: the hour blocks older than the cut go, the newer stay, and an
/// outage rebuild from the beginning keeps the episodes whose results are gone.
pub(crate) async fn pruned_check_results_keep_their_outages(t: &TestApp) {
    let (a, checks) = probe_with_defaults(t, "retention-checks").await;
    // An hour with a 32-minute outage at T0, and an hour of good rounds 40 days later.
    let mut plan = vec![Round::Up; 60];
    for r in &mut plan[10..42] {
        *r = Round::Down;
    }
    push_rounds(t, &a.probe.id, &checks, 0, &plan).await;
    let later = 40 * 1_440;
    t.clock
        .set(Timestamp::from_unix_millis(T0 + (later + 120) * MIN));
    push_rounds(t, &a.probe.id, &checks, later, &[Round::Up; 60]).await;
    let episodes = outages_of(t, &a.probe.id, &checks).await;
    assert_eq!(episodes.len(), 3, "{episodes:#?}");
    let rounds = check_rounds(t, &a.probe.id).await;

    retention::set(&t.app, "raw-checks", "15").await.unwrap();
    let dry = retention::prune(&t.app, true).await.unwrap();
    let gone = of(&dry, DataKind::RawChecks);
    let cut = gone.cut.unwrap();
    assert!(cut > Timestamp::from_unix_millis(T0 + 60 * MIN));
    assert!(cut < Timestamp::from_unix_millis(T0 + later * MIN));
    // Two hours of T0 (rounds start 20 s past a whole minute), per check and family.
    assert!(gone.rows >= checks.len() as u64, "{}", gone.rows);
    assert_eq!(check_rounds(t, &a.probe.id).await, rounds, "dry run");

    let done = retention::prune(&t.app, false).await.unwrap();
    let pruned = of(&done, DataKind::RawChecks);
    assert_eq!(pruned.rows, gone.rows);
    let want: Vec<Timestamp> = rounds.iter().copied().filter(|r| *r >= cut).collect();
    assert_eq!(check_rounds(t, &a.probe.id).await, want);
    assert_eq!(
        pruned.oldest_kept.map(Timestamp::unix_millis),
        want.first()
            .map(|r| r.unix_millis() - r.unix_millis().rem_euclid(3_600_000))
    );
    // The outage of the pruned hour survives a rebuild from the beginning.
    outage_service::rebuild(&t.app, None, Timestamp::from_unix_millis(0))
        .await
        .unwrap();
    assert_eq!(outages_of(t, &a.probe.id, &checks).await, episodes);
}

/// Bad kinds, days and combinations are refused naming the field or the setting; nothing is
/// stored.
pub(crate) async fn bad_retention_values_are_refused_naming_the_setting(t: &TestApp) {
    let e = invalid_field(retention::set(&t.app, "raw", "40").await.unwrap_err());
    assert_eq!(e.0, "kind");
    assert!(
        e.1.contains("raw-checks, raw-speed, hourly, daily, weekly"),
        "{}",
        e.1
    );
    for bad in ["0", "-3", "ten", "36501", ""] {
        let e = invalid_field(retention::set(&t.app, "daily", bad).await.unwrap_err());
        assert_eq!(e.0, "days", "{bad}");
    }
    let e = invalid_field(retention::set(&t.app, "raw-speed", "34").await.unwrap_err());
    assert_eq!(e.0, "retention.raw_speed");
    assert!(e.1.contains("at least 35 days"), "{}", e.1);
    let e = invalid_field(
        retention::set(&t.app, "raw-checks", "14")
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "retention.raw_checks");
    // Raw kept longer than the daily rollups that cover it.
    let e = invalid_field(
        retention::set(&t.app, "raw-speed", "forever")
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "retention.raw_speed");
    assert!(e.1.contains("daily"), "{}", e.1);
    let e = invalid_field(retention::set(&t.app, "daily", "400").await.unwrap_err());
    assert_eq!(e.0, "retention.daily");
    assert!(
        retention::show(&t.app)
            .await
            .unwrap()
            .iter()
            .all(|k| k.default && k.keep == k.kind.default_keep()),
        "nothing stored"
    );
    // A stored value written behind the CLI's back that breaks a rule stops the prune.
    t.app
        .storage
        .set_setting("retention.daily", "400", t.clock_now())
        .await
        .unwrap();
    let e = invalid_field(retention::prune(&t.app, false).await.unwrap_err());
    assert_eq!(e.0, "retention.daily");
    // `retention set` repairs it.
    retention::set(&t.app, "daily", "forever").await.unwrap();
    retention::prune(&t.app, true).await.unwrap();
}
