//! `/notifications/deliveries`: the delivery log, newest first.

use netpulse_domain::Timestamp;
use netpulse_ports::notification_store::DeliveryLogEntry;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use crate::http::auth::RestAuth;
use crate::http::problem::ApiError;
use crate::service::App;
use crate::service::notifications::deliveries;

/// One line of the delivery log.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct DeliveryDto {
    /// The delivery.
    pub id: String,
    /// The notification (shared by its deliveries to several channels).
    pub notification_id: String,
    /// alert, recovery, probe_offline, probe_back or digest.
    pub kind: String,
    /// Its subject.
    pub subject: String,
    /// The channel.
    pub channel_id: String,
    /// The channel's name (empty once deleted).
    pub channel_name: String,
    /// The channel's type (null once deleted).
    pub channel_type: Option<String>,
    /// pending, held (quiet hours), sending, sent or failed.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt (pending or held), RFC 3339.
    pub next_attempt_at: Option<String>,
    /// The last error.
    pub last_error: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// A page of the delivery log, newest first.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct DeliveryPageDto {
    /// The lines.
    pub items: Vec<DeliveryDto>,
    /// Pass as `before` for the next page.
    pub next_cursor: Option<String>,
}

fn delivery_dto(d: DeliveryLogEntry) -> DeliveryDto {
    DeliveryDto {
        id: d.id,
        notification_id: d.notification_id,
        kind: d.kind.as_str().to_owned(),
        subject: d.subject,
        channel_id: d.channel_id,
        channel_name: d.channel_name,
        channel_type: d.channel_kind.map(|k| k.as_str().to_owned()),
        status: d.status.as_str().to_owned(),
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at.map(Timestamp::to_rfc3339),
        last_error: d.last_error,
        created_at: d.created_at.to_rfc3339(),
        updated_at: d.updated_at.to_rfc3339(),
    }
}

/// The delivery-log endpoint.
#[derive(Debug)]
pub struct DeliveriesApi {
    /// The services.
    pub app: App,
}

#[OpenApi(prefix_path = "/v1")]
impl DeliveriesApi {
    /// The delivery log, newest first.
    #[oai(
        path = "/notifications/deliveries",
        method = "get",
        tag = "Tag::Notifications"
    )]
    async fn deliveries(
        &self,
        _auth: RestAuth,
        /// 1–500, default 50.
        limit: Query<Option<u32>>,
        /// The `nextCursor` of the previous page.
        before: Query<Option<String>>,
    ) -> Result<Json<DeliveryPageDto>, ApiError> {
        let page = deliveries::page(&self.app, limit.0, before.0.as_deref()).await?;
        Ok(Json(DeliveryPageDto {
            items: page.items.into_iter().map(delivery_dto).collect(),
            next_cursor: page.next_cursor,
        }))
    }
}
