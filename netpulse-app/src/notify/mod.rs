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
//!   with a conditional write on the probe's liveness row), announces incidents held back by a
//!   maintenance window or while notifications were off once that no longer holds, sends due
//!   digests (each slot claimed with a conditional write) and prunes the delivery log. The
//!   lease keeps the work in one place; the claims keep it exactly-once even if two processes
//!   overlap (e.g. a paused process whose lease expired).

pub mod counter;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use netpulse_adapters::cron_calendar::CronerCalendar;
use netpulse_adapters::notify::{HttpClient, build};
use netpulse_adapters::secrets::SecretBox;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::{AlertEdge, AlertPolicy};
use netpulse_domain::id::ConnectionId;
use netpulse_domain::model::Measurement;
use netpulse_domain::notify::{
    Announcement, DigestPeriod, DigestSample, IncidentSpan, LivenessEdge, announce_alert,
    announce_recovery, liveness_edge, offline_after_seconds, retry_delay_seconds, summarize,
};
use netpulse_ports::clock::Clock;
use netpulse_ports::notification_store::{
    AttemptOutcome, ClaimedDelivery, DeliveryStatus, Incident, NewDelivery, NotificationSettings,
    StoredChannel,
};
use netpulse_ports::notify::{ChannelConfig, Notification, NotificationKind, Severity};
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort, Storage, StorageError};
use tokio::sync::{Notify, mpsc};

use crate::ids::new_uuid;
pub use counter::{SentCounter, SentKey, notifications_sent_total};
use netpulse_ports::listener::RecordListener;

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

/// The result of a channel's test message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// Whether it was delivered.
    pub sent: bool,
    /// The (redacted) error.
    pub error: Option<String>,
}

struct EdgeListener(mpsc::UnboundedSender<(Measurement, AlertEdge)>);

impl RecordListener for EdgeListener {
    fn recorded(&self, measurement: &Measurement, edge: Option<AlertEdge>) {
        if let Some(edge) = edge {
            // Never blocks; fails only after shutdown.
            let _ = self.0.send((measurement.clone(), edge));
        }
    }
}

