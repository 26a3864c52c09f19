//! Housekeeping, one process at a time (the `housekeeping` lease): probe-offline and probe-back
//! messages, incidents held back by maintenance or the master switch, due digests, pruning
//! the delivery log and the audit log (by age: `audit.keep_days`, default 400 days), and the
//! chores other layers added (see [`super::Chore`]).

use std::collections::BTreeSet;

use netpulse_domain::Timestamp;
use netpulse_domain::notify::{DigestPeriod, LivenessEdge, liveness_edge, offline_after_seconds};
use netpulse_ports::notification_store::NotificationSettings;
use netpulse_ports::storage::StorageError;

use super::{LEASE_SECONDS, Notifications, incident_ref, render};
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_domain::model::Probe;
use netpulse_ports::alerting_store::{AlertSubject, OutageIncident};

/// The incident of a probe-offline alert whose edge was just claimed: opened at the probe's
/// last poll (id derived from the probe and that poll, so the edge's one claim gives one row).
fn offline_incident(probe: &Probe, last: Timestamp, severity: IncidentSeverity) -> OutageIncident {
    OutageIncident {
        id: format!("offline-{}-{}", probe.id, last.unix_millis()),
        source: AlertSource::ProbeOffline,
        subject_id: probe.id.to_string(),
        probe_id: probe.id.to_string(),
        family: "all".to_owned(),
        severity: Some(severity),
        opened_at: last,
        closed_at: None,
        acknowledged_by: None,
        acknowledged_at: None,
        reminded_at: None,
    }
}

impl Notifications {
    /// One round of housekeeping (see the module docs); does nothing without the lease.
    pub async fn housekeeping(&self) -> Result<(), StorageError> {
        let now = self.clock.now();
        if !self
            .storage
            .acquire_lease(
                "housekeeping",
                &self.holder,
                now,
                now.plus_seconds(LEASE_SECONDS),
            )
            .await?
        {
            return Ok(());
        }
        // Open outages of silent series close (with `endUncertain`) whether or not
        // notifications are on; their closing is announced when they are.
        for edge in self.storage.close_silent_outages(now).await? {
            self.outage_edge(&edge).await?;
        }
        let settings = self.settings().await?;
        if settings.enabled {
            if settings.probe_offline {
                self.check_probes(now).await?;
            }
            self.announce_held_incidents(&settings, now).await?;
            self.send_reminders(now, settings.public_url.as_deref())
                .await?;
            self.send_outage_reminders(now).await?;
            for period in [DigestPeriod::Daily, DigestPeriod::Weekly] {
                if settings.digest.enabled(period) {
                    self.digest_if_due(&settings, period, now).await?;
                }
            }
        }
        let retention = i64::from(settings.log_retention_days.max(1)) * 86_400;
        let pruned = self
            .storage
            .prune_notifications(now.plus_seconds(-retention))
            .await?;
        if pruned > 0 {
            tracing::info!(pruned, "delivery log pruned");
        }
        let keep = netpulse_domain::access::audit_keep_days(
            self.storage
                .setting(netpulse_domain::access::AUDIT_KEEP_SETTING)
                .await?
                .as_deref(),
        );
        let pruned = self
            .storage
            .prune_audit(now.plus_seconds(-keep * 86_400))
            .await?;
        if pruned > 0 {
            tracing::info!(pruned, keep_days = keep, "audit log pruned");
        }
        for chore in self.chores() {
            chore.run().await;
        }
        Ok(())
    }

    #[allow(clippy::collapsible_match)]
    async fn check_probes(&self, now: Timestamp) -> Result<(), StorageError> {
        let offline: BTreeSet<String> = self
            .storage
            .offline_probes()
            .await?
            .into_iter()
            .map(|p| p.to_string())
            .collect();
        let limit = offline_after_seconds(self.poll_interval_seconds);
        // A probe in maintenance raises no offline alert (its edge waits for the window's end).
        let paused: BTreeSet<String> = self
            .storage
            .active_probe_maintenance(now)
            .await?
            .into_iter()
            .map(|w| w.probe_id.to_string())
            .collect();
        for probe in self.storage.probes().await? {
            if paused.contains(probe.id.as_str()) {
                continue;
            }
            let Some(last) = probe.last_poll_at else {
                continue;
            };
            if !probe.enabled {
                continue;
            }
            // Silence is counted from this process's start at the earliest, so a server that was
            // down itself does not call every probe offline when it comes back.
            let silent = now.seconds_since(last.max(self.started_at));
            match liveness_edge(offline.contains(probe.id.as_str()), silent, limit) {
                Some(LivenessEdge::Offline) => {
                    if self
                        .storage
                        .claim_probe_liveness(&probe.id, true, now)
                        .await?
                    {
                        let route = self
                            .route(
                                AlertSource::ProbeOffline,
                                Some((AlertSubject::Probe, probe.id.as_str())),
                            )
                            .await?;
                        self.storage
                            .open_alert_incident(&offline_incident(&probe, last, route.severity))
                            .await?;
                        let n = incident_ref::attach(
                            render::probe_offline(&probe, last, limit, now),
                            incident_ref::probe_key(&probe),
                            AlertSource::ProbeOffline,
                            route.severity,
                            Some(last),
                            &probe,
                        );
                        self.enqueue_to(n, None, route.list.as_ref()).await?;
                    }
                }
                Some(LivenessEdge::Back) => {
                    if self
                        .storage
                        .claim_probe_liveness(&probe.id, false, now)
                        .await?
                    {
                        let route = self
                            .route(
                                AlertSource::ProbeOffline,
                                Some((AlertSubject::Probe, probe.id.as_str())),
                            )
                            .await?;
                        self.storage
                            .close_alert_incidents(
                                AlertSource::ProbeOffline,
                                probe.id.as_str(),
                                "all",
                                now,
                            )
                            .await?;
                        let n = incident_ref::attach(
                            render::probe_back(&probe, None, now),
                            incident_ref::probe_key(&probe),
                            AlertSource::ProbeOffline,
                            route.severity,
                            None,
                            &probe,
                        );
                        self.enqueue_to(n, None, route.list.as_ref()).await?;
                    }
                }
                None => {}
            }
        }
        Ok(())
    }

    async fn announce_held_incidents(
        &self,
        settings: &NotificationSettings,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        for incident in self.storage.unannounced_incidents().await? {
            let Some(connection) = self.storage.connection(&incident.connection_id).await? else {
                continue;
            };
            if !connection.enabled || self.in_maintenance(&connection.id, now).await? {
                continue;
            }
            let Some(probe) = self.storage.probe(&connection.probe_id).await? else {
                continue;
            };
            let route = self
                .route(
                    AlertSource::Connection,
                    Some((AlertSubject::Connection, connection.id.as_str())),
                )
                .await?;
            let result = match incident
                .result_id
                .as_deref()
                .map(netpulse_domain::id::ResultId::parse)
            {
                Some(Ok(id)) => self.storage.measurement(&id).await?,
                _ => None,
            };
            // The tick read the settings when it began; the master switch may have been turned
            // off since (held incidents are rare, so reading it again costs nothing).
            if !self.settings().await?.enabled {
                return Ok(());
            }
            let n = incident_ref::attach(
                render::late_alert(
                    &probe,
                    &connection,
                    result.as_ref(),
                    incident.opened_at,
                    now,
                    settings.public_url.as_deref(),
                ),
                incident.id.clone(),
                AlertSource::Connection,
                route.severity,
                Some(incident.opened_at),
                &probe,
            );
            self.enqueue_to(n, Some(&incident.id), route.list.as_ref())
                .await?;
        }
        Ok(())
    }
}
