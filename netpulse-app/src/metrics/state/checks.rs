//! The check part of a scrape: per check and family, `netpulse_check_up`, the latency and loss
//! of the latest round, and the stored results by outcome. Everything comes from the check rows
//! and their state rows (one per check and family, written at ingest by newer rounds only), so
//! a scrape never reads check results.

use std::collections::HashMap;
use std::sync::Arc;

use netpulse_domain::Timestamp;
use netpulse_domain::check::Outcome;
use netpulse_domain::id::CheckId;
use netpulse_ports::check_store::{Check, CheckState};
use opentelemetry::KeyValue;

use super::catalog::CatalogProbe;
use super::family::Family;
use super::frame::{Frame, flag, kv, kv_static};

/// A latest round is fresh for this many check intervals (at least [`MIN_FRESH_SECONDS`]).
pub const FRESH_INTERVALS: i64 = 3;
/// The shortest freshness window, seconds.
pub const MIN_FRESH_SECONDS: i64 = 180;

/// One check and family as a scrape exports it.
#[derive(Debug, Clone)]
pub struct CatalogCheck {
    /// `probe`, `site`, `check_id`, `kind`, `target`, `family`.
    pub labels: Arc<[KeyValue]>,
    /// Seconds between its runs.
    pub interval_s: u32,
    /// Its state row.
    pub state: CheckState,
}

/// The exported checks: enabled checks of exported (enabled) probes that have a state row, in
/// probe, check and family order.
pub fn build(
    probes: &[CatalogProbe],
    checks: Vec<Check>,
    states: Vec<CheckState>,
) -> Vec<CatalogCheck> {
    let probes: HashMap<_, _> = probes.iter().map(|p| (&p.probe.id, p)).collect();
    let checks: HashMap<CheckId, Check> = checks
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| (c.id.clone(), c))
        .collect();
    states
        .into_iter()
        .filter_map(|state| {
            let check = checks.get(&state.check_id)?;
            let probe = probes.get(&state.probe_id)?;
            let target: Arc<str> = match check.spec.port {
                Some(p) => Arc::from(format!("{}:{p}", check.spec.target)),
                None => Arc::from(check.spec.target.as_str()),
            };
            let labels: Arc<[KeyValue]> = Arc::from(vec![
                kv("probe", &probe.name),
                kv("site", &probe.site),
                kv("check_id", &Arc::from(check.id.as_str())),
                kv_static("kind", check.spec.kind.as_str()),
                kv("target", &target),
                kv_static("family", state.family.as_str()),
            ]);
            Some(CatalogCheck {
                labels,
                interval_s: check.spec.interval_s,
                state,
            })
        })
        .collect()
}

/// Adds the check series to the frame.
pub fn push_checks(f: &mut Frame, checks: &[CatalogCheck], now: Timestamp) {
    for c in checks {
        let s = &c.state;
        let window = (FRESH_INTERVALS * i64::from(c.interval_s)).max(MIN_FRESH_SECONDS);
        let fresh = now.seconds_since(s.round_at) <= window;
        if matches!(s.outcome, Outcome::Ok | Outcome::Fail) {
            f.push(
                Family::CheckUp,
                &c.labels,
                vec![],
                flag(fresh && s.outcome == Outcome::Ok),
            );
        }
        if let Some(l) = s.latency_ms {
            f.push(Family::CheckLatency, &c.labels, vec![], l / 1000.0);
        }
        if let Some(loss) = s.loss_pct {
            f.push(Family::CheckPacketLoss, &c.labels, vec![], loss / 100.0);
        }
        for (outcome, n) in [
            (Outcome::Ok, s.runs.ok),
            (Outcome::Fail, s.runs.fail),
            (Outcome::NotApplicable, s.runs.not_applicable),
            (Outcome::LocalError, s.runs.local_error),
        ] {
            f.push(
                Family::CheckRuns,
                &c.labels,
                vec![kv_static("outcome", outcome.as_str())],
                n as f64,
            );
        }
    }
}
