//! Opsgenie Alert API: an alert is created (`POST /v2/alerts`) with the incident's key as
//! `alias` (Opsgenie de-duplicates open alerts on it) and closed on recovery
//! (`POST /v2/alerts/{alias}/close?identifierType=alias`). Authenticated with
//! `Authorization: GenieKey <key>`; EU accounts use `https://api.eu.opsgenie.com`.

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_domain::incident_severity::IncidentSeverity;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError};
use serde_json::{Value, json};

use super::incident::{self, Action};

const CHANNEL: &str = "opsgenie";

pub(crate) struct Opsgenie {
    url: String,
    api_key: String,
    team: Option<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Opsgenie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opsgenie")
            .field("url", &self.url)
            .field("team", &self.team)
            .finish_non_exhaustive()
    }
}

impl Opsgenie {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        Ok(Self {
            url: super::http_url(
                "url",
                super::value(config, "url").unwrap_or("https://api.opsgenie.com"),
            )?,
            api_key: super::value(config, "apiKey")
                .unwrap_or_default()
                .to_owned(),
            team: super::value(config, "team").map(str::to_owned),
            client,
        })
    }
}

/// One request of the Alert API: the path (after the base URL) and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub path: String,
    pub body: Value,
}

fn close(key: &str, note: &str) -> Call {
    Call {
        path: format!(
            "/v2/alerts/{}/close?identifierType=alias",
            incident::path_segment(key)
        ),
        body: json!({"source": "NetPulse", "user": "NetPulse", "note": super::clip(note, 25000)}),
    }
}

/// The calls made for `n` (a test creates an alert and closes it).
pub(crate) fn calls(team: Option<&str>, n: &Notification) -> Result<Vec<Call>, NotifyError> {
    let action = incident::action(CHANNEL, n)?;
    let (key, severity, source, site) = if action == Action::Test {
        (incident::test_key(n), IncidentSeverity::Low, "test", None)
    } else {
        let i = incident::of(CHANNEL, n)?;
        if action == Action::Resolve {
            return Ok(vec![close(&i.key, &n.subject)]);
        }
        (i.key.clone(), i.severity, i.source.as_str(), i.site.clone())
    };
    let mut details = serde_json::Map::new();
    details.insert("severity".into(), json!(severity.label()));
    if let Some(p) = &n.probe {
        details.insert("probe".into(), json!(p.name));
    }
    if let Some(c) = &n.connection {
        details.insert("connection".into(), json!(c.name));
        details.insert("isp".into(), json!(c.isp));
    }
    if let Some(s) = &site {
        details.insert("site".into(), json!(s));
    }
    if let Some(link) = &n.result_link {
        details.insert("result".into(), json!(link));
    }
    let entity = n
        .connection
        .as_ref()
        .map(|c| c.name.as_str())
        .or(n.probe.as_ref().map(|p| p.name.as_str()));
    let mut body = json!({
        "message": super::clip(&n.subject, 130),
        "alias": key,
        "description": super::clip(&n.body, 15000),
        "tags": ["netpulse", source, severity.as_str()],
        "details": details,
        "source": "NetPulse",
        "priority": severity.opsgenie(),
    });
    if let Some(e) = entity {
        body["entity"] = json!(super::clip(e, 512));
    }
    if let Some(t) = team {
        body["responders"] = json!([{"type": "team", "name": t}]);
    }
    let mut out = vec![Call {
        path: "/v2/alerts".into(),
        body,
    }];
    if action == Action::Test {
        out.push(close(&key, "NetPulse test message"));
    }
    Ok(out)
}

#[async_trait]
impl Notifier for Opsgenie {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        for call in calls(self.team.as_deref(), n)? {
            let request = self
                .client
                .post(format!("{}{}", self.url, call.path))
                .header("Authorization", format!("GenieKey {}", self.api_key))
                .json(&call.body);
            super::http::send(CHANNEL, request).await?;
        }
        Ok(())
    }
}
