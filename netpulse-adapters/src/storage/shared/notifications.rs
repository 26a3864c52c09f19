//! The `NotificationStore` port. Every claim is a conditional write (`… WHERE status =
//! 'pending'`, `… WHERE offline = FALSE`, `ON CONFLICT … DO UPDATE … WHERE`), so two server
//! processes on one database never both win; transactions that read first use the database's
//! write transaction (`BEGIN IMMEDIATE` on SQLite) and, on PostgreSQL, lock the rows they read.

//!
//! The port is implemented by delegation to one module per concept: `channels` (settings and
//! channels), `deliveries` (the outbox) and `incidents` (incidents, maintenance windows, probe
//! liveness, leases and digest slots).

mod channels;
mod deliveries;
mod incidents;

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::notify::DigestPeriod;
use netpulse_ports::notification_store::{
    AttemptOutcome, ClaimedDelivery, DeliveryLogEntry, Incident, NewDelivery, NotificationSettings,
    NotificationStore, StoredChannel, StoredMaintenance,
};
use netpulse_ports::notify::Notification;
use netpulse_ports::storage::StorageError;

use super::{Db, LOCK, Store, begin_write};

#[async_trait]
impl NotificationStore for Store {
    async fn notification_settings(&self) -> Result<Option<NotificationSettings>, StorageError> {
        channels::notification_settings(&self.pool).await
    }

    async fn set_notification_settings(
        &self,
        s: &NotificationSettings,
        at: Timestamp,
    ) -> Result<(), StorageError> {
        channels::set_notification_settings(&self.pool, s, at).await
    }

    async fn create_channel(&self, channel: &StoredChannel) -> Result<(), StorageError> {
        channels::create_channel(&self.pool, channel).await
    }

    async fn update_channel(&self, channel: &StoredChannel) -> Result<(), StorageError> {
        channels::update_channel(&self.pool, channel).await
    }

    async fn channel(&self, id: &str) -> Result<Option<StoredChannel>, StorageError> {
        channels::channel(&self.pool, id).await
    }

    async fn channels(&self) -> Result<Vec<StoredChannel>, StorageError> {
        channels::channels(&self.pool).await
    }

    async fn delete_channel(&self, id: &str) -> Result<(), StorageError> {
        channels::delete_channel(&self.pool, id).await
    }

    async fn enqueue_notification(
        &self,
        id: &str,
        n: &Notification,
        deliveries: &[NewDelivery],
        announce: Option<&str>,
    ) -> Result<bool, StorageError> {
        deliveries::enqueue_notification(&self.pool, id, n, deliveries, announce).await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        claim_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StorageError> {
        deliveries::claim_deliveries(&self.pool, now, claim_until, limit).await
    }

    async fn finish_delivery(
        &self,
        id: &str,
        outcome: &AttemptOutcome,
        at: Timestamp,
    ) -> Result<(), StorageError> {
        deliveries::finish_delivery(&self.pool, id, outcome, at).await
    }

    async fn delivery_log(
        &self,
        limit: u32,
        before: Option<&str>,
    ) -> Result<Vec<DeliveryLogEntry>, StorageError> {
        deliveries::delivery_log(&self.pool, limit, before).await
    }

    async fn prune_notifications(&self, before: Timestamp) -> Result<u64, StorageError> {
        deliveries::prune_notifications(&self.pool, before).await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StorageError> {
        incidents::acquire_lease(&self.pool, name, holder, now, until).await
    }

    async fn offline_probes(&self) -> Result<Vec<ProbeId>, StorageError> {
        incidents::offline_probes(&self.pool).await
    }

    async fn claim_probe_liveness(
        &self,
        probe: &ProbeId,
        offline: bool,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        incidents::claim_probe_liveness(&self.pool, probe, offline, at).await
    }

    async fn open_incident(&self, i: &Incident) -> Result<(), StorageError> {
        incidents::open_incident(&self.pool, i).await
    }

    async fn close_incident(
        &self,
        connection: &ConnectionId,
        at: Timestamp,
    ) -> Result<Option<Incident>, StorageError> {
        incidents::close_incident(&self.pool, connection, at).await
    }

    async fn unannounced_incidents(&self) -> Result<Vec<Incident>, StorageError> {
        incidents::unannounced_incidents(&self.pool).await
    }

    async fn incidents(
        &self,
        connection: Option<&ConnectionId>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Incident>, StorageError> {
        incidents::incidents(&self.pool, connection, since, until).await
    }

    async fn create_maintenance(&self, w: &StoredMaintenance) -> Result<(), StorageError> {
        incidents::create_maintenance(&self.pool, w).await
    }

    async fn delete_maintenance(&self, id: &str) -> Result<(), StorageError> {
        incidents::delete_maintenance(&self.pool, id).await
    }

    async fn maintenance_windows(
        &self,
        connection: Option<&ConnectionId>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<StoredMaintenance>, StorageError> {
        incidents::maintenance_windows(&self.pool, connection, since, until).await
    }

    async fn digest_slot(&self, period: DigestPeriod) -> Result<Option<Timestamp>, StorageError> {
        incidents::digest_slot(&self.pool, period).await
    }

    async fn claim_digest_slot(
        &self,
        period: DigestPeriod,
        expected: Option<Timestamp>,
        next: Timestamp,
    ) -> Result<bool, StorageError> {
        incidents::claim_digest_slot(&self.pool, period, expected, next).await
    }

    async fn reset_digest_slots(&self) -> Result<(), StorageError> {
        incidents::reset_digest_slots(&self.pool).await
    }
}
