//! # netpulse-domain
//!
//! NetPulse's rules, in plain synchronous Rust with no dependency at all: when a link is tested
//! ([`due_work`]), how a result is judged ([`health`]), when a link is degraded
//! ([`degradation`]), what badge it wears ([`status`]), when people are told ([`alert`]), and the
//! statistics dashboards and reports use ([`stats`]). What recording one result changes is
//! decided in [`ingest`]; how failed sign-ins lock a key in [`throttle`]; when the internet was
//! down, for how long and how badly in [`outage`]; a series' learned normal in [`baseline`];
//! mergeable buckets and quantile sketches in [`rollup`].
//!
//! The semantics follow the PHP NetPulse (see `shared/reference/netpulse-php-behaviour.md`)
//! except for these deliberate differences:
//!
//! - **Rotation** keys on the pool entry the last task *requested*, stored with the measurement,
//!   so `host:port` pools rotate (PHP keyed on the tool-reported server id, §11.1).
//! - **Run-now pins** are honoured even when the connection is also due on schedule (§11.2).
//! - **Degradation** honours `recovery_healthy_count`: a link stays degraded until that many
//!   healthy results follow the newest unhealthy one (PHP: the first healthy result ended it,
//!   §11.4). So `[healthy, unhealthy]` with a count of 3 is degraded here, not in PHP.
//! - **Cron** expressions are a list, never comma-split, and are evaluated in the connection's
//!   time zone (§11.6, §11.7). A degraded cron connection is due on its shortened interval *or*
//!   on a cron tick, whichever comes first.
//! - **Unknown figures** (packet loss the tool could not measure, the upload of a download-only
//!   run) are unknown: never stored as 0 and never a breach (§11.9). The ratio floor is rounded
//!   to whole bits so a result exactly at the floor is healthy.
//! - **Packet loss** is a percentage everywhere (results and the cap), as the tools report it.
//! - **Alerts** come from a state machine ([`alert::AlertState`]) instead of re-reading the last
//!   N+1 results: alerts and recoveries strictly alternate, M healthy results (default 1) are
//!   needed to recover, and an unjudged result between an alert and the next healthy result no
//!   longer swallows the recovery (the §5.2 example `[H, null, U, U, U]` gives a recovery here).
//! - **Late results** change no live state: the last run, the degradation history (status,
//!   degraded flag) and the alert debouncer advance only on a result not older than the newest
//!   one applied (one completed in the same millisecond is not late, whichever arrives first).
//!   A late result is judged and stored, but sends no alert or recovery and moves no incident
//!   (see "Late results" in [`ingest`]).
//! - **Status** uses each connection's own degraded flag (no (probe, connection) name
//!   collisions, §11.11).
//! - **Even schedules** accept at most 1,440 tests a day (one a minute).
#![deny(missing_docs)]

pub mod access;
pub mod access_token;
pub mod agent_state;
pub mod alert;
pub mod baseline;
pub mod chart_line;
pub mod check;
pub mod contact_list;
pub mod crc32;
pub mod cron_fields;
pub mod degradation;
pub mod diagnostic;
pub mod due_work;
pub mod error;
pub mod health;
pub mod id;
pub mod incident_severity;
pub mod ingest;
pub mod liveness;
pub mod measurement;
pub mod model;
pub mod mqtt;
pub mod notify;
pub mod notify_settings;
pub mod outage;
pub mod pool;
pub mod probe_maintenance;
pub mod registration;
pub mod report;
pub mod retention;
pub mod rollup;
pub mod schedule;
pub mod stats;
pub mod status;
pub mod throttle;
pub mod time;
pub mod trace;
pub mod two_factor;
pub mod values;
pub mod wording;

pub use error::InvalidValue;
pub use time::Timestamp;
