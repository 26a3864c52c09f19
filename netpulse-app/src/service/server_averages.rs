//! Per-server averages for the Servers page, one row per connection and server, so that
//! links with very different plans are not mixed. Every engine's server counts: Ookla's by
//! its id, iperf3 and HTTP targets by their host. Reads the per-server daily rollups of the
//! window's local days (`service::rollups`), so the first day may start before the window.

use std::collections::HashMap;

use netpulse_domain::Timestamp;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::rollup::{SpeedBucket, SpeedMetric};
use netpulse_ports::rollup_store::StoredRollup;
use netpulse_ports::web_store::{SeenServer, ServerSummary};

use super::App;
use crate::error::AppError;

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

/// The averages over the local days covering `[since, until)`, from the per-server daily
/// rollups (Σsum/Σcount per metric; work bounded by days × servers, not by results).
pub async fn per_connection(
    app: &App,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<ConnectionServer>, AppError> {
    let days = super::rollup_reads::server_days(app, since, until).await?;
    let mut acc: HashMap<(ConnectionId, String), (SpeedBucket, Option<&StoredRollup>, bool)> =
        HashMap::new();
    for d in &days {
        let a = acc
            .entry((d.connection.clone(), d.server_key.clone()))
            .or_insert_with(|| (SpeedBucket::default(), None, d.by_host));
        a.0.merge(&d.bucket);
        // The newest day names the server.
        if a.1.is_none_or(|n| n.bucket_at < d.bucket_at) {
            a.1 = Some(d);
            a.2 = d.by_host;
        }
    }
    Ok(acc
        .into_iter()
        .filter_map(|((connection, key), (b, newest, by_host))| {
            Some(ConnectionServer {
                connection,
                by_host,
                summary: ServerSummary {
                    server: SeenServer {
                        id: key,
                        name: newest.and_then(|n| n.server_name.clone()),
                        location: newest.and_then(|n| n.server_location.clone()),
                    },
                    download_bps: b.mean(SpeedMetric::Download),
                    upload_bps: b.mean(SpeedMetric::Upload),
                    ping_ms: b.mean(SpeedMetric::Ping),
                    packet_loss_percent: b.mean(SpeedMetric::Loss),
                    tests: b.results,
                    healthy: b.healthy,
                    last_seen: b.last_at?,
                },
            })
        })
        .collect())
}
