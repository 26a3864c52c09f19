//! The outage part of a scrape, per probe and family (`v4`, `v6`, `all`):
//! `netpulse_outage_active` (1 while an episode is open), `netpulse_outages_total` (episodes
//! announced opened) and `netpulse_outage_seconds_total{severity}` (time in down rounds,
//! `complete`, and in partial rounds, `partial`: the closed episodes' counters plus the open
//! episode so far). Everything comes from the series' state rows and their open episode, so a
//! scrape never reads round or episode history.

use std::collections::HashMap;
use std::sync::Arc;

use netpulse_domain::outage::OutageRules;
use netpulse_ports::outage_store::SeriesState;
use opentelemetry::KeyValue;

use super::catalog::CatalogProbe;
use super::family::Family;
use super::frame::{Frame, flag, kv, kv_static};

/// One series as a scrape exports it.
#[derive(Debug, Clone)]
pub struct CatalogOutage {
    /// `probe`, `family`.
    pub labels: Arc<[KeyValue]>,
    /// Its state row.
    pub state: SeriesState,
}

/// The exported series: those of exported (enabled) probes, in probe and family order.
pub fn build(probes: &[CatalogProbe], states: Vec<SeriesState>) -> Vec<CatalogOutage> {
    let probes: HashMap<_, _> = probes.iter().map(|p| (&p.probe.id, p)).collect();
    let mut out: Vec<CatalogOutage> = states
        .into_iter()
        .filter_map(|state| {
            let probe = probes.get(&state.probe_id)?;
            Some(CatalogOutage {
                labels: Arc::from(vec![
                    kv("probe", &probe.name),
                    kv_static("family", state.family.as_str()),
                ]),
                state,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        (a.labels[0].value.as_str(), a.state.family)
            .cmp(&(b.labels[0].value.as_str(), b.state.family))
    });
    out
}

/// Adds the outage series to the frame.
pub fn push_outages(f: &mut Frame, outages: &[CatalogOutage]) {
    let rules = OutageRules::default();
    for o in outages {
        let s = &o.state;
        let open = s.open.as_ref().map(|o| &o.episode);
        f.push(
            Family::OutageActive,
            &o.labels,
            vec![],
            flag(open.is_some()),
        );
        f.push(Family::Outages, &o.labels, vec![], s.outages_total as f64);
        let (complete, partial) =
            open.map_or((0, 0), |e| (e.complete_ms(&rules), e.partial_ms(&rules)));
        for (severity, ms) in [
            ("complete", s.complete_ms_total + complete),
            ("partial", s.partial_ms_total + partial),
        ] {
            f.push(
                Family::OutageSeconds,
                &o.labels,
                vec![kv_static("severity", severity)],
                ms as f64 / 1000.0,
            );
        }
    }
}
