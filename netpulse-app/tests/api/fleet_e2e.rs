//! Self-registration end to end: the real `netpulse` binary serving, the real `netpulse-agent`
//! binary started with `AGENT_TOKEN`, `AGENT_NAME`, `AGENT_LOCATION` (no `PROBE_ID`), run
//! three times: it registers, a restart keeps its identity without registering, and a lost
//! identity file registers the same machine again as the same probe.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use netpulse_adapters::testing::TestDatabase;
use serde_json::Value;

fn netpulse(db: &TestDatabase, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(args)
        .arg("--json")
        .env("NETPULSE_DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The agent binary beside the server's. `cargo test --workspace` builds it; running only this
/// package's tests needs `cargo build -p netpulse-agent --bin netpulse-agent` first (cargo
/// holds the build directory while tests run, so the test cannot build it itself).
fn agent_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_netpulse")).with_file_name("netpulse-agent");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p netpulse-agent --bin netpulse-agent`",
        path.display()
    );
    path
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn serve(db: &TestDatabase) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    #[allow(clippy::zombie_processes)] // waited for in Drop
    let child = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("NETPULSE_DATABASE_URL", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/api/v1/ping")).await.is_ok() {
            return (server, url);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

fn run_agent(bin: &PathBuf, url: &str, secret: &str, state: &std::path::Path) {
    let out = Command::new(bin)
        .arg("--once")
        .env_remove("PROBE_ID")
        .env_remove("PROBE_TOKEN")
        .env("NETPULSE_SERVER_URL", url)
        .env("AGENT_TOKEN", secret)
        .env("AGENT_NAME", "branch-09")
        .env("AGENT_LOCATION", "Lyon")
        .env("AGENT_MACHINE_ID", "machine-9")
        .env("NETPULSE_SPOOL_DIR", state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "agent: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_registers_itself_and_keeps_its_identity_across_restarts() {
    let bin = agent_binary();
    let db = TestDatabase::sqlite();
    netpulse(&db, &["check", "defaults", "--new-probes", "off"]);
    let token = netpulse(
        &db,
        &[
            "fleet",
            "token-create",
            "--name",
            "branches",
            "--label",
            "site=eu",
        ],
    );
    let secret = token["secret"].as_str().unwrap().to_owned();
    let (_server, url) = serve(&db).await;
    let state = std::env::temp_dir().join(format!("netpulse-fleet-{}", uuid::Uuid::new_v4()));

    run_agent(&bin, &url, &secret, &state);
    let file = state.join("agent-identity");
    let first: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the identity file is private");
    let list = netpulse(&db, &["fleet", "list"]);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], first["probeId"]);
    assert_eq!(items[0]["name"], "branch-09");
    assert_eq!(items[0]["state"], "ONLINE", "it polled: {list}");
    let probe = netpulse(&db, &["probe", "list"]);
    assert!(
        probe.to_string().contains("Lyon"),
        "the location label: {probe}"
    );

    // A restart: the kept identity, no new registration (the same token still works).
    run_agent(&bin, &url, &secret, &state);
    let second: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(second, first);

    // The identity lost, the same machine: the same probe, a new token.
    std::fs::remove_file(&file).unwrap();
    run_agent(&bin, &url, &secret, &state);
    let third: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(third["probeId"], first["probeId"]);
    assert_ne!(third["probeToken"], first["probeToken"]);
    assert_eq!(
        netpulse(&db, &["fleet", "list"])["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let tokens = netpulse(&db, &["fleet", "token-list"]);
    assert_eq!(
        tokens["items"][0]["uses"], 1,
        "one use for one agent: {tokens}"
    );
    let _ = std::fs::remove_dir_all(&state);
}
