//! The web dashboard's part of the storage contract: sessions, sign-in throttling, share links
//! and the read models of the pages.

use netpulse_domain::degradation::HealthSample;
use netpulse_domain::id::{ResultId, UserId};
use netpulse_domain::model::RunPhase;
use netpulse_ports::storage::{MeasurementFilter, RunScope, Storage, StorageError, User};
use netpulse_ports::web_store::{ExportPosition, NewSession, ShareLink, ThrottleRule};

use crate::storage::contract::futures_join_all;
use crate::storage::helpers::{
    at, connection, digest, failed, measurement, new_id, observation, probe, record, seeded,
};

async fn user(s: &dyn Storage, email: &str) -> User {
    let u = User {
        id: UserId::parse(&new_id()).unwrap(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$abc$def".into(),
        created_at: at(0),
        role: netpulse_domain::access::Role::Admin,
        disabled: false,
        display_name: None,
    };
    s.create_user(&u).await.unwrap();
    u
}

pub(crate) async fn sessions_lifecycle(s: &dyn Storage) {
    let u = user(s, "Admin@Example.org").await;
    let session = NewSession {
        digest: digest(7),
        user_id: u.id.clone(),
        csrf_token: "csrf-1".into(),
        created_at: at(0),
        expires_at: at(3600),
    };
    s.create_session(&session).await.unwrap();
    let back = s.session(&digest(7)).await.unwrap().unwrap();
    assert_eq!(back.user_id, u.id);
    assert_eq!(back.email, "admin@example.org");
    assert_eq!(back.csrf_token, "csrf-1");
    assert_eq!((back.created_at, back.last_seen_at), (at(0), at(0)));
    assert_eq!(back.expires_at, at(3600));
    assert_eq!(s.session(&digest(8)).await.unwrap(), None);

    s.touch_session(&digest(7), at(60)).await.unwrap();
    // Never moves backwards.
    s.touch_session(&digest(7), at(30)).await.unwrap();
    assert_eq!(
        s.session(&digest(7)).await.unwrap().unwrap().last_seen_at,
        at(60)
    );

    // Stale: idle since before 100 s, or expired.
    let other = NewSession {
        digest: digest(9),
        expires_at: at(50),
        ..session.clone()
    };
    s.create_session(&other).await.unwrap();
    assert_eq!(s.delete_stale_sessions(at(50), at(0)).await.unwrap(), 1);
    assert!(s.session(&digest(9)).await.unwrap().is_none());
    assert!(s.session(&digest(7)).await.unwrap().is_some());
    assert_eq!(s.delete_stale_sessions(at(60), at(61)).await.unwrap(), 1);
    assert!(s.session(&digest(7)).await.unwrap().is_none());

    s.create_session(&session).await.unwrap();
    s.create_session(&other).await.unwrap();
    s.delete_session(&digest(7)).await.unwrap();
    s.delete_session(&digest(7)).await.unwrap();
    assert!(s.session(&digest(7)).await.unwrap().is_none());
    assert!(s.session(&digest(9)).await.unwrap().is_some());
    s.delete_user_sessions(&u.id).await.unwrap();
    assert!(s.session(&digest(9)).await.unwrap().is_none());
}

pub(crate) async fn login_throttle_counts_locks_and_clears(s: &dyn Storage) {
    let rule = ThrottleRule {
        limit: 3,
        window_seconds: 60,
        lock_seconds: 600,
    };
    let key = "account:admin@example.org";
    assert_eq!(s.throttle_state(key).await.unwrap(), None);
    let a = s.record_login_failure(key, at(0), rule).await.unwrap();
    assert_eq!(
        (a.failures, a.window_start, a.locked_until),
        (1, at(0), None)
    );
    s.record_login_failure(key, at(10), rule).await.unwrap();
    let c = s.record_login_failure(key, at(20), rule).await.unwrap();
    assert_eq!(c.failures, 3);
    assert_eq!(c.locked_until, Some(at(620)));
    assert_eq!(s.throttle_state(key).await.unwrap(), Some(c));
    // Other keys are independent.
    assert_eq!(s.throttle_state("address:127.0.0.1").await.unwrap(), None);
    // A failure after the window starts a new one.
    let fresh = s.record_login_failure(key, at(700), rule).await.unwrap();
    assert_eq!((fresh.failures, fresh.locked_until), (1, None));
    s.clear_login_failures(key).await.unwrap();
    assert_eq!(s.throttle_state(key).await.unwrap(), None);

    // Concurrent failures are all counted.
    let key = "address:10.0.0.1";
    futures_join_all((0..8).map(|i| async move {
        s.record_login_failure(key, at(i), rule)
            .await
            .expect("no failure may be lost");
    }))
    .await;
    assert_eq!(s.throttle_state(key).await.unwrap().unwrap().failures, 8);
}

pub(crate) async fn share_links_point_to_one_result_and_can_be_revoked(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let m = measurement(&c, at(100), Some("a"), observation(900.0, 10.0));
    record(s, m.clone()).await;
    let link = ShareLink {
        token: "t".repeat(43),
        measurement_id: m.id.clone(),
        created_at: at(200),
    };
    s.create_share_link(&link).await.unwrap();
    assert_eq!(s.share_links_of(&m.id).await.unwrap(), vec![link.clone()]);
    assert_eq!(
        s.shared_measurement(&link.token).await.unwrap().unwrap().id,
        m.id
    );
    assert!(s.shared_measurement("nope").await.unwrap().is_none());
    let unknown = ResultId::parse(&new_id()).unwrap();
    assert!(matches!(
        s.create_share_link(&ShareLink {
            token: "u".repeat(43),
            measurement_id: unknown,
            created_at: at(0)
        })
        .await,
        Err(StorageError::NotFound { .. })
    ));
    s.revoke_share_link(&link.token).await.unwrap();
    assert!(s.shared_measurement(&link.token).await.unwrap().is_none());
    assert!(matches!(
        s.revoke_share_link(&link.token).await,
        Err(StorageError::NotFound { .. })
    ));
    // Deleting the connection deletes the links with the results.
    s.create_share_link(&link).await.unwrap();
    s.delete_connection(&c.id).await.unwrap();
    assert!(s.shared_measurement(&link.token).await.unwrap().is_none());
}

pub(crate) async fn dashboard_reads(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let zeta = connection(&p.id, "zeta");
    let alpha = connection(&p.id, "alpha");
    s.create_connection(&zeta).await.unwrap();
    s.create_connection(&alpha).await.unwrap();

    let overviews = s.connection_overviews().await.unwrap();
    let names: Vec<_> = overviews
        .iter()
        .map(|o| o.connection.name.as_str().to_owned())
        .collect();
    assert_eq!(names, ["alpha", "zeta"]);
    assert_eq!(overviews[0].probe_name, "home");
    assert_eq!(overviews[0].measurement_count, 0);
    assert_eq!(overviews[0].state.last_completed_at, None);
    assert!(s.latest_completed(&alpha.id).await.unwrap().is_none());
    let empty = s.change_cursor().await.unwrap();
    assert_eq!((empty.measurements, empty.latest_at), (0, None));

    let m1 = measurement(&alpha, at(100), Some("a"), observation(900.0, 10.0));
    let m2 = measurement(&alpha, at(200), Some("b"), observation(100.0, 20.0));
    let m3 = measurement(&alpha, at(300), Some("c"), failed());
    for m in [&m1, &m2, &m3] {
        record(s, m.clone()).await;
    }
    let o = s.connection_overviews().await.unwrap();
    assert_eq!(o[0].measurement_count, 3);
    assert_eq!(o[0].state.last_completed_at, Some(at(200)));
    assert_eq!(
        o[0].state.history.newest_first()[..3],
        [
            HealthSample::Failed,
            HealthSample::Unhealthy,
            HealthSample::Healthy
        ]
    );
    assert_eq!(
        s.latest_completed(&alpha.id).await.unwrap().unwrap().id,
        m2.id
    );
    let cursor = s.change_cursor().await.unwrap();
    assert_eq!(cursor.measurements, 3);
    assert_eq!(cursor.latest_at, Some(at(300)));

    let series = s.series_samples(&alpha.id, at(100), at(300)).await.unwrap();
    assert_eq!(series.len(), 2, "since inclusive, until exclusive");
    assert_eq!(series[0].at, at(100));
    assert_eq!(series[0].download_bps, Some(900e6));
    assert_eq!(series[0].sample, HealthSample::Healthy);
    assert_eq!(series[1].sample, HealthSample::Unhealthy);
    let all = s.series_samples(&alpha.id, at(0), at(1000)).await.unwrap();
    assert_eq!(all[2].sample, HealthSample::Failed);
    assert_eq!(all[2].download_bps, None);
    assert!(
        s.series_samples(&zeta.id, at(0), at(1000))
            .await
            .unwrap()
            .is_empty()
    );

    let recent = s.recent_samples(&alpha.id, 2).await.unwrap();
    assert_eq!(
        recent,
        vec![
            (at(300), HealthSample::Failed),
            (at(200), HealthSample::Unhealthy)
        ]
    );
    let counts = s.window_counts(&alpha.id, at(0), at(1000)).await.unwrap();
    assert_eq!((counts.tests, counts.healthy, counts.failed), (3, 1, 1));
    assert_eq!(counts.incidents(), 2);
    let none = s
        .window_counts(&alpha.id, at(1000), at(2000))
        .await
        .unwrap();
    assert_eq!((none.tests, none.healthy, none.failed), (0, 0, 0));

    // Run-now requests: queued/running are listed, done ones only when recent.
    s.request_run(RunScope::Connection(&zeta.id), None, at(400))
        .await
        .unwrap();
    let runs = s.recent_runs(at(10_000)).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].0, zeta.id);
    assert_eq!(runs[0].1.phase, RunPhase::Queued);
    assert_eq!(
        s.change_cursor().await.unwrap().runs_updated_at,
        Some(at(400))
    );

    // Counting with filters.
    let f = |connection, completed| MeasurementFilter {
        connection,
        completed,
        ..Default::default()
    };
    assert_eq!(s.count_measurements(&f(None, None)).await.unwrap(), 3);
    assert_eq!(
        s.count_measurements(&f(Some(alpha.id.clone()), Some(true)))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.count_measurements(&MeasurementFilter {
            since: Some(at(150)),
            until: Some(at(300)),
            ..Default::default()
        })
        .await
        .unwrap(),
        1
    );
}

