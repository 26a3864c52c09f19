//! What the HTTP channels share: one POST, and the mapping of answers to errors.

use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, NotifyError};

/// A channel that posts JSON to one secret webhook URL, its `webhookUrl` setting (Discord,
/// Slack). Its `Debug` leaves the URL out: the URL is the credential.
pub(crate) struct WebhookUrl {
    url: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookUrl").finish_non_exhaustive()
    }
}

impl WebhookUrl {
    pub(crate) fn from_config(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        let url = super::value(config, "webhookUrl").unwrap_or_default();
        Ok(Self {
            url: super::http_url("webhookUrl", url)?,
            client,
        })
    }

    /// Posts `body` as JSON and maps the answer as [`send`] does.
    pub(crate) async fn post_json(
        &self,
        channel: &str,
        body: &serde_json::Value,
    ) -> Result<(), NotifyError> {
        send(channel, self.client.post(&self.url).json(body)).await
    }
}

/// Sends `request` and maps the answer: 2xx is delivered; 408, 425, 429 and 5xx are worth
/// retrying; other statuses are permanent. Errors never carry the URL (it may hold a token).
pub(crate) async fn send(
    channel: &str,
    request: reqwest::RequestBuilder,
) -> Result<(), NotifyError> {
    let response = request.send().await.map_err(|e| NotifyError::Unreachable {
        channel: channel.to_owned(),
        message: describe(&e),
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let code = status.as_u16();
    let text = response.text().await.unwrap_or_default();
    Err(NotifyError::Rejected {
        channel: channel.to_owned(),
        status: code,
        message: super::clip(text.trim(), 300),
        retryable: matches!(code, 408 | 425 | 429) || status.is_server_error(),
    })
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
