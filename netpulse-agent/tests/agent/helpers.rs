//! Test helpers: a small HTTP/1.1 server that plays the NetPulse server's agent API with
//! scripted answers, speed-test runners with canned outputs, and builders.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use netpulse_adapters::agent_client::HttpAgentApi;
use netpulse_agent::{Agent, AgentConfig, Engines};
use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ProbeId, TaskId};
use netpulse_domain::model::RawOutput;
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::agent_api::ResultPush;
use netpulse_ports::runner::{RunOutput, SpeedtestRunner, TestRequest};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

pub(crate) const PROBE: &str = "33333333-3333-4333-8333-333333333333";
pub(crate) const TOKEN: &str = "probe-token-123";
pub(crate) const CONN_A: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
pub(crate) const CONN_B: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

/// One scripted answer.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// Answer with this status and body.
    Status(u16, String),
    /// Read the request, then close the connection without answering.
    Hangup,
}

impl Reply {
    pub(crate) fn json(status: u16, body: &Value) -> Self {
        Self::Status(status, body.to_string())
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
    pub(crate) at: Instant,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the request body is JSON")
    }
}

#[derive(Debug, Default)]
struct State {
    due_script: VecDeque<Reply>,
    push_script: VecDeque<Reply>,
    requests: Vec<Request>,
    /// Result ids stored, in the order they were first stored.
    recorded: Vec<String>,
    known: HashSet<String>,
    /// Check results stored, keyed (checkId, family, roundAt), in the order first stored.
    check_keys: Vec<(String, String, String)>,
}

/// The fake NetPulse server. `/due` answers from its script, then its default (no tasks,
/// `pollAfterSeconds` 60); `/results` answers from its script, then like the real server
/// (201 the first time a result id is seen, 200 `alreadyRecorded` after).
#[derive(Debug, Clone)]
pub(crate) struct FakeServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    requests_seen: Arc<Notify>,
}

impl FakeServer {
    pub(crate) async fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    pub(crate) async fn start_at(addr: SocketAddr) -> Self {
        Self::start_on(TcpListener::bind(addr).await.unwrap())
    }

