//! What the HTTP channels share: one POST, and the mapping of answers to errors.

use netpulse_ports::notify::NotifyError;

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
