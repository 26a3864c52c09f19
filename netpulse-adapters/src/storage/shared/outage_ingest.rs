//! Advancing the outage series of a probe with the rounds a check-result batch touched, inside
//! the batch's transaction. Rounds newer than a series' newest one are fed to its episode
//! tracker (O(1) per round: the state row, the round row, the open episode row); a batch that
//! touches a round at or before the newest one (a replayed spool, or more results of the last
//! round) replays that series from `netpulse_domain::outage::series::replay_from`. The
//! decisions are the domain's; this module loads and stores.

use std::collections::{BTreeMap, BTreeSet};

use netpulse_domain::check::{Family, FamilyMode, Outcome};
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::series::{
    FAMILY_MEMORY_MS, episode_id, in_maintenance, replay_from, rounds,
};
use netpulse_domain::outage::{
    Episode, EpisodeTracker, FamilyMemory, OutageRules, ResultFact, SeriesFamily, SeriesRound,
};
use netpulse_ports::check_store::OutageEdge;
use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::binds::Conn;
use super::check_blocks::results_in;
use super::outage_claims::{claim, claim_withdrawn};
use super::{Db, LOCK};
use crate::storage::check_rows::{
    AFTER_RESUME, class_of, family_code, family_of, outcome_code, outcome_of,
};
use crate::storage::outage_rows::{
    OUTAGE_COLUMNS, OutageRow, failing_to_json, round_code, series_code,
};
use crate::storage::unavailable;

/// The probe's connectivity checks as the series read them.
pub(super) struct Connectivity {
    /// The probe.
    probe: ProbeId,
    /// check num → (id, provider).
    checks: BTreeMap<i32, (String, String)>,
    /// The checks labelled `gateway: true` (the optional default-gateway check).
    gateway: BTreeSet<i32>,
    /// The families the checks run over.
    families: Vec<Family>,
    /// Each connection's maintenance windows (loaded per range).
    connections: Vec<String>,
}

impl Connectivity {
    /// Whether the checks give `family` a series (`all` always).
    pub(super) fn covers(&self, family: SeriesFamily) -> bool {
        family.family().is_none_or(|f| self.families.contains(&f))
    }
}

#[derive(sqlx::FromRow)]
struct CheckRow {
    num: i32,
    id: String,
    target: String,
    family: String,
    labels: String,
}

/// The probe's connectivity checks (`None` when it has none).
pub(super) async fn connectivity(
    conn: &mut Conn,
    probe: &ProbeId,
) -> Result<Option<Connectivity>, StorageError> {
    let rows: Vec<CheckRow> = sqlx::query_as(
        "SELECT num, id, target, family, labels FROM checks \
         WHERE probe_id = $1 AND role = 'connectivity' ORDER BY num",
    )
    .bind(probe.as_str().to_owned())
    .fetch_all(&mut *conn)
    .await
    .map_err(unavailable)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut families = Vec::new();
    let mut checks = BTreeMap::new();
    let mut gateway = BTreeSet::new();
    for r in rows {
        let labels: BTreeMap<String, String> = serde_json::from_str(&r.labels).unwrap_or_default();
        if labels.get("gateway").is_some_and(|v| v == "true") {
            gateway.insert(r.num);
        }
        let provider = labels.get("provider").cloned().unwrap_or(r.target);
        for f in FamilyMode::parse(&r.family).unwrap_or_default().families() {
            if !families.contains(f) {
                families.push(*f);
            }
        }
        checks.insert(r.num, (r.id, provider));
    }
    families.sort();
    let connections: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM connections WHERE probe_id = $1")
            .bind(probe.as_str().to_owned())
            .fetch_all(&mut *conn)
            .await
            .map_err(unavailable)?;
    Ok(Some(Connectivity {
        probe: probe.clone(),
        checks,
        gateway,
        families,
        connections: connections.into_iter().map(|(id,)| id).collect(),
    }))
}

/// The state row of a series, locked.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct StateRow {
    pub(super) num: i32,
    last_round_at: Option<i64>,
    good_rounds: i32,
    gap_rounds: i32,
    pub(super) open_id: Option<String>,
    last_ok_v4: Option<i64>,
    last_ok_v6: Option<i64>,
}

