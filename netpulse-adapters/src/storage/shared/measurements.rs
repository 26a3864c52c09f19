//! Measurements: ingest (the decision is [`netpulse_domain::ingest::decide`]; this stores what
//! it returns, a late result included: stored, with the state it left unchanged), reads, the keyset-paginated list, and re-parsing of stored raw output.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::baseline::IN_FORCE_SECONDS;
use netpulse_domain::id::{ConnectionId, ResultId};
use netpulse_domain::ingest;
use netpulse_domain::measurement::Observation;
use netpulse_domain::model::{Connection, ConnectionState, Measurement, RawOutput};
use netpulse_domain::pool::Engine;
use netpulse_ports::storage::{
    IncomingResult, MeasurementFilter, MeasurementPage, MeasurementSort, MeasurementStore,
    RecordOutcome, StorageError, StoredRaw,
};
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::binds::{Conn, bind_observation, fetch_measurement};
use super::{Db, LOCK, Store, begin_write};
use crate::storage::list::{Cursor, push_filter, sort_spec};
use crate::storage::rollup_rows::{MARK_DIRTY, hour_of};
use crate::storage::rows::{ConnectionRow, MeasurementRow, StateRow, breaches_to_text, invalid};
use crate::storage::{found, sql, unavailable};

#[async_trait]
impl MeasurementStore for Store {
    async fn record(
        &self,
        incoming: IncomingResult,
        default_alerts: &AlertPolicy,
    ) -> Result<RecordOutcome, StorageError> {
        let m = incoming.measurement;
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        // Lock the connection's state row first: ingest is serialised per connection,
        // so the state never loses an update and a duplicate push sees the first one.
        let state_row = lock_state(&mut tx, &m.connection_id).await?;
        if let Some(existing) = fetch_measurement(&mut *tx, m.id.as_str()).await? {
            if existing.probe_id != m.probe_id || existing.connection_id != m.connection_id {
                return Err(StorageError::Conflict(format!(
                    "result {} was already recorded for another connection",
                    m.id
                )));
            }
            return Ok(RecordOutcome::AlreadyRecorded(Box::new(existing)));
        }
        let Some(state_row) = state_row else {
            return Err(StorageError::NotFound {
                what: "connection",
                id: m.connection_id.to_string(),
            });
        };
        let connection = load_connection(&mut tx, &m.connection_id).await?;
        if connection.probe_id != m.probe_id {
            return Err(StorageError::Conflict(format!(
                "connection {} belongs to another probe",
                m.connection_id
            )));
        }
        let previous = state_row.into_state()?;
        // The baselines in force at the result (rows, not history: see `baseline`).
        let in_force: Vec<_> = super::baselines::in_force(
            &mut tx,
            &m.connection_id,
            m.completed_at.plus_seconds(-IN_FORCE_SECONDS),
            m.completed_at,
        )
        .await?
        .into_iter()
        .map(|r| (r.metric, r.baseline))
        .collect();
        let decision = ingest::decide(&previous, &connection, m, default_alerts, &in_force);
        let m = decision.measurement;
        insert_measurement(&mut tx, &m).await?;
        mark_dirty(&mut tx, &m.connection_id, m.completed_at).await?;
        store_state(&mut tx, &m.connection_id, &decision.next).await?;
        if !decision.late {
            // A late result is not the answer to a request handed out after a newer one.
            finish_run_request(&mut tx, &m.connection_id, m.received_at).await?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(RecordOutcome::Recorded {
            measurement: Box::new(m),
            edge: decision.edge,
        })
    }

    async fn measurement(&self, id: &ResultId) -> Result<Option<Measurement>, StorageError> {
        fetch_measurement(&self.pool, id.as_str()).await
    }

    async fn measurements(
        &self,
        filter: &MeasurementFilter,
        sort: MeasurementSort,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<MeasurementPage, StorageError> {
        let limit = limit.clamp(1, 1000);
        let spec = sort_spec(sort);
        let cursor = cursor.map(|c| Cursor::decode(c, sort)).transpose()?;
        let mut q = QueryBuilder::<Db>::new(format!(
            "SELECT {}, {} AS sort_key FROM measurements WHERE 1 = 1",
            sql::MEASUREMENT_COLUMNS,
            spec.key
        ));
        push_filter(&mut q, filter);
        if let Some(c) = &cursor {
            c.push_condition(&mut q, &spec);
        }
        q.push(" ORDER BY ").push(spec.order_by);
        q.push(" LIMIT ").push_bind(i64::from(limit) + 1);
        let rows: Vec<(MeasurementRow, f64)> = q
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(|row| {
                use sqlx::{FromRow, Row};
                let key: f64 = row.try_get("sort_key").map_err(unavailable)?;
                Ok((MeasurementRow::from_row(row).map_err(unavailable)?, key))
            })
            .collect::<Result<_, StorageError>>()?;
        let more = rows.len() > limit as usize;
        let mut items = Vec::with_capacity(rows.len().min(limit as usize));
        let mut last_key = None;
        for (row, key) in rows.into_iter().take(limit as usize) {
            let m = row.into_measurement()?;
            last_key = Some(Cursor::after(sort, key, &m));
            items.push(m);
        }
        Ok(MeasurementPage {
            items,
            next_cursor: if more {
                last_key.map(|c| c.encode())
            } else {
                None
            },
        })
    }

    async fn raw_outputs(
        &self,
        after: Option<&ResultId>,
        limit: u32,
    ) -> Result<Vec<StoredRaw>, StorageError> {
        let rows: Vec<(String, String, Option<i32>, String, String)> = sqlx::query_as(
            "SELECT id, engine, exit_code, raw_stdout, raw_stderr FROM measurements \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after.map_or_else(String::new, |a| a.as_str().to_owned()))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter()
            .map(|(id, engine, exit_code, stdout, stderr)| {
                Ok(StoredRaw {
                    id: ResultId::parse(&id).map_err(|e| invalid(e.field, e.value, e.reason))?,
                    engine: Engine::parse(&engine)?,
                    raw: RawOutput {
                        exit_code,
                        stdout,
                        stderr,
                    },
                })
            })
            .collect()
    }

    async fn replace_observation(
        &self,
        id: &ResultId,
        observation: &Observation,
    ) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let q = sqlx::query(sql::REPLACE_OBSERVATION).bind(id.as_str().to_owned());
        let done = bind_observation(q, observation)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "measurement", id.as_str())?;
        // Its hour's rollups are recomputed from the new values.
        let (connection, at): (String, i64) =
            sqlx::query_as("SELECT connection_id, completed_at FROM measurements WHERE id = $1")
                .bind(id.as_str().to_owned())
                .fetch_one(&mut *tx)
                .await
                .map_err(unavailable)?;
        sqlx::query(MARK_DIRTY)
            .bind(connection)
            .bind(hour_of(Timestamp::from_unix_millis(at)))
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }
}

/// Reads the connection's state row, locking it (PostgreSQL) until the transaction ends.
async fn lock_state(
    conn: &mut Conn,
    connection: &ConnectionId,
) -> Result<Option<StateRow>, StorageError> {
    let sql = format!(
        "SELECT {} FROM connection_state s WHERE s.connection_id = $1{LOCK}",
        sql::STATE_COLUMNS
    );
    sqlx::query_as::<_, StateRow>(AssertSqlSafe(sql))
        .bind(connection.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(unavailable)
}

async fn load_connection(
    conn: &mut Conn,
    connection: &ConnectionId,
) -> Result<Connection, StorageError> {
    let sql = format!(
        "SELECT {} FROM connections c WHERE c.id = $1",
        sql::CONNECTION_COLUMNS
    );
    sqlx::query_as::<_, ConnectionRow>(AssertSqlSafe(sql))
        .bind(connection.as_str().to_owned())
        .fetch_one(&mut *conn)
        .await
        .map_err(unavailable)?
        .into_connection()
}

/// Marks the result's UTC hour dirty for the rollups, in the result's transaction.
async fn mark_dirty(
    conn: &mut Conn,
    connection: &ConnectionId,
    at: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(MARK_DIRTY)
        .bind(connection.as_str().to_owned())
        .bind(hour_of(at))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}

async fn insert_measurement(conn: &mut Conn, m: &Measurement) -> Result<(), StorageError> {
    let q = sqlx::query(sql::INSERT_MEASUREMENT)
        .bind(m.id.as_str().to_owned())
        .bind(m.probe_id.as_str().to_owned())
        .bind(m.connection_id.as_str().to_owned())
        .bind(m.engine.as_str())
        .bind(m.pool_entry.as_ref().map(|p| p.as_str().to_owned()));
    bind_observation(q, &m.observation)
        .bind(m.started_at.unix_millis())
        .bind(m.completed_at.unix_millis())
        .bind(m.received_at.unix_millis())
        .bind(m.scheduled)
        .bind(m.verdict.healthy())
        .bind(breaches_to_text(&m.verdict))
        .bind(m.raw.exit_code)
        .bind(m.raw.stdout.clone())
        .bind(m.raw.stderr.clone())
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Writes the state [`ingest::decide`] returned (and counts the measurement).
async fn store_state(
    conn: &mut Conn,
    connection: &ConnectionId,
    next: &ConnectionState,
) -> Result<(), StorageError> {
    let last = next.last.as_ref();
    sqlx::query(sql::UPDATE_STATE)
        .bind(connection.as_str().to_owned())
        .bind(last.map(|l| l.completed_at.unix_millis()))
        .bind(
            last.and_then(|l| l.pool_entry.as_ref())
                .map(|p| p.as_str().to_owned()),
        )
        .bind(next.last_completed_at.map(Timestamp::unix_millis))
        .bind(next.history.encode())
        .bind(next.alert.alerting)
        .bind(i32::try_from(next.alert.unhealthy_run).unwrap_or(i32::MAX))
        .bind(i32::try_from(next.alert.healthy_run).unwrap_or(i32::MAX))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Marks the connection's running run-now request done.
async fn finish_run_request(
    conn: &mut Conn,
    connection: &ConnectionId,
    at: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE run_requests SET phase = 'done', updated_at = $2 \
         WHERE connection_id = $1 AND phase = 'running'",
    )
    .bind(connection.as_str().to_owned())
    .bind(at.unix_millis())
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}
