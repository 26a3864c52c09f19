//! Notification channels: adapters of the `Notifier` port, one per channel type, each behind a
//! `notify-*` feature (the server enables them, the agent never does).
//!
//! [`fields`] describes each type's settings (which are secret, required, lists) so that the API
//! and the UI can validate and render them generically; [`build`] validates a
//! [`ChannelConfig`] and returns the channel, with errors naming the field. Every HTTP channel
//! takes its base URL from the settings, so it can point at a self-hosted server (or a test
//! receiver). Error texts never contain URLs or secrets: reqwest errors are stripped of their
//! URL and the caller redacts secret values as well.

#[cfg(feature = "notify-alertmanager")]
mod alertmanager;
#[cfg(feature = "notify-discord")]
mod discord;
#[cfg(feature = "notify-email")]
mod email;
#[cfg(feature = "notify-gotify")]
mod gotify;
mod http;
#[cfg(any(
    feature = "notify-alertmanager",
    feature = "notify-pagerduty",
    feature = "notify-opsgenie"
))]
mod incident;
#[cfg(feature = "notify-ntfy")]
mod ntfy;
#[cfg(feature = "notify-opsgenie")]
mod opsgenie;
#[cfg(feature = "notify-pagerduty")]
mod pagerduty;
#[cfg(feature = "notify-slack")]
mod slack;
#[cfg(feature = "notify-telegram")]
mod telegram;
#[cfg(feature = "notify-webhook")]
mod webhook;

use std::sync::Arc;

use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, ChannelKind, Notification, Notifier};

#[cfg(feature = "notify-webhook")]
pub use webhook::{SIGNATURE_HEADER, payload as webhook_payload, sign as webhook_signature};

/// One setting of a channel type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Its name (the JSON key).
    pub name: &'static str,
    /// Stored encrypted and never shown again.
    pub secret: bool,
    /// Must be set.
    pub required: bool,
    /// A list of values (one per line when stored).
    pub list: bool,
    /// What it is, with its default.
    pub help: &'static str,
}

const fn field(name: &'static str, help: &'static str) -> FieldSpec {
    FieldSpec {
        name,
        secret: false,
        required: false,
        list: false,
        help,
    }
}

const fn required(f: FieldSpec) -> FieldSpec {
    FieldSpec {
        required: true,
        ..f
    }
}

const fn secret(f: FieldSpec) -> FieldSpec {
    FieldSpec { secret: true, ..f }
}

const fn list(f: FieldSpec) -> FieldSpec {
    FieldSpec { list: true, ..f }
}

const EMAIL: &[FieldSpec] = &[
    required(field("host", "SMTP server host name")),
    field(
        "security",
        "starttls (default), tls (implicit TLS, e.g. port 465) or none (plain text; only on a trusted network)",
    ),
    field(
        "port",
        "SMTP port; default 587 (starttls), 465 (tls) or 25 (none)",
    ),
    field("username", "login, if the server requires authentication"),
    secret(field("password", "password of the login")),
    required(field(
        "from",
        "sender address, e.g. NetPulse <netpulse@example.com>",
    )),
    required(list(field(
        "to",
        "recipient addresses (one message to all of them)",
    ))),
    field(
        "caCertificate",
        "PEM certificate of a private CA to trust for this server (default: the system's roots)",
    ),
];

const WEBHOOK: &[FieldSpec] = &[
    required(secret(field(
        "url",
        "URL that receives a JSON POST (secret: such URLs often carry a token)",
    ))),
    secret(field(
        "secret",
        "HMAC-SHA256 key; when set, requests carry X-NetPulse-Signature: sha256=<hex of HMAC(body)>",
    )),
];

const NTFY: &[FieldSpec] = &[
    field("server", "ntfy server; default https://ntfy.sh"),
    required(secret(field(
        "topic",
        "topic name (secret: on a public server the topic is the password)",
    ))),
    secret(field("token", "access token of a protected topic")),
];

const GOTIFY: &[FieldSpec] = &[
    required(field(
        "server",
        "Gotify server, e.g. https://gotify.example",
    )),
    required(secret(field("token", "application token"))),
];

