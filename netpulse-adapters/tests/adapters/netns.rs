//! A dual-stack test network built with `ip netns` and veth pairs (root required; CI runs as
//! root). Every network gets unique namespace names (pid + counter) and is deleted on drop;
//! all addresses live inside the namespaces:
//!
//! ```text
//!   a (agent)  a0 10.99.1.1 fd99:1::1 ── ra 10.99.1.2 fd99:1::2   r (router)
//!   b (host)   b0 10.99.2.2 fd99:2::2 ── rb 10.99.2.1 fd99:2::1   r
//!   c (v4 only) c0 10.99.3.2          ── rc 10.99.3.1             r
//! ```
//!
//! `a` has a v4 default route and a v6 route for `fd99::/16` only (so `2001:db8::/32` has no
//! route); `b` and `c` have default routes through `r`, which forwards both families and does
//! not rate-limit ICMP errors.

use std::future::Future;
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Runs a command, panicking with its output when it fails.
pub(crate) fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The test network; deleted (with the processes started in it) on drop.
#[derive(Debug)]
pub(crate) struct Net {
    /// The agent's namespace.
    pub(crate) a: String,
    /// The router.
    pub(crate) r: String,
    /// The dual-stack host.
    pub(crate) b: String,
    /// The IPv4-only host.
    pub(crate) c: String,
    children: Vec<Child>,
}

/// The dual-stack host's addresses.
pub(crate) const B4: &str = "10.99.2.2";
/// The dual-stack host's IPv6 address.
pub(crate) const B6: &str = "fd99:2::2";
/// The IPv4-only host.
pub(crate) const C4: &str = "10.99.3.2";

impl Net {
    /// Builds the network.
    pub(crate) fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = format!("np{}x{n}", std::process::id());
        let net = Self {
            a: format!("{base}a"),
            r: format!("{base}r"),
            b: format!("{base}b"),
            c: format!("{base}c"),
            children: Vec::new(),
        };
        for ns in [&net.a, &net.r, &net.b, &net.c] {
            sh(&["ip", "netns", "add", ns]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            // No duplicate address detection, link-local addresses included: a tentative
            // address would delay neighbour discovery by a second or more.
            net.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0");
            net.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0");
        }
        net.link(&net.a, "a0", "ra");
        net.link(&net.b, "b0", "rb");
        net.link(&net.c, "c0", "rc");
        net.sysctl(&net.c, "net.ipv6.conf.c0.disable_ipv6", "1");
        let addr = |ns: &str, dev: &str, cidr: &str| {
            let mut args = vec!["ip", "-n", ns, "addr", "add", cidr, "dev", dev];
            if cidr.contains(':') {
                args.push("nodad");
            }
            sh(&args);
        };
        addr(&net.a, "a0", "10.99.1.1/24");
        addr(&net.a, "a0", "fd99:1::1/64");
        addr(&net.r, "ra", "10.99.1.2/24");
        addr(&net.r, "ra", "fd99:1::2/64");
        addr(&net.b, "b0", "10.99.2.2/24");
        addr(&net.b, "b0", "fd99:2::2/64");
        addr(&net.r, "rb", "10.99.2.1/24");
        addr(&net.r, "rb", "fd99:2::1/64");
        addr(&net.c, "c0", "10.99.3.2/24");
        addr(&net.r, "rc", "10.99.3.1/24");
        sh(&[
            "ip",
            "-n",
            &net.a,
            "route",
            "add",
            "default",
            "via",
            "10.99.1.2",
        ]);
        sh(&[
            "ip",
            "-n",
            &net.a,
            "-6",
            "route",
            "add",
            "fd99::/16",
            "via",
            "fd99:1::2",
        ]);
        sh(&[
            "ip",
            "-n",
            &net.b,
            "route",
            "add",
            "default",
            "via",
            "10.99.2.1",
        ]);
        sh(&[
            "ip",
            "-n",
            &net.b,
            "-6",
            "route",
            "add",
            "default",
            "via",
            "fd99:2::1",
        ]);
        sh(&[
            "ip",
            "-n",
            &net.c,
            "route",
            "add",
            "default",
            "via",
            "10.99.3.1",
        ]);
        net.sysctl(&net.r, "net.ipv4.ip_forward", "1");
        net.sysctl(&net.r, "net.ipv6.conf.all.forwarding", "1");
        for ns in [&net.r, &net.b, &net.c] {
            net.sysctl(ns, "net.ipv4.icmp_ratelimit", "0");
            net.sysctl(ns, "net.ipv6.icmp.ratelimit", "0");
        }
        net
    }

