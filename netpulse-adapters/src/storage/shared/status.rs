//! The status summary's reads (the `StatusStore` port): result tallies over a window, counted
//! from the packed result blocks of the window's hours.

use std::collections::BTreeMap;

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_ports::status_store::{ResultTally, StatusStore};
use netpulse_ports::storage::StorageError;

use super::Store;
use super::check_blocks::BlockRow;
use crate::storage::check_blocks::block_of;
use crate::storage::check_rows::{family_of, outcome_of};
use crate::storage::outage_rows::at;
use crate::storage::unavailable;

/// A block with its check's kind.
#[derive(Debug, sqlx::FromRow)]
struct KindBlock {
    kind: String,
    #[sqlx(flatten)]
    block: BlockRow,
}

#[async_trait]
impl StatusStore for Store {
    async fn result_tallies(
        &self,
        probe: Option<&ProbeId>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<ResultTally>, StorageError> {
        let (since, until) = (since.unix_millis(), until.unix_millis());
        let rows: Vec<KindBlock> = sqlx::query_as(
            "SELECT c.kind, b.check_num, b.family, b.block_at, b.data \
             FROM checks c JOIN check_result_blocks b ON b.check_num = c.num \
             WHERE ($1 IS NULL OR c.probe_id = $1) AND b.block_at >= $2 AND b.block_at < $3",
        )
        .bind(probe.map(|p| p.as_str().to_owned()))
        .bind(block_of(since))
        .bind(until)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        // (kind, family, outcome) → (count, first round, last round), in that order.
        let mut tallies: BTreeMap<(String, i16, i16), (u64, i64, i64)> = BTreeMap::new();
        for row in rows {
            for v in row.block.results()? {
                if v.round_at < since || v.round_at >= until {
                    continue;
                }
                let t = tallies
                    .entry((row.kind.clone(), v.family, v.outcome))
                    .or_insert((0, v.round_at, v.round_at));
                t.0 += 1;
                t.1 = t.1.min(v.round_at);
                t.2 = t.2.max(v.round_at);
            }
        }
        tallies
            .into_iter()
            .map(|((kind, family, outcome), (count, first, last))| {
                Ok(ResultTally {
                    kind,
                    family: family_of(family)?,
                    outcome: outcome_of(outcome)?,
                    count,
                    first: at(first),
                    last: at(last),
                })
            })
            .collect()
    }
}
