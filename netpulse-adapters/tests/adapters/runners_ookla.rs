//! The Ookla runner against fake CLIs (`tests/fake-tools/`) that print real CLI output.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use netpulse_adapters::runners::ookla::{OoklaConfig, OoklaRunner};
use netpulse_domain::pool::{Engine, PoolEntry};
use netpulse_ports::clock::SystemClock;
use netpulse_ports::runner::{RunOutput, SpeedtestRunner, TestRequest};

fn fake_tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-tools")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fake_tools().join("data").join(name)).unwrap()
}

/// A fake tool linked as `speedtest` into a private temporary directory (removed on drop).
struct FakeTool {
    dir: PathBuf,
    link: PathBuf,
}

impl FakeTool {
    fn install(script: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "netpulse-ookla-{}-{}-{script}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script = fake_tools().join(script);
        assert!(script.is_file(), "{} is missing", script.display());
        let link = dir.join("speedtest");
        std::os::unix::fs::symlink(&script, &link).unwrap();
        Self { dir, link }
    }

    fn runner(&self) -> OoklaRunner {
        runner_for(&self.link)
    }

    /// The arguments the tool recorded, if it ran.
    fn args(&self) -> Option<Vec<String>> {
        let recorded = std::fs::read_to_string(self.dir.join("speedtest.args")).ok()?;
        Some(recorded.lines().map(str::to_owned).collect())
    }

    fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.dir.join("speedtest.pids"))
            .unwrap()
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect()
    }
}

impl Drop for FakeTool {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn runner_for(binary: &Path) -> OoklaRunner {
    OoklaRunner::new(
        OoklaConfig {
            binary: binary.to_path_buf(),
        },
        Arc::new(SystemClock),
    )
}

fn request(entry: Option<&str>, timeout: Duration) -> TestRequest {
    TestRequest {
        pool_entry: entry.map(|e| PoolEntry::parse(e).unwrap()),
        source_interface: None,
        source_address: None,
        timeout,
    }
}

const BASE_ARGS: [&str; 3] = ["--format=json", "--accept-license", "--accept-gdpr"];

fn assert_no_marker(out: &RunOutput) {
    assert!(
        !out.raw.stderr.contains("netpulse-agent:"),
        "unexpected marker: {}",
        out.raw.stderr
    );
}

#[tokio::test]
async fn a_result_is_returned_verbatim_with_exit_status_0() {
    let tool = FakeTool::install("speedtest-result");
    let runner = tool.runner();
    assert_eq!(runner.engine(), Engine::Ookla);
    assert!(runner.available().await);
    let out = runner.run(&request(None, Duration::from_secs(20))).await;
    assert_eq!(out.raw.exit_code, Some(0));
    assert_eq!(
        out.raw.stdout,
        fixture("cli1.2-json-pretty-de-hannover-anonymized.json")
    );
    assert_eq!(out.raw.stderr, "");
    assert!(out.started_at <= out.finished_at);
    assert_eq!(tool.args().unwrap(), BASE_ARGS);
}

#[tokio::test]
async fn pool_entries_and_sources_become_arguments() {
    let tool = FakeTool::install("speedtest-result");
    let mut r = request(Some("ookla:12345"), Duration::from_secs(20));
    r.source_interface = Some("eth1".to_owned());
    r.source_address = Some("192.0.2.7".to_owned());
    let out = tool.runner().run(&r).await;
    assert_eq!(out.raw.exit_code, Some(0));
    let mut expected: Vec<&str> = BASE_ARGS.to_vec();
    expected.extend(["--server-id=12345", "--interface=eth1", "--ip=192.0.2.7"]);
    assert_eq!(tool.args().unwrap(), expected);

    let out = tool
        .runner()
        .run(&request(
            Some("fra.speedtest.example:8080"),
            Duration::from_secs(20),
        ))
        .await;
    assert_eq!(out.raw.exit_code, Some(0));
    let mut expected: Vec<&str> = BASE_ARGS.to_vec();
    expected.push("--host=fra.speedtest.example:8080");
    assert_eq!(tool.args().unwrap(), expected);
}

#[tokio::test]
async fn the_licence_banner_is_kept_with_exit_status_1() {
    let tool = FakeTool::install("speedtest-licence");
    let out = tool
        .runner()
        .run(&request(Some("4711"), Duration::from_secs(20)))
        .await;
    assert_eq!(out.raw.exit_code, Some(1));
    assert_eq!(
        out.raw.stdout,
        fixture("cli-licence-not-accepted-noninteractive.txt")
    );
    assert!(!out.raw.stdout.contains('{'));
    assert_no_marker(&out);
}

#[tokio::test]
async fn a_bare_error_object_is_kept_with_exit_status_2() {
    let tool = FakeTool::install("speedtest-socket-error");
    let out = tool
        .runner()
        .run(&request(None, Duration::from_secs(20)))
        .await;
    assert_eq!(out.raw.exit_code, Some(2));
    assert_eq!(out.raw.stdout.trim(), r#"{"error":"Cannot open socket"}"#);
    assert_no_marker(&out);
}

#[tokio::test]
async fn error_records_and_stderr_lines_are_both_kept() {
    let tool = FakeTool::install("speedtest-config-error");
    let out = tool
        .runner()
        .run(&request(None, Duration::from_secs(20)))
        .await;
    assert_eq!(out.raw.exit_code, Some(2));
    assert_eq!(
        out.raw.stdout,
        fixture("cli-error-json-pretty-configuration-hostnotfound.json")
    );
    assert_eq!(out.raw.stderr.lines().count(), 5);
    assert!(
        out.raw
            .stderr
            .starts_with("[2022-10-21 18:42:53.411] [error] Trying to get interface information")
    );
    assert!(
        out.raw
            .stderr
            .contains("Configuration - Couldn't resolve host name (HostNotFoundException)")
    );
    assert_no_marker(&out);
}

fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        // The state follows the parenthesised command name; zombies are dead.
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim().chars().next()),
            Some('Z' | 'X')
        ),
    }
}