pub(super) async fn state_row(
    conn: &mut Conn,
    probe: &ProbeId,
    family: SeriesFamily,
) -> Result<StateRow, StorageError> {
    sqlx::query(
        "INSERT INTO outage_state (probe_id, family, good_rounds, gap_rounds) \
         VALUES ($1, $2, 0, 0) ON CONFLICT (probe_id, family) DO NOTHING",
    )
    .bind(probe.as_str().to_owned())
    .bind(series_code(family))
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    let sql = format!(
        "SELECT num, last_round_at, good_rounds, gap_rounds, open_id, last_ok_v4, last_ok_v6 \
         FROM outage_state WHERE probe_id = $1 AND family = $2{LOCK}"
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(probe.as_str().to_owned())
        .bind(series_code(family))
        .fetch_one(&mut *conn)
        .await
        .map_err(unavailable)
}

/// The connectivity results of the series' families in `[from, to]`.
async fn facts(
    conn: &mut Conn,
    c: &Connectivity,
    family: SeriesFamily,
    from: i64,
    to: Option<i64>,
) -> Result<Vec<ResultFact>, StorageError> {
    let nums: Vec<i32> = c.checks.keys().copied().collect();
    let until = to.map_or(i64::MAX, |t| t.saturating_add(1));
    let family = family.family().map(family_code);
    results_in(conn, &nums, family, from, until)
        .await?
        .into_iter()
        .map(|(num, v)| {
            let (check, provider) = c.checks.get(&num).cloned().unwrap_or_default();
            Ok(ResultFact {
                round_at_ms: v.round_at,
                family: family_of(v.family)?,
                check,
                provider,
                outcome: outcome_of(v.outcome)?,
                class: class_of(v.failure_class)?,
                gateway: c.gateway.contains(&num),
                after_resume: v.flags & AFTER_RESUME != 0,
            })
        })
        .collect()
}

/// The probe's own maintenance windows (and manual switches) overlapping `[from, to]`.
async fn probe_windows(
    conn: &mut Conn,
    c: &Connectivity,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, Option<i64>)>, StorageError> {
    sqlx::query_as(
        "SELECT starts_at, ends_at FROM probe_maintenance \
         WHERE probe_id = $1 AND starts_at <= $3 AND (ends_at IS NULL OR ends_at > $2)",
    )
    .bind(c.probe.as_str().to_owned())
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await
    .map_err(unavailable)
}

/// Each connection's maintenance windows overlapping `[from, to]`.
async fn windows(
    conn: &mut Conn,
    c: &Connectivity,
    from: i64,
    to: i64,
) -> Result<Vec<Vec<(i64, i64)>>, StorageError> {
    let mut out = Vec::with_capacity(c.connections.len());
    for id in &c.connections {
        let w: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT starts_at, ends_at FROM maintenance_windows \
             WHERE connection_id = $1 AND starts_at <= $3 AND ends_at > $2",
        )
        .bind(id.clone())
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
        out.push(w);
    }
    Ok(out)
}

/// The rounds of `facts` with their states.
async fn series_rounds(
    conn: &mut Conn,
    c: &Connectivity,
    family: SeriesFamily,
    facts: &[ResultFact],
    memory: &mut FamilyMemory,
) -> Result<Vec<SeriesRound>, StorageError> {
    let (Some(from), Some(to)) = (
        facts.iter().map(|f| f.round_at_ms).min(),
        facts.iter().map(|f| f.round_at_ms).max(),
    ) else {
        return Ok(Vec::new());
    };
    let windows = windows(conn, c, from, to).await?;
    let own = probe_windows(conn, c, from, to).await?;
    let maintenance = |at: i64| in_maintenance(at, &own, &windows);
    Ok(rounds(family, facts, &c.families, memory, &maintenance))
}

/// Rows per INSERT of rounds (5 binds each).
const ROUND_CHUNK: usize = 400;

/// Stores rounds (replacing the states of rounds stored before).
async fn upsert_rounds(
    conn: &mut Conn,
    series: i32,
    rounds: &[SeriesRound],
) -> Result<(), StorageError> {
    for chunk in rounds.chunks(ROUND_CHUNK) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO outage_rounds (series, round_at, state, failed, counted) ",
        );
        q.push_values(chunk, |mut b, r| {
            let (state, failed, counted) = round_code(r.state);
            b.push_bind(series)
                .push_bind(r.facts.round_at_ms)
                .push_bind(state)
                .push_bind(failed)
                .push_bind(counted);
        });
        q.push(
            " ON CONFLICT (series, round_at) DO UPDATE SET state = excluded.state, \
             failed = excluded.failed, counted = excluded.counted",
        );
        q.build().execute(&mut *conn).await.map_err(unavailable)?;
    }
    Ok(())
}

