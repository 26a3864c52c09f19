//! Wake-ups of long-polling agents: whenever work is queued for a probe (a run-now request, a
//! diagnostic), the service signals it here, so a `/due?wait=…` held by this or another server
//! process answers at once. Storage keeps a version row per probe (one cheap read to poll) and,
//! where the database can (PostgreSQL `LISTEN/NOTIFY`), pushes notices to listeners.

use async_trait::async_trait;
use netpulse_domain::id::ProbeId;

use crate::storage::StorageError;

/// Who a wake-up is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkNotice {
    /// One probe.
    Probe(ProbeId),
    /// Every probe (e.g. "run every connection now").
    All,
}

impl WorkNotice {
    /// Whether a waiter for `probe` must wake.
    pub fn concerns(&self, probe: &ProbeId) -> bool {
        match self {
            Self::Probe(p) => p == probe,
            Self::All => true,
        }
    }
}

/// A stream of wake-up notices from other processes (PostgreSQL `LISTEN`).
#[async_trait]
pub trait WorkListener: Send {
    /// The next notice; an error when the connection broke (listen again).
    async fn next(&mut self) -> Result<WorkNotice, StorageError>;
}

/// The wake-up rows and notices.
#[async_trait]
pub trait WorkSignalStore: Send + Sync {
    /// Work was queued for `notice`'s probe(s): bumps the version row and notifies listeners.
    async fn signal_work(&self, notice: &WorkNotice) -> Result<(), StorageError>;

    /// A number that grows whenever work is signalled for `probe` (its own row plus every-probe
    /// signals); compared between two reads by a polling waiter.
    async fn work_version(&self, probe: &ProbeId) -> Result<i64, StorageError>;

    /// A listener of notices from every process, or `None` when the database has none (SQLite:
    /// waiters poll [`WorkSignalStore::work_version`]).
    async fn listen_work(&self) -> Result<Option<Box<dyn WorkListener>>, StorageError>;
}
