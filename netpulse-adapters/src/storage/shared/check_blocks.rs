//! Check results in their packed blocks (`check_result_blocks`, one row per check, family and
//! hour; the encoding is `storage/check_blocks.rs`): reading the results of a range, storing
//! new ones exactly once by merging them into their blocks, and converting the rows of the
//! table before migration 0013.

use std::collections::{BTreeMap, HashMap, HashSet};

use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::binds::Conn;
use super::{Db, RESULTS_TABLE_EXISTS, begin_write};
use crate::storage::check_blocks::{BLOCK_MS, block_of, decode, encode};
use crate::storage::check_rows::{CHECK_RESULT_COLUMNS, ResultValues};
use crate::storage::unavailable;

/// Blocks per upsert statement (4 binds each).
const CHUNK: usize = 500;

/// One stored block.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct BlockRow {
    pub check_num: i32,
    pub family: i16,
    pub block_at: i64,
    pub data: Vec<u8>,
}

impl BlockRow {
    /// Its results, in round order.
    pub(super) fn results(&self) -> Result<Vec<ResultValues>, StorageError> {
        decode(self.block_at, self.family, &self.data)
    }
}

/// The blocks of checks `nums` that may hold rounds in `[from, until)`, optionally of one
/// family, by check, hour and family.
async fn blocks(
    conn: &mut Conn,
    nums: &[i32],
    family: Option<i16>,
    from: i64,
    until: i64,
) -> Result<Vec<BlockRow>, StorageError> {
    if nums.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Db> = QueryBuilder::new(
        "SELECT check_num, family, block_at, data FROM check_result_blocks WHERE check_num IN (",
    );
    let mut list = q.separated(", ");
    for num in nums {
        list.push_bind(*num);
    }
    q.push(") AND block_at >= ")
        .push_bind(block_of(from))
        .push(" AND block_at < ")
        .push_bind(until);
    if let Some(f) = family {
        q.push(" AND family = ").push_bind(f);
    }
    q.push(" ORDER BY check_num, block_at, family");
    q.build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)
}

/// The results of checks `nums` with rounds in `[from, until)`, optionally of one family, with
/// their check's num: by check, then hour, then family, each block in round order.
pub(super) async fn results_in(
    conn: &mut Conn,
    nums: &[i32],
    family: Option<i16>,
    from: i64,
    until: i64,
) -> Result<Vec<(i32, ResultValues)>, StorageError> {
    let mut out = Vec::new();
    for b in blocks(conn, nums, family, from, until).await? {
        for v in b.results()? {
            if v.round_at >= from && v.round_at < until {
                out.push((b.check_num, v));
            }
        }
    }
    Ok(out)
}

/// Stores `rows` (check num and values; distinct keys) that are not stored yet, merging them
/// into their blocks; returns the keys `(num, round, family)` stored now. The caller holds the
/// probe's lock, so no other transaction rewrites these blocks meanwhile.
pub(super) async fn insert(
    conn: &mut Conn,
    rows: Vec<(i32, ResultValues)>,
) -> Result<HashSet<(i32, i64, i16)>, StorageError> {
    let mut stored = HashSet::new();
    let mut groups: BTreeMap<(i32, i16, i64), Vec<ResultValues>> = BTreeMap::new();
    for (num, v) in rows {
        groups
            .entry((num, v.family, block_of(v.round_at)))
            .or_default()
            .push(v);
    }
    let Some(from) = groups.keys().map(|k| k.2).min() else {
        return Ok(stored);
    };
    let until = groups.keys().map(|k| k.2).max().unwrap_or(from) + BLOCK_MS;
    let mut nums: Vec<i32> = groups.keys().map(|k| k.0).collect();
    nums.dedup();
    let mut existing: HashMap<(i32, i16, i64), BlockRow> = blocks(conn, &nums, None, from, until)
        .await?
        .into_iter()
        .map(|b| ((b.check_num, b.family, b.block_at), b))
        .collect();
    let mut writes: Vec<((i32, i16, i64), Vec<u8>)> = Vec::new();
    for (key, fresh) in groups {
        let mut merged = match existing.remove(&key) {
            Some(b) => b.results()?,
            None => Vec::new(),
        };
        let rounds: HashSet<i64> = merged.iter().map(|v| v.round_at).collect();
        let before = merged.len();
        for v in fresh {
            if !rounds.contains(&v.round_at) {
                stored.insert((key.0, v.round_at, key.1));
                merged.push(v);
            }
        }
        if merged.len() > before {
            writes.push((key, encode(key.2, &mut merged)?));
        }
    }
    for chunk in writes.chunks(CHUNK) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO check_result_blocks (check_num, family, block_at, data) ",
        );
        q.push_values(chunk, |mut b, ((num, family, block_at), data)| {
            b.push_bind(*num)
                .push_bind(*family)
                .push_bind(*block_at)
                .push_bind(data.clone());
        });
        q.push(" ON CONFLICT (check_num, family, block_at) DO UPDATE SET data = excluded.data");
        q.build().execute(&mut *conn).await.map_err(unavailable)?;
    }
    Ok(stored)
}

/// A row of the table before migration 0013.
#[derive(Debug, sqlx::FromRow)]
struct LegacyRow {
    check_num: i32,
    #[sqlx(flatten)]
    values: ResultValues,
}

/// The second half of migration 0013: converts the rows of `check_results` (the table before
/// it, one row per result) into blocks and drops that table, in one transaction; nothing to do
/// once it is gone.
pub(crate) async fn convert_legacy(pool: &sqlx::Pool<Db>) -> Result<(), StorageError> {
    let mut tx = begin_write(pool).await.map_err(unavailable)?;
    let (exists,): (i64,) = sqlx::query_as(RESULTS_TABLE_EXISTS)
        .fetch_one(&mut *tx)
        .await
        .map_err(unavailable)?;
    if exists == 0 {
        return tx.commit().await.map_err(unavailable);
    }
    let nums: Vec<(i32,)> = sqlx::query_as("SELECT DISTINCT check_num FROM check_results")
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
    let sql =
        format!("SELECT check_num, {CHECK_RESULT_COLUMNS} FROM check_results WHERE check_num = $1");
    for (num,) in nums {
        let rows: Vec<LegacyRow> = sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(num)
            .fetch_all(&mut *tx)
            .await
            .map_err(unavailable)?;
        insert(
            &mut tx,
            rows.into_iter().map(|r| (r.check_num, r.values)).collect(),
        )
        .await?;
    }
    sqlx::query("DROP TABLE check_results")
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)
}
