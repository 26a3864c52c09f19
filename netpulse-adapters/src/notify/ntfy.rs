//! ntfy: publishes with a JSON body to the server's root (so titles need no header encoding).

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError, Severity};
use serde_json::json;

pub(crate) struct Ntfy {
    server: String,
    topic: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Ntfy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ntfy")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Ntfy {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        let topic = super::value(config, "topic").unwrap_or_default().to_owned();
        if !topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            || topic.len() > 64
        {
            return Err(InvalidValue::new(
                "topic",
                "(hidden)",
                "may hold only letters, digits, - and _ (at most 64)",
            ));
        }
        Ok(Self {
            server: super::http_url(
                "server",
                super::value(config, "server").unwrap_or("https://ntfy.sh"),
            )?,
            topic,
            token: super::value(config, "token").map(str::to_owned),
            client,
        })
    }
}

#[async_trait]
impl Notifier for Ntfy {
    fn channel(&self) -> &'static str {
        "ntfy"
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let critical = n.severity == Severity::Critical;
        let mut body = json!({
            "topic": self.topic,
            "title": n.subject,
            "message": super::clip(&n.body, 4000),
            "priority": if critical { 5 } else { 3 },
            "tags": [if critical { "warning" } else { "white_check_mark" }, n.kind.as_str()],
        });
        if let Some(link) = n.result_link.as_ref().or(n.share_link.as_ref()) {
            body["click"] = json!(link);
        }
        let mut request = self.client.post(format!("{}/", self.server)).json(&body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        super::http::send("ntfy", request).await
    }
}