#[tokio::test]
async fn a_hanging_tool_and_its_helpers_are_killed_at_the_timeout() {
    let tool = FakeTool::install("speedtest-hang");
    let started = Instant::now();
    let out = tool
        .runner()
        .run(&request(None, Duration::from_secs(1)))
        .await;
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert_eq!(out.raw.exit_code, None);
    assert_eq!(
        out.raw.stdout,
        "{\"type\":\"log\",\"level\":\"info\",\"message\":\"fake speedtest: started\"}\n"
    );
    assert_eq!(
        out.raw.stderr,
        "netpulse-agent: timeout: speedtest did not finish within 1 s; it was stopped\n"
    );
    let pids = tool.pids();
    assert_eq!(pids.len(), 2, "the tool and its helper");
    assert_all_gone(&pids).await;
}

/// Waits (up to a second: dying takes a moment after the pipes closed) until none of the
/// processes runs, then asserts that.
async fn assert_all_gone(pids: &[u32]) {
    let gone_by = Instant::now() + Duration::from_secs(1);
    while pids.iter().any(|p| running(*p)) && Instant::now() < gone_by {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for pid in pids {
        assert!(!running(*pid), "process {pid} survived");
    }
}

#[tokio::test]
async fn a_helper_left_holding_the_output_is_killed_at_the_timeout() {
    let tool = FakeTool::install("speedtest-leaves-helper");
    let started = Instant::now();
    let out = tool
        .runner()
        .run(&request(None, Duration::from_secs(1)))
        .await;
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    // The tool itself finished.
    assert_eq!(out.raw.exit_code, Some(0));
    assert!(out.raw.stdout.contains("leaving a helper"));
    assert_eq!(
        out.raw.stderr,
        "netpulse-agent: error: speedtest exited but a process it started kept its output open; it was stopped\n"
    );
    let pids = tool.pids();
    assert_eq!(pids.len(), 2);
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn a_cancelled_run_leaves_no_processes() {
    let tool = FakeTool::install("speedtest-hang");
    let runner = tool.runner();
    let req = request(None, Duration::from_secs(30));
    let run = runner.run(&req);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), run)
            .await
            .is_err()
    );
    let pids = tool.pids();
    assert_eq!(pids.len(), 2);
    assert_all_gone(&pids).await;
}

