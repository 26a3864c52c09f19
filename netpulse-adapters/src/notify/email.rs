//! E-mail over SMTP with lettre: STARTTLS (default), implicit TLS or plain; optional login; one
//! plain-text message to every recipient.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use netpulse_domain::InvalidValue;
use netpulse_ports::notify::{ChannelConfig, Notification, Notifier, NotifyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    StartTls,
    Tls,
    None,
}

pub(crate) struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    host: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("host", &self.host)
            .field("to", &self.to.len())
            .finish_non_exhaustive()
    }
}

fn mailbox(field: &'static str, text: &str) -> Result<Mailbox, InvalidValue> {
    text.trim()
        .parse::<Mailbox>()
        .map_err(|e| InvalidValue::new(field, text, format!("is not an e-mail address ({e})")))
}

impl Email {
    pub(crate) fn new(config: &ChannelConfig) -> Result<Self, InvalidValue> {
        let host = super::value(config, "host").unwrap_or_default().to_owned();
        let security = match super::value(config, "security").unwrap_or("starttls") {
            "starttls" => Security::StartTls,
            "tls" => Security::Tls,
            "none" => Security::None,
            other => {
                return Err(InvalidValue::new(
                    "security",
                    other,
                    "must be starttls, tls or none",
                ));
            }
        };
        let port = match super::value(config, "port") {
            None => match security {
                Security::StartTls => 587,
                Security::Tls => 465,
                Security::None => 25,
            },
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| InvalidValue::new("port", p, "must be a port number 1–65535"))?,
        };
        let from = mailbox("from", super::value(config, "from").unwrap_or_default())?;
        let to = super::value(config, "to")
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| mailbox("to", l))
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(InvalidValue::new("to", "", "needs at least one address"));
        }
        let tls = || -> Result<TlsParameters, InvalidValue> {
            let mut builder = TlsParameters::builder(host.clone());
            if let Some(pem) = super::value(config, "caCertificate") {
                let cert = Certificate::from_pem(pem.as_bytes()).map_err(|e| {
                    InvalidValue::new(
                        "caCertificate",
                        "(PEM)",
                        format!("is not a PEM certificate ({e})"),
                    )
                })?;
                builder = builder.add_root_certificate(cert);
            }
            builder
                .build()
                .map_err(|e| InvalidValue::new("host", &host, format!("cannot set up TLS ({e})")))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
            .port(port)
            .timeout(Some(Duration::from_secs(20)));
        builder = match security {
            Security::StartTls => builder.tls(Tls::Required(tls()?)),
            Security::Tls => builder.tls(Tls::Wrapper(tls()?)),
            Security::None => builder.tls(Tls::None),
        };
        if let Some(user) = super::value(config, "username") {
            let password = super::value(config, "password").unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.to_owned(), password.to_owned()));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            to,
            host,
        })
    }
}

#[async_trait]
impl Notifier for Email {
    fn channel(&self) -> &'static str {
        "email"
    }

    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(n.subject.clone())
            .date_now()
            .header(ContentType::TEXT_PLAIN)
            .user_agent(concat!("NetPulse ", env!("CARGO_PKG_VERSION")).to_owned());
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let mut body = n.body.clone();
        if let Some(link) = n.result_link.as_ref().or(n.share_link.as_ref()) {
            body.push_str(&format!("\n\n{link}\n"));
        }
        let message = builder.body(body).map_err(|e| NotifyError::Misconfigured {
            channel: "email".into(),
            message: e.to_string(),
        })?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            let status = e
                .status()
                .map(|c| c.to_string().parse::<u16>().unwrap_or(0));
            match status {
                Some(code) => NotifyError::Rejected {
                    channel: "email".into(),
                    status: code,
                    message: e.to_string(),
                    retryable: !e.is_permanent(),
                },
                None => NotifyError::Unreachable {
                    channel: "email".into(),
                    message: e.to_string(),
                },
            }
        })
    }
}
