//! Connectivity `/connectivity`: per probe, each check and family with its state, last failure
//! reason, latency and loss over 6 h / 24 h / 7 d as a SmokePing-style band (median line, the
//! RTT spread shaded, loss and failures coloured below), and DNS ratings per resolver.

use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use netpulse_domain::check::DnsRating;
use netpulse_domain::check::dns::ResolverSummary;
use netpulse_domain::wording;

use crate::error::AppError;
use crate::service::connectivity::{self, Bucket, CheckView, WINDOWS};
use crate::service::probes;
use crate::web::format;
use crate::web::pages::history::Opt;
use crate::web::settings::SiteSettings;
use crate::web::{Web, pages};

/// The query.
#[derive(Debug, Default, Deserialize)]
pub struct ConnectivityQuery {
    probe: Option<String>,
    window: Option<String>,
}

/// A loss or failure mark under the band.
#[derive(Debug, Clone, Serialize)]
pub struct Mark {
    /// Left edge in the 0–100 view box.
    pub x: String,
    /// `loss` (some loss), `heavy` (≥ 20 % or a failure).
    pub level: String,
}

/// The band of one row, in a 100 × 30 view box (latency from 0 at the bottom to `scale_ms`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Band {
    /// The spread polygon (`points`), one per unbroken run.
    pub spreads: Vec<String>,
    /// The median polylines, one per unbroken run.
    pub medians: Vec<String>,
    /// Loss and failure marks.
    pub marks: Vec<Mark>,
    /// The top of the scale, for people.
    pub scale: String,
    /// Whether there is anything to draw.
    pub empty: bool,
}

/// A row.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRowView {
    /// `icmp 1.1.1.1`, `tcp example.org:443`.
    pub name: String,
    /// `v4` or `v6`.
    pub family: String,
    /// connectivity or service.
    pub role: String,
    /// `up`, `failing`, `not applicable`, `local error`, `no results`, `disabled`.
    pub state: String,
    /// The badge class: `healthy`, `failed` or `off`.
    pub tone: String,
    /// Last failure: when and why.
    pub last_failure: String,
    /// Window figures.
    pub success: String,
    /// Window figures.
    pub latency: String,
    /// Window figures.
    pub loss: String,
    /// DNS checks: the rating of the window's median.
    pub dns_rating: String,
    /// DNS checks: one line per resolver and record type.
    pub dns_resolvers: Vec<ResolverLine>,
    /// The band.
    pub band: Band,
}

/// A DNS resolver's rating over the window.
#[derive(Debug, Clone, Serialize)]
pub struct ResolverLine {
    /// `1.1.1.1 A`.
    pub name: String,
    /// `GOOD`.
    pub rating: String,
    /// The badge class of the rating: `healthy`, `degraded` or `failed`.
    pub tone: String,
    /// `7.2 ms`, and how many rounds got no answer (`· 3 of 1440 rounds failed`).
    pub detail: String,
}

fn resolver_line(r: &ResolverSummary) -> ResolverLine {
    let tone = match r.rating {
        DnsRating::Excellent | DnsRating::Good => "healthy",
        DnsRating::Slow => "degraded",
        DnsRating::Critical | DnsRating::Failed => "failed",
    };
    let failed = if r.failed_rounds > 0 {
        format!(" · {} of {} rounds failed", r.failed_rounds, r.rounds)
    } else {
        String::new()
    };
    ResolverLine {
        name: format!("{} {}", r.resolver, r.record_type.as_str()),
        rating: r.rating.as_str().to_uppercase(),
        tone: tone.into(),
        detail: format!("{}{failed}", format::millis(r.median_ms)),
    }
}

/// The page's data.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectivityPage {
    /// Probes to choose from.
    pub probes: Vec<Opt>,
    /// Windows.
    pub windows: Vec<Opt>,
    /// The chosen probe's id (for the window links).
    pub probe: String,
    /// Rows.
    pub rows: Vec<CheckRowView>,
}

fn y(ms: f64, scale: f64) -> f64 {
    28.0 - (ms / scale).min(1.0) * 26.0
}

