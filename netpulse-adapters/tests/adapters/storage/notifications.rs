//! The notification store's contract, on both databases, and its claims under concurrency on
//! PostgreSQL (two pools = two server processes).
#![allow(clippy::cloned_ref_to_slice_refs)]

use std::collections::BTreeMap;

use netpulse_adapters::cron_calendar::CronerCalendar;
use netpulse_adapters::storage::postgres::PostgresStorage;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::notify::{DigestPeriod, DigestSchedule, LocalTime, QuietHours};
use netpulse_ports::notification_store::{
    AttemptOutcome, DeliveryStatus, Incident, NewDelivery, NotificationSettings, NotificationStore,
    StoredChannel, StoredMaintenance,
};
use netpulse_ports::notify::{
    ChannelKind, ConnectionRef, Notification, NotificationKind, ProbeRef, ResultSummary,
};
use netpulse_ports::storage::{Storage, StorageError};

use crate::storage::helpers::{at, new_id, pg, seeded, sqlite};

macro_rules! notification_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = crate::storage::helpers::sqlite().await;
                    super::$name(db.storage.as_ref()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(db) = crate::storage::helpers::pg().await {
                        super::$name(db.storage.as_ref()).await;
                    }
                }
            )*
        }
    };
}

notification_tests!(
    settings_round_trip,
    channels_round_trip_and_delete,
    outbox_claims_retries_and_log,
    announcing_an_incident_happens_once,
    leases_are_exclusive_until_they_expire,
    probe_liveness_is_claimed_once_each_way,
    incidents_open_close_and_overlap,
    maintenance_windows_overlap_and_cascade,
    digest_slots_are_claimed_once,
    pruning_keeps_unfinished_notifications,
);

fn channel(name: &str, kind: ChannelKind) -> StoredChannel {
    StoredChannel {
        id: new_id(),
        name: name.into(),
        kind,
        enabled: true,
        options: BTreeMap::from([("url".to_owned(), "http://127.0.0.1:1/x".to_owned())]),
        sealed_secrets: Some("v1:sealed".into()),
        secret_names: vec!["secret".into()],
        events: vec![NotificationKind::Alert, NotificationKind::Recovery],
        quiet_hours: Some(
            QuietHours::new(
                LocalTime::parse("s", "22:00").unwrap(),
                LocalTime::parse("e", "07:00").unwrap(),
                "Europe/Berlin",
                &CronerCalendar,
            )
            .unwrap(),
        ),
        created_at: at(0),
        updated_at: at(0),
    }
}

fn notification(kind: NotificationKind, when: Timestamp) -> Notification {
    let mut n = Notification::new(kind, format!("{} subject", kind.as_str()), "body", when);
    n.probe = Some(ProbeRef {
        id: new_id(),
        name: "home".into(),
    });
    n.connection = Some(ConnectionRef {
        id: new_id(),
        name: "wan1".into(),
        isp: "Acme".into(),
    });
    n.result = Some(ResultSummary {
        id: new_id(),
        status: "failed".into(),
        healthy: false,
        breaches: vec!["test_failed".into()],
        download_bps: None,
        upload_bps: Some(1e6),
        ping_ms: Some(12.5),
        jitter_ms: None,
        packet_loss_percent: Some(0.5),
        failure: Some("network: Cannot open socket".into()),
        completed_at: when.plus_seconds(-5),
    });
    n.result_link = Some("https://np.example/measurements/x".into());
    n.share_link = None;
    n
}

fn delivery(channel: &str, status: DeliveryStatus, next: Timestamp) -> NewDelivery {
    NewDelivery {
        id: new_id(),
        channel_id: channel.into(),
        status,
        next_attempt_at: next,
    }
}

pub(crate) async fn settings_round_trip(s: &dyn Storage) {
    assert_eq!(s.notification_settings().await.unwrap(), None);
    let mut settings = NotificationSettings {
        enabled: false,
        alerts: AlertPolicy::new(5, 2).unwrap(),
        probe_offline: false,
        digest: DigestSchedule {
            daily: true,
            weekly: true,
            at: LocalTime::parse("at", "07:30").unwrap(),
            weekday: 6,
            time_zone: "Europe/Berlin".into(),
        },
        log_retention_days: 7,
        public_url: Some("https://np.example".into()),
    };
    s.set_notification_settings(&settings, at(0)).await.unwrap();
    assert_eq!(
        s.notification_settings().await.unwrap(),
        Some(settings.clone())
    );
    settings.enabled = true;
    settings.public_url = None;
    s.set_notification_settings(&settings, at(1)).await.unwrap();
    assert_eq!(s.notification_settings().await.unwrap(), Some(settings));
}

