//! Notification settings and channels.

use netpulse_domain::Timestamp;
use netpulse_ports::notification_store::{NotificationSettings, StoredChannel};
use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, Pool};

use super::super::binds::Query;
use super::{Db, begin_write};
use crate::storage::notify_rows::{CHANNEL_COLUMNS, ChannelRow, ChannelValues, SettingsRow};
use crate::storage::{found, unavailable};

fn bind_channel(q: Query<'_>, v: ChannelValues) -> Query<'_> {
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

pub(super) async fn notification_settings(
    pool: &Pool<Db>,
) -> Result<Option<NotificationSettings>, StorageError> {
    sqlx::query_as::<_, SettingsRow>(
        "SELECT enabled, alert_after, recover_after, probe_offline, digest_daily, digest_weekly, \
         digest_minute, digest_weekday, digest_time_zone, log_retention_days, public_url \
         FROM notification_settings WHERE id = 1",
    )
    .fetch_optional(pool)
    .await
    .map_err(unavailable)?
    .map(SettingsRow::into_settings)
    .transpose()
}

pub(super) async fn set_notification_settings(
    pool: &Pool<Db>,
    s: &NotificationSettings,
    at: Timestamp,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO notification_settings (id, enabled, alert_after, recover_after, \
         probe_offline, digest_daily, digest_weekly, digest_minute, digest_weekday, \
         digest_time_zone, log_retention_days, public_url, updated_at) VALUES (1, $1, $2, $3, $4, \
         $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO UPDATE SET enabled = \
         excluded.enabled, alert_after = excluded.alert_after, recover_after = \
         excluded.recover_after, probe_offline = excluded.probe_offline, digest_daily = \
         excluded.digest_daily, digest_weekly = excluded.digest_weekly, digest_minute = \
         excluded.digest_minute, digest_weekday = excluded.digest_weekday, digest_time_zone = \
         excluded.digest_time_zone, log_retention_days = excluded.log_retention_days, public_url = \
         excluded.public_url, updated_at = excluded.updated_at",
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
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn create_channel(
    pool: &Pool<Db>,
    channel: &StoredChannel,
) -> Result<(), StorageError> {
    let sql = format!(
        "INSERT INTO notification_channels ({CHANNEL_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    bind_channel(sqlx::query(AssertSqlSafe(sql)), ChannelValues::of(channel))
        .execute(pool)
        .await
        .map_err(unavailable)?;
    Ok(())
}

pub(super) async fn update_channel(
    pool: &Pool<Db>,
    channel: &StoredChannel,
) -> Result<(), StorageError> {
    let done = bind_channel(
        sqlx::query(
            "UPDATE notification_channels SET name = $2, kind = $3, enabled = $4, options = $5, \
             sealed_secrets = $6, secret_names = $7, events = $8, quiet_start = $9, quiet_end = \
             $10, quiet_time_zone = $11, updated_at = $13 WHERE id = $1 AND created_at <= $12",
        ),
        ChannelValues {
            created_at: i64::MAX,
            ..ChannelValues::of(channel)
        },
    )
    .execute(pool)
    .await
    .map_err(unavailable)?;
    found(done.rows_affected(), "channel", &channel.id)
}

pub(super) async fn channel(
    pool: &Pool<Db>,
    id: &str,
) -> Result<Option<StoredChannel>, StorageError> {
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1");
    sqlx::query_as::<_, ChannelRow>(AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(pool)
        .await
        .map_err(unavailable)?
        .map(ChannelRow::into_channel)
        .transpose()
}

pub(super) async fn channels(pool: &Pool<Db>) -> Result<Vec<StoredChannel>, StorageError> {
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels ORDER BY name, id");
    sqlx::query_as::<_, ChannelRow>(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(ChannelRow::into_channel)
        .collect()
}

pub(super) async fn delete_channel(pool: &Pool<Db>, id: &str) -> Result<(), StorageError> {
    let mut tx = begin_write(pool).await.map_err(unavailable)?;
    let done = sqlx::query("DELETE FROM notification_channels WHERE id = $1")
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    found(done.rows_affected(), "channel", id)?;
    sqlx::query(
        "UPDATE notification_deliveries SET status = 'failed', last_error = 'the channel was \
         deleted' WHERE channel_id = $1 AND status IN ('pending', 'held', 'sending')",
    )
    .bind(id.to_owned())
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)
}
