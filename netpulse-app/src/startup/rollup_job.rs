//! The rollup job's task: every [`EVERY_SECONDS`] s, under the `rollups` lease, recompute the
//! dirty hours (`service::rollups::maintain`). Dropping the handle stops it.

use std::time::Duration;

use crate::service::rollups::{EVERY_SECONDS, maintain};
use crate::service::{App, new_uuid};

/// The running job; stops when dropped.
#[derive(Debug)]
pub struct RollupJob(tokio::task::JoinHandle<()>);

impl Drop for RollupJob {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the job over `app`.
pub fn start(app: &App) -> RollupJob {
    let app = app.clone();
    let holder = new_uuid();
    RollupJob(tokio::spawn(async move {
        loop {
            match maintain(&app, &holder).await {
                Ok(n) if n > 0 => tracing::debug!(hours = n, "rollups recomputed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "rollups: database unavailable"),
            }
            tokio::time::sleep(Duration::from_secs(EVERY_SECONDS)).await;
        }
    }))
}
