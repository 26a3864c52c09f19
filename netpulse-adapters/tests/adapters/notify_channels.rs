//! Every notification channel against a real receiver on a loopback port: an HTTP receiver that
//! records method, path, headers and body, and an SMTP sink that speaks enough ESMTP (EHLO,
//! AUTH PLAIN, MAIL, RCPT, DATA) to receive and check the mail.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use netpulse_adapters::notify::{HttpClient, build, webhook_signature};
use netpulse_domain::Timestamp;
use netpulse_ports::notify::{
    ChannelConfig, ChannelKind, ConnectionRef, Notification, NotificationKind, NotifyError,
    ProbeRef, ResultSummary,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: String,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// An HTTP/1.1 receiver answering with the given statuses in turn (the last one repeats).
pub(crate) struct Receiver {
    pub(crate) base: String,
    requests: Arc<Mutex<Vec<Received>>>,
}

pub(crate) async fn receiver(statuses: Vec<u16>) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let status = statuses[n.min(statuses.len() - 1)];
            n += 1;
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_owned();
                let path = parts.next().unwrap_or_default().to_owned();
                let mut headers = BTreeMap::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).await.unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    let (k, v) = h.split_once(':').unwrap();
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
                let len: usize = headers
                    .get("content-length")
                    .map_or(0, |l| l.parse().unwrap());
                let mut body = vec![0; len];
                reader.read_exact(&mut body).await.unwrap();
                seen.lock().unwrap().push(Received {
                    method,
                    path,
                    headers,
                    body: String::from_utf8(body).unwrap(),
                });
                let text = if status < 300 {
                    "{\"ok\":true}"
                } else {
                    "{\"ok\":false,\"description\":\"nope\"}"
                };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let mut stream = reader.into_inner();
                stream.write_all(answer.as_bytes()).await.unwrap();
                stream.shutdown().await.ok();
            });
        }
    });
    Receiver { base, requests }
}

