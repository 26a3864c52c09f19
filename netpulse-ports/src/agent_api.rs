//! The server as the agent sees it: poll for due work (and the probe's check set), push
//! speed-test results and batches of check results.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckMeasurement, CheckSetVersion, CheckSpec};
use netpulse_domain::id::{CheckId, ConnectionId, ResultId, TaskId};
use netpulse_domain::model::RawOutput;
use netpulse_domain::pool::{Engine, PoolEntry};

/// What the agent says about itself with each poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    /// The agent's version.
    pub version: String,
    /// The engines it can run here.
    pub engines: Vec<Engine>,
    /// The version of the check set it holds (sent as `checksVersion`), if any; the server may
    /// then answer that the set is unchanged.
    pub checks_version: Option<CheckSetVersion>,
    /// Long-poll: how long the server may hold the poll while there is nothing to do (sent as
    /// `wait`); `None` polls without waiting.
    pub wait: Option<std::time::Duration>,
}

/// One task from `/due`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The task's id.
    pub task_id: TaskId,
    /// The connection to test.
    pub connection_id: ConnectionId,
    /// The server to use; `None` lets the engine choose.
    pub pool_entry: Option<PoolEntry>,
    /// The engine to run.
    pub engine: Engine,
    /// Whether it was asked for by the schedule (`true`) or by someone (run-now, `false`).
    pub scheduled: bool,
    /// The interface to leave through, if the connection names one.
    pub source_interface: Option<String>,
    /// The source address to bind, if the connection names one.
    pub source_address: Option<String>,
    /// How long the test may take, as the server asks; `None` leaves it to the agent.
    pub timeout: Option<std::time::Duration>,
}

/// The answer to a poll.
#[derive(Debug, Clone, PartialEq)]
pub struct DuePlan {
    /// Tasks to run now.
    pub tasks: Vec<Task>,
    /// When to poll again.
    pub poll_after_seconds: u32,
    /// The probe's check set; `None` when the server sent none (an older server): the agent
    /// keeps the set it has.
    pub checks: Option<CheckSet>,
    /// Whether the server held the poll as asked (`waitedSeconds` in the answer): the agent
    /// then polls again right after its work instead of sleeping `poll_after_seconds`.
    pub long_polled: bool,
}

/// A probe's connectivity checks, as `/due` hands them out.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSet {
    /// The set's version (ETag).
    pub version: CheckSetVersion,
    /// Seconds between two rounds.
    pub period_s: u32,
    /// The server says the set is the one the agent already has (`items` is then empty).
    pub unchanged: bool,
    /// The checks.
    pub items: Vec<(CheckId, CheckSpec)>,
}

/// How the server took a batch of check results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckPushOutcome {
    /// Stored now.
    pub recorded: u32,
    /// Stored before (same check, family and round).
    pub duplicates: u32,
    /// Dropped: their check no longer exists.
    pub unknown_checks: u32,
}

/// One result to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultPush {
    /// Generated when the test started; makes pushing idempotent.
    pub result_id: ResultId,
    /// The connection tested.
    pub connection_id: ConnectionId,
    /// The task it answers, if any.
    pub task_id: Option<TaskId>,
    /// The engine that ran.
    pub engine: Engine,
    /// The pool entry that was requested.
    pub pool_entry: Option<PoolEntry>,
    /// When the tool started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
    /// Scheduled (`true`) or run-now (`false`).
    pub scheduled: bool,
    /// What the tool printed.
    pub raw: RawOutput,
}

/// How the server took a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored now.
    Recorded,
    /// It was stored before (same result id).
    AlreadyRecorded,
}

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum AgentApiError {
    /// No answer (connection refused, DNS, timeout).
    #[error("server unreachable: {0}")]
    Unreachable(String),
    /// The server refused the credentials (401) or the probe (403).
    #[error("server refused the probe credentials ({status}): {body}")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The server's answer.
        body: String,
    },
    /// The server rejected the request as invalid (other 4xx); retrying will not help.
    #[error("server rejected the request ({status}): {body}")]
    Rejected {
        /// The status code.
        status: u16,
        /// The server's answer.
        body: String,
    },
    /// The server failed (5xx); retry later.
    #[error("server error ({status}): {body}")]
    ServerError {
        /// The status code.
        status: u16,
        /// The server's answer.
        body: String,
    },
    /// The answer was not what the API documents.
    #[error("invalid answer from server: {0}")]
    InvalidResponse(String),
}

/// The agent API client.
#[async_trait]
pub trait AgentApi: Send + Sync + std::fmt::Debug {
    /// Polls for due work (this also records the poll and the agent's details).
    async fn due(&self, agent: &AgentInfo) -> Result<DuePlan, AgentApiError>;

    /// Pushes one result.
    async fn push(&self, result: &ResultPush) -> Result<PushOutcome, AgentApiError>;

    /// Pushes a batch of check results (idempotent on check, family and round).
    async fn push_check_results(
        &self,
        results: &[CheckMeasurement],
    ) -> Result<CheckPushOutcome, AgentApiError>;
}
