//! The agent's cost of one connectivity-check round with the default set's shape (4 ICMP + 4
//! HTTP checks, the targets on loopback: 127.0.0.1 and ::1, a `python3 -m http.server` in its
//! own process): CPU time per round (all threads of this process, from
//! `/proc/self/task/*/schedstat`) and resident memory (`VmRSS`, `VmHWM`).
//!
//! Run: `cargo bench -p netpulse-agent --bench checks` (ICMP needs root or
//! `net.ipv4.ping_group_range`; `python3` on PATH). The rounds run on the runtime the agent
//! runs them on (`checks::thread::round_runtime`). For system calls per round, run the built
//! bench under `strace -ff` with `NETPULSE_BENCH_ROUNDS=0` and `=20` and divide the difference
//! by 20 (leaving the python server's processes out). Under `valgrind --tool=callgrind` the
//! bench does not get past start-up: rustix's vDSO lookup (the suspend detector's clocks)
//! crashes there.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netpulse_agent::checks::CheckRounds;
use netpulse_domain::Timestamp;
use netpulse_domain::check::{
    CheckKind, CheckParams, CheckRole, CheckSetVersion, CheckSpec, FamilyMode, Outcome,
};
use netpulse_domain::id::CheckId;
use netpulse_ports::agent_api::CheckSet;

/// Rounds measured after the warm-up (`NETPULSE_BENCH_ROUNDS`, default 20). Running it under
/// `strace -ff` with 0 and with 20 rounds gives the system calls per round, a figure that does
/// not depend on how busy the machine is.
fn measured_rounds() -> u32 {
    std::env::var("NETPULSE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// CPU time of every thread of this process, ns.
fn cpu_ns() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn spec(kind: CheckKind, target: &str, family: FamilyMode) -> CheckSpec {
    CheckSpec {
        kind,
        target: target.to_owned(),
        port: None,
        family,
        role: CheckRole::Connectivity,
        interval_s: 60,
        params: CheckParams::default_for(kind),
    }
    .validate()
    .unwrap()
}

fn main() {
    let port = {
        let l = std::net::TcpListener::bind("[::]:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "::",
            "--directory",
        ])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 on PATH");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut items = Vec::new();
    for (n, (kind, target, family)) in [
        (CheckKind::Icmp, "127.0.0.1".to_owned(), FamilyMode::V4),
        (CheckKind::Icmp, "::1".to_owned(), FamilyMode::V6),
        (CheckKind::Icmp, "127.0.0.2".to_owned(), FamilyMode::V4),
        (CheckKind::Icmp, "::1".to_owned(), FamilyMode::V6),
        (
            CheckKind::Http,
            format!("http://127.0.0.1:{port}/"),
            FamilyMode::Dual,
        ),
        (
            CheckKind::Http,
            format!("http://[::1]:{port}/"),
            FamilyMode::Dual,
        ),
        (
            CheckKind::Http,
            format!("http://127.0.0.2:{port}/"),
            FamilyMode::Dual,
        ),
        (
            CheckKind::Http,
            format!("http://[::1]:{port}/"),
            FamilyMode::Dual,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        items.push((
            CheckId::parse(&format!("c0000000-0000-4000-8000-{n:012}")).unwrap(),
            spec(kind, &target, family),
        ));
    }
    let set = CheckSet {
        version: CheckSetVersion::parse("bench").unwrap(),
        period_s: 60,
        unchanged: false,
        items,
    };
    let spool = tempfile::tempdir().unwrap();
    // The runtime the agent runs its rounds on (a current-thread one, on its own thread).
    let runtime = netpulse_agent::checks::thread::round_runtime().unwrap();
    runtime.block_on(async {
        let rounds = CheckRounds::new(spool.path(), "bench-agent").unwrap();
        let at = Timestamp::from_unix_millis(1_780_747_534_905);
        // Warm-up: HTTP clients are built once and kept.
        let first = rounds.run_round(&set, at, true).await;
        let ok = first.iter().filter(|m| m.outcome == Outcome::Ok).count();
        println!("results per round: {} ({ok} ok)", first.len());
        for m in first.iter().filter(|m| m.outcome != Outcome::Ok && m.outcome != Outcome::NotApplicable) {
            println!("  not ok: {} {} {:?}", m.family, m.outcome, m.message);
        }
        let n = measured_rounds();
        let (cpu0, wall0) = (cpu_ns(), Instant::now());
        for k in 0..n {
            let round_at = at.plus_seconds(60 * i64::from(k + 1));
            let results = rounds.run_round(&set, round_at, true).await;
            rounds.store(round_at, results).await;
        }
        let (cpu, wall) = (cpu_ns() - cpu0, wall0.elapsed());
        println!(
            "checks: {n} rounds of {} checks: CPU {:.2} ms per round (wall {:.0} ms per round, spool write included)",
            set.items.len(),
            cpu as f64 / 1e6 / f64::from(n.max(1)),
            wall.as_secs_f64() * 1000.0 / f64::from(n.max(1)),
        );
    });
    println!(
        "checks: resident memory {} KiB now, {} KiB peak (this process: tokio, reqwest, the engines)",
        status_kib("VmRSS:"),
        status_kib("VmHWM:")
    );
    let _ = server.kill();
    let _ = server.wait();
}