/// Replaces every secret value in `text` with `[redacted]`.
pub fn redact(text: &str, secrets: &BTreeMap<String, String>) -> String {
    let mut out = text.to_owned();
    for value in secrets.values().filter(|v| v.len() >= 4) {
        out = out.replace(value.as_str(), "[redacted]");
    }
    out
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
        })
    }

    /// The listener to register with ingest.
    pub fn listener(&self) -> Arc<dyn RecordListener> {
        Arc::new(EdgeListener(self.edges.clone()))
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

    /// Opens a channel's secrets.
    pub fn config_of(&self, channel: &StoredChannel) -> Result<ChannelConfig, String> {
        let secrets = match &channel.sealed_secrets {
            None => BTreeMap::new(),
            Some(sealed) => {
                let plain = self
                    .secrets
                    .open(sealed, &channel.id)
                    .map_err(|e| e.to_string())?;
                serde_json::from_slice(&plain)
                    .map_err(|_| "the stored secrets are unreadable".to_owned())?
            }
        };
        Ok(ChannelConfig {
            kind: channel.kind,
            options: channel.options.clone(),
            secrets,
        })
    }

    /// Seals secrets for a channel.
    pub fn seal(&self, channel_id: &str, secrets: &BTreeMap<String, String>) -> Option<String> {
        (!secrets.is_empty()).then(|| {
            let json = serde_json::to_vec(secrets).unwrap_or_default();
            self.secrets.seal(&json, channel_id)
        })
    }

    /// Handles one claimed edge.
    async fn on_edge(&self, m: &Measurement, edge: AlertEdge) -> Result<(), StorageError> {
        let settings = self.settings().await?;
        let (Some(connection), Some(probe)) = (
            self.storage.connection(&m.connection_id).await?,
            self.storage.probe(&m.probe_id).await?,
        ) else {
            return Ok(()); // deleted meanwhile
        };
        let now = self.clock.now();
        let public_url = settings.public_url.as_deref();
        match edge {
            AlertEdge::Alert { consecutive } => {
                let in_maintenance = self
                    .in_maintenance(&m.connection_id, m.completed_at)
                    .await?;
                let incident = Incident {
                    id: new_uuid(),
                    connection_id: m.connection_id.clone(),
                    opened_at: m.completed_at,
                    closed_at: None,
                    announced: false,
                    result_id: Some(m.id.to_string()),
                };
                self.storage.open_incident(&incident).await?;
                if announce_alert(settings.enabled && connection.enabled, in_maintenance)
                    == Announcement::Now
                {
                    let n = render::alert(&probe, &connection, m, consecutive, now, public_url);
                    self.enqueue(n, Some(&incident.id)).await?;
                } else {
                    tracing::info!(connection = %connection.id, in_maintenance, "alert not announced now");
                }
            }
            AlertEdge::Recovery { consecutive } => {
                let incident = self
                    .storage
                    .close_incident(&m.connection_id, m.completed_at)
                    .await?;
                let announced = incident.as_ref().is_some_and(|i| i.announced);
                if announce_recovery(announced, settings.enabled) {
                    let since = incident.map(|i| i.opened_at);
                    let n = render::recovery(
                        &probe,
                        &connection,
                        m,
                        consecutive,
                        since,
                        now,
                        public_url,
                    );
                    self.enqueue(n, None).await?;
                }
            }
        }
        Ok(())
    }

    async fn in_maintenance(
        &self,
        connection: &ConnectionId,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        Ok(!self
            .storage
            .maintenance_windows(
                Some(connection),
                at,
                Timestamp::from_unix_millis(at.unix_millis() + 1),
            )
            .await?
            .is_empty())
    }

    /// Stores a notification with a delivery per subscribed, enabled channel (held during the
    /// channel's quiet hours unless critical) and wakes the worker. With `announce`, marks the
    /// incident announced in the same transaction (nothing is stored if it already was).
    pub async fn enqueue(
        &self,
        n: Notification,
        announce: Option<&str>,
    ) -> Result<bool, StorageError> {
        let now = self.clock.now();
        let mut deliveries = Vec::new();
        for c in self.storage.channels().await? {
            if !c.enabled || !c.events.contains(&n.kind) {
                continue;
            }
            let hold = match (&c.quiet_hours, n.severity) {
                (Some(q), Severity::Info) => q.holds_until(now, &self.calendar),
                _ => None,
            };
            deliveries.push(NewDelivery {
                id: new_uuid(),
                channel_id: c.id.clone(),
                status: if hold.is_some() {
                    DeliveryStatus::Held
                } else {
                    DeliveryStatus::Pending
                },
                next_attempt_at: hold.unwrap_or(now),
            });
        }
        let stored = self
            .storage
            .enqueue_notification(&new_uuid(), &n, &deliveries, announce)
            .await?;
        if stored {
            tracing::info!(kind = n.kind.as_str(), deliveries = deliveries.len(), subject = %n.subject, "notification queued");
            self.wake.notify_one();
        }
        Ok(stored)
    }

    /// Claims and sends what is due; returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, StorageError> {
        let now = self.clock.now();
        let claimed = self
            .storage
            .claim_deliveries(now, now.plus_seconds(CLAIM_SECONDS), 16)
            .await?;
        let n = claimed.len();
        let mut set = tokio::task::JoinSet::new();
        for d in claimed {
            let storage = self.storage.clone();
            let channel = self.storage.channel(&d.channel_id).await?;
            let config = channel.as_ref().map(|c| self.config_of(c));
            let http = self.http.clone();
            let counter = self.counter.clone();
            let clock = self.clock.clone();
            set.spawn(async move {
                let kind = channel.as_ref().map_or("deleted", |c| c.kind.as_str()).to_owned();
                let (outcome, secrets) = attempt(&d, config, &http).await;
                let outcome = redact_outcome(outcome, &secrets, &d, clock.now());
                match &outcome {
                    AttemptOutcome::Sent => {
                        tracing::info!(channel = %d.channel_id, kind = %kind, attempts = d.attempts, "notification sent");
                        counter.record(d.notification.kind.as_str(), &kind, "sent");
                    }
                    AttemptOutcome::Retry { error, .. } => {
                        tracing::warn!(channel = %d.channel_id, kind = %kind, attempts = d.attempts, error = %error, "delivery failed; will retry");
                    }
                    AttemptOutcome::Failed { error } => {
                        tracing::error!(channel = %d.channel_id, kind = %kind, attempts = d.attempts, error = %error, "delivery failed for good");
                        counter.record(d.notification.kind.as_str(), &kind, "failed");
                    }
                }
                if let Err(e) = storage.finish_delivery(&d.id, &outcome, clock.now()).await {
                    tracing::warn!(error = %e, delivery = %d.id, "cannot record a delivery outcome");
                }
            });
        }
        while set.join_next().await.is_some() {}
        Ok(n)
    }

    /// Sends a channel's test message now (ignores the master switch, quiet hours and event
    /// filter; not logged or counted).
    pub async fn send_test(&self, channel: &StoredChannel) -> TestOutcome {
        let n = render::test(&channel.name, self.clock.now());
        let config = match self.config_of(channel) {
            Ok(c) => c,
            Err(e) => {
                return TestOutcome {
                    sent: false,
                    error: Some(e),
                };
            }
        };
        let result = match build(&config, &self.http) {
            Err(e) => Err(e.to_string()),
            Ok(notifier) => match tokio::time::timeout(SEND_TIMEOUT, notifier.send(&n)).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err("timed out".to_owned()),
            },
        };
        match result {
            Ok(()) => TestOutcome {
                sent: true,
                error: None,
            },
            Err(e) => TestOutcome {
                sent: false,
                error: Some(redact(&e, &config.secrets)),
            },
        }
    }

    /// One round of housekeeping (see the module docs); does nothing without the lease.
    pub async fn housekeeping(&self) -> Result<(), StorageError> {
        let now = self.clock.now();
        if !self
            .storage
            .acquire_lease(
                "housekeeping",
                &self.holder,
                now,
                now.plus_seconds(LEASE_SECONDS),
            )
            .await?
        {
            return Ok(());
        }
        let settings = self.settings().await?;
        if settings.enabled {
            if settings.probe_offline {
                self.check_probes(now).await?;
            }
            self.announce_held_incidents(&settings, now).await?;
            for period in [DigestPeriod::Daily, DigestPeriod::Weekly] {
                if settings.digest.enabled(period) {
                    self.digest_if_due(&settings, period, now).await?;
                }
            }
        }
        let retention = i64::from(settings.log_retention_days.max(1)) * 86_400;
        let pruned = self
            .storage
            .prune_notifications(now.plus_seconds(-retention))
            .await?;
        if pruned > 0 {
            tracing::info!(pruned, "delivery log pruned");
        }
        Ok(())
    }

    #[allow(clippy::collapsible_match)]
    async fn check_probes(&self, now: Timestamp) -> Result<(), StorageError> {
        let offline: BTreeSet<String> = self
            .storage
            .offline_probes()
            .await?
            .into_iter()
            .map(|p| p.to_string())
            .collect();
        let limit = offline_after_seconds(self.poll_interval_seconds);
        for probe in self.storage.probes().await? {
            let Some(last) = probe.last_poll_at else {
                continue;
            };
            if !probe.enabled {
                continue;
            }
            // Silence is counted from this process's start at the earliest, so a server that was
            // down itself does not call every probe offline when it comes back.
            let silent = now.seconds_since(last.max(self.started_at));
            match liveness_edge(offline.contains(probe.id.as_str()), silent, limit) {
                Some(LivenessEdge::Offline) => {
                    if self
                        .storage
                        .claim_probe_liveness(&probe.id, true, now)
                        .await?
                    {
                        self.enqueue(render::probe_offline(&probe, last, limit, now), None)
                            .await?;
                    }
                }
                Some(LivenessEdge::Back) => {
                    if self
                        .storage
                        .claim_probe_liveness(&probe.id, false, now)
                        .await?
                    {
                        self.enqueue(render::probe_back(&probe, None, now), None)
                            .await?;
                    }
                }
                None => {}
            }
        }
        Ok(())
    }

    async fn announce_held_incidents(
        &self,
        settings: &NotificationSettings,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        for incident in self.storage.unannounced_incidents().await? {
            let Some(connection) = self.storage.connection(&incident.connection_id).await? else {
                continue;
            };
            if !connection.enabled || self.in_maintenance(&connection.id, now).await? {
                continue;
            }
            let Some(probe) = self.storage.probe(&connection.probe_id).await? else {
                continue;
            };
            let result = match incident
                .result_id
                .as_deref()
                .map(netpulse_domain::id::ResultId::parse)
            {
                Some(Ok(id)) => self.storage.measurement(&id).await?,
                _ => None,
            };
            // The tick read the settings when it began; the master switch may have been turned
            // off since (held incidents are rare, so reading it again costs nothing).
            if !self.settings().await?.enabled {
                return Ok(());
            }
            let n = render::late_alert(
                &probe,
                &connection,
                result.as_ref(),
                incident.opened_at,
                now,
                settings.public_url.as_deref(),
            );
            self.enqueue(n, Some(&incident.id)).await?;
        }
        Ok(())
    }

    async fn digest_if_due(
        &self,
        settings: &NotificationSettings,
        period: DigestPeriod,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let Some(next) = settings.digest.next_slot(period, now, &self.calendar) else {
            return Ok(());
        };
        match self.storage.digest_slot(period).await? {
            None => {
                self.storage.claim_digest_slot(period, None, next).await?;
            }
            Some(slot) if slot <= now => {
                if self
                    .storage
                    .claim_digest_slot(period, Some(slot), next)
                    .await?
                {
                    self.send_digest(period, slot, now).await?;
                }
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Builds and queues the digest of the window ending at `until`; returns whether there was
    /// anything to tell.
    pub async fn send_digest(
        &self,
        period: DigestPeriod,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let from = until.plus_seconds(-period.window_seconds());
        let probes: BTreeMap<String, String> = self
            .storage
            .probes()
            .await?
            .into_iter()
            .map(|p| (p.id.to_string(), p.name.to_string()))
            .collect();
        let mut lines = Vec::new();
        for c in self.storage.connections(None).await? {
            let mut samples = Vec::new();
            let mut cursor = None;
            loop {
                let filter = MeasurementFilter {
                    connection: Some(c.id.clone()),
                    since: Some(from),
                    until: Some(until),
                    ..MeasurementFilter::default()
                };
                let page = self
                    .storage
                    .measurements(
                        &filter,
                        MeasurementSort::CompletedAsc,
                        1000,
                        cursor.as_deref(),
                    )
                    .await?;
                samples.extend(page.items.iter().map(|m| DigestSample {
                    failed: !m.observation.completed(),
                    healthy: m.verdict.healthy(),
                    download_bps: m.observation.download_bps,
                    upload_bps: m.observation.upload_bps,
                    ping_ms: m.observation.ping_ms,
                    packet_loss_percent: m.observation.packet_loss_percent,
                }));
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            if samples.is_empty() {
                continue;
            }
            let incidents: Vec<IncidentSpan> = self
                .storage
                .incidents(Some(&c.id), from, until)
                .await?
                .into_iter()
                .map(|i| IncidentSpan {
                    opened_at: i.opened_at,
                    closed_at: i.closed_at,
                })
                .collect();
            lines.push(render::DigestLine {
                probe: probes.get(c.probe_id.as_str()).cloned().unwrap_or_default(),
                connection: c.name.to_string(),
                summary: summarize(&samples, &incidents, from, until),
            });
        }
        if lines.is_empty() {
            tracing::info!(period = period.as_str(), "digest skipped: no data");
            return Ok(false);
        }
        self.enqueue(render::digest(period, &lines, from, until, now), None)
            .await
    }
}

/// One attempt: builds the channel and sends, mapping the result to an outcome.
async fn attempt(
    d: &ClaimedDelivery,
    config: Option<Result<ChannelConfig, String>>,
    http: &HttpClient,
) -> (AttemptOutcome, BTreeMap<String, String>) {
    let config = match config {
        None => {
            return (
                AttemptOutcome::Failed {
                    error: "the channel was deleted".into(),
                },
                BTreeMap::new(),
            );
        }
        Some(Err(e)) => return (AttemptOutcome::Failed { error: e }, BTreeMap::new()),
        Some(Ok(c)) => c,
    };
    let notifier = match build(&config, http) {
        Ok(n) => n,
        Err(e) => {
            return (
                AttemptOutcome::Failed {
                    error: e.to_string(),
                },
                config.secrets,
            );
        }
    };
    let result = tokio::time::timeout(SEND_TIMEOUT, notifier.send(&d.notification)).await;
    let outcome = match result {
        Ok(Ok(())) => AttemptOutcome::Sent,
        Ok(Err(e)) if e.retryable() => AttemptOutcome::Retry {
            at: Timestamp::EPOCH,
            error: e.to_string(),
        },
        Ok(Err(e)) => AttemptOutcome::Failed {
            error: e.to_string(),
        },
        Err(_) => AttemptOutcome::Retry {
            at: Timestamp::EPOCH,
            error: "timed out".into(),
        },
    };
    (outcome, config.secrets)
}

/// Schedules retries (or gives up after the last attempt) and redacts secrets from errors.
fn redact_outcome(
    outcome: AttemptOutcome,
    secrets: &BTreeMap<String, String>,
    d: &ClaimedDelivery,
    now: Timestamp,
) -> AttemptOutcome {
    match outcome {
        AttemptOutcome::Sent => AttemptOutcome::Sent,
        AttemptOutcome::Failed { error } => AttemptOutcome::Failed {
            error: redact(&error, secrets),
        },
        AttemptOutcome::Retry { error, .. } => match retry_delay_seconds(d.attempts) {
            Some(delay) => AttemptOutcome::Retry {
                at: now.plus_seconds(delay),
                error: redact(&error, secrets),
            },
            None => AttemptOutcome::Failed {
                error: format!(
                    "gave up after {} attempts: {}",
                    d.attempts,
                    redact(&error, secrets)
                ),
            },
        },
    }
}

/// Kinds a channel receives unless told otherwise: everything but tests.
pub fn default_events() -> Vec<NotificationKind> {
    NotificationKind::ALL
        .into_iter()
        .filter(|k| *k != NotificationKind::Test)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_from_errors() {
        let secrets = BTreeMap::from([
            ("token".to_owned(), "abc123".to_owned()),
            ("x".to_owned(), "ab".to_owned()),
        ]);
        assert_eq!(
            redact("bad token abc123 at ab", &secrets),
            "bad token [redacted] at ab"
        );
    }
}
