//! Prometheus Alertmanager: alerts and resolutions posted to its v2 API (`POST /api/v2/alerts`)
//! so NOC teams reuse their routing, silences and inhibition.
//!
//! An alert carries the labels `alertname` (per alert source), `severity`, `probe`,
//! `connection`, `site`, `check`, `family` (those that apply) and `incident` (the incident's
//! key), so a recovery posts exactly the same labels with `endsAt` set to the recovery time and
//! Alertmanager resolves that alert. Alertmanager resolves an alert nobody re-posts when its
//! `endsAt` passes; a firing alert is sent with `endsAt` = now + `ttlHours` (default 24 h).

use async_trait::async_trait;
use netpulse_domain::{InvalidValue, Timestamp};
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError};
use serde_json::{Map, Value, json};

use super::incident::{self, Action};

const CHANNEL: &str = "alertmanager";
/// How long a test alert stays active.
const TEST_SECONDS: i64 = 300;

pub(crate) struct Alertmanager {
    url: String,
    username: Option<String>,
    password: Option<String>,
    token: Option<String>,
    ttl_seconds: i64,
    client: reqwest::Client,
}

impl std::fmt::Debug for Alertmanager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alertmanager")
            .field("url", &self.url)
            .field("ttl_seconds", &self.ttl_seconds)
            .finish_non_exhaustive()
    }
}

impl Alertmanager {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        let ttl_hours = match super::value(config, "ttlHours") {
            None => 24,
            Some(t) => t
                .parse::<i64>()
                .ok()
                .filter(|h| (1..=24 * 30).contains(h))
                .ok_or_else(|| InvalidValue::new("ttlHours", t, "must be 1 to 720 hours"))?,
        };
        let username = super::value(config, "username").map(str::to_owned);
        let password = super::value(config, "password").map(str::to_owned);
        if password.is_some() && username.is_none() {
            return Err(InvalidValue::new(
                "password",
                "(hidden)",
                "needs a username (basic authentication)",
            ));
        }
        Ok(Self {
            url: super::http_url("url", super::value(config, "url").unwrap_or_default())?,
            username,
            password,
            token: super::value(config, "bearerToken").map(str::to_owned),
            ttl_seconds: ttl_hours * 3600,
            client,
        })
    }
}

fn insert(labels: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        labels.insert(key.to_owned(), json!(v));
    }
}

/// This host's wall clock.
fn wall_clock() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Timestamp::from_unix_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// The alert posted for `n`; `now` is the wall clock at sending. Alertmanager resolves an alert
/// only when the posted `endsAt` is not in its future (a later `endsAt` merely extends it), so
/// a resolution ends at the recovery or at `now`, whichever is earlier (never before it
/// started).
pub(crate) fn alert(
    n: &Notification,
    ttl_seconds: i64,
    now: Timestamp,
) -> Result<Value, NotifyError> {
    let action = incident::action(CHANNEL, n)?;
    let mut labels = Map::new();
    let mut annotations = Map::new();
    insert(&mut annotations, "summary", Some(&n.subject));
    insert(&mut annotations, "description", Some(&n.body));
    insert(&mut annotations, "result", n.result_link.as_deref());
    insert(&mut annotations, "share", n.share_link.as_deref());
    insert(
        &mut labels,
        "probe",
        n.probe.as_ref().map(|p| p.name.as_str()),
    );
    insert(
        &mut labels,
        "connection",
        n.connection.as_ref().map(|c| c.name.as_str()),
    );
    insert(
        &mut annotations,
        "isp",
        n.connection.as_ref().map(|c| c.isp.as_str()),
    );
    let (starts, ends) = if action == Action::Test {
        labels.insert("alertname".into(), json!("NetPulseTest"));
        labels.insert("severity".into(), json!("low"));
        labels.insert("incident".into(), json!(incident::test_key(n)));
        (n.at, n.at.plus_seconds(TEST_SECONDS))
    } else {
        let i = incident::of(CHANNEL, n)?;
        labels.insert("alertname".into(), json!(i.source.alert_name()));
        labels.insert("severity".into(), json!(i.severity.as_str()));
        labels.insert("incident".into(), json!(i.key));
        insert(&mut labels, "site", i.site.as_deref());
        insert(&mut labels, "check", i.check.as_deref());
        insert(&mut labels, "family", i.family.as_deref());
        annotations.insert("severity".into(), json!(i.severity.label()));
        let starts = i.started_at.unwrap_or(n.at);
        match action {
            Action::Resolve => (starts, n.at.min(now).max(starts)),
            _ => (starts, n.at.plus_seconds(ttl_seconds)),
        }
    };
    let mut alert = json!({
        "labels": labels,
        "annotations": annotations,
        "startsAt": starts.to_rfc3339(),
        "endsAt": ends.to_rfc3339(),
    });
    if let Some(link) = &n.result_link {
        alert["generatorURL"] = json!(link);
    }
    Ok(alert)
}

#[async_trait]
impl Notifier for Alertmanager {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let body = json!([alert(n, self.ttl_seconds, wall_clock())?]);
        let mut request = self
            .client
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&body);
        if let Some(user) = &self.username {
            request = request.basic_auth(user, self.password.as_ref());
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        super::http::send(CHANNEL, request).await
    }
}

#[cfg(test)]
mod tests {
    use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
    use netpulse_ports::notify::{IncidentRef, NotificationKind};

    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn n(kind: NotificationKind, when: &str) -> Notification {
        let mut n = Notification::new(kind, "s", "b", at(when));
        n.incident = Some(IncidentRef {
            key: "i-1".into(),
            severity: IncidentSeverity::High,
            source: AlertSource::Connection,
            started_at: Some(at("2026-06-06T12:00:00Z")),
            site: Some("berlin".into()),
            check: None,
            family: None,
        });
        n
    }

    #[test]
    fn a_recovery_posts_the_same_labels_and_ends_the_alert() {
        let now = at("2026-06-06T14:00:00Z");
        let fire = alert(
            &n(NotificationKind::Alert, "2026-06-06T12:05:00Z"),
            3600,
            now,
        )
        .unwrap();
        let done = alert(
            &n(NotificationKind::Recovery, "2026-06-06T13:00:00Z"),
            3600,
            now,
        )
        .unwrap();
        assert_eq!(fire["labels"], done["labels"]);
        assert_eq!(fire["labels"]["severity"], "high");
        assert_eq!(fire["labels"]["site"], "berlin");
        assert_eq!(fire["startsAt"], "2026-06-06T12:00:00Z");
        assert_eq!(fire["endsAt"], "2026-06-06T13:05:00Z");
        assert_eq!(done["endsAt"], "2026-06-06T13:00:00Z");
        // A recovery stamped ahead of this host's clock ends now (else Alertmanager would only
        // extend the alert), never before it started.
        let early = at("2026-06-06T12:30:00Z");
        let done = alert(
            &n(NotificationKind::Recovery, "2026-06-06T13:00:00Z"),
            3600,
            early,
        )
        .unwrap();
        assert_eq!(done["endsAt"], "2026-06-06T12:30:00Z");
        let before = at("2026-06-06T11:00:00Z");
        let done = alert(
            &n(NotificationKind::Recovery, "2026-06-06T13:00:00Z"),
            3600,
            before,
        )
        .unwrap();
        assert_eq!(done["endsAt"], "2026-06-06T12:00:00Z");
        let digest = Notification::new(
            NotificationKind::Digest,
            "d",
            "d",
            at("2026-06-06T12:00:00Z"),
        );
        assert!(!alert(&digest, 60, now).unwrap_err().retryable());
    }
}
