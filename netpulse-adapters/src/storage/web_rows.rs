//! Rows of the web dashboard's tables and read models (`netpulse_ports::web_store`), shared by
//! both databases.

use netpulse_domain::Timestamp;
use netpulse_domain::degradation::HealthSample;
use netpulse_domain::id::{ConnectionId, ResultId, UserId};
use netpulse_ports::storage::StorageError;
use netpulse_ports::web_store::{
    ExportRow, SeenServer, SeriesSample, ServerSummary, SessionRecord, ShareLink, ThrottleState,
};

use crate::storage::rows::invalid;

fn id_error(e: &netpulse_domain::id::IdError) -> StorageError {
    invalid(e.field, &e.value, e.reason)
}

pub(crate) fn sample_of(status: &str, healthy: bool) -> HealthSample {
    HealthSample::from_verdict(status == "failed", Some(healthy))
}

pub(crate) fn count_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub user_id: String,
    pub email: String,
    pub role: String,
    pub disabled: bool,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

impl SessionRow {
    pub(crate) fn into_record(self) -> Result<SessionRecord, StorageError> {
        Ok(SessionRecord {
            user_id: UserId::parse(&self.user_id).map_err(|e| id_error(&e))?,
            email: self.email,
            role: crate::storage::access_rows::role_of(&self.role)?,
            disabled: self.disabled,
            csrf_token: self.csrf_token,
            created_at: Timestamp::from_unix_millis(self.created_at),
            last_seen_at: Timestamp::from_unix_millis(self.last_seen_at),
            expires_at: Timestamp::from_unix_millis(self.expires_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ThrottleRow {
    pub failures: i32,
    pub window_start: i64,
    pub locked_until: Option<i64>,
}

impl ThrottleRow {
    pub(crate) fn into_state(self) -> ThrottleState {
        ThrottleState {
            failures: u32::try_from(self.failures).unwrap_or(0),
            window_start: Timestamp::from_unix_millis(self.window_start),
            locked_until: self.locked_until.map(Timestamp::from_unix_millis),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ShareRow {
    pub token: String,
    pub measurement_id: String,
    pub created_at: i64,
}

impl ShareRow {
    pub(crate) fn into_link(self) -> Result<ShareLink, StorageError> {
        Ok(ShareLink {
            token: self.token,
            measurement_id: ResultId::parse(&self.measurement_id).map_err(|e| id_error(&e))?,
            created_at: Timestamp::from_unix_millis(self.created_at),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SeriesRow {
    pub completed_at: i64,
    pub download_bps: Option<f64>,
    pub upload_bps: Option<f64>,
    pub ping_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub packet_loss_percent: Option<f64>,
    pub status: String,
    pub healthy: bool,
}

impl SeriesRow {
    pub(crate) fn into_sample(self) -> SeriesSample {
        SeriesSample {
            at: Timestamp::from_unix_millis(self.completed_at),
            download_bps: self.download_bps,
            upload_bps: self.upload_bps,
            ping_ms: self.ping_ms,
            jitter_ms: self.jitter_ms,
            packet_loss_percent: self.packet_loss_percent,
            sample: sample_of(&self.status, self.healthy),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ServerRow {
    pub server_id: String,
    pub server_name: Option<String>,
    pub server_location: Option<String>,
    pub download_bps: Option<f64>,
    pub upload_bps: Option<f64>,
    pub ping_ms: Option<f64>,
    pub packet_loss_percent: Option<f64>,
    pub tests: i64,
    pub healthy: i64,
    pub last_seen: i64,
}

impl ServerRow {
    pub(crate) fn into_summary(self) -> ServerSummary {
        ServerSummary {
            server: SeenServer {
                id: self.server_id,
                name: self.server_name,
                location: self.server_location,
            },
            download_bps: self.download_bps,
            upload_bps: self.upload_bps,
            ping_ms: self.ping_ms,
            packet_loss_percent: self.packet_loss_percent,
            tests: count_of(self.tests),
            healthy: count_of(self.healthy),
            last_seen: Timestamp::from_unix_millis(self.last_seen),
        }
    }
}

pub(crate) const EXPORT_COLUMNS: &str = "id, connection_id, completed_at, engine, server_id, \
     server_name, server_location, scheduled, download_bps, upload_bps, ping_ms, jitter_ms, \
     packet_loss_percent, status, healthy, breaches, failure_message";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ExportSqlRow {
    pub id: String,
    pub connection_id: String,
    pub completed_at: i64,
    pub engine: String,
    pub server_id: Option<String>,
    pub server_name: Option<String>,
    pub server_location: Option<String>,
    pub scheduled: bool,
    pub download_bps: Option<f64>,
    pub upload_bps: Option<f64>,
    pub ping_ms: Option<f64>,
    pub jitter_ms: Option<f64>,
    pub packet_loss_percent: Option<f64>,
    pub status: String,
    pub healthy: bool,
    pub breaches: String,
    pub failure_message: Option<String>,
}

impl ExportSqlRow {
    pub(crate) fn into_row(self) -> Result<ExportRow, StorageError> {
        Ok(ExportRow {
            id: ResultId::parse(&self.id).map_err(|e| id_error(&e))?,
            connection_id: ConnectionId::parse(&self.connection_id).map_err(|e| id_error(&e))?,
            completed_at: Timestamp::from_unix_millis(self.completed_at),
            engine: self.engine,
            server: SeenServer {
                id: self.server_id.unwrap_or_default(),
                name: self.server_name,
                location: self.server_location,
            },
            scheduled: self.scheduled,
            download_bps: self.download_bps,
            upload_bps: self.upload_bps,
            ping_ms: self.ping_ms,
            jitter_ms: self.jitter_ms,
            packet_loss_percent: self.packet_loss_percent,
            completed: self.status == "completed",
            healthy: self.healthy,
            breaches: self.breaches,
            failure: self.failure_message,
        })
    }
}
