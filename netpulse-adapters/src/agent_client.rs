//! The agent's HTTP client of the server's agent API ([`AgentApi`]).
//!
//! - `GET {base}/api/v1/probes/{probeId}/due` polls for work, sending the agent's version
//!   (`X-NetPulse-Agent-Version`) and the engines it can run (`X-NetPulse-Agent-Engines`).
//! - `POST {base}/api/v1/probes/{probeId}/results` pushes one result; `201` (recorded) and `200`
//!   with `"alreadyRecorded": true` both mean the server has it.
//! - `POST {base}/api/v1/probes/{probeId}/check-results` pushes a batch of check results
//!   ([`crate::wire_checks`]); `200` with the counts of recorded, duplicate and unknown-check
//!   results. `/due` carries `checksVersion=<etag>` when the agent holds a check set, and its
//!   answer's optional `checks` field is read leniently: a malformed field is reported and read
//!   as absent (the agent keeps its set), an invalid check is skipped and reported.
//!
//! Every request carries `Authorization: Bearer <token>` and has a timeout (30 s by default).
//! Answers map onto [`AgentApiError`]: 401/403 → `Unauthorized`, other 4xx → `Rejected`,
//! 5xx → `ServerError`, no answer → `Unreachable`, anything the API does not document (a
//! redirect, a body that is not the documented JSON) → `InvalidResponse`. Redirects are not
//! followed: a `POST` redirected by a proxy would silently turn into a `GET`.
//!
//! The JSON bodies are those of the wire contract, [`crate::wire`]. The `/due` answer is read
//! leniently where that is safe: unknown fields are ignored, a missing or malformed
//! `pollAfterSeconds` reads as 0 (the agent then uses its own interval), and a task with an
//! invalid id, engine or pool entry is skipped and reported to the warning sink
//! ([`HttpAgentApi::on_warning`]) rather than failing the whole poll.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use netpulse_domain::check::CheckMeasurement;
use netpulse_domain::id::ProbeId;
use netpulse_ports::agent_api::{
    AgentApi, AgentApiError, AgentInfo, CheckPushOutcome, CheckSet, DuePlan, PushOutcome,
    ResultPush, Task,
};
use serde::Deserialize as _;
use serde_json::Value;

use crate::wire::{DueAnswerBody, DueTaskBody, ResultPushBody};
use crate::wire_checks::{
    CHECKS_VERSION_PARAM, CheckBody, CheckResultBody, CheckResultsAnswerBody, CheckResultsBody,
    DueChecksBody,
};

/// The query parameter of a long poll (seconds the server may hold it).
pub const WAIT_PARAM: &str = "wait";
/// The field of a `/due` answer by which a server says it honoured `wait`.
pub const WAITED_SECONDS_FIELD: &str = "waitedSeconds";
/// How much longer than the asked wait the client waits for a long poll's answer.
pub const LONG_POLL_MARGIN: Duration = Duration::from_secs(10);

/// The default timeout of one request (connect, send, answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The header that carries the agent's version.
pub const VERSION_HEADER: &str = "X-NetPulse-Agent-Version";

/// The header that carries the engines the agent can run, comma-separated.
pub const ENGINES_HEADER: &str = "X-NetPulse-Agent-Engines";

/// How much of an error answer's body is kept in an error.
const BODY_EXCERPT_CHARS: usize = 500;

/// Why a client could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentClientError {
    /// The server URL is not an absolute `http://` or `https://` URL.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidServerUrl {
        /// The URL that was given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The token is empty or cannot be sent in a header.
    #[error("invalid probe token: {0}")]
    InvalidToken(String),
    /// The HTTP client could not be set up (e.g. no TLS backend).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

type WarningSink = Arc<dyn Fn(&str) + Send + Sync>;

/// The agent API over HTTP with reqwest.
#[derive(Clone)]
pub struct HttpAgentApi {
    client: reqwest::Client,
    due_url: String,
    results_url: String,
    check_results_url: String,
    authorization: String,
    warn: WarningSink,
}

