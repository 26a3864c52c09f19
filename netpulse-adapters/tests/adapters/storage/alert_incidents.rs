//! Incident rows of service-check and probe-offline alerts in `outage_incidents` (issue 21):
//! stored once per id, closed by their source, subject and family, listed with the outage
//! ones, acknowledged and reminded with the same conditional writes.

use netpulse_adapters::storage::postgres::PostgresStorage;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_ports::alerting_store::{AlertingStore, OutageIncident};
use netpulse_ports::storage::Storage;

use crate::storage::helpers::{at, digest, new_id, pg, probe};

macro_rules! alert_incident_tests {
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
                    let Some(db) = crate::storage::helpers::pg().await else { return };
                    super::$name(db.storage.as_ref()).await;
                }
            )*
        }
    };
}

alert_incident_tests!(check_and_offline_incidents_open_once_close_and_list,);

fn incident(
    probe_id: &str,
    source: AlertSource,
    subject: &str,
    family: &str,
    ms: i64,
) -> OutageIncident {
    OutageIncident {
        id: format!("{}-{subject}-{family}-{ms}", source.as_str()),
        source,
        subject_id: subject.to_owned(),
        probe_id: probe_id.to_owned(),
        family: family.to_owned(),
        severity: Some(IncidentSeverity::High),
        opened_at: at(ms / 1000),
        closed_at: None,
        acknowledged_by: None,
        acknowledged_at: None,
        reminded_at: None,
    }
}

async fn seeded_probe(s: &dyn Storage) -> String {
    let p = probe("attic");
    s.create_probe(&p, &digest(3)).await.unwrap();
    p.id.to_string()
}

pub(crate) async fn check_and_offline_incidents_open_once_close_and_list(s: &dyn Storage) {
    let p = seeded_probe(s).await;
    let check = new_id();
    let c = incident(&p, AlertSource::Check, &check, "v4", 60_000);
    let o = incident(&p, AlertSource::ProbeOffline, &p, "all", 120_000);
    assert!(s.open_alert_incident(&c).await.unwrap());
    assert!(
        !s.open_alert_incident(&c).await.unwrap(),
        "the same id again"
    );
    assert!(s.open_alert_incident(&o).await.unwrap());
    assert_eq!(s.outage_incident(&c.id).await.unwrap(), Some(c.clone()));
    let open = s.unacknowledged_outage_incidents().await.unwrap();
    assert_eq!(open, vec![c.clone(), o.clone()]);
    let listed = s
        .outage_incidents(Some(&p), at(0), at(10_000))
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);

    // Another family's or source's recovery closes nothing; the check's own closes its row,
    // never before its opening.
    assert_eq!(
        s.close_alert_incidents(AlertSource::Check, &check, "v6", at(300))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.close_alert_incidents(AlertSource::ProbeOffline, &check, "v4", at(300))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.close_alert_incidents(AlertSource::Check, &check, "v4", at(10))
            .await
            .unwrap(),
        1
    );
    let closed = s.outage_incident(&c.id).await.unwrap().unwrap();
    assert_eq!(
        closed.closed_at,
        Some(c.opened_at),
        "not before its opening"
    );
    assert_eq!(
        s.close_alert_incidents(AlertSource::Check, &check, "v4", at(400))
            .await
            .unwrap(),
        0,
        "closed once"
    );
    assert!(
        !s.claim_outage_reminder(&c.id, None, at(4000))
            .await
            .unwrap(),
        "no reminder once resolved"
    );

    // The offline one: reminded, then acknowledged, then no more reminders.
    assert!(
        s.claim_outage_reminder(&o.id, None, at(2000))
            .await
            .unwrap()
    );
    assert!(
        !s.claim_outage_reminder(&o.id, None, at(2000))
            .await
            .unwrap()
    );
    assert!(
        s.acknowledge_outage_incident(&o.id, "ops@example.org", at(2100))
            .await
            .unwrap()
    );
    assert!(
        !s.claim_outage_reminder(&o.id, Some(at(2000)), at(4000))
            .await
            .unwrap(),
        "no reminder once acknowledged"
    );
    assert!(
        s.unacknowledged_outage_incidents()
            .await
            .unwrap()
            .is_empty()
    );
}

/// Two server processes (two pools) race for each reminder of a check incident: exactly one
/// wins each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_never_send_the_same_check_reminder() {
    let Some(db) = pg().await else { return };
    let a: &dyn Storage = db.storage.as_ref();
    let b = PostgresStorage::open(&db.url).await.unwrap();
    let p = seeded_probe(a).await;
    let c = incident(&p, AlertSource::Check, &new_id(), "v6", 60_000);
    let (x, y) = tokio::join!(a.open_alert_incident(&c), b.open_alert_incident(&c));
    assert_eq!(u8::from(x.unwrap()) + u8::from(y.unwrap()), 1, "one row");
    let mut previous = None;
    for round in 1..=20_i64 {
        let t = at(3600 + round * 1000);
        let (x, y) = tokio::join!(
            a.claim_outage_reminder(&c.id, previous, t),
            b.claim_outage_reminder(&c.id, previous, t)
        );
        assert_eq!(
            u8::from(x.unwrap()) + u8::from(y.unwrap()),
            1,
            "round {round}"
        );
        previous = Some(t);
    }
    assert_eq!(
        a.outage_incident(&c.id).await.unwrap().unwrap().reminded_at,
        previous
    );
}
