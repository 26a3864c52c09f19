//! A real `mosquitto` broker for tests (feature `test-support`): started on a free loopback
//! port with its own configuration (password file, no anonymous clients) and killed on drop.
//! It never relies on a broker already running on the machine. [`Mosquitto::start_tls`] adds a
//! TLS listener whose certificate (for `127.0.0.1` only) is signed by a CA the test generates
//! with the `openssl` command-line tool ([`TestCa`]).

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The user name every test broker accepts.
pub const USER: &str = "netpulse";
/// Its password.
pub const PASSWORD: &str = "s3cret-mqtt";

/// A running mosquitto, killed (and its directory removed) on drop.
#[derive(Debug)]
pub struct Mosquitto {
    child: Child,
    /// Its loopback port (plain TCP).
    pub port: u16,
    /// Its TLS port (with [`start_tls`](Self::start_tls)).
    pub tls_port: Option<u16>,
    /// The CA (PEM) that signed the TLS listener's certificate.
    pub ca_pem: Option<String>,
    dir: PathBuf,
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl command-line tool is installed");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate authority generated for one test (a P-256 key, valid for two days), in a
/// directory of its own that is removed on drop.
#[derive(Debug)]
pub struct TestCa {
    dir: PathBuf,
    /// Its certificate (PEM).
    pub pem: String,
}

impl TestCa {
    /// Generates a new CA named `name`. Panics when `openssl` is not installed.
    pub fn generate(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "netpulse-test-ca-{}",
            crate::testing::unique_name()
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                &format!("/CN={name}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        let pem = std::fs::read_to_string(dir.join("ca.pem")).expect("ca.pem");
        Self { dir, pem }
    }

    /// Signs a server certificate for the IP address `ip` (its only subject alternative
    /// name); writes `server.pem` and `server.key` into `into` and returns their paths.
    pub fn server_cert(&self, ip: &str, into: &std::path::Path) -> (PathBuf, PathBuf) {
        let (cert, key) = (into.join("server.pem"), into.join("server.key"));
        let csr = into.join("server.csr");
        let ext = into.join("server.ext");
        std::fs::write(
            &ext,
            format!(
                "subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            ),
        )
        .expect("write server.ext");
        let path = |p: &PathBuf| p.display().to_string();
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &path(&key),
                "-out",
                &path(&csr),
                "-subj",
                &format!("/CN={ip}"),
            ],
        );
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &path(&csr),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &path(&cert),
                "-extfile",
                &path(&ext),
            ],
        );
        // mosquitto started as root reads its files as the `mosquitto` user: a test key may be
        // world-readable.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644))
                .expect("chmod server.key");
        }
        (cert, key)
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Mosquitto {
    /// Starts mosquitto with user [`USER`] / [`PASSWORD`] and waits until it accepts
    /// connections. Panics when mosquitto (Debian's `mosquitto`) is not installed.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// As [`start`](Self::start), on `port` (to bring a killed broker back where it was).
    pub fn start_on(port: u16) -> Self {
        Self::launch(port, false)
    }

    /// As [`start`](Self::start), plus a TLS listener on another loopback port
    /// ([`tls_port`](Self::tls_port)) whose certificate names `127.0.0.1` only (so connecting
    /// as `localhost` is a wrong host name) and is signed by a fresh CA
    /// ([`ca_pem`](Self::ca_pem)).
    pub fn start_tls() -> Self {
        Self::launch(free_port(), true)
    }

    fn launch(port: u16, tls: bool) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "netpulse-mosquitto-{}",
            crate::testing::unique_name()
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let passwords = dir.join("passwords");
        let status = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwords)
            .args([USER, PASSWORD])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("mosquitto_passwd is installed (Debian package mosquitto)");
        assert!(status.success(), "mosquitto_passwd failed");
        let conf = dir.join("mosquitto.conf");
        let mut text = format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\npersistence false\n",
            passwords.display()
        );
        let (mut tls_port, mut ca_pem) = (None, None);
        if tls {
            let ca = TestCa::generate("NetPulse test broker CA");
            let (cert, key) = ca.server_cert("127.0.0.1", &dir);
            std::fs::write(dir.join("ca.pem"), &ca.pem).expect("write ca.pem");
            let p = free_port();
            text.push_str(&format!(
                "listener {p} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n",
                dir.join("ca.pem").display(),
                cert.display(),
                key.display()
            ));
            tls_port = Some(p);
            ca_pem = Some(ca.pem.clone());
        }
        std::fs::write(&conf, text).expect("write mosquitto.conf");
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is installed (Debian package mosquitto)");
        let broker = Self {
            child,
            port,
            tls_port,
            ca_pem,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        for p in std::iter::once(port).chain(tls_port) {
            while TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "mosquitto did not start on port {p}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        broker
    }

    /// Kills the broker now (a broker that went away).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One message a [`Subscriber`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Its topic.
    pub topic: String,
    /// Its payload as text.
    pub payload: String,
    /// The QoS it was delivered with (0, 1, 2).
    pub qos: u8,
    /// Whether the broker delivered it as a retained message (sent before the subscription).
    pub retain: bool,
}

/// A real MQTT client (rumqttc) subscribed to a topic filter with QoS 1 on a test broker.
#[derive(Debug)]
pub struct Subscriber {
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Connects as [`USER`] to `broker` and subscribes to `filter`; returns once subscribed.
    pub async fn connect(broker: &Mosquitto, filter: &str) -> Self {
        use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
        let mut options = MqttOptions::new(
            format!("test-sub-{}", crate::testing::unique_name()),
            "127.0.0.1",
            broker.port,
        );
        options.set_credentials(USER, PASSWORD);
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 100);
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = received.clone();
        let (subscribed_tx, subscribed_rx) = tokio::sync::oneshot::channel();
        let mut subscribed_tx = Some(subscribed_tx);
        let filter = filter.to_owned();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        client
                            .subscribe(filter.clone(), QoS::AtLeastOnce)
                            .await
                            .expect("subscribe");
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(tx) = subscribed_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        sink.lock().unwrap().push(Received {
                            topic: p.topic.clone(),
                            payload: String::from_utf8_lossy(&p.payload).into_owned(),
                            qos: p.qos as u8,
                            retain: p.retain,
                        });
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), subscribed_rx)
            .await
            .expect("subscribed within 10 s")
            .expect("subscribed");
        Self { received, task }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for a message matching `pred` and returns the newest such one.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Received) -> bool) -> Received {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(r) = self.received().into_iter().rev().find(|r| pred(r)) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "no message {what} within 10 s; received: {:#?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 10 s) for a message on exactly `topic`.
    pub async fn wait_topic(&self, topic: &str) -> Received {
        self.wait_for(&format!("on {topic}"), |r| r.topic == topic)
            .await
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}
