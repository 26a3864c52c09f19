//! The storage port on PostgreSQL.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::imp::storage_impl;
use super::metrics_imp::metrics_store_impl;
use super::notify_imp::notification_store_impl;
use super::web::web_store_impl;

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

async fn begin_write(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin().await
}

storage_impl!(
    PostgresStorage,
    sqlx::Postgres,
    begin_write = begin_write,
    lock = " FOR UPDATE"
);

notification_store_impl!(
    PostgresStorage,
    sqlx::Postgres,
    begin_write = begin_write,
    lock = " FOR UPDATE"
);
metrics_store_impl!(PostgresStorage, sqlx::Postgres);
// Expanded in a child module (its own imports), hence the `super::` paths.
web_store_impl!(
    super::PostgresStorage,
    sqlx::Postgres,
    begin_write = super::begin_write,
    lock = " FOR UPDATE"
);
