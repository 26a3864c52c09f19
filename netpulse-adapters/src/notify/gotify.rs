//! Gotify: `POST {server}/message` with the application token in `X-Gotify-Key`.

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError, Severity};
use serde_json::json;

pub(crate) struct Gotify {
    server: String,
    token: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for Gotify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gotify")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Gotify {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        Ok(Self {
            server: super::http_url("server", super::value(config, "server").unwrap_or_default())?,
            token: super::value(config, "token").unwrap_or_default().to_owned(),
            client,
        })
    }
}

#[async_trait]
impl Notifier for Gotify {
    fn channel(&self) -> &'static str {
        "gotify"
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut body = json!({
            "title": n.subject,
            "message": n.body,
            "priority": if n.severity == Severity::Critical { 8 } else { 4 },
        });
        if let Some(link) = n.result_link.as_ref().or(n.share_link.as_ref()) {
            body["extras"] = json!({"client::notification": {"click": {"url": link}}});
        }
        let request = self
            .client
            .post(format!("{}/message", self.server))
            .header("X-Gotify-Key", &self.token)
            .json(&body);
        super::http::send("gotify", request).await
    }
}
