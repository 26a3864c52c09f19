//! The MQTT / Home Assistant integration: its settings (stored in the `settings` table under
//! [`KEY`], the password sealed with the channel-secret key and never shown again), and the
//! snapshot of state rows its retained topics show. Saving the settings reconnects at once.
//! The retained topics published are kept under [`RETAINED_KEY`] (a JSON list), so a
//! restarted server empties those of connections and probes deleted while it was stopped.

use std::collections::{BTreeSet, HashMap};

use netpulse_domain::Timestamp;
use netpulse_domain::agent_state::State;
use netpulse_domain::mqtt::{self as rules, DEFAULT_DISCOVERY_PREFIX, DEFAULT_PREFIX};
use netpulse_ports::outage_store::{OutageFilter, OutageOrder};
use netpulse_ports::storage::{MeasurementFilter, MeasurementSort};
use serde::{Deserialize, Serialize};

use super::App;
use crate::error::AppError;
use crate::mqtt::{
    CheckView, ConnectionView, Mqtt, MqttConfig, MqttStatus, OutageView, ProbeView, Snapshot,
};

/// The settings' key.
pub const KEY: &str = "integrations.mqtt";
/// The settings' key of the retained topics last published.
pub const RETAINED_KEY: &str = "integrations.mqtt.retained";
/// The associated data of the sealed password.
const AAD: &str = "integrations.mqtt.password";

/// The settings as stored (the password sealed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Stored {
    enabled: bool,
    broker_url: String,
    client_id: String,
    user: Option<String>,
    sealed_password: Option<String>,
    topic_prefix: String,
    discovery: bool,
    discovery_prefix: String,
    retain: bool,
    /// A custom CA (PEM) for `mqtts://`.
    ca_pem: Option<String>,
}

/// The settings as shown (the password never: only whether one is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttView {
    /// Publishing is on.
    pub enabled: bool,
    /// `mqtt://host[:port]` or `mqtts://host[:port]` (empty before the first save).
    pub broker_url: String,
    /// The client id.
    pub client_id: String,
    /// The user name.
    pub user: Option<String>,
    /// A password is stored.
    pub password_set: bool,
    /// The topic prefix.
    pub topic_prefix: String,
    /// Home Assistant discovery on.
    pub discovery: bool,
    /// Its prefix.
    pub discovery_prefix: String,
    /// State topics are retained.
    pub retain: bool,
    /// The custom CA (PEM) for `mqtts://` (none: the system's roots).
    pub ca_pem: Option<String>,
    /// The engine's counters (`None` when it does not run in this process).
    pub status: Option<MqttStatus>,
}

/// A new set of settings; `password` `None` keeps the stored one, `Some("")` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttInput {
    /// Publishing on.
    pub enabled: bool,
    /// The broker URL (required when enabled).
    pub broker_url: String,
    /// The client id (blank: `netpulse-` and a random suffix).
    pub client_id: Option<String>,
    /// The user (blank: none).
    pub user: Option<String>,
    /// The password.
    pub password: Option<String>,
    /// The topic prefix (blank: `netpulse`).
    pub topic_prefix: Option<String>,
    /// Home Assistant discovery (default on).
    pub discovery: Option<bool>,
    /// Its prefix (blank: `homeassistant`).
    pub discovery_prefix: Option<String>,
    /// Retain the state topics (default on).
    pub retain: Option<bool>,
    /// A custom CA (PEM) for `mqtts://`; `None` keeps the stored one, `Some("")` removes it.
    pub ca_pem: Option<String>,
}

async fn stored(app: &App) -> Result<Option<Stored>, AppError> {
    let Some(text) = app.storage.setting(KEY).await? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| AppError::unavailable(format!("stored MQTT settings are unreadable: {e}")))
}

fn view(app: &App, s: Option<Stored>) -> MqttView {
    let s = s.unwrap_or_else(|| Stored {
        topic_prefix: DEFAULT_PREFIX.into(),
        discovery: true,
        discovery_prefix: DEFAULT_DISCOVERY_PREFIX.into(),
        retain: true,
        ..Stored::default()
    });
    MqttView {
        enabled: s.enabled,
        broker_url: s.broker_url,
        client_id: s.client_id,
        user: s.user,
        password_set: s.sealed_password.is_some(),
        topic_prefix: s.topic_prefix,
        discovery: s.discovery,
        discovery_prefix: s.discovery_prefix,
        retain: s.retain,
        ca_pem: s.ca_pem,
        status: app.mqtt.as_ref().map(|m| m.status()),
    }
}

/// The settings (defaults before the first save).
pub async fn get(app: &App) -> Result<MqttView, AppError> {
    Ok(view(app, stored(app).await?))
}

