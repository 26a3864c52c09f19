//! The outbox: a notification is stored with one delivery per channel; the delivery worker
//! claims due deliveries, sends them concurrently, and records sent, a retry, or failed.

use std::collections::BTreeMap;

use netpulse_adapters::notify::{HttpClient, build};
use netpulse_domain::Timestamp;
use netpulse_domain::contact_list::receives;
use netpulse_domain::notify::retry_delay_seconds;
use netpulse_ports::alerting_store::ContactList;
use netpulse_ports::notification_store::{
    AttemptOutcome, ClaimedDelivery, DeliveryStatus, NewDelivery,
};
use netpulse_ports::notify::{ChannelConfig, Notification, Severity};
use netpulse_ports::storage::StorageError;

use super::{CLAIM_SECONDS, Notifications, SEND_TIMEOUT, redact};
use crate::ids::new_uuid;

impl Notifications {
    /// Stores a notification with a delivery per subscribed, enabled channel (held during the
    /// channel's quiet hours unless critical) and wakes the worker. With `announce`, marks the
    /// incident announced in the same transaction (nothing is stored if it already was).
    pub async fn enqueue(
        &self,
        n: Notification,
        announce: Option<&str>,
    ) -> Result<bool, StorageError> {
        self.enqueue_to(n, announce, None).await
    }

    /// [`enqueue`](Self::enqueue) to the channels of `list` only (`None`: every channel); a
    /// list with a minimum severity gets no delivery of a less urgent incident (the
    /// notification is still stored, and an incident still marked announced).
    pub(super) async fn enqueue_to(
        &self,
        n: Notification,
        announce: Option<&str>,
        list: Option<&ContactList>,
    ) -> Result<bool, StorageError> {
        let now = self.clock.now();
        let mut deliveries = Vec::new();
        let list_takes = list.is_none_or(|l| {
            n.incident
                .as_ref()
                .is_none_or(|i| receives(l.min_severity, i.severity))
        });
        for c in self.storage.channels().await? {
            if !c.enabled || !c.events.contains(&n.kind) || !list_takes {
                continue;
            }
            if list.is_some_and(|l| !l.channel_ids.contains(&c.id)) {
                continue;
            }
            let hold = match (&c.quiet_hours, n.severity) {
                (Some(q), Severity::Info) => q.holds_until(now, &self.calendar),
                _ => None,
            };
            deliveries.push(NewDelivery {
                id: new_uuid(),
                channel_id: c.id.clone(),
                status: if hold.is_some() {
                    DeliveryStatus::Held
                } else {
                    DeliveryStatus::Pending
                },
                next_attempt_at: hold.unwrap_or(now),
            });
        }
        let stored = self
            .storage
            .enqueue_notification(&new_uuid(), &n, &deliveries, announce)
            .await?;
        if stored {
            tracing::info!(kind = n.kind.as_str(), deliveries = deliveries.len(), subject = %n.subject, "notification queued");
            self.wake.notify_one();
        }
        Ok(stored)
    }

    /// Claims and sends what is due; returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, StorageError> {
        let now = self.clock.now();
        let claimed = self
            .storage
            .claim_deliveries(now, now.plus_seconds(CLAIM_SECONDS), 16)
            .await?;
        let n = claimed.len();
        let mut set = tokio::task::JoinSet::new();
        for d in claimed {
            let storage = self.storage.clone();
            let channel = self.storage.channel(&d.channel_id).await?;
            let config = channel.as_ref().map(|c| self.config_of(c));
            let http = self.http.clone();
            let counter = self.counter.clone();
            let clock = self.clock.clone();
            set.spawn(async move {
                let kind = channel.as_ref().map_or("deleted", |c| c.kind.as_str()).to_owned();
                let (outcome, secrets) = attempt(&d, config, &http).await;
                let outcome = redact_outcome(outcome, &secrets, &d, clock.now());
                match &outcome {
                    AttemptOutcome::Sent => {
                        tracing::info!(channel = %d.channel_id, kind = %kind, attempts = d.attempts, "notification sent");
                        counter.record(d.notification.kind.as_str(), &kind, "sent");
                    }
                    AttemptOutcome::Retry { error, .. } => {
                        tracing::warn!(channel = %d.channel_id, kind = %kind, attempts = d.attempts, error = %error, "delivery failed; will retry");
                    }
                    AttemptOutcome::Failed { error } => {
                        tracing::error!(channel = %d.channel_id, kind = %kind, attempts = d.attempts, error = %error, "delivery failed for good");
                        counter.record(d.notification.kind.as_str(), &kind, "failed");
                    }
                }
                if let Err(e) = storage.finish_delivery(&d.id, &outcome, clock.now()).await {
                    tracing::warn!(error = %e, delivery = %d.id, "cannot record a delivery outcome");
                }
            });
        }
        while set.join_next().await.is_some() {}
        Ok(n)
    }
}

/// One attempt: builds the channel and sends, mapping the result to an outcome.
async fn attempt(
    d: &ClaimedDelivery,
    config: Option<Result<ChannelConfig, String>>,
    http: &HttpClient,
) -> (AttemptOutcome, BTreeMap<String, String>) {
    let config = match config {
        None => {
            return (
                AttemptOutcome::Failed {
                    error: "the channel was deleted".into(),
                },
                BTreeMap::new(),
            );
        }
        Some(Err(e)) => return (AttemptOutcome::Failed { error: e }, BTreeMap::new()),
        Some(Ok(c)) => c,
    };
    let notifier = match build(&config, http) {
        Ok(n) => n,
        Err(e) => {
            return (
                AttemptOutcome::Failed {
                    error: e.to_string(),
                },
                config.secrets,
            );
        }
    };
    let result = tokio::time::timeout(SEND_TIMEOUT, notifier.send(&d.notification)).await;
    let outcome = match result {
        Ok(Ok(())) => AttemptOutcome::Sent,
        Ok(Err(e)) if e.retryable() => AttemptOutcome::Retry {
            at: Timestamp::EPOCH,
            error: e.to_string(),
        },
        Ok(Err(e)) => AttemptOutcome::Failed {
            error: e.to_string(),
        },
        Err(_) => AttemptOutcome::Retry {
            at: Timestamp::EPOCH,
            error: "timed out".into(),
        },
    };
    (outcome, config.secrets)
}

/// Schedules retries (or gives up after the last attempt) and redacts secrets from errors.
fn redact_outcome(
    outcome: AttemptOutcome,
    secrets: &BTreeMap<String, String>,
    d: &ClaimedDelivery,
    now: Timestamp,
) -> AttemptOutcome {
    match outcome {
        AttemptOutcome::Sent => AttemptOutcome::Sent,
        AttemptOutcome::Failed { error } => AttemptOutcome::Failed {
            error: redact(&error, secrets),
        },
        AttemptOutcome::Retry { error, .. } => match retry_delay_seconds(d.attempts) {
            Some(delay) => AttemptOutcome::Retry {
                at: now.plus_seconds(delay),
                error: redact(&error, secrets),
            },
            None => AttemptOutcome::Failed {
                error: format!(
                    "gave up after {} attempts: {}",
                    d.attempts,
                    redact(&error, secrets)
                ),
            },
        },
    }
}
