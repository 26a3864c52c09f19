//! The status summary's reads (the `StatusStore` port): result tallies over a window.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_ports::status_store::{ResultTally, StatusStore};
use netpulse_ports::storage::StorageError;

use super::Store;
use crate::storage::check_rows::{family_of, outcome_of};
use crate::storage::outage_rows::at;
use crate::storage::unavailable;

#[async_trait]
impl StatusStore for Store {
    async fn result_tallies(
        &self,
        probe: Option<&ProbeId>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<ResultTally>, StorageError> {
        let rows: Vec<(String, i16, i16, i64, i64, i64)> = sqlx::query_as(
            "SELECT c.kind, r.family, r.outcome, COUNT(*), MIN(r.round_at), MAX(r.round_at) \
             FROM checks c JOIN check_results r ON r.check_num = c.num \
             WHERE ($1 IS NULL OR c.probe_id = $1) AND r.round_at >= $2 AND r.round_at < $3 \
             GROUP BY c.kind, r.family, r.outcome ORDER BY c.kind, r.family, r.outcome",
        )
        .bind(probe.map(|p| p.as_str().to_owned()))
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter()
            .map(|(kind, family, outcome, count, first, last)| {
                Ok(ResultTally {
                    kind,
                    family: family_of(family)?,
                    outcome: outcome_of(outcome)?,
                    count: u64::try_from(count).unwrap_or(0),
                    first: at(first),
                    last: at(last),
                })
            })
            .collect()
    }
}
