//! The storage port on sqlx: [`SqliteStorage`](sqlite::SqliteStorage) (embedded, the default)
//! and [`PostgresStorage`](postgres::PostgresStorage) (production). Both run the same SQL and
//! are held to one contract suite (`tests/adapters/storage/`). Storage loads and stores; the
//! decisions it stores come from `netpulse_domain` (e.g. [`netpulse_domain::ingest::decide`]).
//!
//! # Layout: one copy of the SQL, compiled once per database
//!
//! The port implementations live in `shared/` as ordinary modules, one per concept (probes,
//! connections, scheduling and run requests, measurements, accounts, notifications, sessions,
//! dashboard, metrics). `sqlite.rs` and `postgres.rs` each define what differs between the
//! databases — `type Db` (the sqlx database), `type Store` (the storage type), `begin_write`
//! (how a write transaction begins) and `LOCK` (the row-lock suffix that serialises ingest per
//! connection on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers) — and then
//! include `shared/` with `#[path = "shared/mod.rs"] mod shared;`. So each file of `shared/` is
//! compiled twice, once against each database, with concrete types: the trait impls are plain
//! `impl ProbeStore for Store` blocks that rustfmt formats and code navigation follows (clippy's
//! `duplicate_mod` is allowed on the two `mod shared;` lines for that reason). No macro is left.
//!
//! This was chosen over functions generic over `sqlx::Database` because sqlx's bounds (an
//! `Executor` for the connection, `Encode + Type` for every bound type, `FromRow` for every row)
//! would repeat on every function and hide the SQL. Database-independent code — the SQL text
//! (`sql.rs`), row types and their conversions (`rows.rs`, `notify_rows.rs`, `web_rows.rs`,
//! `metrics_rows.rs`) and list pagination (`list.rs`) — lives in ordinary modules compiled once.
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

mod access_rows;
mod check_blocks;
mod check_dns_detail;
mod check_list;
mod check_rows;
mod list;
mod metrics_rows;
mod notify_rows;
mod outage_rows;
mod rollup_rows;
mod rows;
mod sql;
mod web_rows;

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Arc;

/// The wake-up row and notice payload meaning "every probe".
pub(crate) const WORK_ALL: &str = "*";

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

/// `Ok` when a write touched a row, [`StorageError::NotFound`] for `what` `id` otherwise.
pub(crate) fn found(rows: u64, what: &'static str, id: &str) -> Result<(), StorageError> {
    if rows == 0 {
        Err(StorageError::NotFound {
            what,
            id: id.to_owned(),
        })
    } else {
        Ok(())
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