/// Stores an episode (open or closed) under its derived id; returns the id.
pub(super) async fn upsert_episode(
    conn: &mut Conn,
    series: i32,
    probe: &ProbeId,
    family: SeriesFamily,
    e: &Episode,
) -> Result<String, StorageError> {
    let id = episode_id(probe.as_str(), family, e.started_at_ms);
    sqlx::query(
        "INSERT INTO outages (id, series, probe_id, family, started_at, ended_at, \
         last_failure_end, closed_by_round, end_uncertain, complete, duration_ms, impact_ms, \
         rounds_down, rounds_partial, rounds_unknown, failed_checks, counted_checks, \
         rounds_link, rounds_gateway_known, rounds_gateway_failed, failing_checks) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20, $21) ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, \
         last_failure_end = excluded.last_failure_end, closed_by_round = excluded.closed_by_round, \
         end_uncertain = excluded.end_uncertain, complete = excluded.complete, \
         duration_ms = excluded.duration_ms, impact_ms = excluded.impact_ms, \
         rounds_down = excluded.rounds_down, rounds_partial = excluded.rounds_partial, \
         rounds_unknown = excluded.rounds_unknown, failed_checks = excluded.failed_checks, \
         counted_checks = excluded.counted_checks, rounds_link = excluded.rounds_link, \
         rounds_gateway_known = excluded.rounds_gateway_known, \
         rounds_gateway_failed = excluded.rounds_gateway_failed, \
         failing_checks = excluded.failing_checks",
    )
    .bind(id.clone())
    .bind(series)
    .bind(probe.as_str().to_owned())
    .bind(series_code(family))
    .bind(e.started_at_ms)
    .bind(e.ended_at_ms())
    .bind(e.last_failure_end_ms)
    .bind(e.closed.then_some(e.closed_by_round_ms))
    .bind(e.end_uncertain)
    .bind(e.rounds_partial == 0)
    .bind(e.duration_ms())
    .bind(e.impact_ms)
    .bind(i32::try_from(e.rounds_down).unwrap_or(i32::MAX))
    .bind(i32::try_from(e.rounds_partial).unwrap_or(i32::MAX))
    .bind(i32::try_from(e.rounds_unknown).unwrap_or(i32::MAX))
    .bind(i64::try_from(e.failed_checks).unwrap_or(i64::MAX))
    .bind(i64::try_from(e.counted_checks).unwrap_or(i64::MAX))
    .bind(i32::try_from(e.rounds_link).unwrap_or(i32::MAX))
    .bind(i32::try_from(e.rounds_gateway_known).unwrap_or(i32::MAX))
    .bind(i32::try_from(e.rounds_gateway_failed).unwrap_or(i32::MAX))
    .bind(failing_to_json(&e.failing_checks))
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(id)
}

/// The tracker a state row stores (with its open episode).
pub(super) async fn tracker_of(
    conn: &mut Conn,
    s: &StateRow,
) -> Result<EpisodeTracker, StorageError> {
    let open = match &s.open_id {
        None => None,
        Some(id) => {
            let sql = format!("SELECT {OUTAGE_COLUMNS} FROM outages WHERE id = $1");
            let row: Option<OutageRow> = sqlx::query_as(AssertSqlSafe(sql))
                .bind(id.clone())
                .fetch_optional(&mut *conn)
                .await
                .map_err(unavailable)?;
            row.map(|r| r.into_outage().map(|o| o.episode))
                .transpose()?
        }
    };
    Ok(EpisodeTracker {
        last_round_at_ms: s.last_round_at,
        open,
        good_rounds: u32::try_from(s.good_rounds).unwrap_or(0),
        gap_rounds: u32::try_from(s.gap_rounds).unwrap_or(0),
    })
}

/// Feeds `rounds` to `tracker` and stores the rounds, the episodes and the state row; returns
/// the announcements it claimed.
#[allow(clippy::too_many_arguments)]
async fn feed_and_store(
    conn: &mut Conn,
    probe: &ProbeId,
    family: SeriesFamily,
    series: i32,
    mut tracker: EpisodeTracker,
    memory: FamilyMemory,
    rounds: &[SeriesRound],
) -> Result<Vec<OutageEdge>, StorageError> {
    let rules = OutageRules::default();
    let was_open = tracker.open.is_some();
    let mut closed = Vec::new();
    for r in rounds {
        closed.extend(tracker.feed_state(&rules, &r.facts, r.state));
    }
    upsert_rounds(conn, series, rounds).await?;
    for e in &closed {
        upsert_episode(conn, series, probe, family, e).await?;
    }
    if let Some(open) = &tracker.open
        && (was_open || !closed.is_empty() || rounds.iter().any(|r| r.state.failing().is_some()))
    {
        upsert_episode(conn, series, probe, family, open).await?;
    }
    let open_id = tracker
        .open
        .as_ref()
        .map(|e| episode_id(probe.as_str(), family, e.started_at_ms));
    sqlx::query(
        "UPDATE outage_state SET last_round_at = $2, good_rounds = $3, gap_rounds = $4, \
         open_id = $5, last_ok_v4 = $6, last_ok_v6 = $7 WHERE num = $1",
    )
    .bind(series)
    .bind(tracker.last_round_at_ms)
    .bind(i32::try_from(tracker.good_rounds).unwrap_or(i32::MAX))
    .bind(i32::try_from(tracker.gap_rounds).unwrap_or(i32::MAX))
    .bind(open_id)
    .bind(memory.last_ok_v4)
    .bind(memory.last_ok_v6)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    let episodes: Vec<&Episode> = closed.iter().chain(tracker.open.as_ref()).collect();
    claim(conn, series, probe, family, &episodes).await
}

