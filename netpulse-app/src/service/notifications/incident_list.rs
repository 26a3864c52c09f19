//! One list of every incident, whatever its subject (issue 21): connection incidents, outage
//! incidents and service-check and probe-offline incidents, each with its kind, its subject's name, the severity its messages carry (the
//! subject's own, then the source's, then the default; an outage's default from its episode)
//! and its state — what the `/incidents` page shows and acknowledges.

use std::collections::HashMap;

use netpulse_domain::Timestamp;
use netpulse_domain::contact_list::IncidentState;
use netpulse_domain::id::CheckId;
use netpulse_domain::incident_severity::{
    AlertSource, IncidentSeverity, outage_severity, severity_of,
};
use netpulse_domain::outage::{SeriesFamily, Severity};
use netpulse_ports::alerting_store::{AlertSubject, IncidentStatus, OutageIncident};

use super::alerting::{outage_state_of, state_of};
use crate::error::AppError;
use crate::notify::check_edges::describe;
use crate::service::App;

/// What an incident is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentKind {
    /// A connection's speed tests turned unhealthy (acknowledged at `/incidents/{id}/ack`).
    Connection,
    /// An outage episode of a probe's family (acknowledged at `/outage-incidents/{id}/ack`).
    Outage,
    /// A service check's alert over one family (acknowledged at `/outage-incidents/{id}/ack`).
    Check,
    /// A probe stopped polling (acknowledged at `/outage-incidents/{id}/ack`).
    ProbeOffline,
}

impl IncidentKind {
    /// The name (JSON).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connection => "connection",
            Self::Outage => "outage",
            Self::Check => "check",
            Self::ProbeOffline => "probe_offline",
        }
    }
}

/// One incident of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentEntry {
    /// Its kind.
    pub kind: IncidentKind,
    /// Its id (of its kind).
    pub id: String,
    /// The connection's or probe's id.
    pub subject_id: String,
    /// How it is named: the connection and its probe, or the probe and the family.
    pub subject: String,
    /// The severity its messages carry.
    pub severity: IncidentSeverity,
    /// Open, acknowledged or resolved.
    pub state: IncidentState,
    /// Opened.
    pub opened_at: Timestamp,
    /// Closed.
    pub closed_at: Option<Timestamp>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<Timestamp>,
}

/// The stored family in the messages' words, as stored if it does not read.
fn family_name(f: &str) -> &str {
    match SeriesFamily::parse(f) {
        Ok(family) => crate::notify::outage_edges::family_words(family),
        Err(_) => f,
    }
}

