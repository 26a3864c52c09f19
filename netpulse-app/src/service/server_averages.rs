//! Per-server averages for the Servers page, one row per connection and server, so that
//! links with very different plans are not mixed. Every engine's server counts: Ookla's by
//! its id, iperf3 and HTTP targets by their host. Reads the window's results page by page
//! (at most [`MAX_RESULTS`]).

use std::collections::HashMap;

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::stats::mean;
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort};
use netpulse_ports::web_store::{SeenServer, ServerSummary};

use super::App;
use crate::error::AppError;

/// Results read per request at most.
pub const MAX_RESULTS: usize = 50_000;
const PAGE: u32 = 1000;

/// A server's averages for one connection.
#[derive(Debug, Clone)]
pub struct ConnectionServer {
    /// The connection.
    pub connection: ConnectionId,
    /// Whether the server is keyed by its host (iperf3, HTTP) rather than a tool id.
    pub by_host: bool,
    /// The averages (`server.id` is the tool's id or the host).
    pub summary: ServerSummary,
}

#[derive(Default)]
struct Acc {
    name: Option<String>,
    location: Option<String>,
    by_host: bool,
    down: Vec<f64>,
    up: Vec<f64>,
    ping: Vec<f64>,
    loss: Vec<f64>,
    tests: u64,
    healthy: u64,
    last: Option<Timestamp>,
}

/// The averages over `[since, until)`.
pub async fn per_connection(
    app: &App,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<ConnectionServer>, AppError> {
    let filter = MeasurementFilter {
        since: Some(since),
        until: Some(until),
        ..MeasurementFilter::default()
    };
    let mut acc: HashMap<(String, String), Acc> = HashMap::new();
    let mut cursor: Option<String> = None;
    let mut read = 0;
    loop {
        let page = app
            .storage
            .measurements(
                &filter,
                MeasurementSort::CompletedDesc,
                PAGE,
                cursor.as_deref(),
            )
            .await?;
        read += page.items.len();
        for m in &page.items {
            let s = &m.observation.server;
            let (key, by_host) = match (s.id.as_deref(), s.host.as_deref()) {
                (Some(id), _) if !id.is_empty() => (id.to_owned(), false),
                (_, Some(host)) if !host.is_empty() => (host.to_owned(), true),
                _ => continue,
            };
            let a = acc
                .entry((m.connection_id.as_str().to_owned(), key))
                .or_default();
            a.by_host = by_host;
            if a.name.is_none() {
                a.name.clone_from(&s.name);
                a.location.clone_from(&s.location);
            }
            let o = &m.observation;
            a.down.extend(o.download_bps);
            a.up.extend(o.upload_bps);
            a.ping.extend(o.ping_ms);
            a.loss.extend(o.packet_loss_percent);
            a.tests += 1;
            a.healthy += u64::from(m.verdict.healthy());
            a.last = a.last.max(Some(m.completed_at));
        }
        cursor = page.next_cursor;
        if cursor.is_none() || read >= MAX_RESULTS {
            break;
        }
    }
    Ok(acc
        .into_iter()
        .filter_map(|((connection, key), a)| {
            Some(ConnectionServer {
                connection: ConnectionId::parse(&connection).ok()?,
                by_host: a.by_host,
                summary: ServerSummary {
                    server: SeenServer {
                        id: key,
                        name: a.name,
                        location: a.location,
                    },
                    download_bps: mean(&a.down),
                    upload_bps: mean(&a.up),
                    ping_ms: mean(&a.ping),
                    packet_loss_percent: mean(&a.loss),
                    tests: a.tests,
                    healthy: a.healthy,
                    last_seen: a.last?,
                },
            })
        })
        .collect())
}
