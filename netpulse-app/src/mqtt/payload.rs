//! The topics and JSON payloads NetPulse publishes, and Home Assistant's discovery configs
//! (<https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery>). Pure functions of the
//! data handed in, so the same state always gives the same bytes (retained topics are only
//! republished when their payload changes).

use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::Measurement;
use netpulse_domain::mqtt::mbps;
use serde_json::{Value, json};

use super::{ConnectionView, OutageView, ProbeView};

/// `<prefix>/status`.
pub fn status_topic(prefix: &str) -> String {
    format!("{prefix}/status")
}

/// `<prefix>/probe/<probe>`.
fn probe_base(prefix: &str, probe: &ProbeId) -> String {
    format!("{prefix}/probe/{}", probe.as_str())
}

/// `<prefix>/probe/<probe>/state`.
pub fn probe_topic(prefix: &str, probe: &ProbeId) -> String {
    format!("{}/state", probe_base(prefix, probe))
}

/// `<prefix>/probe/<probe>/connection/<conn>/result` (each result, not retained).
pub fn result_topic(prefix: &str, probe: &ProbeId, conn: &ConnectionId) -> String {
    format!(
        "{}/connection/{}/result",
        probe_base(prefix, probe),
        conn.as_str()
    )
}

/// `<prefix>/probe/<probe>/connection/<conn>/state` (the latest result, retained).
pub fn connection_topic(prefix: &str, probe: &ProbeId, conn: &ConnectionId) -> String {
    format!(
        "{}/connection/{}/state",
        probe_base(prefix, probe),
        conn.as_str()
    )
}

fn ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

/// The JSON of one recorded result.
pub fn result(m: &Measurement) -> Value {
    let o = &m.observation;
    json!({
        "resultId": m.id.as_str(),
        "probeId": m.probe_id.as_str(),
        "connectionId": m.connection_id.as_str(),
        "engine": m.engine.as_str(),
        "startedAt": m.started_at.to_rfc3339(),
        "completedAt": m.completed_at.to_rfc3339(),
        "scheduled": m.scheduled,
        "completed": o.completed(),
        "healthy": m.verdict.healthy(),
        "breaches": m.verdict.breaches.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
        "failure": o.failure.as_ref().map(|f| json!({"class": f.class.as_str(), "message": f.message})),
        "download": o.download_bps.map(mbps),
        "upload": o.upload_bps.map(mbps),
        "ping": o.ping_ms,
        "jitter": o.jitter_ms,
        "loss": o.packet_loss_percent,
        "serverId": o.server.id,
    })
}

/// A connection's state from its latest result (`None`: no result yet).
pub fn connection_state(
    probe: &ProbeId,
    conn: &ConnectionId,
    latest: Option<&Measurement>,
) -> Value {
    let Some(m) = latest else {
        return json!({
            "probeId": probe.as_str(), "connectionId": conn.as_str(), "health": "unknown",
            "lastTest": null, "resultId": null, "download": null, "upload": null,
            "ping": null, "jitter": null, "loss": null,
        });
    };
    let o = &m.observation;
    let health = if o.completed() && m.verdict.healthy() {
        "healthy"
    } else {
        "unhealthy"
    };
    json!({
        "probeId": probe.as_str(),
        "connectionId": conn.as_str(),
        "health": health,
        "lastTest": m.completed_at.to_rfc3339(),
        "resultId": m.id.as_str(),
        "download": o.download_bps.map(mbps),
        "upload": o.upload_bps.map(mbps),
        "ping": o.ping_ms,
        "jitter": o.jitter_ms,
        "loss": o.packet_loss_percent,
    })
}

/// Every retained state message of a snapshot: (topic, payload).
pub fn states(prefix: &str, s: &super::Snapshot) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in &s.probes {
        out.push((probe_topic(prefix, &p.id), probe_state(p).to_string()));
    }
    for c in &s.connections {
        out.push((
            connection_topic(prefix, &c.probe_id, &c.id),
            connection_state(&c.probe_id, &c.id, c.latest.as_ref()).to_string(),
        ));
    }
    for c in &s.checks {
        let st = &c.state;
        out.push((
            format!(
                "{}/check/{}/{}/state",
                probe_base(prefix, &st.probe_id),
                st.check_id.as_str(),
                st.family.as_str()
            ),
            json!({
                "checkId": st.check_id.as_str(),
                "name": c.name,
                "kind": c.kind,
                "family": st.family.as_str(),
                "outcome": st.outcome.as_str(),
                "roundAt": st.round_at.to_rfc3339(),
                "latencyMs": st.latency_ms,
                "lossPct": st.loss_pct,
                "degraded": st.degraded,
                "alerting": st.alerting,
                "message": st.message,
            })
            .to_string(),
        ));
    }
    for o in &s.outages {
        out.push((
            format!(
                "{}/outage/{}/state",
                probe_base(prefix, &o.probe_id),
                o.family.as_str()
            ),
            outage_state(o).to_string(),
        ));
    }
    out
}

fn probe_state(p: &ProbeView) -> Value {
    json!({
        "probeId": p.id.as_str(),
        "name": p.name,
        "state": p.state,
        "lastSeen": ts(p.last_seen),
        "lastTest": ts(p.last_test),
    })
}

