//! Spawns the real server on a loopback port over a fresh database, with a clock the test
//! moves, and offers typed request helpers.

use std::sync::Arc;

use netpulse_adapters::secrets::SecretBox;
use netpulse_adapters::testing::TestDatabase;
use netpulse_app::notify::{Notifications, SentCounter, Tasks, Timing};
use netpulse_app::service::{App, connections, probes};
use netpulse_domain::id::{ApiTokenId, ProbeId};
use netpulse_domain::model::{Connection, Probe};
use netpulse_ports::clock::{Clock, ManualClock, SystemClock};
use netpulse_ports::storage::ApiToken;
use poem::listener::{Acceptor, Listener, TcpListener};
use serde_json::{Value, json};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Db {
    Sqlite,
    Postgres,
}

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    pub(crate) app: App,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) api_token: String,
    pub(crate) notify: Arc<Notifications>,
    pub(crate) db_url: String,
    _tasks: Tasks,
    /// The metrics exporter and remote writer, when the test asked for them.
    pub(crate) metrics: Option<netpulse_app::metrics::Installed>,
    /// The MQTT / Home Assistant engine (unconfigured until a test saves its settings; `None`
    /// once a test stopped it).
    mqtt: std::sync::Mutex<Option<netpulse_app::startup::mqtt::MqttTask>>,
    _db: TestDatabase,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.abort();
        }
    }
}

/// A started server, or `None` when PostgreSQL is switched off (`NETPULSE_TEST_PG_URL=off`).
pub(crate) async fn spawn(db: Db) -> Option<TestApp> {
    spawn_with_metrics(db, None).await
}

/// A started server with the metrics exporter (and remote write, OTLP) installed as `serve`
/// installs them.
pub(crate) async fn spawn_with_metrics(
    db: Db,
    metrics: Option<netpulse_app::metrics::config::MetricsConfig>,
) -> Option<TestApp> {
    let database = match db {
        Db::Sqlite => TestDatabase::sqlite(),
        Db::Postgres => TestDatabase::postgres().await?,
    };
    let storage = netpulse_adapters::storage::open(&database.url)
        .await
        .expect("open database");
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let (mut app, notify, tasks) = app_over(storage, clock.clone());
    // As `serve` does (its sweep every 30 s), with a quick sweep.
    let mqtt = netpulse_app::startup::mqtt::start(
        &mut app,
        Arc::new(SecretBox::new(&[42; 32])),
        std::time::Duration::from_millis(500),
    );
    let api_token = netpulse_app::tokens::generate();
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
            &netpulse_app::tokens::digest(&api_token),
        )
        .await
        .unwrap();
    // Tests contact no address outside loopback and their own namespaces: new probes get no
    // default check set (to 1.1.1.1, 9.9.9.9, …) unless a test asks for it.
    netpulse_app::service::checks::set_defaults_for_new_probes(&app, false)
        .await
        .unwrap();
    let metrics = match metrics {
        Some(config) => Some(
            netpulse_app::startup::install_metrics(&mut app, config)
                .await
                .expect("install metrics"),
        ),
        None => None,
    };
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind");
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("a TCP address");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = netpulse_app::startup::Server::new(app.clone())
        .metrics(metrics.as_ref().map(|m| m.metrics.clone()));
    let server = tokio::spawn(netpulse_app::startup::run(acceptor, server, async move {
        let _ = rx.await;
    }));
    let db_url = database.url.clone();
    Some(TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        app,
        clock,
        api_token,
        notify,
        db_url,
        _tasks: tasks,
        metrics,
        mqtt: std::sync::Mutex::new(Some(mqtt)),
        _db: database,
        shutdown: Some(tx),
        server: Some(server),
    })
}

/// An app over `storage` with notifications running fast (the delivery worker looks every
/// 50 ms, housekeeping runs every 100 ms), a fixed secret key and its own sent counter.
pub(crate) fn app_over(
    storage: Arc<dyn netpulse_ports::storage::Storage>,
    clock: Arc<ManualClock>,
) -> (App, Arc<Notifications>, Tasks) {
    let mut app = netpulse_app::startup::app_over(storage, clock);
    let (notify, tasks) = netpulse_app::startup::start_notifications(
        &mut app,
        Arc::new(SecretBox::new(&[42; 32])),
        Arc::new(SentCounter::default()),
        Timing {
            worker_idle: std::time::Duration::from_millis(50),
            housekeeping_every: std::time::Duration::from_millis(100),
        },
    );
    (app, notify, tasks)
}

