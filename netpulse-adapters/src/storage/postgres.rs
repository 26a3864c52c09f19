//! The storage port on PostgreSQL.

use std::time::Duration;

use sqlx::Transaction;
use sqlx::postgres::{PgPool, PgPoolOptions};

/// PostgreSQL storage.
#[derive(Debug, Clone)]
pub struct PostgresStorage {
    pool: PgPool,
}

impl PostgresStorage {
    /// Connects to `url` and migrates the database.
    pub async fn open(url: &str) -> Result<Self, netpulse_ports::storage::StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(super::unavailable)?;
        sqlx::migrate!("../migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| {
                netpulse_ports::storage::StorageError::unavailable_with("migration failed", e)
            })?;
        Ok(Self { pool })
    }

    /// The connection pool (for tests and benchmarks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The sqlx database the shared queries run on.
type Db = sqlx::Postgres;
/// The type the shared queries implement the ports for.
type Store = PostgresStorage;
/// The row-lock suffix of reads that precede a write: lock the rows read.
const LOCK: &str = " FOR UPDATE";

/// Begins a write transaction.
async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Db>, sqlx::Error> {
    pool.begin().await
}

// The queries shared with the other database, compiled here against this one.
#[allow(
    clippy::duplicate_mod,
    reason = "compiled once per database on purpose"
)]
#[path = "shared/mod.rs"]
mod shared;
