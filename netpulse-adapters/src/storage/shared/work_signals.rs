//! The long-poll wake-up rows: a version per probe ('*' for every probe), bumped when work is
//! queued; the notice itself is the database's (`notify_work`, `work_listener` of the parent).

use async_trait::async_trait;
use netpulse_domain::id::ProbeId;
use netpulse_ports::storage::StorageError;
use netpulse_ports::work_signal::{WorkListener, WorkNotice, WorkSignalStore};

use super::{Store, begin_write, notify_work, work_listener};
use crate::storage::unavailable;

use crate::storage::WORK_ALL as ALL;

#[async_trait]
impl WorkSignalStore for Store {
    async fn signal_work(&self, notice: &WorkNotice) -> Result<(), StorageError> {
        let key = match notice {
            WorkNotice::Probe(p) => p.as_str(),
            WorkNotice::All => ALL,
        };
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        sqlx::query(
            "INSERT INTO work_signals (probe_id, version) VALUES ($1, 1) ON CONFLICT (probe_id) \
             DO UPDATE SET version = work_signals.version + 1",
        )
        .bind(key.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        notify_work(&mut tx, key).await.map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn work_version(&self, probe: &ProbeId) -> Result<i64, StorageError> {
        let (version,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM work_signals WHERE probe_id \
             IN ($1, $2)",
        )
        .bind(probe.as_str().to_owned())
        .bind(ALL)
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(version)
    }

    async fn listen_work(&self) -> Result<Option<Box<dyn WorkListener>>, StorageError> {
        work_listener(&self.pool).await
    }
}
