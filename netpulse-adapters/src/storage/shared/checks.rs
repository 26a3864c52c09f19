//! Checks, their results and state rows (the `CheckStore` port).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertPolicy;
use netpulse_domain::check::CheckMeasurement;
use netpulse_domain::id::{CheckId, ProbeId};
use netpulse_ports::check_store::{
    Check, CheckIngest, CheckResultFilter, CheckResultPage, CheckSample, CheckState, CheckStore,
};
use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::binds::Query;
use super::check_blocks::{BlockRow, results_in};
use super::{Db, Store, begin_write, check_ingest};
use crate::storage::check_blocks::block_of;
use crate::storage::check_list::{Cursor, sort_newest_first};
use crate::storage::check_rows::{
    CHECK_COLUMNS, CheckRow, ResultCheck, STATE_COLUMNS, StateRow, family_code, params_to_json,
};
use crate::storage::rows::labels_to_json;
use crate::storage::{found, unavailable};

/// Binds the settings of a check ($2–$13 of INSERT and UPDATE, after the id).
fn bind_check<'q>(q: Query<'q>, c: &Check) -> Query<'q> {
    let s = &c.spec;
    q.bind(s.kind.as_str())
        .bind(s.target.clone())
        .bind(s.port.map(i32::from))
        .bind(s.family.as_str())
        .bind(s.role.as_str())
        .bind(i32::try_from(s.interval_s).unwrap_or(i32::MAX))
        .bind(params_to_json(&s.params))
        .bind(c.alerts.map(|a| a.unhealthy_count() as i32))
        .bind(c.alerts.map(|a| a.healthy_count() as i32))
        .bind(c.enabled)
        .bind(labels_to_json(&c.labels))
        .bind(c.updated_at.unix_millis())
}

const INSERT_CHECK: &str = "INSERT INTO checks (id, kind, target, port, family, role, \
     interval_s, params, alert_after, recover_after, enabled, labels, updated_at, probe_id, \
     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

const UPDATE_CHECK: &str = "UPDATE checks SET kind = $2, target = $3, port = $4, family = $5, \
     role = $6, interval_s = $7, params = $8, alert_after = $9, recover_after = $10, \
     enabled = $11, labels = $12, updated_at = $13 WHERE id = $1";

/// The checks a result list scans.
async fn scanned_checks(
    s: &Store,
    filter: &CheckResultFilter,
) -> Result<Vec<ResultCheck>, StorageError> {
    sqlx::query_as(
        "SELECT num, id, kind, target FROM checks WHERE ($1 IS NULL OR id = $1) \
         AND ($2 IS NULL OR probe_id = $2) ORDER BY num",
    )
    .bind(filter.check.as_ref().map(|c| c.as_str().to_owned()))
    .bind(filter.probe.as_ref().map(|p| p.as_str().to_owned()))
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)
}

/// Blocks read per step of a page.
const PAGE_BLOCKS: i64 = 16;

/// One check's results of a page: newest first, after the cursor, at least `limit` when there
/// are (whole hours are read, so possibly more; the caller merges and truncates).
async fn page_of_check(
    s: &Store,
    check: &ResultCheck,
    filter: &CheckResultFilter,
    limit: u32,
    cursor: Option<&Cursor>,
) -> Result<Vec<(i32, CheckMeasurement)>, StorageError> {
    let family = filter.family.map(family_code);
    let since = filter.since.map_or(i64::MIN, Timestamp::unix_millis);
    let until = filter.until.map_or(i64::MAX, Timestamp::unix_millis);
    // The newest and oldest block that can hold a round of the page (both inclusive).
    let mut upper = until.saturating_sub(1);
    if let Some(c) = cursor {
        upper = upper.min(c.round_at());
    }
    let lower = block_of(since);
    let mut out = Vec::new();
    loop {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT check_num, family, block_at, data FROM check_result_blocks WHERE check_num = ",
        );
        q.push_bind(check.num)
            .push(" AND block_at <= ")
            .push_bind(upper)
            .push(" AND block_at >= ")
            .push_bind(lower);
        if let Some(f) = family {
            q.push(" AND family = ").push_bind(f);
        }
        q.push(" ORDER BY block_at DESC, family DESC LIMIT ")
            .push_bind(PAGE_BLOCKS);
        let mut blocks: Vec<BlockRow> = q
            .build_query_as()
            .fetch_all(&s.pool)
            .await
            .map_err(unavailable)?;
        let full = blocks.len() as i64 == PAGE_BLOCKS;
        if full {
            // The oldest hour read may lack a family: it is read again by the next step.
            let oldest = blocks.last().map_or(upper, |b| b.block_at);
            blocks.retain(|b| b.block_at != oldest);
            upper = oldest;
        }
        for b in &blocks {
            for v in b.results()?.into_iter().rev() {
                let taken = v.round_at >= since
                    && v.round_at < until
                    && cursor.is_none_or(|c| c.admits(check.num, v.round_at, v.family));
                if taken {
                    out.push((check.num, v.into_measurement(check)?));
                }
            }
        }
        if !full || out.len() >= limit as usize {
            return Ok(out);
        }
    }
}

