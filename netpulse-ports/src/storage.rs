//! Persistence of probes, connections, measurements, run-now requests, users, settings and API
//! tokens. One port, implemented twice (SQLite and PostgreSQL) and held to one contract suite.

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::{AlertEdge, AlertPolicy};
use netpulse_domain::due_work::RunNowRequest;
use netpulse_domain::id::{ApiTokenId, ConnectionId, ProbeId, ResultId, UserId};
use netpulse_domain::measurement::Observation;
use netpulse_domain::model::{Connection, ConnectionState, Measurement, Probe, RunPhase};
use netpulse_domain::pool::{Engine, PoolEntry};

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The thing does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for (`probe`, `connection`, …).
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The change conflicts with what is stored (e.g. deleting a probe that has connections).
    #[error("{0}")]
    Conflict(String),
    /// A stored value no longer passes validation.
    #[error("stored data is invalid: {0}")]
    Invalid(#[from] InvalidValue),
    /// The database could not be reached or failed. `message` says what failed (for sqlx
    /// errors, the driver's text); `source` keeps the cause for logs and callers.
    #[error("database unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

impl StorageError {
    /// The database failed without an underlying error value.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    /// The database failed with `source`; the message is `source`'s text.
    pub fn unavailable_from(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable {
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// The database failed with `source`, described by `context`.
    pub fn unavailable_with(
        context: &str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Unavailable {
            message: format!("{context}: {source}"),
            source: Some(Box::new(source)),
        }
    }
}

/// A SHA-256 digest of a secret token; tokens themselves are never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

/// What the agent API needs to authenticate a probe, and the probe's last recorded poll (so a
/// poll can be authenticated and debounced with one read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeCredentials {
    /// Whether the probe may poll and push.
    pub enabled: bool,
    /// Digest of its bearer token.
    pub token_digest: TokenDigest,
    /// When its last poll was recorded.
    pub last_poll_at: Option<Timestamp>,
    /// What the agent reported with that poll.
    pub poll_details: PollDetails,
}

/// Details an agent reports with a poll.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PollDetails {
    /// The agent's version.
    pub agent_version: Option<String>,
    /// Engines it can run.
    pub engines: Vec<Engine>,
}

/// Probes and their credentials.
#[async_trait]
pub trait ProbeStore: Send + Sync {
    /// Stores a new probe with the digest of its token.
    async fn create_probe(&self, probe: &Probe, token: &TokenDigest) -> Result<(), StorageError>;
    /// One probe.
    async fn probe(&self, id: &ProbeId) -> Result<Option<Probe>, StorageError>;
    /// Every probe, by name.
    async fn probes(&self) -> Result<Vec<Probe>, StorageError>;
    /// The probe's credentials, for authentication.
    async fn probe_credentials(
        &self,
        id: &ProbeId,
    ) -> Result<Option<ProbeCredentials>, StorageError>;
    /// Enables or disables a probe.
    async fn set_probe_enabled(&self, id: &ProbeId, enabled: bool) -> Result<(), StorageError>;
    /// Replaces the token digest; the old token stops working at once.
    async fn set_probe_token(&self, id: &ProbeId, token: &TokenDigest) -> Result<(), StorageError>;
    /// Deletes a probe; [`StorageError::Conflict`] while it still has connections.
    async fn delete_probe(&self, id: &ProbeId) -> Result<(), StorageError>;
    /// Records a poll unless one was recorded less than `debounce_seconds` ago (or the agent's
    /// details changed). Returns whether a write happened.
    async fn record_poll(
        &self,
        id: &ProbeId,
        at: Timestamp,
        details: &PollDetails,
        debounce_seconds: i64,
    ) -> Result<bool, StorageError>;
}

/// Connections.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Stores a new connection (its probe must exist) and its empty state.
    async fn create_connection(&self, connection: &Connection) -> Result<(), StorageError>;
    /// Replaces a connection's settings (probe and creation time are kept).
    async fn update_connection(&self, connection: &Connection) -> Result<(), StorageError>;
    /// One connection.
    async fn connection(&self, id: &ConnectionId) -> Result<Option<Connection>, StorageError>;
    /// Every connection, by probe then name; only one probe's when `probe` is given.
    async fn connections(&self, probe: Option<&ProbeId>) -> Result<Vec<Connection>, StorageError>;
    /// Enables or disables a connection; disabling cancels its queued run-now request.
    async fn set_connection_enabled(
        &self,
        id: &ConnectionId,
        enabled: bool,
    ) -> Result<(), StorageError>;
    /// Deletes a connection with its measurements, state and run-now requests.
    async fn delete_connection(&self, id: &ConnectionId) -> Result<(), StorageError>;
    /// The connection's scheduling state.
    async fn connection_state(
        &self,
        id: &ConnectionId,
    ) -> Result<Option<ConnectionState>, StorageError>;
}

