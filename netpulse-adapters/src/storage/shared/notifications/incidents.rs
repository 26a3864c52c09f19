//! Incidents and maintenance windows of connections, probe liveness, housekeeping leases and
//! digest slots.

use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::notify::DigestPeriod;
use netpulse_ports::notification_store::{Incident, StoredMaintenance};
use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, Pool};

use super::{Db, LOCK, begin_write};
use crate::storage::notify_rows::{IncidentRow, MaintenanceRow};
use crate::storage::rows::invalid;
use crate::storage::{found, unavailable};

const INCIDENT_COLUMNS: &str = "id, connection_id, opened_at, closed_at, announced, result_id";

pub(super) async fn acquire_lease(
    pool: &Pool<Db>,
    name: &str,
    holder: &str,
    now: Timestamp,
    until: Timestamp,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO \
         UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at WHERE leases.holder \
         = excluded.holder OR leases.expires_at <= $4",
    )
    .bind(name.to_owned())
    .bind(holder.to_owned())
    .bind(until.unix_millis())
    .bind(now.unix_millis())
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn offline_probes(pool: &Pool<Db>) -> Result<Vec<ProbeId>, StorageError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT probe_id FROM probe_liveness WHERE offline = TRUE ORDER BY probe_id",
    )
    .fetch_all(pool)
    .await
    .map_err(unavailable)?;
    rows.into_iter()
        .map(|(id,)| ProbeId::parse(&id).map_err(|e| invalid(e.field, &e.value, e.reason)))
        .collect()
}

pub(super) async fn claim_probe_liveness(
    pool: &Pool<Db>,
    probe: &ProbeId,
    offline: bool,
    at: Timestamp,
) -> Result<bool, StorageError> {
    let sql = if offline {
        "INSERT INTO probe_liveness (probe_id, offline, changed_at) VALUES ($1, TRUE, $2) \
         ON CONFLICT (probe_id) DO UPDATE SET offline = TRUE, changed_at = excluded.changed_at \
         WHERE probe_liveness.offline = FALSE"
    } else {
        "UPDATE probe_liveness SET offline = FALSE, changed_at = $2 WHERE probe_id = $1 AND \
         offline = TRUE"
    };
    let done = sqlx::query(sql)
        .bind(probe.as_str().to_owned())
        .bind(at.unix_millis())
        .execute(pool)
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn open_incident(pool: &Pool<Db>, i: &Incident) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO incidents (id, connection_id, opened_at, closed_at, announced, result_id) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(i.id.clone())
    .bind(i.connection_id.as_str().to_owned())
    .bind(i.opened_at.unix_millis())
    .bind(i.closed_at.map(Timestamp::unix_millis))
    .bind(i.announced)
    .bind(i.result_id.clone())
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn close_incident(
    pool: &Pool<Db>,
    connection: &ConnectionId,
    at: Timestamp,
) -> Result<Option<Incident>, StorageError> {
    let mut tx = begin_write(pool).await.map_err(unavailable)?;
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE connection_id = $1 AND closed_at IS NULL \
         ORDER BY opened_at DESC, id DESC LIMIT 1{LOCK}"
    );
    let row = sqlx::query_as::<_, IncidentRow>(AssertSqlSafe(sql))
        .bind(connection.as_str().to_owned())
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut incident = row.into_incident()?;
    let closed = at.max(incident.opened_at);
    sqlx::query("UPDATE incidents SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL")
        .bind(incident.id.clone())
        .bind(closed.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)?;
    incident.closed_at = Some(closed);
    Ok(Some(incident))
}

pub(super) async fn unannounced_incidents(pool: &Pool<Db>) -> Result<Vec<Incident>, StorageError> {
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE closed_at IS NULL AND announced = FALSE \
         ORDER BY opened_at, id"
    );
    sqlx::query_as::<_, IncidentRow>(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(IncidentRow::into_incident)
        .collect()
}