/// A probe with its token.
pub(crate) struct Agent {
    pub(crate) probe: Probe,
    pub(crate) token: String,
}

/// A second server process over a test's database (its own pool, notifications and MQTT
/// engine, connected with the stored settings), as after a restart.
pub(crate) struct Restarted {
    _app: App,
    _tasks: Tasks,
    _mqtt: netpulse_app::startup::mqtt::MqttTask,
}

impl TestApp {
    /// Stops this server's MQTT engine as a shutdown does (`offline`, clean disconnect); the
    /// REST API keeps running without it.
    pub(crate) async fn stop_mqtt(&self) {
        let task = self.mqtt.lock().unwrap().take();
        if let Some(task) = task {
            task.shutdown().await;
        }
    }

    /// Starts another server process over the same database (see [`Restarted`]).
    pub(crate) async fn restarted(&self) -> Restarted {
        let storage = netpulse_adapters::storage::open(&self.db_url)
            .await
            .expect("open database");
        let (mut app, _, tasks) = app_over(storage, self.clock.clone());
        let mqtt = netpulse_app::startup::mqtt::start(
            &mut app,
            Arc::new(SecretBox::new(&[42; 32])),
            std::time::Duration::from_millis(500),
        );
        Restarted {
            _app: app,
            _tasks: tasks,
            _mqtt: mqtt,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn probe(&self, name: &str) -> Agent {
        let issued = probes::create(&self.app, name, netpulse_domain::values::Labels::new())
            .await
            .unwrap();
        Agent {
            probe: issued.probe,
            token: issued.token,
        }
    }

    pub(crate) async fn connection(
        &self,
        probe: &ProbeId,
        name: &str,
        pool: &[&str],
    ) -> Connection {
        let input = connections::ConnectionInput {
            name: Some(name.into()),
            download_mbps: Some(1000),
            upload_mbps: Some(500),
            server_pool: Some(pool.iter().map(|s| (*s).to_owned()).collect()),
            jitter_seconds: Some(0),
            ..Default::default()
        };
        connections::create(&self.app, probe, input).await.unwrap()
    }

    /// GET with the API token.
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.api_token)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    /// A request with the API token and a JSON body.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> (u16, Value) {
        let r = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.api_token)
            .json(body)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub(crate) async fn due(&self, agent: &Agent) -> (u16, Value) {
        let r = self
            .client
            .get(self.url(&format!("/api/v1/probes/{}/due", agent.probe.id)))
            .bearer_auth(&agent.token)
            .header("X-NetPulse-Agent-Version", "9.9.9")
            .header("X-NetPulse-Agent-Engines", "ookla,iperf3")
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub(crate) async fn push(&self, agent: &Agent, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(&format!("/api/v1/probes/{}/results", agent.probe.id)))
            .bearer_auth(&agent.token)
            .json(body)
            .send()
            .await
            .unwrap();
        answer(r).await
    }
}

pub(crate) async fn answer(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    (status, value)
}

/// The real Ookla CLI 1.2 output from the fixtures.
pub(crate) fn ookla_stdout() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../netpulse-adapters/tests/fixtures/ookla/cli1.2-json-pretty-de-hannover-anonymized.json"
    ))
    .unwrap()
}

/// A push body in the agent's format.
pub(crate) fn push_body(
    at: netpulse_domain::Timestamp,
    connection: &Connection,
    pool_entry: Option<&str>,
    stdout: &str,
    exit_code: i32,
    scheduled: bool,
) -> Value {
    json!({
        "resultId": uuid::Uuid::new_v4().to_string(),
        "connectionId": connection.id.as_str(),
        "taskId": null,
        "engine": "ookla",
        "poolEntry": pool_entry,
        "startedAt": at.plus_seconds(-30).to_rfc3339(),
        "finishedAt": at.to_rfc3339(),
        "scheduled": scheduled,
        "exitCode": exit_code,
        "stdout": stdout,
        "stderr": "",
    })
}