fn engine(app: &App) -> Result<&std::sync::Arc<Mqtt>, AppError> {
    app.mqtt
        .as_ref()
        .ok_or_else(|| AppError::unavailable("the MQTT integration is not running in this process"))
}

fn invalid(e: netpulse_domain::InvalidValue) -> AppError {
    AppError::invalid(e.field, e.rule)
}

/// Checks and stores `input`, then reconnects with it (or disconnects when disabled).
pub async fn save(app: &App, input: &MqttInput) -> Result<MqttView, AppError> {
    let engine = engine(app)?;
    let old = stored(app).await?.unwrap_or_default();
    let broker_url = input.broker_url.trim().to_owned();
    let tls = if input.enabled || !broker_url.is_empty() {
        rules::broker_url(&broker_url).map_err(invalid)?.tls
    } else {
        false
    };
    let ca_pem = match input.ca_pem.as_deref().map(str::trim) {
        None => old.ca_pem,
        Some("") => None,
        Some(pem) => {
            crate::mqtt::check_ca(pem).map_err(|rule| AppError::invalid("caPem", rule))?;
            Some(format!("{pem}\n"))
        }
    };
    if ca_pem.is_some() && !tls {
        return Err(AppError::invalid(
            "caPem",
            "is only used with an mqtts:// broker URL",
        ));
    }
    let fallback = &crate::ids::new_uuid()[..8];
    let client_id = match input.client_id.as_deref() {
        Some(c) => rules::client_id(c, fallback),
        None if !old.client_id.is_empty() => Ok(old.client_id.clone()),
        None => rules::client_id("", fallback),
    }
    .map_err(invalid)?;
    let user = rules::user(input.user.as_deref().unwrap_or_default()).map_err(invalid)?;
    let sealed_password = match input.password.as_deref() {
        None => old.sealed_password,
        Some("") => None,
        Some(p) => Some(
            engine
                .secrets()
                .seal(rules::password(p).map_err(invalid)?.as_bytes(), AAD),
        ),
    };
    let topic_prefix = rules::topic_prefix(
        "topicPrefix",
        input.topic_prefix.as_deref().unwrap_or_default(),
        DEFAULT_PREFIX,
    )
    .map_err(invalid)?;
    let discovery_prefix = rules::topic_prefix(
        "discoveryPrefix",
        input.discovery_prefix.as_deref().unwrap_or_default(),
        DEFAULT_DISCOVERY_PREFIX,
    )
    .map_err(invalid)?;
    let s = Stored {
        enabled: input.enabled,
        broker_url,
        client_id,
        user,
        sealed_password,
        topic_prefix,
        discovery: input.discovery.unwrap_or(true),
        discovery_prefix,
        retain: input.retain.unwrap_or(true),
        ca_pem,
    };
    let text = serde_json::to_string(&s).map_err(|e| AppError::unavailable(e.to_string()))?;
    app.storage.set_setting(KEY, &text, app.clock.now()).await?;
    engine.configure(config_of(engine, &s)?);
    super::audit::record(
        app,
        "settings.mqtt",
        "settings",
        format!("enabled {}, broker {}", s.enabled, s.broker_url),
    )
    .await?;
    Ok(view(app, Some(s)))
}

fn config_of(engine: &Mqtt, s: &Stored) -> Result<Option<MqttConfig>, AppError> {
    if !s.enabled {
        return Ok(None);
    }
    let broker = rules::broker_url(&s.broker_url).map_err(invalid)?;
    let password = match &s.sealed_password {
        Some(sealed) => {
            let plain = engine.secrets().open(sealed, AAD).map_err(|_| {
                AppError::unavailable(
                    "the stored MQTT password cannot be decrypted with this secret key",
                )
            })?;
            String::from_utf8(plain).map_err(|e| AppError::unavailable(e.to_string()))?
        }
        None => String::new(),
    };
    Ok(Some(MqttConfig {
        broker,
        client_id: s.client_id.clone(),
        credentials: s.user.clone().map(|u| (u, password)),
        prefix: s.topic_prefix.clone(),
        discovery: s.discovery,
        discovery_prefix: s.discovery_prefix.clone(),
        retain: s.retain,
        ca_pem: s.ca_pem.clone(),
    }))
}

/// Connects the engine with the stored settings (at startup).
pub async fn connect_stored(app: &App) -> Result<(), AppError> {
    let engine = engine(app)?;
    let config = match stored(app).await? {
        Some(s) => config_of(engine, &s)?,
        None => None,
    };
    engine.configure(config);
    Ok(())
}