fn outage_state(o: &OutageView) -> Value {
    let (state, since) = match o.open_since {
        Some(t) => ("open", Some(t)),
        None => ("closed", o.closed_since),
    };
    json!({
        "probeId": o.probe_id.as_str(),
        "family": o.family.as_str(),
        "state": state,
        "since": ts(since),
        "lastRoundAt": ts(o.last_round_at),
    })
}

/// One Home Assistant entity: its component, its object id and its config.
struct Entity {
    component: &'static str,
    object: String,
    config: Value,
}

fn probe_device(p: &ProbeView) -> Value {
    json!({
        "identifiers": [format!("netpulse_probe_{}", p.id.as_str())],
        "name": format!("NetPulse {}", p.name),
        "manufacturer": "NetPulse",
        "model": "Probe",
        "sw_version": env!("CARGO_PKG_VERSION"),
    })
}

fn connection_device(c: &ConnectionView, probe_name: &str) -> Value {
    json!({
        "identifiers": [format!("netpulse_connection_{}", c.id.as_str())],
        "name": format!("NetPulse {probe_name} {}", c.name),
        "manufacturer": "NetPulse",
        "model": "Connection",
        "via_device": format!("netpulse_probe_{}", c.probe_id.as_str()),
    })
}

fn origin() -> Value {
    json!({"name": "NetPulse", "sw_version": env!("CARGO_PKG_VERSION")})
}

/// The discovery configs of a snapshot: (topic, payload), retained.
pub fn discovery(prefix: &str, ha: &str, s: &super::Snapshot) -> Vec<(String, String)> {
    let status = status_topic(prefix);
    let mut entities = Vec::new();
    for p in &s.probes {
        let state = probe_topic(prefix, &p.id);
        let id = p.id.as_str();
        let device = probe_device(p);
        let start = entities.len();
        entities.push(Entity {
            component: "sensor",
            object: format!("netpulse_{id}_health"),
            config: json!({
                "name": "Health", "device_class": "enum",
                "options": ["online", "degraded", "offline", "maintenance"],
                "value_template": "{{ value_json.state }}", "icon": "mdi:access-point-network",
            }),
        });
        entities.push(Entity {
            component: "binary_sensor",
            object: format!("netpulse_{id}_availability"),
            config: json!({
                "name": "Availability", "device_class": "connectivity",
                "value_template": "{{ 'ON' if value_json.state in ['online', 'degraded'] else 'OFF' }}",
            }),
        });
        entities.push(last_test(id));
        for e in &mut entities[start..] {
            complete(&mut e.config, &e.object, &state, &status, &device);
        }
    }
    let probe_names: std::collections::HashMap<_, _> =
        s.probes.iter().map(|p| (&p.id, p.name.as_str())).collect();
    for c in &s.connections {
        let probe_name = probe_names.get(&c.probe_id).copied().unwrap_or("");
        let state = connection_topic(prefix, &c.probe_id, &c.id);
        let id = c.id.as_str();
        let device = connection_device(c, probe_name);
        let start = entities.len();
        for (key, name, unit, class) in [
            ("download", "Download", "Mbit/s", Some("data_rate")),
            ("upload", "Upload", "Mbit/s", Some("data_rate")),
            ("ping", "Ping", "ms", Some("duration")),
            ("jitter", "Jitter", "ms", Some("duration")),
            ("loss", "Packet loss", "%", None),
        ] {
            let mut config = json!({
                "name": name, "unit_of_measurement": unit, "state_class": "measurement",
                "value_template": format!("{{{{ value_json.{key} }}}}"),
            });
            if let Some(class) = class {
                config["device_class"] = json!(class);
            } else {
                config["icon"] = json!("mdi:package-variant-remove");
            }
            entities.push(Entity {
                component: "sensor",
                object: format!("netpulse_{id}_{key}"),
                config,
            });
        }
        entities.push(Entity {
            component: "binary_sensor",
            object: format!("netpulse_{id}_health"),
            config: json!({
                "name": "Problem", "device_class": "problem",
                "value_template": "{{ 'ON' if value_json.health == 'unhealthy' else 'OFF' }}",
            }),
        });
        entities.push(last_test(id));
        for e in &mut entities[start..] {
            complete(&mut e.config, &e.object, &state, &status, &device);
        }
    }
    entities
        .into_iter()
        .map(|e| {
            (
                format!("{ha}/{}/{}/config", e.component, e.object),
                e.config.to_string(),
            )
        })
        .collect()
}

/// The "Last test" timestamp sensor of a probe's or connection's state topic.
fn last_test(id: &str) -> Entity {
    Entity {
        component: "sensor",
        object: format!("netpulse_{id}_last_test"),
        config: json!({
            "name": "Last test", "device_class": "timestamp",
            "value_template": "{{ value_json.lastTest }}",
        }),
    }
}

fn complete(config: &mut Value, object: &str, state: &str, status: &str, device: &Value) {
    config["unique_id"] = json!(object);
    config["state_topic"] = json!(state);
    config["availability_topic"] = json!(status);
    config["payload_available"] = json!(netpulse_adapters::mqtt::ONLINE);
    config["payload_not_available"] = json!(netpulse_adapters::mqtt::OFFLINE);
    config["device"] = device.clone();
    config["origin"] = origin();
}
