//! Notifications: the global settings, the channels, the delivery log, maintenance windows,
//! severities, contact lists and incidents with their acknowledgement (`alerting`) — what the
//! notification API and the `/settings/notifications` and `/incidents` pages use.
//!
//! The settings and channel changes need the notification engine of this process
//! ([`App::notifications`]); without it (e.g. the admin CLI) they answer
//! [`AppError::Unavailable`]. Listing and deleting channels, the delivery log, maintenance
//! windows and incidents only need the database.

pub mod alerting;
pub mod channels;
pub mod deliveries;
pub mod incident_list;
pub mod maintenance;
pub mod settings;

use std::sync::Arc;

use netpulse_domain::InvalidValue;

use super::App;
use crate::error::AppError;
use crate::notify::Notifications;

/// Whether this process sends notifications (the settings and channel changes answer 503
/// otherwise).
pub fn is_running(app: &App) -> bool {
    app.notifications.is_some()
}

/// The notification engine, or unavailable.
fn engine(app: &App) -> Result<&Arc<Notifications>, AppError> {
    app.notifications
        .as_ref()
        .ok_or_else(|| AppError::unavailable("notifications are not running in this process"))
}

/// A broken rule as an input error with the rule alone as its message.
fn rule_only(e: InvalidValue) -> AppError {
    AppError::invalid(e.field, e.rule)
}

/// A broken rule as an input error `rule (got value)` (the value unquoted).
fn rule_and_value(e: InvalidValue) -> AppError {
    let InvalidValue { field, value, rule } = e;
    AppError::invalid(field, format!("{rule} (got {value})"))
}