#[tokio::test]
async fn a_missing_binary_is_reported_as_tool_missing() {
    for binary in [
        "/nonexistent/netpulse/speedtest",
        "netpulse-no-such-speedtest",
    ] {
        let runner = runner_for(Path::new(binary));
        assert!(!runner.available().await, "{binary}");
        let out = runner.run(&request(None, Duration::from_secs(5))).await;
        assert_eq!(out.raw.exit_code, None, "{binary}");
        assert_eq!(out.raw.stdout, "");
        assert!(
            out.raw.stderr.starts_with("netpulse-agent: tool-missing: "),
            "{}",
            out.raw.stderr
        );
        assert_eq!(out.raw.stderr.lines().count(), 1);
    }
}

#[tokio::test]
async fn another_speedtest_is_not_the_ookla_cli() {
    let tool = FakeTool::install("speedtest-python-cli");
    let runner = tool.runner();
    assert!(
        !runner.available().await,
        "speedtest-cli (Python) is on PATH as `speedtest` but is not the Ookla CLI"
    );
    assert_eq!(tool.args(), None, "only --version was asked");
    // The Ookla CLI at the same path is recognised once the file changes.
    std::fs::remove_file(&tool.link).unwrap();
    std::os::unix::fs::symlink(fake_tools().join("speedtest-result"), &tool.link).unwrap();
    assert!(runner.available().await);
}

#[tokio::test]
async fn a_file_that_is_not_executable_is_reported_as_tool_missing() {
    let data = fake_tools().join("data/cli1.2-json-pretty-de-hannover-anonymized.json");
    let runner = runner_for(&data);
    assert!(!runner.available().await);
    let out = runner.run(&request(None, Duration::from_secs(5))).await;
    assert_eq!(out.raw.exit_code, None);
    assert!(
        out.raw.stderr.starts_with("netpulse-agent: tool-missing: "),
        "{}",
        out.raw.stderr
    );
}

#[tokio::test]
async fn unusable_pool_entries_fail_without_running_the_tool() {
    let tool = FakeTool::install("speedtest-result");
    for entry in [
        "iperf3://10.0.0.1",
        "https://speed.example",
        "speed.example",
    ] {
        let out = tool
            .runner()
            .run(&request(Some(entry), Duration::from_secs(5)))
            .await;
        assert_eq!(out.raw.exit_code, None, "{entry}");
        assert!(
            out.raw
                .stderr
                .starts_with("netpulse-agent: configuration: "),
            "{}",
            out.raw.stderr
        );
        assert!(tool.args().is_none(), "{entry}: the tool ran");
    }
}

/// The server's parser reads the runner's output as intended (markers included).
#[cfg(feature = "parsers")]
#[tokio::test]
async fn the_parser_understands_what_the_runner_captured() {
    use netpulse_adapters::parse::parse;
    use netpulse_domain::measurement::FailureClass;

    let tool = FakeTool::install("speedtest-result");
    let out = tool
        .runner()
        .run(&request(None, Duration::from_secs(20)))
        .await;
    let observation = parse(Engine::Ookla, &out.raw);
    assert_eq!(observation.failure, None);
    assert!(observation.download_bps.unwrap() > 0.0);

    let cases = [
        (
            "speedtest-hang",
            Duration::from_millis(300),
            FailureClass::Timeout,
        ),
        (
            "speedtest-licence",
            Duration::from_secs(20),
            FailureClass::Licence,
        ),
    ];
    for (script, timeout, class) in cases {
        let tool = FakeTool::install(script);
        let out = tool.runner().run(&request(None, timeout)).await;
        let failure = parse(Engine::Ookla, &out.raw).failure.expect(script);
        assert_eq!(failure.class, class, "{script}: {}", failure.message);
    }
    let missing = runner_for(Path::new("/nonexistent/speedtest"))
        .run(&request(None, Duration::from_secs(5)))
        .await;
    let failure = parse(Engine::Ookla, &missing.raw).failure.unwrap();
    assert_eq!(failure.class, FailureClass::ToolMissing);
}
