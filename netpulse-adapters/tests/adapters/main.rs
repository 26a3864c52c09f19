//! The integration tests of `netpulse-adapters`, in one binary. Each module needs the features
//! of the adapters it tests; the crate's self dev-dependency enables all of them, so
//! `cargo test -p netpulse-adapters` runs every module, as `cargo test --workspace` does.
//!
//! - `storage`: the storage contract on SQLite and PostgreSQL (`NETPULSE_TEST_PG_URL`).
//! - `notify_channels`: every notification channel against loopback receivers;
//!   `notify_incident_tools`: PagerDuty and Opsgenie against receivers checking the documented
//!   shapes; `notify_alertmanager`: against a real `prometheus-alertmanager`.
//! - `mqtt`: the MQTT publisher against a real `mosquitto` started on a loopback port.
//! - `runners_ookla`, `runners_iperf3`, `runners_http`: the speed-test runners against fake
//!   CLIs (`tests/fake-tools/`), a real `iperf3 -s`, and the built-in speed-test target.
//! - `checks_netns`: the connectivity-check engines in a test network of namespaces
//!   (`netns`; needs root, `ip`, `nft`, `dnsmasq`, `python3`, `setpriv`).

#[cfg(feature = "checks")]
mod checks_netns;
#[cfg(all(feature = "mqtt", feature = "test-support"))]
mod mqtt;
#[cfg(feature = "checks")]
mod netns;
#[cfg(all(feature = "notify-all", feature = "secrets"))]
mod notify_alertmanager;
#[cfg(all(feature = "notify-all", feature = "secrets"))]
mod notify_channels;
#[cfg(all(feature = "notify-all", feature = "secrets"))]
mod notify_incident_tools;
#[cfg(all(feature = "http-engine", feature = "speedtest-target"))]
mod runners_http;
#[cfg(feature = "iperf3")]
mod runners_iperf3;
#[cfg(feature = "ookla")]
mod runners_ookla;
#[cfg(feature = "test-support")]
mod storage;