impl Receiver {
    pub(crate) fn taken(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

pub(crate) fn config(
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

pub(crate) fn alert() -> Notification {
    let at = Timestamp::parse_rfc3339("2026-06-06T12:05:00Z").unwrap();
    let mut n = Notification::new(
        NotificationKind::Alert,
        "[NetPulse] home/wän1 is unhealthy",
        "Connection \"wän1\" on probe \"home\" is unhealthy: 3 consecutive unhealthy results.",
        at,
    );
    n.probe = Some(ProbeRef {
        id: "p-1".into(),
        name: "home".into(),
    });
    n.connection = Some(ConnectionRef {
        id: "c-1".into(),
        name: "wän1".into(),
        isp: "Acme".into(),
    });
    n.result = Some(ResultSummary {
        id: "r-1".into(),
        status: "completed".into(),
        healthy: false,
        breaches: vec!["download_below".into(), "ping_high".into()],
        download_bps: Some(50e6),
        upload_bps: Some(40e6),
        ping_ms: Some(120.5),
        jitter_ms: Some(3.0),
        packet_loss_percent: None,
        failure: None,
        completed_at: at.plus_seconds(-10),
    });
    n.result_link = Some("https://np.example/measurements/r-1".into());
    n.share_link = Some("https://www.speedtest.net/result/c/abc".into());
    n
}

async fn send(c: &ChannelConfig, n: &Notification) -> Result<(), NotifyError> {
    build(c, &HttpClient::new())
        .expect("valid settings")
        .send(n)
        .await
}

#[tokio::test]
async fn webhook_posts_the_context_signed() {
    let r = receiver(vec![200]).await;
    let url = format!("{}/hooks/netpulse?x=1", r.base);
    let c = config(
        ChannelKind::Webhook,
        &[],
        &[("url", &url), ("secret", "s3cret")],
    );
    send(&c, &alert()).await.unwrap();
    let got = r.taken();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/hooks/netpulse?x=1")
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("x-netpulse-event"), Some("alert"));
    assert_eq!(
        req.header("x-netpulse-signature"),
        Some(webhook_signature("s3cret", req.body.as_bytes()).as_str())
    );
    assert_ne!(
        req.header("x-netpulse-signature"),
        Some(webhook_signature("other", req.body.as_bytes()).as_str())
    );
    let body = req.json();
    assert_eq!(body["kind"], "alert");
    assert_eq!(body["severity"], "critical");
    assert_eq!(body["subject"], "[NetPulse] home/wän1 is unhealthy");
    assert!(body["body"].as_str().unwrap().contains("3 consecutive"));
    assert_eq!(
        body["connection"],
        json!({"id": "c-1", "name": "wän1", "isp": "Acme"})
    );
    assert_eq!(body["probe"], json!({"id": "p-1", "name": "home"}));
    assert_eq!(body["verdict"], "unhealthy");
    assert_eq!(body["breaches"], json!(["download_below", "ping_high"]));
    assert_eq!(body["result"]["id"], "r-1");
    assert_eq!(body["result"]["downloadBitsPerSecond"], 50e6);
    assert_eq!(body["result"]["packetLossPercent"], Value::Null);
    assert_eq!(body["result"]["completedAt"], "2026-06-06T12:04:50Z");
    assert_eq!(
        body["links"],
        json!({"result": "https://np.example/measurements/r-1", "share": "https://www.speedtest.net/result/c/abc"})
    );
    assert_eq!(body["timestamp"], "2026-06-06T12:05:00Z");
}

#[tokio::test]
async fn unsigned_webhook_has_no_signature() {
    let r = receiver(vec![204]).await;
    let c = config(
        ChannelKind::Webhook,
        &[],
        &[("url", &format!("{}/h", r.base))],
    );
    send(&c, &alert()).await.unwrap();
    assert_eq!(r.taken()[0].header("x-netpulse-signature"), None);
}

#[tokio::test]
async fn answers_map_to_retryable_and_permanent_errors_without_urls() {
    let r = receiver(vec![500, 429, 404]).await;
    let url = format!("{}/hook/TOKEN123", r.base);
    let c = config(ChannelKind::Webhook, &[], &[("url", &url)]);
    for (status, retryable) in [(500, true), (429, true), (404, false)] {
        let e = send(&c, &alert()).await.unwrap_err();
        assert_eq!(e.retryable(), retryable, "{status}: {e}");
        assert!(
            matches!(e, NotifyError::Rejected { status: s, .. } if s == status),
            "{e}"
        );
        assert!(!e.to_string().contains("TOKEN123"), "{e}");
    }
    // Nobody listening: unreachable, retryable, and the URL is not in the message.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let c = config(
        ChannelKind::Webhook,
        &[],
        &[("url", &format!("http://{addr}/hook/TOKEN123"))],
    );
    let e = send(&c, &alert()).await.unwrap_err();
    assert!(
        matches!(e, NotifyError::Unreachable { .. }) && e.retryable(),
        "{e}"
    );
    assert!(!e.to_string().contains("TOKEN123"), "{e}");
}

#[tokio::test]
async fn ntfy_publishes_json_to_the_server_root() {
    let r = receiver(vec![200]).await;
    let c = config(
        ChannelKind::Ntfy,
        &[("server", &r.base)],
        &[("topic", "netpulse-alerts"), ("token", "tk_abc")],
    );
    send(&c, &alert()).await.unwrap();
    let req = &r.taken()[0];
    assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/"));
    assert_eq!(req.header("authorization"), Some("Bearer tk_abc"));
    let body = req.json();
    assert_eq!(body["topic"], "netpulse-alerts");
    assert_eq!(body["title"], "[NetPulse] home/wän1 is unhealthy");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Connection \"wän1\"")
    );
    assert_eq!(body["priority"], 5);
    assert_eq!(body["tags"], json!(["warning", "alert"]));
    assert_eq!(body["click"], "https://np.example/measurements/r-1");
}

