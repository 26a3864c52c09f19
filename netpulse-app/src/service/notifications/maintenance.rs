//! Maintenance windows (alerts of the connection are held back during them), as shown in
//! history (incidents: `alerting`).

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::notify::MaintenanceWindow;
use netpulse_domain::notify_settings::history_range;
use netpulse_ports::notification_store::StoredMaintenance;

use super::rule_only;
use crate::error::AppError;
use crate::service::{App, new_uuid};

/// Maintenance windows overlapping `[since, until)` (default: the last 30 days onwards), of
/// one connection or all.
pub async fn list(
    app: &App,
    connection: Option<&ConnectionId>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<StoredMaintenance>, AppError> {
    let (since, until) = history_range(app.clock.now(), since, until).map_err(rule_only)?;
    Ok(app
        .storage
        .maintenance_windows(connection, since, until)
        .await?)
}

/// Plans a maintenance window `[starts_at, ends_at)` of a connection.
pub async fn create(
    app: &App,
    connection: ConnectionId,
    starts_at: Timestamp,
    ends_at: Timestamp,
    note: Option<&str>,
) -> Result<StoredMaintenance, AppError> {
    let window = MaintenanceWindow::new(starts_at, ends_at)?;
    let stored = StoredMaintenance {
        id: new_uuid(),
        connection_id: connection,
        starts_at: window.starts_at,
        ends_at: window.ends_at,
        note: note.unwrap_or_default().to_owned(),
        created_at: app.clock.now(),
    };
    app.storage.create_maintenance(&stored).await?;
    crate::service::audit::record(
        app,
        "maintenance.create",
        format!("connection:{}", stored.connection_id),
        format!("window {}", stored.id),
    )
    .await?;
    Ok(stored)
}

/// Deletes a maintenance window.
pub async fn delete(app: &App, id: &str) -> Result<(), AppError> {
    app.storage.delete_maintenance(id).await?;
    crate::service::audit::record(app, "maintenance.delete", format!("window:{id}"), "").await
}
