//! The built-in HTTP engine: measures latency, download and upload against an HTTP(S) server,
//! with no external tool.
//!
//! # Pool entries and flavours
//!
//! The pool entry is the base URL, `http://…` or `https://…`. Three server flavours are
//! supported; `{base}` is the entry without its query, without a trailing `/`:
//!
//! | flavour | chosen when | idle/loaded ping | download | upload |
//! |---|---|---|---|---|
//! | `netpulse` | otherwise (the default) | `GET {base}/speedtest/ping` | `GET {base}/speedtest/down?bytes=N` | `POST {base}/speedtest/up` |
//! | `librespeed` | the path ends with `/backend` | `GET {base}/empty.php` | `GET {base}/garbage.php?ckSize=M` | `POST {base}/empty.php` |
//! | `cloudflare` | the host is `speed.cloudflare.com` | `GET {base}/__down?bytes=0` | `GET {base}/__down?bytes=N` | `POST {base}/__up` |
//!
//! A query `?flavour=netpulse|librespeed|cloudflare` overrides the choice (and is removed
//! from `{base}`). Any other query parameter, a fragment, or a URL without a host is a
//! `configuration` error. `N` is [`HttpEngineConfig::download_request_bytes`]; for
//! LibreSpeed, `M` is that size in MiB, rounded up, between 1 and 1024. The `netpulse` flavour
//! is what `crate::speedtest_target::routes` serves (feature `speedtest-target`).
//!
//! # Measurement
//!
//! Two HTTP/1.1 clients are used (no proxy, so the path measured is the direct one): one for
//! latency and one for the load. Both bind the request's source address/interface if given.
//!
//! 1. **Idle latency.** One untimed ping opens (and warms) a connection, then
//!    [`HttpEngineConfig::ping_samples`] sequential pings on it are timed from sending the
//!    request to receiving the response headers. `ping_ms` is their median, `jitter_ms` the
//!    mean absolute difference of consecutive samples (`null` with a single sample),
//!    `low_ms`/`high_ms` min and max (see [`HttpLatency::from_samples`]).
//! 2. **Download.** [`HttpEngineConfig::streams`] parallel streams (each its own connection)
//!    issue download requests back to back for [`HttpEngineConfig::duration`], counting body
//!    bytes as they arrive. Bytes received during the first [`HttpEngineConfig::warmup`] are
//!    not counted: `bytes` is what arrived after the warm-up, `seconds` the time from the end
//!    of the warm-up to the end of the phase, `bits_per_second = bytes × 8 / seconds`.
//!    Meanwhile (after the warm-up) the latency client pings every
//!    [`HttpEngineConfig::loaded_ping_interval`]; `latency_ms` is the median of those pings
//!    (`null` when none completed in the phase).
//! 3. **Upload.** The same with `POST` requests of
//!    [`HttpEngineConfig::upload_request_bytes`] each, streamed from one reusable random
//!    buffer in 64 KiB chunks; a chunk counts as sent when the HTTP client takes it.
//!
//! Requests in flight when a phase ends are dropped. The whole test must finish within the
//! request's timeout, otherwise it stops with error class `timeout`, keeping the phases that
//! completed.
//!
//! # Output
//!
//! stdout is one JSON line, an [`HttpEngineReport`] (the type the server's parser,
//! [`crate::parse::http`], reads: the engine reuses it so that the two cannot drift apart):
//!
//! ```json
//! {"engine":"netpulse-http","version":1,"target":"https://speed.example/","flavour":"netpulse","streams":4,
//!  "latency":{"samples_ms":[…],"ping_ms":3.1,"jitter_ms":0.4,"low_ms":2.8,"high_ms":4.0},
//!  "download":{"bytes":…,"seconds":8.0,"bits_per_second":…,"warmup_seconds":2.0,"latency_ms":12.5},
//!  "upload":{…},"error":null}
//! ```
//!
//! `latency`, `download` and `upload` are `null` when not measured; `error` is `null` or
//! `{"class":…,"message":…}` with class `configuration` (bad URL or settings), `network`
//! (connecting, sending or receiving failed, or a request timed out), `timeout` (the test's
//! time ran out) or `other` (e.g. the server answered with an error status). A password in the
//! URL is shown as `***` in `target`. stderr is a one-line human summary (no agent marker
//! lines: the report's `error` is the engine's own account of the failure). The exit code is
//! `Some(0)` on success and `Some(1)` when `error` is set.
//!
//! # Layout
//!
//! - `config.rs`: the engine's settings ([`HttpEngineConfig`]).
//! - `target.rs`: the pool entry read as a base URL and a flavour ([`HttpTarget`]).
//! - `runner.rs`: the engine ([`HttpRunner`]) and its phases.
//! - `requests.rs`: the requests it makes: pings, download and upload streams.
//! - `report.rs`: the report's errors, figures and stderr summary.

mod config;
mod report;
mod requests;
mod runner;
mod target;

pub use config::{HttpEngineConfig, MAX_REQUEST_BYTES};
pub use report::flavour_name;
pub use runner::HttpRunner;
pub use target::HttpTarget;
