//! The MQTT / Home Assistant section of `/settings` and its form (`POST /settings/mqtt`). The
//! password is write-only: the page says whether one is stored, never what it is.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, Request, Response, handler};
use serde::Serialize;

use crate::error::AppError;
use crate::service::mqtt::{self, MqttInput, MqttView};
use crate::web::Web;
use crate::web::forms::{FieldErrors, FormData};
use crate::web::guard::redirect;

/// The section's data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MqttForm {
    /// Shown (the viewer may change settings).
    pub shown: bool,
    /// Publishing on.
    pub enabled: bool,
    /// The broker URL.
    pub broker_url: String,
    /// The client id.
    pub client_id: String,
    /// The user.
    pub user: String,
    /// A password is stored.
    pub password_set: bool,
    /// The topic prefix.
    pub topic_prefix: String,
    /// Home Assistant discovery on.
    pub discovery: bool,
    /// Its prefix.
    pub discovery_prefix: String,
    /// State topics retained.
    pub retain: bool,
    /// The custom CA (PEM; empty: the system's roots).
    pub ca_pem: String,
    /// The publisher's state in words (empty when it does not run in this process).
    pub status: String,
}

fn form_of(v: MqttView) -> MqttForm {
    let status = v.status.map_or_else(String::new, |s| {
        if s.running {
            format!(
                "{}; {} messages queued, {} acknowledged, {} dropped (broker down or slow); {} failed connection attempts.{}",
                if s.connected {
                    "Connected"
                } else {
                    "Not connected"
                },
                s.queued,
                s.acked,
                s.dropped,
                s.failures,
                s.last_error
                    .as_ref()
                    .map_or_else(String::new, |e| format!(" Last error: {e}."))
            )
        } else {
            "Not publishing.".to_owned()
        }
    });
    MqttForm {
        shown: true,
        enabled: v.enabled,
        broker_url: v.broker_url,
        client_id: v.client_id,
        user: v.user.unwrap_or_default(),
        password_set: v.password_set,
        topic_prefix: v.topic_prefix,
        discovery: v.discovery,
        discovery_prefix: v.discovery_prefix,
        retain: v.retain,
        ca_pem: v.ca_pem.unwrap_or_default(),
        status,
    }
}

/// The section as stored.
pub(crate) async fn form(web: &Web) -> Result<MqttForm, AppError> {
    Ok(form_of(mqtt::get(&web.app).await?))
}

fn input_of(f: &FormData) -> MqttInput {
    let password = f.raw("password");
    MqttInput {
        enabled: f.checked("enabled"),
        broker_url: f.get("broker_url"),
        client_id: Some(f.get("client_id")),
        user: Some(f.get("user")),
        // An empty field keeps the stored password; the checkbox removes it.
        password: if f.checked("clear_password") {
            Some(String::new())
        } else if password.is_empty() {
            None
        } else {
            Some(password)
        },
        topic_prefix: Some(f.get("topic_prefix")),
        discovery: Some(f.checked("discovery")),
        discovery_prefix: Some(f.get("discovery_prefix")),
        retain: Some(f.checked("retain")),
        ca_pem: Some(f.raw("ca_pem")),
    }
}

/// `POST /settings/mqtt`: saves and reconnects.
#[handler]
pub(crate) async fn save(req: &Request, web: Data<&Web>, body: Body) -> Response {
    let form = FormData::read(body).await;
    let input = input_of(&form);
    match mqtt::save(&web.app, &input).await {
        Ok(_) => redirect("/settings?saved=mqtt#mqtt"),
        Err(AppError::Invalid { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(&field, message);
            super::settings::respond(&web, req, StatusCode::UNPROCESSABLE_ENTITY, move |p| {
                p.mqtt = MqttForm {
                    shown: true,
                    enabled: input.enabled,
                    broker_url: input.broker_url,
                    client_id: input.client_id.unwrap_or_default(),
                    user: input.user.unwrap_or_default(),
                    password_set: p.mqtt.password_set,
                    topic_prefix: input.topic_prefix.unwrap_or_default(),
                    discovery: input.discovery.unwrap_or_default(),
                    discovery_prefix: input.discovery_prefix.unwrap_or_default(),
                    retain: input.retain.unwrap_or_default(),
                    ca_pem: input.ca_pem.unwrap_or_default(),
                    status: p.mqtt.status.clone(),
                };
                p.errors = errors;
            })
            .await
        }
        Err(e) => super::app_error(&web, req, &e).await,
    }
}
