//! Readiness (`/api/v1/healthcheck`): the database answers and takes a write, within a bound.
//!
//! The check is the storage's `ping`: a write transaction that changes nothing and is rolled
//! back (on SQLite it waits for the write lock, so a database another process holds locked
//! for writing is unhealthy; on PostgreSQL a read-only database is). It is bounded by
//! [`HEALTH_TIMEOUT`]: a database that does not answer in time (PostgreSQL unreachable, a lock
//! held for long) is unhealthy at once instead of after the driver's own timeouts.
//!
//! Which part failed and why is for authenticated callers only (an API token or a signed-in
//! session), checked with reads only (no last-use write that could wait on a lock) and within
//! the same bound, alongside the database check. When the database is down the credentials
//! cannot be checked either: the caller then gets the status only, and the cause is in the
//! server log (WARN) every time.

use std::time::Duration;

use super::{App, sessions};
use crate::tokens;

/// How long the check may take.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

/// The database's state as the check saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseState {
    /// It answered and took the write.
    Up,
    /// It answered with an error.
    Down,
    /// It did not answer within [`HEALTH_TIMEOUT`].
    Timeout,
}

impl DatabaseState {
    /// `up`, `down` or `timeout`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Timeout => "timeout",
        }
    }
}

/// The credentials a health-check request carries, as sent (unchecked).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `Authorization: Bearer` secret.
    pub bearer: Option<String>,
    /// The session cookie's secret.
    pub session: Option<String>,
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The database.
    pub database: DatabaseState,
    /// Why it is not up (the driver's error chain, or the timeout).
    pub error: Option<String>,
    /// Whether the caller is authenticated (and may see `database` and `error`).
    pub detailed: bool,
}

impl Health {
    /// Whether everything is up.
    pub fn healthy(&self) -> bool {
        self.database == DatabaseState::Up
    }

    /// `healthy` or `unhealthy`.
    pub fn status(&self) -> &'static str {
        if self.healthy() {
            "healthy"
        } else {
            "unhealthy"
        }
    }
}

/// Runs the check and checks the caller, together, in at most [`HEALTH_TIMEOUT`]; an
/// unhealthy answer is logged with its cause.
pub async fn check(app: &App, caller: &Credentials) -> Health {
    let (database, detailed) = tokio::join!(
        tokio::time::timeout(HEALTH_TIMEOUT, app.storage.ping()),
        tokio::time::timeout(HEALTH_TIMEOUT, authenticated(app, caller)),
    );
    let (database, error) = match database {
        Ok(Ok(())) => (DatabaseState::Up, None),
        Ok(Err(e)) => (DatabaseState::Down, Some(chain(&e))),
        Err(_) => (
            DatabaseState::Timeout,
            Some(format!(
                "the database did not take a write within {} ms",
                HEALTH_TIMEOUT.as_millis()
            )),
        ),
    };
    if let Some(error) = &error {
        tracing::warn!(database = database.as_str(), %error, "health check failed");
    }
    Health {
        database,
        error,
        detailed: detailed.unwrap_or(false),
    }
}

/// Whether the caller's API token or session is valid (reads only).
async fn authenticated(app: &App, caller: &Credentials) -> bool {
    if let Some(secret) = caller
        .bearer
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        && let Ok(Some(_)) = app
            .storage
            .api_token_by_digest(&tokens::digest(secret))
            .await
    {
        return true;
    }
    match caller.session.as_deref().filter(|s| s.len() == 43) {
        Some(secret) => matches!(
            app.storage.session(&tokens::digest(secret)).await,
            Ok(Some(record)) if !record.disabled && sessions::is_live(&record, app.clock.now())
        ),
        None => false,
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
