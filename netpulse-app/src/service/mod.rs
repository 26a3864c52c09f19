//! The application services: what the server does, shared by the HTTP API and the admin CLI.
//! Each takes the [`App`] and returns domain values or an [`AppError`](crate::error::AppError).

pub mod access;
pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod baselines;
pub mod check_baselines;
pub mod check_params;
pub mod check_results;
pub mod checks;
pub mod connection_checks;
pub mod connections;
pub mod connectivity;
pub mod dashboard_failures;
pub mod due;
pub mod flash;
pub mod fleet;
pub mod health;
pub mod ingest;
pub mod jwt;
pub mod local_agent;
pub mod long_poll;
pub mod measurements;
pub mod mqtt;
pub mod notifications;
pub mod outage_board;
pub mod outages;
pub mod passwords;
pub mod probe_maintenance;
pub mod probes;
pub mod registration;
pub mod reparse;
pub mod retention;
pub mod rollup_reads;
pub mod rollups;
pub mod route_rules;
pub mod run_feedback;
pub mod runs;
pub mod server_averages;
pub mod sessions;
pub mod settings;
pub mod status;
pub mod two_factor;
pub mod users;
pub mod wakeups;

use std::sync::Arc;

use netpulse_adapters::cron_calendar::CronerCalendar;
use netpulse_domain::alert::AlertPolicy;
use netpulse_ports::clock::Clock;
use netpulse_ports::storage::Storage;

/// Seconds between two recorded polls of one probe (writes are debounced).
pub const POLL_DEBOUNCE_SECONDS: i64 = 30;

/// Everything the services need.
#[derive(Clone)]
pub struct App {
    /// The database.
    pub storage: Arc<dyn Storage>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Cron evaluation.
    pub calendar: CronerCalendar,
    /// What `/due` tells agents about when to poll again, seconds.
    pub poll_interval_seconds: u32,
    /// Alert thresholds for connections without their own.
    pub default_alerts: AlertPolicy,
    /// Told about each recorded measurement.
    pub listeners: Vec<Arc<dyn RecordListener>>,
    /// Notification channels, settings and the delivery log (`None`: not configured, e.g. the
    /// admin CLI; the notification API then answers 503).
    pub notifications: Option<Arc<crate::notify::Notifications>>,
    /// Wake-ups of long-polling agents (`/due?wait=`).
    pub wakeups: Arc<wakeups::Wakeups>,
    /// The MQTT / Home Assistant integration (`None`: not running in this process, e.g. the
    /// admin CLI; its settings API then answers 503).
    pub mqtt: Option<Arc<crate::mqtt::Mqtt>>,
    /// The secret key of values sealed at rest (TOTP secrets, the JWT signing keys; `None`:
    /// not loaded in this process, e.g. the admin CLI: enrolment and JWTs then answer 503).
    pub secrets: Option<Arc<netpulse_adapters::secrets::SecretBox>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("poll_interval_seconds", &self.poll_interval_seconds)
            .finish_non_exhaustive()
    }
}

pub use crate::ids::new_uuid;
pub use netpulse_ports::listener::RecordListener;
