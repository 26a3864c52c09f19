//! The storage port on SQLite.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::imp::storage_impl;
use super::metrics_imp::metrics_store_impl;
use super::notify_imp::notification_store_impl;
use super::web::web_store_impl;

/// SQLite storage: one file, WAL, `BEGIN IMMEDIATE` for writes.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
}

impl SqliteStorage {
    /// Opens (creating if missing) the database at `url` (`sqlite://path` or `sqlite:path`) and
    /// migrates it.
    pub async fn open(url: &str) -> Result<Self, netpulse_ports::storage::StorageError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(super::unavailable)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(super::unavailable)?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| {
                netpulse_ports::storage::StorageError::unavailable_with("migration failed", e)
            })?;
        Ok(Self { pool })
    }

    /// The connection pool (for tests and benchmarks).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

async fn begin_write(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

storage_impl!(
    SqliteStorage,
    sqlx::Sqlite,
    begin_write = begin_write,
    lock = ""
);

notification_store_impl!(
    SqliteStorage,
    sqlx::Sqlite,
    begin_write = begin_write,
    lock = ""
);
metrics_store_impl!(SqliteStorage, sqlx::Sqlite);
// Expanded in a child module (its own imports), hence the `super::` paths.
web_store_impl!(
    super::SqliteStorage,
    sqlx::Sqlite,
    begin_write = super::begin_write,
    lock = ""
);
