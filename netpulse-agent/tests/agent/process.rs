//! The built binary: configuration errors, `--once`, signals, `kill -9`.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::helpers::{
    CONN_A, FakeServer, PROBE, Reply, TOKEN, dead_addr, due, files_in, pending_in, task, task_id,
};

const SETTINGS: [&str; 11] = [
    "NETPULSE_SERVER_URL",
    "PROBE_ID",
    "PROBE_TOKEN",
    "AGENT_POLL_INTERVAL",
    "AGENT_TEST_TIMEOUT",
    "OOKLA_BINARY",
    "IPERF3_BINARY",
    "NETPULSE_SPOOL_DIR",
    "NETPULSE_SPOOL_MAX_RESULTS",
    "NETPULSE_LOG_FORMAT",
    "RUST_LOG",
];

/// The binary with none of its settings inherited from the test's environment.
fn agent_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netpulse-agent"));
    for var in SETTINGS {
        command.env_remove(var);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// The binary configured for the fake server at `url`, spooling in `spool`; the engines that
/// need a tool point at tools that do not exist.
fn configured(url: &str, spool: &Path) -> Command {
    let mut command = agent_command();
    command
        .env("NETPULSE_SERVER_URL", url)
        .env("PROBE_ID", PROBE)
        .env("PROBE_TOKEN", TOKEN)
        .env("NETPULSE_SPOOL_DIR", spool)
        .env("OOKLA_BINARY", "/nonexistent/speedtest")
        .env("IPERF3_BINARY", "/nonexistent/iperf3");
    command
}

async fn output(command: &mut Command) -> (ExitStatus, String) {
    let out = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("the agent finished within 30 s")
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn missing_or_malformed_settings_exit_2_naming_the_flag() {
    let spool = tempfile::tempdir().unwrap();
    let spool_dir = spool.path().to_str().unwrap();
    let ok_url = "http://127.0.0.1:9";
    let cases: [(&[&str], &str, &str); 8] = [
        (&[], "--server-url", "NETPULSE_SERVER_URL"),
        (
            &[
                "--server-url",
                "ftp://x",
                "--probe-id",
                PROBE,
                "--probe-token",
                "t",
            ],
            "--server-url",
            "scheme",
        ),
        (
            &["--server-url", ok_url, "--probe-token", "t"],
            "--probe-id",
            "PROBE_ID",
        ),
        (
            &[
                "--server-url",
                ok_url,
                "--probe-id",
                "probe-1",
                "--probe-token",
                "t",
            ],
            "--probe-id",
            "not a UUID",
        ),
        (
            &["--server-url", ok_url, "--probe-id", PROBE],
            "--probe-token",
            "PROBE_TOKEN",
        ),
        (
            &[
                "--server-url",
                ok_url,
                "--probe-id",
                PROBE,
                "--probe-token",
                "",
            ],
            "--probe-token",
            "empty",
        ),
        (
            &[
                "--server-url",
                ok_url,
                "--probe-id",
                PROBE,
                "--probe-token",
                "t",
                "--poll-interval",
                "soon",
            ],
            "--poll-interval",
            "invalid value",
        ),
        (
            &[
                "--server-url",
                ok_url,
                "--probe-id",
                PROBE,
                "--probe-token",
                "t",
                "--log-format",
                "xml",
            ],
            "--log-format",
            "invalid value",
        ),
    ];
    for (args, flag, text) in cases {
        let (status, stderr) =
            output(
                agent_command()
                    .args(args)
                    .args(["--spool-dir", spool_dir, "--once"]),
            )
            .await;
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(stderr.contains(text), "{args:?}: {stderr}");
    }
    // The same through the environment.
    let (status, stderr) = output(
        agent_command()
            .env("NETPULSE_SERVER_URL", ok_url)
            .env("PROBE_ID", "nope")
            .env("PROBE_TOKEN", "t")
            .env("NETPULSE_SPOOL_DIR", spool_dir)
            .arg("--once"),
    )
    .await;
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--probe-id (env PROBE_ID)"), "{stderr}");
    assert!(
        pending_in(spool.path()).is_empty(),
        "no configuration error touched the spool"
    );
}

#[tokio::test]
async fn an_unusable_spool_directory_exits_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let (status, stderr) =
        output(configured("http://127.0.0.1:9", &file.join("spool")).arg("--once")).await;
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--spool-dir"), "{stderr}");
}

#[tokio::test]
async fn once_runs_one_cycle_and_exits_0() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(
            &[task(
                &task_id(1),
                CONN_A,
                "iperf3",
                Some("iperf3://10.0.0.1"),
            )],
            60,
        ),
    )]);
    let spool = tempfile::tempdir().unwrap();
    let (status, stderr) =
        output(configured(&server.url(), spool.path()).args(["--once", "--log-format", "json"]))
            .await;
    assert_eq!(status.code(), Some(0), "{stderr}");
    for line in stderr.lines() {
        let entry: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(entry["level"].is_string(), "{line}");
    }
    let polls = server.polls();
    assert_eq!(polls.len(), 1);
    assert_eq!(
        polls[0].header("x-netpulse-agent-version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
    let engines = polls[0].header("x-netpulse-agent-engines").unwrap();
    assert!(
        !engines.contains("iperf3") && !engines.contains("ookla"),
        "their tools do not exist: {engines:?}"
    );
    let pushes = server.pushes();
    assert_eq!(pushes.len(), 1);
    let body = pushes[0].json();
    assert_eq!(body["engine"], "iperf3");
    assert_eq!(body["exitCode"], serde_json::Value::Null);
    assert!(
        body["stderr"]
            .as_str()
            .unwrap()
            .contains("netpulse-agent: tool-missing: "),
        "{body}"
    );
    assert_eq!(server.recorded().len(), 1);
    assert!(pending_in(spool.path()).is_empty());
}

#[tokio::test]
async fn once_exits_1_when_the_cycle_fails() {
    let spool = tempfile::tempdir().unwrap();
    let server = FakeServer::start().await;
    server.script_due([Reply::Status(500, "boom".to_owned())]);
    let (status, stderr) = output(configured(&server.url(), spool.path()).arg("--once")).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("500"), "{stderr}");

    server.script_due([Reply::Status(401, "who are you".to_owned())]);
    let (status, stderr) = output(configured(&server.url(), spool.path()).arg("--once")).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("PROBE_TOKEN"), "{stderr}");

    let dead = format!("http://{}", dead_addr().await);
    let (status, stderr) = output(configured(&dead, spool.path()).arg("--once")).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("the agent is running").to_string();
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .expect("the kill command runs");
    assert!(status.success());
}