pub(crate) async fn channels_round_trip_and_delete(s: &dyn Storage) {
    let b = channel("b-hook", ChannelKind::Webhook);
    let mut a = channel("a-mail", ChannelKind::Email);
    a.quiet_hours = None;
    a.sealed_secrets = None;
    a.secret_names = vec![];
    s.create_channel(&b).await.unwrap();
    s.create_channel(&a).await.unwrap();
    assert_eq!(s.channel(&b.id).await.unwrap(), Some(b.clone()));
    let names: Vec<String> = s
        .channels()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["a-mail", "b-hook"]);
    let mut changed = b.clone();
    changed.enabled = false;
    changed.events = vec![NotificationKind::Digest];
    changed.quiet_hours = None;
    changed.updated_at = at(60);
    changed.created_at = at(99); // ignored
    s.update_channel(&changed).await.unwrap();
    let stored = s.channel(&b.id).await.unwrap().unwrap();
    assert_eq!(stored.created_at, at(0));
    assert_eq!(
        (stored.enabled, stored.events, stored.quiet_hours),
        (false, vec![NotificationKind::Digest], None)
    );
    let unknown = channel("x", ChannelKind::Ntfy);
    assert!(matches!(
        s.update_channel(&unknown).await,
        Err(StorageError::NotFound { .. })
    ));
    // A pending delivery of a deleted channel fails; its log line stays.
    s.enqueue_notification(
        &new_id(),
        &notification(NotificationKind::Alert, at(0)),
        &[delivery(&b.id, DeliveryStatus::Pending, at(0))],
        None,
    )
    .await
    .unwrap();
    s.delete_channel(&b.id).await.unwrap();
    assert_eq!(s.channel(&b.id).await.unwrap(), None);
    assert!(matches!(
        s.delete_channel(&b.id).await,
        Err(StorageError::NotFound { .. })
    ));
    let log = s.delivery_log(10, None).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, DeliveryStatus::Failed);
    assert_eq!(log[0].channel_name, "");
    assert!(
        s.claim_deliveries(at(10), at(70), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn outbox_claims_retries_and_log(s: &dyn Storage) {
    let hook = channel("hook", ChannelKind::Webhook);
    s.create_channel(&hook).await.unwrap();
    let n = notification(NotificationKind::Recovery, at(0));
    let now_id = new_id();
    let held = delivery(&hook.id, DeliveryStatus::Held, at(3600));
    let pending = NewDelivery {
        id: now_id.clone(),
        ..delivery(&hook.id, DeliveryStatus::Pending, at(0))
    };
    assert!(
        s.enqueue_notification(&new_id(), &n, &[pending, held.clone()], None)
            .await
            .unwrap()
    );
    let claimed = s.claim_deliveries(at(1), at(61), 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "the held one waits");
    assert_eq!(claimed[0].id, now_id);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].notification, n, "the context round-trips");
    // Claimed: nobody else gets it while the claim lasts.
    assert!(
        s.claim_deliveries(at(2), at(62), 10)
            .await
            .unwrap()
            .is_empty()
    );
    s.finish_delivery(
        &now_id,
        &AttemptOutcome::Retry {
            at: at(31),
            error: "answered 500".into(),
        },
        at(2),
    )
    .await
    .unwrap();
    assert!(
        s.claim_deliveries(at(30), at(90), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = s.claim_deliveries(at(31), at(91), 10).await.unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 2));
    // A claim that expired (the process died) is taken again.
    let third = s.claim_deliveries(at(91), at(151), 10).await.unwrap();
    assert_eq!((third.len(), third[0].attempts), (1, 3));
    s.finish_delivery(&now_id, &AttemptOutcome::Sent, at(92))
        .await
        .unwrap();
    assert!(matches!(
        s.finish_delivery(&now_id, &AttemptOutcome::Sent, at(93))
            .await,
        Err(StorageError::NotFound { .. })
    ));
    // The held one is released when quiet hours end.
    let released = s.claim_deliveries(at(3600), at(3660), 10).await.unwrap();
    assert_eq!(released[0].id, held.id);
    s.finish_delivery(
        &held.id,
        &AttemptOutcome::Failed {
            error: "answered 404".into(),
        },
        at(3601),
    )
    .await
    .unwrap();
    let log = s.delivery_log(10, None).await.unwrap();
    assert_eq!(log.len(), 2);
    let by_id: BTreeMap<&str, _> = log.iter().map(|e| (e.id.as_str(), e)).collect();
    let sent = by_id[now_id.as_str()];
    assert_eq!(
        (sent.status, sent.attempts, sent.last_error.as_deref()),
        (DeliveryStatus::Sent, 3, Some("answered 500"))
    );
    assert_eq!(sent.channel_name, "hook");
    assert_eq!(sent.channel_kind, Some(ChannelKind::Webhook));
    assert_eq!(sent.kind, NotificationKind::Recovery);
    let failed = by_id[held.id.as_str()];
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("answered 404"));
    // Paging.
    let first = s.delivery_log(1, None).await.unwrap();
    let second = s.delivery_log(1, Some(&first[0].id)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_ne!(first[0].id, second[0].id);
    assert!(
        s.delivery_log(1, Some(&second[0].id))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.delivery_log(1, Some("nope")).await,
        Err(StorageError::Invalid(_))
    ));
}

