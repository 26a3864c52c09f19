//! Outage rows: the codes of series families and round states, the episode row and its
//! conversions, and the keyset cursors of outage lists (compiled once for both databases).

use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::{Episode, RoundState, SeriesFamily};
use netpulse_ports::outage_store::{OutageOrder, StoredOutage};
use netpulse_ports::storage::StorageError;

use crate::storage::rows::invalid;

/// The stored code of a series family.
pub(crate) fn series_code(f: SeriesFamily) -> i16 {
    match f {
        SeriesFamily::V4 => 0,
        SeriesFamily::V6 => 1,
        SeriesFamily::All => 2,
    }
}

/// The series family of a stored code.
pub(crate) fn series_of(code: i16) -> Result<SeriesFamily, StorageError> {
    match code {
        0 => Ok(SeriesFamily::V4),
        1 => Ok(SeriesFamily::V6),
        2 => Ok(SeriesFamily::All),
        _ => Err(invalid("outage family", code, "is not a stored code")),
    }
}

/// The stored code of a round state and its failed / counted checks.
pub(crate) fn round_code(s: RoundState) -> (i16, i16, i16) {
    let small = |v: u32| i16::try_from(v).unwrap_or(i16::MAX);
    match s {
        RoundState::Up => (0, 0, 0),
        RoundState::Target => (1, 0, 0),
        RoundState::Partial { k, n, .. } => (2, small(k), small(n)),
        RoundState::Down { n, .. } => (3, small(n), small(n)),
        RoundState::Local => (4, 0, 0),
        RoundState::Maintenance => (5, 0, 0),
        RoundState::Unknown => (6, 0, 0),
    }
}

/// A stored round state as the representative [`RoundState`] (without the link flag) and its
/// name.
pub(crate) fn round_of(code: i16, failed: i16, counted: i16) -> Result<RoundState, StorageError> {
    let (k, n) = (
        u32::try_from(failed).unwrap_or(0),
        u32::try_from(counted).unwrap_or(0),
    );
    Ok(match code {
        0 => RoundState::Up,
        1 => RoundState::Target,
        2 => RoundState::Partial { k, n, link: false },
        3 => RoundState::Down { n, link: false },
        4 => RoundState::Local,
        5 => RoundState::Maintenance,
        6 => RoundState::Unknown,
        _ => return Err(invalid("round state", code, "is not a stored code")),
    })
}

/// The columns of an episode row, in [`OutageRow`]'s order.
pub(crate) const OUTAGE_COLUMNS: &str = "id, probe_id, family, started_at, last_failure_end, \
     ended_at, closed_by_round, end_uncertain, rounds_down, rounds_partial, rounds_unknown, \
     failed_checks, counted_checks, impact_ms, rounds_link, rounds_gateway_known, \
     rounds_gateway_failed, failing_checks";

/// An episode row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OutageRow {
    pub(crate) id: String,
    pub(crate) probe_id: String,
    pub(crate) family: i16,
    pub(crate) started_at: i64,
    pub(crate) last_failure_end: i64,
    pub(crate) ended_at: Option<i64>,
    pub(crate) closed_by_round: Option<i64>,
    pub(crate) end_uncertain: bool,
    pub(crate) rounds_down: i32,
    pub(crate) rounds_partial: i32,
    pub(crate) rounds_unknown: i32,
    pub(crate) failed_checks: i64,
    pub(crate) counted_checks: i64,
    pub(crate) impact_ms: f64,
    pub(crate) rounds_link: i32,
    pub(crate) rounds_gateway_known: i32,
    pub(crate) rounds_gateway_failed: i32,
    pub(crate) failing_checks: String,
}

