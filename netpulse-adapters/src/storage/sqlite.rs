//! The storage port on SQLite.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Transaction;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

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
        shared::convert_legacy(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool (for tests and benchmarks).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// The sqlx database the shared queries run on.
type Db = sqlx::Sqlite;
/// The type the shared queries implement the ports for.
type Store = SqliteStorage;
/// The row-lock suffix of reads that precede a write: none, `BEGIN IMMEDIATE` already holds
/// the database's write lock.
const LOCK: &str = "";

/// Counts (0 or 1) the table of check results before migration 0013, which `open` converts.
const RESULTS_TABLE_EXISTS: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'check_results'";

/// Begins a write transaction that takes the write lock at once (`BEGIN IMMEDIATE`), so
/// concurrent writers queue on the busy timeout instead of failing when they upgrade.
async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Db>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Sends a wake-up notice inside `tx`: SQLite has no notices (waiters poll the version row).
#[allow(clippy::unused_async)] // the same signature as PostgreSQL's
async fn notify_work(
    _tx: &mut Transaction<'static, Db>,
    _payload: &str,
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// SQLite has no listener: waiters poll the version row.
#[allow(clippy::unused_async)] // the same signature as PostgreSQL's
async fn work_listener(
    _pool: &SqlitePool,
) -> Result<
    Option<Box<dyn netpulse_ports::work_signal::WorkListener>>,
    netpulse_ports::storage::StorageError,
> {
    Ok(None)
}

// The queries shared with the other database, compiled here against this one.
#[allow(
    clippy::duplicate_mod,
    reason = "compiled once per database on purpose"
)]
#[path = "shared/mod.rs"]
mod shared;
