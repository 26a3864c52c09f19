//! The storage port, written once and expanded for each database by [`storage_impl!`]: the SQL
//! is shared, the types are concrete, and each expansion is held to the same contract suite.
//! Differences between the databases are the macro's parameters: how a write transaction
//! begins, and the row-lock suffix that serialises ingest per connection on PostgreSQL (SQLite's
//! `BEGIN IMMEDIATE` already serialises writers).

macro_rules! storage_impl {
    ($storage:ty, $db:ty, begin_write = $begin:expr, lock = $lock:expr) => {
        use async_trait::async_trait;
        use netpulse_domain::Timestamp;
        use netpulse_domain::alert::AlertPolicy;
        use netpulse_domain::due_work::RunNowRequest;
        use netpulse_domain::health::evaluate;
        use netpulse_domain::id::{ApiTokenId, ConnectionId, ProbeId, ResultId, UserId};
        use netpulse_domain::measurement::Observation;
        use netpulse_domain::model::{Connection, ConnectionState, Measurement, Probe, RunPhase};
        use netpulse_domain::pool::PoolEntry;
        use netpulse_ports::storage::{
            ApiToken, ApiTokenStore, ConnectionStore, IncomingResult, MeasurementFilter, MeasurementPage,
            MeasurementSort, MeasurementStore, PollDetails, ProbeCredentials, ProbeStore, RecordOutcome, RunScope,
            RunState, SchedulingEntry, SchedulingStore, SettingsStore, StorageError, StorageHealth, StoredRaw,
            TakenRunRequest, TokenDigest, User, UserStore,
        };
        use sqlx::{AssertSqlSafe, QueryBuilder};

        use $crate::storage::list::{Cursor, sort_spec};
        use $crate::storage::rows::{
            ApiTokenRow, ConnectionRow, ConnectionValues, MeasurementRow, ProbeRow, SchedulingRow, StateRow, UserRow,
            breaches_to_text, engines_to_text, invalid, labels_to_json, stored_bytes,
        };
        use $crate::storage::sql;
        use $crate::storage::unavailable;

        type Db = $db;

        fn digest_of(row: Vec<u8>) -> Result<TokenDigest, StorageError> {
            let bytes: [u8; 32] = row
                .try_into()
                .map_err(|_| invalid("token_digest", "(binary)", "must be 32 bytes"))?;
            Ok(TokenDigest(bytes))
        }

        fn bind_connection(
            q: sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments>,
            v: ConnectionValues,
        ) -> sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments> {
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
        }

        /// Binds the observation columns of `INSERT_MEASUREMENT` ($6–$26) / `REPLACE_OBSERVATION` ($2–$22).
        fn bind_observation<'q>(
            q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>,
            o: &Observation,
        ) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments> {
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

        async fn fetch_measurement<'e, E>(executor: E, id: &str) -> Result<Option<Measurement>, StorageError>
        where
            E: sqlx::Executor<'e, Database = Db>,
        {
            let sql = format!("SELECT {} FROM measurements WHERE id = $1", sql::MEASUREMENT_COLUMNS);
            sqlx::query_as::<_, MeasurementRow>(AssertSqlSafe(sql))
                .bind(id.to_owned())
                .fetch_optional(executor)
                .await
                .map_err(unavailable)?
                .map(MeasurementRow::into_measurement)
                .transpose()
        }

        #[async_trait]
        impl ProbeStore for $storage {
            async fn create_probe(&self, probe: &Probe, token: &TokenDigest) -> Result<(), StorageError> {
                sqlx::query(sql::INSERT_PROBE)
                    .bind(probe.id.as_str().to_owned())
                    .bind(probe.name.as_str().to_owned())
                    .bind(labels_to_json(&probe.labels))
                    .bind(token.0.to_vec())
                    .bind(probe.enabled)
                    .bind(probe.created_at.unix_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                Ok(())
            }

            async fn probe(&self, id: &ProbeId) -> Result<Option<Probe>, StorageError> {
                let sql = format!("SELECT {} FROM probes WHERE id = $1", sql::PROBE_COLUMNS);
                sqlx::query_as::<_, ProbeRow>(AssertSqlSafe(sql))
                    .bind(id.as_str().to_owned())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .map(ProbeRow::into_probe)
                    .transpose()
            }

            async fn probes(&self) -> Result<Vec<Probe>, StorageError> {
                let sql = format!("SELECT {} FROM probes ORDER BY name, id", sql::PROBE_COLUMNS);
                sqlx::query_as::<_, ProbeRow>(AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .into_iter()
                    .map(ProbeRow::into_probe)
                    .collect()
            }

            async fn probe_credentials(&self, id: &ProbeId) -> Result<Option<ProbeCredentials>, StorageError> {
                #[allow(clippy::type_complexity)]
                let row: Option<(bool, Vec<u8>, Option<i64>, Option<String>, String)> = sqlx::query_as(
                    "SELECT enabled, token_digest, last_poll_at, agent_version, agent_engines FROM probes WHERE id = $1",
                )
                .bind(id.as_str().to_owned())
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
                row.map(|(enabled, digest, last_poll_at, agent_version, engines)| {
                    Ok(ProbeCredentials {
                        enabled,
                        token_digest: digest_of(digest)?,
                        last_poll_at: last_poll_at.map(Timestamp::from_unix_millis),
                        poll_details: PollDetails {
                            agent_version,
                            engines: $crate::storage::rows::engines_from_text(&engines),
                        },
                    })
                })
                .transpose()
            }

            async fn set_probe_enabled(&self, id: &ProbeId, enabled: bool) -> Result<(), StorageError> {
                let done = sqlx::query("UPDATE probes SET enabled = $2 WHERE id = $1")
                    .bind(id.as_str().to_owned())
                    .bind(enabled)
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "probe", id.as_str())
            }

            async fn set_probe_token(&self, id: &ProbeId, token: &TokenDigest) -> Result<(), StorageError> {
                let done = sqlx::query("UPDATE probes SET token_digest = $2 WHERE id = $1")
                    .bind(id.as_str().to_owned())
                    .bind(token.0.to_vec())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "probe", id.as_str())
            }

            async fn delete_probe(&self, id: &ProbeId) -> Result<(), StorageError> {
                let mut tx = ($begin)(&self.pool).await.map_err(unavailable)?;
                let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM connections WHERE probe_id = $1")
                    .bind(id.as_str().to_owned())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                if count > 0 {
                    return Err(StorageError::Conflict(format!(
                        "Probe {id} still has connections and cannot be deleted."
                    )));
                }
                let done = sqlx::query("DELETE FROM probes WHERE id = $1")
                    .bind(id.as_str().to_owned())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "probe", id.as_str())?;
                tx.commit().await.map_err(unavailable)
            }

            async fn record_poll(
                &self,
                id: &ProbeId,
                at: Timestamp,
                details: &PollDetails,
                debounce_seconds: i64,
            ) -> Result<bool, StorageError> {
                let done = sqlx::query(sql::RECORD_POLL)
                    .bind(id.as_str().to_owned())
                    .bind(at.unix_millis())
                    .bind(details.agent_version.clone())
                    .bind(engines_to_text(&details.engines))
                    .bind(at.plus_seconds(-debounce_seconds).unix_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                Ok(done.rows_affected() > 0)
            }
        }

        fn found(rows: u64, what: &'static str, id: &str) -> Result<(), StorageError> {
            if rows == 0 {
                Err(StorageError::NotFound {
                    what,
                    id: id.to_owned(),
                })
            } else {
                Ok(())
            }
        }

        #[async_trait]
        impl ConnectionStore for $storage {
            async fn create_connection(&self, connection: &Connection) -> Result<(), StorageError> {
                let mut tx = ($begin)(&self.pool).await.map_err(unavailable)?;
                let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM probes WHERE id = $1")
                    .bind(connection.probe_id.as_str().to_owned())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                if exists.is_none() {
                    return Err(StorageError::NotFound {
                        what: "probe",
                        id: connection.probe_id.to_string(),
                    });
                }
                bind_connection(sqlx::query(sql::INSERT_CONNECTION), ConnectionValues::of(connection))
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                sqlx::query(sql::INSERT_STATE)
                    .bind(connection.id.as_str().to_owned())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                tx.commit().await.map_err(unavailable)
            }

            async fn update_connection(&self, connection: &Connection) -> Result<(), StorageError> {
                let mut tx = ($begin)(&self.pool).await.map_err(unavailable)?;
                let mut values = ConnectionValues::of(connection);
                values.created_at = i64::MAX;
                let done = bind_connection(sqlx::query(sql::UPDATE_CONNECTION), values)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "connection", connection.id.as_str())?;
                if !connection.enabled {
                    cancel_queued(&mut tx, &connection.id).await?;
                }
                tx.commit().await.map_err(unavailable)
            }

            async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StorageError> {
                let sql = format!("SELECT {} FROM connections c WHERE c.id = $1", sql::CONNECTION_COLUMNS);
                sqlx::query_as::<_, ConnectionRow>(AssertSqlSafe(sql))
                    .bind(id.as_str().to_owned())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .map(ConnectionRow::into_connection)
                    .transpose()
            }

            async fn connections(&self, probe: Option<&ProbeId>) -> Result<Vec<Connection>, StorageError> {
                let sql = format!(
                    "SELECT {} FROM connections c JOIN probes p ON p.id = c.probe_id \
                     WHERE ($1 IS NULL OR c.probe_id = $1) ORDER BY p.name, p.id, c.name, c.id",
                    sql::CONNECTION_COLUMNS
                );
                sqlx::query_as::<_, ConnectionRow>(AssertSqlSafe(sql))
                    .bind(probe.map(|p| p.as_str().to_owned()))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .into_iter()
                    .map(ConnectionRow::into_connection)
                    .collect()
            }

            async fn set_connection_enabled(&self, id: &ConnectionId, enabled: bool) -> Result<(), StorageError> {
                let mut tx = ($begin)(&self.pool).await.map_err(unavailable)?;
                let done = sqlx::query("UPDATE connections SET enabled = $2 WHERE id = $1")
                    .bind(id.as_str().to_owned())
                    .bind(enabled)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "connection", id.as_str())?;
                if !enabled {
                    cancel_queued(&mut tx, id).await?;
                }
                tx.commit().await.map_err(unavailable)
            }

            async fn delete_connection(&self, id: &ConnectionId) -> Result<(), StorageError> {
                let done = sqlx::query("DELETE FROM connections WHERE id = $1")
                    .bind(id.as_str().to_owned())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "connection", id.as_str())
            }

            async fn connection_state(&self, id: &ConnectionId) -> Result<Option<ConnectionState>, StorageError> {
                let sql = format!("SELECT {} FROM connection_state s WHERE s.connection_id = $1", sql::STATE_COLUMNS);
                sqlx::query_as::<_, StateRow>(AssertSqlSafe(sql))
                    .bind(id.as_str().to_owned())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .map(StateRow::into_state)
                    .transpose()
            }
        }

        async fn cancel_queued(
            tx: &mut sqlx::Transaction<'static, Db>,
            id: &ConnectionId,
        ) -> Result<(), StorageError> {
            sqlx::query("UPDATE run_requests SET phase = 'cancelled' WHERE connection_id = $1 AND phase = 'queued'")
                .bind(id.as_str().to_owned())
                .execute(&mut **tx)
                .await
                .map_err(unavailable)?;
            Ok(())
        }

        #[async_trait]
        impl SchedulingStore for $storage {
            async fn scheduling_entries(&self, probe: &ProbeId) -> Result<Vec<SchedulingEntry>, StorageError> {
                let sql = format!(
                    "SELECT {}, {}, COALESCE(r.phase = 'queued', FALSE) AS run_queued FROM connections c \
                     JOIN connection_state s ON s.connection_id = c.id \
                     LEFT JOIN run_requests r ON r.connection_id = c.id \
                     WHERE c.probe_id = $1 ORDER BY c.name, c.id",
                    sql::CONNECTION_COLUMNS,
                    sql::STATE_COLUMNS
                );
                sqlx::query_as::<_, SchedulingRow>(AssertSqlSafe(sql))
                    .bind(probe.as_str().to_owned())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .into_iter()
                    .map(|row| {
                        Ok(SchedulingEntry {
                            connection: row.connection.into_connection()?,
                            state: row.state.into_state()?,
                            run_queued: row.run_queued,
                        })
                    })
                    .collect()
            }

            async fn request_run(
                &self,
                scope: RunScope<'_>,
                pinned: Option<&PoolEntry>,
                at: Timestamp,
            ) -> Result<Vec<ConnectionId>, StorageError> {
                match scope {
                    RunScope::Connection(id) => {
                        let mut tx = ($begin)(&self.pool).await.map_err(unavailable)?;
                        let row: Option<(bool,)> = sqlx::query_as("SELECT enabled FROM connections WHERE id = $1")
                            .bind(id.as_str().to_owned())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(unavailable)?;
                        match row {
                            None => {
                                return Err(StorageError::NotFound {
                                    what: "connection",
                                    id: id.to_string(),
                                });
                            }
                            Some((false,)) => {
                                return Err(StorageError::Conflict(format!(
                                    "connection {id} is disabled; enable it to run a test"
                                )));
                            }
                            Some((true,)) => {}
                        }
                        sqlx::query(sql::UPSERT_RUN_REQUEST)
                            .bind(id.as_str().to_owned())
                            .bind(pinned.map(|p| p.as_str().to_owned()))
                            .bind(at.unix_millis())
                            .execute(&mut *tx)
                            .await
                            .map_err(unavailable)?;
                        tx.commit().await.map_err(unavailable)?;
                        Ok(vec![id.clone()])
                    }
                    RunScope::All => {
                        if pinned.is_some() {
                            return Err(StorageError::Conflict(
                                "a specific server cannot be pinned for all connections".to_owned(),
                            ));
                        }
                        let rows: Vec<(String,)> = sqlx::query_as(sql::UPSERT_RUN_REQUEST_ALL)
                            .bind(at.unix_millis())
                            .fetch_all(&self.pool)
                            .await
                            .map_err(unavailable)?;
                        rows.into_iter()
                            .map(|(id,)| ConnectionId::parse(&id).map_err(|e| invalid(e.field, e.value, e.reason)))
                            .collect()
                    }
                }
            }

            async fn take_run_requests(&self, probe: &ProbeId, at: Timestamp) -> Result<Vec<TakenRunRequest>, StorageError> {
                let rows: Vec<(String, Option<String>)> = sqlx::query_as(sql::TAKE_RUN_REQUESTS)
                    .bind(probe.as_str().to_owned())
                    .bind(at.unix_millis())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unavailable)?;
                rows.into_iter()
                    .map(|(id, pinned)| {
                        Ok(TakenRunRequest {
                            connection_id: ConnectionId::parse(&id).map_err(|e| invalid(e.field, e.value, e.reason))?,
                            request: RunNowRequest {
                                pinned: pinned.as_deref().map(PoolEntry::parse).transpose()?,
                            },
                        })
                    })
                    .collect()
            }

            async fn run_state(&self, id: &ConnectionId) -> Result<Option<RunState>, StorageError> {
                let row: Option<(String, Option<String>, i64, i64)> = sqlx::query_as(
                    "SELECT phase, pinned, requested_at, updated_at FROM run_requests WHERE connection_id = $1",
                )
                .bind(id.as_str().to_owned())
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
                row.map(|(phase, pinned, requested, updated)| {
                    Ok(RunState {
                        phase: RunPhase::parse(&phase).ok_or_else(|| invalid("phase", &phase, "is not a run phase"))?,
                        pinned: pinned.as_deref().map(PoolEntry::parse).transpose()?,
                        requested_at: Timestamp::from_unix_millis(requested),
                        updated_at: Timestamp::from_unix_millis(updated),
                    })
                })
                .transpose()
            }
        }

        #[async_trait]
        impl MeasurementStore for $storage {
            async fn record(&self, incoming: IncomingResult, default_alerts: &AlertPolicy) -> Result<RecordOutcome, StorageError> {
                let mut m = incoming.measurement;
                let mut tx = ($begin)(&self.pool).await.map_err(unavailable)?;
                // Lock the connection's state row first: ingest is serialised per connection,
                // so the state never loses an update and a duplicate push sees the first one.
                let state_sql = format!(
                    "SELECT {} FROM connection_state s WHERE s.connection_id = $1{}",
                    sql::STATE_COLUMNS,
                    $lock
                );
                let state_row = sqlx::query_as::<_, StateRow>(AssertSqlSafe(state_sql))
                    .bind(m.connection_id.as_str().to_owned())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(unavailable)?;
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
                let conn_sql = format!("SELECT {} FROM connections c WHERE c.id = $1", sql::CONNECTION_COLUMNS);
                let connection = sqlx::query_as::<_, ConnectionRow>(AssertSqlSafe(conn_sql))
                    .bind(m.connection_id.as_str().to_owned())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(unavailable)?
                    .into_connection()?;
                if connection.probe_id != m.probe_id {
                    return Err(StorageError::Conflict(format!(
                        "connection {} belongs to another probe",
                        m.connection_id
                    )));
                }
                m.verdict = evaluate(&m.observation, &connection.thresholds, &connection.expected);
                let sample = m.sample();
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
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                let state = state_row.into_state()?;
                let policy = connection.alerts.unwrap_or(*default_alerts);
                let (alert, edge) = state.alert.step(sample, &policy);
                let mut next = state.after(m.completed_at, m.pool_entry.clone(), sample);
                next.alert = alert;
                let last = next.last.as_ref();
                sqlx::query(sql::UPDATE_STATE)
                    .bind(m.connection_id.as_str().to_owned())
                    .bind(last.map(|l| l.completed_at.unix_millis()))
                    .bind(last.and_then(|l| l.pool_entry.as_ref()).map(|p| p.as_str().to_owned()))
                    .bind(next.last_completed_at.map(Timestamp::unix_millis))
                    .bind(next.history.encode())
                    .bind(next.alert.alerting)
                    .bind(i32::try_from(next.alert.unhealthy_run).unwrap_or(i32::MAX))
                    .bind(i32::try_from(next.alert.healthy_run).unwrap_or(i32::MAX))
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                sqlx::query(
                    "UPDATE run_requests SET phase = 'done', updated_at = $2 WHERE connection_id = $1 AND phase = 'running'",
                )
                .bind(m.connection_id.as_str().to_owned())
                .bind(m.received_at.unix_millis())
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                tx.commit().await.map_err(unavailable)?;
                Ok(RecordOutcome::Recorded {
                    measurement: Box::new(m),
                    edge,
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
                if let Some(p) = &filter.probe {
                    q.push(" AND probe_id = ").push_bind(p.as_str().to_owned());
                }
                if let Some(c) = &filter.connection {
                    q.push(" AND connection_id = ").push_bind(c.as_str().to_owned());
                }
                if let Some(s) = &filter.server_id {
                    q.push(" AND server_id = ").push_bind(s.clone());
                }
                if let Some(done) = filter.completed {
                    q.push(" AND status = ").push_bind(if done { "completed" } else { "failed" });
                }
                if let Some(h) = filter.healthy {
                    q.push(" AND healthy = ").push_bind(h);
                }
                if let Some(s) = filter.scheduled {
                    q.push(" AND scheduled = ").push_bind(s);
                }
                if let Some(since) = filter.since {
                    q.push(" AND completed_at >= ").push_bind(since.unix_millis());
                }
                if let Some(until) = filter.until {
                    q.push(" AND completed_at < ").push_bind(until.unix_millis());
                }
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
                    next_cursor: if more { last_key.map(|c| c.encode()) } else { None },
                })
            }

            async fn raw_outputs(&self, after: Option<&ResultId>, limit: u32) -> Result<Vec<StoredRaw>, StorageError> {
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
                            engine: netpulse_domain::pool::Engine::parse(&engine)?,
                            raw: netpulse_domain::model::RawOutput {
                                exit_code,
                                stdout,
                                stderr,
                            },
                        })
                    })
                    .collect()
            }

            async fn replace_observation(&self, id: &ResultId, observation: &Observation) -> Result<(), StorageError> {
                let q = sqlx::query(sql::REPLACE_OBSERVATION).bind(id.as_str().to_owned());
                let done = bind_observation(q, observation)
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "measurement", id.as_str())
            }
        }

        #[async_trait]
        impl UserStore for $storage {
            async fn create_user(&self, user: &User) -> Result<(), StorageError> {
                let email = user.email.trim().to_lowercase();
                let mut tx = ($begin)(&self.pool).await.map_err(unavailable)?;
                let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
                    .bind(email.clone())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                if taken.is_some() {
                    return Err(StorageError::Conflict(format!("a user with e-mail {email} already exists")));
                }
                sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(user.id.as_str().to_owned())
                    .bind(email)
                    .bind(user.password_hash.clone())
                    .bind(user.created_at.unix_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                tx.commit().await.map_err(unavailable)
            }

            async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError> {
                sqlx::query_as::<_, UserRow>("SELECT id, email, password_hash, created_at FROM users WHERE email = $1")
                    .bind(email.trim().to_lowercase())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .map(UserRow::into_user)
                    .transpose()
            }

            async fn set_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StorageError> {
                let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(id.as_str().to_owned())
                    .bind(hash.to_owned())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "user", id.as_str())
            }

            async fn user_count(&self) -> Result<u64, StorageError> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(unavailable)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }

        #[async_trait]
        impl SettingsStore for $storage {
            async fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
                let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
                    .bind(key.to_owned())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?;
                Ok(row.map(|(v,)| v))
            }

            async fn set_setting(&self, key: &str, value: &str, at: Timestamp) -> Result<(), StorageError> {
                sqlx::query(
                    "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) \
                     DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(key.to_owned())
                .bind(value.to_owned())
                .bind(at.unix_millis())
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
                Ok(())
            }
        }

        #[async_trait]
        impl ApiTokenStore for $storage {
            async fn create_api_token(&self, token: &ApiToken, digest: &TokenDigest) -> Result<(), StorageError> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, name, token_digest, created_at, last_used_at) VALUES ($1, $2, $3, $4, NULL)",
                )
                .bind(token.id.as_str().to_owned())
                .bind(token.name.clone())
                .bind(digest.0.to_vec())
                .bind(token.created_at.unix_millis())
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
                Ok(())
            }

            async fn api_tokens(&self) -> Result<Vec<ApiToken>, StorageError> {
                sqlx::query_as::<_, ApiTokenRow>(
                    "SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY created_at, id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?
                .into_iter()
                .map(ApiTokenRow::into_token)
                .collect()
            }

            async fn api_token_by_digest(&self, digest: &TokenDigest) -> Result<Option<ApiToken>, StorageError> {
                sqlx::query_as::<_, ApiTokenRow>(
                    "SELECT id, name, created_at, last_used_at FROM api_tokens WHERE token_digest = $1",
                )
                .bind(digest.0.to_vec())
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?
                .map(ApiTokenRow::into_token)
                .transpose()
            }

            async fn revoke_api_token(&self, id: &ApiTokenId) -> Result<(), StorageError> {
                let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1")
                    .bind(id.as_str().to_owned())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                found(done.rows_affected(), "API token", id.as_str())
            }
        }

        #[async_trait]
        impl StorageHealth for $storage {
            async fn ping(&self) -> Result<(), StorageError> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(unavailable)?;
                Ok(())
            }
        }
    };
}

pub(crate) use storage_impl;
