//! Rows of the notification tables and their conversion, shared by both databases.

use std::collections::BTreeMap;

use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_domain::notify::{DigestSchedule, LocalTime, QuietHours};
use netpulse_domain::schedule::CronCalendar;
use netpulse_ports::notification_store::{
    DeliveryLogEntry, DeliveryStatus, Incident, NotificationSettings, StoredChannel,
    StoredMaintenance,
};
use netpulse_ports::notify::{
    ChannelKind, ConnectionRef, IncidentRef, Notification, NotificationKind, ProbeRef,
    ResultSummary, Severity,
};
use netpulse_ports::storage::StorageError;
use serde_json::{Value, json};

use super::rows::invalid;
use crate::cron_calendar::CronerCalendar;

fn u32_of(field: &'static str, v: i32) -> Result<u32, StorageError> {
    u32::try_from(v).map_err(|_| invalid(field, v, "must not be negative"))
}

fn u16_of(field: &'static str, v: i32) -> Result<u16, StorageError> {
    u16::try_from(v).map_err(|_| invalid(field, v, "out of range"))
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SettingsRow {
    pub enabled: bool,
    pub alert_after: i32,
    pub recover_after: i32,
    pub probe_offline: bool,
    pub digest_daily: bool,
    pub digest_weekly: bool,
    pub digest_minute: i32,
    pub digest_weekday: i32,
    pub digest_time_zone: String,
    pub log_retention_days: i32,
    pub public_url: Option<String>,
}

impl SettingsRow {
    pub(crate) fn into_settings(self) -> Result<NotificationSettings, StorageError> {
        Ok(NotificationSettings {
            enabled: self.enabled,
            alerts: AlertPolicy::new(
                u32_of("alert_after", self.alert_after)?,
                u32_of("recover_after", self.recover_after)?,
            )?,
            probe_offline: self.probe_offline,
            digest: DigestSchedule {
                daily: self.digest_daily,
                weekly: self.digest_weekly,
                at: LocalTime::from_minutes(
                    "digest_minute",
                    u16_of("digest_minute", self.digest_minute)?,
                )?,
                weekday: u8::try_from(self.digest_weekday)
                    .map_err(|_| invalid("digest_weekday", self.digest_weekday, "out of range"))?,
                time_zone: self.digest_time_zone,
            },
            log_retention_days: u32_of("log_retention_days", self.log_retention_days)?,
            public_url: self.public_url,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ChannelRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub enabled: bool,
    pub options: String,
    pub sealed_secrets: Option<String>,
    pub secret_names: String,
    pub events: String,
    pub quiet_start: Option<i32>,
    pub quiet_end: Option<i32>,
    pub quiet_time_zone: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const CHANNEL_COLUMNS: &str = "id, name, kind, enabled, options, sealed_secrets, \
     secret_names, events, quiet_start, quiet_end, quiet_time_zone, created_at, updated_at";

pub(crate) fn events_to_text(events: &[NotificationKind]) -> String {
    events
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn events_from_text(text: &str) -> Result<Vec<NotificationKind>, StorageError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            NotificationKind::parse(s)
                .ok_or_else(|| invalid("events", s, "is not a notification kind"))
        })
        .collect()
}

impl ChannelRow {
    pub(crate) fn into_channel(self) -> Result<StoredChannel, StorageError> {
        let options: BTreeMap<String, String> = serde_json::from_str(&self.options)
            .map_err(|e| invalid("options", "(json)", &e.to_string()))?;
        let secret_names: Vec<String> = serde_json::from_str(&self.secret_names)
            .map_err(|e| invalid("secret_names", "(json)", &e.to_string()))?;
        let quiet_hours = match (self.quiet_start, self.quiet_end, self.quiet_time_zone) {
            (Some(s), Some(e), Some(tz)) => Some(QuietHours::new(
                LocalTime::from_minutes("quiet_start", u16_of("quiet_start", s)?)?,
                LocalTime::from_minutes("quiet_end", u16_of("quiet_end", e)?)?,
                &tz,
                &CronerCalendar as &dyn CronCalendar,
            )?),
            _ => None,
        };
        Ok(StoredChannel {
            kind: ChannelKind::parse(&self.kind)
                .ok_or_else(|| invalid("kind", &self.kind, "is not a channel type"))?,
            id: self.id,
            name: self.name,
            enabled: self.enabled,
            options,
            sealed_secrets: self.sealed_secrets,
            secret_names,
            events: events_from_text(&self.events)?,
            quiet_hours,
            created_at: Timestamp::from_unix_millis(self.created_at),
            updated_at: Timestamp::from_unix_millis(self.updated_at),
        })
    }
}

/// The column values of a channel, in the order of [`CHANNEL_COLUMNS`].
pub(crate) struct ChannelValues {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub enabled: bool,
    pub options: String,
    pub sealed_secrets: Option<String>,
    pub secret_names: String,
    pub events: String,
    pub quiet_start: Option<i32>,
    pub quiet_end: Option<i32>,
    pub quiet_time_zone: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ChannelValues {
    pub(crate) fn of(c: &StoredChannel) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            kind: c.kind.as_str(),
            enabled: c.enabled,
            options: serde_json::to_string(&c.options).unwrap_or_else(|_| "{}".into()),
            sealed_secrets: c.sealed_secrets.clone(),
            secret_names: serde_json::to_string(&c.secret_names).unwrap_or_else(|_| "[]".into()),
            events: events_to_text(&c.events),
            quiet_start: c
                .quiet_hours
                .as_ref()
                .map(|q| i32::from(q.start().minutes())),
            quiet_end: c.quiet_hours.as_ref().map(|q| i32::from(q.end().minutes())),
            quiet_time_zone: c.quiet_hours.as_ref().map(|q| q.time_zone().to_owned()),
            created_at: c.created_at.unix_millis(),
            updated_at: c.updated_at.unix_millis(),
        }
    }
}

/// The structured context of a notification as stored (JSON).
pub(crate) fn context_to_json(n: &Notification) -> String {
    json!({
        "probe": n.probe.as_ref().map(|p| json!({"id": p.id, "name": p.name})),
        "connection": n
            .connection
            .as_ref()
            .map(|c| json!({"id": c.id, "name": c.name, "isp": c.isp})),
        "result": n.result.as_ref().map(|r| json!({
            "id": r.id,
            "status": r.status,
            "healthy": r.healthy,
            "breaches": r.breaches,
            "downloadBps": r.download_bps,
            "uploadBps": r.upload_bps,
            "pingMs": r.ping_ms,
            "jitterMs": r.jitter_ms,
            "packetLossPercent": r.packet_loss_percent,
            "failure": r.failure,
            "completedAt": r.completed_at.unix_millis(),
        })),
        "resultLink": n.result_link,
        "shareLink": n.share_link,
        "incident": n.incident.as_ref().map(|i| json!({
            "key": i.key,
            "severity": i.severity.as_str(),
            "source": i.source.as_str(),
            "startedAt": i.started_at.map(Timestamp::unix_millis),
            "site": i.site,
            "check": i.check,
            "family": i.family,
        })),
    })
    .to_string()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn opt_text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// Rebuilds a notification from its row.
pub(crate) fn notification_of(
    kind: &str,
    severity: &str,
    subject: String,
    body: String,
    context: &str,
    event_at: i64,
) -> Result<Notification, StorageError> {
    let kind = NotificationKind::parse(kind)
        .ok_or_else(|| invalid("kind", kind, "is not a notification kind"))?;
    let severity = Severity::parse(severity)
        .ok_or_else(|| invalid("severity", severity, "is not a severity"))?;
    let ctx: Value =
        serde_json::from_str(context).map_err(|e| invalid("context", "(json)", &e.to_string()))?;
    let probe = ctx
        .get("probe")
        .filter(|p| p.is_object())
        .map(|p| ProbeRef {
            id: text(p, "id"),
            name: text(p, "name"),
        });
    let connection = ctx
        .get("connection")
        .filter(|c| c.is_object())
        .map(|c| ConnectionRef {
            id: text(c, "id"),
            name: text(c, "name"),
            isp: text(c, "isp"),
        });
    let result = ctx
        .get("result")
        .filter(|r| r.is_object())
        .map(|r| ResultSummary {
            id: text(r, "id"),
            status: text(r, "status"),
            healthy: r.get("healthy").and_then(Value::as_bool).unwrap_or(false),
            breaches: r
                .get("breaches")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            download_bps: number(r, "downloadBps"),
            upload_bps: number(r, "uploadBps"),
            ping_ms: number(r, "pingMs"),
            jitter_ms: number(r, "jitterMs"),
            packet_loss_percent: number(r, "packetLossPercent"),
            failure: opt_text(r, "failure"),
            completed_at: Timestamp::from_unix_millis(
                r.get("completedAt").and_then(Value::as_i64).unwrap_or(0),
            ),
        });
    let incident = ctx
        .get("incident")
        .filter(|i| i.is_object())
        .map(|i| -> Result<IncidentRef, StorageError> {
            let severity = text(i, "severity");
            let source = text(i, "source");
            Ok(IncidentRef {
                key: text(i, "key"),
                severity: IncidentSeverity::parse("incident.severity", &severity)
                    .map_err(|_| invalid("incident.severity", &severity, "is not a severity"))?,
                source: AlertSource::parse(&source)
                    .ok_or_else(|| invalid("incident.source", &source, "is not an alert source"))?,
                started_at: i
                    .get("startedAt")
                    .and_then(Value::as_i64)
                    .map(Timestamp::from_unix_millis),
                site: opt_text(i, "site"),
                check: opt_text(i, "check"),
                family: opt_text(i, "family"),
            })
        })
        .transpose()?;
    Ok(Notification {
        kind,
        severity,
        subject,
        body,
        at: Timestamp::from_unix_millis(event_at),
        probe,
        connection,
        result,
        result_link: opt_text(&ctx, "resultLink"),
        share_link: opt_text(&ctx, "shareLink"),
        incident,
    })
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LogRow {
    pub id: String,
    pub notification_id: String,
    pub kind: String,
    pub subject: String,
    pub channel_id: String,
    pub channel_name: Option<String>,
    pub channel_kind: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl LogRow {
    pub(crate) fn into_entry(self) -> Result<DeliveryLogEntry, StorageError> {
        let status = DeliveryStatus::parse(&self.status)
            .ok_or_else(|| invalid("status", &self.status, "is not a delivery status"))?;
        Ok(DeliveryLogEntry {
            kind: NotificationKind::parse(&self.kind)
                .ok_or_else(|| invalid("kind", &self.kind, "is not a notification kind"))?,
            id: self.id,
            notification_id: self.notification_id,
            subject: self.subject,
            channel_id: self.channel_id,
            channel_name: self.channel_name.unwrap_or_default(),
            channel_kind: self.channel_kind.as_deref().and_then(ChannelKind::parse),
            next_attempt_at: match status {
                DeliveryStatus::Pending | DeliveryStatus::Held => {
                    self.next_attempt_at.map(Timestamp::from_unix_millis)
                }
                _ => None,
            },
            status,
            attempts: u32_of("attempts", self.attempts)?,
            last_error: self.last_error,
            created_at: Timestamp::from_unix_millis(self.created_at),
            updated_at: Timestamp::from_unix_millis(self.updated_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct IncidentRow {
    pub id: String,
    pub connection_id: String,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub announced: bool,
    pub result_id: Option<String>,
}

impl IncidentRow {
    pub(crate) fn into_incident(self) -> Result<Incident, StorageError> {
        Ok(Incident {
            id: self.id,
            connection_id: ConnectionId::parse(&self.connection_id)
                .map_err(|e| invalid(e.field, &e.value, e.reason))?,
            opened_at: Timestamp::from_unix_millis(self.opened_at),
            closed_at: self.closed_at.map(Timestamp::from_unix_millis),
            announced: self.announced,
            result_id: self.result_id,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MaintenanceRow {
    pub id: String,
    pub connection_id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub note: String,
    pub created_at: i64,
}

impl MaintenanceRow {
    pub(crate) fn into_window(self) -> Result<StoredMaintenance, StorageError> {
        Ok(StoredMaintenance {
            id: self.id,
            connection_id: ConnectionId::parse(&self.connection_id)
                .map_err(|e| invalid(e.field, &e.value, e.reason))?,
            starts_at: Timestamp::from_unix_millis(self.starts_at),
            ends_at: Timestamp::from_unix_millis(self.ends_at),
            note: self.note,
            created_at: Timestamp::from_unix_millis(self.created_at),
        })
    }
}
