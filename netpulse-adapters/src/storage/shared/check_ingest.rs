//! Recording a batch of check results in one transaction: store each once (merged into its
//! packed block, `check_blocks`), then advance each touched (check, family) state row —
//! counters by every new result, the latest figures and the service-alert debouncer only by
//! rounds newer than the row (late rounds move neither).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use netpulse_domain::alert::{AlertPolicy, AlertState};
use netpulse_domain::check::alert::alert_sample;
use netpulse_domain::check::{CheckMeasurement, CheckRole, Outcome};
use netpulse_domain::id::ProbeId;
use netpulse_ports::check_store::{CheckEdge, CheckIngest};
use netpulse_ports::storage::StorageError;
use sqlx::AssertSqlSafe;

use super::LOCK;
use super::binds::Conn;
use crate::storage::check_rows::{ResultValues, class_code, family_code, literal_host};
use crate::storage::unavailable;

/// What the transaction knows of one of the probe's checks.
struct Known {
    num: i32,
    service: bool,
    policy: Option<AlertPolicy>,
    /// The check's literal host (results that used it store no address octets).
    host: Option<std::net::IpAddr>,
}

/// A check as ingest reads it.
#[derive(Debug, sqlx::FromRow)]
struct KnownRow {
    num: i32,
    id: String,
    kind: String,
    target: String,
    role: String,
    alert_after: Option<i32>,
    recover_after: Option<i32>,
}

async fn known_checks(
    conn: &mut Conn,
    probe: &ProbeId,
) -> Result<HashMap<String, Known>, StorageError> {
    let rows: Vec<KnownRow> = sqlx::query_as(
        "SELECT num, id, kind, target, role, alert_after, recover_after FROM checks \
         WHERE probe_id = $1",
    )
    .bind(probe.as_str().to_owned())
    .fetch_all(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let policy = r
                .alert_after
                .zip(r.recover_after)
                .and_then(|(n, m)| AlertPolicy::new(n as u32, m as u32).ok());
            let known = Known {
                num: r.num,
                service: r.role == CheckRole::Service.as_str(),
                policy,
                host: literal_host(&r.kind, &r.target),
            };
            (r.id, known)
        })
        .collect())
}

/// The state row's columns that ingest reads back.
#[derive(Debug, sqlx::FromRow)]
struct StateNow {
    round_at: i64,
    last_failure_at: Option<i64>,
    alerting: bool,
    fail_run: i32,
    ok_run: i32,
}

