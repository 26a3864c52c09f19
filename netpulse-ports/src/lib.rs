//! # netpulse-ports
//!
//! The asynchronous interfaces NetPulse's services depend on, implemented in
//! `netpulse-adapters`: [`storage`], [`runner`] (speed-test engines), [`notify`], [`clock`] and
//! [`agent_api`] (the agent's view of the server). Each port is small and named after what it
//! does; each has its own error enum.
#![deny(missing_docs)]

pub mod access_store;
pub mod agent_api;
pub mod alerting_store;
pub mod baseline_store;
pub mod check_store;
pub mod clock;
pub mod fleet_store;
pub mod listener;
pub mod metrics_store;
pub mod notification_store;
pub mod notify;
pub mod outage_store;
pub mod retention_store;
pub mod rollup_store;
pub mod runner;
pub mod status_store;
pub mod storage;
pub mod two_factor_store;
pub mod web_store;
pub mod work_signal;
