//! Request limits (issue 12): capped bodies per route (413), the results endpoint
//! authenticating before it reads, capped connection fields, bounded sign-in throttle keys, and
//! the header-read and idle timeouts.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::TestApp;
use crate::web_auth::WebClient;

/// The dashboard refuses bodies over 64 KiB with 413, whether the CSRF token comes in the form
/// or in the header (then the handler used to read the body unbounded), as a page or as JSON.
pub(crate) async fn oversized_dashboard_forms_answer_413(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let mut anon = WebClient::new(t);
    let pre = anon.csrf("/login").await;
    let token = pre.clone();
    let big = "x".repeat(100 * 1024);
    // CSRF token in the header: the body is not needed for the check.
    let r = anon
        .http
        .post(t.url("/login"))
        .header(COOKIE, format!("np_csrf={token}"))
        .header("X-CSRF-Token", &token)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("email=a%40b.c&password={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.text().await.unwrap().contains("too large"));
    // CSRF token in the form, larger than the old 256 KiB cap (that answered 503).
    let huge = "x".repeat(300 * 1024);
    let a = anon
        .post_form(
            "/login",
            &[("_csrf", &token), ("email", "a@b.c"), ("password", &huge)],
        )
        .await;
    assert_eq!(a.status, 413, "{}", a.body);
    // Signed in, a settings form; and a JSON caller gets the JSON error.
    let token = w.csrf("/").await;
    let a = w
        .post_form("/settings/general", &[("_csrf", &token), ("x", &big)])
        .await;
    assert_eq!(a.status, 413, "{}", a.body);
    let (status, body) = w
        .post_json("/dashboard/run", Some(&token), &json!({ "scope": big }))
        .await;
    assert_eq!((status, &body["code"]), (413, &json!("payload_too_large")));
    // Chunked (no Content-Length): the cap holds while streaming.
    let chunks = futures_util::stream::iter(
        (0..40).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 4096]))),
    );
    let r = anon
        .http
        .post(t.url("/login"))
        .header(COOKIE, format!("np_csrf={pre}"))
        .header("X-CSRF-Token", &pre)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    // A normal form still works.
    let a = w
        .post_form(
            "/settings/general",
            &[("_csrf", &token), ("timezone", "UTC")],
        )
        .await;
    assert_ne!(a.status, 413, "{}", a.body);
}

/// REST JSON bodies are capped at 1 MiB (413 `payload_too_large`).
pub(crate) async fn rest_json_bodies_are_capped_at_one_mib(t: &TestApp) {
    // Announced past the cap by a client waiting for `100 Continue`: answered at once, before
    // the body is sent.
    let (line, answer) = head_only_answer(t, "/api/v1/probes", &t.api_token, 1024 * 1024 + 2).await;
    assert!(line.contains(" 413 "), "{line}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // A client that sends the whole body at once reads the answer too (the refused body is
    // discarded, not left to reset the connection), and the connection stays usable.
    let big = json!({ "name": "x".repeat(1024 * 1024 + 10) });
    for _ in 0..2 {
        let (status, body) = t.send(Method::POST, "/api/v1/probes", &big).await;
        assert_eq!((status, &body["code"]), (413, &json!("payload_too_large")));
    }
    let (status, _) = t
        .send(Method::POST, "/api/v1/probes", &json!({ "name": "ok" }))
        .await;
    assert_eq!(status, 201);
}

/// Sends a request head announcing a large body with `Expect: 100-continue`, and nothing more;
/// returns the status line the server answers with (within 5 s).
async fn head_only(t: &TestApp, path: &str, token: &str, length: usize) -> String {
    head_only_answer(t, path, token, length).await.0
}

/// [`head_only`], returning the status line and the rest of what arrived.
async fn head_only_answer(t: &TestApp, path: &str, token: &str, length: usize) -> (String, String) {
    let addr = t.base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nExpect: 100-continue\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let mut n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut answer))
        .await
        .expect("an answer without the server waiting for the body")
        .unwrap();
    // The body may follow the head in a second segment.
    while n < answer.len()
        && let Ok(Ok(more)) =
            tokio::time::timeout(Duration::from_millis(300), socket.read(&mut answer[n..])).await
        && more > 0
    {
        n += more;
    }
    let text = String::from_utf8_lossy(&answer[..n]).into_owned();
    let line = text.lines().next().unwrap_or_default().to_owned();
    (line, text)
}

/// The results endpoint checks the token before it reads the body, and an oversized body is
/// 413.
pub(crate) async fn results_authenticate_before_reading_the_body(t: &TestApp) {
    let agent = t.probe("home").await;
    let path = format!("/api/v1/probes/{}/results", agent.probe.id);
    let line = head_only(t, &path, "wrong-token", 10_000_000).await;
    assert!(line.contains(" 401 "), "{line}");
    // A declared length over 16 MiB is refused without reading, after the token check.
    let line = head_only(t, &path, &agent.token, 17 * 1024 * 1024).await;
    assert!(line.contains(" 413 "), "{line}");
    // Streamed without a length: refused once past the cap.
    let chunks = futures_util::stream::iter(
        (0..17 * 16).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 65_536]))),
    );
    let r = t
        .client
        .post(t.url(&path))
        .bearer_auth(&agent.token)
        .header(CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    let (status, answer) = crate::helpers::answer(r).await;
    assert_eq!(
        (status, &answer["code"]),
        (413, &json!("payload_too_large"))
    );
}

