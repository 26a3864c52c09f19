//! The delivery log, newest first, a page at a time.

use netpulse_domain::notify_settings::delivery_page_limit;
use netpulse_ports::notification_store::DeliveryLogEntry;
use netpulse_ports::storage::StorageError;

use super::rule_and_value;
use crate::error::AppError;
use crate::service::App;

/// A page of the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPage {
    /// The lines, newest first.
    pub items: Vec<DeliveryLogEntry>,
    /// The cursor of the next page (the last line's id), when there is one.
    pub next_cursor: Option<String>,
}

/// Up to `limit` lines (default 50, at most 500) older than the `before` cursor.
pub async fn page(
    app: &App,
    limit: Option<u32>,
    before: Option<&str>,
) -> Result<DeliveryPage, AppError> {
    let limit = delivery_page_limit(limit).map_err(rule_and_value)?;
    let mut items = app
        .storage
        .delivery_log(limit + 1, before)
        .await
        .map_err(|e| match e {
            StorageError::Invalid(_) => AppError::invalid("before", "is not a cursor of this log"),
            other => AppError::from(other),
        })?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(|d| d.id.clone())
    } else {
        None
    };
    Ok(DeliveryPage { items, next_cursor })
}
