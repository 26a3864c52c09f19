//! HTTP checks with reqwest: GET (or HEAD), redirects not followed, the chosen address pinned
//! for the family (`ClientBuilder::resolve`), no proxy, no connection reuse between rounds
//! (every round pays its own connect), the body read up to 64 KiB. Recorded: the status, the
//! time to the response headers (`ttfb_ms`) and the total time (`latency_ms`); the verdict is
//! `netpulse_domain::check::http::judge`'s.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use netpulse_domain::check::http::{HttpObservation, judge};
use netpulse_domain::check::spec::url_host;
use netpulse_domain::check::{CheckMeasurement, CheckParams, CheckSpec, FailureClass, Outcome};

use super::{blank, blank_failed, elapsed_ms, io_class, millis};

/// How much of a body is read, bytes.
pub const BODY_CAP_BYTES: usize = 64 * 1024;

/// The HTTP clients, one per (host, address, timeout), kept between rounds (building one
/// loads the TLS roots).
#[derive(Debug, Default)]
pub struct HttpClients {
    clients: Mutex<HashMap<(String, SocketAddr, u32), reqwest::Client>>,
}

fn client_for(
    host: &str,
    address: SocketAddr,
    timeout_ms: u32,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(millis(timeout_ms))
        .connect_timeout(millis(timeout_ms))
        .pool_max_idle_per_host(0)
        .no_proxy()
        .user_agent(concat!(
            "netpulse-agent/",
            env!("CARGO_PKG_VERSION"),
            " (check)"
        ));
    if host.parse::<IpAddr>().is_err() {
        builder = builder.resolve(host, address);
    }
    builder.build()
}

/// The class of a request error, from its source chain.
fn classify(e: &reqwest::Error) -> FailureClass {
    if e.is_timeout() {
        return FailureClass::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = String::new();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && let Some(class) = io_class(io)
        {
            return class;
        }
        text.push_str(&cause.to_string().to_ascii_lowercase());
        text.push(' ');
        source = cause.source();
    }
    if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        FailureClass::Tls
    } else if text.contains("timed out") {
        FailureClass::Timeout
    } else if e.is_connect() {
        FailureClass::Unreachable
    } else {
        FailureClass::Protocol
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let t = cause.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        source = cause.source();
    }
    text
}

impl HttpClients {
    fn get(
        &self,
        host: &str,
        address: SocketAddr,
        timeout_ms: u32,
    ) -> Result<reqwest::Client, String> {
        let key = (host.to_owned(), address, timeout_ms);
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let c = client_for(host, address, timeout_ms).map_err(|e| chain(&e))?;
        if clients.len() > 256 {
            clients.clear();
        }
        clients.insert(key, c.clone());
        Ok(c)
    }

    /// Runs an HTTP check against `ip`.
    pub async fn run(&self, spec: &CheckSpec, ip: IpAddr) -> CheckMeasurement {
        let CheckParams::Http {
            method_head,
            accepted,
            max_response_ms,
            body_contains,
            timeout_ms,
        } = &spec.params
        else {
            return blank_failed(
                Outcome::LocalError,
                FailureClass::Protocol,
                "not an HTTP check",
            );
        };
        let url = match reqwest::Url::parse(&spec.target) {
            Ok(url) => url,
            Err(e) => {
                return blank_failed(
                    Outcome::LocalError,
                    FailureClass::Protocol,
                    &format!("invalid URL: {e}"),
                );
            }
        };
        let host = url_host(&spec.target).unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let client = match self.get(&host, SocketAddr::new(ip, port), *timeout_ms) {
            Ok(c) => c,
            Err(e) => return blank_failed(Outcome::LocalError, FailureClass::Protocol, &e),
        };
        let request = if *method_head {
            client.head(url)
        } else {
            client.get(url)
        };
        let start = Instant::now();
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return blank_failed(Outcome::Fail, classify(&e), &chain(&e)),
        };
        let ttfb_ms = elapsed_ms(start);
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut body_error = None;
        if !*method_head {
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = BODY_CAP_BYTES - body.len();
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if body.len() >= BODY_CAP_BYTES {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        body_error = Some(e);
                        break;
                    }
                }
            }
        }
        let total_ms = elapsed_ms(start);
        drop(response);
        let mut m = if let Some(e) = body_error {
            blank_failed(
                Outcome::Fail,
                classify(&e),
                &format!("reading the body: {}", chain(&e)),
            )
        } else {
            let observation = HttpObservation {
                status,
                total_ms,
                body: (!*method_head).then(|| String::from_utf8_lossy(&body).into_owned()),
            };
            let (outcome, class, message) = judge(
                &observation,
                accepted,
                *max_response_ms,
                body_contains.as_deref(),
            );
            let mut m = blank(outcome);
            m.failure_class = class;
            m.message = message.map(|t| netpulse_domain::check::cut_message(&t));
            m
        };
        m.status = Some(status);
        m.ttfb_ms = Some(ttfb_ms);
        m.latency_ms = Some(total_ms);
        m
    }
}
