//! The status summary's reads (the `StatusStore` port): result tallies over a window and the
//! per-day time per state of an outage series.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::SeriesFamily;
use netpulse_domain::outage::availability::StateTime;
use netpulse_ports::status_store::{DayTime, ResultTally, StatusStore};
use netpulse_ports::storage::StorageError;

use super::Store;
use crate::storage::check_rows::{family_of, outcome_of};
use crate::storage::outage_rows::{at, round_of, series_code};
use crate::storage::unavailable;

const DAY_MS: i64 = 86_400_000;

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

    async fn outage_days(
        &self,
        probe: &ProbeId,
        family: SeriesFamily,
        since: Timestamp,
        until: Timestamp,
        period_ms: i64,
    ) -> Result<Vec<DayTime>, StorageError> {
        let rows: Vec<(i64, i16, i64)> = sqlx::query_as(
            "SELECT r.round_at / 86400000, r.state, COUNT(*) \
             FROM outage_state s JOIN outage_rounds r ON r.series = s.num \
             WHERE s.probe_id = $1 AND s.family = $2 AND r.round_at >= $3 AND r.round_at < $4 \
             GROUP BY r.round_at / 86400000, r.state ORDER BY 1, 2",
        )
        .bind(probe.as_str().to_owned())
        .bind(series_code(family))
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut days: Vec<DayTime> = Vec::new();
        for (day, state, count) in rows {
            let day = at(day * DAY_MS);
            if days.last().is_none_or(|d| d.day != day) {
                days.push(DayTime {
                    day,
                    time: StateTime::default(),
                });
            }
            if let Some(d) = days.last_mut() {
                d.time.add(round_of(state, 0, 0)?, count * period_ms);
            }
        }
        Ok(days)
    }
}
