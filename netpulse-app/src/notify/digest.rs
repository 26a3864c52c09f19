//! Digests: each slot is claimed once (a conditional write), then the window before it is
//! summarised per connection, with the window's outages and availability per probe and family
//! (`outage_digest`), and queued.

use std::collections::BTreeMap;

use netpulse_domain::Timestamp;
use netpulse_domain::notify::{DigestPeriod, DigestSample, IncidentSpan, summarize};
use netpulse_ports::notification_store::NotificationSettings;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort, StorageError};

use super::{Notifications, render};

impl Notifications {
    pub(super) async fn digest_if_due(
        &self,
        settings: &NotificationSettings,
        period: DigestPeriod,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let Some(next) = settings.digest.next_slot(period, now, &self.calendar) else {
            return Ok(());
        };
        match self.storage.digest_slot(period).await? {
            None => {
                self.storage.claim_digest_slot(period, None, next).await?;
            }
            Some(slot) if slot <= now => {
                if self
                    .storage
                    .claim_digest_slot(period, Some(slot), next)
                    .await?
                {
                    self.send_digest(period, slot, now).await?;
                }
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Builds and queues the digest of the window ending at `until`; returns whether there was
    /// anything to tell.
    pub async fn send_digest(
        &self,
        period: DigestPeriod,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let from = until.plus_seconds(-period.window_seconds());
        let probes: BTreeMap<String, String> = self
            .storage
            .probes()
            .await?
            .into_iter()
            .map(|p| (p.id.to_string(), p.name.to_string()))
            .collect();
        let mut lines = Vec::new();
        for c in self.storage.connections(None).await? {
            let mut samples = Vec::new();
            let mut cursor = None;
            loop {
                let filter = MeasurementFilter {
                    connection: Some(c.id.clone()),
                    since: Some(from),
                    until: Some(until),
                    ..MeasurementFilter::default()
                };
                let page = self
                    .storage
                    .measurements(
                        &filter,
                        MeasurementSort::CompletedAsc,
                        1000,
                        cursor.as_deref(),
                    )
                    .await?;
                samples.extend(page.items.iter().map(|m| DigestSample {
                    failed: !m.observation.completed(),
                    healthy: m.verdict.healthy(),
                    download_bps: m.observation.download_bps,
                    upload_bps: m.observation.upload_bps,
                    ping_ms: m.observation.ping_ms,
                    packet_loss_percent: m.observation.packet_loss_percent,
                }));
                cursor = page.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            if samples.is_empty() {
                continue;
            }
            let incidents: Vec<IncidentSpan> = self
                .storage
                .incidents(Some(&c.id), from, until)
                .await?
                .into_iter()
                .map(|i| IncidentSpan {
                    opened_at: i.opened_at,
                    closed_at: i.closed_at,
                })
                .collect();
            lines.push(render::DigestLine {
                probe: probes.get(c.probe_id.as_str()).cloned().unwrap_or_default(),
                connection: c.name.to_string(),
                summary: summarize(&samples, &incidents, from, until),
            });
        }
        let outages = self.outage_digest(&probes, from, until).await?;
        if lines.is_empty() && outages.is_none() {
            tracing::info!(period = period.as_str(), "digest skipped: no data");
            return Ok(false);
        }
        let mut n = render::digest(period, &lines, from, until, now);
        if let Some(text) = outages {
            if lines.is_empty() {
                n.subject = format!("[NetPulse] {} digest — outages and uptime", period.as_str());
            }
            n.body.push_str(&text);
        }
        self.enqueue(n, None).await
    }
}
