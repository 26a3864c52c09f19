//! The fleet: probe maintenance windows, registration tokens, self-registered agents and the
//! per-probe check tallies (from the check state rows). Storage decides nothing: whether a token
//! may register is [`RegistrationToken::refusal`], checked by the service; the conditional use
//! count here only keeps two concurrent registrations from overspending it.

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::id::{ConnectionId, ProbeId};
use netpulse_domain::probe_maintenance::ProbeMaintenance;
use netpulse_domain::registration::RegistrationToken;
use netpulse_ports::fleet_store::{AgentRegistration, CheckTally, FleetStore, NewAgent};
use netpulse_ports::storage::{StorageError, TokenDigest};
use sqlx::AssertSqlSafe;

use super::{Store, begin_write};
use crate::storage::rows::{digest_of, invalid, labels_from_json, labels_to_json};
use crate::storage::{found, sql, unavailable};

const WINDOW_COLUMNS: &str = "id, probe_id, starts_at, ends_at, reason, manual, created_at";
const TOKEN_COLUMNS: &str = "id, name, labels, expires_at, max_uses, uses, revoked, created_at";
/// A window covering `$2` (of the probe `$1` where filtered).
const ACTIVE: &str = "starts_at <= $2 AND (ends_at IS NULL OR ends_at > $2)";

type WindowRow = (String, String, i64, Option<i64>, String, bool, i64);
type TokenRow = (
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    bool,
    i64,
);

fn probe_id(text: &str) -> Result<ProbeId, StorageError> {
    ProbeId::parse(text).map_err(|e| invalid(e.field, &e.value, e.reason))
}

fn window(row: WindowRow) -> Result<ProbeMaintenance, StorageError> {
    let (id, probe, starts_at, ends_at, reason, manual, created_at) = row;
    Ok(ProbeMaintenance {
        id,
        probe_id: probe_id(&probe)?,
        starts_at: Timestamp::from_unix_millis(starts_at),
        ends_at: ends_at.map(Timestamp::from_unix_millis),
        reason,
        manual,
        created_at: Timestamp::from_unix_millis(created_at),
    })
}

fn count(field: &'static str, n: i64) -> Result<u32, StorageError> {
    u32::try_from(n).map_err(|_| invalid(field, n, "is out of range"))
}

fn token(row: TokenRow) -> Result<RegistrationToken, StorageError> {
    let (id, name, labels, expires_at, max_uses, uses, revoked, created_at) = row;
    Ok(RegistrationToken {
        id,
        name,
        labels: labels_from_json(&labels)?,
        expires_at: expires_at.map(Timestamp::from_unix_millis),
        max_uses: max_uses.map(|m| count("max_uses", m)).transpose()?,
        uses: count("uses", uses)?,
        revoked,
        created_at: Timestamp::from_unix_millis(created_at),
    })
}

