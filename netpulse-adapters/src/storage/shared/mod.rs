//! The storage ports, written once for both databases. This module is compiled twice: as
//! `sqlite::shared` and as `postgres::shared` (see the module doc of `storage`); its parent
//! provides `Db`, `Store`, `begin_write` and `LOCK`.

use super::{Db, LOCK, RESULTS_TABLE_EXISTS, Store, begin_write};
use super::{notify_work, work_listener};

mod access;
mod accounts;
mod alerting;
mod baselines;
mod binds;
mod check_blocks;
mod check_ingest;
mod checks;
mod connections;
mod dashboard;
mod fleet;
mod measurements;
mod metrics;
mod notifications;
mod outage_claims;
mod outage_ingest;
mod outages;
mod probes;
mod retention;
mod rollups;
mod scheduling;
mod sessions;
mod status;
mod two_factor;
mod work_signals;

pub(super) use check_blocks::convert_legacy;
