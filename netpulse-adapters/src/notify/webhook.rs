//! The generic webhook: a JSON POST with the whole context, signed with HMAC-SHA256 when a
//! secret is set (`X-NetPulse-Signature: sha256=<hex>` over the exact body bytes).

use async_trait::async_trait;
use aws_lc_rs::hmac;
use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError};
use serde_json::{Value, json};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-NetPulse-Signature";

/// The generic webhook channel.
pub(crate) struct Webhook {
    url: String,
    secret: Option<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("signed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

impl Webhook {
    pub(crate) fn new(
        config: &ChannelConfig,
        client: reqwest::Client,
    ) -> Result<Self, InvalidValue> {
        Ok(Self {
            url: super::http_url("url", super::value(config, "url").unwrap_or_default())?,
            secret: super::value(config, "secret").map(str::to_owned),
            client,
        })
    }
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

/// The JSON body of a notification.
pub fn payload(n: &Notification) -> Value {
    let result = n.result.as_ref();
    json!({
        "kind": n.kind.as_str(),
        "severity": n.severity.as_str(),
        "subject": n.subject,
        "body": n.body,
        "connection": n.connection.as_ref().map(|c| json!({"id": c.id, "name": c.name, "isp": c.isp})),
        "probe": n.probe.as_ref().map(|p| json!({"id": p.id, "name": p.name})),
        "verdict": result.map(|r| if r.healthy { "healthy" } else { "unhealthy" }),
        "breaches": result.map_or_else(Vec::new, |r| r.breaches.clone()),
        "result": result.map(|r| json!({
            "id": r.id,
            "status": r.status,
            "healthy": r.healthy,
            "downloadBitsPerSecond": r.download_bps,
            "uploadBitsPerSecond": r.upload_bps,
            "pingMs": r.ping_ms,
            "jitterMs": r.jitter_ms,
            "packetLossPercent": r.packet_loss_percent,
            "failure": r.failure,
            "completedAt": r.completed_at.to_rfc3339(),
        })),
        "links": {"result": n.result_link, "share": n.share_link},
        "timestamp": n.at.to_rfc3339(),
    })
}

#[async_trait]
impl Notifier for Webhook {
    fn channel(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let body = payload(n).to_string();
        let mut request = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("X-NetPulse-Event", n.kind.as_str());
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, sign(secret, body.as_bytes()));
        }
        super::http::send("webhook", request.body(body)).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_matches_rfc_4231_test_case_2() {
        // HMAC-SHA256 with key "Jefe" over "what do ya want for nothing?".
        assert_eq!(
            super::sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
