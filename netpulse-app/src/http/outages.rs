//! Outages and uptime over HTTP (API token or session): `GET /api/v1/outages` (filters,
//! `order=latest|severity`, keyset pages), `GET /api/v1/outages/{outageId}` (with the timeline
//! of its rounds) and `GET /api/v1/uptime` (availability with coverage).

use netpulse_domain::Timestamp;
use netpulse_domain::outage::SeriesFamily;
use netpulse_ports::outage_store::{OutageFilter, OutageOrder};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};

use super::agent::parse_probe_id;
use super::auth::RestAuth;
use super::problem::ApiError;
use crate::error::AppError;
use crate::outage_dto::{OutageDetailDto, OutagePageDto, UptimeDto};
use crate::service::App;
use crate::service::{outages, status};
use crate::status_dto::StatusDto;

#[derive(Tags)]
enum Tag {
    /// Outages (runs of failing connectivity rounds) and uptime.
    Outages,
}

/// The outages and uptime endpoints.
#[derive(Debug)]
pub struct OutagesApi {
    /// The server.
    pub app: App,
}

fn time_param(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    text.map(|t| Timestamp::parse_rfc3339(t).map_err(|e| AppError::invalid(field, e.to_string())))
        .transpose()
}

#[OpenApi(prefix_path = "/v1")]
impl OutagesApi {
    /// Outages, latest first or most severe first (complete before partial, then impact, then
    /// duration), with filters and cursor pagination.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/outages", method = "get", tag = "Tag::Outages")]
    async fn list_outages(
        &self,
        _auth: RestAuth,
        /// Only this probe's.
        probe: Query<Option<String>>,
        /// `v4`, `v6` or `all`.
        family: Query<Option<String>>,
        /// Outages going on at or after this time (RFC 3339).
        since: Query<Option<String>>,
        /// Outages started before this time (RFC 3339).
        until: Query<Option<String>>,
        /// `latest` (default) or `severity`.
        order: Query<Option<String>>,
        /// 1–1000, default 100.
        limit: Query<Option<u32>>,
        /// The `nextCursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> Result<Json<OutagePageDto>, ApiError> {
        let filter = OutageFilter {
            probe: probe.0.as_deref().map(parse_probe_id).transpose()?,
            family: family
                .0
                .as_deref()
                .map(|f| SeriesFamily::parse(f).map_err(|e| AppError::invalid("family", e.rule)))
                .transpose()?,
            since: time_param("since", since.0.as_deref())?,
            until: time_param("until", until.0.as_deref())?,
        };
        let order = order
            .0
            .as_deref()
            .map(outages::parse_order)
            .transpose()?
            .unwrap_or(OutageOrder::Latest);
        let page = outages::list(
            &self.app,
            &filter,
            order,
            limit.0.unwrap_or(100),
            cursor.0.as_deref(),
        )
        .await?;
        Ok(Json((&page).into()))
    }

    /// One outage with the timeline of its rounds (five rounds on each side).
    #[oai(path = "/outages/:outage_id", method = "get", tag = "Tag::Outages")]
    async fn get_outage(
        &self,
        _auth: RestAuth,
        outage_id: Path<String>,
    ) -> Result<Json<OutageDetailDto>, ApiError> {
        let id = uuid::Uuid::parse_str(&outage_id)
            .map_err(|e| AppError::invalid("outageId", e.to_string()))?;
        let detail = outages::get(&self.app, &id.hyphenated().to_string()).await?;
        Ok(Json((&detail).into()))
    }

    /// Uptime per probe and family over a window (default: the last 30 days, at most 400):
    /// availability (complete outages only), strict availability (complete and partial), and
    /// always the coverage (the share of the window that was measured).
    #[oai(path = "/uptime", method = "get", tag = "Tag::Outages")]
    async fn get_uptime(
        &self,
        _auth: RestAuth,
        /// Only this probe's.
        probe: Query<Option<String>>,
        /// The window's start (RFC 3339).
        since: Query<Option<String>>,
        /// The window's end (RFC 3339, default now).
        until: Query<Option<String>>,
    ) -> Result<Json<UptimeDto>, ApiError> {
        let probe = probe.0.as_deref().map(parse_probe_id).transpose()?;
        let uptime = outages::uptime(
            &self.app,
            probe.as_ref(),
            time_param("since", since.0.as_deref())?,
            time_param("until", until.0.as_deref())?,
        )
        .await?;
        Ok(Json((&uptime).into()))
    }

    /// The status summary over a window (default: the last 30 days): check results in all,
    /// per kind and per family, uptime with coverage, the 10 latest and 10 most severe outages
    /// (the figures of `netpulse status`).
    #[oai(path = "/status", method = "get", tag = "Tag::Outages")]
    async fn get_status(
        &self,
        _auth: RestAuth,
        /// Only this probe's.
        probe: Query<Option<String>>,
        /// The window's start: a duration back from now (`30d`, `12h`, `90m`) or RFC 3339.
        since: Query<Option<String>>,
        /// The window's end (RFC 3339, default now).
        until: Query<Option<String>>,
    ) -> Result<Json<StatusDto>, ApiError> {
        let probe = probe.0.as_deref().map(parse_probe_id).transpose()?;
        let now = self.app.clock.now();
        let since = since
            .0
            .as_deref()
            .map(|t| status::parse_since("since", t, now))
            .transpose()?;
        let summary = status::summary(
            &self.app,
            probe.as_ref(),
            since,
            time_param("until", until.0.as_deref())?,
        )
        .await?;
        Ok(Json((&summary).into()))
    }
}
