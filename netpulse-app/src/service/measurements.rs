//! Measurements: filtered and sorted pages, one result with its connection and share links,
//! public share links (create, revoke), and the export of every matching row in keyset chunks.

use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ResultId};
use netpulse_domain::model::{Connection, Measurement};
use netpulse_ports::storage::{MeasurementFilter, MeasurementPage, MeasurementSort};
use netpulse_ports::web_store::{
    ExportPosition, ExportRow, SeenServer, SeriesSample, ServerSummary, ShareLink,
};

use super::App;
use crate::error::AppError;

/// Rows fetched per chunk of an export.
pub const EXPORT_CHUNK: u32 = 1000;

/// One page of measurements (`limit` 1–1000), continuing after `cursor`. A cursor that is not
/// (or no longer) valid is `AppError::Invalid` on the field `cursor`.
pub async fn list(
    app: &App,
    filter: &MeasurementFilter,
    sort: MeasurementSort,
    limit: u32,
    cursor: Option<&str>,
) -> Result<MeasurementPage, AppError> {
    Ok(app
        .storage
        .measurements(filter, sort, limit, cursor)
        .await?)
}

/// How many measurements match.
pub async fn count(app: &App, filter: &MeasurementFilter) -> Result<u64, AppError> {
    Ok(app.storage.count_measurements(filter).await?)
}

/// One measurement (`NotFound` names it a `measurement`).
pub async fn get(app: &App, id: &ResultId) -> Result<Measurement, AppError> {
    app.storage
        .measurement(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "measurement",
            id: id.to_string(),
        })
}

/// A result with what its detail view shows beside it.
#[derive(Debug, Clone)]
pub struct ResultDetail {
    /// The measurement.
    pub measurement: Measurement,
    /// Its connection (`None` once deleted).
    pub connection: Option<Connection>,
    /// Its live share links.
    pub shares: Vec<ShareLink>,
}

/// A result, its connection and its live share links (`NotFound` names it a `result`).
pub async fn detail(app: &App, id: &ResultId) -> Result<ResultDetail, AppError> {
    let measurement = app
        .storage
        .measurement(id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            what: "result",
            id: id.to_string(),
        })?;
    let connection = app.storage.connection(&measurement.connection_id).await?;
    let shares = app.storage.share_links_of(&measurement.id).await?;
    Ok(ResultDetail {
        measurement,
        connection,
        shares,
    })
}

/// Creates a public link to a result (a fresh random token).
pub async fn share(app: &App, id: &ResultId) -> Result<ShareLink, AppError> {
    let link = ShareLink {
        token: crate::tokens::generate(),
        measurement_id: id.clone(),
        created_at: app.clock.now(),
    };
    app.storage.create_share_link(&link).await?;
    Ok(link)
}

/// Revokes a public link (unknown tokens are ignored).
pub async fn revoke_share(app: &App, token: &str) -> Result<(), AppError> {
    Ok(app.storage.revoke_share_link(token).await?)
}

/// Whether `token` has the shape of a share token (43 URL-safe base64 characters).
pub fn is_share_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The measurement a public link shows (`None` for a revoked, unknown or malformed token; a
/// malformed one is not looked up).
pub async fn shared(app: &App, token: &str) -> Result<Option<Measurement>, AppError> {
    if !is_share_token(token) {
        return Ok(None);
    }
    Ok(app.storage.shared_measurement(token).await?)
}

/// Every row matching `filter`, newest first, in chunks of [`EXPORT_CHUNK`] (keyset: each chunk
/// continues after the previous one's last row, so memory stays constant). The stream ends
/// after the first short chunk, or after an error.
pub fn export(
    app: &App,
    filter: MeasurementFilter,
) -> BoxStream<'static, Result<Vec<ExportRow>, AppError>> {
    struct State {
        after: Option<ExportPosition>,
        done: bool,
    }
    let storage = app.storage.clone();
    futures_util::stream::unfold(
        State {
            after: None,
            done: false,
        },
        move |mut st| {
            let storage = storage.clone();
            let filter = filter.clone();
            async move {
                if st.done {
                    return None;
                }
                match storage
                    .export_rows(&filter, st.after.as_ref(), EXPORT_CHUNK)
                    .await
                {
                    Ok(rows) if rows.is_empty() => None,
                    Ok(rows) => {
                        st.done = rows.len() < EXPORT_CHUNK as usize;
                        st.after = rows.last().map(|r| ExportPosition {
                            completed_at: r.completed_at,
                            id: r.id.clone(),
                        });
                        Some((Ok(rows), st))
                    }
                    Err(e) => {
                        st.done = true;
                        Some((Err(AppError::from(e)), st))
                    }
                }
            }
        },
    )
    .boxed()
}

/// The servers results since `since` were measured against.
pub async fn servers_seen(app: &App, since: Timestamp) -> Result<Vec<SeenServer>, AppError> {
    Ok(app.storage.servers_seen(since).await?)
}

/// Per-server averages over `since <= completed_at < until`.
pub async fn server_summaries(
    app: &App,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<ServerSummary>, AppError> {
    Ok(app.storage.server_summaries(since, until).await?)
}

/// A connection's chart samples over `since <= completed_at < until`.
pub async fn series_samples(
    app: &App,
    connection: &ConnectionId,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<SeriesSample>, AppError> {
    Ok(app.storage.series_samples(connection, since, until).await?)
}
