//! Persistence of notifications: settings, channels (secrets sealed by the caller), the
//! outbox and delivery log, incidents, maintenance windows, probe liveness, digest slots and the
//! housekeeping lease. Every "claim" is a conditional write, so several server processes on one
//! database never send the same thing twice.

use std::collections::BTreeMap;

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::notify::{DigestPeriod, DigestSchedule, QuietHours};

use crate::notify::{ChannelKind, Notification, NotificationKind};
use crate::storage::StorageError;

/// The global notification settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    /// The master switch: nothing but test messages is sent while off.
    pub enabled: bool,
    /// N and M for connections without their own.
    pub alerts: AlertPolicy,
    /// Alert when a probe stops polling.
    pub probe_offline: bool,
    /// Digests.
    pub digest: DigestSchedule,
    /// Delivery-log entries older than this many days are deleted.
    pub log_retention_days: u32,
    /// The base URL of the dashboard (for result links), e.g. `https://netpulse.example`.
    pub public_url: Option<String>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            alerts: AlertPolicy::default(),
            probe_offline: true,
            digest: DigestSchedule::default(),
            log_retention_days: 30,
            public_url: None,
        }
    }
}

/// A stored channel. Its secrets are sealed (encrypted) text the store never opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChannel {
    /// Its id (UUID text).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: ChannelKind,
    /// Whether it is used.
    pub enabled: bool,
    /// Plain settings.
    pub options: BTreeMap<String, String>,
    /// The sealed secrets (`None` when the channel has none).
    pub sealed_secrets: Option<String>,
    /// Names of the secrets that are set (never their values).
    pub secret_names: Vec<String>,
    /// Kinds of notification it receives (tests always go through).
    pub events: Vec<NotificationKind>,
    /// Quiet hours.
    pub quiet_hours: Option<QuietHours>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Held by the channel's quiet hours.
    Held,
    /// Being sent by a process (claimed).
    Sending,
    /// Delivered.
    Sent,
    /// Given up.
    Failed,
}

impl DeliveryStatus {
    /// The name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Held => "held",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Held,
            Self::Sending,
            Self::Sent,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A delivery to create with a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Its id.
    pub id: String,
    /// The channel.
    pub channel_id: String,
    /// `Pending` or `Held`.
    pub status: DeliveryStatus,
    /// Not before.
    pub next_attempt_at: Timestamp,
}

/// A delivery claimed for sending.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    /// Its id.
    pub id: String,
    /// The channel.
    pub channel_id: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// What to send.
    pub notification: Notification,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Delivered.
    Sent,
    /// Failed; try again at the given time.
    Retry {
        /// Next attempt.
        at: Timestamp,
        /// The (redacted) error.
        error: String,
    },
    /// Given up.
    Failed {
        /// The (redacted) error.
        error: String,
    },
}

/// One line of the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLogEntry {
    /// The delivery.
    pub id: String,
    /// The notification.
    pub notification_id: String,
    /// What it was about.
    pub kind: NotificationKind,
    /// Its subject.
    pub subject: String,
    /// The channel (its id, name and type as of now; the name is empty if it was deleted).
    pub channel_id: String,
    /// The channel's name.
    pub channel_name: String,
    /// The channel's type.
    pub channel_kind: Option<ChannelKind>,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt (pending or held).
    pub next_attempt_at: Option<Timestamp>,
    /// The last error.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// An incident: a connection's alert and, once it came, its recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// Its id.
    pub id: String,
    /// The connection.
    pub connection_id: ConnectionId,
    /// When the alert's result completed.
    pub opened_at: Timestamp,
    /// When the recovery's result completed.
    pub closed_at: Option<Timestamp>,
    /// Whether the alert was announced.
    pub announced: bool,
    /// The result that raised the alert.
    pub result_id: Option<String>,
}

/// A maintenance window of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMaintenance {
    /// Its id.
    pub id: String,
    /// The connection.
    pub connection_id: ConnectionId,
    /// Start.
    pub starts_at: Timestamp,
    /// End.
    pub ends_at: Timestamp,
    /// Why.
    pub note: String,
    /// Created.
    pub created_at: Timestamp,
}

