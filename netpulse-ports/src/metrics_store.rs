//! Reads for the metrics exporter: a light catalog of connections read at every scrape (never
//! the measurement history), and the startup snapshot (newest completed result per connection
//! and engine, run counts) that the exporter then keeps current from ingest.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::degradation::{AdaptivePolicy, HealthHistory};
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::Measurement;
use netpulse_domain::pool::Engine;
use netpulse_domain::values::ExpectedSpeed;

use crate::storage::StorageError;

/// What `/metrics` needs to know about one connection, read from the connection and its state
/// row only (cost: one row per connection, whatever the history holds).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConnection {
    /// Its id.
    pub id: ConnectionId,
    /// Its probe.
    pub probe_id: ProbeId,
    /// Its display name.
    pub name: String,
    /// The ISP as the user names it.
    pub isp: String,
    /// The plan.
    pub expected: ExpectedSpeed,
    /// Whether it is tested.
    pub enabled: bool,
    /// Its adaptive policy (for the degraded predicate).
    pub adaptive: AdaptivePolicy,
    /// Its recent verdicts, newest first.
    pub history: HealthHistory,
    /// When its newest completed result finished.
    pub last_completed_at: Option<Timestamp>,
}

/// How many results of one kind a connection has.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeasurementTally {
    /// The connection.
    pub connection_id: ConnectionId,
    /// The engine that produced them.
    pub engine: Engine,
    /// Completed (`true`) or failed (`false`).
    pub completed: bool,
    /// The verdict at ingest.
    pub healthy: bool,
    /// How many.
    pub count: u64,
}

/// Reads of the metrics exporter.
#[async_trait]
pub trait MetricsStore: Send + Sync {
    /// Every connection with the state `/metrics` reports, by probe, name and id.
    async fn metrics_connections(&self) -> Result<Vec<MetricsConnection>, StorageError>;

    /// The newest completed result of every (connection, engine) pair that has one (newest by
    /// completion time, then id). The raw tool output is left empty: the exporter never needs
    /// it, and it is the bulk of a row.
    async fn latest_completed_per_engine(&self) -> Result<Vec<Measurement>, StorageError>;

    /// Run counts per connection, engine, status and verdict (read once, at startup).
    async fn measurement_tallies(&self) -> Result<Vec<MeasurementTally>, StorageError>;
}
