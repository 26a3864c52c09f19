//! # netpulse-app
//!
//! The `netpulse` server: the agent API, the REST API with its OpenAPI document, the web
//! dashboard ([`web`]), [`metrics`] (`/metrics`, remote write, OTLP), notifications and the admin
//! command line, over the storage adapters. The binary (`src/main.rs`) is a thin wrapper around
//! [`cli::main`]; [`startup`] is the composition root, and tests spawn [`startup::run`] on
//! port 0.
#![deny(missing_docs)]

pub mod bench;
pub mod bench_checks;
pub mod body;
pub mod check_dto;
pub mod cli;
pub mod dto;
pub mod error;
pub mod http;
pub mod ids;
pub mod metrics;
pub mod mqtt;
pub mod notify;
pub mod outage_dto;
pub mod respond;
pub mod service;
pub mod startup;
pub mod status_dto;
pub mod tokens;
pub mod web;