pub(crate) async fn announcing_an_incident_happens_once(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let hook = channel("hook", ChannelKind::Webhook);
    s.create_channel(&hook).await.unwrap();
    let incident = Incident {
        id: new_id(),
        connection_id: c.id.clone(),
        opened_at: at(0),
        closed_at: None,
        announced: false,
        result_id: None,
    };
    s.open_incident(&incident).await.unwrap();
    assert_eq!(s.unannounced_incidents().await.unwrap(), [incident.clone()]);
    let n = notification(NotificationKind::Alert, at(0));
    let mut results = Vec::new();
    for _ in 0..2 {
        results.push(
            s.enqueue_notification(
                &new_id(),
                &n,
                &[delivery(&hook.id, DeliveryStatus::Pending, at(0))],
                Some(&incident.id),
            )
            .await
            .unwrap(),
        );
    }
    assert_eq!(results, [true, false]);
    assert_eq!(s.delivery_log(10, None).await.unwrap().len(), 1);
    assert!(s.unannounced_incidents().await.unwrap().is_empty());
}

pub(crate) async fn leases_are_exclusive_until_they_expire(s: &dyn Storage) {
    assert!(
        s.acquire_lease("housekeeping", "a", at(0), at(60))
            .await
            .unwrap()
    );
    assert!(
        !s.acquire_lease("housekeeping", "b", at(10), at(70))
            .await
            .unwrap()
    );
    assert!(
        s.acquire_lease("housekeeping", "a", at(20), at(80))
            .await
            .unwrap()
    );
    assert!(
        !s.acquire_lease("housekeeping", "b", at(79), at(139))
            .await
            .unwrap()
    );
    assert!(
        s.acquire_lease("housekeeping", "b", at(80), at(140))
            .await
            .unwrap()
    );
    assert!(
        !s.acquire_lease("housekeeping", "a", at(81), at(141))
            .await
            .unwrap()
    );
    assert!(
        s.acquire_lease("other", "a", at(81), at(141))
            .await
            .unwrap()
    );
}

pub(crate) async fn probe_liveness_is_claimed_once_each_way(s: &dyn Storage) {
    let (p, _) = seeded(s).await;
    assert!(
        !s.claim_probe_liveness(&p.id, false, at(0)).await.unwrap(),
        "never offline"
    );
    assert!(s.claim_probe_liveness(&p.id, true, at(1)).await.unwrap());
    assert!(!s.claim_probe_liveness(&p.id, true, at(2)).await.unwrap());
    assert_eq!(s.offline_probes().await.unwrap(), [p.id.clone()]);
    assert!(s.claim_probe_liveness(&p.id, false, at(3)).await.unwrap());
    assert!(!s.claim_probe_liveness(&p.id, false, at(4)).await.unwrap());
    assert!(s.offline_probes().await.unwrap().is_empty());
    assert!(
        s.claim_probe_liveness(&p.id, true, at(5)).await.unwrap(),
        "again"
    );
}

