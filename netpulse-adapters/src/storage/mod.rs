//! The storage port on sqlx: [`SqliteStorage`] (embedded, the default) and [`PostgresStorage`]
//! (production). Both run the same SQL (see `sql.rs`), expanded per database by one macro, and
//! are held to one contract suite (`tests/storage/`).
//!
//! - Times are stored as Unix milliseconds, ids as lower-case UUID text.
//! - Migrations live in `migrations/sqlite` and `migrations/postgres` (same numbering) and are
//!   applied by [`open`].
//! - SQLite runs in WAL mode with `synchronous = NORMAL`, a 5 s busy timeout and foreign keys on;
//!   write transactions that read first begin with `BEGIN IMMEDIATE`, so concurrent writers
//!   queue instead of failing with "database is locked".
//! - PostgreSQL serialises ingest per connection with a row lock on the connection's state row;
//!   run-now requests are taken with one `UPDATE … RETURNING`, so two server processes never
//!   hand out the same request.

mod imp;
mod list;
mod metrics_imp;
mod notify_imp;
mod notify_rows;
mod rows;
mod sql;
mod web;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Arc;

use netpulse_ports::storage::{Storage, StorageError};

#[allow(clippy::needless_pass_by_value)] // used as `map_err(unavailable)`
pub(crate) fn unavailable(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StorageError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StorageError::Conflict(db.message().to_owned())
        }
        _ => StorageError::unavailable_from(e),
    }
}

/// Opens the database a URL names (`sqlite://…` or `postgres://…`), creating a SQLite file if
/// missing, and applies pending migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Storage>, StorageError> {
    if url.starts_with("sqlite:") {
        #[cfg(feature = "sqlite")]
        return Ok(Arc::new(sqlite::SqliteStorage::open(url).await?));
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        #[cfg(feature = "postgres")]
        return Ok(Arc::new(postgres::PostgresStorage::open(url).await?));
    }
    Err(StorageError::unavailable(format!(
        "unsupported database URL {:?}: use sqlite://PATH or postgres://…",
        redact(url)
    )))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
