//! The `NotificationStore` port, written once and expanded for each database by
//! [`notification_store_impl!`] next to `storage_impl!` (in a module of its own, so the two
//! expansions' imports never collide). Every claim is a conditional write (`… WHERE status =
//! 'pending'`, `… WHERE offline = FALSE`, `ON CONFLICT … DO UPDATE … WHERE`), so two server
//! processes on one database never both win; transactions that read first use the database's
//! write transaction (`BEGIN IMMEDIATE` on SQLite) and, on PostgreSQL, lock the rows they read.

macro_rules! notification_store_impl {
    ($storage:ty, $db:ty, begin_write = $begin:path, lock = $lock:expr) => {
        mod notification_store {
            #[allow(clippy::wildcard_imports)]
            use super::*;
            use async_trait::async_trait;
            use netpulse_domain::Timestamp;
            use netpulse_domain::id::{ConnectionId, ProbeId};
            use netpulse_domain::notify::DigestPeriod;
            use netpulse_ports::notification_store::{
                AttemptOutcome, ClaimedDelivery, DeliveryLogEntry, Incident, NewDelivery, NotificationSettings,
                NotificationStore, StoredChannel, StoredMaintenance,
            };
            use netpulse_ports::notify::Notification;
            use netpulse_ports::storage::StorageError;
            use sqlx::AssertSqlSafe;

            use $crate::storage::notify_rows::{
                CHANNEL_COLUMNS, ChannelRow, ChannelValues, IncidentRow, LogRow, MaintenanceRow, SettingsRow,
                context_to_json, notification_of,
            };
            use $crate::storage::rows::invalid;
            use $crate::storage::unavailable;

            type Db = $db;
            type Storage = $storage;

            fn found(rows: u64, what: &'static str, id: &str) -> Result<(), StorageError> {
                if rows == 0 {
                    Err(StorageError::NotFound { what, id: id.to_owned() })
                } else {
                    Ok(())
                }
            }

            fn bind_channel(
                q: sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments>,
                v: ChannelValues,
            ) -> sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments> {
                q.bind(v.id)
                    .bind(v.name)
                    .bind(v.kind)
                    .bind(v.enabled)
                    .bind(v.options)
                    .bind(v.sealed_secrets)
                    .bind(v.secret_names)
                    .bind(v.events)
                    .bind(v.quiet_start)
                    .bind(v.quiet_end)
                    .bind(v.quiet_time_zone)
                    .bind(v.created_at)
                    .bind(v.updated_at)
            }

            const DUE: &str = "((status IN ('pending', 'held') AND next_attempt_at <= $1) \
                 OR (status = 'sending' AND claimed_until <= $1))";

            const INCIDENT_COLUMNS: &str = "id, connection_id, opened_at, closed_at, announced, result_id";

            #[async_trait]
            impl NotificationStore for Storage {
                async fn notification_settings(&self) -> Result<Option<NotificationSettings>, StorageError> {
                    sqlx::query_as::<_, SettingsRow>(
                        "SELECT enabled, alert_after, recover_after, probe_offline, digest_daily, digest_weekly, \
                         digest_minute, digest_weekday, digest_time_zone, log_retention_days, public_url \
                         FROM notification_settings WHERE id = 1",
                    )
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .map(SettingsRow::into_settings)
                    .transpose()
                }

                async fn set_notification_settings(
                    &self,
                    s: &NotificationSettings,
                    at: Timestamp,
                ) -> Result<(), StorageError> {
                    sqlx::query(
                        "INSERT INTO notification_settings (id, enabled, alert_after, recover_after, probe_offline, \
                         digest_daily, digest_weekly, digest_minute, digest_weekday, digest_time_zone, \
                         log_retention_days, public_url, updated_at) \
                         VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                         ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, alert_after = excluded.alert_after, \
                         recover_after = excluded.recover_after, probe_offline = excluded.probe_offline, \
                         digest_daily = excluded.digest_daily, digest_weekly = excluded.digest_weekly, \
                         digest_minute = excluded.digest_minute, digest_weekday = excluded.digest_weekday, \
                         digest_time_zone = excluded.digest_time_zone, log_retention_days = excluded.log_retention_days, \
                         public_url = excluded.public_url, updated_at = excluded.updated_at",
                    )
                    .bind(s.enabled)
                    .bind(i32::try_from(s.alerts.unhealthy_count()).unwrap_or(i32::MAX))
                    .bind(i32::try_from(s.alerts.healthy_count()).unwrap_or(i32::MAX))
                    .bind(s.probe_offline)
                    .bind(s.digest.daily)
                    .bind(s.digest.weekly)
                    .bind(i32::from(s.digest.at.minutes()))
                    .bind(i32::from(s.digest.weekday))
                    .bind(s.digest.time_zone.clone())
                    .bind(i32::try_from(s.log_retention_days).unwrap_or(i32::MAX))
                    .bind(s.public_url.clone())
                    .bind(at.unix_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                    Ok(())
                }

                async fn create_channel(&self, channel: &StoredChannel) -> Result<(), StorageError> {
                    let sql = format!(
                        "INSERT INTO notification_channels ({CHANNEL_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                    );
                    bind_channel(sqlx::query(AssertSqlSafe(sql)), ChannelValues::of(channel))
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(())
                }

                async fn update_channel(&self, channel: &StoredChannel) -> Result<(), StorageError> {
                    let done = bind_channel(
                        sqlx::query(
                            "UPDATE notification_channels SET name = $2, kind = $3, enabled = $4, options = $5, \
                             sealed_secrets = $6, secret_names = $7, events = $8, quiet_start = $9, quiet_end = $10, \
                             quiet_time_zone = $11, updated_at = $13 WHERE id = $1 AND created_at <= $12",
                        ),
                        ChannelValues { created_at: i64::MAX, ..ChannelValues::of(channel) },
                    )
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                    found(done.rows_affected(), "channel", &channel.id)
                }

                async fn channel(&self, id: &str) -> Result<Option<StoredChannel>, StorageError> {
                    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1");
                    sqlx::query_as::<_, ChannelRow>(AssertSqlSafe(sql))
                        .bind(id.to_owned())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(unavailable)?
                        .map(ChannelRow::into_channel)
                        .transpose()
                }

                async fn channels(&self) -> Result<Vec<StoredChannel>, StorageError> {
                    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels ORDER BY name, id");
                    sqlx::query_as::<_, ChannelRow>(AssertSqlSafe(sql))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(unavailable)?
                        .into_iter()
                        .map(ChannelRow::into_channel)
                        .collect()
                }

                async fn delete_channel(&self, id: &str) -> Result<(), StorageError> {
                    let mut tx = $begin(&self.pool).await.map_err(unavailable)?;
                    let done = sqlx::query("DELETE FROM notification_channels WHERE id = $1")
                        .bind(id.to_owned())
                        .execute(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                    found(done.rows_affected(), "channel", id)?;
                    sqlx::query(
                        "UPDATE notification_deliveries SET status = 'failed', last_error = 'the channel was deleted' \
                         WHERE channel_id = $1 AND status IN ('pending', 'held', 'sending')",
                    )
                    .bind(id.to_owned())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                    tx.commit().await.map_err(unavailable)
                }

                async fn enqueue_notification(
                    &self,
                    id: &str,
                    n: &Notification,
                    deliveries: &[NewDelivery],
                    announce: Option<&str>,
                ) -> Result<bool, StorageError> {
                    let mut tx = $begin(&self.pool).await.map_err(unavailable)?;
                    if let Some(incident) = announce {
                        let done = sqlx::query("UPDATE incidents SET announced = TRUE WHERE id = $1 AND announced = FALSE")
                            .bind(incident.to_owned())
                            .execute(&mut *tx)
                            .await
                            .map_err(unavailable)?;
                        if done.rows_affected() == 0 {
                            return Ok(false);
                        }
                    }
                    let created = n.at;
                    sqlx::query(
                        "INSERT INTO notifications (id, kind, severity, subject, body, context, event_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(id.to_owned())
                    .bind(n.kind.as_str())
                    .bind(n.severity.as_str())
                    .bind(n.subject.clone())
                    .bind(n.body.clone())
                    .bind(context_to_json(n))
                    .bind(n.at.unix_millis())
                    .bind(created.unix_millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                    for d in deliveries {
                        sqlx::query(
                            "INSERT INTO notification_deliveries (id, notification_id, channel_id, status, attempts, \
                             next_attempt_at, claimed_until, last_error, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, 0, $5, NULL, NULL, $6, $6)",
                        )
                        .bind(d.id.clone())
                        .bind(id.to_owned())
                        .bind(d.channel_id.clone())
                        .bind(d.status.as_str())
                        .bind(d.next_attempt_at.unix_millis())
                        .bind(created.unix_millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                    }
                    tx.commit().await.map_err(unavailable)?;
                    Ok(true)
                }

                async fn claim_deliveries(
                    &self,
                    now: Timestamp,
                    claim_until: Timestamp,
                    limit: u32,
                ) -> Result<Vec<ClaimedDelivery>, StorageError> {
                    let mut tx = $begin(&self.pool).await.map_err(unavailable)?;
                    let sql = format!(
                        "SELECT id FROM notification_deliveries WHERE {DUE} ORDER BY next_attempt_at, id LIMIT $2"
                    );
                    let ids: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(sql))
                        .bind(now.unix_millis())
                        .bind(i64::from(limit.clamp(1, 1000)))
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                    let mut claimed = Vec::with_capacity(ids.len());
                    for (id,) in ids {
                        let sql = format!(
                            "UPDATE notification_deliveries SET status = 'sending', claimed_until = $2, \
                             attempts = attempts + 1, updated_at = $1 WHERE id = $3 AND {DUE} \
                             RETURNING channel_id, attempts, notification_id"
                        );
                        let row: Option<(String, i32, String)> = sqlx::query_as(AssertSqlSafe(sql))
                            .bind(now.unix_millis())
                            .bind(claim_until.unix_millis())
                            .bind(id.clone())
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(unavailable)?;
                        let Some((channel_id, attempts, notification_id)) = row else {
                            continue; // another process took it
                        };
                        let (kind, severity, subject, body, context, event_at): (String, String, String, String, String, i64) =
                            sqlx::query_as(
                                "SELECT kind, severity, subject, body, context, event_at FROM notifications WHERE id = $1",
                            )
                            .bind(notification_id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(unavailable)?;
                        claimed.push(ClaimedDelivery {
                            id,
                            channel_id,
                            attempts: u32::try_from(attempts).unwrap_or(0),
                            notification: notification_of(&kind, &severity, subject, body, &context, event_at)?,
                        });
                    }
                    tx.commit().await.map_err(unavailable)?;
                    Ok(claimed)
                }

                async fn finish_delivery(
                    &self,
                    id: &str,
                    outcome: &AttemptOutcome,
                    at: Timestamp,
                ) -> Result<(), StorageError> {
                    let (status, next, error) = match outcome {
                        AttemptOutcome::Sent => ("sent", None, None),
                        AttemptOutcome::Retry { at, error } => ("pending", Some(at.unix_millis()), Some(error.clone())),
                        AttemptOutcome::Failed { error } => ("failed", None, Some(error.clone())),
                    };
                    let done = sqlx::query(
                        "UPDATE notification_deliveries SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
                         claimed_until = NULL, last_error = COALESCE($4, last_error), updated_at = $5 \
                         WHERE id = $1 AND status = 'sending'",
                    )
                    .bind(id.to_owned())
                    .bind(status)
                    .bind(next)
                    .bind(error)
                    .bind(at.unix_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                    found(done.rows_affected(), "delivery being sent", id)
                }

                async fn delivery_log(
                    &self,
                    limit: u32,
                    before: Option<&str>,
                ) -> Result<Vec<DeliveryLogEntry>, StorageError> {
                    let mut cursor: Option<(i64, String)> = None;
                    if let Some(b) = before {
                        let row: Option<(i64,)> =
                            sqlx::query_as("SELECT created_at FROM notification_deliveries WHERE id = $1")
                                .bind(b.to_owned())
                                .fetch_optional(&self.pool)
                                .await
                                .map_err(unavailable)?;
                        let (created,) = row.ok_or_else(|| invalid("cursor", b, "is not a delivery of the log"))?;
                        cursor = Some((created, b.to_owned()));
                    }
                    sqlx::query_as::<_, LogRow>(
                        "SELECT d.id, d.notification_id, n.kind, n.subject, d.channel_id, ch.name AS channel_name, \
                         ch.kind AS channel_kind, d.status, d.attempts, d.next_attempt_at, d.last_error, \
                         d.created_at, d.updated_at FROM notification_deliveries d \
                         JOIN notifications n ON n.id = d.notification_id \
                         LEFT JOIN notification_channels ch ON ch.id = d.channel_id \
                         WHERE ($1 IS NULL OR d.created_at < $1 OR (d.created_at = $1 AND d.id < $2)) \
                         ORDER BY d.created_at DESC, d.id DESC LIMIT $3",
                    )
                    .bind(cursor.as_ref().map(|c| c.0))
                    .bind(cursor.map_or_else(String::new, |c| c.1))
                    .bind(i64::from(limit.clamp(1, 1000)))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .into_iter()
                    .map(LogRow::into_entry)
                    .collect()
                }

                async fn prune_notifications(&self, before: Timestamp) -> Result<u64, StorageError> {
                    let done = sqlx::query(
                        "DELETE FROM notifications WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM \
                         notification_deliveries d WHERE d.notification_id = notifications.id \
                         AND d.status IN ('pending', 'held', 'sending'))",
                    )
                    .bind(before.unix_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                    Ok(done.rows_affected())
                }

                async fn acquire_lease(
                    &self,
                    name: &str,
                    holder: &str,
                    now: Timestamp,
                    until: Timestamp,
                ) -> Result<bool, StorageError> {
                    let done = sqlx::query(
                        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE \
                         SET holder = excluded.holder, expires_at = excluded.expires_at \
                         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
                    )
                    .bind(name.to_owned())
                    .bind(holder.to_owned())
                    .bind(until.unix_millis())
                    .bind(now.unix_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn offline_probes(&self) -> Result<Vec<ProbeId>, StorageError> {
                    let rows: Vec<(String,)> =
                        sqlx::query_as("SELECT probe_id FROM probe_liveness WHERE offline = TRUE ORDER BY probe_id")
                            .fetch_all(&self.pool)
                            .await
                            .map_err(unavailable)?;
                    rows.into_iter()
                        .map(|(id,)| ProbeId::parse(&id).map_err(|e| invalid(e.field, &e.value, e.reason)))
                        .collect()
                }

                async fn claim_probe_liveness(
                    &self,
                    probe: &ProbeId,
                    offline: bool,
                    at: Timestamp,
                ) -> Result<bool, StorageError> {
                    let sql = if offline {
                        "INSERT INTO probe_liveness (probe_id, offline, changed_at) VALUES ($1, TRUE, $2) \
                         ON CONFLICT (probe_id) DO UPDATE SET offline = TRUE, changed_at = excluded.changed_at \
                         WHERE probe_liveness.offline = FALSE"
                    } else {
                        "UPDATE probe_liveness SET offline = FALSE, changed_at = $2 WHERE probe_id = $1 AND offline = TRUE"
                    };
                    let done = sqlx::query(sql)
                        .bind(probe.as_str().to_owned())
                        .bind(at.unix_millis())
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn open_incident(&self, i: &Incident) -> Result<(), StorageError> {
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
                    .execute(&self.pool)
                    .await
                    .map_err(unavailable)?;
                    Ok(())
                }

                async fn close_incident(
                    &self,
                    connection: &ConnectionId,
                    at: Timestamp,
                ) -> Result<Option<Incident>, StorageError> {
                    let mut tx = $begin(&self.pool).await.map_err(unavailable)?;
                    let sql = format!(
                        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE connection_id = $1 AND closed_at IS NULL \
                         ORDER BY opened_at DESC, id DESC LIMIT 1{}",
                        $lock
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

                async fn unannounced_incidents(&self) -> Result<Vec<Incident>, StorageError> {
                    let sql = format!(
                        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE closed_at IS NULL AND announced = FALSE \
                         ORDER BY opened_at, id"
                    );
                    sqlx::query_as::<_, IncidentRow>(AssertSqlSafe(sql))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(unavailable)?
                        .into_iter()
                        .map(IncidentRow::into_incident)
                        .collect()
                }

                async fn incidents(
                    &self,
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
                        .fetch_all(&self.pool)
                        .await
                        .map_err(unavailable)?
                        .into_iter()
                        .map(IncidentRow::into_incident)
                        .collect()
                }

                async fn create_maintenance(&self, w: &StoredMaintenance) -> Result<(), StorageError> {
                    let mut tx = $begin(&self.pool).await.map_err(unavailable)?;
                    let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM connections WHERE id = $1")
                        .bind(w.connection_id.as_str().to_owned())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                    if exists.is_none() {
                        return Err(StorageError::NotFound { what: "connection", id: w.connection_id.to_string() });
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

                async fn delete_maintenance(&self, id: &str) -> Result<(), StorageError> {
                    let done = sqlx::query("DELETE FROM maintenance_windows WHERE id = $1")
                        .bind(id.to_owned())
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    found(done.rows_affected(), "maintenance window", id)
                }

                async fn maintenance_windows(
                    &self,
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
                    .fetch_all(&self.pool)
                    .await
                    .map_err(unavailable)?
                    .into_iter()
                    .map(MaintenanceRow::into_window)
                    .collect()
                }

                async fn digest_slot(&self, period: DigestPeriod) -> Result<Option<Timestamp>, StorageError> {
                    let row: Option<(i64,)> = sqlx::query_as("SELECT next_slot FROM digest_slots WHERE period = $1")
                        .bind(period.as_str())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(row.map(|(t,)| Timestamp::from_unix_millis(t)))
                }

                async fn claim_digest_slot(
                    &self,
                    period: DigestPeriod,
                    expected: Option<Timestamp>,
                    next: Timestamp,
                ) -> Result<bool, StorageError> {
                    let done = match expected {
                        None => sqlx::query(
                            "INSERT INTO digest_slots (period, next_slot) VALUES ($1, $2) ON CONFLICT (period) DO NOTHING",
                        )
                        .bind(period.as_str())
                        .bind(next.unix_millis())
                        .execute(&self.pool)
                        .await,
                        Some(e) => sqlx::query("UPDATE digest_slots SET next_slot = $2 WHERE period = $1 AND next_slot = $3")
                            .bind(period.as_str())
                            .bind(next.unix_millis())
                            .bind(e.unix_millis())
                            .execute(&self.pool)
                            .await,
                    }
                    .map_err(unavailable)?;
                    Ok(done.rows_affected() > 0)
                }

                async fn reset_digest_slots(&self) -> Result<(), StorageError> {
                    sqlx::query("DELETE FROM digest_slots")
                        .execute(&self.pool)
                        .await
                        .map_err(unavailable)?;
                    Ok(())
                }
            }
        }
    };
}

pub(crate) use notification_store_impl;
