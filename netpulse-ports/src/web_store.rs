//! What the web dashboard stores and reads: sessions, sign-in throttling, public share links,
//! and the read models of the dashboard, history, heatmap and servers pages.
//!
//! Every read is bounded by what a page shows, not by the size of the history: per-connection
//! "latest" data comes from the `connection_state` row, lists are keyset-paginated, and
//! aggregates run over indexed time windows.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::degradation::HealthSample;
use netpulse_domain::id::{ConnectionId, ResultId, UserId};
use netpulse_domain::model::{Connection, ConnectionState, Measurement};

use crate::storage::{MeasurementFilter, RunState, StorageError, TokenDigest};

/// A session to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the cookie's secret.
    pub digest: TokenDigest,
    /// Who signed in.
    pub user_id: UserId,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it ends at the latest.
    pub expires_at: Timestamp,
}

/// A stored session with its user's e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Who signed in.
    pub user_id: UserId,
    /// Their e-mail address.
    pub email: String,
    /// Their current role (read with the session on every request).
    pub role: netpulse_domain::access::Role,
    /// Whether their account is disabled (such a session is refused).
    pub disabled: bool,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last used (written at most once a minute).
    pub last_seen_at: Timestamp,
    /// When it ends at the latest.
    pub expires_at: Timestamp,
}

/// Browser sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session.
    async fn create_session(&self, session: &NewSession) -> Result<(), StorageError>;
    /// The session with this digest, if it exists.
    async fn session(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StorageError>;
    /// Records that the session was used.
    async fn touch_session(&self, digest: &TokenDigest, at: Timestamp) -> Result<(), StorageError>;
    /// Ends a session (no error when it does not exist).
    async fn delete_session(&self, digest: &TokenDigest) -> Result<(), StorageError>;
    /// Ends every session of a user (after a password change).
    async fn delete_user_sessions(&self, user: &UserId) -> Result<(), StorageError>;
    /// Deletes sessions past their expiry or idle since before `idle_before`; returns how many.
    async fn delete_stale_sessions(
        &self,
        now: Timestamp,
        idle_before: Timestamp,
    ) -> Result<u64, StorageError>;
}

pub use netpulse_domain::throttle::{ThrottleRule, ThrottleState};

/// Failed sign-ins per account and per address.
#[async_trait]
pub trait LoginThrottleStore: Send + Sync {
    /// The key's state, if it has failures.
    async fn throttle_state(&self, key: &str) -> Result<Option<ThrottleState>, StorageError>;
    /// Counts a failure atomically and returns the new state.
    async fn record_login_failure(
        &self,
        key: &str,
        at: Timestamp,
        rule: ThrottleRule,
    ) -> Result<ThrottleState, StorageError>;
    /// Forgets a key's failures (after a successful sign-in).
    async fn clear_login_failures(&self, key: &str) -> Result<(), StorageError>;
}

/// A public link to one result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    /// The token in `/r/{token}`.
    pub token: String,
    /// The result.
    pub measurement_id: ResultId,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Public share links.
#[async_trait]
pub trait ShareLinkStore: Send + Sync {
    /// Stores a link; [`StorageError::NotFound`] when the measurement does not exist.
    async fn create_share_link(&self, link: &ShareLink) -> Result<(), StorageError>;
    /// The links of a measurement, oldest first.
    async fn share_links_of(&self, measurement: &ResultId) -> Result<Vec<ShareLink>, StorageError>;
    /// The measurement a live link points to.
    async fn shared_measurement(&self, token: &str) -> Result<Option<Measurement>, StorageError>;
    /// Revokes (deletes) a link; [`StorageError::NotFound`] when there is none.
    async fn revoke_share_link(&self, token: &str) -> Result<(), StorageError>;
}

/// A connection as the dashboard lists it: settings, probe, and state, read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionOverview {
    /// Its settings.
    pub connection: Connection,
    /// Its probe's name.
    pub probe_name: String,
    /// When its probe last polled.
    pub probe_last_poll_at: Option<Timestamp>,
    /// Its scheduling and health state.
    pub state: ConnectionState,
    /// How many results it has.
    pub measurement_count: u64,
}

/// The figures of one result that charts and heatmaps use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesSample {
    /// When it completed.
    pub at: Timestamp,
    /// Download, bits/s.
    pub download_bps: Option<f64>,
    /// Upload, bits/s.
    pub upload_bps: Option<f64>,
    /// Ping, ms.
    pub ping_ms: Option<f64>,
    /// Jitter, ms.
    pub jitter_ms: Option<f64>,
    /// Packet loss, percent.
    pub packet_loss_percent: Option<f64>,
    /// Its health sample.
    pub sample: HealthSample,
}

/// Counts over a window of one connection's results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowCounts {
    /// Results (any status).
    pub tests: u64,
    /// Healthy results.
    pub healthy: u64,
    /// Failed results.
    pub failed: u64,
}