async fn stops_within_a_second_on(name: &str) {
    let server = FakeServer::start().await;
    let spool = tempfile::tempdir().unwrap();
    let mut child = configured(&server.url(), spool.path()).spawn().unwrap();
    server.wait_for_requests(1, Duration::from_secs(10)).await;
    let sent = Instant::now();
    signal(&child, name);
    let status = tokio::time::timeout(Duration::from_secs(2), child.wait())
        .await
        .unwrap_or_else(|_| panic!("the agent did not stop within 2 s of SIG{name}"))
        .unwrap();
    let took = sent.elapsed();
    assert!(
        took < Duration::from_millis(1200),
        "SIG{name} took {took:?}"
    );
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn sigterm_stops_the_agent_within_a_second() {
    stops_within_a_second_on("TERM").await;
}

#[tokio::test]
async fn sigint_stops_the_agent_within_a_second() {
    stops_within_a_second_on("INT").await;
}

#[tokio::test]
async fn kill_9_loses_no_finished_result() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(&[task(&task_id(1), CONN_A, "ookla", Some("12345"))], 3600),
    )]);
    // The push never gets an answer.
    server.script_push([Reply::Hangup]);
    let spool = tempfile::tempdir().unwrap();
    let mut child = configured(&server.url(), spool.path()).spawn().unwrap();
    server.wait_for_requests(2, Duration::from_secs(10)).await;
    signal(&child, "KILL");
    child.wait().await.unwrap();

    let spooled = pending_in(spool.path());
    assert_eq!(spooled.len(), 1, "{:?}", files_in(spool.path()));
    assert!(
        !files_in(spool.path())
            .iter()
            .any(|n| Path::new(n).extension().is_some_and(|e| e == "tmp")),
        "{:?}",
        files_in(spool.path())
    );

    let (status, stderr) = output(configured(&server.url(), spool.path()).arg("--once")).await;
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(
        server.recorded(),
        [spooled[0].trim_end_matches(".json").to_owned()]
    );
    assert_eq!(server.pushes()[1].json()["taskId"], task_id(1));
    assert!(pending_in(spool.path()).is_empty());
}