#[tokio::test]
async fn gotify_posts_a_message_with_the_app_token() {
    let r = receiver(vec![200]).await;
    let c = config(
        ChannelKind::Gotify,
        &[("server", &format!("{}/gotify/", r.base))],
        &[("token", "AbCdEf")],
    );
    let mut n = alert();
    n.kind = NotificationKind::Recovery;
    n.severity = NotificationKind::Recovery.severity();
    send(&c, &n).await.unwrap();
    let req = &r.taken()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/gotify/message")
    );
    assert_eq!(req.header("x-gotify-key"), Some("AbCdEf"));
    let body = req.json();
    assert_eq!(body["title"], "[NetPulse] home/wän1 is unhealthy");
    assert_eq!(body["priority"], 4);
    assert_eq!(
        body["extras"]["client::notification"]["click"]["url"],
        "https://np.example/measurements/r-1"
    );
}

#[tokio::test]
async fn discord_posts_an_embed() {
    let r = receiver(vec![204]).await;
    let c = config(
        ChannelKind::Discord,
        &[],
        &[("webhookUrl", &format!("{}/api/webhooks/123/tok", r.base))],
    );
    send(&c, &alert()).await.unwrap();
    let req = &r.taken()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/api/webhooks/123/tok")
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body = req.json();
    let embed = &body["embeds"][0];
    assert_eq!(embed["title"], "[NetPulse] home/wän1 is unhealthy");
    assert!(embed["description"].as_str().unwrap().contains("unhealthy"));
    assert_eq!(embed["color"], 0x00d6_3031);
    assert_eq!(embed["url"], "https://np.example/measurements/r-1");
    assert_eq!(embed["timestamp"], "2026-06-06T12:05:00Z");
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
}

#[tokio::test]
async fn slack_posts_text_with_escaping() {
    let r = receiver(vec![200]).await;
    let c = config(
        ChannelKind::Slack,
        &[],
        &[("webhookUrl", &format!("{}/services/T/B/X", r.base))],
    );
    let mut n = alert();
    n.body = "a <b> & c".into();
    send(&c, &n).await.unwrap();
    let req = &r.taken()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/services/T/B/X")
    );
    let text = req.json()["text"].as_str().unwrap().to_owned();
    assert!(
        text.starts_with("*[NetPulse] home/wän1 is unhealthy*\na &lt;b&gt; &amp; c"),
        "{text}"
    );
    assert!(
        text.ends_with("<https://np.example/measurements/r-1|Open the result>"),
        "{text}"
    );
}

#[tokio::test]
async fn telegram_calls_send_message_with_the_bot_token() {
    let r = receiver(vec![200, 400]).await;
    let c = config(
        ChannelKind::Telegram,
        &[("chatId", "-100123"), ("apiUrl", &r.base)],
        &[("botToken", "123:ABC")],
    );
    send(&c, &alert()).await.unwrap();
    let req = &r.taken()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/bot123:ABC/sendMessage")
    );
    let body = req.json();
    assert_eq!(body["chat_id"], "-100123");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("[NetPulse] home/wän1 is unhealthy\n\nConnection")
    );
    assert_eq!(body["disable_web_page_preview"], true);
    // A Bot API error: permanent, with Telegram's description, without the token.
    let e = send(&c, &alert()).await.unwrap_err();
    assert!(!e.retryable());
    assert!(
        e.to_string().contains("nope") && !e.to_string().contains("123:ABC"),
        "{e}"
    );
}

/// What the SMTP sink received.
#[derive(Debug, Default, Clone)]
struct Mail {
    auth: Option<String>,
    from: String,
    to: Vec<String>,
    data: String,
}

