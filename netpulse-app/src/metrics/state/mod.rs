//! What `/metrics` reports, kept in memory so that a scrape never reads the measurement history:
//!
//! - [`Results`] ([`results`]): the newest completed result per connection and per
//!   (connection, engine), and event counters (runs by engine, status and verdict). Loaded once
//!   at startup, then kept current by ingest (the metrics
//!   [`RecordListener`](netpulse_ports::listener::RecordListener)).
//! - [`Catalog`] ([`catalog`]): probes and connections with their state rows (names, `site`,
//!   plan, enabled, degraded, last poll), re-read at every scrape: one row per probe and per
//!   connection.
//! - the latest state row of each check and family ([`checks`]), re-read with the catalog:
//!   one row per check and family, never the check results.
//! - the state row of each outage series and its open episode ([`outages`]), re-read with the
//!   catalog: never the rounds or closed episodes.
//! - [`Frame`] ([`frame`]): every series of one scrape, built from both by [`build_frame`] (a
//!   pure function), and observed by the OpenTelemetry instruments of each [`Family`]
//!   ([`family`]).

pub mod catalog;
pub mod checks;
pub mod family;
pub mod frame;
pub mod outages;
pub mod results;

pub use self::catalog::{Catalog, CatalogConnection, CatalogProbe, ConnectionLabels};
pub use self::family::{Family, Kind};
pub use self::frame::{Frame, FrameSettings, MqttCounts, RemoteWriteCounts, Series, build_frame};
pub use self::results::{LatestResult, Results, Tally};
