//! Incidents `/incidents`: a page shell whose Alpine component (`static/alerting.js`,
//! `incidents`) lists open, acknowledged or resolved incidents of every kind (connection alerts
//! and outages, the `entries` of `GET /api/v1/incidents?state=…`) with their subject, severity
//! and state, and acknowledges one with `POST /api/v1/incidents/{id}/ack` or
//! `/outage-incidents/{id}/ack` (the button is shown to roles with `alerts:ack`; the API
//! decides).

use poem::web::Data;
use poem::{Request, Response, handler};
use serde::Serialize;

use crate::web::{Web, pages};

/// The page's data (the incidents come from the API in the browser).
#[derive(Debug, Clone, Default, Serialize)]
pub struct IncidentsPage {
    /// The states to filter by, in tab order.
    pub states: Vec<&'static str>,
}

/// `GET /incidents`.
#[handler]
pub(crate) async fn show(req: &Request, web: Data<&Web>) -> Response {
    pages::show(
        req,
        &web,
        "incidents.html",
        "Incidents",
        "incidents",
        async |_site| {
            Ok(IncidentsPage {
                states: vec!["open", "acked", "resolved"],
            })
        },
    )
    .await
}