#[async_trait]
impl FleetStore for Store {
    async fn add_probe_maintenance(&self, w: &ProbeMaintenance) -> Result<(), StorageError> {
        let sql = format!(
            "INSERT INTO probe_maintenance ({WINDOW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(w.id.clone())
            .bind(w.probe_id.as_str().to_owned())
            .bind(w.starts_at.unix_millis())
            .bind(w.ends_at.map(Timestamp::unix_millis))
            .bind(w.reason.clone())
            .bind(w.manual)
            .bind(w.created_at.unix_millis())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn probe_maintenance(
        &self,
        probe: &ProbeId,
        since: Timestamp,
    ) -> Result<Vec<ProbeMaintenance>, StorageError> {
        let sql = format!(
            "SELECT {WINDOW_COLUMNS} FROM probe_maintenance WHERE probe_id = $1 AND \
             (ends_at IS NULL OR ends_at > $2) ORDER BY starts_at, id"
        );
        sqlx::query_as::<_, WindowRow>(AssertSqlSafe(sql))
            .bind(probe.as_str().to_owned())
            .bind(since.unix_millis())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(window)
            .collect()
    }

    async fn end_probe_maintenance(
        &self,
        probe: &ProbeId,
        at: Timestamp,
    ) -> Result<u64, StorageError> {
        let sql =
            format!("UPDATE probe_maintenance SET ends_at = $2 WHERE probe_id = $1 AND {ACTIVE}");
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(probe.as_str().to_owned())
            .bind(at.unix_millis())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn delete_probe_maintenance(
        &self,
        probe: &ProbeId,
        id: &str,
    ) -> Result<(), StorageError> {
        let done = sqlx::query("DELETE FROM probe_maintenance WHERE probe_id = $1 AND id = $2")
            .bind(probe.as_str().to_owned())
            .bind(id.to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "maintenance window", id)
    }

    async fn probe_in_maintenance(
        &self,
        probe: &ProbeId,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        let sql =
            format!("SELECT COUNT(*) FROM probe_maintenance WHERE probe_id = $1 AND {ACTIVE}");
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
            .bind(probe.as_str().to_owned())
            .bind(at.unix_millis())
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(n > 0)
    }

    async fn connection_probe_in_maintenance(
        &self,
        connection: &ConnectionId,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        let sql = format!(
            "SELECT COUNT(*) FROM probe_maintenance WHERE probe_id = \
             (SELECT probe_id FROM connections WHERE id = $1) AND {ACTIVE}"
        );
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
            .bind(connection.as_str().to_owned())
            .bind(at.unix_millis())
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(n > 0)
    }

    async fn active_probe_maintenance(
        &self,
        at: Timestamp,
    ) -> Result<Vec<ProbeMaintenance>, StorageError> {
        let sql = format!(
            "SELECT {WINDOW_COLUMNS} FROM probe_maintenance WHERE starts_at <= $1 AND (ends_at IS NULL OR ends_at > $1) ORDER BY probe_id, starts_at"
        );
        sqlx::query_as::<_, WindowRow>(AssertSqlSafe(sql))
            .bind(at.unix_millis())
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(window)
            .collect()
    }

    async fn check_tallies(
        &self,
        since: Timestamp,
    ) -> Result<Vec<(ProbeId, CheckTally)>, StorageError> {
        // Outcome codes: storage/check_rows.rs (0 ok, 1 fail).
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT c.probe_id, COUNT(*), SUM(CASE WHEN s.outcome = 1 THEN 1 ELSE 0 END) \
             FROM check_state s JOIN checks c ON c.num = s.check_num \
             WHERE c.enabled = TRUE AND s.round_at >= $1 AND s.outcome IN (0, 1) \
             GROUP BY c.probe_id",
        )
        .bind(since.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter()
            .map(|(probe, total, failed)| {
                Ok((
                    probe_id(&probe)?,
                    CheckTally {
                        total: count("total", total)?,
                        failed: count("failed", failed)?,
                    },
                ))
            })
            .collect()
    }

    async fn tests_since(&self, since: Timestamp) -> Result<Vec<(ProbeId, u64)>, StorageError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT probe_id, COUNT(*) FROM measurements WHERE completed_at >= $1 \
             GROUP BY probe_id",
        )
        .bind(since.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter()
            .map(|(p, n)| Ok((probe_id(&p)?, u64::try_from(n).unwrap_or(0))))
            .collect()
    }

    async fn create_registration_token(
        &self,
        t: &RegistrationToken,
        secret: &TokenDigest,
    ) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO registration_tokens (id, name, secret_digest, labels, expires_at, \
             max_uses, uses, revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(t.id.clone())
        .bind(t.name.clone())
        .bind(secret.0.to_vec())
        .bind(labels_to_json(&t.labels))
        .bind(t.expires_at.map(Timestamp::unix_millis))
        .bind(t.max_uses.map(i64::from))
        .bind(i64::from(t.uses))
        .bind(t.revoked)
        .bind(t.created_at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn registration_tokens(&self) -> Result<Vec<RegistrationToken>, StorageError> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM registration_tokens ORDER BY created_at DESC, id");
        sqlx::query_as::<_, TokenRow>(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(token)
            .collect()
    }

    async fn registration_token_by_secret(
        &self,
        secret: &TokenDigest,
    ) -> Result<Option<(RegistrationToken, TokenDigest)>, StorageError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS}, secret_digest FROM registration_tokens \
             WHERE secret_digest = $1"
        );
        #[allow(clippy::type_complexity)]
        let row: Option<(
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
            i64,
            bool,
            i64,
            Vec<u8>,
        )> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(secret.0.to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(|(a, b, c, d, e, f, g, h, digest)| {
            Ok((token((a, b, c, d, e, f, g, h))?, digest_of(digest)?))
        })
        .transpose()
    }

    async fn revoke_registration_token(&self, id: &str) -> Result<(), StorageError> {
        let done = sqlx::query("UPDATE registration_tokens SET revoked = TRUE WHERE id = $1")
            .bind(id.to_owned())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "registration token", id)
    }

    async fn agent_registration(
        &self,
        name: &str,
        machine_id: &str,
    ) -> Result<Option<AgentRegistration>, StorageError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT probe_id, token_id FROM agent_registrations WHERE name = $1 AND \
             machine_id = $2",
        )
        .bind(name.to_owned())
        .bind(machine_id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(|(probe, token_id)| {
            Ok(AgentRegistration {
                probe_id: probe_id(&probe)?,
                token_id,
            })
        })
        .transpose()
    }

    async fn register_agent(&self, a: &NewAgent<'_>, at: Timestamp) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        let used = sqlx::query(
            "UPDATE registration_tokens SET uses = uses + 1 WHERE id = $1 AND \
             (max_uses IS NULL OR uses < max_uses)",
        )
        .bind(a.token_id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        if used.rows_affected() == 0 {
            return Err(StorageError::Conflict(
                "the registration token has no uses left".into(),
            ));
        }
        let p = a.probe;
        sqlx::query(sql::INSERT_PROBE)
            .bind(p.id.as_str().to_owned())
            .bind(p.name.as_str().to_owned())
            .bind(labels_to_json(&p.labels))
            .bind(a.probe_token.0.to_vec())
            .bind(p.enabled)
            .bind(p.created_at.unix_millis())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query(
            "INSERT INTO agent_registrations (name, machine_id, probe_id, token_id, \
             registered_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(a.name.to_owned())
        .bind(a.machine_id.to_owned())
        .bind(p.id.as_str().to_owned())
        .bind(a.token_id.to_owned())
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(())
    }
}