/// The connection incidents and outage incidents (as [`incidents`](super::alerting::incidents)
/// and [`outage_incidents`](super::alerting::outage_incidents) list them) in one list, newest
/// first, with their subjects' names and severities.
pub async fn incident_entries(
    app: &App,
    connection_incidents: &[IncidentStatus],
    outages: &[OutageIncident],
) -> Result<Vec<IncidentEntry>, AppError> {
    let per_source: HashMap<AlertSource, IncidentSeverity> =
        app.storage.source_severities().await?.into_iter().collect();
    let probes: HashMap<String, String> = app
        .storage
        .probes()
        .await?
        .into_iter()
        .map(|p| (p.id.to_string(), p.name.as_str().to_owned()))
        .collect();
    let connections: HashMap<String, (String, String)> = app
        .storage
        .connections(None)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.id.to_string(),
                (c.name.as_str().to_owned(), c.probe_id.to_string()),
            )
        })
        .collect();
    let mut own: HashMap<(u8, String), Option<IncidentSeverity>> = HashMap::new();
    let mut out = Vec::new();
    for s in connection_incidents {
        let cid = s.incident.connection_id.to_string();
        let key = (0, cid.clone());
        if !own.contains_key(&key) {
            let r = app
                .storage
                .alert_route(AlertSubject::Connection, &cid)
                .await?;
            own.insert(key.clone(), r.severity);
        }
        let subject = match connections.get(&cid) {
            Some((name, probe)) => match probes.get(probe) {
                Some(p) => format!("{name} ({p})"),
                None => name.clone(),
            },
            None => cid.clone(),
        };
        out.push(IncidentEntry {
            kind: IncidentKind::Connection,
            state: state_of(s),
            severity: severity_of(
                AlertSource::Connection,
                own[&key],
                per_source.get(&AlertSource::Connection).copied(),
            ),
            id: s.incident.id.clone(),
            subject_id: cid,
            subject,
            opened_at: s.incident.opened_at,
            closed_at: s.incident.closed_at,
            acknowledged_by: s.acknowledged_by.clone(),
            acknowledged_at: s.acknowledged_at,
        });
    }
    for i in outages {
        if i.source != AlertSource::Outage {
            out.push(alert_entry(app, i, &probes, &per_source).await?);
            continue;
        }
        let key = (1, i.probe_id.clone());
        if !own.contains_key(&key) {
            let r = app
                .storage
                .alert_route(AlertSubject::Probe, &i.probe_id)
                .await?;
            own.insert(key.clone(), r.severity);
        }
        let configured = own[&key].or(per_source.get(&AlertSource::Outage).copied());
        let severity = match configured {
            Some(s) => s,
            None => outage_default(app, &i.id).await?,
        };
        let probe = probes.get(&i.probe_id).unwrap_or(&i.probe_id);
        out.push(IncidentEntry {
            kind: IncidentKind::Outage,
            state: outage_state_of(i),
            severity,
            subject: format!("{probe}: outage over {}", family_name(&i.family)),
            id: i.id.clone(),
            subject_id: i.probe_id.clone(),
            opened_at: i.opened_at,
            closed_at: i.closed_at,
            acknowledged_by: i.acknowledged_by.clone(),
            acknowledged_at: i.acknowledged_at,
        });
    }
    out.sort_by(|a, b| {
        b.opened_at
            .cmp(&a.opened_at)
            .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

/// The entry of a service-check or probe-offline incident: its severity is the one stored when
/// it opened (else the route's now).
async fn alert_entry(
    app: &App,
    i: &OutageIncident,
    probes: &HashMap<String, String>,
    per_source: &HashMap<AlertSource, IncidentSeverity>,
) -> Result<IncidentEntry, AppError> {
    let (kind, subject_kind) = if i.source == AlertSource::Check {
        (IncidentKind::Check, AlertSubject::Check)
    } else {
        (IncidentKind::ProbeOffline, AlertSubject::Probe)
    };
    let severity = if let Some(s) = i.severity {
        s
    } else {
        let own = app.storage.alert_route(subject_kind, &i.subject_id).await?;
        severity_of(i.source, own.severity, per_source.get(&i.source).copied())
    };
    let probe = probes.get(&i.probe_id).unwrap_or(&i.probe_id);
    let subject = if kind == IncidentKind::Check {
        let check = match CheckId::parse(&i.subject_id) {
            Ok(id) => app.storage.check(&id).await?,
            Err(_) => None,
        };
        let what = check
            .as_ref()
            .map_or_else(|| i.subject_id.clone(), describe);
        format!("{probe}: check {what} ({})", family_name(&i.family))
    } else {
        format!("{probe}: offline")
    };
    Ok(IncidentEntry {
        kind,
        state: outage_state_of(i),
        severity,
        subject,
        id: i.id.clone(),
        subject_id: i.subject_id.clone(),
        opened_at: i.opened_at,
        closed_at: i.closed_at,
        acknowledged_by: i.acknowledged_by.clone(),
        acknowledged_at: i.acknowledged_at,
    })
}

/// The severity of an outage incident when none is configured: from its episode (CRITICAL
/// when every family is completely down, else HIGH).
pub async fn outage_default(app: &App, id: &str) -> Result<IncidentSeverity, AppError> {
    Ok(match app.storage.outage(id).await? {
        Some(o) => outage_severity(
            o.family == SeriesFamily::All,
            matches!(o.episode.severity(), Severity::Complete),
        ),
        None => AlertSource::Outage.default_severity(),
    })
}
