//! Outages: episode lists (keyset pages), one episode, a series' rounds and time per state,
//! the series' live states, and the replay of series from raw results (the `OutageStore`
//! port).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::availability::StateTime;
use netpulse_domain::outage::{OutageRules, SeriesFamily};
use netpulse_ports::check_store::OutageEdge;
use netpulse_ports::outage_store::{
    OutageFilter, OutageOrder, OutagePage, OutageStore, SeriesState, StoredOutage, StoredRound,
};
use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::{Db, Store, begin_write, check_ingest, outage_claims, outage_ingest};
use crate::storage::outage_rows::{
    OUTAGE_COLUMNS, OutageCursor, OutageRow, at, round_of, series_code, series_of,
};
use crate::storage::unavailable;

fn push_filter(q: &mut QueryBuilder<Db>, f: &OutageFilter) {
    if let Some(p) = &f.probe {
        q.push(" AND probe_id = ").push_bind(p.as_str().to_owned());
    }
    if let Some(fam) = f.family {
        q.push(" AND family = ").push_bind(series_code(fam));
    }
    if let Some(since) = f.since {
        q.push(" AND (ended_at IS NULL OR ended_at >= ")
            .push_bind(since.unix_millis())
            .push(")");
    }
    if let Some(until) = f.until {
        q.push(" AND started_at < ").push_bind(until.unix_millis());
    }
}

fn push_cursor(q: &mut QueryBuilder<Db>, c: &OutageCursor) {
    match c {
        OutageCursor::Latest { started, id } => {
            q.push(" AND (started_at < ")
                .push_bind(*started)
                .push(" OR (started_at = ")
                .push_bind(*started)
                .push(" AND id < ")
                .push_bind(id.clone())
                .push("))");
        }
        OutageCursor::Severity {
            complete,
            impact,
            duration,
            started,
            id,
        } => {
            q.push(" AND (complete < ")
                .push_bind(*complete)
                .push(" OR (complete = ")
                .push_bind(*complete)
                .push(" AND (impact_ms < ")
                .push_bind(*impact)
                .push(" OR (impact_ms = ")
                .push_bind(*impact)
                .push(" AND (duration_ms < ")
                .push_bind(*duration)
                .push(" OR (duration_ms = ")
                .push_bind(*duration)
                .push(" AND (started_at > ")
                .push_bind(*started)
                .push(" OR (started_at = ")
                .push_bind(*started)
                .push(" AND id > ")
                .push_bind(id.clone())
                .push("))))))))");
        }
    }
}

async fn series_num(
    s: &Store,
    probe: &ProbeId,
    family: SeriesFamily,
) -> Result<Option<i32>, StorageError> {
    let row: Option<(i32,)> =
        sqlx::query_as("SELECT num FROM outage_state WHERE probe_id = $1 AND family = $2")
            .bind(probe.as_str().to_owned())
            .bind(series_code(family))
            .fetch_optional(&s.pool)
            .await
            .map_err(unavailable)?;
    Ok(row.map(|(n,)| n))
}

