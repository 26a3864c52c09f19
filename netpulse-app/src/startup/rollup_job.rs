//! The rollup job's task: every [`EVERY_SECONDS`] s, under the `rollups` lease, recompute the
//! dirty hours (`service::rollups::maintain`), and every `retention::EVERY_SECONDS` (the
//! first one period after start) prune what is older than each kind's retention
//! (`service::retention::maintain`), under the same lease so that the two never interleave.
//! Dropping the handle stops it.

use std::time::{Duration, Instant};

use crate::service::rollups::{EVERY_SECONDS, maintain};
use crate::service::{App, new_uuid, retention};

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
        let prune_every = Duration::from_secs(retention::EVERY_SECONDS);
        let mut last_prune = Instant::now();
        loop {
            match maintain(&app, &holder).await {
                Ok(n) if n > 0 => tracing::debug!(hours = n, "rollups recomputed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "rollups: database unavailable"),
            }
            if last_prune.elapsed() >= prune_every {
                last_prune = Instant::now();
                if let Err(e) = retention::maintain(&app, &holder).await {
                    tracing::warn!(error = %e, "retention: prune failed");
                }
            }
            tokio::time::sleep(Duration::from_secs(EVERY_SECONDS)).await;
        }
    }))
}