impl WindowCounts {
    /// Unhealthy results, failed ones included.
    pub const fn incidents(&self) -> u64 {
        self.tests - self.healthy
    }
}

/// A cheap summary that changes whenever a result is recorded or a run-now request moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangeCursor {
    /// Results recorded so far.
    pub measurements: u64,
    /// The newest completion time of any connection.
    pub latest_at: Option<Timestamp>,
    /// The newest change of any run-now request.
    pub runs_updated_at: Option<Timestamp>,
}

/// A server seen in results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenServer {
    /// The tool-reported server id.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its location.
    pub location: Option<String>,
}

/// Averages of one server over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSummary {
    /// The server.
    pub server: SeenServer,
    /// Mean download, bits/s.
    pub download_bps: Option<f64>,
    /// Mean upload, bits/s.
    pub upload_bps: Option<f64>,
    /// Mean ping, ms.
    pub ping_ms: Option<f64>,
    /// Mean packet loss, percent.
    pub packet_loss_percent: Option<f64>,
    /// Results (any status).
    pub tests: u64,
    /// Healthy results.
    pub healthy: u64,
    /// The newest result.
    pub last_seen: Timestamp,
}

/// One row of the CSV export (identifying fields are looked up by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    /// The result.
    pub id: ResultId,
    /// Its connection.
    pub connection_id: ConnectionId,
    /// When it completed.
    pub completed_at: Timestamp,
    /// The engine.
    pub engine: String,
    /// The server id, name and location.
    pub server: SeenServer,
    /// Scheduled (`true`) or run-now.
    pub scheduled: bool,
    /// Download, bits/s.
    pub download_bps: Option<f64>,
    /// Upload, bits/s.
    pub upload_bps: Option<f64>,
    /// Ping, ms.
    pub ping_ms: Option<f64>,
    /// Jitter, ms.
    pub jitter_ms: Option<f64>,
    /// Packet loss, percent.
    pub packet_loss_percent: Option<f64>,
    /// Whether it completed.
    pub completed: bool,
    /// Whether it was healthy.
    pub healthy: bool,
    /// Breach codes, comma-separated.
    pub breaches: String,
    /// Why it failed.
    pub failure: Option<String>,
}

/// Where the CSV export continues: after this row, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPosition {
    /// The row's completion time.
    pub completed_at: Timestamp,
    /// The row's id.
    pub id: ResultId,
}

/// The read models of the dashboard pages.
#[async_trait]
pub trait DashboardStore: Send + Sync {
    /// Every connection with its probe and state (by probe name, then connection name).
    async fn connection_overviews(&self) -> Result<Vec<ConnectionOverview>, StorageError>;
    /// The figures of a connection's results with `since <= completed_at < until`, oldest first.
    async fn series_samples(
        &self,
        connection: &ConnectionId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<SeriesSample>, StorageError>;
    /// The connection's newest completed result.
    async fn latest_completed(
        &self,
        connection: &ConnectionId,
    ) -> Result<Option<Measurement>, StorageError>;
    /// The connection's newest `limit` results' health, newest first.
    async fn recent_samples(
        &self,
        connection: &ConnectionId,
        limit: u32,
    ) -> Result<Vec<(Timestamp, HealthSample)>, StorageError>;
    /// Counts over `since <= completed_at < until`.
    async fn window_counts(
        &self,
        connection: &ConnectionId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<WindowCounts, StorageError>;
    /// What changes whenever something on the dashboard may have.
    async fn change_cursor(&self) -> Result<ChangeCursor, StorageError>;
    /// Run-now requests still queued or running, and those finished since `done_since`.
    async fn recent_runs(
        &self,
        done_since: Timestamp,
    ) -> Result<Vec<(ConnectionId, RunState)>, StorageError>;
    /// How many results match the filter.
    async fn count_measurements(&self, filter: &MeasurementFilter) -> Result<u64, StorageError>;
    /// The servers seen in results completed at or after `since`, by name.
    async fn servers_seen(&self, since: Timestamp) -> Result<Vec<SeenServer>, StorageError>;
    /// Per-server averages over `since <= completed_at < until`.
    async fn server_summaries(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<ServerSummary>, StorageError>;
    /// Up to `limit` export rows matching the filter, newest first, after `after`.
    async fn export_rows(
        &self,
        filter: &MeasurementFilter,
        after: Option<&ExportPosition>,
        limit: u32,
    ) -> Result<Vec<ExportRow>, StorageError>;
}

/// Everything the web dashboard needs from storage (part of the `Storage` port).
pub trait WebStore: SessionStore + LoginThrottleStore + ShareLinkStore + DashboardStore {}

impl<T> WebStore for T where T: SessionStore + LoginThrottleStore + ShareLinkStore + DashboardStore {}