/// One connection as the due calculation sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulingEntry {
    /// Its settings.
    pub connection: Connection,
    /// Its state.
    pub state: ConnectionState,
    /// Whether a run-now request waits to be taken (then call `take_run_requests`).
    pub run_queued: bool,
}

/// A run-now request taken by a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenRunRequest {
    /// The connection.
    pub connection_id: ConnectionId,
    /// The request.
    pub request: RunNowRequest,
}

/// The state of a connection's latest run-now request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunState {
    /// Its phase.
    pub phase: RunPhase,
    /// The pinned pool entry.
    pub pinned: Option<PoolEntry>,
    /// When it was requested.
    pub requested_at: Timestamp,
    /// When its phase last changed.
    pub updated_at: Timestamp,
}

/// What `/due` reads and the run-now requests it consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunScope<'a> {
    /// One connection.
    Connection(&'a ConnectionId),
    /// Every enabled connection.
    All,
}

/// Scheduling: reads that never touch the measurement history.
#[async_trait]
pub trait SchedulingStore: Send + Sync {
    /// Every connection of the probe with its state, in one read.
    async fn scheduling_entries(
        &self,
        probe: &ProbeId,
    ) -> Result<Vec<SchedulingEntry>, StorageError>;
    /// Queues a run-now request (replacing a queued one); returns the connections queued.
    /// A disabled connection is refused with [`StorageError::Conflict`].
    async fn request_run(
        &self,
        scope: RunScope<'_>,
        pinned: Option<&PoolEntry>,
        at: Timestamp,
    ) -> Result<Vec<ConnectionId>, StorageError>;
    /// Atomically takes the probe's queued requests (marking them running): two concurrent
    /// polls never take the same request. Requests of disabled connections are cancelled.
    async fn take_run_requests(
        &self,
        probe: &ProbeId,
        at: Timestamp,
    ) -> Result<Vec<TakenRunRequest>, StorageError>;
    /// The latest run-now request of a connection.
    async fn run_state(&self, id: &ConnectionId) -> Result<Option<RunState>, StorageError>;
}

/// A result to record, before the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingResult {
    /// Everything but the verdict, which recording computes.
    pub measurement: Measurement,
}

/// What recording did.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    /// Stored now, with the verdict and the alert edge it crossed (if any).
    Recorded {
        /// The stored measurement.
        measurement: Box<Measurement>,
        /// The edge crossed by this result.
        edge: Option<AlertEdge>,
    },
    /// The same result id was stored before; this is the stored one.
    AlreadyRecorded(Box<Measurement>),
}

impl RecordOutcome {
    /// The stored measurement.
    pub fn measurement(&self) -> &Measurement {
        match self {
            Self::Recorded { measurement, .. } | Self::AlreadyRecorded(measurement) => measurement,
        }
    }
}

/// Filters of the measurement list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeasurementFilter {
    /// Only this probe's.
    pub probe: Option<ProbeId>,
    /// Only this connection's.
    pub connection: Option<ConnectionId>,
    /// Only results from this tool-reported server id.
    pub server_id: Option<String>,
    /// Only completed (`true`) or failed (`false`).
    pub completed: Option<bool>,
    /// Only healthy (`true`) or unhealthy (`false`).
    pub healthy: Option<bool>,
    /// Only scheduled (`true`) or run-now (`false`).
    pub scheduled: Option<bool>,
    /// Completed at or after.
    pub since: Option<Timestamp>,
    /// Completed before.
    pub until: Option<Timestamp>,
}

