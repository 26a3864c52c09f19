//! Notifications: alerts and recoveries on the edges ingest claims, probe-offline alerts,
//! digests, through the user's channels, with retries, quiet hours and a delivery log.
//!
//! # How it runs
//!
//! - **Edges.** [`Notifications::listener`] is a `RecordListener`: ingest hands it each newly
//!   recorded measurement with the alert edge the storage claimed in the ingest transaction
//!   (so exactly one server process sees each edge). The listener only queues the edge; a
//!   background task opens or closes the connection's incident and renders the message.
//! - **Outbox.** A message is stored with one delivery per channel (the channel must be enabled
//!   and subscribed to the kind) in one transaction; an alert also marks its incident announced
//!   in that transaction, with a conditional write. A delivery worker in every process claims
//!   due deliveries with conditional updates (two processes never claim the same one), sends
//!   them concurrently (one slow or failing channel never blocks another), and records the
//!   outcome: sent; retry after 30 s, 2 min, 10 min, 30 min, 1 h; or failed (permanent error,
//!   or six attempts). A delivery whose process died is claimed again after 2 minutes.
//! - **Quiet hours.** Informational messages (recoveries, probe back, digests) to a channel in
//!   its quiet hours are stored as `held` until the quiet hours end; critical ones (alerts,
//!   probe offline) go through.
//! - **Housekeeping.** Every process runs a small loop (every 30 s) that first takes the
//!   `housekeeping` lease row in the database (held for 90 s and renewed each round), so one
//!   process at a time does it. It raises probe-offline and probe-back messages (each claimed
//!   with a conditional write on the probe's liveness row), closes the open outages of series
//!   silent for longer than max_gap (each closing claimed once) and announces them, announces
//!   incidents held back by a
//!   maintenance window or while notifications were off once that no longer holds, sends the
//!   due reminders of unacknowledged connection, outage, service-check and probe-offline incidents (each claimed with a
//!   conditional write), sends due
//!   digests (each slot claimed with a conditional write) and prunes the delivery log. The
//!   lease keeps the work in one place; the claims keep it exactly-once even if two processes
//!   overlap (e.g. a paused process whose lease expired). Then it runs the [`Chore`]s other
//!   layers added (the nightly baseline recompute).
//! - **Counting.** Finished deliveries are counted in the [`SentCounter`] passed to
//!   [`Notifications::new`] (the metrics exporter subscribes to it).
//!
//! # Files
//!
//! `edges` (the listener and alert/recovery edges), `check_edges` (service-check alerts),
//! `outage_edges` (outage openings and closings), `outage_reminders`, `alert_reminders`
//! (reminders of service-check and probe-offline incidents), `routing` (severities,
//! contact lists, connection reminders), `delivery` (the outbox and the worker),
//! `channels` (secrets, redaction, default events, test messages), `housekeeping`, `digest`
//! and `outage_digest`, `render` (message texts) and `counter`.

pub mod alert_reminders;
mod channels;
pub mod check_edges;
pub mod counter;
mod delivery;
mod digest;
mod edges;
mod housekeeping;
mod incident_ref;
mod outage_digest;
pub mod outage_edges;
pub mod outage_reminders;
pub mod render;
mod routing;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use netpulse_adapters::cron_calendar::CronerCalendar;
use netpulse_adapters::notify::HttpClient;
use netpulse_adapters::secrets::SecretBox;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::{AlertEdge, AlertPolicy};
use netpulse_domain::model::Measurement;
use netpulse_ports::clock::Clock;
use netpulse_ports::notification_store::NotificationSettings;
use netpulse_ports::storage::{Storage, StorageError};
use tokio::sync::{Notify, mpsc};

pub use channels::{TestOutcome, default_events, default_events_for, redact};
pub use counter::{SentCounter, SentKey};

use crate::ids::new_uuid;

/// Timing of the background tasks.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How often the delivery worker looks for due deliveries when nobody wakes it.
    pub worker_idle: Duration,
    /// How often housekeeping runs.
    pub housekeeping_every: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            worker_idle: Duration::from_secs(1),
            housekeeping_every: Duration::from_secs(30),
        }
    }
}