const DISCORD: &[FieldSpec] = &[required(secret(field(
    "webhookUrl",
    "webhook URL from Server Settings → Integrations → Webhooks",
)))];

const SLACK: &[FieldSpec] = &[required(secret(field(
    "webhookUrl",
    "incoming webhook URL (https://hooks.slack.com/services/…)",
)))];

const TELEGRAM: &[FieldSpec] = &[
    required(secret(field("botToken", "bot token from @BotFather"))),
    required(field("chatId", "chat id (a number, or @channelname)")),
    field("apiUrl", "Bot API server; default https://api.telegram.org"),
];

const ALERTMANAGER: &[FieldSpec] = &[
    required(field(
        "url",
        "Alertmanager base URL, e.g. http://alertmanager:9093 (alerts go to /api/v2/alerts)",
    )),
    field(
        "username",
        "basic-authentication user, if Alertmanager sits behind one",
    ),
    secret(field("password", "basic-authentication password")),
    secret(field(
        "bearerToken",
        "bearer token, if Alertmanager sits behind one",
    )),
    field(
        "ttlHours",
        "hours a firing alert stays active if no recovery comes (endsAt); default 24",
    ),
];

const PAGERDUTY: &[FieldSpec] = &[
    required(secret(field(
        "routingKey",
        "integration key of an Events API v2 integration of the service",
    ))),
    field(
        "url",
        "Events API server; default https://events.pagerduty.com",
    ),
];

const OPSGENIE: &[FieldSpec] = &[
    required(secret(field("apiKey", "API key of an API integration"))),
    field(
        "url",
        "API server; default https://api.opsgenie.com (EU: https://api.eu.opsgenie.com)",
    ),
    field("team", "team to route alerts to (responder), by name"),
];

/// The settings of a channel type.
pub const fn fields(kind: ChannelKind) -> &'static [FieldSpec] {
    match kind {
        ChannelKind::Email => EMAIL,
        ChannelKind::Webhook => WEBHOOK,
        ChannelKind::Ntfy => NTFY,
        ChannelKind::Gotify => GOTIFY,
        ChannelKind::Discord => DISCORD,
        ChannelKind::Slack => SLACK,
        ChannelKind::Telegram => TELEGRAM,
        ChannelKind::Alertmanager => ALERTMANAGER,
        ChannelKind::Pagerduty => PAGERDUTY,
        ChannelKind::Opsgenie => OPSGENIE,
    }
}

/// The value of a setting (plain or secret), trimmed; `None` when unset or blank.
pub(crate) fn value<'c>(config: &'c ChannelConfig, name: &str) -> Option<&'c str> {
    config
        .options
        .get(name)
        .or_else(|| config.secrets.get(name))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

/// Checks the settings against [`fields`]: unknown names, required ones, secrets given as
/// plain options (or the reverse).
pub fn check(config: &ChannelConfig) -> Result<(), InvalidValue> {
    let specs = fields(config.kind);
    for (name, is_secret) in config
        .options
        .keys()
        .map(|k| (k, false))
        .chain(config.secrets.keys().map(|k| (k, true)))
    {
        match specs.iter().find(|f| f.name == name) {
            None => {
                let known: Vec<&str> = specs.iter().map(|f| f.name).collect();
                return Err(InvalidValue::new(
                    "settings",
                    name,
                    format!(
                        "is not a setting of {} channels (known: {})",
                        config.kind.as_str(),
                        known.join(", ")
                    ),
                ));
            }
            Some(f) if f.secret != is_secret => {
                return Err(InvalidValue::new(
                    f.name,
                    "(hidden)",
                    "is stored in the wrong place (secret vs plain)",
                ));
            }
            Some(_) => {}
        }
    }
    for f in specs.iter().filter(|f| f.required) {
        if value(config, f.name).is_none() {
            return Err(InvalidValue::new(f.name, "", "is required"));
        }
    }
    Ok(())
}

