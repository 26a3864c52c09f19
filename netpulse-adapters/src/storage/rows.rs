//! Row shapes shared by both databases, and their conversion to and from domain values.

use netpulse_domain::Timestamp;
use netpulse_domain::alert::{AlertPolicy, AlertState};
use netpulse_domain::degradation::{AdaptivePolicy, HealthHistory};
use netpulse_domain::due_work::LastRun;
use netpulse_domain::health::{Breach, Thresholds, Verdict};
use netpulse_domain::id::{ConnectionId, ProbeId, ResultId};
use netpulse_domain::measurement::{Failure, FailureClass, Observation, ServerInfo};
use netpulse_domain::model::{Connection, ConnectionState, Measurement, Probe, RawOutput};
use netpulse_domain::pool::{Engine, PoolEntry, ServerPool};
use netpulse_domain::schedule::{CronCalendar, CronSchedule, EvenSchedule, Schedule};
use netpulse_domain::values::{Colour, ExpectedSpeed, Labels, Name};
use netpulse_ports::storage::{StorageError, TokenDigest};

use crate::cron_calendar::CronerCalendar;

pub(crate) fn invalid(
    field: &'static str,
    value: impl std::fmt::Display,
    rule: &str,
) -> StorageError {
    StorageError::Invalid(netpulse_domain::InvalidValue::new(field, value, rule))
}

pub(crate) fn id_error(e: &netpulse_domain::id::IdError) -> StorageError {
    invalid(e.field, &e.value, e.reason)
}