/// Replays a series from its raw results from `earliest` on (moved back to the start of an
/// episode still open then); returns the announcements it claimed (a rebuild drops them: what
/// it finds is history, claimed without being announced).
pub(super) async fn replay(
    conn: &mut Conn,
    probe: &ProbeId,
    c: &Connectivity,
    family: SeriesFamily,
    earliest: i64,
) -> Result<Vec<OutageEdge>, StorageError> {
    let s = state_row(conn, probe, family).await?;
    let open_before = tracker_of(conn, &s).await?.open;
    let episodes: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT started_at, closed_by_round FROM outages WHERE series = $1 \
         AND (closed_by_round IS NULL OR closed_by_round >= $2)",
    )
    .bind(s.num)
    .bind(earliest)
    .fetch_all(&mut *conn)
    .await
    .map_err(unavailable)?;
    let from = replay_from(earliest, episodes);
    for sql in [
        "DELETE FROM outages WHERE series = $1 AND (closed_by_round IS NULL OR closed_by_round >= $2)",
        "DELETE FROM outage_rounds WHERE series = $1 AND round_at >= $2",
    ] {
        sqlx::query(sql)
            .bind(s.num)
            .bind(from)
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
    }
    // What the 24 h rule knew just before `from`.
    let mut memory = FamilyMemory::default();
    let nums: Vec<i32> = c.checks.keys().copied().collect();
    for (_, v) in results_in(conn, &nums, None, from - FAMILY_MEMORY_MS, from).await? {
        if v.outcome == outcome_code(Outcome::Ok) {
            memory.saw_ok(family_of(v.family)?, v.round_at);
        }
    }
    // No episode is open before `from`: a fresh tracker is the series' state there, but it
    // keeps the newest round before it so that older rounds are still seen as late.
    let before: (Option<i64>,) =
        sqlx::query_as("SELECT MAX(round_at) FROM outage_rounds WHERE series = $1")
            .bind(s.num)
            .fetch_one(&mut *conn)
            .await
            .map_err(unavailable)?;
    let tracker = EpisodeTracker {
        last_round_at_ms: before.0,
        ..EpisodeTracker::default()
    };
    let facts = facts(conn, c, family, from, None).await?;
    let rounds = series_rounds(conn, c, family, &facts, &mut memory).await?;
    let found = feed_and_store(conn, probe, family, s.num, tracker, memory, &rounds).await?;
    let mut edges: Vec<OutageEdge> = claim_withdrawn(conn, probe, family, open_before)
        .await?
        .into_iter()
        .collect();
    edges.extend(found);
    Ok(edges)
}

/// Advances the probe's series with the rounds of connectivity results stored now
/// (`touched`: round time and family); returns the outage announcements claimed.
pub(super) async fn advance(
    conn: &mut Conn,
    probe: &ProbeId,
    touched: &BTreeSet<(i64, Family)>,
) -> Result<Vec<OutageEdge>, StorageError> {
    let mut edges = Vec::new();
    if touched.is_empty() {
        return Ok(edges);
    }
    let Some(c) = connectivity(conn, probe).await? else {
        return Ok(edges);
    };
    for family in SeriesFamily::ALL {
        let rounds: BTreeSet<i64> = touched
            .iter()
            .filter(|(_, f)| family.family().is_none_or(|own| own == *f))
            .map(|(at, _)| *at)
            .collect();
        let (Some(&earliest), Some(&newest)) = (rounds.first(), rounds.last()) else {
            continue;
        };
        let s = state_row(conn, probe, family).await?;
        if s.last_round_at.is_some_and(|last| earliest <= last) {
            edges.extend(replay(conn, probe, &c, family, earliest).await?);
            continue;
        }
        let mut memory = FamilyMemory {
            last_ok_v4: s.last_ok_v4,
            last_ok_v6: s.last_ok_v6,
        };
        let facts = facts(conn, &c, family, earliest, Some(newest)).await?;
        let rounds = series_rounds(conn, &c, family, &facts, &mut memory).await?;
        let tracker = tracker_of(conn, &s).await?;
        edges.extend(feed_and_store(conn, probe, family, s.num, tracker, memory, &rounds).await?);
    }
    Ok(edges)
}