    /// Panics unless `ns` is one of this network's namespaces (tests touch no other).
    fn own(&self, ns: &str) {
        assert!(
            [&self.a, &self.r, &self.b, &self.c]
                .iter()
                .any(|n| n.as_str() == ns),
            "{ns} is not a namespace of this test network"
        );
    }

    fn link(&self, ns: &str, dev: &str, router_dev: &str) {
        sh(&[
            "ip", "-n", ns, "link", "add", dev, "type", "veth", "peer", "name", router_dev,
            "netns", &self.r,
        ]);
        sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        sh(&["ip", "-n", &self.r, "link", "set", router_dev, "up"]);
    }

    /// Writes `/etc/netns/<ns>/hosts`, which `ip netns exec` mounts over `/etc/hosts` for the
    /// processes it starts (removed on drop).
    pub(crate) fn hosts(&self, ns: &str, text: &str) {
        self.own(ns);
        let dir = std::path::Path::new("/etc/netns").join(ns);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hosts"), text).unwrap();
    }

    /// Sets a sysctl inside a namespace.
    pub(crate) fn sysctl(&self, ns: &str, key: &str, value: &str) {
        self.own(ns);
        sh(&[
            "ip",
            "netns",
            "exec",
            ns,
            "sysctl",
            "-q",
            "-w",
            &format!("{key}={value}"),
        ]);
    }

    /// Runs a command in a namespace.
    pub(crate) fn exec(&self, ns: &str, args: &[&str]) -> String {
        self.own(ns);
        let mut all = vec!["ip", "netns", "exec", ns];
        all.extend_from_slice(args);
        sh(&all)
    }

    /// Adds nft rules in a namespace's `inet t` table, `in` chain (input hook).
    pub(crate) fn nft_input(&self, ns: &str, rules: &[&str]) {
        self.exec(ns, &["nft", "add", "table", "inet", "t"]);
        self.exec(
            ns,
            &[
                "nft",
                "add chain inet t in { type filter hook input priority 0 ; }",
            ],
        );
        for rule in rules {
            self.exec(ns, &["nft", &format!("add rule inet t in {rule}")]);
        }
    }

    /// Starts a long-running process in a namespace (killed on drop).
    pub(crate) fn spawn(&mut self, ns: &str, args: &[&str]) {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {args:?}: {e}"));
        self.children.push(child);
    }

    /// Waits until a TCP port accepts connections from inside `ns` (up to 5 s).
    pub(crate) fn wait_tcp(&self, ns: &str, address: std::net::SocketAddr) {
        self.own(ns);
        let ok = in_netns(ns, move || async move {
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(address).await.is_ok() {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            false
        });
        assert!(ok, "nothing listens on {address} in {ns}");
    }

    /// A Python HTTP server on port 80 of `b` (both families), serving an empty directory.
    pub(crate) fn http_server(&mut self, dir: &std::path::Path) {
        let b = self.b.clone();
        let dir = dir.to_str().expect("a UTF-8 path").to_owned();
        self.spawn(
            &b,
            &[
                "python3",
                "-m",
                "http.server",
                "80",
                "--bind",
                "::",
                "--directory",
                &dir,
            ],
        );
        self.wait_tcp(&self.a.clone(), "10.99.2.2:80".parse().unwrap());
    }

    /// dnsmasq on `b` (both families, port 53): `ok.test` has A and AAAA, `gone.test` is
    /// NXDOMAIN; anything else is REFUSED (no upstream).
    pub(crate) fn dns_server(&mut self) {
        let b = self.b.clone();
        self.spawn(
            &b,
            &[
                "dnsmasq",
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=10.99.2.2,fd99:2::2",
                "--except-interface=lo",
                "--user=root",
                "--group=root",
                "--pid-file",
                "--host-record=ok.test,10.99.2.2,fd99:2::2",
                "--address=/gone.test/",
                "--log-facility=/dev/null",
            ],
        );
        self.wait_tcp(&self.a.clone(), "10.99.2.2:53".parse().unwrap());
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.a, &self.r, &self.b, &self.c] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
            let _ = std::fs::remove_dir_all(std::path::Path::new("/etc/netns").join(ns));
        }
    }
}

/// Runs `f`'s future on a fresh thread moved into network namespace `ns`, with a
/// current-thread tokio runtime (sockets it opens belong to `ns`).
pub(crate) fn in_netns<F, Fut, T>(ns: &str, f: F) -> T
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        rustix::thread::move_into_link_name_space(
            file.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .unwrap_or_else(|e| panic!("setns {path}: {e}"));
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f())
    })
    .join()
    .expect("the namespace thread panicked")
}
