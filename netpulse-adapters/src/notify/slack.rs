//! Slack incoming webhook: `{"text": …}` with the subject in bold (mrkdwn).

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError};
use serde_json::json;

#[derive(Debug)]
pub(crate) struct Slack(super::http::WebhookUrl);

impl Slack {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        super::http::WebhookUrl::from_config(config, client).map(Self)
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
        self.0.post_json("slack", &body).await
    }
}