/// Checks an http(s) URL setting.
pub(crate) fn http_url(field: &'static str, text: &str) -> Result<String, InvalidValue> {
    let shown = if field_is_secret_url(field) {
        "(hidden)"
    } else {
        text
    };
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| InvalidValue::new(field, shown, "must be an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') || text.chars().any(char::is_whitespace) {
        return Err(InvalidValue::new(
            field,
            shown,
            "must be an http:// or https:// URL with a host",
        ));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

const fn field_is_secret_url(field: &str) -> bool {
    matches!(field.as_bytes(), b"url" | b"webhookUrl")
}

/// Builds a channel from validated settings. The HTTP client is shared by every HTTP channel.
pub fn build(
    config: &ChannelConfig,
    client: &HttpClient,
) -> Result<Arc<dyn Notifier>, InvalidValue> {
    check(config)?;
    match config.kind {
        #[cfg(feature = "notify-email")]
        ChannelKind::Email => Ok(Arc::new(email::Email::new(config)?)),
        #[cfg(feature = "notify-webhook")]
        ChannelKind::Webhook => Ok(Arc::new(webhook::Webhook::new(config, client.0.clone())?)),
        #[cfg(feature = "notify-ntfy")]
        ChannelKind::Ntfy => Ok(Arc::new(ntfy::Ntfy::new(config, client.0.clone())?)),
        #[cfg(feature = "notify-gotify")]
        ChannelKind::Gotify => Ok(Arc::new(gotify::Gotify::new(config, client.0.clone())?)),
        #[cfg(feature = "notify-discord")]
        ChannelKind::Discord => Ok(Arc::new(discord::Discord::new(config, client.0.clone())?)),
        #[cfg(feature = "notify-slack")]
        ChannelKind::Slack => Ok(Arc::new(slack::Slack::new(config, client.0.clone())?)),
        #[cfg(feature = "notify-telegram")]
        ChannelKind::Telegram => Ok(Arc::new(telegram::Telegram::new(config, client.0.clone())?)),
        #[cfg(feature = "notify-alertmanager")]
        ChannelKind::Alertmanager => Ok(Arc::new(alertmanager::Alertmanager::new(
            config,
            client.0.clone(),
        )?)),
        #[cfg(feature = "notify-pagerduty")]
        ChannelKind::Pagerduty => Ok(Arc::new(pagerduty::PagerDuty::new(
            config,
            client.0.clone(),
        )?)),
        #[cfg(feature = "notify-opsgenie")]
        ChannelKind::Opsgenie => Ok(Arc::new(opsgenie::Opsgenie::new(config, client.0.clone())?)),
        #[allow(unreachable_patterns)]
        other => Err(InvalidValue::new(
            "kind",
            other.as_str(),
            "is not compiled into this build (cargo feature notify-*)",
        )),
    }
}

/// The HTTP client HTTP channels share (rustls, 15 s timeout, no redirects to other hosts).
#[derive(Debug, Clone)]
pub struct HttpClient(reqwest::Client);

impl HttpClient {
    /// A new client.
    pub fn new() -> Self {
        Self(
            reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(15))
                .connect_timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::limited(3))
                .user_agent(concat!("netpulse/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default(),
        )
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

/// Subject, blank line, body: the plain-text form chat channels send.
pub fn full_text(n: &Notification) -> String {
    format!("{}\n\n{}", n.subject, n.body)
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn config(
        kind: ChannelKind,
        options: &[(&str, &str)],
        secrets: &[(&str, &str)],
    ) -> ChannelConfig {
        let map = |items: &[(&str, &str)]| -> BTreeMap<String, String> {
            items
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        ChannelConfig {
            kind,
            options: map(options),
            secrets: map(secrets),
        }
    }

    #[test]
    fn settings_are_checked_against_the_fields() {
        let ok = config(
            ChannelKind::Gotify,
            &[("server", "https://g.example")],
            &[("token", "t")],
        );
        assert!(check(&ok).is_ok());
        let missing = config(ChannelKind::Gotify, &[("server", "https://g.example")], &[]);
        assert_eq!(check(&missing).unwrap_err().field, "token");
        let blank = config(ChannelKind::Gotify, &[("server", "  ")], &[("token", "t")]);
        assert_eq!(check(&blank).unwrap_err().field, "server");
        let unknown = config(
            ChannelKind::Slack,
            &[("channel", "x")],
            &[("webhookUrl", "https://h")],
        );
        assert_eq!(check(&unknown).unwrap_err().field, "settings");
        let misplaced = config(
            ChannelKind::Gotify,
            &[("server", "https://g"), ("token", "t")],
            &[],
        );
        assert_eq!(check(&misplaced).unwrap_err().field, "token");
    }

    #[test]
    fn urls_are_http_with_a_host_and_secret_ones_are_not_echoed() {
        assert_eq!(
            http_url("server", "https://g.example/").unwrap(),
            "https://g.example"
        );
        assert!(http_url("server", "ftp://x").is_err());
        assert!(http_url("server", "https://").is_err());
        let e = http_url("webhookUrl", "hooks.slack.com/services/SECRET").unwrap_err();
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }

    #[test]
    fn clipping_counts_characters() {
        assert_eq!(clip("äöü", 3), "äöü");
        assert_eq!(clip("äöüß", 3), "äö…");
    }

    #[test]
    fn every_kind_builds_or_names_the_bad_field() {
        let client = HttpClient::new();
        let good = [
            config(
                ChannelKind::Email,
                &[
                    ("host", "smtp.example"),
                    ("from", "n@example.com"),
                    ("to", "a@example.com\nb@example.com"),
                ],
                &[],
            ),
            config(
                ChannelKind::Webhook,
                &[],
                &[("url", "https://h.example/x"), ("secret", "s")],
            ),
            config(ChannelKind::Ntfy, &[], &[("topic", "alerts")]),
            config(
                ChannelKind::Gotify,
                &[("server", "https://g.example")],
                &[("token", "t")],
            ),
            config(
                ChannelKind::Discord,
                &[],
                &[("webhookUrl", "https://discord.com/api/webhooks/1/x")],
            ),
            config(
                ChannelKind::Slack,
                &[],
                &[("webhookUrl", "https://hooks.slack.com/services/x")],
            ),
            config(
                ChannelKind::Telegram,
                &[("chatId", "-100123")],
                &[("botToken", "1:abc")],
            ),
        ];
        for c in &good {
            let n = build(c, &client).unwrap_or_else(|e| panic!("{:?}: {e}", c.kind));
            assert_eq!(n.channel(), c.kind.as_str());
        }
        let bad = [
            (
                config(
                    ChannelKind::Email,
                    &[("host", "h"), ("from", "nope"), ("to", "a@example.com")],
                    &[],
                ),
                "from",
            ),
            (
                config(
                    ChannelKind::Email,
                    &[
                        ("host", "h"),
                        ("from", "n@example.com"),
                        ("to", "a@example.com\nbad"),
                    ],
                    &[],
                ),
                "to",
            ),
            (
                config(
                    ChannelKind::Email,
                    &[
                        ("host", "h"),
                        ("from", "n@e.com"),
                        ("to", "a@e.com"),
                        ("port", "x"),
                    ],
                    &[],
                ),
                "port",
            ),
            (
                config(
                    ChannelKind::Email,
                    &[
                        ("host", "h"),
                        ("from", "n@e.com"),
                        ("to", "a@e.com"),
                        ("security", "ssl3"),
                    ],
                    &[],
                ),
                "security",
            ),
            (
                config(
                    ChannelKind::Email,
                    &[
                        ("host", "h"),
                        ("from", "n@e.com"),
                        ("to", "a@e.com"),
                        ("password", "p"),
                    ],
                    &[],
                ),
                "password",
            ),
            (config(ChannelKind::Webhook, &[], &[("url", "nope")]), "url"),
            (
                config(ChannelKind::Ntfy, &[("server", "x")], &[("topic", "t")]),
                "server",
            ),
            (config(ChannelKind::Ntfy, &[], &[("topic", "a/b")]), "topic"),
            (
                config(
                    ChannelKind::Telegram,
                    &[("chatId", "x"), ("apiUrl", "nope")],
                    &[("botToken", "1:a")],
                ),
                "apiUrl",
            ),
        ];
        for (c, field) in bad {
            let e = build(&c, &client).unwrap_err();
            assert_eq!(e.field, field, "{c:?}: {e}");
        }
    }
}