pub(super) async fn incidents(
    pool: &Pool<Db>,
    connection: Option<&ConnectionId>,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<Incident>, StorageError> {
    let sql = format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE ($1 IS NULL OR connection_id = $1) \
         AND opened_at < $3 AND (closed_at IS NULL OR closed_at > $2) ORDER BY opened_at, id"
    );
    sqlx::query_as::<_, IncidentRow>(AssertSqlSafe(sql))
        .bind(connection.map(|c| c.as_str().to_owned()))
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(IncidentRow::into_incident)
        .collect()
}

pub(super) async fn create_maintenance(
    pool: &Pool<Db>,
    w: &StoredMaintenance,
) -> Result<(), StorageError> {
    let mut tx = begin_write(pool).await.map_err(unavailable)?;
    let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM connections WHERE id = $1")
        .bind(w.connection_id.as_str().to_owned())
        .fetch_optional(&mut *tx)
        .await
        .map_err(unavailable)?;
    if exists.is_none() {
        return Err(StorageError::NotFound {
            what: "connection",
            id: w.connection_id.to_string(),
        });
    }
    sqlx::query(
        "INSERT INTO maintenance_windows (id, connection_id, starts_at, ends_at, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(w.id.clone())
    .bind(w.connection_id.as_str().to_owned())
    .bind(w.starts_at.unix_millis())
    .bind(w.ends_at.unix_millis())
    .bind(w.note.clone())
    .bind(w.created_at.unix_millis())
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)
}

pub(super) async fn delete_maintenance(pool: &Pool<Db>, id: &str) -> Result<(), StorageError> {
    let done = sqlx::query("DELETE FROM maintenance_windows WHERE id = $1")
        .bind(id.to_owned())
        .execute(pool)
        .await
        .map_err(unavailable)?;
    found(done.rows_affected(), "maintenance window", id)
}

pub(super) async fn maintenance_windows(
    pool: &Pool<Db>,
    connection: Option<&ConnectionId>,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<StoredMaintenance>, StorageError> {
    sqlx::query_as::<_, MaintenanceRow>(
        "SELECT id, connection_id, starts_at, ends_at, note, created_at FROM maintenance_windows \
         WHERE ($1 IS NULL OR connection_id = $1) AND starts_at < $3 AND ends_at > $2 \
         ORDER BY starts_at, id",
    )
    .bind(connection.map(|c| c.as_str().to_owned()))
    .bind(since.unix_millis())
    .bind(until.unix_millis())
    .fetch_all(pool)
    .await
    .map_err(unavailable)?
    .into_iter()
    .map(MaintenanceRow::into_window)
    .collect()
}

pub(super) async fn digest_slot(
    pool: &Pool<Db>,
    period: DigestPeriod,
) -> Result<Option<Timestamp>, StorageError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT next_slot FROM digest_slots WHERE period = $1")
            .bind(period.as_str())
            .fetch_optional(pool)
            .await
            .map_err(unavailable)?;
    Ok(row.map(|(t,)| Timestamp::from_unix_millis(t)))
}

pub(super) async fn claim_digest_slot(
    pool: &Pool<Db>,
    period: DigestPeriod,
    expected: Option<Timestamp>,
    next: Timestamp,
) -> Result<bool, StorageError> {
    let done = match expected {
        None => sqlx::query(
            "INSERT INTO digest_slots (period, next_slot) VALUES ($1, $2) ON CONFLICT (period) DO \
             NOTHING",
        )
        .bind(period.as_str())
        .bind(next.unix_millis())
        .execute(pool)
        .await,
        Some(e) => {
            sqlx::query(
                "UPDATE digest_slots SET next_slot = $2 WHERE period = $1 AND \
             next_slot = $3",
            )
            .bind(period.as_str())
            .bind(next.unix_millis())
            .bind(e.unix_millis())
            .execute(pool)
            .await
        }
    }
    .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn reset_digest_slots(pool: &Pool<Db>) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM digest_slots")
        .execute(pool)
        .await
        .map_err(unavailable)?;
    Ok(())
}
