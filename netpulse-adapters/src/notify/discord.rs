//! Discord: one embed per notification, red for critical, green otherwise.

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError, Severity};
use serde_json::json;

#[derive(Debug)]
pub(crate) struct Discord(super::http::WebhookUrl);

impl Discord {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        super::http::WebhookUrl::from_config(config, client).map(Self)
    }
}

#[async_trait]
impl Notifier for Discord {
    fn channel(&self) -> &'static str {
        "discord"
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut embed = json!({
            "title": super::clip(&n.subject, 256),
            "description": super::clip(&n.body, 4000),
            "color": if n.severity == Severity::Critical { 0x00d6_3031 } else { 0x0000_b894 },
            "timestamp": n.at.to_rfc3339(),
        });
        if let Some(link) = n.result_link.as_ref().or(n.share_link.as_ref()) {
            embed["url"] = json!(link);
        }
        let body =
            json!({"username": "NetPulse", "embeds": [embed], "allowed_mentions": {"parse": []}});
        self.0.post_json("discord", &body).await
    }
}