/// Draws the buckets: x by bucket centre, y by latency on a scale of the largest spread.
pub fn band(buckets: &[Bucket]) -> Band {
    let scale = buckets
        .iter()
        .filter_map(|b| b.high_ms.or(b.median_ms))
        .fold(0.0_f64, f64::max);
    let n = buckets.len().max(1) as f64;
    let x = |i: usize| (i as f64 + 0.5) * 100.0 / n;
    let mut out = Band {
        empty: scale <= 0.0,
        scale: format::millis(Some(scale)),
        ..Band::default()
    };
    if out.empty {
        return out;
    }
    let mut run: Vec<(f64, f64, f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64, f64, f64)>, out: &mut Band| {
        if run.is_empty() {
            return;
        }
        let top: Vec<String> = run
            .iter()
            .map(|(x, _, hi, _)| format!("{x:.2},{hi:.2}"))
            .collect();
        let bottom: Vec<String> = run
            .iter()
            .rev()
            .map(|(x, lo, _, _)| format!("{x:.2},{lo:.2}"))
            .collect();
        out.spreads
            .push(format!("{} {}", top.join(" "), bottom.join(" ")));
        out.medians.push(
            run.iter()
                .map(|(x, _, _, m)| format!("{x:.2},{m:.2}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        run.clear();
    };
    for (i, b) in buckets.iter().enumerate() {
        match b.median_ms {
            Some(m) => run.push((
                x(i),
                y(b.low_ms.unwrap_or(m), scale),
                y(b.high_ms.unwrap_or(m), scale),
                y(m, scale),
            )),
            None => flush(&mut run, &mut out),
        }
        let loss = b.loss_pct.unwrap_or(0.0);
        if b.failed > 0 || loss >= 20.0 {
            out.marks.push(Mark {
                x: format!("{:.2}", i as f64 * 100.0 / n),
                level: "heavy".into(),
            });
        } else if loss > 0.0 {
            out.marks.push(Mark {
                x: format!("{:.2}", i as f64 * 100.0 / n),
                level: "loss".into(),
            });
        }
    }
    flush(&mut run, &mut out);
    out
}

fn row(v: &CheckView, site: &SiteSettings, now: netpulse_domain::Timestamp) -> CheckRowView {
    let spec = &v.check.spec;
    let name = match spec.port {
        Some(p) => format!("{} {}:{p}", spec.kind, spec.target),
        None => format!("{} {}", spec.kind, spec.target),
    };
    let (state, tone) = match (&v.state, v.check.enabled) {
        (_, false) => ("disabled", "off"),
        (None, _) => ("no results", "off"),
        (Some(s), _) => match s.outcome {
            netpulse_domain::check::Outcome::Ok => ("up", "healthy"),
            netpulse_domain::check::Outcome::Fail => ("failing", "failed"),
            netpulse_domain::check::Outcome::NotApplicable => ("not applicable", "off"),
            netpulse_domain::check::Outcome::LocalError => ("local error", "failed"),
        },
    };
    let last_failure = v
        .state
        .as_ref()
        .and_then(|s| s.last_failure.as_ref())
        .map_or_else(String::new, |f| {
            format!(
                "{} ({}): {}{}",
                format::relative(f.round_at, now),
                format::date_time(f.round_at, &site.tz),
                f.class.map_or("", wording::check_failure_class),
                f.message
                    .as_deref()
                    .map_or_else(String::new, |m| format!(" — {m}"))
            )
        });
    let f = &v.figures;
    CheckRowView {
        name,
        family: v.family.as_str().into(),
        role: spec.role.as_str().into(),
        state: state.into(),
        tone: tone.into(),
        last_failure,
        success: format::percent(f.success_ratio.map(|r| r * 100.0)),
        latency: format!(
            "{} / {}",
            format::millis(f.latency_p50_ms),
            format::millis(f.latency_p95_ms)
        ),
        loss: format::percent(f.loss_mean_pct),
        dns_rating: v
            .dns_rating
            .map_or_else(String::new, |r| r.as_str().to_uppercase()),
        dns_resolvers: v.dns_resolvers.iter().map(resolver_line).collect(),
        band: band(&v.buckets),
    }
}

async fn build(
    web: &Web,
    q: &ConnectivityQuery,
    site: &SiteSettings,
) -> Result<ConnectivityPage, AppError> {
    let all = probes::list(&web.app).await?;
    let (window, seconds) = WINDOWS
        .iter()
        .find(|(w, _)| Some(*w) == q.window.as_deref())
        .copied()
        .unwrap_or(WINDOWS[1]);
    let chosen = q
        .probe
        .as_deref()
        .and_then(|p| all.iter().find(|x| x.id.as_str() == p))
        .or_else(|| all.first());
    let now = web.app.clock.now();
    let views = match chosen {
        Some(p) => connectivity::probe_view(&web.app, &p.id, seconds).await?,
        None => Vec::new(),
    };
    let rows = views.iter().map(|v| row(v, site, now)).collect();
    let probe = chosen.map_or_else(String::new, |p| p.id.to_string());
    Ok(ConnectivityPage {
        probes: all
            .iter()
            .map(|p| Opt {
                value: p.id.to_string(),
                label: p.name.to_string(),
                selected: p.id.as_str() == probe,
            })
            .collect(),
        windows: WINDOWS
            .iter()
            .map(|(w, _)| Opt {
                value: (*w).into(),
                label: (*w).into(),
                selected: *w == window,
            })
            .collect(),
        probe,
        rows,
    })
}

/// `GET /connectivity`.
#[handler]
pub(crate) async fn show(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<ConnectivityQuery>,
) -> Response {
    pages::show(
        req,
        &web,
        "connectivity.html",
        "Connectivity",
        "connectivity",
        async |site| build(&web, &q, site).await,
    )
    .await
}
