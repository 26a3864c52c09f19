//! Wake-ups of long-polling agents, inside one process and across processes.
//!
//! [`Wakeups`] is the in-process hub: [`signal`] tells storage (the version row, and
//! `NOTIFY` on PostgreSQL) and the hub's waiters at once. The first waiter starts a listener
//! task when the database has one (PostgreSQL `LISTEN`), which forwards every process's notices
//! into the hub and ends when the hub is dropped. Waiters also poll the version row: every
//! 250 ms while no listener is connected (SQLite, or PostgreSQL while reconnecting), every 5 s
//! as a safety net otherwise. So a run-now queued by the CLI or by another server process
//! reaches a waiting agent within about 250 ms on SQLite and at once on PostgreSQL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use netpulse_domain::id::ProbeId;
use netpulse_ports::storage::Storage;
use netpulse_ports::work_signal::WorkNotice;
use tokio::sync::broadcast;

use super::App;
use crate::error::AppError;

/// How often a waiter reads the version row without a connected listener.
pub const POLL_WITHOUT_LISTENER: Duration = Duration::from_millis(250);
/// How often a waiter reads the version row while the listener is connected.
pub const POLL_WITH_LISTENER: Duration = Duration::from_secs(5);
/// How long a broken listener waits before it listens again.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// The in-process hub of wake-up notices.
#[derive(Debug)]
pub struct Wakeups {
    tx: broadcast::Sender<WorkNotice>,
    started: Mutex<bool>,
    listening: AtomicBool,
}

impl Default for Wakeups {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(256);
        Self {
            tx,
            started: Mutex::new(false),
            listening: AtomicBool::new(false),
        }
    }
}

impl Wakeups {
    /// Wakes this process's waiters concerned by `notice`.
    pub fn wake(&self, notice: &WorkNotice) {
        // No receiver is not an error: nobody waits.
        let _ = self.tx.send(notice.clone());
    }

    /// Whether a listener of other processes' notices is connected.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    /// How often a waiter should read the version row now.
    pub fn poll_every(&self) -> Duration {
        if self.listening() {
            POLL_WITH_LISTENER
        } else {
            POLL_WITHOUT_LISTENER
        }
    }

    /// A receiver of notices from now on; starts the cross-process listener on first use.
    pub(crate) fn subscribe(self: &Arc<Self>, storage: &Arc<dyn Storage>) -> Receiver {
        let mut started = self
            .started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !*started {
            *started = true;
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(listen(Arc::downgrade(self), storage.clone()));
            }
        }
        Receiver(self.tx.subscribe())
    }
}

/// Notices for one waiter.
pub(crate) struct Receiver(broadcast::Receiver<WorkNotice>);

impl Receiver {
    /// Waits for a notice concerning `probe` (or a lost one: the waiter re-checks then).
    pub(crate) async fn concerning(&mut self, probe: &ProbeId) {
        loop {
            match self.0.recv().await {
                Ok(n) if n.concerns(probe) => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

/// Forwards the database's notices into the hub until the hub is dropped.
async fn listen(hub: Weak<Wakeups>, storage: Arc<dyn Storage>) {
    loop {
        if hub.strong_count() == 0 {
            return;
        }
        let mut listener = match storage.listen_work().await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for long-poll wake-ups; polling");
                tokio::time::sleep(RELISTEN_AFTER).await;
                continue;
            }
        };
        loop {
            let Some(h) = hub.upgrade() else { return };
            h.listening.store(true, Ordering::Relaxed);
            drop(h);
            // Look at the hub again every second, so the task ends soon after the server.
            match tokio::time::timeout(Duration::from_secs(1), listener.next()).await {
                Err(_) => {}
                Ok(Ok(notice)) => match hub.upgrade() {
                    Some(h) => h.wake(&notice),
                    None => return,
                },
                Ok(Err(e)) => {
                    if let Some(h) = hub.upgrade() {
                        h.listening.store(false, Ordering::Relaxed);
                        // Waiters may have missed notices: wake them all to look again.
                        h.wake(&WorkNotice::All);
                    }
                    tracing::warn!(error = %e, "long-poll listener lost; listening again");
                    tokio::time::sleep(RELISTEN_AFTER).await;
                    break;
                }
            }
        }
    }
}

/// Work was queued for `notice`'s probe(s): wakes waiters here and in every other process.
pub async fn signal(app: &App, notice: &WorkNotice) -> Result<(), AppError> {
    app.wakeups.wake(notice);
    app.storage.signal_work(notice).await?;
    Ok(())
}

/// A run-now request was queued for `target`: wakes its probe's waiters (every probe's for
/// "all").
pub async fn signal_runs(app: &App, target: &super::runs::RunTarget) -> Result<(), AppError> {
    let notice = match target {
        super::runs::RunTarget::All => WorkNotice::All,
        super::runs::RunTarget::Connection(id) => match app.storage.connection(id).await? {
            Some(c) => WorkNotice::Probe(c.probe_id),
            None => return Ok(()),
        },
    };
    signal(app, &notice).await
}
