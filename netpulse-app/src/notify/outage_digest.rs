//! The outage part of a digest: per probe and family with rounds in the window, its outages
//! (count, time down and partly down in the window) and availability with its coverage
//! (never one without the other), then the worst outages of the window ("most severe" order:
//! complete before partial, then impact, then duration).

use std::collections::BTreeMap;

use netpulse_domain::Timestamp;
use netpulse_domain::outage::availability::StateTime;
use netpulse_domain::outage::{Availability, OutageRules, SeriesFamily};
use netpulse_ports::outage_store::{OutageFilter, OutageOrder, StoredOutage};
use netpulse_ports::storage::StorageError;

use super::{Notifications, render};

/// The worst outages a digest lists.
pub(super) const WORST: usize = 5;

/// One series' figures over the window.
#[derive(Debug, Clone)]
pub(super) struct SeriesLine {
    /// The probe's name.
    pub(super) probe: String,
    /// The family.
    pub(super) family: SeriesFamily,
    /// Outages going on in the window.
    pub(super) outages: usize,
    /// Time per state in the window.
    pub(super) time: StateTime,
    /// Availability, strict availability and coverage.
    pub(super) availability: Availability,
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| format!("{:.2} %", v * 100.0))
}

/// The section's text (`None` when no series has a round in the window).
pub(super) fn section(
    series: &[SeriesLine],
    worst: &[(String, StoredOutage)],
    from: Timestamp,
    until: Timestamp,
) -> Option<String> {
    if series.is_empty() {
        return None;
    }
    let mut out = format!(
        "\nOutages and uptime, {} to {}:\n",
        from.to_rfc3339(),
        until.to_rfc3339()
    );
    for s in series {
        let a = &s.availability;
        out.push_str(&format!(
            "- {} {}: {} outage{}, down {}, partly down {}, availability {} (strict {}), coverage {}\n",
            s.probe,
            s.family,
            s.outages,
            if s.outages == 1 { "" } else { "s" },
            render::duration(s.time.complete_ms / 1000),
            render::duration(s.time.partial_ms / 1000),
            pct(a.availability),
            pct(a.strict),
            pct(a.coverage),
        ));
    }
    if !worst.is_empty() {
        out.push_str("Worst outages:\n");
        for (probe, o) in worst {
            let e = &o.episode;
            out.push_str(&format!(
                "- {probe} {} from {}{}: {}, {}, {}\n",
                o.family,
                Timestamp::from_unix_millis(e.started_at_ms).to_rfc3339(),
                e.ended_at_ms().map_or_else(
                    || " (ongoing)".to_owned(),
                    |end| format!(" to {}", Timestamp::from_unix_millis(end).to_rfc3339())
                ),
                render::duration(e.duration_ms() / 1000),
                e.severity().label(),
                e.attribution().as_str(),
            ));
        }
    }
    Some(out)
}

impl Notifications {
    /// The outage section of the digest of `[from, until)`.
    pub(super) async fn outage_digest(
        &self,
        probes: &BTreeMap<String, String>,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Option<String>, StorageError> {
        let rules = OutageRules::default();
        let window_ms = until.unix_millis() - from.unix_millis();
        let filter = OutageFilter {
            since: Some(from),
            until: Some(until),
            ..OutageFilter::default()
        };
        let mut outages = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .storage
                .outages(&filter, OutageOrder::Severity, 1000, cursor.as_deref())
                .await?;
            outages.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let name = |id: &str| probes.get(id).cloned().unwrap_or_else(|| id.to_owned());
        let mut series = Vec::new();
        for s in self.storage.outage_series(None).await? {
            let time = self
                .storage
                .outage_state_time(&s.probe_id, s.family, from, until, rules.period_ms)
                .await?;
            if time.known_ms == 0 {
                continue;
            }
            series.push(SeriesLine {
                probe: name(s.probe_id.as_str()),
                family: s.family,
                outages: outages
                    .iter()
                    .filter(|o| o.probe_id == s.probe_id && o.family == s.family)
                    .count(),
                availability: Availability::of(window_ms, &time),
                time,
            });
        }
        series.sort_by(|a, b| (&a.probe, a.family).cmp(&(&b.probe, b.family)));
        let worst: Vec<(String, StoredOutage)> = outages
            .into_iter()
            .take(WORST)
            .map(|o| (name(o.probe_id.as_str()), o))
            .collect();
        Ok(section(&series, &worst, from, until))
    }
}
