//! The Connectivity view of one probe over a window: per check and family its latest state
//! (from the state row), the window's figures, a SmokePing-style series of buckets (median
//! latency, the spread of the RTTs, loss and failures) and, for DNS checks, the rating of the
//! window's median, overall and per resolver and record type. Reads one range of results per
//! check, bounded by the window.

use netpulse_domain::Timestamp;
use netpulse_domain::check::dns::{self, ResolverSummary};
use netpulse_domain::check::{CheckKind, DnsRating, Family, Outcome};
use netpulse_domain::id::ProbeId;
use netpulse_domain::stats;
use netpulse_ports::check_store::{Check, CheckSample, CheckState, Figures};

use super::App;
use super::check_results::figures;
use crate::error::AppError;

/// The windows the page offers: name and seconds.
pub const WINDOWS: [(&str, i64); 3] = [("6h", 6 * 3600), ("24h", 86_400), ("7d", 7 * 86_400)];

/// Buckets drawn over a window.
pub const BUCKETS: usize = 72;

/// One time slice of a check's results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bucket {
    /// Results in it.
    pub count: u64,
    /// `fail` results in it.
    pub failed: u64,
    /// Median latency of its ok results, ms.
    pub median_ms: Option<f64>,
    /// Smallest RTT (or latency) of its ok results, ms.
    pub low_ms: Option<f64>,
    /// Largest RTT (or latency) of its ok results, ms.
    pub high_ms: Option<f64>,
    /// Mean loss, percent.
    pub loss_pct: Option<f64>,
}

/// One check and family on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckView {
    /// The check.
    pub check: Check,
    /// The family.
    pub family: Family,
    /// Its latest state, if it has results.
    pub state: Option<CheckState>,
    /// The window's figures.
    pub figures: Figures,
    /// The window in [`BUCKETS`] slices, oldest first.
    pub buckets: Vec<Bucket>,
    /// DNS checks: the rating of the window's median.
    pub dns_rating: Option<DnsRating>,
    /// DNS checks: per resolver and record type, the rating of the median of its round medians
    /// (empty when the agent sent no per-resolver figures).
    pub dns_resolvers: Vec<ResolverSummary>,
}

fn bucket_of(samples: &[&CheckSample]) -> Bucket {
    let ok: Vec<&&CheckSample> = samples
        .iter()
        .filter(|s| s.outcome == Outcome::Ok)
        .collect();
    let latencies: Vec<f64> = ok.iter().filter_map(|s| s.latency_ms).collect();
    let lows = ok.iter().filter_map(|s| s.rtt_min_ms.or(s.latency_ms));
    let highs = ok.iter().filter_map(|s| s.rtt_max_ms.or(s.latency_ms));
    let losses: Vec<f64> = samples.iter().filter_map(|s| s.loss_pct).collect();
    Bucket {
        count: samples.len() as u64,
        failed: samples
            .iter()
            .filter(|s| s.outcome == Outcome::Fail)
            .count() as u64,
        median_ms: stats::percentile(&latencies, 50.0),
        low_ms: lows.reduce(f64::min),
        high_ms: highs.reduce(f64::max),
        loss_pct: stats::mean(&losses),
    }
}

/// Slices `[since, until)` into [`BUCKETS`] equal parts.
pub fn buckets(samples: &[&CheckSample], since: Timestamp, until: Timestamp) -> Vec<Bucket> {
    let span = (until.unix_millis() - since.unix_millis()).max(1);
    let mut slices: Vec<Vec<&CheckSample>> = vec![Vec::new(); BUCKETS];
    for s in samples {
        let offset = s.round_at.unix_millis() - since.unix_millis();
        if (0..span).contains(&offset) {
            let i = (i128::from(offset) * BUCKETS as i128 / i128::from(span)) as usize;
            slices[i.min(BUCKETS - 1)].push(s);
        }
    }
    slices.iter().map(|b| bucket_of(b)).collect()
}

/// The view of `probe` over the last `window_seconds`.
pub async fn probe_view(
    app: &App,
    probe: &ProbeId,
    window_seconds: i64,
) -> Result<Vec<CheckView>, AppError> {
    let until = app.clock.now();
    let since = until.plus_seconds(-window_seconds);
    let states = app.storage.check_states(Some(probe)).await?;
    let mut out = Vec::new();
    for check in app.storage.checks(Some(probe)).await? {
        let samples = app.storage.check_samples(&check.id, since, until).await?;
        for family in check.spec.family.families() {
            let mine: Vec<&CheckSample> = samples.iter().filter(|s| s.family == *family).collect();
            let fig = figures(mine.iter().copied());
            let dns_rating = (check.spec.kind == CheckKind::Dns && fig.count > 0)
                .then(|| DnsRating::of(fig.latency_p50_ms));
            let dns_resolvers = dns::summarise(mine.iter().flat_map(|s| &s.dns_resolvers));
            out.push(CheckView {
                state: states
                    .iter()
                    .find(|s| s.check_id == check.id && s.family == *family)
                    .cloned(),
                buckets: buckets(&mine, since, until),
                figures: fig,
                dns_rating,
                dns_resolvers,
                family: *family,
                check: check.clone(),
            });
        }
    }
    Ok(out)
}
