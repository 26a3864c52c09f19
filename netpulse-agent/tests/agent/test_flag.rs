//! `netpulse-agent --test` as an unprivileged user (uid 65534) inside the namespace test
//! network: every check once, a table, exit 0 when all pass and 3 when one does not. Host
//! names resolve through the system resolver (`/etc/netns/<ns>/hosts`).

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::json;

use crate::helpers::PROBE;
use crate::netns::Net;

fn check(
    id: u32,
    kind: &str,
    target: &str,
    port: Option<u16>,
    params: &serde_json::Value,
) -> serde_json::Value {
    json!({
        "id": format!("c0000000-0000-4000-8000-{id:012}"), "kind": kind, "target": target,
        "port": port, "family": "dual", "role": "connectivity", "intervalSeconds": 60,
        "params": params,
    })
}

fn run_test_flag(net: &Net, dir: &std::path::Path, items: &[serde_json::Value]) -> (i32, String) {
    let file = dir.join("checks.json");
    let set = json!({"version": "t1", "periodSeconds": 60, "items": items});
    std::fs::write(&file, set.to_string()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &net.a,
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
        ])
        .args([
            "--clear-groups",
            "--",
            env!("CARGO_BIN_EXE_netpulse-agent"),
            "--test",
        ])
        .arg("--checks-file")
        .arg(&file)
        .args(["--server-url", "http://127.0.0.1:9", "--probe-id", PROBE])
        .args(["--probe-token", "unused"])
        .env_remove("NETPULSE_SERVER_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

#[test]
fn the_test_flag_runs_every_check_unprivileged_and_exits_by_the_outcome() {
    let mut net = Net::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    net.http_server(&www);
    net.hosts(
        &net.a.clone(),
        "127.0.0.1 localhost\n10.99.2.2 dual.test\nfd99:2::2 dual.test\n10.99.3.2 v4only.test\n",
    );
    net.sysctl(&net.a.clone(), "net.ipv4.ping_group_range", "0 2147483647");
    let icmp = json!({"count": 2});
    let passing = vec![
        check(1, "icmp", "dual.test", None, &icmp),
        check(2, "icmp", "v4only.test", None, &icmp),
        check(
            3,
            "http",
            "http://dual.test/",
            None,
            &json!({"accepted": [{"min": 200, "max": 299}]}),
        ),
        check(4, "tcp", "dual.test", Some(80), &json!({"timeoutMs": 500})),
    ];
    let (code, out) = run_test_flag(&net, dir.path(), &passing);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("KIND  FAMILY TARGET"), "{out}");
    let line = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in {out}"))
            .to_owned()
    };
    assert!(line("icmp  v6     dual.test").contains(" ok "), "{out}");
    assert!(
        line("icmp  v6     v4only.test").contains("not_applicable"),
        "a name without AAAA is not applicable for v6: {out}"
    );
    assert!(
        line("icmp  v6     v4only.test").contains("no_address"),
        "{out}"
    );
    assert!(
        line("http  v6     http://dual.test/").contains("HTTP 200"),
        "{out}"
    );
    assert!(out.contains("8 of 8 passed"), "{out}");

    let mut failing = passing;
    failing.push(check(
        5,
        "tcp",
        "dual.test",
        Some(82),
        &json!({"timeoutMs": 500}),
    ));
    let (code, out) = run_test_flag(&net, dir.path(), &failing);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("closed"), "{out}");
    assert!(out.contains("8 of 10 passed"), "{out}");
}
