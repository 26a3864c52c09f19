//! The SQL and rows of the [`MetricsStore`](netpulse_ports::metrics_store::MetricsStore) reads,
//! shared by both databases.

use netpulse_domain::Timestamp;
use netpulse_domain::degradation::{AdaptivePolicy, HealthHistory};
use netpulse_domain::id::{ConnectionId, IdError, ProbeId};
use netpulse_domain::pool::Engine;
use netpulse_domain::values::ExpectedSpeed;
use netpulse_ports::metrics_store::{MeasurementTally, MetricsConnection};
use netpulse_ports::storage::StorageError;

use super::rows::invalid;

/// Every column of `MEASUREMENT_COLUMNS` except the raw output, which is read as empty text.
pub(crate) const LIGHT_MEASUREMENT_COLUMNS: &str = "id, probe_id, connection_id, engine, \
     pool_entry, status, failure_class, failure_message, download_bps, upload_bps, download_bytes, \
     upload_bytes, ping_ms, ping_low_ms, ping_high_ms, jitter_ms, download_latency_ms, \
     upload_latency_ms, packet_loss_percent, server_id, server_name, server_location, server_host, \
     isp, result_url, tool_timestamp, started_at, completed_at, received_at, scheduled, breaches, \
     exit_code, '' AS raw_stdout, '' AS raw_stderr";

/// One row per connection (with its state), never the history.
pub(crate) const METRICS_CONNECTIONS: &str = "SELECT c.id, c.probe_id, c.name, c.isp, \
     c.expected_download_bps, c.expected_upload_bps, c.enabled, c.adaptive_interval_seconds, \
     c.recovery_healthy_count, c.max_consecutive_failures, s.recent_verdicts, s.last_completed_at \
     FROM connections c LEFT JOIN connection_state s ON s.connection_id = c.id ORDER BY \
     c.probe_id, c.name, c.id";

/// For each connection and engine, the id of the newest completed result (one index walk per
/// pair on `measurements_connection_time`).
pub(crate) const LATEST_COMPLETED_IDS: &str = "SELECT (SELECT m.id FROM measurements m \
     WHERE m.connection_id = c.id AND m.engine = e.engine AND m.status = 'completed' \
     ORDER BY m.completed_at DESC, m.id DESC LIMIT 1) FROM connections c \
     CROSS JOIN (SELECT 'ookla' AS engine UNION ALL SELECT 'iperf3' UNION ALL SELECT 'http') e";

pub(crate) const MEASUREMENT_TALLIES: &str = "SELECT connection_id, engine, status, healthy, \
     COUNT(*) AS n FROM measurements GROUP BY connection_id, engine, status, healthy";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MetricsConnectionRow {
    pub id: String,
    pub probe_id: String,
    pub name: String,
    pub isp: String,
    pub expected_download_bps: i64,
    pub expected_upload_bps: i64,
    pub enabled: bool,
    pub adaptive_interval_seconds: i32,
    pub recovery_healthy_count: i32,
    pub max_consecutive_failures: i32,
    pub recent_verdicts: Option<String>,
    pub last_completed_at: Option<i64>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TallyRow {
    pub connection_id: String,
    pub engine: String,
    pub status: String,
    pub healthy: bool,
    pub n: i64,
}

fn id_error(e: &IdError) -> StorageError {
    invalid(e.field, &e.value, e.reason)
}

fn unsigned<T: TryFrom<i64>>(field: &'static str, v: i64) -> Result<T, StorageError> {
    T::try_from(v).map_err(|_| invalid(field, v, "must not be negative"))
}

impl MetricsConnectionRow {
    pub(crate) fn into_connection(self) -> Result<MetricsConnection, StorageError> {
        Ok(MetricsConnection {
            id: ConnectionId::parse(&self.id).map_err(|e| id_error(&e))?,
            probe_id: ProbeId::parse(&self.probe_id).map_err(|e| id_error(&e))?,
            name: self.name,
            isp: self.isp,
            expected: ExpectedSpeed {
                download_bps: unsigned("expected_download_bps", self.expected_download_bps)?,
                upload_bps: unsigned("expected_upload_bps", self.expected_upload_bps)?,
            },
            enabled: self.enabled,
            adaptive: AdaptivePolicy::new(
                unsigned(
                    "adaptive_interval_seconds",
                    self.adaptive_interval_seconds.into(),
                )?,
                unsigned("recovery_healthy_count", self.recovery_healthy_count.into())?,
                unsigned(
                    "max_consecutive_failures",
                    self.max_consecutive_failures.into(),
                )?,
            )?,
            history: HealthHistory::decode(self.recent_verdicts.as_deref().unwrap_or(""))?,
            last_completed_at: self.last_completed_at.map(Timestamp::from_unix_millis),
        })
    }
}

impl TallyRow {
    pub(crate) fn into_tally(self) -> Result<MeasurementTally, StorageError> {
        Ok(MeasurementTally {
            connection_id: ConnectionId::parse(&self.connection_id).map_err(|e| id_error(&e))?,
            engine: Engine::parse(&self.engine)?,
            completed: self.status == "completed",
            healthy: self.healthy,
            count: unsigned("count", self.n)?,
        })
    }
}