/// Seconds a claimed delivery stays claimed before another process may take it.
const CLAIM_SECONDS: i64 = 120;
/// Seconds a housekeeping lease lasts (renewed every round).
const LEASE_SECONDS: i64 = 90;
/// The longest one send may take.
const SEND_TIMEOUT: Duration = Duration::from_mins(1);

/// The notification service of one server process.
pub struct Notifications {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    calendar: CronerCalendar,
    secrets: Arc<SecretBox>,
    http: HttpClient,
    counter: Arc<SentCounter>,
    poll_interval_seconds: u32,
    default_alerts: AlertPolicy,
    timing: Timing,
    wake: Notify,
    holder: String,
    started_at: Timestamp,
    edges: mpsc::UnboundedSender<(Measurement, AlertEdge)>,
    edge_queue: Mutex<Option<mpsc::UnboundedReceiver<(Measurement, AlertEdge)>>>,
    chores: Mutex<Vec<Arc<dyn Chore>>>,
}

/// Work of a higher layer that housekeeping runs under its lease, every round, after its own
/// (e.g. the nightly baseline recompute, which decides itself whether it is due).
#[async_trait::async_trait]
pub trait Chore: Send + Sync {
    /// One round; logs its own failures.
    async fn run(&self);
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications")
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}

/// The background tasks; dropping this stops them (claimed deliveries are retried later).
#[derive(Debug)]
pub struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

impl Notifications {
    /// A service over `storage`; call [`start`](Self::start) to run it.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        secrets: Arc<SecretBox>,
        counter: Arc<SentCounter>,
        poll_interval_seconds: u32,
        default_alerts: AlertPolicy,
        timing: Timing,
    ) -> Arc<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let started_at = clock.now();
        Arc::new(Self {
            storage,
            clock,
            calendar: CronerCalendar,
            secrets,
            http: HttpClient::new(),
            counter,
            poll_interval_seconds,
            default_alerts,
            timing,
            wake: Notify::new(),
            holder: new_uuid(),
            started_at,
            edges: tx,
            edge_queue: Mutex::new(Some(rx)),
            chores: Mutex::new(vec![]),
        })
    }

    /// Adds a chore to every housekeeping round (see [`Chore`]).
    pub fn add_chore(&self, chore: Arc<dyn Chore>) {
        self.chores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(chore);
    }

    fn chores(&self) -> Vec<Arc<dyn Chore>> {
        self.chores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The counter of finished deliveries.
    pub fn counter(&self) -> &Arc<SentCounter> {
        &self.counter
    }

    /// The secret box (sealing channel secrets).
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// Starts the edge processor, the delivery worker and housekeeping.
    pub fn start(self: &Arc<Self>) -> Tasks {
        let mut tasks = Vec::new();
        if let Some(mut rx) = self
            .edge_queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            let me = self.clone();
            tasks.push(tokio::spawn(async move {
                while let Some((m, edge)) = rx.recv().await {
                    if let Err(e) = me.on_edge(&m, edge).await {
                        tracing::error!(error = %e, connection = %m.connection_id, "cannot handle an alert edge");
                    }
                }
            }));
        }
        let me = self.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                match me.deliver_due().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "delivery worker: database unavailable"),
                }
                tokio::select! {
                    () = me.wake.notified() => {}
                    () = tokio::time::sleep(me.timing.worker_idle) => {}
                }
            }
        }));
        let me = self.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = me.housekeeping().await {
                    tracing::warn!(error = %e, "housekeeping: database unavailable");
                }
                tokio::time::sleep(me.timing.housekeeping_every).await;
            }
        }));
        Tasks(tasks)
    }

    /// The settings, or the defaults (with the server's alert policy) before the first save.
    pub async fn settings(&self) -> Result<NotificationSettings, StorageError> {
        Ok(self
            .storage
            .notification_settings()
            .await?
            .unwrap_or_else(|| NotificationSettings {
                alerts: self.default_alerts,
                ..NotificationSettings::default()
            }))
    }
}
