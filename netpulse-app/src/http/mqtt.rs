//! `/api/v1/integrations/mqtt`: the MQTT / Home Assistant settings. The password is
//! write-only: answers say whether one is set (`passwordSet`), never what it is.

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::error::AppError;
use crate::http::auth::RestAuth;
use crate::http::payload::{Fields, JsonBody};
use crate::http::problem::ApiError;
use crate::service::App;
use crate::service::mqtt::{self, MqttInput, MqttView};

#[derive(Tags)]
enum Tag {
    /// Integrations: MQTT and Home Assistant discovery.
    Integrations,
}

/// The publisher's counters in this process.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct MqttStatusDto {
    /// A broker connection is configured and kept up.
    pub running: bool,
    /// It is connected to the broker now.
    pub connected: bool,
    /// Messages queued for the broker.
    pub queued: u64,
    /// Messages dropped because the queue was full (broker down or slow).
    pub dropped: u64,
    /// QoS 1 messages the broker acknowledged.
    pub acked: u64,
    /// Failed connection attempts and lost connections (refused certificate, wrong host
    /// name, broker down, credentials refused).
    pub connection_failures: u64,
    /// The newest failure's error (cleared by a successful connect).
    pub last_error: Option<String>,
}

/// The MQTT settings.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct MqttSettingsDto {
    /// Publishing is on.
    pub enabled: bool,
    /// `mqtt://host[:port]` or `mqtts://host[:port]` (TLS, system roots); empty before the first save.
    pub broker_url: String,
    /// The MQTT client id.
    pub client_id: String,
    /// The user name.
    #[oai(nullable)]
    pub user: Option<String>,
    /// A password is stored (it is never shown).
    pub password_set: bool,
    /// Prefix of every topic (`<prefix>/status`, `<prefix>/probe/…`).
    pub topic_prefix: String,
    /// Home Assistant MQTT discovery configs are published.
    pub discovery: bool,
    /// Home Assistant's discovery prefix.
    pub discovery_prefix: String,
    /// State topics are retained.
    pub retain: bool,
    /// The custom CA (PEM) the broker's certificate is checked against (`mqtts://` only;
    /// absent: the system's roots).
    pub ca_pem: Option<String>,
    /// The publisher's counters (absent when the integration does not run in this process).
    pub status: Option<MqttStatusDto>,
}

/// New MQTT settings. Omitted optional keys take their default; an omitted `password` keeps
/// the stored one, `null` or `""` removes it.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
pub struct MqttSettingsInputDto {
    /// Publishing on.
    pub enabled: bool,
    /// `mqtt://host[:port]` or `mqtts://host[:port]`; required when enabled.
    pub broker_url: Option<String>,
    /// Client id: 1–64 of letters, digits, `-`, `_`, `.` (default: the stored one, else `netpulse-<random>`).
    pub client_id: Option<String>,
    /// User name (blank: none).
    #[oai(nullable)]
    pub user: Option<String>,
    /// Password (write-only).
    #[oai(nullable)]
    pub password: Option<String>,
    /// Topic prefix (default `netpulse`).
    pub topic_prefix: Option<String>,
    /// Home Assistant discovery (default true).
    pub discovery: Option<bool>,
    /// Discovery prefix (default `homeassistant`).
    pub discovery_prefix: Option<String>,
    /// Retain state topics (default true).
    pub retain: Option<bool>,
    /// Custom CA for `mqtts://`: one or more PEM certificates (omitted: keep the stored one;
    /// `null` or `""`: none, the system's roots).
    #[oai(nullable)]
    pub ca_pem: Option<String>,
}

fn dto(v: MqttView) -> MqttSettingsDto {
    MqttSettingsDto {
        enabled: v.enabled,
        broker_url: v.broker_url,
        client_id: v.client_id,
        user: v.user,
        password_set: v.password_set,
        topic_prefix: v.topic_prefix,
        discovery: v.discovery,
        discovery_prefix: v.discovery_prefix,
        retain: v.retain,
        ca_pem: v.ca_pem,
        status: v.status.map(|s| MqttStatusDto {
            running: s.running,
            connected: s.connected,
            queued: s.queued,
            dropped: s.dropped,
            acked: s.acked,
            connection_failures: s.failures,
            last_error: s.last_error,
        }),
    }
}

const KEYS: [&str; 10] = [
    "enabled",
    "brokerUrl",
    "clientId",
    "user",
    "password",
    "topicPrefix",
    "discovery",
    "discoveryPrefix",
    "retain",
    "caPem",
];

fn input_of(f: &Fields<'_>) -> Result<MqttInput, AppError> {
    f.only(&KEYS)?;
    let enabled = f
        .opt_bool("enabled")?
        .ok_or_else(|| AppError::invalid("enabled", "is required"))?;
    Ok(MqttInput {
        enabled,
        broker_url: f.opt_string("brokerUrl")?.unwrap_or_default().to_owned(),
        client_id: f.opt_string("clientId")?.map(str::to_owned),
        user: f.opt_string("user")?.map(str::to_owned),
        password: f
            .nullable_string("password")?
            .map(Option::unwrap_or_default),
        topic_prefix: f.opt_string("topicPrefix")?.map(str::to_owned),
        discovery: f.opt_bool("discovery")?,
        discovery_prefix: f.opt_string("discoveryPrefix")?.map(str::to_owned),
        retain: f.opt_bool("retain")?,
        ca_pem: f.nullable_string("caPem")?.map(Option::unwrap_or_default),
    })
}

/// The integration endpoints.
#[derive(Debug)]
pub struct MqttApi {
    /// The services.
    pub app: App,
}

#[OpenApi(prefix_path = "/v1")]
impl MqttApi {
    /// The MQTT / Home Assistant settings and the publisher's counters.
    #[oai(path = "/integrations/mqtt", method = "get", tag = "Tag::Integrations")]
    async fn get_mqtt(&self, _auth: RestAuth) -> Result<Json<MqttSettingsDto>, ApiError> {
        Ok(Json(dto(mqtt::get(&self.app).await?)))
    }

    /// Replaces the MQTT settings and reconnects with them (no restart).
    #[oai(path = "/integrations/mqtt", method = "put", tag = "Tag::Integrations")]
    async fn put_mqtt(
        &self,
        _auth: RestAuth,
        body: JsonBody<MqttSettingsInputDto>,
    ) -> Result<Json<MqttSettingsDto>, ApiError> {
        let input = input_of(&Fields::of(&body.value)?)?;
        Ok(Json(dto(mqtt::save(&self.app, &input).await?)))
    }
}
