//! The alerting store's contract (issue 21), on both databases: source severities, contact
//! lists and their channels, a connection's or probe's own alerting, acknowledgements and
//! reminder claims of connection and outage incidents;
//! and on PostgreSQL two pools (two server processes) racing for each reminder.

use std::collections::BTreeMap;

use netpulse_adapters::storage::postgres::PostgresStorage;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::check::{
    CheckKind, CheckMeasurement, CheckParams, CheckRole, CheckSpec, FailureClass, Family,
    FamilyMode, Outcome,
};
use netpulse_domain::id::CheckId;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_domain::values::Labels;
use netpulse_ports::alerting_store::{
    AlertRoute, AlertSubject, AlertingStore, ContactList, OutageIncident,
};
use netpulse_ports::check_store::Check;
use netpulse_ports::notification_store::{Incident, StoredChannel};
use netpulse_ports::notify::{ChannelKind, NotificationKind};
use netpulse_ports::storage::{Storage, StorageError};

use crate::storage::helpers::{at, digest, new_id, pg, probe, seeded};

macro_rules! alerting_tests {
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

alerting_tests!(
    severities_lists_and_routes_round_trip,
    acknowledgement_and_reminders_are_conditional,
    a_probes_route_holds_its_list_until_the_probe_goes,
    outage_reminders_are_claimed_once_and_stop_at_the_acknowledgement,
);

fn channel(name: &str) -> StoredChannel {
    StoredChannel {
        id: new_id(),
        name: name.into(),
        kind: ChannelKind::Webhook,
        enabled: true,
        options: BTreeMap::new(),
        sealed_secrets: None,
        secret_names: vec![],
        events: vec![NotificationKind::Alert],
        quiet_hours: None,
        created_at: at(0),
        updated_at: at(0),
    }
}

fn list(name: &str, channels: &[&str]) -> ContactList {
    ContactList {
        id: new_id(),
        name: name.into(),
        reminder_minutes: Some(30),
        min_severity: Some(IncidentSeverity::High),
        channel_ids: channels.iter().map(|c| (*c).to_owned()).collect(),
        created_at: at(1),
        updated_at: at(1),
    }
}

pub(crate) async fn severities_lists_and_routes_round_trip(s: &dyn Storage) {
    assert!(s.source_severities().await.unwrap().is_empty());
    s.set_source_severity(AlertSource::Check, Some(IncidentSeverity::Low))
        .await
        .unwrap();
    s.set_source_severity(AlertSource::Check, Some(IncidentSeverity::Critical))
        .await
        .unwrap();
    s.set_source_severity(AlertSource::Connection, Some(IncidentSeverity::Medium))
        .await
        .unwrap();
    s.set_source_severity(AlertSource::Connection, None)
        .await
        .unwrap();
    assert_eq!(
        s.source_severities().await.unwrap(),
        [(AlertSource::Check, IncidentSeverity::Critical)]
    );

    let (a, b) = (channel("a"), channel("b"));
    s.create_channel(&a).await.unwrap();
    s.create_channel(&b).await.unwrap();
    let mut ops = list("ops", &[&a.id]);
    s.create_contact_list(&ops).await.unwrap();
    assert_eq!(s.contact_list(&ops.id).await.unwrap().as_ref(), Some(&ops));
    assert!(matches!(
        s.create_contact_list(&list("ops", &[])).await,
        Err(StorageError::Conflict(_))
    ));
    let mut ids = vec![a.id.clone(), b.id.clone()];
    ids.sort();
    ops.channel_ids = ids;
    ops.reminder_minutes = None;
    ops.min_severity = None;
    ops.updated_at = at(2);
    s.update_contact_list(&ops).await.unwrap();
    assert_eq!(s.contact_lists().await.unwrap(), [ops.clone()]);
    // Deleting a channel takes it out of its lists.
    s.delete_channel(&b.id).await.unwrap();
    assert_eq!(
        s.contact_list(&ops.id).await.unwrap().unwrap().channel_ids,
        vec![a.id.clone()]
    );

    let (_, c) = seeded(s).await;
    assert_eq!(
        s.alert_route(AlertSubject::Connection, c.id.as_str())
            .await
            .unwrap(),
        AlertRoute::default()
    );
    let route = AlertRoute {
        severity: Some(IncidentSeverity::Low),
        contact_list_id: Some(ops.id.clone()),
    };
    s.set_alert_route(AlertSubject::Connection, c.id.as_str(), &route)
        .await
        .unwrap();
    assert_eq!(
        s.alert_route(AlertSubject::Connection, c.id.as_str())
            .await
            .unwrap(),
        route
    );
    // A list in use cannot go; once nothing routes to it, it can.
    assert!(matches!(
        s.delete_contact_list(&ops.id).await,
        Err(StorageError::Conflict(_))
    ));
    s.set_alert_route(
        AlertSubject::Connection,
        c.id.as_str(),
        &AlertRoute::default(),
    )
    .await
    .unwrap();
    s.delete_contact_list(&ops.id).await.unwrap();
    assert!(matches!(
        s.delete_contact_list(&ops.id).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(s.contact_lists().await.unwrap().is_empty());
}

async fn open_incident(s: &dyn Storage) -> Incident {
    let (_, c) = seeded(s).await;
    let incident = Incident {
        id: new_id(),
        connection_id: c.id,
        opened_at: at(100),
        closed_at: None,
        announced: true,
        result_id: None,
    };
    s.open_incident(&incident).await.unwrap();
    incident
}

pub(crate) async fn acknowledgement_and_reminders_are_conditional(s: &dyn Storage) {
    let incident = open_incident(s).await;
    assert_eq!(s.unacknowledged_incidents().await.unwrap().len(), 1);
    assert!(s.claim_reminder(&incident.id, None, at(200)).await.unwrap());
    assert!(
        !s.claim_reminder(&incident.id, None, at(200)).await.unwrap(),
        "the same reminder again"
    );
    assert!(
        !s.claim_reminder(&incident.id, Some(at(200)), at(200))
            .await
            .unwrap(),
        "a claim moves time forward"
    );
    let status = s.incident_status(&incident.id).await.unwrap().unwrap();
    assert_eq!(status.reminded_at, Some(at(200)));

    assert!(
        s.acknowledge_incident(&incident.id, "ops@example.org", at(250))
            .await
            .unwrap()
    );
    assert!(
        !s.acknowledge_incident(&incident.id, "late@example.org", at(260))
            .await
            .unwrap()
    );
    let status = s.incident_status(&incident.id).await.unwrap().unwrap();
    assert_eq!(status.acknowledged_by.as_deref(), Some("ops@example.org"));
    assert_eq!(status.acknowledged_at, Some(at(250)));
    assert!(s.unacknowledged_incidents().await.unwrap().is_empty());
    assert!(
        !s.claim_reminder(&incident.id, Some(at(200)), at(300))
            .await
            .unwrap(),
        "no reminder once acknowledged"
    );
    let listed = s.incident_statuses(None, at(0), at(1000)).await.unwrap();
    assert_eq!(listed, [status]);
    // A resolved incident can no longer be acknowledged.
    s.close_incident(&incident.connection_id, at(400))
        .await
        .unwrap();
    let other = Incident {
        id: new_id(),
        opened_at: at(500),
        ..incident.clone()
    };
    s.open_incident(&other).await.unwrap();
    s.close_incident(&other.connection_id, at(600))
        .await
        .unwrap();
    assert!(
        !s.acknowledge_incident(&other.id, "ops@example.org", at(700))
            .await
            .unwrap()
    );
    assert!(s.incident_status("nope").await.unwrap().is_none());
}

/// Two server processes (two pools) race for each reminder: exactly one wins each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_never_send_the_same_reminder() {
    let Some(db) = pg().await else { return };
    let a: &dyn Storage = db.storage.as_ref();
    let b = PostgresStorage::open(&db.url).await.unwrap();
    let incident = open_incident(a).await;
    let mut previous = None;
    for round in 1..=20_i64 {
        let t = at(100 + round * 1000);
        let (x, y) = tokio::join!(
            a.claim_reminder(&incident.id, previous, t),
            b.claim_reminder(&incident.id, previous, t)
        );
        assert_eq!(
            u8::from(x.unwrap()) + u8::from(y.unwrap()),
            1,
            "round {round}"
        );
        previous = Some(t);
    }
}

pub(crate) async fn a_probes_route_holds_its_list_until_the_probe_goes(s: &dyn Storage) {
    s.set_source_severity(AlertSource::Outage, Some(IncidentSeverity::Low))
        .await
        .unwrap();
    assert_eq!(
        s.source_severities().await.unwrap(),
        [(AlertSource::Outage, IncidentSeverity::Low)]
    );
    let ops = list("ops", &[]);
    s.create_contact_list(&ops).await.unwrap();
    let (p, c) = seeded(s).await;
    assert_eq!(
        s.alert_route(AlertSubject::Probe, p.id.as_str())
            .await
            .unwrap(),
        AlertRoute::default()
    );
    let route = AlertRoute {
        severity: Some(IncidentSeverity::Medium),
        contact_list_id: Some(ops.id.clone()),
    };
    s.set_alert_route(AlertSubject::Probe, p.id.as_str(), &route)
        .await
        .unwrap();
    assert_eq!(
        s.alert_route(AlertSubject::Probe, p.id.as_str())
            .await
            .unwrap(),
        route
    );
    assert!(matches!(
        s.delete_contact_list(&ops.id).await,
        Err(StorageError::Conflict(_))
    ));
    // Deleting the probe takes its route with it; then the list can go.
    s.delete_connection(&c.id).await.unwrap();
    s.delete_probe(&p.id).await.unwrap();
    assert_eq!(
        s.alert_route(AlertSubject::Probe, p.id.as_str())
            .await
            .unwrap(),
        AlertRoute::default()
    );
    s.delete_contact_list(&ops.id).await.unwrap();
}

/// A probe with one ICMP check (IPv4) whose rounds fail from minute 3: outage incidents open
/// for `v4` and `all`; returns the `v4` one.
async fn open_outage(s: &dyn Storage) -> OutageIncident {
    let p = probe("outage-home");
    s.create_probe(&p, &digest(7)).await.unwrap();
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
    let rounds: Vec<CheckMeasurement> = (0..6)
        .map(|k| {
            if k >= 3 {
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
    s.record_check_results(&p.id, &rounds, &AlertPolicy::default())
        .await
        .unwrap();
    let open = s.unacknowledged_outage_incidents().await.unwrap();
    let mut families: Vec<&str> = open.iter().map(|i| i.family.as_str()).collect();
    families.sort_unstable();
    assert_eq!(families, ["all", "v4"], "{open:?}");
    assert!(open.iter().all(|i| i.probe_id == p.id.to_string()));
    open.into_iter().find(|i| i.family == "v4").unwrap()
}

pub(crate) async fn outage_reminders_are_claimed_once_and_stop_at_the_acknowledgement(
    s: &dyn Storage,
) {
    let incident = open_outage(s).await;
    assert_eq!(incident.reminded_at, None);
    let t1 = at(3600);
    assert!(
        s.claim_outage_reminder(&incident.id, None, t1)
            .await
            .unwrap()
    );
    assert!(
        !s.claim_outage_reminder(&incident.id, None, t1)
            .await
            .unwrap(),
        "the same reminder again"
    );
    assert!(
        !s.claim_outage_reminder(&incident.id, Some(t1), t1)
            .await
            .unwrap(),
        "a claim moves time forward"
    );
    let stored = s.outage_incident(&incident.id).await.unwrap().unwrap();
    assert_eq!(stored.reminded_at, Some(t1));
    let open = s.unacknowledged_outage_incidents().await.unwrap();
    assert_eq!(open.len(), 2);
    assert!(open.contains(&stored), "{open:?}");
    assert!(
        open.iter()
            .any(|i| i.family == "all" && i.reminded_at.is_none()),
        "the other family's is its own: {open:?}"
    );
    assert!(
        s.acknowledge_outage_incident(&incident.id, "ops@example.org", at(4000))
            .await
            .unwrap()
    );
    let open = s.unacknowledged_outage_incidents().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].family, "all");
    assert!(
        !s.claim_outage_reminder(&incident.id, Some(t1), at(7200))
            .await
            .unwrap(),
        "no reminder once acknowledged"
    );
    assert!(
        !s.claim_outage_reminder("no-such-incident", None, at(7200))
            .await
            .unwrap()
    );
}

/// Two server processes (two pools) race for each outage reminder: exactly one wins each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_never_send_the_same_outage_reminder() {
    let Some(db) = pg().await else { return };
    let a: &dyn Storage = db.storage.as_ref();
    let b = PostgresStorage::open(&db.url).await.unwrap();
    let incident = open_outage(a).await;
    let mut previous = None;
    for round in 1..=20_i64 {
        let t = at(3600 + round * 1000);
        let (x, y) = tokio::join!(
            a.claim_outage_reminder(&incident.id, previous, t),
            b.claim_outage_reminder(&incident.id, previous, t)
        );
        assert_eq!(
            u8::from(x.unwrap()) + u8::from(y.unwrap()),
            1,
            "round {round}"
        );
        previous = Some(t);
    }
    assert_eq!(
        a.outage_incident(&incident.id)
            .await
            .unwrap()
            .unwrap()
            .reminded_at,
        previous
    );
}
