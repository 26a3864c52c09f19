//! Claiming outage announcements in the check-result batch's transaction: the opening and the
//! closing of an episode each once (`outage_announcements`, keyed by the derived episode id, so
//! a replay or rebuild that finds the same episode again finds it claimed), and the per-series
//! counters `/metrics` reads, advanced by each claim.

use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::series::episode_id;
use netpulse_domain::outage::{Episode, OutageRules, SeriesFamily};
use netpulse_ports::check_store::OutageEdge;
use netpulse_ports::outage_store::StoredOutage;
use netpulse_ports::storage::StorageError;

use super::binds::Conn;
use super::outage_ingest::{state_row, tracker_of, upsert_episode};
use crate::storage::unavailable;

/// Kind codes of `outage_announcements`.
const OPENED: i16 = 0;
const CLOSED: i16 = 1;

/// Claims one announcement; `true` when this transaction got it.
async fn claim_one(
    conn: &mut Conn,
    id: &str,
    kind: i16,
    probe: &ProbeId,
) -> Result<bool, StorageError> {
    let got: Option<(String,)> = sqlx::query_as(
        "INSERT INTO outage_announcements (outage_id, kind, probe_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING RETURNING outage_id",
    )
    .bind(id.to_owned())
    .bind(kind)
    .bind(probe.as_str().to_owned())
    .fetch_optional(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(got.is_some())
}

/// Opens the episode's incident row (its opening was just claimed, in this transaction).
async fn open_incident(
    conn: &mut Conn,
    id: &str,
    probe: &ProbeId,
    family: SeriesFamily,
    opened_at_ms: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO outage_incidents (id, probe_id, family, opened_at, subject_id) VALUES ($1, \
         $2, $3, $4, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.to_owned())
    .bind(probe.as_str().to_owned())
    .bind(family.as_str())
    .bind(opened_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

/// Resolves the episode's incident row (its closing was just claimed, in this transaction).
async fn close_incident(conn: &mut Conn, id: &str, closed_at_ms: i64) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE outage_incidents SET closed_at = CASE WHEN $2 > opened_at THEN $2 ELSE opened_at \
         END WHERE id = $1 AND closed_at IS NULL",
    )
    .bind(id.to_owned())
    .bind(closed_at_ms)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

/// Claims the opening of every episode in `episodes` (closed ones and the open one, in time
/// order) and the closing of the closed ones; returns the edges claimed now.
pub(super) async fn claim(
    conn: &mut Conn,
    series: i32,
    probe: &ProbeId,
    family: SeriesFamily,
    episodes: &[&Episode],
) -> Result<Vec<OutageEdge>, StorageError> {
    let rules = OutageRules::default();
    let mut edges = Vec::new();
    for e in episodes {
        let id = episode_id(probe.as_str(), family, e.started_at_ms);
        let stored = || StoredOutage {
            id: id.clone(),
            probe_id: probe.clone(),
            family,
            episode: (*e).clone(),
        };
        if claim_one(conn, &id, OPENED, probe).await? {
            open_incident(conn, &id, probe, family, e.started_at_ms).await?;
            sqlx::query("UPDATE outage_state SET outages_total = outages_total + 1 WHERE num = $1")
                .bind(series)
                .execute(&mut *conn)
                .await
                .map_err(unavailable)?;
            edges.push(OutageEdge {
                opened: true,
                outage: stored(),
            });
        }
        if e.closed && claim_one(conn, &id, CLOSED, probe).await? {
            close_incident(conn, &id, e.last_failure_end_ms).await?;
            sqlx::query(
                "UPDATE outage_state SET complete_ms_total = complete_ms_total + $2, \
                 partial_ms_total = partial_ms_total + $3 WHERE num = $1",
            )
            .bind(series)
            .bind(e.complete_ms(&rules))
            .bind(e.partial_ms(&rules))
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
            edges.push(OutageEdge {
                opened: false,
                outage: stored(),
            });
        }
    }
    Ok(edges)
}

/// After a replay: the episode that was open before it, when the replay did not find it again
/// (more results of its rounds made them good, or an earlier failing round moved its start),
/// is announced closed at its last failing round, so that incident tools resolve what they
/// were told about. Counters are not advanced (its time belongs to what the replay found).
pub(super) async fn claim_withdrawn(
    conn: &mut Conn,
    probe: &ProbeId,
    family: SeriesFamily,
    before: Option<Episode>,
) -> Result<Option<OutageEdge>, StorageError> {
    let Some(mut e) = before else {
        return Ok(None);
    };
    let id = episode_id(probe.as_str(), family, e.started_at_ms);
    let (found,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outages WHERE id = $1")
        .bind(id.clone())
        .fetch_one(&mut *conn)
        .await
        .map_err(unavailable)?;
    if found > 0 || !claim_one(conn, &id, CLOSED, probe).await? {
        return Ok(None);
    }
    close_incident(conn, &id, e.last_failure_end_ms).await?;
    e.closed = true;
    Ok(Some(OutageEdge {
        opened: false,
        outage: StoredOutage {
            id,
            probe_id: probe.clone(),
            family,
            episode: e,
        },
    }))
}

/// Closes the open episode of the series (`probe`, `family`) when nothing was heard for longer
/// than `max_gap` before `now_ms` (the domain's `EpisodeTracker::close_if_silent`: closed at its
/// last failing round with `end_uncertain`), and claims its closing; returns the edge.
pub(super) async fn close_if_silent(
    conn: &mut Conn,
    probe: &ProbeId,
    family: SeriesFamily,
    now_ms: i64,
) -> Result<Option<OutageEdge>, StorageError> {
    let s = state_row(conn, probe, family).await?;
    if s.open_id.is_none() {
        return Ok(None);
    }
    let mut tracker = tracker_of(conn, &s).await?;
    let Some(closed) = tracker.close_if_silent(&OutageRules::default(), now_ms) else {
        return Ok(None);
    };
    upsert_episode(conn, s.num, probe, family, &closed).await?;
    sqlx::query(
        "UPDATE outage_state SET good_rounds = $2, gap_rounds = $3, open_id = NULL WHERE num = $1",
    )
    .bind(s.num)
    .bind(i32::try_from(tracker.good_rounds).unwrap_or(i32::MAX))
    .bind(i32::try_from(tracker.gap_rounds).unwrap_or(i32::MAX))
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(claim(conn, s.num, probe, family, &[&closed]).await?.pop())
}