#[async_trait]
impl CheckStore for Store {
    async fn create_checks(&self, checks: &[Check]) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let mut probes_seen: Vec<&ProbeId> = Vec::new();
        for c in checks {
            if !probes_seen.contains(&&c.probe_id) {
                let exists: Option<(String,)> =
                    sqlx::query_as("SELECT id FROM probes WHERE id = $1")
                        .bind(c.probe_id.as_str().to_owned())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(unavailable)?;
                if exists.is_none() {
                    return Err(StorageError::NotFound {
                        what: "probe",
                        id: c.probe_id.to_string(),
                    });
                }
                probes_seen.push(&c.probe_id);
            }
            bind_check(sqlx::query(INSERT_CHECK).bind(c.id.as_str().to_owned()), c)
                .bind(c.probe_id.as_str().to_owned())
                .bind(c.created_at.unix_millis())
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn update_check(&self, check: &Check) -> Result<(), StorageError> {
        let done = bind_check(
            sqlx::query(UPDATE_CHECK).bind(check.id.as_str().to_owned()),
            check,
        )
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        found(done.rows_affected(), "check", check.id.as_str())
    }

    async fn check(&self, id: &CheckId) -> Result<Option<Check>, StorageError> {
        let sql = format!("SELECT {CHECK_COLUMNS} FROM checks WHERE id = $1");
        sqlx::query_as::<_, CheckRow>(AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .map(CheckRow::into_check)
            .transpose()
    }

    async fn checks(&self, probe: Option<&ProbeId>) -> Result<Vec<Check>, StorageError> {
        let sql = format!(
            "SELECT {CHECK_COLUMNS} FROM checks WHERE ($1 IS NULL OR probe_id = $1) \
             ORDER BY probe_id, created_at, id"
        );
        sqlx::query_as::<_, CheckRow>(AssertSqlSafe(sql))
            .bind(probe.map(|p| p.as_str().to_owned()))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(CheckRow::into_check)
            .collect()
    }

    async fn delete_check(&self, id: &CheckId) -> Result<(), StorageError> {
        let done = sqlx::query("DELETE FROM checks WHERE id = $1")
            .bind(id.as_str().to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "check", id.as_str())
    }

    async fn record_check_results(
        &self,
        probe: &ProbeId,
        results: &[CheckMeasurement],
        default_alerts: &AlertPolicy,
    ) -> Result<CheckIngest, StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let outcome = check_ingest::record(&mut tx, probe, results, default_alerts).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(outcome)
    }

    async fn check_results(
        &self,
        filter: &CheckResultFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<CheckResultPage, StorageError> {
        let cursor = cursor.map(Cursor::decode).transpose()?;
        let mut rows = Vec::new();
        for check in scanned_checks(self, filter).await? {
            rows.extend(page_of_check(self, &check, filter, limit + 1, cursor.as_ref()).await?);
        }
        sort_newest_first(&mut rows);
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|(num, m)| Cursor::after(*num, m).encode())
        } else {
            None
        };
        Ok(CheckResultPage {
            items: rows.into_iter().map(|(_, m)| m).collect(),
            next_cursor,
        })
    }

    async fn check_samples(
        &self,
        check: &CheckId,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<CheckSample>, StorageError> {
        let num: Option<(i32,)> = sqlx::query_as("SELECT num FROM checks WHERE id = $1")
            .bind(check.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        let Some((num,)) = num else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        let mut rows = results_in(
            &mut conn,
            &[num],
            None,
            since.unix_millis(),
            until.unix_millis(),
        )
        .await?;
        rows.sort_by_key(|(_, v)| (v.round_at, v.family));
        rows.into_iter().map(|(_, v)| v.into_sample()).collect()
    }

    async fn check_states(&self, probe: Option<&ProbeId>) -> Result<Vec<CheckState>, StorageError> {
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM check_state s JOIN checks c ON c.num = s.check_num \
             WHERE ($1 IS NULL OR c.probe_id = $1) ORDER BY c.probe_id, c.created_at, c.id, s.family"
        );
        let rows = sqlx::query_as::<_, StateRow>(AssertSqlSafe(sql))
            .bind(probe.map(|p| p.as_str().to_owned()))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.into_iter().map(StateRow::into_state).collect()
    }
}