/// Writes an executable shell script.
fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The real Ookla CLI's `--version` line, as a script's first command.
const OOKLA_VERSION: &str = "[ \"$1\" = --version ] && { echo 'Speedtest by Ookla 1.2.0.84 (ea6b6773cf) Linux/x86_64-linux-musl 6.1.0 x86_64'; exit 0; }";

#[tokio::test]
async fn the_real_ookla_runner_is_wired_to_the_ookla_binary_setting() {
    let tools = tempfile::tempdir().unwrap();
    let args_file = tools.path().join("args");
    let speedtest = script(
        tools.path(),
        "speedtest",
        &format!(
            "{OOKLA_VERSION}\necho \"$@\" > {}\necho '{{\"type\":\"result\",\"isp\":\"Canned\"}}'\necho 'a warning' >&2",
            args_file.display()
        ),
    );
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(&[task(&task_id(1), CONN_A, "ookla", Some("4242"))], 60),
    )]);
    let spool = tempfile::tempdir().unwrap();
    let (status, stderr) = output(
        configured(&server.url(), spool.path())
            .env("OOKLA_BINARY", &speedtest)
            .arg("--once"),
    )
    .await;
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(
        server.polls()[0].header("x-netpulse-agent-engines"),
        Some("ookla,http")
    );
    let body = server.pushes()[0].json();
    assert_eq!(body["exitCode"], 0);
    assert_eq!(body["stdout"], "{\"type\":\"result\",\"isp\":\"Canned\"}\n");
    assert_eq!(body["stderr"], "a warning\n");
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert!(args.contains("--server-id=4242"), "{args}");
}

#[tokio::test]
async fn a_speedtest_that_is_not_the_ookla_cli_is_not_advertised_nor_run() {
    let tools = tempfile::tempdir().unwrap();
    let ran = tools.path().join("ran");
    // The Python speedtest-cli, installed as `speedtest` (Debian's speedtest-cli package).
    let speedtest = script(
        tools.path(),
        "speedtest",
        &format!(
            "if [ \"$1\" = --version ]; then echo 'speedtest-cli 2.1.3'; echo 'Python 3.11.2'; exit 0; fi\ntouch {}",
            ran.display()
        ),
    );
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(&[task(&task_id(1), CONN_A, "ookla", None)], 60),
    )]);
    let spool = tempfile::tempdir().unwrap();
    let (status, stderr) = output(
        configured(&server.url(), spool.path())
            .env("OOKLA_BINARY", &speedtest)
            .arg("--once"),
    )
    .await;
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(
        server.polls()[0].header("x-netpulse-agent-engines"),
        Some("http")
    );
    let body = server.pushes()[0].json();
    assert!(
        body["stderr"]
            .as_str()
            .unwrap()
            .contains("netpulse-agent: tool-missing: "),
        "{body}"
    );
    assert!(!ran.exists(), "it was never run as a speed test");
}

#[tokio::test]
async fn sigterm_during_a_test_stops_the_tool_and_pushes_nothing() {
    let tools = tempfile::tempdir().unwrap();
    let pid_file = tools.path().join("pid");
    let speedtest = script(
        tools.path(),
        "speedtest",
        &format!(
            "{OOKLA_VERSION}\necho $$ > {}\nexec sleep 30",
            pid_file.display()
        ),
    );
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(&[task(&task_id(1), CONN_A, "ookla", None)], 60),
    )]);
    let spool = tempfile::tempdir().unwrap();
    let mut child = configured(&server.url(), spool.path())
        .env("OOKLA_BINARY", &speedtest)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let tool_pid = loop {
        if let Ok(pid) = std::fs::read_to_string(&pid_file)
            && !pid.trim().is_empty()
        {
            break pid.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "the tool never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let sent = Instant::now();
    signal(&child, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(2), child.wait())
        .await
        .expect("the agent stopped")
        .unwrap();
    assert!(
        sent.elapsed() < Duration::from_millis(1200),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(0));
    // The tool is gone (or a zombie waiting for its new parent to reap it).
    let gone = async {
        loop {
            match std::fs::read_to_string(format!("/proc/{tool_pid}/stat")) {
                Err(_) => return,
                Ok(stat) if stat.split(' ').nth(2) == Some("Z") => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(1), gone)
        .await
        .expect("the tool was killed with the agent");
    assert!(server.pushes().is_empty());
    assert!(pending_in(spool.path()).is_empty());
}