/// Sort orders of the measurement list. Ties break on completion time, then id, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MeasurementSort {
    /// Newest first.
    #[default]
    CompletedDesc,
    /// Oldest first.
    CompletedAsc,
    /// Fastest download first.
    DownloadDesc,
    /// Slowest download first.
    DownloadAsc,
    /// Fastest upload first.
    UploadDesc,
    /// Slowest upload first.
    UploadAsc,
    /// Highest ping first.
    PingDesc,
    /// Lowest ping first.
    PingAsc,
    /// Highest jitter first.
    JitterDesc,
    /// Lowest jitter first.
    JitterAsc,
    /// Highest loss first.
    LossDesc,
    /// Lowest loss first.
    LossAsc,
}

impl MeasurementSort {
    /// Every order.
    pub const ALL: [Self; 12] = [
        Self::CompletedDesc,
        Self::CompletedAsc,
        Self::DownloadDesc,
        Self::DownloadAsc,
        Self::UploadDesc,
        Self::UploadAsc,
        Self::PingDesc,
        Self::PingAsc,
        Self::JitterDesc,
        Self::JitterAsc,
        Self::LossDesc,
        Self::LossAsc,
    ];

    /// The order's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CompletedDesc => "completed_at_desc",
            Self::CompletedAsc => "completed_at_asc",
            Self::DownloadDesc => "download_desc",
            Self::DownloadAsc => "download_asc",
            Self::UploadDesc => "upload_desc",
            Self::UploadAsc => "upload_asc",
            Self::PingDesc => "ping_desc",
            Self::PingAsc => "ping_asc",
            Self::JitterDesc => "jitter_desc",
            Self::JitterAsc => "jitter_asc",
            Self::LossDesc => "loss_desc",
            Self::LossAsc => "loss_asc",
        }
    }

    /// Reads an order name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One page of measurements and the cursor of the next page (opaque text).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementPage {
    /// The measurements.
    pub items: Vec<Measurement>,
    /// Pass this back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A stored raw output, for re-parsing.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRaw {
    /// The measurement.
    pub id: ResultId,
    /// The engine that produced it.
    pub engine: Engine,
    /// What the tool printed.
    pub raw: netpulse_domain::model::RawOutput,
}

/// Measurements.
#[async_trait]
pub trait MeasurementStore: Send + Sync {
    /// Records a result in one transaction: judges it with the connection's thresholds as they
    /// are now, stores it, advances the connection's state and alert debouncer (with the
    /// connection's own alert policy, else `default_alerts`), and completes its running run-now
    /// request. Idempotent on the result id.
    async fn record(
        &self,
        incoming: IncomingResult,
        default_alerts: &AlertPolicy,
    ) -> Result<RecordOutcome, StorageError>;
    /// One measurement.
    async fn measurement(&self, id: &ResultId) -> Result<Option<Measurement>, StorageError>;
    /// A page of measurements (`limit` 1–1000), filtered and sorted, continuing after `cursor`.
    async fn measurements(
        &self,
        filter: &MeasurementFilter,
        sort: MeasurementSort,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<MeasurementPage, StorageError>;
    /// Raw outputs in id order after `after`, for `measurements reparse`.
    async fn raw_outputs(
        &self,
        after: Option<&ResultId>,
        limit: u32,
    ) -> Result<Vec<StoredRaw>, StorageError>;
    /// Replaces the typed columns of a measurement with a fresh parse of its raw output (the
    /// verdict recorded at ingest is kept).
    async fn replace_observation(
        &self,
        id: &ResultId,
        observation: &Observation,
    ) -> Result<(), StorageError>;
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The e-mail address (lower-case, unique).
    pub email: String,
    /// The password hash (PHC string, argon2id).
    pub password_hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Its role (what it may do, checked on every request).
    pub role: netpulse_domain::access::Role,
    /// A disabled account cannot sign in, and its sessions and tokens stop working.
    pub disabled: bool,
    /// The name shown instead of the e-mail, if set.
    pub display_name: Option<String>,
}

/// User accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user; [`StorageError::Conflict`] when the e-mail is taken.
    async fn create_user(&self, user: &User) -> Result<(), StorageError>;
    /// A user by e-mail (case-insensitive).
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StorageError>;
    /// Replaces a user's password hash.
    async fn set_password_hash(&self, id: &UserId, hash: &str) -> Result<(), StorageError>;
    /// How many users exist.
    async fn user_count(&self) -> Result<u64, StorageError>;
}

