//! The outbox: notifications, their deliveries per channel (claimed, retried, finished),
//! the delivery log and pruning.

use netpulse_domain::Timestamp;
use netpulse_ports::notification_store::{
    AttemptOutcome, ClaimedDelivery, DeliveryLogEntry, NewDelivery,
};
use netpulse_ports::notify::Notification;
use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, Pool};

use super::{Db, begin_write};
use crate::storage::notify_rows::{LogRow, context_to_json, notification_of};
use crate::storage::rows::invalid;
use crate::storage::{found, unavailable};

const DUE: &str = "((status IN ('pending', 'held') AND next_attempt_at <= $1) \
     OR (status = 'sending' AND claimed_until <= $1))";

pub(super) async fn enqueue_notification(
    pool: &Pool<Db>,
    id: &str,
    n: &Notification,
    deliveries: &[NewDelivery],
    announce: Option<&str>,
) -> Result<bool, StorageError> {
    let mut tx = begin_write(pool).await.map_err(unavailable)?;
    if let Some(incident) = announce {
        let done = sqlx::query(
            "UPDATE incidents SET announced = TRUE WHERE id = $1 AND announced = FALSE",
        )
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
        "INSERT INTO notifications (id, kind, severity, subject, body, context, event_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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
            "INSERT INTO notification_deliveries (id, notification_id, channel_id, status, \
             attempts, next_attempt_at, claimed_until, last_error, created_at, updated_at) VALUES \
             ($1, $2, $3, $4, 0, $5, NULL, NULL, $6, $6)",
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

pub(super) async fn claim_deliveries(
    pool: &Pool<Db>,
    now: Timestamp,
    claim_until: Timestamp,
    limit: u32,
) -> Result<Vec<ClaimedDelivery>, StorageError> {
    let mut tx = begin_write(pool).await.map_err(unavailable)?;
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
        let (kind, severity, subject, body, context, event_at): (
            String,
            String,
            String,
            String,
            String,
            i64,
        ) = sqlx::query_as(
            "SELECT kind, severity, subject, body, context, event_at FROM notifications WHERE \
                 id = $1",
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

pub(super) async fn finish_delivery(
    pool: &Pool<Db>,
    id: &str,
    outcome: &AttemptOutcome,
    at: Timestamp,
) -> Result<(), StorageError> {
    let (status, next, error) = match outcome {
        AttemptOutcome::Sent => ("sent", None, None),
        AttemptOutcome::Retry { at, error } => {
            ("pending", Some(at.unix_millis()), Some(error.clone()))
        }
        AttemptOutcome::Failed { error } => ("failed", None, Some(error.clone())),
    };
    let done = sqlx::query(
        "UPDATE notification_deliveries SET status = $2, next_attempt_at = COALESCE($3, \
         next_attempt_at), claimed_until = NULL, last_error = COALESCE($4, last_error), updated_at \
         = $5 WHERE id = $1 AND status = 'sending'",
    )
    .bind(id.to_owned())
    .bind(status)
    .bind(next)
    .bind(error)
    .bind(at.unix_millis())
    .execute(pool)
    .await
    .map_err(unavailable)?;
    found(done.rows_affected(), "delivery being sent", id)
}

pub(super) async fn delivery_log(
    pool: &Pool<Db>,
    limit: u32,
    before: Option<&str>,
) -> Result<Vec<DeliveryLogEntry>, StorageError> {
    let mut cursor: Option<(i64, String)> = None;
    if let Some(b) = before {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT created_at FROM notification_deliveries WHERE id = $1")
                .bind(b.to_owned())
                .fetch_optional(pool)
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
    .fetch_all(pool)
    .await
    .map_err(unavailable)?
    .into_iter()
    .map(LogRow::into_entry)
    .collect()
}

pub(super) async fn prune_notifications(
    pool: &Pool<Db>,
    before: Timestamp,
) -> Result<u64, StorageError> {
    let done = sqlx::query(
        "DELETE FROM notifications WHERE created_at < $1 AND NOT EXISTS (SELECT 1 FROM \
         notification_deliveries d WHERE d.notification_id = notifications.id \
         AND d.status IN ('pending', 'held', 'sending'))",
    )
    .bind(before.unix_millis())
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected())
}
