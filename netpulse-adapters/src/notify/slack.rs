//! Slack incoming webhook: `{"text": …}` with the subject in bold (mrkdwn).

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError};
use serde_json::json;

pub(crate) struct Slack {
    url: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack").finish_non_exhaustive()
    }
}

impl Slack {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        Ok(Self {
            url: super::http_url(
                "webhookUrl",
                super::value(config, "webhookUrl").unwrap_or_default(),
            )?,
            client,
        })
    }
}

/// Slack's three control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[async_trait]
impl Notifier for Slack {
    fn channel(&self) -> &'static str {
        "slack"
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut text = format!("*{}*\n{}", escape(&n.subject), escape(&n.body));
        if let Some(link) = n.result_link.as_ref().or(n.share_link.as_ref()) {
            text.push_str(&format!("\n<{link}|Open the result>"));
        }
        let body = json!({"text": super::clip(&text, 3900), "unfurl_links": false});
        super::http::send("slack", self.client.post(&self.url).json(&body)).await
    }
}