/// Notification storage.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// The settings, `None` until first saved.
    async fn notification_settings(&self) -> Result<Option<NotificationSettings>, StorageError>;
    /// Saves the settings.
    async fn set_notification_settings(
        &self,
        settings: &NotificationSettings,
        at: Timestamp,
    ) -> Result<(), StorageError>;

    /// Stores a new channel.
    async fn create_channel(&self, channel: &StoredChannel) -> Result<(), StorageError>;
    /// Replaces a channel (all but id and creation time).
    async fn update_channel(&self, channel: &StoredChannel) -> Result<(), StorageError>;
    /// One channel.
    async fn channel(&self, id: &str) -> Result<Option<StoredChannel>, StorageError>;
    /// Every channel, by name.
    async fn channels(&self) -> Result<Vec<StoredChannel>, StorageError>;
    /// Deletes a channel and its pending deliveries (its log lines stay).
    async fn delete_channel(&self, id: &str) -> Result<(), StorageError>;

    /// Stores a notification and its deliveries in one transaction. With `announce`, the
    /// incident is first marked announced with a conditional write; if it already was, nothing
    /// is stored and `false` is returned.
    async fn enqueue_notification(
        &self,
        id: &str,
        notification: &Notification,
        deliveries: &[NewDelivery],
        announce: Option<&str>,
    ) -> Result<bool, StorageError>;
    /// Claims up to `limit` deliveries due at `now` (pending or held with `next_attempt_at <=
    /// now`, or sending with an expired claim), marking them sending until `claim_until` and
    /// counting the attempt. Two processes never claim the same delivery.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        claim_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StorageError>;
    /// Records how a claimed attempt ended.
    async fn finish_delivery(
        &self,
        id: &str,
        outcome: &AttemptOutcome,
        at: Timestamp,
    ) -> Result<(), StorageError>;
    /// The delivery log, newest first, before the delivery `before` (a cursor), at most `limit`.
    async fn delivery_log(
        &self,
        limit: u32,
        before: Option<&str>,
    ) -> Result<Vec<DeliveryLogEntry>, StorageError>;
    /// Deletes notifications created before `before` whose deliveries are all finished.
    async fn prune_notifications(&self, before: Timestamp) -> Result<u64, StorageError>;

    /// Takes or renews the lease `name` for `holder` until `until`, if it is free, expired at
    /// `now`, or already the holder's. Returns whether `holder` holds it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StorageError>;

    /// Probes known to be offline.
    async fn offline_probes(&self) -> Result<Vec<ProbeId>, StorageError>;
    /// Marks a probe offline (`true`) or back (`false`); returns whether this call changed it.
    async fn claim_probe_liveness(
        &self,
        probe: &ProbeId,
        offline: bool,
        at: Timestamp,
    ) -> Result<bool, StorageError>;

    /// Opens an incident.
    async fn open_incident(&self, incident: &Incident) -> Result<(), StorageError>;
    /// Closes the connection's open incident at `at` and returns it.
    async fn close_incident(
        &self,
        connection: &ConnectionId,
        at: Timestamp,
    ) -> Result<Option<Incident>, StorageError>;
    /// Open incidents that were not announced.
    async fn unannounced_incidents(&self) -> Result<Vec<Incident>, StorageError>;
    /// Incidents of a connection (every connection's when `None`) overlapping `[since, until)`.
    async fn incidents(
        &self,
        connection: Option<&ConnectionId>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Incident>, StorageError>;

    /// Stores a maintenance window (its connection must exist).
    async fn create_maintenance(&self, window: &StoredMaintenance) -> Result<(), StorageError>;
    /// Deletes a maintenance window.
    async fn delete_maintenance(&self, id: &str) -> Result<(), StorageError>;
    /// Windows of a connection (every connection's when `None`) overlapping `[since, until)`,
    /// by start.
    async fn maintenance_windows(
        &self,
        connection: Option<&ConnectionId>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<StoredMaintenance>, StorageError>;

    /// The next slot of a digest period, `None` until first scheduled.
    async fn digest_slot(&self, period: DigestPeriod) -> Result<Option<Timestamp>, StorageError>;
    /// Moves a period's next slot from `expected` (`None`: not scheduled yet) to `next`;
    /// returns whether this call did (exactly one process sends each slot's digest).
    async fn claim_digest_slot(
        &self,
        period: DigestPeriod,
        expected: Option<Timestamp>,
        next: Timestamp,
    ) -> Result<bool, StorageError>;
    /// Forgets the digest slots (after the schedule changed).
    async fn reset_digest_slots(&self) -> Result<(), StorageError>;
}
