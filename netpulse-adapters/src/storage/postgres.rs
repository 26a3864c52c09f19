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
        shared::convert_legacy(&pool).await?;
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

/// Counts (0 or 1) the table of check results before migration 0013, which `open` converts.
const RESULTS_TABLE_EXISTS: &str = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'check_results'";

/// Begins a write transaction.
async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Db>, sqlx::Error> {
    pool.begin().await
}

/// The channel of long-poll wake-ups.
const WORK_CHANNEL: &str = "netpulse_work";

/// Sends a wake-up notice inside `tx` (delivered when it commits).
async fn notify_work(tx: &mut Transaction<'static, Db>, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(WORK_CHANNEL)
        .bind(payload.to_owned())
        .execute(&mut **tx)
        .await
        .map(|_| ())
}

/// Listens on the wake-up channel over a connection of its own.
async fn work_listener(
    pool: &PgPool,
) -> Result<
    Option<Box<dyn netpulse_ports::work_signal::WorkListener>>,
    netpulse_ports::storage::StorageError,
> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool)
        .await
        .map_err(super::unavailable)?;
    listener
        .listen(WORK_CHANNEL)
        .await
        .map_err(super::unavailable)?;
    Ok(Some(Box::new(PgWorkListener(listener))))
}

/// The notice a payload names.
fn notice_of(
    payload: &str,
) -> Result<netpulse_ports::work_signal::WorkNotice, netpulse_ports::storage::StorageError> {
    use netpulse_ports::work_signal::WorkNotice;
    if payload == super::WORK_ALL {
        return Ok(WorkNotice::All);
    }
    netpulse_domain::id::ProbeId::parse(payload)
        .map(WorkNotice::Probe)
        .map_err(|e| {
            netpulse_ports::storage::StorageError::unavailable(format!(
                "bad work notice {payload:?}: {e}"
            ))
        })
}

/// Wake-up notices from every server process on this database.
struct PgWorkListener(sqlx::postgres::PgListener);

#[async_trait::async_trait]
impl netpulse_ports::work_signal::WorkListener for PgWorkListener {
    async fn next(
        &mut self,
    ) -> Result<netpulse_ports::work_signal::WorkNotice, netpulse_ports::storage::StorageError>
    {
        let n = self.0.recv().await.map_err(super::unavailable)?;
        notice_of(n.payload())
    }
}

// The queries shared with the other database, compiled here against this one.
#[allow(
    clippy::duplicate_mod,
    reason = "compiled once per database on purpose"
)]
#[path = "shared/mod.rs"]
mod shared;
