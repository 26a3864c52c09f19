//! # netpulse-adapters
//!
//! Implementations of the ports in `netpulse-ports`, each behind a cargo feature so that the
//! agent never compiles sqlx, poem or tera:
//!
//! | feature | module | what |
//! |---|---|---|
//! | `parsers` | [`parse`] | engine output → [`netpulse_domain::measurement::Observation`] |
//! | `cron` | `cron_calendar` | the `CronCalendar` port with croner |
//! | `sqlite`, `postgres` | `storage` | the storage port on sqlx |
//! | `ookla`, `iperf3`, `http-engine` | `runners` | speed-test engines |
//! | `speedtest-target` | `speedtest_target` | the server endpoints the HTTP engine measures against |
//! | `wire` | `wire` | the agent wire contract: the `/due` answer and the result push (serde) |
//! | `wire` | `wire_checks` | the wire contract of connectivity checks (check set, check results) |
//! | `checks` | `checks` | the connectivity-check engines: ICMP, HTTP, DNS, TCP, UDP (agent only) |
//! | `agent-client` | `agent_client` | the agent's client of the server API |
//! | `notify-email`, `notify-webhook`, `notify-ntfy`, `notify-gotify`, `notify-discord`, `notify-slack`, `notify-telegram` | [`notify`] | notification channels (server only) |
//! | `mqtt` | `mqtt` | publishing to an MQTT broker (QoS 1, TLS, user/password, last will; server only) |
//! | `secrets` | `secrets` | channel secrets encrypted at rest |
#![deny(missing_docs)]

#[cfg(feature = "agent-client")]
pub mod agent_client;
#[cfg(feature = "checks")]
pub mod checks;
#[cfg(feature = "cron")]
pub mod cron_calendar;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(feature = "notify")]
pub mod notify;
#[cfg(feature = "parsers")]
pub mod parse;
#[cfg(any(feature = "ookla", feature = "iperf3", feature = "http-engine"))]
pub mod runners;
#[cfg(feature = "secrets")]
pub mod secrets;
#[cfg(feature = "speedtest-target")]
pub mod speedtest_target;
#[cfg(feature = "storage")]
pub mod storage;
#[cfg(feature = "test-support")]
pub mod testing;
#[cfg(all(feature = "test-support", feature = "mqtt"))]
pub mod testing_mqtt;
#[cfg(feature = "wire")]
pub mod wire;
#[cfg(feature = "wire")]
pub mod wire_checks;
