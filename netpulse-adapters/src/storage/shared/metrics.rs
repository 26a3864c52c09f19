//! The metrics exporter's reads: one row per connection, the newest completed result per
//! connection and engine, and result tallies.

use async_trait::async_trait;
use netpulse_domain::model::Measurement;
use netpulse_ports::metrics_store::{MeasurementTally, MetricsConnection, MetricsStore};
use netpulse_ports::storage::StorageError;
use sqlx::AssertSqlSafe;

use super::{Db, Store};
use crate::storage::metrics_rows::{
    LATEST_COMPLETED_IDS, LIGHT_MEASUREMENT_COLUMNS, MEASUREMENT_TALLIES, METRICS_CONNECTIONS,
    MetricsConnectionRow, TallyRow,
};
use crate::storage::rows::MeasurementRow;
use crate::storage::unavailable;

#[async_trait]
impl MetricsStore for Store {
    async fn metrics_connections(&self) -> Result<Vec<MetricsConnection>, StorageError> {
        sqlx::query_as::<Db, MetricsConnectionRow>(METRICS_CONNECTIONS)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(MetricsConnectionRow::into_connection)
            .collect()
    }

    async fn latest_completed_per_engine(&self) -> Result<Vec<Measurement>, StorageError> {
        let sql = format!(
            "SELECT {LIGHT_MEASUREMENT_COLUMNS} FROM measurements WHERE id IN \
             ({LATEST_COMPLETED_IDS}) ORDER BY connection_id, engine"
        );
        sqlx::query_as::<Db, MeasurementRow>(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(MeasurementRow::into_measurement)
            .collect()
    }

    async fn measurement_tallies(&self) -> Result<Vec<MeasurementTally>, StorageError> {
        sqlx::query_as::<Db, TallyRow>(MEASUREMENT_TALLIES)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(TallyRow::into_tally)
            .collect()
    }
}