/// Key-value settings.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// A setting's value.
    async fn setting(&self, key: &str) -> Result<Option<String>, StorageError>;
    /// Sets a setting.
    async fn set_setting(&self, key: &str, value: &str, at: Timestamp) -> Result<(), StorageError>;
}

/// A REST API token (the token itself is shown once and stored as a digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: ApiTokenId,
    /// What it is for.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// Its owner (`None` for a service token made with `netpulse token create` without
    /// `--user`: it is limited by its scopes only).
    pub user_id: Option<UserId>,
    /// What it may do at most (further limited by its owner's current role).
    pub scopes: Vec<netpulse_domain::access::Permission>,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// The client address of its last use.
    pub last_used_ip: Option<String>,
}

/// REST API tokens.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// Stores a new token's digest.
    async fn create_api_token(
        &self,
        token: &ApiToken,
        digest: &TokenDigest,
    ) -> Result<(), StorageError>;
    /// Every token.
    async fn api_tokens(&self) -> Result<Vec<ApiToken>, StorageError>;
    /// The token with this digest (a SHA-256 of a 256-bit random secret: looking it up by
    /// equality leaks nothing useful).
    async fn api_token_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<ApiToken>, StorageError>;
    /// Revokes (deletes) a token.
    async fn revoke_api_token(&self, id: &ApiTokenId) -> Result<(), StorageError>;
    /// Records that the token was used at `at` from `ip` (a revoked token is ignored).
    async fn set_api_token_last_used(
        &self,
        id: &ApiTokenId,
        at: Timestamp,
        ip: Option<&str>,
    ) -> Result<(), StorageError>;
}

/// Health of the database itself.
#[async_trait]
pub trait StorageHealth: Send + Sync {
    /// Checks that the database answers and takes a write: a write transaction that changes
    /// nothing and is rolled back.
    async fn ping(&self) -> Result<(), StorageError>;
}

/// The whole storage port.
pub trait Storage:
    ProbeStore
    + ConnectionStore
    + SchedulingStore
    + MeasurementStore
    + UserStore
    + SettingsStore
    + ApiTokenStore
    + StorageHealth
    + crate::notification_store::NotificationStore
    + crate::metrics_store::MetricsStore
    + crate::web_store::WebStore
    + crate::check_store::CheckStore
    + crate::work_signal::WorkSignalStore
    + crate::rollup_store::RollupStore
    + crate::fleet_store::FleetStore
    + crate::access_store::AccessStore
    + crate::outage_store::OutageStore
    + crate::status_store::StatusStore
    + crate::alerting_store::AlertingStore
    + crate::retention_store::RetentionStore
    + crate::baseline_store::BaselineStore
    + crate::two_factor_store::TwoFactorStore
{
}

impl<T> Storage for T where
    T: ProbeStore
        + ConnectionStore
        + SchedulingStore
        + MeasurementStore
        + UserStore
        + SettingsStore
        + ApiTokenStore
        + StorageHealth
        + crate::notification_store::NotificationStore
        + crate::metrics_store::MetricsStore
        + crate::web_store::WebStore
        + crate::check_store::CheckStore
        + crate::work_signal::WorkSignalStore
        + crate::rollup_store::RollupStore
        + crate::fleet_store::FleetStore
        + crate::access_store::AccessStore
        + crate::outage_store::OutageStore
        + crate::status_store::StatusStore
        + crate::alerting_store::AlertingStore
        + crate::retention_store::RetentionStore
        + crate::baseline_store::BaselineStore
        + crate::two_factor_store::TwoFactorStore
{
}
