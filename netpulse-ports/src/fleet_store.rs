//! Persistence of the fleet (issue 20): maintenance windows of probes, registration tokens and
//! the agents they registered, and the per-probe check tallies the agent state reads. Every
//! query here reads state rows (probes, windows, the newest round per check and family), never
//! a history.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::model::Probe;
use netpulse_domain::probe_maintenance::ProbeMaintenance;
use netpulse_domain::registration::RegistrationToken;

use crate::storage::{StorageError, TokenDigest};

/// A probe's newest check rounds (one per check and family) since a time: how many ran and how
/// many failed (`not_applicable` and local errors count in neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckTally {
    /// Ok or failed.
    pub total: u32,
    /// Failed.
    pub failed: u32,
}

/// An agent that registered itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRegistration {
    /// Its probe.
    pub probe_id: ProbeId,
    /// The token it registered with.
    pub token_id: String,
}

/// What a registration writes.
#[derive(Debug, Clone)]
pub struct NewAgent<'a> {
    /// The token used (its use count goes up by one, only if it still has a use left).
    pub token_id: &'a str,
    /// The agent's name (unique together with `machine_id`).
    pub name: &'a str,
    /// Its machine.
    pub machine_id: &'a str,
    /// The probe to create.
    pub probe: &'a Probe,
    /// The digest of the probe's token.
    pub probe_token: &'a TokenDigest,
}

/// The fleet's tables.
#[async_trait]
pub trait FleetStore: Send + Sync {
    /// Stores a maintenance window.
    async fn add_probe_maintenance(&self, window: &ProbeMaintenance) -> Result<(), StorageError>;
    /// A probe's windows that end after `since` (or never), by start.
    async fn probe_maintenance(
        &self,
        probe: &ProbeId,
        since: Timestamp,
    ) -> Result<Vec<ProbeMaintenance>, StorageError>;
    /// Ends every window of the probe active at `at` (its end becomes `at`); how many.
    async fn end_probe_maintenance(
        &self,
        probe: &ProbeId,
        at: Timestamp,
    ) -> Result<u64, StorageError>;
    /// Deletes one window of the probe ([`StorageError::NotFound`] when it has none of that id).
    async fn delete_probe_maintenance(&self, probe: &ProbeId, id: &str)
    -> Result<(), StorageError>;
    /// Whether a window of the probe covers `at` (one indexed read).
    async fn probe_in_maintenance(
        &self,
        probe: &ProbeId,
        at: Timestamp,
    ) -> Result<bool, StorageError>;
    /// Whether a window of the probe of this connection covers `at`.
    async fn connection_probe_in_maintenance(
        &self,
        connection: &ConnectionId,
        at: Timestamp,
    ) -> Result<bool, StorageError>;
    /// The windows active at `at`, of every probe (one read).
    async fn active_probe_maintenance(
        &self,
        at: Timestamp,
    ) -> Result<Vec<ProbeMaintenance>, StorageError>;
    /// Per probe, the newest round of each enabled check and family whose round is at or after
    /// `since` (one aggregate read over the check state rows).
    async fn check_tallies(
        &self,
        since: Timestamp,
    ) -> Result<Vec<(ProbeId, CheckTally)>, StorageError>;
    /// Per probe, how many tests completed (or failed) at or after `since` (one aggregate read
    /// over the time index, bounded by the window, not the history).
    async fn tests_since(&self, since: Timestamp) -> Result<Vec<(ProbeId, u64)>, StorageError>;

    /// Stores a registration token with the digest of its secret.
    async fn create_registration_token(
        &self,
        token: &RegistrationToken,
        secret: &TokenDigest,
    ) -> Result<(), StorageError>;
    /// Every registration token, newest first.
    async fn registration_tokens(&self) -> Result<Vec<RegistrationToken>, StorageError>;
    /// The token whose secret has this digest, with the digest stored.
    async fn registration_token_by_secret(
        &self,
        secret: &TokenDigest,
    ) -> Result<Option<(RegistrationToken, TokenDigest)>, StorageError>;
    /// Revokes a token ([`StorageError::NotFound`] when unknown).
    async fn revoke_registration_token(&self, id: &str) -> Result<(), StorageError>;
    /// The agent registered under this name on this machine.
    async fn agent_registration(
        &self,
        name: &str,
        machine_id: &str,
    ) -> Result<Option<AgentRegistration>, StorageError>;
    /// In one transaction: uses the token once (only if `max_uses` allows another, else
    /// [`StorageError::Conflict`]), creates the probe and records the registration (a second
    /// registration of the same name and machine is a [`StorageError::Conflict`]).
    async fn register_agent(&self, agent: &NewAgent<'_>, at: Timestamp)
    -> Result<(), StorageError>;
}