/// Every string and list of a connection is capped; the 400 names the field.
pub(crate) async fn connection_fields_are_capped(t: &TestApp) {
    let agent = t.probe("home").await;
    let pid = agent.probe.id.as_str();
    let bad = |extra: Value, field: &'static str| async move {
        let mut body = json!({ "probeId": pid, "name": "wan" });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, answer) = t.send(Method::POST, "/api/v1/connections", &body).await;
        assert_eq!(
            (s, answer["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
        assert!(answer["message"].as_str().unwrap().len() < 400, "{answer}");
    };
    bad(json!({ "isp": "x".repeat(256) }), "isp").await;
    bad(
        json!({ "sourceInterface": "e".repeat(65) }),
        "sourceInterface",
    )
    .await;
    bad(json!({ "sourceAddress": "1".repeat(65) }), "sourceAddress").await;
    bad(json!({ "colour": "c".repeat(10_000) }), "colour").await;
    let labels: serde_json::Map<String, Value> =
        (0..33).map(|i| (format!("k{i}"), json!("v"))).collect();
    bad(json!({ "labels": labels }), "labels").await;
    bad(json!({ "labels": { "k".repeat(65): "v" } }), "labels").await;
    bad(json!({ "serverPool": vec!["ookla:1"; 65] }), "serverPool").await;
    bad(
        json!({ "serverPool": [format!("https://{}", "a".repeat(600))] }),
        "serverPool",
    )
    .await;
    bad(
        json!({ "schedule": "cron", "cron": vec!["* * * * *"; 33] }),
        "cron",
    )
    .await;
    // Probe labels follow the same rules.
    let (s, answer) = t
        .send(
            Method::POST,
            "/api/v1/probes",
            &json!({ "name": "p", "labels": labels }),
        )
        .await;
    assert_eq!(
        (s, answer["field"].as_str()),
        (400, Some("labels")),
        "{answer}"
    );
    // At the caps, everything is accepted.
    let labels: serde_json::Map<String, Value> =
        (0..32).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (s, answer) = t
        .send(
            Method::POST,
            "/api/v1/connections",
            &json!({
                "probeId": pid, "name": "wan", "isp": "i".repeat(255), "labels": labels,
                "serverPool": vec!["ookla:1"; 64], "sourceInterface": "e".repeat(64),
            }),
        )
        .await;
    assert_eq!(s, 201, "{answer}");
}

/// A sign-in with an e-mail longer than any account's is a wrong sign-in that stores no
/// throttle row for it (the address still counts).
pub(crate) async fn long_sign_in_emails_store_no_throttle_key(t: &TestApp) {
    let mut w = WebClient::new(t);
    w.setup().await;
    let email = format!("{}@example.org", "a".repeat(20_000));
    let a = WebClient::new(t).login(&email, "wrong").await;
    assert_eq!(a.status, 401, "{}", a.body);
    let key = format!("account:{email}");
    assert!(t.app.storage.throttle_state(&key).await.unwrap().is_none());
    assert!(
        t.app
            .storage
            .throttle_state("address:127.0.0.1")
            .await
            .unwrap()
            .is_some()
    );
}

/// A server over an in-memory database with short timeouts; returns its address.
async fn server_with_timeouts(header_read: Duration, idle: Duration) -> String {
    use poem::listener::{Acceptor, Listener, TcpListener};
    let app = netpulse_app::startup::open_app("sqlite::memory:")
        .await
        .unwrap();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let server = netpulse_app::startup::Server::new(app)
        .timeouts(netpulse_app::startup::timeouts::Timeouts { header_read, idle });
    tokio::spawn(netpulse_app::startup::run(
        acceptor,
        server,
        std::future::pending(),
    ));
    addr.to_string()
}

/// Waits until the server closes `socket` (read returns 0 or fails); the time it took.
async fn closed_after(socket: &mut tokio::net::TcpStream, within: Duration) -> Duration {
    let start = std::time::Instant::now();
    let mut buf = [0; 256];
    loop {
        match tokio::time::timeout(within, socket.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => {}
            Err(elapsed) => panic!("the server kept the connection open ({elapsed}, {within:?})"),
        }
    }
}

/// A client that sends half a request head (all at once, or a byte at a time) is disconnected
/// after the header-read timeout; a silent connection after the idle timeout; a keep-alive
/// connection between requests after the idle timeout too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_clients_are_disconnected() {
    let addr = server_with_timeouts(Duration::from_millis(500), Duration::from_secs(2)).await;
    // Half a head, then nothing.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let took = closed_after(&mut s, Duration::from_secs(5)).await;
    assert!(took < Duration::from_millis(1900), "{took:?}");
    // A drip of one byte every 100 ms keeps the socket busy, but not past the header timeout.
    let start = std::time::Instant::now();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let drip = tokio::spawn({
        async move {
            for b in b"GET /api/v1/ping HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaa"
            {
                if s.write_all(&[*b]).await.is_err() {
                    return s;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            s
        }
    });
    let mut s = drip.await.unwrap();
    closed_after(&mut s, Duration::from_secs(5)).await;
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "closed while dripping: {took:?}"
    );
    // Nothing at all: closed after the idle timeout.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let took = closed_after(&mut s, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    // A whole request is answered, and the kept-alive connection is closed once idle.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /api/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let took = closed_after(&mut s, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(1500), "{took:?}");
}

/// The defaults are 10 s for the header and 60 s idle.
#[test]
fn timeout_defaults() {
    let d = netpulse_app::startup::timeouts::Timeouts::default();
    assert_eq!(d.header_read, Duration::from_secs(10));
    assert_eq!(d.idle, Duration::from_secs(60));
}