pub(crate) async fn servers_are_summarised_over_a_window(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let mut other = observation(500.0, 30.0);
    other.server.id = Some("99".into());
    other.server.name = Some("Berlin".into());
    other.server.location = Some("DE".into());
    let mut unnamed = observation(50.0, 5.0);
    unnamed.server.id = None;
    for (t, obs) in [
        (100, observation(900.0, 10.0)),
        (200, observation(700.0, 20.0)),
        (300, other),
        (400, unnamed),
        (50_000, observation(100.0, 10.0)),
    ] {
        record(s, measurement(&c, at(t), None, obs)).await;
    }
    let seen = s.servers_seen(at(0)).await.unwrap();
    let ids: Vec<_> = seen.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["99", "12746"], "by name: Berlin, Orange");
    let rows = s.server_summaries(at(0), at(1000)).await.unwrap();
    assert_eq!(rows.len(), 2);
    let orange = &rows[1];
    assert_eq!(orange.server.name.as_deref(), Some("Orange"));
    assert_eq!(orange.tests, 2);
    assert_eq!(orange.download_bps, Some(800e6));
    assert_eq!(orange.ping_ms, Some(15.0));
    assert_eq!(orange.packet_loss_percent, None);
    assert_eq!(orange.last_seen, at(200));
    assert_eq!(orange.healthy, 2);
    assert!(
        s.server_summaries(at(1000), at(2000))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn export_pages_newest_first_without_gaps(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        // Two results share each time, so the id breaks ties.
        let t = at(100 * (i / 2));
        let m = measurement(
            &c,
            t,
            None,
            if i == 3 {
                failed()
            } else {
                observation(900.0, 10.0)
            },
        );
        ids.push((t, m.id.clone()));
        record(s, m).await;
    }
    ids.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.as_str().cmp(a.1.as_str())));
    let filter = MeasurementFilter::default();
    let mut seen = Vec::new();
    let mut after: Option<ExportPosition> = None;
    loop {
        let rows = s.export_rows(&filter, after.as_ref(), 3).await.unwrap();
        if rows.is_empty() {
            break;
        }
        after = rows.last().map(|r| ExportPosition {
            completed_at: r.completed_at,
            id: r.id.clone(),
        });
        seen.extend(rows.into_iter().map(|r| (r.completed_at, r.id)));
    }
    assert_eq!(seen, ids);
    let failed_rows = s
        .export_rows(
            &MeasurementFilter {
                completed: Some(false),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(failed_rows.len(), 1);
    assert!(!failed_rows[0].completed && !failed_rows[0].healthy);
    assert_eq!(
        failed_rows[0].failure.as_deref(),
        Some("Cannot open socket")
    );
    assert_eq!(failed_rows[0].breaches, "test_failed");
}
