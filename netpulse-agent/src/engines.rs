//! The agent's engines: one [`SpeedtestRunner`] per [`Engine`], and running one task with the
//! right one. A task always yields a result to push, even when no runner can run it (a
//! `tool-missing` marker) or the runner panicked (an `error` marker).

use std::collections::HashMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use netpulse_adapters::runners::http::{HttpEngineConfig, HttpRunner};
use netpulse_adapters::runners::iperf3::{Iperf3Config, Iperf3Runner};
use netpulse_adapters::runners::ookla::{OoklaConfig, OoklaRunner};
use netpulse_domain::Timestamp;
use netpulse_domain::id::ResultId;
use netpulse_domain::model::RawOutput;
use netpulse_domain::pool::Engine;
use netpulse_ports::agent_api::{ResultPush, Task};
use netpulse_ports::clock::{Clock, SystemClock};
use netpulse_ports::runner::{AGENT_MARKER, RunOutput, SpeedtestRunner, TestRequest};

/// How long a runner may take to say whether it is available.
const AVAILABILITY_TIMEOUT: Duration = Duration::from_secs(10);

/// The runners the agent has, one per engine.
#[derive(Clone, Default)]
pub struct Engines {
    runners: HashMap<Engine, Arc<dyn SpeedtestRunner>>,
}

impl fmt::Debug for Engines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.configured()
                    .into_iter()
                    .map(|e| (e, &self.runners[&e])),
            )
            .finish()
    }
}

impl Engines {
    /// The given runners, keyed by the engine each drives (a later runner for the same engine
    /// replaces an earlier one).
    pub fn new(runners: impl IntoIterator<Item = Arc<dyn SpeedtestRunner>>) -> Self {
        Self {
            runners: runners.into_iter().map(|r| (r.engine(), r)).collect(),
        }
    }

    /// The real engines: the Ookla CLI and iperf3 at the given paths (or names on `PATH`), and
    /// the built-in HTTP engine with its default settings.
    pub fn builtin(ookla_binary: PathBuf, iperf3_binary: PathBuf) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ookla = OoklaRunner::new(
            OoklaConfig {
                binary: ookla_binary,
            },
            Arc::clone(&clock),
        );
        let iperf3 = Iperf3Runner::new(
            Iperf3Config {
                binary: iperf3_binary,
                ..Iperf3Config::default()
            },
            Arc::clone(&clock),
        );
        let http = HttpRunner::new(HttpEngineConfig::default(), clock);
        Self::new([
            Arc::new(ookla) as Arc<dyn SpeedtestRunner>,
            Arc::new(iperf3),
            Arc::new(http),
        ])
    }

    /// The runner of an engine, if the agent has one.
    pub fn runner(&self, engine: Engine) -> Option<&Arc<dyn SpeedtestRunner>> {
        self.runners.get(&engine)
    }

    /// The engines that have a runner, in [`Engine::ALL`] order.
    pub fn configured(&self) -> Vec<Engine> {
        Engine::ALL
            .into_iter()
            .filter(|e| self.runners.contains_key(e))
            .collect()
    }

    /// The engines whose runner says it can run here now (asked afresh each time, so a tool
    /// installed while the agent runs is picked up), in [`Engine::ALL`] order. A runner that
    /// does not answer within 10 s, or panics, counts as unavailable.
    pub async fn available(&self) -> Vec<Engine> {
        let mut engines = Vec::new();
        for engine in self.configured() {
            let runner = &self.runners[&engine];
            let answer = AssertUnwindSafe(tokio::time::timeout(
                AVAILABILITY_TIMEOUT,
                runner.available(),
            ))
            .catch_unwind()
            .await;
            match answer {
                Ok(Ok(true)) => engines.push(engine),
                Ok(Ok(false)) => {}
                Ok(Err(_)) => {
                    tracing::warn!(%engine, "the runner did not say within 10 s whether it can run; treating it as unavailable");
                }
                Err(panic) => {
                    tracing::error!(%engine, panic = panic_message(panic.as_ref()), "the runner panicked while checking availability");
                }
            }
        }
        engines
    }

    /// Runs one task and returns the result to push. The result id is made (UUID v7) when the
    /// test starts. When `engine` is not in `available` the task is not run and the result is a
    /// failure with a `tool-missing` marker; a runner that panics gives a failure with an
    /// `error` marker. Dropping the future abandons the test (the runners stop their tools when
    /// dropped).
    pub async fn run_task(
        &self,
        task: &Task,
        available: &[Engine],
        timeout: Duration,
    ) -> ResultPush {
        let result_id = new_result_id();
        let started_at = SystemClock.now();
        let output = match self.runner(task.engine) {
            Some(runner) if available.contains(&task.engine) => {
                let request = TestRequest {
                    pool_entry: task.pool_entry.clone(),
                    source_interface: task.source_interface.clone(),
                    source_address: task.source_address.clone(),
                    timeout,
                };
                match AssertUnwindSafe(runner.run(&request)).catch_unwind().await {
                    Ok(output) => output,
                    Err(panic) => {
                        let message = panic_message(panic.as_ref());
                        tracing::error!(engine = %task.engine, task = %task.task_id, panic = message, "the runner panicked");
                        failure(
                            started_at,
                            &format!("error: the {} runner panicked: {message}", task.engine),
                        )
                    }
                }
            }
            _ => failure(started_at, &tool_missing_message(task.engine)),
        };
        ResultPush {
            result_id,
            connection_id: task.connection_id.clone(),
            task_id: Some(task.task_id.clone()),
            engine: task.engine,
            pool_entry: task.pool_entry.clone(),
            started_at: output.started_at,
            finished_at: output.finished_at,
            scheduled: task.scheduled,
            raw: output.raw,
        }
    }
}

/// A fresh result id: a UUID v7, so ids (and spool file names) sort by creation time.
pub fn new_result_id() -> ResultId {
    ResultId::parse(&uuid::Uuid::now_v7().to_string()).expect("a UUID is a valid result id")
}

/// The `tool-missing` explanation for an engine this agent cannot run.
pub fn tool_missing_message(engine: Engine) -> String {
    let hint = match engine {
        Engine::Ookla => {
            "install the Ookla Speedtest CLI or point --ookla-binary (OOKLA_BINARY) at it"
        }
        Engine::Iperf3 => "install iperf3 or point --iperf3-binary (IPERF3_BINARY) at it",
        Engine::Http => "this agent was built without the HTTP engine",
    };
    format!("tool-missing: no runner for the {engine} engine is available on this agent ({hint})")
}

/// A failed-shaped output: no exit status, no stdout, and one agent marker line on stderr.
fn failure(started_at: Timestamp, marker: &str) -> RunOutput {
    RunOutput {
        started_at,
        finished_at: SystemClock.now().max(started_at),
        raw: RawOutput {
            exit_code: None,
            stdout: String::new(),
            stderr: format!("{AGENT_MARKER}{marker}\n"),
        },
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}