fn count(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// The failing checks as JSON `[[id, class or null], …]`.
pub(crate) fn failing_to_json(checks: &[(String, Option<String>)]) -> String {
    let items: Vec<serde_json::Value> = checks
        .iter()
        .map(|(id, class)| serde_json::json!([id, class]))
        .collect();
    serde_json::Value::Array(items).to_string()
}

fn failing_from_json(text: &str) -> Result<Vec<(String, Option<String>)>, StorageError> {
    serde_json::from_str(text).map_err(|_| invalid("failing_checks", text, "is not stored JSON"))
}

impl OutageRow {
    /// The episode it stores.
    pub(crate) fn into_outage(self) -> Result<StoredOutage, StorageError> {
        let episode = Episode {
            started_at_ms: self.started_at,
            last_failure_end_ms: self.last_failure_end,
            closed: self.ended_at.is_some(),
            end_uncertain: self.end_uncertain,
            rounds_down: count(self.rounds_down),
            rounds_partial: count(self.rounds_partial),
            rounds_unknown: count(self.rounds_unknown),
            failed_checks: u64::try_from(self.failed_checks).unwrap_or(0),
            counted_checks: u64::try_from(self.counted_checks).unwrap_or(0),
            impact_ms: self.impact_ms,
            rounds_link: count(self.rounds_link),
            rounds_gateway_known: count(self.rounds_gateway_known),
            rounds_gateway_failed: count(self.rounds_gateway_failed),
            failing_checks: failing_from_json(&self.failing_checks)?,
            closed_by_round_ms: self.closed_by_round.unwrap_or(0),
        };
        Ok(StoredOutage {
            id: self.id,
            probe_id: ProbeId::parse(&self.probe_id)
                .map_err(|_| invalid("probe_id", &self.probe_id, "is not a stored id"))?,
            family: series_of(self.family)?,
            episode,
        })
    }
}

/// Where a page of outages ends: `l.<started>.<id>` (latest) or
/// `s.<complete>.<impact>.<duration>.<started>.<id>` (severity).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OutageCursor {
    Latest {
        started: i64,
        id: String,
    },
    Severity {
        complete: bool,
        impact: f64,
        duration: i64,
        started: i64,
        id: String,
    },
}

impl OutageCursor {
    pub(crate) fn after(order: OutageOrder, o: &StoredOutage) -> Self {
        let e = &o.episode;
        match order {
            OutageOrder::Latest => Self::Latest {
                started: e.started_at_ms,
                id: o.id.clone(),
            },
            OutageOrder::Severity => Self::Severity {
                complete: e.rounds_partial == 0,
                impact: e.impact_ms,
                duration: e.duration_ms(),
                started: e.started_at_ms,
                id: o.id.clone(),
            },
        }
    }

    pub(crate) fn encode(&self) -> String {
        match self {
            Self::Latest { started, id } => format!("l.{started}.{id}"),
            Self::Severity {
                complete,
                impact,
                duration,
                started,
                id,
            } => format!(
                "s.{}.{:x}.{duration}.{started}.{id}",
                u8::from(*complete),
                impact.to_bits()
            ),
        }
    }

    pub(crate) fn decode(text: &str, order: OutageOrder) -> Result<Self, StorageError> {
        let bad = || {
            invalid(
                "cursor",
                text,
                "is not a cursor of this list (request the first page again)",
            )
        };
        let parts: Vec<&str> = text.split('.').collect();
        let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
        match (order, parts.as_slice()) {
            (OutageOrder::Latest, ["l", started, id]) => Ok(Self::Latest {
                started: num(started)?,
                id: (*id).to_owned(),
            }),
            (OutageOrder::Severity, ["s", complete, impact, duration, started, id]) => {
                Ok(Self::Severity {
                    complete: *complete == "1",
                    impact: f64::from_bits(u64::from_str_radix(impact, 16).map_err(|_| bad())?),
                    duration: num(duration)?,
                    started: num(started)?,
                    id: (*id).to_owned(),
                })
            }
            _ => Err(bad()),
        }
    }
}

/// Milliseconds to a timestamp.
pub(crate) fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms)
}
