//! Baselines over HTTP (API token or session): `GET /api/v1/connections/{connectionId}/baseline`
//! (the baseline in force today per metric) and `GET /api/v1/checks/{checkId}/baseline` (the
//! latency baseline per family).

use netpulse_domain::id::{CheckId, ConnectionId};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::auth::RestAuth;
use super::problem::ApiError;
use crate::error::AppError;
use crate::service::App;
use crate::service::baselines::{self, ConnectionBaselines, MetricBaseline};
use crate::service::check_baselines;

#[derive(Tags)]
enum Tag {
    /// Baselines: the 14-day median of a connection's results and the deviation band.
    Baselines,
}

/// The baselines endpoint.
#[derive(Debug)]
pub struct BaselinesApi {
    /// The server.
    pub app: App,
}

/// One metric's baseline in force.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct MetricBaselineDto {
    /// `download`, `upload` (bits per second) or `ping` (ms).
    pub metric: String,
    /// `lower` (lower is worse) or `higher`.
    pub worse: String,
    /// Samples in the window (0: none yet, or not computed yet).
    pub n: u64,
    /// Whether it has enough samples (50) to alert on; otherwise it is collecting n/50.
    pub reliable: bool,
    /// The median (null without samples).
    pub median: Option<f64>,
    /// The 10th percentile.
    pub p10: Option<f64>,
    /// The 90th percentile.
    pub p90: Option<f64>,
    /// The median absolute deviation.
    pub mad: Option<f64>,
    /// The band's low end: median × (1 − deviationPct/100); a download or upload below it
    /// deviates.
    pub band_low: Option<f64>,
    /// The band's high end: median × (1 + deviationPct/100); a ping above it deviates.
    pub band_high: Option<f64>,
    /// The local day (site time zone) whose row is in force, `YYYY-MM-DD`.
    pub day: Option<String>,
    /// When it was computed (RFC 3339).
    pub computed_at: Option<String>,
}

/// A check's latency baseline in force for one family.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct FamilyBaselineDto {
    /// `v4` or `v6`.
    pub family: String,
    /// Samples (`ok` results) in the window (0: none yet, or not computed yet).
    pub n: u64,
    /// Whether it has 50 samples or more.
    pub reliable: bool,
    /// The median latency, ms.
    pub median: Option<f64>,
    /// The 10th percentile, ms.
    pub p10: Option<f64>,
    /// The 90th percentile, ms.
    pub p90: Option<f64>,
    /// The median absolute deviation, ms.
    pub mad: Option<f64>,
    /// The local day whose row is in force, `YYYY-MM-DD`.
    pub day: Option<String>,
}

/// A check's latency baselines in force now.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct CheckBaselineDto {
    /// The check.
    pub check_id: String,
    /// v4 and v6, in that order.
    pub families: Vec<FamilyBaselineDto>,
}

/// A connection's baselines in force now.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct ConnectionBaselineDto {
    /// The connection.
    pub connection_id: String,
    /// Its deviation, percent.
    pub deviation_pct: f64,
    /// The samples a baseline needs to be reliable.
    pub min_samples: u64,
    /// Download, upload and ping, in that order.
    pub metrics: Vec<MetricBaselineDto>,
}

fn worse(m: netpulse_domain::baseline::Metric) -> &'static str {
    match m.worse() {
        netpulse_domain::baseline::Worse::Lower => "lower",
        netpulse_domain::baseline::Worse::Higher => "higher",
    }
}

fn metric_dto(m: &MetricBaseline, pct: f64) -> MetricBaselineDto {
    let b = m.baseline();
    let band = b.map(|b| b.band(pct));
    MetricBaselineDto {
        metric: m.metric.as_str().to_owned(),
        worse: worse(m.metric).to_owned(),
        n: b.map_or(0, |b| b.n as u64),
        reliable: b.is_some_and(netpulse_domain::baseline::Baseline::reliable),
        median: b.map(|b| b.median),
        p10: b.map(|b| b.p10),
        p90: b.map(|b| b.p90),
        mad: b.map(|b| b.mad),
        band_low: band.map(|(low, _)| low),
        band_high: band.map(|(_, high)| high),
        day: m.row.as_ref().map(|r| r.day.clone()),
        computed_at: m.row.as_ref().map(|r| r.computed_at.to_rfc3339()),
    }
}

/// The DTO of a connection's baselines.
pub fn baseline_dto(c: &ConnectionBaselines) -> ConnectionBaselineDto {
    ConnectionBaselineDto {
        connection_id: c.connection.to_string(),
        deviation_pct: c.deviation_pct,
        min_samples: netpulse_domain::baseline::MIN_SAMPLES as u64,
        metrics: c
            .metrics
            .iter()
            .map(|m| metric_dto(m, c.deviation_pct))
            .collect(),
    }
}

#[OpenApi(prefix_path = "/v1")]
impl BaselinesApi {
    /// The connection's baselines in force today (site time zone): per metric the samples,
    /// median, P10, P90, whether it is reliable, and the deviation band.
    #[oai(
        path = "/connections/:connection_id/baseline",
        method = "get",
        tag = "Tag::Baselines"
    )]
    async fn get_baseline(
        &self,
        _auth: RestAuth,
        connection_id: Path<String>,
    ) -> Result<Json<ConnectionBaselineDto>, ApiError> {
        let id = ConnectionId::parse(&connection_id)
            .map_err(|e| AppError::invalid("connectionId", e.to_string()))?;
        let b = baselines::in_force(&self.app, &id).await?;
        Ok(Json(baseline_dto(&b)))
    }

    /// The check's latency baselines in force today (site time zone), per family.
    #[oai(
        path = "/checks/:check_id/baseline",
        method = "get",
        tag = "Tag::Baselines"
    )]
    async fn get_check_baseline(
        &self,
        _auth: RestAuth,
        check_id: Path<String>,
    ) -> Result<Json<CheckBaselineDto>, ApiError> {
        let id =
            CheckId::parse(&check_id).map_err(|e| AppError::invalid("checkId", e.to_string()))?;
        let families = check_baselines::in_force(&self.app, &id)
            .await?
            .into_iter()
            .map(|(family, row)| {
                let b = row.as_ref().map(|r| &r.baseline);
                FamilyBaselineDto {
                    family: family.as_str().to_owned(),
                    n: b.map_or(0, |b| b.n as u64),
                    reliable: b.is_some_and(netpulse_domain::baseline::Baseline::reliable),
                    median: b.map(|b| b.median),
                    p10: b.map(|b| b.p10),
                    p90: b.map(|b| b.p90),
                    mad: b.map(|b| b.mad),
                    day: row.as_ref().map(|r| r.day.clone()),
                }
            })
            .collect();
        Ok(Json(CheckBaselineDto {
            check_id: id.to_string(),
            families,
        }))
    }
}