    fn start_on(listener: TcpListener) -> Self {
        let server = Self {
            addr: listener.local_addr().unwrap(),
            state: Arc::default(),
            requests_seen: Arc::default(),
        };
        let accept = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = accept.clone();
                tokio::spawn(async move { handler.serve(stream).await });
            }
        });
        server
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues answers to the next polls.
    pub(crate) fn script_due(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().due_script.extend(replies);
    }

    /// Queues answers to the next pushes.
    pub(crate) fn script_push(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().push_script.extend(replies);
    }

    /// Makes the server know a result id already (as if recorded before).
    pub(crate) fn already_has(&self, result_id: &str) {
        self.state
            .lock()
            .unwrap()
            .known
            .insert(result_id.to_owned());
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub(crate) fn polls(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| {
                r.path
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .ends_with("/due")
            })
            .collect()
    }

    pub(crate) fn pushes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/results"))
            .collect()
    }

    /// Result ids recorded (201), in order.
    pub(crate) fn recorded(&self) -> Vec<String> {
        self.state.lock().unwrap().recorded.clone()
    }

    /// The check results stored (each key once), in order.
    pub(crate) fn check_keys(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().check_keys.clone()
    }

    /// Waits until `count` requests have arrived.
    pub(crate) async fn wait_for_requests(&self, count: usize, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.requests_seen.notified();
            if self.requests().len() >= count {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "expected {count} requests within {within:?}, got {:#?}",
                self.requests()
            );
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    async fn serve(&self, mut stream: TcpStream) {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        let reply = self.answer(&request);
        {
            self.state.lock().unwrap().requests.push(request);
        }
        self.requests_seen.notify_waiters();
        if let Reply::Status(status, body) = reply {
            let head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reason(status),
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.flush().await;
        }
        let _ = stream.shutdown().await;
    }

    fn answer(&self, request: &Request) -> Reply {
        let mut state = self.state.lock().unwrap();
        let probe_path = format!("/api/v1/probes/{PROBE}");
        let path = request.path.split('?').next().unwrap_or_default();
        if request.method == "GET" && path == format!("{probe_path}/due") {
            return state
                .due_script
                .pop_front()
                .unwrap_or_else(|| Reply::json(200, &due(&[], 60)));
        }
        if request.method == "POST" && request.path == format!("{probe_path}/results") {
            if let Some(reply) = state.push_script.pop_front() {
                return reply;
            }
            let Ok(body) = serde_json::from_str::<Value>(&request.body) else {
                return Reply::Status(400, r#"{"error":"not JSON"}"#.to_owned());
            };
            let id = body["resultId"].as_str().unwrap_or_default().to_owned();
            if state.known.contains(&id) {
                return Reply::json(
                    200,
                    &json!({"id": id, "status": "ok", "healthy": true, "breaches": [], "alreadyRecorded": true}),
                );
            }
            state.known.insert(id.clone());
            state.recorded.push(id.clone());
            return Reply::json(
                201,
                &json!({"id": id, "status": "ok", "healthy": true, "breaches": [], "alreadyRecorded": false}),
            );
        }
        if request.method == "POST" && request.path == format!("{probe_path}/check-results") {
            // Like the real server: idempotent on (check, family, round).
            let Ok(body) = serde_json::from_str::<Value>(&request.body) else {
                return Reply::Status(400, r#"{"error":"not JSON"}"#.to_owned());
            };
            let (mut recorded, mut duplicates) = (0, 0);
            for r in body["results"].as_array().into_iter().flatten() {
                let key = (
                    r["checkId"].as_str().unwrap_or_default().to_owned(),
                    r["family"].as_str().unwrap_or_default().to_owned(),
                    r["roundAt"].as_str().unwrap_or_default().to_owned(),
                );
                if state.check_keys.contains(&key) {
                    duplicates += 1;
                } else {
                    state.check_keys.push(key);
                    recorded += 1;
                }
            }
            return Reply::json(
                200,
                &json!({"recorded": recorded, "duplicates": duplicates, "unknownChecks": 0}),
            );
        }
        Reply::Status(404, r#"{"error":"not found"}"#.to_owned())
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    })
}

/// A `/due` answer.
pub(crate) fn due(tasks: &[Value], poll_after_seconds: i64) -> Value {
    json!({"tasks": tasks, "pollAfterSeconds": poll_after_seconds})
}

/// A `/due` task.
pub(crate) fn task(
    task_id: &str,
    connection_id: &str,
    engine: &str,
    pool_entry: Option<&str>,
) -> Value {
    json!({
        "taskId": task_id,
        "connectionId": connection_id,
        "poolEntry": pool_entry,
        "engine": engine,
        "reason": "schedule",
        "scheduled": true,
        "sourceInterface": null,
        "sourceAddress": null,
        "timeoutSeconds": 120,
    })
}

/// A task id made from a number.
pub(crate) fn task_id(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

/// An address nothing listens on.
pub(crate) async fn dead_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// What a canned runner does when run.
#[derive(Debug, Clone)]
pub(crate) enum Behaviour {
    /// Returns this output.
    Output(RawOutput),
    /// Panics.
    Panic,
    /// Never finishes (until dropped).
    Hang,
}

/// A real `SpeedtestRunner` with canned behaviour, recording its calls.
#[derive(Debug)]
pub(crate) struct CannedRunner {
    pub(crate) engine: Engine,
    pub(crate) available: bool,
    pub(crate) behaviour: Behaviour,
    pub(crate) calls: Mutex<Vec<TestRequest>>,
    pub(crate) started: Notify,
    pub(crate) runs_in_progress: AtomicUsize,
    pub(crate) dropped_unfinished: AtomicBool,
}

impl CannedRunner {
    pub(crate) fn new(engine: Engine, behaviour: Behaviour) -> Arc<Self> {
        Arc::new(Self {
            engine,
            available: true,
            behaviour,
            calls: Mutex::default(),
            started: Notify::new(),
            runs_in_progress: AtomicUsize::new(0),
            dropped_unfinished: AtomicBool::new(false),
        })
    }

    pub(crate) fn unavailable(engine: Engine) -> Arc<Self> {
        Arc::new(Self {
            available: false,
            ..Arc::into_inner(Self::new(engine, Behaviour::Panic)).unwrap()
        })
    }

    pub(crate) fn ok(engine: Engine, stdout: &str) -> Arc<Self> {
        Self::new(
            engine,
            Behaviour::Output(RawOutput {
                exit_code: Some(0),
                stdout: stdout.to_owned(),
                stderr: String::new(),
            }),
        )
    }

    pub(crate) fn calls(&self) -> Vec<TestRequest> {
        self.calls.lock().unwrap().clone()
    }
}

/// Marks a run abandoned when dropped before it finished (what a real runner's
/// `kill_on_drop` child does).
struct RunGuard<'a> {
    runner: &'a CannedRunner,
    finished: bool,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.runner.runs_in_progress.fetch_sub(1, Ordering::SeqCst);
        if !self.finished {
            self.runner.dropped_unfinished.store(true, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl SpeedtestRunner for CannedRunner {
    fn engine(&self) -> Engine {
        self.engine
    }

    async fn available(&self) -> bool {
        self.available
    }

    async fn run(&self, request: &TestRequest) -> RunOutput {
        self.calls.lock().unwrap().push(request.clone());
        self.runs_in_progress.fetch_add(1, Ordering::SeqCst);
        let mut guard = RunGuard {
            runner: self,
            finished: false,
        };
        let started_at = now();
        self.started.notify_waiters();
        let raw = match &self.behaviour {
            Behaviour::Output(raw) => raw.clone(),
            Behaviour::Panic => panic!("canned runner exploded"),
            Behaviour::Hang => {
                std::future::pending::<()>().await;
                unreachable!()
            }
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        guard.finished = true;
        RunOutput {
            started_at,
            finished_at: now(),
            raw,
        }
    }
}

pub(crate) fn now() -> Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    Timestamp::from_unix_millis(i64::try_from(since.as_millis()).unwrap())
}

/// The engines of some canned runners.
pub(crate) fn engines(runners: &[&Arc<CannedRunner>]) -> Engines {
    Engines::new(
        runners
            .iter()
            .map(|r| Arc::clone(r) as Arc<dyn SpeedtestRunner>),
    )
}

/// The HTTP client of the fake server (short timeout).
pub(crate) fn client(url: &str) -> HttpAgentApi {
    HttpAgentApi::with_timeout(
        url,
        &ProbeId::parse(PROBE).unwrap(),
        TOKEN,
        Duration::from_secs(5),
    )
    .unwrap()
}

/// A configuration for tests: the spool in `dir`, fast back-off.
pub(crate) fn config(dir: &Path) -> AgentConfig {
    let mut config = AgentConfig::new(dir);
    "9.9.9-test".clone_into(&mut config.version);
    config.poll_interval = Duration::from_secs(1);
    config.backoff_base = Duration::from_millis(50);
    config.min_sleep = Duration::from_millis(10);
    config
}

/// An agent for the fake server at `url` with these runners, spooling in `dir`.
pub(crate) fn agent(url: &str, dir: &Path, runners: &[&Arc<CannedRunner>]) -> Agent {
    Agent::new(config(dir), engines(runners), Arc::new(client(url))).unwrap()
}

/// A finished result, as if a test had run.
pub(crate) fn result(connection: &str, engine: Engine) -> ResultPush {
    let started_at = now();
    ResultPush {
        result_id: netpulse_agent::engines::new_result_id(),
        connection_id: ConnectionId::parse(connection).unwrap(),
        task_id: Some(TaskId::parse(&task_id(7)).unwrap()),
        engine,
        pool_entry: PoolEntry::parse("12345").ok(),
        started_at,
        finished_at: started_at.plus_seconds(20),
        scheduled: true,
        raw: RawOutput {
            exit_code: Some(0),
            stdout: r#"{"type":"result"}"#.to_owned(),
            stderr: String::new(),
        },
    }
}

/// The names of the files in a directory, sorted (empty when it does not exist).
pub(crate) fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The pending result files of a spool directory.
pub(crate) fn pending_in(dir: &Path) -> Vec<String> {
    files_in(dir)
        .into_iter()
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "json") && !n.starts_with('.'))
        .collect()
}