pub(crate) async fn incidents_open_close_and_overlap(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    assert_eq!(s.close_incident(&c.id, at(0)).await.unwrap(), None);
    let first = Incident {
        id: new_id(),
        connection_id: c.id.clone(),
        opened_at: at(100),
        closed_at: None,
        announced: true,
        result_id: Some(new_id()),
    };
    s.open_incident(&first).await.unwrap();
    let closed = s.close_incident(&c.id, at(200)).await.unwrap().unwrap();
    assert_eq!(closed.id, first.id);
    assert_eq!(closed.closed_at, Some(at(200)));
    assert_eq!(s.close_incident(&c.id, at(201)).await.unwrap(), None);
    let second = Incident {
        id: new_id(),
        opened_at: at(300),
        ..first.clone()
    };
    s.open_incident(&second).await.unwrap();
    let ids = |v: Vec<Incident>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.incidents(Some(&c.id), at(0), at(1000)).await.unwrap()),
        [first.id.clone(), second.id.clone()]
    );
    assert_eq!(
        ids(s.incidents(None, at(150), at(250)).await.unwrap()),
        [first.id.clone()]
    );
    assert_eq!(
        ids(s.incidents(None, at(200), at(300)).await.unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(s.incidents(None, at(5000), at(6000)).await.unwrap()),
        [second.id.clone()],
        "an open incident overlaps everything after it"
    );
    let other = ConnectionId::parse(&new_id()).unwrap();
    assert!(
        s.incidents(Some(&other), at(0), at(9000))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn maintenance_windows_overlap_and_cascade(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let w = StoredMaintenance {
        id: new_id(),
        connection_id: c.id.clone(),
        starts_at: at(100),
        ends_at: at(200),
        note: "ISP works".into(),
        created_at: at(0),
    };
    s.create_maintenance(&w).await.unwrap();
    let unknown = StoredMaintenance {
        id: new_id(),
        connection_id: ConnectionId::parse(&new_id()).unwrap(),
        ..w.clone()
    };
    assert!(matches!(
        s.create_maintenance(&unknown).await,
        Err(StorageError::NotFound { .. })
    ));
    assert_eq!(
        s.maintenance_windows(Some(&c.id), at(150), at(160))
            .await
            .unwrap(),
        [w.clone()]
    );
    assert!(
        s.maintenance_windows(None, at(200), at(300))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.maintenance_windows(None, at(0), at(100))
            .await
            .unwrap()
            .is_empty()
    );
    let second = StoredMaintenance {
        id: new_id(),
        starts_at: at(300),
        ends_at: at(400),
        ..w.clone()
    };
    s.create_maintenance(&second).await.unwrap();
    s.delete_maintenance(&w.id).await.unwrap();
    assert!(matches!(
        s.delete_maintenance(&w.id).await,
        Err(StorageError::NotFound { .. })
    ));
    assert_eq!(
        s.maintenance_windows(None, at(0), at(1000)).await.unwrap(),
        [second]
    );
    s.delete_connection(&c.id).await.unwrap();
    assert!(
        s.maintenance_windows(None, at(0), at(1000))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn digest_slots_are_claimed_once(s: &dyn Storage) {
    let p = DigestPeriod::Daily;
    assert_eq!(s.digest_slot(p).await.unwrap(), None);
    assert!(s.claim_digest_slot(p, None, at(100)).await.unwrap());
    assert!(!s.claim_digest_slot(p, None, at(200)).await.unwrap());
    assert_eq!(s.digest_slot(p).await.unwrap(), Some(at(100)));
    assert!(
        s.claim_digest_slot(p, Some(at(100)), at(200))
            .await
            .unwrap()
    );
    assert!(
        !s.claim_digest_slot(p, Some(at(100)), at(300))
            .await
            .unwrap()
    );
    assert_eq!(s.digest_slot(DigestPeriod::Weekly).await.unwrap(), None);
    s.reset_digest_slots().await.unwrap();
    assert_eq!(s.digest_slot(p).await.unwrap(), None);
}

pub(crate) async fn pruning_keeps_unfinished_notifications(s: &dyn Storage) {
    let hook = channel("hook", ChannelKind::Webhook);
    s.create_channel(&hook).await.unwrap();
    let done = new_id();
    s.enqueue_notification(
        &new_id(),
        &notification(NotificationKind::Alert, at(0)),
        &[NewDelivery {
            id: done.clone(),
            ..delivery(&hook.id, DeliveryStatus::Pending, at(0))
        }],
        None,
    )
    .await
    .unwrap();
    s.enqueue_notification(
        &new_id(),
        &notification(NotificationKind::Digest, at(1)),
        &[delivery(&hook.id, DeliveryStatus::Held, at(100_000))],
        None,
    )
    .await
    .unwrap();
    let claimed = s.claim_deliveries(at(2), at(62), 1).await.unwrap();
    assert_eq!(claimed[0].id, done);
    s.finish_delivery(&done, &AttemptOutcome::Sent, at(3))
        .await
        .unwrap();
    assert_eq!(
        s.prune_notifications(at(0)).await.unwrap(),
        0,
        "not old yet"
    );
    assert_eq!(s.prune_notifications(at(10)).await.unwrap(), 1);
    let log = s.delivery_log(10, None).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, DeliveryStatus::Held);
}

/// Two server processes (two pools) race for every claim: exactly one wins each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_never_win_the_same_claim() {
    let Some(db) = pg().await else { return };
    let a: &dyn Storage = db.storage.as_ref();
    let b = PostgresStorage::open(&db.url).await.unwrap();
    let (p, _) = seeded(a).await;
    let hook = channel("hook", ChannelKind::Webhook);
    a.create_channel(&hook).await.unwrap();
    for round in 0..20_i64 {
        let t = at(round * 1000);
        let deliveries: Vec<NewDelivery> = (0..5)
            .map(|_| delivery(&hook.id, DeliveryStatus::Pending, t))
            .collect();
        a.enqueue_notification(
            &new_id(),
            &notification(NotificationKind::Alert, t),
            &deliveries,
            None,
        )
        .await
        .unwrap();
        let (x, y) = tokio::join!(
            a.claim_deliveries(t, t.plus_seconds(60), 10),
            b.claim_deliveries(t, t.plus_seconds(60), 10)
        );
        let mut ids: Vec<String> = x
            .unwrap()
            .into_iter()
            .chain(y.unwrap())
            .map(|d| d.id)
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            5,
            "round {round}: each delivery claimed exactly once"
        );
        for id in &ids {
            a.finish_delivery(id, &AttemptOutcome::Sent, t)
                .await
                .unwrap();
        }
        let offline = round % 2 == 0;
        let (x, y) = tokio::join!(
            a.claim_probe_liveness(&p.id, offline, t),
            b.claim_probe_liveness(&p.id, offline, t)
        );
        assert!(x.unwrap() ^ y.unwrap(), "round {round}: one liveness claim");
        let expected = (round > 0).then(|| at((round - 1) * 1000));
        let (x, y) = tokio::join!(
            a.claim_digest_slot(DigestPeriod::Daily, expected, t),
            b.claim_digest_slot(DigestPeriod::Daily, expected, t)
        );
        assert!(x.unwrap() ^ y.unwrap(), "round {round}: one digest claim");
        let (x, y) = tokio::join!(
            a.acquire_lease("housekeeping", "a", t.plus_seconds(61), t.plus_seconds(121)),
            b.acquire_lease("housekeeping", "b", t.plus_seconds(61), t.plus_seconds(121))
        );
        assert!(x.unwrap() ^ y.unwrap(), "round {round}: one lease holder");
    }
}

#[tokio::test]
async fn sqlite_claims_survive_concurrent_writers() {
    let db = sqlite().await;
    let s = db.storage.clone();
    let hook = channel("hook", ChannelKind::Webhook);
    s.create_channel(&hook).await.unwrap();
    let deliveries: Vec<NewDelivery> = (0..20)
        .map(|_| delivery(&hook.id, DeliveryStatus::Pending, at(0)))
        .collect();
    s.enqueue_notification(
        &new_id(),
        &notification(NotificationKind::Alert, at(0)),
        &deliveries,
        None,
    )
    .await
    .unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.claim_deliveries(at(1), at(61), 3).await.unwrap() })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.unwrap().into_iter().map(|d| d.id));
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((n, ids.len()), (12, 12));
}
