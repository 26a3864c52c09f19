//! Alert edges: ingest hands the listener each recorded measurement with the edge the storage
//! claimed; a background task opens or closes the connection's incident and queues the alert
//! or recovery (an alert in a maintenance window, or while notifications are off, waits for
//! housekeeping).

use std::sync::Arc;

use netpulse_domain::Timestamp;
use netpulse_domain::alert::AlertEdge;
use netpulse_domain::id::ConnectionId;
use netpulse_domain::model::Measurement;
use netpulse_domain::notify::{Announcement, announce_alert, announce_recovery};
use netpulse_ports::listener::RecordListener;
use netpulse_ports::notification_store::Incident;
use netpulse_ports::storage::StorageError;
use tokio::sync::mpsc;

use super::{Notifications, incident_ref, render};
use crate::ids::new_uuid;
use netpulse_domain::incident_severity::AlertSource;
use netpulse_ports::alerting_store::AlertSubject;

struct EdgeListener(mpsc::UnboundedSender<(Measurement, AlertEdge)>);

impl RecordListener for EdgeListener {
    fn recorded(&self, measurement: &Measurement, edge: Option<AlertEdge>) {
        if let Some(edge) = edge {
            // Never blocks; fails only after shutdown.
            let _ = self.0.send((measurement.clone(), edge));
        }
    }
}

impl Notifications {
    /// The listener to register with ingest.
    pub fn listener(&self) -> Arc<dyn RecordListener> {
        Arc::new(EdgeListener(self.edges.clone()))
    }

    /// Handles one claimed edge.
    pub(super) async fn on_edge(
        &self,
        m: &Measurement,
        edge: AlertEdge,
    ) -> Result<(), StorageError> {
        let settings = self.settings().await?;
        let (Some(connection), Some(probe)) = (
            self.storage.connection(&m.connection_id).await?,
            self.storage.probe(&m.probe_id).await?,
        ) else {
            return Ok(()); // deleted meanwhile
        };
        let now = self.clock.now();
        let public_url = settings.public_url.as_deref();
        let route = self
            .route(
                AlertSource::Connection,
                Some((AlertSubject::Connection, connection.id.as_str())),
            )
            .await?;
        match edge {
            AlertEdge::Alert { consecutive } => {
                let in_maintenance = self
                    .in_maintenance(&m.connection_id, m.completed_at)
                    .await?;
                let incident = Incident {
                    id: new_uuid(),
                    connection_id: m.connection_id.clone(),
                    opened_at: m.completed_at,
                    closed_at: None,
                    announced: false,
                    result_id: Some(m.id.to_string()),
                };
                self.storage.open_incident(&incident).await?;
                if announce_alert(settings.enabled && connection.enabled, in_maintenance)
                    == Announcement::Now
                {
                    let n = incident_ref::attach(
                        render::alert(&probe, &connection, m, consecutive, now, public_url),
                        incident.id.clone(),
                        AlertSource::Connection,
                        route.severity,
                        Some(incident.opened_at),
                        &probe,
                    );
                    self.enqueue_to(n, Some(&incident.id), route.list.as_ref())
                        .await?;
                } else {
                    tracing::info!(connection = %connection.id, in_maintenance, "alert not announced now");
                }
            }
            AlertEdge::Recovery { consecutive } => {
                let incident = self
                    .storage
                    .close_incident(&m.connection_id, m.completed_at)
                    .await?;
                let announced = incident.as_ref().is_some_and(|i| i.announced);
                if let (true, Some(incident)) =
                    (announce_recovery(announced, settings.enabled), incident)
                {
                    let since = Some(incident.opened_at);
                    let n = incident_ref::attach(
                        render::recovery(
                            &probe,
                            &connection,
                            m,
                            consecutive,
                            since,
                            now,
                            public_url,
                        ),
                        incident.id,
                        AlertSource::Connection,
                        route.severity,
                        since,
                        &probe,
                    );
                    self.enqueue_to(n, None, route.list.as_ref()).await?;
                }
            }
        }
        Ok(())
    }

    pub(super) async fn in_maintenance(
        &self,
        connection: &ConnectionId,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        // The connection's own windows, or its probe's (issue 20: a probe in maintenance holds
        // its connections' alerts too).
        Ok(!self
            .storage
            .maintenance_windows(
                Some(connection),
                at,
                Timestamp::from_unix_millis(at.unix_millis() + 1),
            )
            .await?
            .is_empty()
            || self
                .storage
                .connection_probe_in_maintenance(connection, at)
                .await?)
    }
}