/// Advances one (check, family) state row with its newly stored results (oldest round first).
#[allow(clippy::too_many_lines)]
async fn advance(
    conn: &mut Conn,
    probe: &ProbeId,
    known: &Known,
    fresh: &[&CheckMeasurement],
    default_alerts: &AlertPolicy,
    edges: &mut Vec<CheckEdge>,
) -> Result<(), StorageError> {
    let Some(newest) = fresh.last() else {
        return Ok(());
    };
    let family = family_code(newest.family);
    let sql = format!(
        "SELECT round_at, last_failure_at, alerting, fail_run, ok_run FROM check_state \
         WHERE check_num = $1 AND family = $2{LOCK}"
    );
    let now: Option<StateNow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(known.num)
        .bind(family)
        .fetch_optional(&mut *conn)
        .await
        .map_err(unavailable)?;
    let count = |o: Outcome| fresh.iter().filter(|m| m.outcome == o).count() as i64;
    let counts = [
        count(Outcome::Ok),
        count(Outcome::Fail),
        count(Outcome::NotApplicable),
        count(Outcome::LocalError),
    ];
    let last_round = now.as_ref().map(|s| s.round_at);
    let newer: Vec<&&CheckMeasurement> = fresh
        .iter()
        .filter(|m| last_round.is_none_or(|r| m.round_at.unix_millis() > r))
        .collect();
    // The debouncer, stepped by the newer rounds only.
    let mut alert = now
        .as_ref()
        .map_or_else(AlertState::default, |s| AlertState {
            alerting: s.alerting,
            unhealthy_run: u32::try_from(s.fail_run).unwrap_or(0),
            healthy_run: u32::try_from(s.ok_run).unwrap_or(0),
        });
    if known.service {
        let policy = known.policy.unwrap_or(*default_alerts);
        for m in &newer {
            let (next, edge) = alert.step(alert_sample(m.outcome), &policy);
            alert = next;
            if let Some(edge) = edge {
                edges.push(CheckEdge {
                    check_id: m.check_id.clone(),
                    probe_id: probe.clone(),
                    family: m.family,
                    edge,
                    result: (**m).clone(),
                });
            }
        }
    }
    let latest = newer.last().map(|m| **m);
    let failure = fresh
        .iter()
        .rev()
        .find(|m| m.outcome == Outcome::Fail)
        .filter(|m| {
            now.as_ref()
                .and_then(|s| s.last_failure_at)
                .is_none_or(|at| m.round_at.unix_millis() > at)
        });
    if now.is_none() {
        let first = latest.unwrap_or(newest);
        let v = ResultValues::of(first, known.host)?;
        sqlx::query(
            "INSERT INTO check_state (check_num, family, round_at, outcome, failure_class, \
             latency_us, loss_bp, flags, message, last_failure_at, last_failure_class, \
             last_failure_message, runs_ok, runs_fail, runs_not_applicable, runs_local_error, \
             alerting, fail_run, ok_run) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(known.num)
        .bind(family)
        .bind(v.round_at)
        .bind(v.outcome)
        .bind(v.failure_class)
        .bind(v.latency_us)
        .bind(v.loss_bp)
        .bind(v.flags)
        .bind(v.message)
        .bind(failure.map(|f| f.round_at.unix_millis()))
        .bind(failure.and_then(|f| class_code(f.failure_class)))
        .bind(failure.and_then(|f| f.message.clone()))
        .bind(counts[0])
        .bind(counts[1])
        .bind(counts[2])
        .bind(counts[3])
        .bind(alert.alerting)
        .bind(alert.unhealthy_run as i32)
        .bind(alert.healthy_run as i32)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
        return Ok(());
    }
    sqlx::query(
        "UPDATE check_state SET runs_ok = runs_ok + $3, runs_fail = runs_fail + $4, \
         runs_not_applicable = runs_not_applicable + $5, runs_local_error = runs_local_error + $6, \
         alerting = $7, fail_run = $8, ok_run = $9 WHERE check_num = $1 AND family = $2",
    )
    .bind(known.num)
    .bind(family)
    .bind(counts[0])
    .bind(counts[1])
    .bind(counts[2])
    .bind(counts[3])
    .bind(alert.alerting)
    .bind(alert.unhealthy_run as i32)
    .bind(alert.healthy_run as i32)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    if let Some(m) = latest {
        let v = ResultValues::of(m, known.host)?;
        sqlx::query(
            "UPDATE check_state SET round_at = $3, outcome = $4, failure_class = $5, \
             latency_us = $6, loss_bp = $7, flags = $8, message = $9 \
             WHERE check_num = $1 AND family = $2",
        )
        .bind(known.num)
        .bind(family)
        .bind(v.round_at)
        .bind(v.outcome)
        .bind(v.failure_class)
        .bind(v.latency_us)
        .bind(v.loss_bp)
        .bind(v.flags)
        .bind(v.message)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    if let Some(f) = failure {
        sqlx::query(
            "UPDATE check_state SET last_failure_at = $3, last_failure_class = $4, \
             last_failure_message = $5 WHERE check_num = $1 AND family = $2",
        )
        .bind(known.num)
        .bind(family)
        .bind(f.round_at.unix_millis())
        .bind(class_code(f.failure_class))
        .bind(f.message.clone())
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

/// Locks the probe's row for the rest of the transaction. Every write transaction that touches
/// a probe's check blocks or outage series (ingest, the silent close, a rebuild) takes this lock
/// first, so they queue on one row in one order instead of deadlocking on PostgreSQL (the
/// foreign-key checks of their inserts also lock the probe's row).
pub(super) async fn lock_probe(conn: &mut Conn, probe: &ProbeId) -> Result<(), StorageError> {
    let sql = format!("SELECT id FROM probes WHERE id = $1{LOCK}");
    sqlx::query(AssertSqlSafe(sql))
        .bind(probe.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Records `results` of `probe` (see `CheckStore::record_check_results`).
pub(super) async fn record(
    conn: &mut Conn,
    probe: &ProbeId,
    results: &[CheckMeasurement],
    default_alerts: &AlertPolicy,
) -> Result<CheckIngest, StorageError> {
    // One ingest per probe at a time: its blocks are read, merged and rewritten below.
    lock_probe(conn, probe).await?;
    let known = known_checks(conn, probe).await?;
    let mut out = CheckIngest::default();
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(results.len());
    let mut kept: Vec<(&Known, &CheckMeasurement)> = Vec::with_capacity(results.len());
    for m in results {
        let Some(k) = known.get(m.check_id.as_str()) else {
            out.unknown_checks += 1;
            continue;
        };
        let key = (k.num, m.round_at.unix_millis(), family_code(m.family));
        if !seen.insert(key) {
            out.duplicates += 1; // twice in this batch
            continue;
        }
        rows.push((k.num, ResultValues::of(m, k.host)?));
        kept.push((k, m));
    }
    let stored = super::check_blocks::insert(conn, rows).await?;
    // Newly stored results per (check, family), oldest round first.
    let mut groups: BTreeMap<(i32, i16), (&Known, Vec<&CheckMeasurement>)> = BTreeMap::new();
    for (k, m) in kept {
        if stored.contains(&(k.num, m.round_at.unix_millis(), family_code(m.family))) {
            out.recorded += 1;
            groups
                .entry((k.num, family_code(m.family)))
                .or_insert_with(|| (k, Vec::new()))
                .1
                .push(m);
        } else {
            out.duplicates += 1;
        }
    }
    let mut touched = BTreeSet::new();
    for (k, fresh) in groups.values_mut() {
        fresh.sort_by_key(|m| m.round_at);
        advance(conn, probe, k, fresh, default_alerts, &mut out.edges).await?;
        if !k.service {
            touched.extend(fresh.iter().map(|m| (m.round_at.unix_millis(), m.family)));
        }
    }
    out.outage_edges = super::outage_ingest::advance(conn, probe, &touched).await?;
    out.edges.sort_by_key(|e| e.result.round_at);
    Ok(out)
}
