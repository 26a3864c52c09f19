//! `/api/v1/healthcheck`: checks the write path, answers within its 1 s bound when the
//! database is locked or unreachable, and shows the cause only to authenticated callers.
//! SQLite is write-locked by a second connection holding `BEGIN IMMEDIATE`; PostgreSQL is
//! reached through a TCP relay the test pauses (the network goes silent) and then closes (the
//! server's port is gone, its connections dropped).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netpulse_adapters::testing::TestDatabase;
use netpulse_domain::id::ApiTokenId;
use netpulse_ports::clock::{Clock, ManualClock, SystemClock};
use netpulse_ports::storage::ApiToken;
use poem::listener::{Acceptor, Listener, TcpListener};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Db, TestApp, answer, spawn};

/// What the 1 s bound allows for in a test on a busy machine (the old answer took 5 s).
const WELL_WITHIN: Duration = Duration::from_millis(3000);

async fn healthcheck(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
) -> (u16, Value, Duration) {
    let mut request = client.get(format!("{base}/api/v1/healthcheck"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let started = Instant::now();
    let (status, body) = answer(request.send().await.unwrap()).await;
    let took = started.elapsed();
    eprintln!("healthcheck: {status} in {} ms: {body}", took.as_millis());
    (status, body, took)
}

fn has(body: &Value, key: &str) -> bool {
    body.get(key).is_some_and(|v| !v.is_null())
}

/// Only the status without credentials; the database's state with an API token or a session.
pub(crate) async fn healthcheck_detail_needs_credentials(t: &TestApp) {
    let (status, body, _) = healthcheck(&t.client, &t.base, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "healthy");
    assert!(!has(&body, "database") && !has(&body, "error"), "{body}");
    let (status, body, _) = healthcheck(&t.client, &t.base, Some("not-a-token")).await;
    assert_eq!(status, 200);
    assert!(
        !has(&body, "database"),
        "a wrong token sees the status only: {body}"
    );
    let (status, body, _) = healthcheck(&t.client, &t.base, Some(&t.api_token)).await;
    assert_eq!(status, 200);
    assert_eq!(body["database"], "up", "{body}");
    // A signed-in session sees it too.
    let user = netpulse_app::service::users::create(
        &t.app,
        "admin@example.org".into(),
        "correct horse battery".into(),
    )
    .await
    .unwrap();
    let secret = netpulse_app::service::sessions::start(&t.app, &user.id)
        .await
        .unwrap();
    let (_, body) = answer(
        t.client
            .get(t.url("/api/v1/healthcheck"))
            .header("cookie", format!("np_session={secret}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["database"], "up", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_write_locked_by_another_process_is_unhealthy_within_the_bound() {
    let t = spawn(Db::Sqlite).await.unwrap();
    assert_eq!(healthcheck(&t.client, &t.base, None).await.0, 200);
    // Another connection (as another process would) takes the write lock and keeps it.
    let mut other = <sqlx::SqliteConnection as sqlx::Connection>::connect(&t.db_url)
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();

    let (status, body, took) = healthcheck(&t.client, &t.base, None).await;
    assert_eq!(
        status, 503,
        "reads still work, but nothing can be written: {body}"
    );
    assert_eq!(body["status"], "unhealthy");
    assert!(!has(&body, "database") && !has(&body, "error"), "{body}");
    assert!(took < WELL_WITHIN, "took {took:?}");
    // With the API token (read, not written: the lock does not hold it up), the cause.
    let (status, body, took) = healthcheck(&t.client, &t.base, Some(&t.api_token)).await;
    assert_eq!(status, 503);
    assert_eq!(body["database"], "timeout", "{body}");
    assert!(body["error"].as_str().unwrap().contains("write"), "{body}");
    assert!(took < WELL_WITHIN, "took {took:?}");

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    // The server's own connection may still be waiting out its busy timeout.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body, _) = healthcheck(&t.client, &t.base, Some(&t.api_token)).await;
        if status == 200 {
            assert_eq!(body["database"], "up");
            break;
        }
        assert!(Instant::now() < deadline, "still unhealthy: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A TCP relay to PostgreSQL the test can make silent (bytes are held, not passed on) or close.
struct Relay {
    addr: SocketAddr,
    paused: Arc<AtomicBool>,
    tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let paused = Arc::new(AtomicBool::new(false));
        let tasks: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (p, list) = (Arc::clone(&paused), Arc::clone(&tasks));
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                let mut held = list.lock().unwrap();
                held.push(tokio::spawn(pipe(ri, wo, Arc::clone(&p))));
                held.push(tokio::spawn(pipe(ro, wi, Arc::clone(&p))));
            }
        });
        tasks.lock().unwrap().push(accept);
        Self {
            addr,
            paused,
            tasks,
        }
    }

    /// The network goes silent: connections stay open, nothing gets through.
    fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// The port closes and every relayed connection is dropped.
    fn close(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    paused: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while paused.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_is_unhealthy_within_the_bound_without_driver_errors() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    // postgres://user@host:port/name → the same through the relay.
    let (scheme_user, rest) = database.url.split_once('@').unwrap();
    let (host_port, path) = rest.split_once('/').unwrap();
    let relay = Relay::start(host_port.to_owned()).await;
    let url = format!("{scheme_user}@{}/{path}", relay.addr);
    let storage = netpulse_adapters::storage::open(&url).await.unwrap();
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = netpulse_app::startup::app_over(storage, clock.clone());
    let token = netpulse_app::tokens::generate();
    app.storage
        .create_api_token(
            &ApiToken {
                id: ApiTokenId::parse(&netpulse_app::service::new_uuid()).unwrap(),
                name: "tests".into(),
                created_at: clock.now(),
                last_used_at: None,
                user_id: None,
                scopes: netpulse_domain::access::Permission::ALL.to_vec(),
                expires_at: None,
                last_used_ip: None,
            },
            &netpulse_app::tokens::digest(&token),
        )
        .await
        .unwrap();
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = netpulse_app::startup::Server::new(app);
    let served = tokio::spawn(netpulse_app::startup::run(acceptor, server, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    // Before the bound, a silent PostgreSQL kept the answer waiting for good.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (status, body, _) = healthcheck(&client, &base, Some(&token)).await;
    assert_eq!(
        (status, &body["database"]),
        (200, &Value::from("up")),
        "{body}"
    );

    // Silent network: the query never comes back; the answer does, within the bound.
    relay.pause();
    for credentials in [None, Some(token.as_str())] {
        let (status, body, took) = healthcheck(&client, &base, credentials).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["status"], "unhealthy");
        // The token cannot be checked without the database: the status only.
        assert!(!has(&body, "database") && !has(&body, "error"), "{body}");
        assert!(took < WELL_WITHIN, "took {took:?}");
    }
    // PostgreSQL gone: port closed, connections dropped.
    relay.close();
    let (status, body, took) = healthcheck(&client, &base, None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unhealthy");
    assert!(
        !has(&body, "database") && !has(&body, "error"),
        "status only: {body}"
    );
    assert!(took < WELL_WITHIN, "took {took:?}");
    let _ = stop.send(());
    let _ = served.await;
}
