//! Sorting and keyset pagination of the measurement list.
//!
//! Every order is total: the sort key, then completion time, then id. Pages continue after the
//! last row of the previous page (keyset), so a deep page costs the same as the first one when
//! an index serves the order. Missing values sort last in both directions (the key substitutes
//! a sentinel for NULL). The cursor is opaque text: `<sort>.<key bits hex>.<completed ms>.<id>`.

use netpulse_domain::model::Measurement;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort, StorageError};
use sqlx::QueryBuilder;

use crate::storage::rows::invalid;

/// How one order is written in SQL.
pub(crate) struct SortSpec {
    /// The sort-key expression (a double); selected as `sort_key`.
    pub key: &'static str,
    /// Whether the key descends.
    pub descending: bool,
    /// Whether the key is the completion time itself (then the tie-breakers follow its
    /// direction).
    pub by_time: bool,
    /// The ORDER BY clause.
    pub order_by: &'static str,
}

pub(crate) fn sort_spec(sort: MeasurementSort) -> SortSpec {
    use MeasurementSort as S;
    let (key, descending, by_time, order_by) = match sort {
        S::CompletedDesc => (
            "CAST(completed_at AS DOUBLE PRECISION)",
            true,
            true,
            "completed_at DESC, id DESC",
        ),
        S::CompletedAsc => (
            "CAST(completed_at AS DOUBLE PRECISION)",
            false,
            true,
            "completed_at ASC, id ASC",
        ),
        S::DownloadDesc => (
            "COALESCE(download_bps, -1.0)",
            true,
            false,
            "sort_key DESC, completed_at DESC, id DESC",
        ),
        S::DownloadAsc => (
            "COALESCE(download_bps, 1.0e300)",
            false,
            false,
            "sort_key ASC, completed_at DESC, id DESC",
        ),
        S::UploadDesc => (
            "COALESCE(upload_bps, -1.0)",
            true,
            false,
            "sort_key DESC, completed_at DESC, id DESC",
        ),
        S::UploadAsc => (
            "COALESCE(upload_bps, 1.0e300)",
            false,
            false,
            "sort_key ASC, completed_at DESC, id DESC",
        ),
        S::PingDesc => (
            "COALESCE(ping_ms, -1.0)",
            true,
            false,
            "sort_key DESC, completed_at DESC, id DESC",
        ),
        S::PingAsc => (
            "COALESCE(ping_ms, 1.0e300)",
            false,
            false,
            "sort_key ASC, completed_at DESC, id DESC",
        ),
        S::JitterDesc => (
            "COALESCE(jitter_ms, -1.0)",
            true,
            false,
            "sort_key DESC, completed_at DESC, id DESC",
        ),
        S::JitterAsc => (
            "COALESCE(jitter_ms, 1.0e300)",
            false,
            false,
            "sort_key ASC, completed_at DESC, id DESC",
        ),
        S::LossDesc => (
            "COALESCE(packet_loss_percent, -1.0)",
            true,
            false,
            "sort_key DESC, completed_at DESC, id DESC",
        ),
        S::LossAsc => (
            "COALESCE(packet_loss_percent, 1.0e300)",
            false,
            false,
            "sort_key ASC, completed_at DESC, id DESC",
        ),
    };
    SortSpec {
        key,
        descending,
        by_time,
        order_by,
    }
}

/// Where a page ends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cursor {
    sort: MeasurementSort,
    key: f64,
    completed_at: i64,
    id: String,
}

impl Cursor {
    pub(crate) fn after(sort: MeasurementSort, key: f64, m: &Measurement) -> Self {
        Self {
            sort,
            key,
            completed_at: m.completed_at.unix_millis(),
            id: m.id.as_str().to_owned(),
        }
    }

    pub(crate) fn encode(&self) -> String {
        format!(
            "{}.{:016x}.{}.{}",
            self.sort.as_str(),
            self.key.to_bits(),
            self.completed_at,
            self.id
        )
    }

    pub(crate) fn decode(text: &str, sort: MeasurementSort) -> Result<Self, StorageError> {
        let bad = || {
            invalid(
                "cursor",
                text,
                "is not a cursor of this list (request the first page again)",
            )
        };
        let mut parts = text.splitn(4, '.');
        let (Some(s), Some(k), Some(c), Some(id)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if MeasurementSort::parse(s) != Some(sort) {
            return Err(invalid("cursor", text, "belongs to another sort order"));
        }
        let key = u64::from_str_radix(k, 16)
            .map(f64::from_bits)
            .map_err(|_| bad())?;
        let completed_at = c.parse().map_err(|_| bad())?;
        netpulse_domain::id::ResultId::parse(id).map_err(|_| bad())?;
        if !key.is_finite() {
            return Err(bad());
        }
        Ok(Self {
            sort,
            key,
            completed_at,
            id: id.to_owned(),
        })
    }

    /// Appends `AND (rows after this cursor in the spec's order)`.
    pub(crate) fn push_condition<DB>(&self, q: &mut QueryBuilder<DB>, spec: &SortSpec)
    where
        DB: sqlx::Database,
        f64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        if spec.by_time {
            let op = if spec.descending { "<" } else { ">" };
            q.push(format!(" AND (completed_at {op} "))
                .push_bind(self.completed_at)
                .push(" OR (completed_at = ")
                .push_bind(self.completed_at)
                .push(format!(" AND id {op} "))
                .push_bind(self.id.clone())
                .push("))");
        } else {
            let op = if spec.descending { "<" } else { ">" };
            q.push(format!(" AND ({} {op} ", spec.key))
                .push_bind(self.key)
                .push(format!(" OR ({} = ", spec.key))
                .push_bind(self.key)
                .push(" AND (completed_at < ")
                .push_bind(self.completed_at)
                .push(" OR (completed_at = ")
                .push_bind(self.completed_at)
                .push(" AND id < ")
                .push_bind(self.id.clone())
                .push("))))");
        }
    }
}

/// Appends the filter's conditions (after a `WHERE …`).
pub(crate) fn push_filter<DB>(q: &mut QueryBuilder<DB>, filter: &MeasurementFilter)
where
    DB: sqlx::Database,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'static str: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(p) = &filter.probe {
        q.push(" AND probe_id = ").push_bind(p.as_str().to_owned());
    }
    if let Some(c) = &filter.connection {
        q.push(" AND connection_id = ")
            .push_bind(c.as_str().to_owned());
    }
    if let Some(s) = &filter.server_id {
        q.push(" AND server_id = ").push_bind(s.clone());
    }
    if let Some(done) = filter.completed {
        q.push(" AND status = ")
            .push_bind(if done { "completed" } else { "failed" });
    }
    if let Some(h) = filter.healthy {
        q.push(" AND healthy = ").push_bind(h);
    }
    if let Some(s) = filter.scheduled {
        q.push(" AND scheduled = ").push_bind(s);
    }
    if let Some(since) = filter.since {
        q.push(" AND completed_at >= ")
            .push_bind(since.unix_millis());
    }
    if let Some(until) = filter.until {
        q.push(" AND completed_at < ")
            .push_bind(until.unix_millis());
    }
}
