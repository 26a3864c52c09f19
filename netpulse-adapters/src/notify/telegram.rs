//! Telegram Bot API: `POST {apiUrl}/bot{token}/sendMessage` (plain text, no parse mode, so names
//! need no escaping).

use async_trait::async_trait;
use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError};
use serde_json::json;

pub(crate) struct Telegram {
    api: String,
    token: String,
    chat_id: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for Telegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telegram")
            .field("chat_id", &self.chat_id)
            .finish_non_exhaustive()
    }
}

impl Telegram {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        let token = super::value(config, "botToken")
            .unwrap_or_default()
            .to_owned();
        if token.contains(['/', '?', '#']) || token.chars().any(char::is_whitespace) {
            return Err(InvalidValue::new(
                "botToken",
                "(hidden)",
                "is not a bot token (123456:ABC…)",
            ));
        }
        Ok(Self {
            api: super::http_url(
                "apiUrl",
                super::value(config, "apiUrl").unwrap_or("https://api.telegram.org"),
            )?,
            token,
            chat_id: super::value(config, "chatId")
                .unwrap_or_default()
                .to_owned(),
            client,
        })
    }
}

#[async_trait]
impl Notifier for Telegram {
    fn channel(&self) -> &'static str {
        "telegram"
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut text = super::full_text(n);
        if let Some(link) = n.result_link.as_ref().or(n.share_link.as_ref()) {
            text.push_str(&format!("\n\n{link}"));
        }
        let body = json!({
            "chat_id": self.chat_id,
            "text": super::clip(&text, 4096),
            "disable_web_page_preview": true,
        });
        let url = format!("{}/bot{}/sendMessage", self.api, self.token);
        super::http::send("telegram", self.client.post(url).json(&body)).await
    }
}