/// Hands the engine the retained topics stored by the last run (at startup, once it runs):
/// the first sweep empties those it does not publish again. A storage error is returned (the
/// caller sweeps only after this worked, so the stored list is not overwritten first).
pub async fn restore_retained(app: &App) -> Result<(), AppError> {
    let engine = engine(app)?;
    let Some(text) = app.storage.setting(RETAINED_KEY).await? else {
        return Ok(());
    };
    // Unreadable (written by another version): nothing to empty; the next sweep rewrites it.
    match serde_json::from_str::<Vec<String>>(&text) {
        Ok(topics) => engine.clear_unless_wanted(topics),
        Err(e) => tracing::warn!("MQTT: the stored retained topics are unreadable: {e}"),
    }
    Ok(())
}

/// Stores the engine's retained topics when they differ from `last` (what this process
/// stored before), and remembers them in `last`.
pub async fn remember_retained(
    app: &App,
    last: &mut Option<BTreeSet<String>>,
) -> Result<(), AppError> {
    let engine = engine(app)?;
    let Some(topics) = engine.retained_topics() else {
        return Ok(());
    };
    if last.as_ref() == Some(&topics) {
        return Ok(());
    }
    let text = serde_json::to_string(&topics).map_err(|e| AppError::unavailable(e.to_string()))?;
    app.storage
        .set_setting(RETAINED_KEY, &text, app.clock.now())
        .await?;
    *last = Some(topics);
    Ok(())
}

/// Tells the engine that probes or connections changed (its sweep republishes at once).
pub fn changed(app: &App) {
    if let Some(m) = &app.mqtt {
        m.wake();
    }
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Online => "online",
        State::Degraded => "degraded",
        State::Offline => "offline",
        State::Maintenance => "maintenance",
    }
}

/// What the retained topics show now, from the state rows (and each connection's newest
/// result, and each series' newest closed outage when none is open).
pub async fn snapshot(app: &App) -> Result<Snapshot, AppError> {
    let now = app.clock.now();
    let probes = app.storage.probes().await?;
    let statuses = super::fleet::statuses(app, &probes, now).await?;
    let mut connections = Vec::new();
    let mut last_test: HashMap<String, Timestamp> = HashMap::new();
    for c in app.storage.connections(None).await? {
        let filter = MeasurementFilter {
            connection: Some(c.id.clone()),
            ..MeasurementFilter::default()
        };
        let latest = app
            .storage
            .measurements(&filter, MeasurementSort::CompletedDesc, 1, None)
            .await?
            .items
            .into_iter()
            .next();
        if let Some(m) = &latest {
            let t = last_test
                .entry(c.probe_id.as_str().to_owned())
                .or_insert(m.completed_at);
            *t = (*t).max(m.completed_at);
        }
        connections.push(ConnectionView {
            id: c.id.clone(),
            probe_id: c.probe_id.clone(),
            name: c.name.as_str().to_owned(),
            latest,
        });
    }
    let names: HashMap<_, _> = app
        .storage
        .checks(None)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let checks = app
        .storage
        .check_states(None)
        .await?
        .into_iter()
        .filter_map(|state| {
            let check = names.get(&state.check_id)?;
            Some(CheckView {
                name: check.spec.target.clone(),
                kind: check.spec.kind.as_str(),
                state,
            })
        })
        .collect();
    let mut outages = Vec::new();
    for series in app.storage.outage_series(None).await? {
        let open_since = series
            .open
            .as_ref()
            .map(|o| Timestamp::from_unix_millis(o.episode.started_at_ms));
        let closed_since = if open_since.is_none() {
            let filter = OutageFilter {
                probe: Some(series.probe_id.clone()),
                family: Some(series.family),
                ..OutageFilter::default()
            };
            app.storage
                .outages(&filter, OutageOrder::Latest, 1, None)
                .await?
                .items
                .first()
                .and_then(|o| o.episode.ended_at_ms())
                .map(Timestamp::from_unix_millis)
        } else {
            None
        };
        outages.push(OutageView {
            probe_id: series.probe_id,
            family: series.family,
            open_since,
            closed_since,
            last_round_at: series.last_round_at,
        });
    }
    Ok(Snapshot {
        probes: probes
            .iter()
            .map(|p| ProbeView {
                id: p.id.clone(),
                name: p.name.as_str().to_owned(),
                state: statuses
                    .get(&p.id)
                    .map_or("offline", |s| state_name(s.verdict.state)),
                last_seen: p.last_poll_at,
                last_test: last_test.get(p.id.as_str()).copied(),
            })
            .collect(),
        connections,
        checks,
        outages,
    })
}