pub(crate) fn labels_to_json(labels: &Labels) -> String {
    let map: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

pub(crate) fn labels_from_json(text: &str) -> Result<Labels, StorageError> {
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_str(text).map_err(|e| invalid("labels", text, &e.to_string()))?;
    let mut labels = Labels::new();
    for (k, v) in map {
        labels.insert(&k, &v)?;
    }
    Ok(labels)
}

pub(crate) fn strings_to_json<S: AsRef<str>>(items: &[S]) -> String {
    serde_json::Value::Array(
        items
            .iter()
            .map(|s| serde_json::Value::String(s.as_ref().to_owned()))
            .collect(),
    )
    .to_string()
}

pub(crate) fn strings_from_json(
    field: &'static str,
    text: &str,
) -> Result<Vec<String>, StorageError> {
    serde_json::from_str(text).map_err(|e| invalid(field, text, &e.to_string()))
}

pub(crate) fn engines_to_text(engines: &[Engine]) -> String {
    engines
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn engines_from_text(text: &str) -> Vec<Engine> {
    text.split(',')
        .filter_map(|e| Engine::parse(e).ok())
        .collect()
}

pub(crate) fn breaches_to_text(verdict: &Verdict) -> String {
    verdict
        .breaches
        .iter()
        .map(|b| b.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn breaches_from_text(text: &str) -> Result<Verdict, StorageError> {
    let breaches = text
        .split(',')
        .filter(|s| !s.is_empty())
        .map(Breach::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Verdict { breaches })
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProbeRow {
    pub id: String,
    pub name: String,
    pub labels: String,
    pub enabled: bool,
    pub created_at: i64,
    pub last_poll_at: Option<i64>,
    pub agent_version: Option<String>,
    pub agent_engines: String,
}

impl ProbeRow {
    pub(crate) fn into_probe(self) -> Result<Probe, StorageError> {
        Ok(Probe {
            id: ProbeId::parse(&self.id).map_err(|e| id_error(&e))?,
            name: Name::parse("name", &self.name)?,
            labels: labels_from_json(&self.labels)?,
            enabled: self.enabled,
            created_at: Timestamp::from_unix_millis(self.created_at),
            last_poll_at: self.last_poll_at.map(Timestamp::from_unix_millis),
            agent_version: self.agent_version,
            agent_engines: engines_from_text(&self.agent_engines),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ConnectionRow {
    pub id: String,
    pub probe_id: String,
    pub name: String,
    pub isp: String,
    pub expected_download_bps: i64,
    pub expected_upload_bps: i64,
    pub colour: String,
    pub labels: String,
    pub server_pool: String,
    pub schedule_mode: String,
    pub tests_per_day: i32,
    pub jitter_seconds: i32,
    pub cron_expressions: String,
    pub time_zone: String,
    pub min_download_ratio: f64,
    pub min_upload_ratio: f64,
    pub max_ping_ms: Option<f64>,
    pub max_jitter_ms: Option<f64>,
    pub max_packet_loss_percent: Option<f64>,
    pub adaptive_interval_seconds: i32,
    pub recovery_healthy_count: i32,
    pub max_consecutive_failures: i32,
    pub alert_after: Option<i32>,
    pub recover_after: Option<i32>,
    pub source_interface: Option<String>,
    pub source_address: Option<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub baseline_deviation_pct: f64,
}

fn u32_of(field: &'static str, v: i32) -> Result<u32, StorageError> {
    u32::try_from(v).map_err(|_| invalid(field, v, "must not be negative"))
}

fn u64_of(field: &'static str, v: i64) -> Result<u64, StorageError> {
    u64::try_from(v).map_err(|_| invalid(field, v, "must not be negative"))
}

impl ConnectionRow {
    pub(crate) fn into_connection(self) -> Result<Connection, StorageError> {
        let schedule = if self.schedule_mode == "cron" {
            let expressions = strings_from_json("cron_expressions", &self.cron_expressions)?;
            Schedule::Cron(CronSchedule::from_stored(
                expressions,
                &self.time_zone,
                &CronerCalendar as &dyn CronCalendar,
            )?)
        } else {
            Schedule::Even(EvenSchedule::new(
                u32_of("tests_per_day", self.tests_per_day)?,
                u32_of("jitter_seconds", self.jitter_seconds)?,
            )?)
        };
        let alerts = match (self.alert_after, self.recover_after) {
            (Some(n), Some(m)) => Some(AlertPolicy::new(
                u32_of("alert_after", n)?,
                u32_of("recover_after", m)?,
            )?),
            (Some(n), None) => Some(AlertPolicy::new(
                u32_of("alert_after", n)?,
                AlertPolicy::default().healthy_count(),
            )?),
            (None, Some(m)) => Some(AlertPolicy::new(
                AlertPolicy::default().unhealthy_count(),
                u32_of("recover_after", m)?,
            )?),
            (None, None) => None,
        };
        Ok(Connection {
            id: ConnectionId::parse(&self.id).map_err(|e| id_error(&e))?,
            probe_id: ProbeId::parse(&self.probe_id).map_err(|e| id_error(&e))?,
            name: Name::parse("name", &self.name)?,
            isp: self.isp,
            expected: ExpectedSpeed {
                download_bps: u64_of("expected_download_bps", self.expected_download_bps)?,
                upload_bps: u64_of("expected_upload_bps", self.expected_upload_bps)?,
            },
            colour: Colour::parse(&self.colour)?,
            labels: labels_from_json(&self.labels)?,
            pool: ServerPool::parse_all(&strings_from_json("server_pool", &self.server_pool)?)?,
            schedule,
            thresholds: Thresholds::new(
                self.min_download_ratio,
                self.min_upload_ratio,
                self.max_ping_ms,
                self.max_jitter_ms,
                self.max_packet_loss_percent,
            )?
            .with_baseline_deviation_pct(self.baseline_deviation_pct)?,
            adaptive: AdaptivePolicy::new(
                u32_of("adaptive_interval_seconds", self.adaptive_interval_seconds)?,
                u32_of("recovery_healthy_count", self.recovery_healthy_count)?,
                u32_of("max_consecutive_failures", self.max_consecutive_failures)?,
            )?,
            alerts,
            source_interface: self.source_interface,
            source_address: self.source_address,
            enabled: self.enabled,
            created_at: Timestamp::from_unix_millis(self.created_at),
        })
    }
}

/// The column values of a connection, in the order of `sql::CONNECTION_COLUMNS`.
pub(crate) struct ConnectionValues {
    pub id: String,
    pub probe_id: String,
    pub name: String,
    pub isp: String,
    pub expected_download_bps: i64,
    pub expected_upload_bps: i64,
    pub colour: &'static str,
    pub labels: String,
    pub server_pool: String,
    pub schedule_mode: &'static str,
    pub tests_per_day: i32,
    pub jitter_seconds: i32,
    pub cron_expressions: String,
    pub time_zone: String,
    pub min_download_ratio: f64,
    pub min_upload_ratio: f64,
    pub max_ping_ms: Option<f64>,
    pub max_jitter_ms: Option<f64>,
    pub max_packet_loss_percent: Option<f64>,
    pub adaptive_interval_seconds: i32,
    pub recovery_healthy_count: i32,
    pub max_consecutive_failures: i32,
    pub alert_after: Option<i32>,
    pub recover_after: Option<i32>,
    pub source_interface: Option<String>,
    pub source_address: Option<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub baseline_deviation_pct: f64,
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn i32_of(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl ConnectionValues {
    pub(crate) fn of(c: &Connection) -> Self {
        let (mode, per_day, jitter, cron, tz) = match &c.schedule {
            Schedule::Even(e) => (
                "even",
                e.tests_per_day(),
                e.jitter_seconds(),
                String::from("[]"),
                String::from("UTC"),
            ),
            Schedule::Cron(s) => (
                "cron",
                0,
                0,
                strings_to_json(s.expressions()),
                s.time_zone().to_owned(),
            ),
        };
        let pool: Vec<&str> = c.pool.entries().iter().map(PoolEntry::as_str).collect();
        Self {
            id: c.id.as_str().to_owned(),
            probe_id: c.probe_id.as_str().to_owned(),
            name: c.name.as_str().to_owned(),
            isp: c.isp.clone(),
            expected_download_bps: i64_of(c.expected.download_bps),
            expected_upload_bps: i64_of(c.expected.upload_bps),
            colour: c.colour.as_str(),
            labels: labels_to_json(&c.labels),
            server_pool: strings_to_json(&pool),
            schedule_mode: mode,
            tests_per_day: i32_of(per_day),
            jitter_seconds: i32_of(jitter),
            cron_expressions: cron,
            time_zone: tz,
            min_download_ratio: c.thresholds.min_download_ratio(),
            min_upload_ratio: c.thresholds.min_upload_ratio(),
            max_ping_ms: c.thresholds.max_ping_ms(),
            max_jitter_ms: c.thresholds.max_jitter_ms(),
            max_packet_loss_percent: c.thresholds.max_packet_loss_percent(),
            adaptive_interval_seconds: i32_of(c.adaptive.adaptive_interval_seconds()),
            recovery_healthy_count: i32_of(c.adaptive.recovery_healthy_count()),
            max_consecutive_failures: i32_of(c.adaptive.max_consecutive_failures()),
            alert_after: c.alerts.map(|a| i32_of(a.unhealthy_count())),
            recover_after: c.alerts.map(|a| i32_of(a.healthy_count())),
            source_interface: c.source_interface.clone(),
            source_address: c.source_address.clone(),
            enabled: c.enabled,
            created_at: c.created_at.unix_millis(),
            baseline_deviation_pct: c.thresholds.baseline_deviation_pct(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StateRow {
    pub last_at: Option<i64>,
    pub last_pool_entry: Option<String>,
    pub last_completed_at: Option<i64>,
    pub recent_verdicts: String,
    pub alerting: bool,
    pub unhealthy_run: i32,
    pub healthy_run: i32,
}

impl StateRow {
    pub(crate) fn into_state(self) -> Result<ConnectionState, StorageError> {
        Ok(ConnectionState {
            last: match self.last_at {
                Some(at) => Some(LastRun {
                    completed_at: Timestamp::from_unix_millis(at),
                    pool_entry: self
                        .last_pool_entry
                        .as_deref()
                        .map(PoolEntry::parse)
                        .transpose()?,
                }),
                None => None,
            },
            history: HealthHistory::decode(&self.recent_verdicts)?,
            last_completed_at: self.last_completed_at.map(Timestamp::from_unix_millis),
            alert: AlertState {
                alerting: self.alerting,
                unhealthy_run: u32_of("unhealthy_run", self.unhealthy_run)?,
                healthy_run: u32_of("healthy_run", self.healthy_run)?,
            },
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SchedulingRow {
    #[sqlx(flatten)]
    pub connection: ConnectionRow,
    #[sqlx(flatten)]
    pub state: StateRow,
    pub run_queued: bool,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MeasurementRow {
    pub id: String,
    pub probe_id: String,
    pub connection_id: String,
    pub engine: String,
    pub pool_entry: Option<String>,
    pub status: String,
    pub failure_class: Option<String>,
    pub failure_message: Option<String>,
    pub download_bps: Option<f64>,
    pub upload_bps: Option<f64>,
    pub download_bytes: Option<i64>,
    pub upload_bytes: Option<i64>,
    pub ping_ms: Option<f64>,
    pub ping_low_ms: Option<f64>,
    pub ping_high_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub download_latency_ms: Option<f64>,
    pub upload_latency_ms: Option<f64>,
    pub packet_loss_percent: Option<f64>,
    pub server_id: Option<String>,
    pub server_name: Option<String>,
    pub server_location: Option<String>,
    pub server_host: Option<String>,
    pub isp: Option<String>,
    pub result_url: Option<String>,
    pub tool_timestamp: Option<i64>,
    pub started_at: i64,
    pub completed_at: i64,
    pub received_at: i64,
    pub scheduled: bool,
    pub breaches: String,
    pub exit_code: Option<i32>,
    pub raw_stdout: String,
    pub raw_stderr: String,
}

impl MeasurementRow {
    pub(crate) fn into_measurement(self) -> Result<Measurement, StorageError> {
        let failure = if self.status == "failed" {
            Some(Failure {
                class: FailureClass::parse(self.failure_class.as_deref().unwrap_or("other"))?,
                message: self.failure_message.unwrap_or_default(),
            })
        } else {
            None
        };
        let bytes = |v: Option<i64>| v.and_then(|b| u64::try_from(b).ok());
        Ok(Measurement {
            id: ResultId::parse(&self.id).map_err(|e| id_error(&e))?,
            probe_id: ProbeId::parse(&self.probe_id).map_err(|e| id_error(&e))?,
            connection_id: ConnectionId::parse(&self.connection_id).map_err(|e| id_error(&e))?,
            engine: Engine::parse(&self.engine)?,
            pool_entry: self
                .pool_entry
                .as_deref()
                .map(PoolEntry::parse)
                .transpose()?,
            observation: Observation {
                failure,
                download_bps: self.download_bps,
                upload_bps: self.upload_bps,
                download_bytes: bytes(self.download_bytes),
                upload_bytes: bytes(self.upload_bytes),
                ping_ms: self.ping_ms,
                ping_low_ms: self.ping_low_ms,
                ping_high_ms: self.ping_high_ms,
                jitter_ms: self.jitter_ms,
                download_latency_ms: self.download_latency_ms,
                upload_latency_ms: self.upload_latency_ms,
                packet_loss_percent: self.packet_loss_percent,
                server: ServerInfo {
                    id: self.server_id,
                    name: self.server_name,
                    location: self.server_location,
                    host: self.server_host,
                },
                isp: self.isp,
                result_url: self.result_url,
                tool_timestamp: self.tool_timestamp.map(Timestamp::from_unix_millis),
            },
            started_at: Timestamp::from_unix_millis(self.started_at),
            completed_at: Timestamp::from_unix_millis(self.completed_at),
            received_at: Timestamp::from_unix_millis(self.received_at),
            scheduled: self.scheduled,
            verdict: breaches_from_text(&self.breaches)?,
            raw: RawOutput {
                exit_code: self.exit_code,
                stdout: self.raw_stdout,
                stderr: self.raw_stderr,
            },
        })
    }
}

/// Bytes as stored (BIGINT), saturating.
pub(crate) fn stored_bytes(v: Option<u64>) -> Option<i64> {
    v.map(i64_of)
}

/// A stored token digest (32 bytes).
pub(crate) fn digest_of(row: Vec<u8>) -> Result<TokenDigest, StorageError> {
    let bytes: [u8; 32] = row
        .try_into()
        .map_err(|_| invalid("token_digest", "(binary)", "must be 32 bytes"))?;
    Ok(TokenDigest(bytes))
}
