//! Binding helpers shared by the queries of this database: the argument lists of the
//! connection and observation columns, and the one-measurement read.

use netpulse_domain::Timestamp;
use netpulse_domain::measurement::Observation;
use netpulse_domain::model::Measurement;
use netpulse_ports::storage::StorageError;
use sqlx::AssertSqlSafe;

use super::Db;
use crate::storage::rows::{ConnectionValues, MeasurementRow, stored_bytes};
use crate::storage::{sql, unavailable};

/// A connection of this database (what a transaction dereferences to).
pub(super) type Conn = <Db as sqlx::Database>::Connection;

/// A query of this database with its arguments.
pub(super) type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

pub(super) fn bind_connection(q: Query<'_>, v: ConnectionValues) -> Query<'_> {
    q.bind(v.id)
        .bind(v.probe_id)
        .bind(v.name)
        .bind(v.isp)
        .bind(v.expected_download_bps)
        .bind(v.expected_upload_bps)
        .bind(v.colour)
        .bind(v.labels)
        .bind(v.server_pool)
        .bind(v.schedule_mode)
        .bind(v.tests_per_day)
        .bind(v.jitter_seconds)
        .bind(v.cron_expressions)
        .bind(v.time_zone)
        .bind(v.min_download_ratio)
        .bind(v.min_upload_ratio)
        .bind(v.max_ping_ms)
        .bind(v.max_jitter_ms)
        .bind(v.max_packet_loss_percent)
        .bind(v.adaptive_interval_seconds)
        .bind(v.recovery_healthy_count)
        .bind(v.max_consecutive_failures)
        .bind(v.alert_after)
        .bind(v.recover_after)
        .bind(v.source_interface)
        .bind(v.source_address)
        .bind(v.enabled)
        .bind(v.created_at)
        .bind(v.baseline_deviation_pct)
}

/// Binds the observation columns of `INSERT_MEASUREMENT` ($6–$26) / `REPLACE_OBSERVATION` ($2–$22).
pub(super) fn bind_observation<'q>(q: Query<'q>, o: &Observation) -> Query<'q> {
    let (status, class, message) = match &o.failure {
        None => ("completed", None, None),
        Some(f) => ("failed", Some(f.class.as_str()), Some(f.message.clone())),
    };
    q.bind(status)
        .bind(class)
        .bind(message)
        .bind(o.download_bps)
        .bind(o.upload_bps)
        .bind(stored_bytes(o.download_bytes))
        .bind(stored_bytes(o.upload_bytes))
        .bind(o.ping_ms)
        .bind(o.ping_low_ms)
        .bind(o.ping_high_ms)
        .bind(o.jitter_ms)
        .bind(o.download_latency_ms)
        .bind(o.upload_latency_ms)
        .bind(o.packet_loss_percent)
        .bind(o.server.id.clone())
        .bind(o.server.name.clone())
        .bind(o.server.location.clone())
        .bind(o.server.host.clone())
        .bind(o.isp.clone())
        .bind(o.result_url.clone())
        .bind(o.tool_timestamp.map(Timestamp::unix_millis))
}

pub(super) async fn fetch_measurement<'e, E>(
    executor: E,
    id: &str,
) -> Result<Option<Measurement>, StorageError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let sql = format!(
        "SELECT {} FROM measurements WHERE id = $1",
        sql::MEASUREMENT_COLUMNS
    );
    sqlx::query_as::<_, MeasurementRow>(AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(executor)
        .await
        .map_err(unavailable)?
        .map(MeasurementRow::into_measurement)
        .transpose()
}
