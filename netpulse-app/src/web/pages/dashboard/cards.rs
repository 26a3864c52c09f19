//! The connection cards (status badge, newest download, 24 h sparkline) and probe liveness.

use netpulse_domain::Timestamp;
use netpulse_domain::liveness;
use netpulse_domain::model::Measurement;
use netpulse_domain::stats::{SeriesRange, bucket_series};
use netpulse_domain::status::{ConnectionStatus, connection_status};
use netpulse_ports::web_store::ConnectionOverview;
use serde::Serialize;

use crate::error::AppError;
use crate::service::{dashboard_failures, probes};
use crate::web::Web;
use crate::web::format;
use crate::web::settings::SiteSettings;
use crate::web::sparkline::{Sparkline, draw};
use netpulse_domain::chart_line::join_limit_seconds;

use super::selected::FailureNote;

/// The window the status badge looks at (§1.9).
const STATUS_WINDOW_SECONDS: i64 = 7 * 86_400;

/// A connection's card.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its probe's name.
    pub probe: String,
    /// Its colour name.
    pub colour: String,
    /// The configured ISP.
    pub isp: String,
    /// `healthy`, `degraded` or `down`.
    pub status: String,
    /// `Healthy`, `Degraded`, `Down`.
    pub status_label: String,
    /// The newest completed download.
    pub download: String,
    /// When that was.
    pub latest_when: String,
    /// 24 h of downloads.
    pub sparkline: Sparkline,
    /// The newest failed test, when it is newer than the newest completed one.
    pub failure: Option<FailureNote>,
    /// How many tests ran in the last day when every one of them failed.
    pub all_failed: Option<u64>,
    /// Whether it is the selected one.
    pub selected: bool,
    /// Whether it is tested.
    pub enabled: bool,
    /// The link selecting it.
    pub href: String,
}

/// A probe's liveness.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeLiveness {
    /// Its name.
    pub name: String,
    /// Polled recently.
    pub online: bool,
    /// `polled 2 minutes ago`, `never polled`.
    pub label: String,
    /// The agent's version.
    pub agent_version: String,
}

fn status_of(o: &ConnectionOverview, now: Timestamp) -> ConnectionStatus {
    let since = now.plus_seconds(-STATUS_WINDOW_SECONDS);
    let newest = o
        .state
        .last
        .as_ref()
        .filter(|l| l.completed_at >= since)
        .and_then(|_| o.state.history.newest_first().first().copied());
    connection_status(
        o.state.last_completed_at.is_some(),
        newest,
        o.connection.adaptive.is_degraded(&o.state.history),
    )
}

fn status_label(s: ConnectionStatus) -> &'static str {
    match s {
        ConnectionStatus::Healthy => "Healthy",
        ConnectionStatus::Degraded => "Degraded",
        ConnectionStatus::Down => "Down",
    }
}

/// A connection's card (and its newest completed result, which the selected part shows too).
pub(super) async fn card(
    web: &Web,
    o: &ConnectionOverview,
    now: Timestamp,
    href: String,
    selected: bool,
    site: &SiteSettings,
) -> Result<(Card, Option<Measurement>, Option<Measurement>), AppError> {
    let storage = &web.app.storage;
    let status = status_of(o, now);
    let latest = storage.latest_completed(&o.connection.id).await?;
    let day = storage
        .series_samples(&o.connection.id, now.plus_seconds(-86_400), now)
        .await?;
    let failure = dashboard_failures::latest_failure(&web.app, &o.connection.id).await?;
    let newer_failure = failure.as_ref().filter(|f| {
        latest
            .as_ref()
            .is_none_or(|m| f.completed_at > m.completed_at)
    });
    let all_failed =
        dashboard_failures::all_failed_last_day(&web.app, &o.connection.id, now).await?;
    let interval = i64::from(
        o.connection
            .schedule
            .normal_interval_seconds(&o.connection.id),
    );
    let spark = bucket_series(
        SeriesRange::Day,
        now,
        &day.iter()
            .map(|s| (s.at, s.download_bps))
            .collect::<Vec<_>>(),
    );
    let card = Card {
        href,
        name: o.connection.name.as_str().to_owned(),
        probe: o.probe_name.clone(),
        colour: o.connection.colour.as_str().to_owned(),
        isp: o.connection.isp.clone(),
        status: status.as_str().to_owned(),
        status_label: status_label(status).to_owned(),
        download: format::speed(latest.as_ref().and_then(|m| m.observation.download_bps)),
        latest_when: latest.as_ref().map_or_else(
            || "no completed test yet".to_owned(),
            |m| format::relative(m.completed_at, now),
        ),
        sparkline: draw(
            &spark
                .points
                .iter()
                .map(|p| (p.at, p.value))
                .collect::<Vec<_>>(),
            SeriesRange::Day.since(now),
            SeriesRange::Day.window_seconds(),
            join_limit_seconds(interval, SeriesRange::Day.bucket_width_seconds()),
        ),
        failure: newer_failure.map(|f| FailureNote::of(f, now, site)),
        all_failed,
        selected,
        enabled: o.connection.enabled,
        id: o.connection.id.as_str().to_owned(),
    };
    Ok((card, latest, failure))
}

/// Every probe and whether its agent polled recently (silent for at most `max(2 × poll interval + 30 s, 120 s)`, `netpulse_domain::agent_state`).
pub(super) async fn probe_liveness(
    web: &Web,
    now: Timestamp,
) -> Result<Vec<ProbeLiveness>, AppError> {
    Ok(probes::list(&web.app)
        .await?
        .into_iter()
        .map(|p| {
            let stale_after = liveness::stale_after_seconds(web.app.poll_interval_seconds);
            let online = liveness::is_alive(p.last_poll_at, now, stale_after);
            ProbeLiveness {
                name: p.name.as_str().to_owned(),
                online: online && p.enabled,
                label: match (p.enabled, p.last_poll_at) {
                    (false, _) => "disabled".to_owned(),
                    (true, None) => "never polled".to_owned(),
                    (true, Some(t)) => format!("polled {}", format::relative(t, now)),
                },
                agent_version: p.agent_version.unwrap_or_default(),
            }
        })
        .collect())
}
