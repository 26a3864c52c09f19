//! Starts the MQTT / Home Assistant engine: registers its listener with ingest, connects with
//! the stored settings and runs the sweep that keeps the retained topics current (every
//! `every`, at once after a (re)connect, a settings change or a probe/connection change). Once
//! it runs, it first hands the engine the retained topics the last run stored (so what was
//! deleted while the server was stopped is emptied), and after each sweep stores them again.

use std::sync::Arc;
use std::time::Duration;

use netpulse_adapters::secrets::SecretBox;

use crate::mqtt::Mqtt;
use crate::service::App;

/// The sweep; stops when dropped.
#[derive(Debug)]
pub struct MqttTask {
    /// The engine.
    pub engine: Arc<Mqtt>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MqttTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MqttTask {
    /// Says `offline` and disconnects cleanly.
    pub async fn shutdown(self) {
        self.task.abort();
        self.engine.configure(None);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts the engine over `app` (its listener joins `app.listeners`, `app.mqtt` serves the
/// settings use cases). Must be called inside Tokio, before `app` is cloned into the server.
pub fn start(app: &mut App, secrets: Arc<SecretBox>, every: Duration) -> MqttTask {
    let engine = Mqtt::new(secrets);
    app.listeners.push(engine.listener());
    app.mqtt = Some(Arc::clone(&engine));
    let app = app.clone();
    let task = tokio::spawn(async move {
        let Some(engine) = app.mqtt.clone() else {
            return;
        };
        let mut swept: Option<tokio::time::Instant> = None;
        let mut reloaded: Option<tokio::time::Instant> = None;
        let mut failed: Option<String> = None;
        let mut dropped = 0;
        let mut due = true;
        let mut restored = false;
        let mut stored_topics = None;
        loop {
            // The stored settings again (another process may have changed them): a no-op
            // while they are unchanged.
            if reloaded.is_none_or(|t| t.elapsed() >= every) {
                reloaded = Some(tokio::time::Instant::now());
                match crate::service::mqtt::connect_stored(&app).await {
                    Ok(()) => failed = None,
                    Err(e) if failed.as_deref() != Some(e.to_string().as_str()) => {
                        e.log("MQTT: not started from the stored settings");
                        tracing::warn!("MQTT: not started from the stored settings: {e}");
                        failed = Some(e.to_string());
                    }
                    Err(_) => {}
                }
            }
            if engine.running() && !restored {
                match crate::service::mqtt::restore_retained(&app).await {
                    Ok(()) => restored = true,
                    Err(e) => e.log("MQTT: cannot read the retained topics of the last run"),
                }
            }
            let stale = swept.is_none_or(|t| t.elapsed() >= every);
            // No sweep before the last run's topics are back (it would overwrite them).
            if engine.running() && restored && (due || stale || engine.reconnected()) {
                due = false;
                swept = Some(tokio::time::Instant::now());
                match crate::service::mqtt::snapshot(&app).await {
                    Ok(s) => engine.apply(&s),
                    Err(e) => e.log("MQTT: cannot read the state to publish"),
                }
                if let Err(e) =
                    crate::service::mqtt::remember_retained(&app, &mut stored_topics).await
                {
                    e.log("MQTT: cannot store the retained topics");
                }
                let now = engine.status().dropped;
                if now > dropped {
                    tracing::warn!(
                        dropped = now - dropped,
                        total = now,
                        "MQTT: messages dropped (the broker is down or slow)"
                    );
                    dropped = now;
                }
            }
            tokio::select! {
                () = engine.woken() => due = true,
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    });
    MqttTask { engine, task }
}
