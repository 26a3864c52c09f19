//! `netpulse_notifications_sent_total{kind,channel,status}`: an in-memory counter of finished
//! deliveries, read by the metrics endpoint.
//!
//! Each process counts its own deliveries (Prometheus sums across instances). `status` is
//! `sent` (delivered, after any retries) or `failed` (given up: a permanent error, or retries
//! exhausted); `channel` is the channel type (`email`, `webhook`, …); `kind` is the
//! notification kind (`alert`, `recovery`, `probe_offline`, `probe_back`, `digest`). Test
//! messages are not counted. Whoever builds the [`Notifications`](super::Notifications) creates
//! the counter and passes it in; the metrics exporter [subscribes](SentCounter::subscribe) to
//! that instance.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// One series of the counter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SentKey {
    /// `alert`, `recovery`, `probe_offline`, `probe_back` or `digest`.
    pub kind: String,
    /// The channel type.
    pub channel: String,
    /// `sent` or `failed`.
    pub status: String,
}

/// Told about each counted delivery (`kind`, `channel`, `status`).
pub type SentSubscriber = Box<dyn Fn(&str, &str, &str) + Send + Sync>;

/// Counts finished deliveries.
#[derive(Default)]
pub struct SentCounter(Mutex<BTreeMap<SentKey, u64>>, Mutex<Vec<SentSubscriber>>);

impl std::fmt::Debug for SentCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SentCounter")
            .field(&self.0)
            .finish_non_exhaustive()
    }
}

impl SentCounter {
    /// Calls `subscriber` for every delivery counted from now on (the metrics exporter uses it
    /// for `netpulse_notifications_sent_total`).
    pub fn subscribe(&self, subscriber: SentSubscriber) {
        self.1
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(subscriber);
    }

    /// Adds one.
    pub fn record(&self, kind: &str, channel: &str, status: &str) {
        for subscriber in self
            .1
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            subscriber(kind, channel, status);
        }
        let key = SentKey {
            kind: kind.to_owned(),
            channel: channel.to_owned(),
            status: status.to_owned(),
        };
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(key)
            .or_insert(0) += 1;
    }

    /// Every series seen so far with its count, sorted by kind, channel, status.
    pub fn snapshot(&self) -> Vec<(SentKey, u64)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The count of one series (0 when never seen).
    pub fn get(&self, kind: &str, channel: &str, status: &str) -> u64 {
        self.snapshot()
            .into_iter()
            .find(|(k, _)| k.kind == kind && k.channel == channel && k.status == status)
            .map_or(0, |(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn subscribers_see_every_counted_delivery() {
        let counter = SentCounter::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        counter.subscribe(Box::new(move |k, c, s| {
            sink.lock().unwrap().push(format!("{k}/{c}/{s}"));
        }));
        counter.record("alert", "webhook", "sent");
        counter.record("digest", "email", "failed");
        assert_eq!(
            *seen.lock().unwrap(),
            ["alert/webhook/sent", "digest/email/failed"]
        );
        assert_eq!(counter.get("alert", "webhook", "sent"), 1);
    }

    #[test]
    fn counts_by_series() {
        let c = SentCounter::default();
        c.record("alert", "webhook", "sent");
        c.record("alert", "webhook", "sent");
        c.record("digest", "email", "failed");
        assert_eq!(c.get("alert", "webhook", "sent"), 2);
        assert_eq!(c.get("alert", "email", "sent"), 0);
        let snap = c.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[0].0.kind, "alert");
    }
}
