//! Outage announcements: an episode's opening and closing, each claimed once by the
//! check-result transaction that found it (also across server processes; a replay or rebuild
//! never claims it again), become an `alert` and a `recovery` through the same outbox,
//! channels, quiet hours and retries as the other alerts. The incident key is the probe and
//! family (one episode is open per series at a time), so incident tools trigger on the opening
//! and resolve on the closing. Severity: the probe's own (`/probes/{id}/alerting`), then the
//! one configured for the `outage` source, else CRITICAL when the `all` family is completely
//! down and HIGH otherwise ([`outage_severity`]). The messages go to the probe's contact list
//! (none: every channel).

use netpulse_domain::Timestamp;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity, outage_severity};
use netpulse_domain::model::Probe;
use netpulse_domain::outage::{OutageRules, SeriesFamily, Severity};
use netpulse_ports::alerting_store::AlertSubject;
use netpulse_ports::check_store::OutageEdge;
use netpulse_ports::notify::{IncidentRef, Notification, NotificationKind, ProbeRef};
use netpulse_ports::storage::StorageError;

use super::{Notifications, render};

/// How a family is named in messages.
pub fn family_words(f: SeriesFamily) -> &'static str {
    match f {
        SeriesFamily::V4 => "IPv4",
        SeriesFamily::V6 => "IPv6",
        SeriesFamily::All => "all families",
    }
}

/// The message of an outage opening or closing; `configured`: the probe's or the `outage`
/// source's severity, if one is set (else the episode's, [`outage_severity`]).
pub fn outage_notification(
    probe: &Probe,
    edge: &OutageEdge,
    configured: Option<IncidentSeverity>,
    now: Timestamp,
) -> Notification {
    let rules = OutageRules::default();
    let o = &edge.outage;
    let e = &o.episode;
    let family = family_words(o.family);
    let started = Timestamp::from_unix_millis(e.started_at_ms);
    let severity = e.severity();
    let duration = render::duration(e.duration_ms() / 1000);
    let (kind, subject, first) = if edge.opened {
        (
            NotificationKind::Alert,
            format!(
                "[NetPulse] {}: internet outage ({family}, {})",
                probe.name,
                severity.label()
            ),
            format!(
                "Probe \"{}\" has an outage over {family} since {}.",
                probe.name,
                started.to_rfc3339()
            ),
        )
    } else {
        (
            NotificationKind::Recovery,
            format!(
                "[NetPulse] {}: outage over ({family}) after {duration}",
                probe.name
            ),
            format!(
                "The outage of probe \"{}\" over {family} from {} to {}{} is over.",
                probe.name,
                started.to_rfc3339(),
                Timestamp::from_unix_millis(e.last_failure_end_ms).to_rfc3339(),
                if e.end_uncertain {
                    " (end uncertain: the probe went silent)"
                } else {
                    ""
                }
            ),
        )
    };
    let mut body = format!(
        "{first}\n\n- duration: {duration}{}\n- severity: {}\n- family: {}\n- attribution: {}\n\
         - rounds: {} down, {} partial, {} without data\n- down time: {}, partial time: {}\n",
        if edge.opened { " so far" } else { "" },
        severity.label(),
        o.family,
        e.attribution().as_str(),
        e.rounds_down,
        e.rounds_partial,
        e.rounds_unknown,
        render::duration(e.complete_ms(&rules) / 1000),
        render::duration(e.partial_ms(&rules) / 1000),
    );
    if !e.failing_checks.is_empty() {
        body.push_str("- failing checks:");
        for (check, class) in e.failing_checks.iter().take(8) {
            body.push_str(&format!(" {check}"));
            if let Some(c) = class {
                body.push_str(&format!(" ({c})"));
            }
        }
        body.push('\n');
    }
    let mut n = Notification::new(kind, subject, body, now);
    n.probe = Some(ProbeRef {
        id: probe.id.to_string(),
        name: probe.name.to_string(),
    });
    n.incident = Some(IncidentRef {
        key: format!("outage-{}-{}", probe.id, o.family),
        severity: configured.unwrap_or_else(|| {
            outage_severity(
                o.family == SeriesFamily::All,
                matches!(severity, Severity::Complete),
            )
        }),
        source: AlertSource::Outage,
        started_at: Some(started),
        site: probe.labels.get("site").map(str::to_owned),
        check: None,
        family: Some(family.to_owned()),
    });
    n
}

impl Notifications {
    /// Queues the announcement of a claimed outage edge (unless notifications are off, or the
    /// probe was deleted meanwhile). Returns whether one was queued.
    pub async fn outage_edge(&self, edge: &OutageEdge) -> Result<bool, StorageError> {
        let settings = self.settings().await?;
        if !settings.enabled {
            tracing::info!(outage = %edge.outage.id, "outage not announced: notifications are off");
            return Ok(false);
        }
        let Some(probe) = self.storage.probe(&edge.outage.probe_id).await? else {
            return Ok(false);
        };
        let route = self
            .route(
                AlertSource::Outage,
                Some((AlertSubject::Probe, probe.id.as_str())),
            )
            .await?;
        let n = outage_notification(&probe, edge, route.configured, self.clock.now());
        self.enqueue_to(n, None, route.list.as_ref()).await
    }
}