#[async_trait]
impl OutageStore for Store {
    async fn outages(
        &self,
        filter: &OutageFilter,
        order: OutageOrder,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<OutagePage, StorageError> {
        let cursor = cursor.map(|c| OutageCursor::decode(c, order)).transpose()?;
        let mut q: QueryBuilder<Db> =
            QueryBuilder::new(format!("SELECT {OUTAGE_COLUMNS} FROM outages WHERE 1 = 1"));
        push_filter(&mut q, filter);
        if let Some(c) = &cursor {
            push_cursor(&mut q, c);
        }
        q.push(match order {
            OutageOrder::Latest => " ORDER BY started_at DESC, id DESC",
            OutageOrder::Severity => {
                " ORDER BY complete DESC, impact_ms DESC, duration_ms DESC, started_at ASC, id ASC"
            }
        });
        q.push(" LIMIT ").push_bind(i64::from(limit) + 1);
        let rows: Vec<OutageRow> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let mut items = rows
            .into_iter()
            .map(OutageRow::into_outage)
            .collect::<Result<Vec<_>, _>>()?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = more
            .then(|| items.last().map(|o| OutageCursor::after(order, o).encode()))
            .flatten();
        Ok(OutagePage { items, next_cursor })
    }

    async fn outage(&self, id: &str) -> Result<Option<StoredOutage>, StorageError> {
        let sql = format!("SELECT {OUTAGE_COLUMNS} FROM outages WHERE id = $1");
        let row: Option<OutageRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(OutageRow::into_outage).transpose()
    }

    async fn outage_rounds(
        &self,
        probe: &ProbeId,
        family: SeriesFamily,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<StoredRound>, StorageError> {
        let Some(num) = series_num(self, probe, family).await? else {
            return Ok(Vec::new());
        };
        let rows: Vec<(i64, i16, i16, i16)> = sqlx::query_as(
            "SELECT round_at, state, failed, counted FROM outage_rounds \
             WHERE series = $1 AND round_at >= $2 AND round_at < $3 ORDER BY round_at",
        )
        .bind(num)
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter()
            .map(|(r, state, failed, counted)| {
                Ok(StoredRound {
                    round_at: at(r),
                    state: round_of(state, failed, counted)?.as_str(),
                    failed: u32::try_from(failed).unwrap_or(0),
                    counted: u32::try_from(counted).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn outage_state_time(
        &self,
        probe: &ProbeId,
        family: SeriesFamily,
        since: Timestamp,
        until: Timestamp,
        period_ms: i64,
    ) -> Result<StateTime, StorageError> {
        let mut t = StateTime::default();
        let Some(num) = series_num(self, probe, family).await? else {
            return Ok(t);
        };
        let rows: Vec<(i16, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM outage_rounds \
             WHERE series = $1 AND round_at >= $2 AND round_at < $3 GROUP BY state",
        )
        .bind(num)
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        for (state, count) in rows {
            t.add(round_of(state, 0, 0)?, count * period_ms);
        }
        Ok(t)
    }

    async fn outage_state_buckets(
        &self,
        probe: &ProbeId,
        family: SeriesFamily,
        since: Timestamp,
        until: Timestamp,
        bucket_ms: i64,
        period_ms: i64,
    ) -> Result<Vec<(Timestamp, StateTime)>, StorageError> {
        let Some(num) = series_num(self, probe, family).await? else {
            return Ok(Vec::new());
        };
        let bucket_ms = bucket_ms.max(1);
        let rows: Vec<(i64, i16, i64)> = sqlx::query_as(
            "SELECT round_at / $4, state, COUNT(*) FROM outage_rounds \
             WHERE series = $1 AND round_at >= $2 AND round_at < $3 \
             GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(num)
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .bind(bucket_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut out: Vec<(Timestamp, StateTime)> = Vec::new();
        for (bucket, state, count) in rows {
            let start = at(bucket * bucket_ms);
            if out.last().is_none_or(|(b, _)| *b != start) {
                out.push((start, StateTime::default()));
            }
            if let Some((_, t)) = out.last_mut() {
                t.add(round_of(state, 0, 0)?, count * period_ms);
            }
        }
        Ok(out)
    }

    async fn outage_series(
        &self,
        probe: Option<&ProbeId>,
    ) -> Result<Vec<SeriesState>, StorageError> {
        #[allow(clippy::type_complexity)]
        let rows: Vec<(String, i16, Option<i64>, Option<String>, i64, i64, i64)> = sqlx::query_as(
            "SELECT probe_id, family, last_round_at, open_id, outages_total, complete_ms_total, \
             partial_ms_total FROM outage_state \
             WHERE ($1 IS NULL OR probe_id = $1) ORDER BY probe_id, family",
        )
        .bind(probe.map(|p| p.as_str().to_owned()))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut out = Vec::with_capacity(rows.len());
        for (probe_id, family, last, open_id, total, complete_ms, partial_ms) in rows {
            let open = match open_id {
                Some(id) => self.outage(&id).await?,
                None => None,
            };
            out.push(SeriesState {
                probe_id: ProbeId::parse(&probe_id).map_err(|_| {
                    crate::storage::rows::invalid("probe_id", &probe_id, "is not a stored id")
                })?,
                family: series_of(family)?,
                last_round_at: last.map(at),
                open,
                outages_total: u64::try_from(total).unwrap_or(0),
                complete_ms_total: complete_ms,
                partial_ms_total: partial_ms,
            });
        }
        Ok(out)
    }

    async fn close_silent_outages(&self, now: Timestamp) -> Result<Vec<OutageEdge>, StorageError> {
        // Only series with an open episode that were not heard lately: a live outage takes
        // no write transaction per housekeeping pass.
        let open: Vec<(String, i16)> = sqlx::query_as(
            "SELECT probe_id, family FROM outage_state WHERE open_id IS NOT NULL \
             AND (last_round_at IS NULL OR last_round_at < $1) ORDER BY probe_id, family",
        )
        .bind(OutageRules::default().silent_before(now.unix_millis()))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut edges = Vec::new();
        for (id, family) in open {
            let probe = ProbeId::parse(&id).map_err(|_| {
                crate::storage::rows::invalid("probe_id", &id, "is not a stored id")
            })?;
            let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
            check_ingest::lock_probe(&mut tx, &probe).await?;
            let edge = outage_claims::close_if_silent(
                &mut tx,
                &probe,
                series_of(family)?,
                now.unix_millis(),
            )
            .await?;
            tx.commit().await.map_err(unavailable)?;
            edges.extend(edge);
        }
        Ok(edges)
    }

    async fn rebuild_outages(
        &self,
        probe: Option<&ProbeId>,
        since: Timestamp,
    ) -> Result<u64, StorageError> {
        let probes: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT probe_id FROM checks WHERE role = 'connectivity' \
             AND ($1 IS NULL OR probe_id = $1) ORDER BY probe_id",
        )
        .bind(probe.map(|p| p.as_str().to_owned()))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut replayed = 0;
        for (id,) in probes {
            let probe = ProbeId::parse(&id).map_err(|_| {
                crate::storage::rows::invalid("probe_id", &id, "is not a stored id")
            })?;
            let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
            check_ingest::lock_probe(&mut tx, &probe).await?;
            if let Some(c) = outage_ingest::connectivity(&mut tx, &probe).await? {
                for family in SeriesFamily::ALL {
                    if c.covers(family) {
                        // What a rebuild finds is history: claimed, never announced.
                        let _claimed =
                            outage_ingest::replay(&mut tx, &probe, &c, family, since.unix_millis())
                                .await?;
                        replayed += 1;
                    }
                }
            }
            tx.commit().await.map_err(unavailable)?;
        }
        Ok(replayed)
    }
}