impl fmt::Debug for HttpAgentApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpAgentApi")
            .field("due_url", &self.due_url)
            .field("results_url", &self.results_url)
            .field("authorization", &"Bearer <redacted>")
            .finish_non_exhaustive()
    }
}

/// Checks that `url` is an absolute `http(s)://` URL with a host, no query and no fragment, and
/// returns it without trailing slashes (a path prefix such as `https://host/netpulse` is kept).
pub fn normalise_server_url(url: &str) -> Result<String, AgentClientError> {
    let fail = |reason: &str| AgentClientError::InvalidServerUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = url.trim();
    if trimmed.is_empty() {
        return Err(fail("it is empty"));
    }
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| fail(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(fail("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(fail("it has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(fail("it must not have a query or a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(fail(
            "it must not contain credentials (the probe token is sent as a bearer token)",
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

impl HttpAgentApi {
    /// A client for one probe on the server at `server_url` (e.g. `https://netpulse.example`),
    /// with the default timeout.
    pub fn new(server_url: &str, probe: &ProbeId, token: &str) -> Result<Self, AgentClientError> {
        Self::with_timeout(server_url, probe, token, DEFAULT_TIMEOUT)
    }

    /// A client whose requests time out after `timeout`.
    pub fn with_timeout(
        server_url: &str,
        probe: &ProbeId,
        token: &str,
        timeout: Duration,
    ) -> Result<Self, AgentClientError> {
        let base = normalise_server_url(server_url)?;
        if token.trim().is_empty() {
            return Err(AgentClientError::InvalidToken("it is empty".to_owned()));
        }
        if token.chars().any(|c| c.is_control() || !c.is_ascii()) {
            return Err(AgentClientError::InvalidToken(
                "it must be printable ASCII".to_owned(),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("netpulse-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AgentClientError::Setup(error_chain(&e)))?;
        Ok(Self {
            client,
            due_url: format!("{base}/api/v1/probes/{probe}/due"),
            results_url: format!("{base}/api/v1/probes/{probe}/results"),
            check_results_url: format!("{base}/api/v1/probes/{probe}/check-results"),
            authorization: format!("Bearer {}", token.trim()),
            warn: Arc::new(|message| eprintln!("netpulse agent client: warning: {message}")),
        })
    }

    /// Sends warnings (tasks skipped because the server sent something invalid) to `sink`
    /// instead of standard error.
    #[must_use]
    pub fn on_warning(mut self, sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.warn = Arc::new(sink);
        self
    }

    /// The URL polled for due work.
    pub fn due_url(&self) -> &str {
        &self.due_url
    }

    /// The URL results are pushed to.
    pub fn results_url(&self) -> &str {
        &self.results_url
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<(u16, String), AgentApiError> {
        let response = request
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| AgentApiError::Unreachable(format!("{what}: {}", error_chain(&e))))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.map_err(|e| {
            AgentApiError::Unreachable(format!(
                "{what}: reading the answer failed: {}",
                error_chain(&e)
            ))
        })?;
        match status {
            401 | 403 => Err(AgentApiError::Unauthorized {
                status,
                body: excerpt(&body),
            }),
            400..=499 => Err(AgentApiError::Rejected {
                status,
                body: excerpt(&body),
            }),
            500..=599 => Err(AgentApiError::ServerError {
                status,
                body: excerpt(&body),
            }),
            300..=399 => Err(AgentApiError::InvalidResponse(format!(
                "{what}: the server redirected ({status}) to {}; set the server URL to the \
                 final address",
                location.as_deref().unwrap_or("an unnamed location")
            ))),
            _ => Ok((status, body)),
        }
    }
}

/// The JSON body of a push, exactly as [`HttpAgentApi`] sends it ([`ResultPushBody`]).
pub fn push_body_json(result: &ResultPush) -> Value {
    serde_json::to_value(ResultPushBody::from(result)).unwrap_or(Value::Null)
}

#[async_trait]
impl AgentApi for HttpAgentApi {
    async fn due(&self, agent: &AgentInfo) -> Result<DuePlan, AgentApiError> {
        let engines = agent
            .engines
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let mut url = reqwest::Url::parse(&self.due_url)
            .map_err(|e| AgentApiError::InvalidResponse(format!("the due URL: {e}")))?;
        if let Some(version) = &agent.checks_version {
            url.query_pairs_mut()
                .append_pair(CHECKS_VERSION_PARAM, version.as_str());
        }
        let mut request = self.client.get(url.clone());
        if let Some(wait) = agent.wait {
            url.query_pairs_mut()
                .append_pair(WAIT_PARAM, &wait.as_secs().to_string());
            // The client waits longer than the server holds the poll.
            request = self.client.get(url).timeout(wait + LONG_POLL_MARGIN);
        }
        let request = request
            .header(VERSION_HEADER, &agent.version)
            .header(ENGINES_HEADER, engines);
        let (status, body) = self.send(request, "polling for due work").await?;
        if status != 200 {
            return Err(AgentApiError::InvalidResponse(format!(
                "polling for due work: expected 200, got {status}"
            )));
        }
        let (plan, warnings) = parse_due(&body)?;
        for warning in warnings {
            (self.warn)(&warning);
        }
        Ok(plan)
    }

    async fn push(&self, result: &ResultPush) -> Result<PushOutcome, AgentApiError> {
        let what = format!("pushing result {}", result.result_id);
        let request = self
            .client
            .post(&self.results_url)
            .json(&ResultPushBody::from(result));
        let (status, body) = self.send(request, &what).await?;
        parse_push_answer(status, &body).map_err(|reason| {
            AgentApiError::InvalidResponse(format!("{what}: {reason}: {}", excerpt(&body)))
        })
    }

    async fn push_check_results(
        &self,
        results: &[CheckMeasurement],
    ) -> Result<CheckPushOutcome, AgentApiError> {
        let what = format!("pushing {} check results", results.len());
        let body = CheckResultsBody {
            results: results.iter().map(CheckResultBody::from).collect(),
        };
        let request = self.client.post(&self.check_results_url).json(&body);
        let (status, body) = self.send(request, &what).await?;
        if status != 200 {
            return Err(AgentApiError::InvalidResponse(format!(
                "{what}: expected 200, got {status}"
            )));
        }
        serde_json::from_str::<CheckResultsAnswerBody>(&body)
            .map(CheckPushOutcome::from)
            .map_err(|e| {
                AgentApiError::InvalidResponse(format!(
                    "{what}: the answer is not the documented JSON ({e}): {}",
                    excerpt(&body)
                ))
            })
    }
}

/// Reads a push answer with a 2xx status: `201` or `200` with a JSON object; the outcome is
/// `AlreadyRecorded` when `alreadyRecorded` is `true`.
fn parse_push_answer(status: u16, body: &str) -> Result<PushOutcome, String> {
    if status != 200 && status != 201 {
        return Err(format!("expected 201 or 200, got {status}"));
    }
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let object = value
        .as_object()
        .ok_or_else(|| "the answer is not a JSON object".to_owned())?;
    match object.get("alreadyRecorded") {
        Some(Value::Bool(true)) => Ok(PushOutcome::AlreadyRecorded),
        Some(Value::Bool(false) | Value::Null) | None => Ok(PushOutcome::Recorded),
        Some(other) => Err(format!("alreadyRecorded is {other}, not a boolean")),
    }
}

/// Reads a `/due` answer ([`DueAnswerBody`]). Returns the plan and one warning per task that
/// was skipped.
pub fn parse_due(body: &str) -> Result<(DuePlan, Vec<String>), AgentApiError> {
    let invalid = |reason: String| AgentApiError::InvalidResponse(format!("/due: {reason}"));
    let value: Value = serde_json::from_str(body)
        .map_err(|e| invalid(format!("the answer is not JSON ({e}): {}", excerpt(body))))?;
    if !value.is_object() {
        return Err(invalid(format!(
            "the answer is not a JSON object: {}",
            excerpt(body)
        )));
    }
    // Tasks are read one by one, so that one the agent cannot run does not fail the poll.
    let answer: DueAnswerBody<Value> = serde_json::from_value(value.clone()).map_err(|e| {
        invalid(format!(
            "the answer is not a due plan ({e}): {}",
            excerpt(body)
        ))
    })?;
    let mut warnings = Vec::new();
    let checks = value_checks(&value, &mut warnings);
    let mut plan = DuePlan {
        tasks: Vec::with_capacity(answer.tasks.len()),
        poll_after_seconds: answer.poll_after_seconds,
        checks,
        long_polled: value
            .get(WAITED_SECONDS_FIELD)
            .is_some_and(serde_json::Value::is_u64),
    };
    for (index, raw) in answer.tasks.into_iter().enumerate() {
        match parse_task(&raw) {
            Ok(task) => plan.tasks.push(task),
            Err(reason) => warnings.push(format!(
                "/due: skipped task #{index} ({reason}): {}",
                excerpt(&raw.to_string())
            )),
        }
    }
    Ok((plan, warnings))
}

/// Reads the optional `checks` field of a `/due` answer: absent or `null` → `None`; a field
/// that is not a check set → `None` and a warning; an invalid check → skipped with a warning.
fn value_checks(answer: &Value, warnings: &mut Vec<String>) -> Option<CheckSet> {
    let raw = answer.get("checks").filter(|v| !v.is_null())?;
    let body = match DueChecksBody::<Value>::deserialize(raw) {
        Ok(body) => body,
        Err(e) => {
            warnings.push(format!(
                "/due: ignored the check set ({e}), keeping the current one: {}",
                excerpt(&raw.to_string())
            ));
            return None;
        }
    };
    let (version, period_s) = match body.header() {
        Ok(header) => header,
        Err(e) => {
            warnings.push(format!(
                "/due: ignored the check set ({e}), keeping the current one"
            ));
            return None;
        }
    };
    let mut items = Vec::with_capacity(body.items.len());
    for (index, raw) in body.items.into_iter().enumerate() {
        let parsed = CheckBody::deserialize(&raw)
            .map_err(|e| e.to_string())
            .and_then(|b| b.into_check().map_err(|e| e.to_string()));
        match parsed {
            Ok(item) => items.push(item),
            Err(reason) => warnings.push(format!(
                "/due: skipped check #{index} ({reason}): {}",
                excerpt(&raw.to_string())
            )),
        }
    }
    Some(CheckSet {
        version,
        period_s,
        unchanged: body.unchanged,
        items,
    })
}

fn parse_task(raw: &Value) -> Result<Task, String> {
    if !raw.is_object() {
        return Err("not a JSON object".to_owned());
    }
    let body = DueTaskBody::deserialize(raw).map_err(|e| e.to_string())?;
    Task::try_from(body).map_err(|e| e.to_string())
}

/// The first [`BODY_EXCERPT_CHARS`] characters of a body, for error messages.
fn excerpt(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_owned(),
    }
}

/// An error with its sources, e.g. `error sending request: connection refused`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpulse_domain::Timestamp;
    use netpulse_domain::id::{ConnectionId, ResultId, TaskId};
    use netpulse_domain::model::RawOutput;
    use netpulse_domain::pool::{Engine, PoolEntry};

    const TASK: &str = "11111111-1111-4111-8111-111111111111";
    const CONN: &str = "22222222-2222-4222-8222-222222222222";

    #[test]
    fn due_answers_are_read_with_every_field() {
        let body = format!(
            r#"{{"tasks":[{{"taskId":"{TASK}","connectionId":"{CONN}","poolEntry":"iperf3://10.0.0.1",
            "engine":"iperf3","reason":"run_now","scheduled":false,"sourceInterface":"eth1",
            "sourceAddress":"192.0.2.7","timeoutSeconds":120,"extra":[1,2]}}],"pollAfterSeconds":45,
            "unknown":true}}"#
        );
        let (plan, warnings) = parse_due(&body).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(plan.poll_after_seconds, 45);
        assert_eq!(
            plan.tasks,
            vec![Task {
                task_id: TaskId::parse(TASK).unwrap(),
                connection_id: ConnectionId::parse(CONN).unwrap(),
                pool_entry: Some(PoolEntry::parse("iperf3://10.0.0.1").unwrap()),
                engine: Engine::Iperf3,
                scheduled: false,
                source_interface: Some("eth1".to_owned()),
                source_address: Some("192.0.2.7".to_owned()),
                timeout: Some(Duration::from_mins(2)),
            }]
        );
    }

    #[test]
    fn invalid_tasks_are_skipped_with_a_warning() {
        let body = format!(
            r#"{{"tasks":[
              {{"taskId":"nope","connectionId":"{CONN}","engine":"ookla"}},
              {{"taskId":"{TASK}","connectionId":"{CONN}","engine":"ping"}},
              {{"taskId":"{TASK}","connectionId":"{CONN}","engine":"http","poolEntry":"ftp://x"}},
              {{"taskId":"{TASK}","connectionId":"{CONN}","engine":"ookla","poolEntry":null,"reason":"schedule"}},
              "junk"
            ],"pollAfterSeconds":"soon"}}"#
        );
        let (plan, warnings) = parse_due(&body).unwrap();
        assert_eq!(plan.tasks.len(), 1);
        assert_eq!(plan.tasks[0].engine, Engine::Ookla);
        assert!(
            plan.tasks[0].scheduled,
            "no scheduled field and not run_now"
        );
        assert_eq!(plan.tasks[0].pool_entry, None);
        assert_eq!(
            plan.poll_after_seconds, 0,
            "malformed pollAfterSeconds reads as 0"
        );
        assert_eq!(warnings.len(), 4, "{warnings:?}");
        assert!(warnings[0].contains("task id"), "{}", warnings[0]);
        assert!(warnings[1].contains("engine"), "{}", warnings[1]);
        assert!(warnings[2].contains("unknown scheme"), "{}", warnings[2]);
        assert!(warnings[3].contains("#4"), "{}", warnings[3]);
    }

    #[test]
    fn a_held_poll_is_recognised_by_waited_seconds() {
        let (plan, _) =
            parse_due(r#"{"tasks":[],"pollAfterSeconds":60,"waitedSeconds":25}"#).unwrap();
        assert!(plan.long_polled);
        // An older server ignores `wait`: the agent then sleeps `pollAfterSeconds` as before.
        let (plan, _) = parse_due(r#"{"tasks":[],"pollAfterSeconds":60}"#).unwrap();
        assert!(!plan.long_polled);
    }

    #[test]
    fn answers_that_are_not_the_documented_json_are_invalid() {
        for body in ["<html>oops</html>", "[]", "{}", r#"{"tasks":{}}"#, ""] {
            assert!(
                matches!(parse_due(body), Err(AgentApiError::InvalidResponse(_))),
                "{body:?}"
            );
        }
        let (plan, _) = parse_due(r#"{"tasks":[],"pollAfterSeconds":-5}"#).unwrap();
        assert_eq!(plan.poll_after_seconds, 0);
    }

    #[test]
    fn push_answers_map_to_outcomes() {
        assert_eq!(
            parse_push_answer(201, r#"{"id":"x","alreadyRecorded":false}"#),
            Ok(PushOutcome::Recorded)
        );
        assert_eq!(
            parse_push_answer(200, r#"{"id":"x","alreadyRecorded":true}"#),
            Ok(PushOutcome::AlreadyRecorded)
        );
        assert!(parse_push_answer(201, "created").is_err());
        assert!(parse_push_answer(202, "{}").is_err());
        assert!(parse_push_answer(200, r#"{"alreadyRecorded":"yes"}"#).is_err());
    }

    #[test]
    fn push_bodies_follow_the_contract() {
        let result = ResultPush {
            result_id: ResultId::parse("01890000-0000-7000-8000-000000000001").unwrap(),
            connection_id: ConnectionId::parse(CONN).unwrap(),
            task_id: None,
            engine: Engine::Http,
            pool_entry: Some(PoolEntry::parse("https://speed.example/").unwrap()),
            started_at: Timestamp::from_unix_millis(1_780_747_500_250),
            finished_at: Timestamp::from_unix_seconds(1_780_747_530),
            scheduled: true,
            raw: RawOutput {
                exit_code: None,
                stdout: String::new(),
                stderr: "netpulse-agent: timeout: x".to_owned(),
            },
        };
        assert_eq!(
            push_body_json(&result),
            serde_json::json!({
                "resultId": "01890000-0000-7000-8000-000000000001",
                "connectionId": CONN,
                "taskId": null,
                "engine": "http",
                "poolEntry": "https://speed.example/",
                "startedAt": "2026-06-06T12:05:00.250Z",
                "finishedAt": "2026-06-06T12:05:30Z",
                "scheduled": true,
                "exitCode": null,
                "stdout": "",
                "stderr": "netpulse-agent: timeout: x",
            })
        );
    }

    #[test]
    fn server_urls_are_checked_and_normalised() {
        assert_eq!(
            normalise_server_url("https://np.example/base/").unwrap(),
            "https://np.example/base"
        );
        assert_eq!(
            normalise_server_url(" http://127.0.0.1:8080 ").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "",
            "np.example",
            "ftp://np.example",
            "https://np.example/?x=1",
            "https://user:pw@np.example",
        ] {
            assert!(normalise_server_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let probe = ProbeId::parse("33333333-3333-4333-8333-333333333333").unwrap();
        let api = HttpAgentApi::new("http://127.0.0.1:9", &probe, "s3cret-token").unwrap();
        let debug = format!("{api:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert_eq!(
            api.due_url(),
            "http://127.0.0.1:9/api/v1/probes/33333333-3333-4333-8333-333333333333/due"
        );
        assert!(matches!(
            HttpAgentApi::new("http://127.0.0.1:9", &probe, "  "),
            Err(AgentClientError::InvalidToken(_))
        ));
    }

    #[test]
    fn the_check_set_is_read_leniently() {
        let check = "44444444-4444-4444-8444-444444444444";
        let body = format!(
            r#"{{"tasks":[],"pollAfterSeconds":30,"checks":{{"version":"e1","periodSeconds":60,
            "items":[{{"id":"{check}","kind":"icmp","target":"10.99.3.2","port":null,"family":"v4",
            "role":"connectivity","intervalSeconds":60,"params":{{"count":3}}}},
            {{"id":"{check}","kind":"icmp","target":"10.99.3.2","port":null,"family":"v4",
            "role":"connectivity","intervalSeconds":1,"params":{{}}}}]}}}}"#
        );
        let (plan, warnings) = parse_due(&body).unwrap();
        let set = plan.checks.unwrap();
        assert_eq!(set.version.as_str(), "e1");
        assert_eq!(set.items.len(), 1);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("intervalSeconds"), "{}", warnings[0]);
        let (plan, warnings) = parse_due(r#"{"tasks":[],"checks":null}"#).unwrap();
        assert_eq!((plan.checks, warnings.len()), (None, 0), "an old server");
        let (plan, warnings) =
            parse_due(r#"{"tasks":[],"checks":{"version":"","periodSeconds":60}}"#).unwrap();
        assert_eq!(plan.checks, None);
        assert!(
            warnings[0].contains("keeping the current one"),
            "{warnings:?}"
        );
    }

    #[test]
    fn long_bodies_are_cut_in_errors() {
        let long = "é".repeat(2000);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
