//! A real headless Chromium driven over WebDriver (chromedriver started by the test on a free
//! port). Missing `chromium` or `chromedriver` fails the test: `.ci/run` installs them.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A browser session and the chromedriver behind it. Chromedriver runs in its own process
/// group with Chromium and its helpers; the whole group is killed on drop (a failing test
/// unwinds through it) and, should the test binary die without unwinding, by a watchdog that
/// waits for the binary to exit.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    watchdog: Option<Child>,
    profile: PathBuf,
    pub(crate) base: String,
    pub(crate) label: String,
}

/// Kills a process group.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(self.driver.id());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The processes in the process group `pgid` (for the cleanup test).
pub(crate) fn group_members(pgid: u32) -> usize {
    let out = Command::new("ps")
        .args(["-eo", "pgid="])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.lines()
        .filter(|l| l.trim().parse::<u32>().ok() == Some(pgid))
        .count()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Where screenshots go: `<target>/screenshots/`.
pub(crate) fn screenshot_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")),
        PathBuf::from,
    );
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session against `base`.
    pub(crate) async fn start(base: &str, label: &str) -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "the browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver; .ci/run does)"
        );
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {} 2>/dev/null; do sleep 1; done; kill -KILL -- -{} 2>/dev/null",
                std::process::id(),
                driver.id()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        let profile = std::env::temp_dir().join(format!(
            "netpulse-chromium-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&profile).unwrap();
        let url = format!("http://127.0.0.1:{port}");
        // Wait for chromedriver to answer.
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if http
                .get(format!("{url}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "chromedriver did not start on port {port}");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    // No crash handler: it would leave its own session behind.
                    "--disable-crash-reporter", "--disable-breakpad",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a WebDriver session");
        Self {
            client,
            driver,
            watchdog,
            profile,
            base: base.to_owned(),
            label: label.to_owned(),
        }
    }

    /// The process group of chromedriver, Chromium and its helpers.
    pub(crate) fn process_group(&self) -> u32 {
        self.driver.id()
    }

    /// Saves screenshots of the current page at 1280 and 390 px, light and dark, named
    /// `<label>-<name>-<width>-<theme>.png`.
    pub(crate) async fn screenshots_both(&self, name: &str) {
        for width in [1280_u32, 390] {
            self.client.set_window_size(width, 900).await.unwrap();
            tokio::time::sleep(Duration::from_millis(250)).await;
            // The whole page, up to 4000 px.
            // The page's height plus what the window adds around the viewport.
            let height = self
                .eval(
                    "return document.documentElement.scrollHeight \
                     + Math.max(0, window.outerHeight - window.innerHeight);",
                )
                .await
                .as_u64()
                .unwrap_or(900)
                .clamp(600, 4000);
            self.client
                .set_window_size(width, u32::try_from(height).unwrap_or(900))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(250)).await;
            self.screenshots(&format!("{name}-{width}")).await;
        }
        self.client.set_window_size(1280, 900).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    /// Runs a script and returns its value.
    pub(crate) async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    pub(crate) async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    pub(crate) async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub(crate) async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(selector))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!("no element {selector} on {}: {e}", self.path().await),
        }
    }

    pub(crate) async fn count(&self, selector: &str) -> usize {
        self.client
            .find_all(Locator::Css(selector))
            .await
            .map_or(0, |v| v.len())
    }

    pub(crate) async fn text(&self, selector: &str) -> String {
        self.css(selector).await.text().await.unwrap()
    }

    pub(crate) async fn fill(&self, selector: &str, value: &str) {
        let e = self.css(selector).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    pub(crate) async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    /// Waits until `script` (a JS expression) is truthy.
    pub(crate) async fn wait_until(&self, what: &str, script: &str) {
        for _ in 0..150 {
            let v = self
                .client
                .execute(&format!("return !!({script});"), vec![])
                .await
                .unwrap_or(Value::Bool(false));
            if v == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what} on {}", self.path().await);
    }

    /// Runs an async script (`done` is the callback) and returns its value.
    pub(crate) async fn run_async(&self, body: &str) -> Value {
        self.client
            .execute_async(
                &format!("const done = arguments[arguments.length - 1]; {body}"),
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Saves a screenshot of the current page in the light and the dark theme.
    pub(crate) async fn screenshots(&self, name: &str) {
        let dir = screenshot_dir();
        for theme in ["light", "dark"] {
            self.client
                .execute(
                    "document.documentElement.dataset.theme = arguments[0]; \
                     document.dispatchEvent(new CustomEvent('np-theme'));",
                    vec![json!(theme)],
                )
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            let png = self.client.screenshot().await.unwrap();
            assert!(png.len() > 1000, "a real screenshot");
            std::fs::write(dir.join(format!("{}-{name}-{theme}.png", self.label)), png).unwrap();
        }
        self.client
            .execute(
                "document.documentElement.dataset.theme = 'auto'; \
                 document.dispatchEvent(new CustomEvent('np-theme'));",
                vec![],
            )
            .await
            .unwrap();
    }

    /// Asserts the page fits a narrow screen without horizontal scrolling.
    pub(crate) async fn fits(&self, width: u32) {
        self.client.set_window_size(width, 800).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let over = self
            .client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        if over.as_i64().unwrap_or(0) > 0 {
            let culprits = self
                .client
                .execute(
                    "const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')] \
                     .filter(e => e.getBoundingClientRect().right > w + 1) \
                     .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
                    vec![],
                )
                .await
                .unwrap();
            panic!(
                "{} overflows a {width} px screen by {over} px: {culprits}",
                self.path().await
            );
        }
        let dir = screenshot_dir();
        let png = self.client.screenshot().await.unwrap();
        let name = self.path().await.replace(['/', '?', '&', '='], "_");
        std::fs::write(dir.join(format!("{}-{width}px{name}.png", self.label)), png).unwrap();
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    /// JavaScript errors and CSP violations reported so far (collected by a listener the test
    /// installs with [`Browser::watch_errors`]).
    pub(crate) async fn errors(&self) -> Vec<String> {
        let v = self
            .client
            .execute("return (window.__npErrors || []).slice();", vec![])
            .await
            .unwrap_or(Value::Null);
        v.as_array()
            .map(|a| a.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// Installs listeners for script errors and CSP violations on the current page.
    pub(crate) async fn watch_errors(&self) {
        self.client
            .execute(
                "window.__npErrors = window.__npErrors || []; \
                 window.addEventListener('error', e => window.__npErrors.push('error: ' + e.message)); \
                 document.addEventListener('securitypolicyviolation', e => window.__npErrors.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI));",
                vec![],
            )
            .await
            .unwrap();
    }
}