/// A minimal ESMTP server on a loopback port. `rcpt_reply` answers RCPT TO.
async fn smtp_sink(rcpt_reply: &'static str) -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink.test ESMTP\r\n").await.unwrap();
                let mut mail = Mail::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: String = if upper.starts_with("EHLO") {
                        "250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n".into()
                    } else if upper.starts_with("AUTH PLAIN") {
                        let b64 = line.split_whitespace().nth(2).unwrap_or_default();
                        let raw = base64::engine::general_purpose::STANDARD
                            .decode(b64)
                            .unwrap();
                        mail.auth = Some(String::from_utf8(raw).unwrap().replace('\0', "|"));
                        "235 2.7.0 ok\r\n".into()
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.from = line[10..].trim().to_owned();
                        "250 ok\r\n".into()
                    } else if upper.starts_with("RCPT TO:") {
                        mail.to.push(line[8..].trim().to_owned());
                        format!("{rcpt_reply}\r\n")
                    } else if upper == "DATA" {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        mail.data = data;
                        store.lock().unwrap().push(std::mem::take(&mut mail));
                        "250 queued\r\n".into()
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else if upper == "RSET" || upper == "NOOP" {
                        "250 ok\r\n".into()
                    } else {
                        "502 not implemented\r\n".into()
                    };
                    write.write_all(reply.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

#[tokio::test]
async fn email_reaches_every_recipient_with_auth() {
    let (port, mails) = smtp_sink("250 ok").await;
    let port = port.to_string();
    let c = config(
        ChannelKind::Email,
        &[
            ("host", "127.0.0.1"),
            ("port", &port),
            ("security", "none"),
            ("username", "netpulse"),
            ("from", "NetPulse <netpulse@example.com>"),
            ("to", "ops@example.com\nnoc@example.org"),
        ],
        &[("password", "pa55")],
    );
    send(&c, &alert()).await.unwrap();
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.auth.as_deref(), Some("|netpulse|pa55"));
    assert_eq!(m.from, "<netpulse@example.com>");
    assert_eq!(m.to, ["<ops@example.com>", "<noc@example.org>"]);
    assert!(
        m.data.contains("From: NetPulse <netpulse@example.com>"),
        "{}",
        m.data
    );
    assert!(
        m.data.contains("To: ops@example.com, noc@example.org"),
        "{}",
        m.data
    );
    assert!(
        m.data
            .contains("Subject: [NetPulse] =?utf-8?b?aG9tZS93w6RuMQ==?= is unhealthy"),
        "non-ASCII subjects are encoded: {}",
        m.data
    );
    assert!(
        m.data.contains("Content-Type: text/plain; charset=utf-8"),
        "{}",
        m.data
    );
    assert!(m.data.contains("Date: "), "{}", m.data);
    assert!(
        m.data.contains("https://np.example/measurements/r-1"),
        "{}",
        m.data
    );
}

#[tokio::test]
async fn email_rejections_are_permanent_or_transient_by_code() {
    for (reply, code, retryable) in [
        ("550 5.1.1 no such user", 550, false),
        ("451 4.3.0 try later", 451, true),
    ] {
        let (port, mails) = smtp_sink(reply).await;
        let port = port.to_string();
        let c = config(
            ChannelKind::Email,
            &[
                ("host", "127.0.0.1"),
                ("port", &port),
                ("security", "none"),
                ("from", "n@example.com"),
                ("to", "x@example.com"),
            ],
            &[],
        );
        let e = send(&c, &alert()).await.unwrap_err();
        assert!(
            matches!(e, NotifyError::Rejected { status, .. } if status == code),
            "{e}"
        );
        assert_eq!(e.retryable(), retryable, "{e}");
        assert!(mails.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn email_with_starttls_refuses_a_server_without_it() {
    let (port, mails) = smtp_sink("250 ok").await;
    let port = port.to_string();
    let c = config(
        ChannelKind::Email,
        &[
            ("host", "127.0.0.1"),
            ("port", &port),
            ("security", "starttls"),
            ("from", "n@example.com"),
            ("to", "x@example.com"),
        ],
        &[],
    );
    let e = send(&c, &alert()).await.unwrap_err();
    assert!(e.retryable(), "{e}");
    assert!(
        mails.lock().unwrap().is_empty(),
        "nothing is sent in clear text"
    );
}
