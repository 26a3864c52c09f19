//! PagerDuty Events API v2 (`POST /v2/enqueue`): a `trigger` per alert and a `resolve` per
//! recovery with the incident's key as `dedup_key`, so PagerDuty opens one incident per
//! NetPulse incident and closes it on recovery.

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_domain::incident_severity::IncidentSeverity;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError};
use serde_json::{Value, json};

use super::incident::{self, Action};

const CHANNEL: &str = "pagerduty";

pub(crate) struct PagerDuty {
    url: String,
    routing_key: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for PagerDuty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagerDuty")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl PagerDuty {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        let routing_key = super::value(config, "routingKey")
            .unwrap_or_default()
            .to_owned();
        if routing_key.chars().any(char::is_whitespace) || routing_key.len() > 128 {
            return Err(InvalidValue::new(
                "routingKey",
                "(hidden)",
                "must be an integration key without spaces (32 characters)",
            ));
        }
        Ok(Self {
            url: super::http_url(
                "url",
                super::value(config, "url").unwrap_or("https://events.pagerduty.com"),
            )?,
            routing_key,
            client,
        })
    }
}

/// The events sent for `n` (a test sends a trigger and its resolve).
pub(crate) fn events(routing_key: &str, n: &Notification) -> Result<Vec<Value>, NotifyError> {
    let resolve = |key: &str| json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": key});
    let action = incident::action(CHANNEL, n)?;
    let (key, severity, class, group) = if action == Action::Test {
        (incident::test_key(n), IncidentSeverity::Low, "test", None)
    } else {
        let i = incident::of(CHANNEL, n)?;
        if action == Action::Resolve {
            return Ok(vec![resolve(&i.key)]);
        }
        (i.key.clone(), i.severity, i.source.as_str(), i.site.clone())
    };
    let mut details = json!({
        "description": n.body,
        "severity": severity.label(),
    });
    if let Some(c) = &n.connection {
        details["isp"] = json!(c.isp);
    }
    if let Some(r) = &n.result {
        details["result"] = json!({
            "downloadBitsPerSecond": r.download_bps,
            "uploadBitsPerSecond": r.upload_bps,
            "pingMs": r.ping_ms,
            "jitterMs": r.jitter_ms,
            "packetLossPercent": r.packet_loss_percent,
            "breaches": r.breaches,
            "failure": r.failure,
        });
    }
    let mut payload = json!({
        "summary": super::clip(&n.subject, 1024),
        "source": n.probe.as_ref().map_or("NetPulse", |p| p.name.as_str()),
        "severity": severity.pagerduty(),
        "timestamp": n.at.to_rfc3339(),
        "class": class,
        "custom_details": details,
    });
    if let Some(c) = &n.connection {
        payload["component"] = json!(c.name);
    }
    if let Some(g) = group {
        payload["group"] = json!(g);
    }
    let mut trigger = json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": payload,
        "client": "NetPulse",
    });
    if let Some(link) = &n.result_link {
        trigger["client_url"] = json!(link);
        trigger["links"] = json!([{"href": link, "text": "Result in NetPulse"}]);
    }
    let mut out = vec![trigger];
    if action == Action::Test {
        out.push(resolve(&key));
    }
    Ok(out)
}

#[async_trait]
impl Notifier for PagerDuty {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        for event in events(&self.routing_key, n)? {
            let request = self
                .client
                .post(format!("{}/v2/enqueue", self.url))
                .json(&event);
            super::http::send(CHANNEL, request).await?;
        }
        Ok(())
    }
}
