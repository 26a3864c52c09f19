//! The CSV export `/history/export.csv`: the same filters as the list, every matching row
//! newest first, streamed in chunks with no row cap (memory stays constant).

use std::collections::HashMap;

use futures_util::StreamExt as _;
use netpulse_domain::model::Connection;
use netpulse_ports::web_store::ExportRow;
use poem::web::{Data, Query};
use poem::{Body, Request, Response, handler};

use super::filters::{HistoryQuery, filter_of};
use crate::error::AppError;
use crate::service::{connections, measurements};
use crate::web::settings;
use crate::web::{Web, pages};

pub use crate::service::measurements::EXPORT_CHUNK;

/// A CSV field: quoted when needed, and with a leading `'` when a spreadsheet would read it as
/// a formula (CSV injection).
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err()
    {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn number(v: Option<f64>, scale: f64) -> String {
    v.filter(|v| v.is_finite()).map_or_else(String::new, |v| {
        let r = (v * scale * 100.0).round() / 100.0;
        let s = format!("{r:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    })
}

/// The CSV header.
pub const CSV_HEADER: &str = "id,completed_at,connection_name,connection_isp,server_id,server_name,server_location,\
engine,scheduled,download_mbps,upload_mbps,ping_ms,jitter_ms,packet_loss_pct,status,healthy,breaches,fail_reason\n";

/// One CSV line.
pub fn csv_line(r: &ExportRow, c: Option<&Connection>, tz: &jiff::tz::TimeZone) -> String {
    let at = jiff::Timestamp::from_millisecond(r.completed_at.unix_millis())
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default();
    let fields = [
        r.id.as_str().to_owned(),
        at,
        c.map_or_else(String::new, |c| c.name.as_str().to_owned()),
        c.map_or_else(String::new, |c| c.isp.clone()),
        r.server.id.clone(),
        r.server.name.clone().unwrap_or_default(),
        r.server.location.clone().unwrap_or_default(),
        r.engine.clone(),
        if r.scheduled { "1" } else { "0" }.to_owned(),
        number(r.download_bps, 1e-6),
        number(r.upload_bps, 1e-6),
        number(r.ping_ms, 1.0),
        number(r.jitter_ms, 1.0),
        number(r.packet_loss_percent, 1.0),
        if r.completed { "completed" } else { "failed" }.to_owned(),
        if r.healthy { "1" } else { "0" }.to_owned(),
        r.breaches.clone(),
        r.failure.clone().unwrap_or_default(),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// `GET /history/export.csv`: every matching row, newest first, streamed in chunks of
/// [`EXPORT_CHUNK`] (keyset: each chunk continues after the previous one's last row).
#[handler]
pub(crate) async fn export(
    req: &Request,
    web: Data<&Web>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let prepared = async {
        let site = settings::load(&web).await?;
        let filter = filter_of(&q, web.app.clock.now(), &site)?;
        let connections: HashMap<String, Connection> = connections::list(&web.app, None)
            .await?
            .into_iter()
            .map(|c| (c.id.as_str().to_owned(), c))
            .collect();
        Ok::<_, AppError>((site, filter, connections))
    }
    .await;
    let (site, filter, connections) = match prepared {
        Ok(v) => v,
        Err(e) => return pages::app_error(&web, req, &e).await,
    };
    let now = web.app.clock.now().unix_seconds();
    let tz = site.tz.clone();
    let rows = measurements::export(&web.app, filter).map(move |chunk| match chunk {
        Ok(rows) => {
            let mut text = String::with_capacity(rows.len() * 160);
            for r in &rows {
                text.push_str(&csv_line(r, connections.get(r.connection_id.as_str()), &tz));
            }
            Ok(bytes::Bytes::from(text))
        }
        Err(e) => {
            tracing::error!(error = %e, "CSV export failed midway");
            Err(std::io::Error::other(e.to_string()))
        }
    });
    let stream = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(bytes::Bytes::from(CSV_HEADER))
    })
    .chain(rows)
    .boxed();
    Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header(
            "Content-Disposition",
            format!("attachment; filename=\"netpulse-history-{now}.csv\""),
        )
        .header("Cache-Control", "no-store")
        .body(Body::from_bytes_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-3.5"), "-3.5");
        assert_eq!(number(Some(935e6), 1e-6), "935");
        assert_eq!(number(Some(9.5e6), 1e-6), "9.5");
        assert_eq!(number(Some(12.345), 1.0), "12.35");
        assert_eq!(number(Some(0.0), 1.0), "0");
        assert_eq!(number(None, 1.0), "");
    }
}
