//! The `AlertingStore` port: severities per alert source, contact lists, a connection's or
//! check's own alerting, incident acknowledgements and reminder claims (conditional writes).

use async_trait::async_trait;
use netpulse_domain::Timestamp;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_ports::alerting_store::{
    AlertRoute, AlertSubject, AlertingStore, ContactList, IncidentStatus, OutageIncident,
};
use netpulse_ports::storage::StorageError;
use sqlx::{AssertSqlSafe, Pool};

use super::{Db, Store, begin_write};
use crate::storage::notify_rows::IncidentRow;
use crate::storage::rows::invalid;
use crate::storage::{found, unavailable};

const STATUS_COLUMNS: &str = "id, connection_id, opened_at, closed_at, announced, result_id, \
                              acknowledged_by, acknowledged_at, reminded_at";

type StatusRow = (
    String,
    String,
    i64,
    Option<i64>,
    bool,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn status_of(r: StatusRow) -> Result<IncidentStatus, StorageError> {
    let incident = IncidentRow {
        id: r.0,
        connection_id: r.1,
        opened_at: r.2,
        closed_at: r.3,
        announced: r.4,
        result_id: r.5,
    }
    .into_incident()?;
    Ok(IncidentStatus {
        incident,
        acknowledged_by: r.6,
        acknowledged_at: r.7.map(Timestamp::from_unix_millis),
        reminded_at: r.8.map(Timestamp::from_unix_millis),
    })
}

const OUTAGE_COLUMNS: &str = "id, probe_id, family, opened_at, closed_at, acknowledged_by, \
                              acknowledged_at, reminded_at, source, subject_id, severity";

type OutageRow = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
);

fn outage_incident_of(r: OutageRow) -> Result<OutageIncident, StorageError> {
    let source = AlertSource::parse(&r.8)
        .ok_or_else(|| invalid("outage_incidents.source", &r.8, "is not an alert source"))?;
    let severity = match r.10.as_deref() {
        Some(t) => Some(severity("outage_incidents.severity", t)?),
        None => None,
    };
    Ok(OutageIncident {
        id: r.0,
        subject_id: r.9.unwrap_or_else(|| r.1.clone()),
        probe_id: r.1,
        family: r.2,
        source,
        severity,
        opened_at: Timestamp::from_unix_millis(r.3),
        closed_at: r.4.map(Timestamp::from_unix_millis),
        acknowledged_by: r.5,
        acknowledged_at: r.6.map(Timestamp::from_unix_millis),
        reminded_at: r.7.map(Timestamp::from_unix_millis),
    })
}

fn severity(field: &'static str, text: &str) -> Result<IncidentSeverity, StorageError> {
    IncidentSeverity::parse(field, text).map_err(|_| invalid(field, text, "is not a severity"))
}

const fn table_of(subject: AlertSubject) -> (&'static str, &'static str) {
    match subject {
        AlertSubject::Connection => ("connection_alerting", "connection_id"),
        AlertSubject::Check => ("check_alerting", "check_id"),
        AlertSubject::Probe => ("probe_alerting", "probe_id"),
    }
}

type ListRow = (String, String, Option<i64>, Option<String>, i64, i64);

/// Moves the last reminder of an open, unacknowledged row of `table` (`incidents` or
/// `outage_incidents`) from `previous` to the later `at`, with a conditional write.
async fn claim_reminder_in(
    pool: &Pool<Db>,
    table: &'static str,
    id: &str,
    previous: Option<Timestamp>,
    at: Timestamp,
) -> Result<bool, StorageError> {
    let done = sqlx::query(AssertSqlSafe(format!(
        "UPDATE {table} SET reminded_at = $3 WHERE id = $1 AND closed_at IS NULL \
         AND acknowledged_at IS NULL AND COALESCE(reminded_at, -1) = $2 AND $3 > $2"
    )))
    .bind(id.to_owned())
    .bind(previous.map_or(-1, Timestamp::unix_millis))
    .bind(at.unix_millis())
    .execute(pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}

async fn lists(pool: &Pool<Db>, id: Option<&str>) -> Result<Vec<ContactList>, StorageError> {
    let rows: Vec<ListRow> = sqlx::query_as(
        "SELECT id, name, CAST(reminder_minutes AS BIGINT), min_severity, created_at, updated_at \
         FROM contact_lists WHERE ($1 IS NULL OR id = $1) ORDER BY name, id",
    )
    .bind(id.map(str::to_owned))
    .fetch_all(pool)
    .await
    .map_err(unavailable)?;
    let members: Vec<(String, String)> = sqlx::query_as(
        "SELECT list_id, channel_id FROM contact_list_channels WHERE ($1 IS NULL OR list_id = $1) \
         ORDER BY list_id, channel_id",
    )
    .bind(id.map(str::to_owned))
    .fetch_all(pool)
    .await
    .map_err(unavailable)?;
    rows.into_iter()
        .map(|(id, name, reminder, min, created, updated)| {
            Ok(ContactList {
                channel_ids: members
                    .iter()
                    .filter(|(l, _)| *l == id)
                    .map(|(_, c)| c.clone())
                    .collect(),
                id,
                name,
                reminder_minutes: reminder
                    .map(|m| u32::try_from(m).map_err(|_| invalid("reminder_minutes", m, "range")))
                    .transpose()?,
                min_severity: min
                    .as_deref()
                    .map(|m| severity("min_severity", m))
                    .transpose()?,
                created_at: Timestamp::from_unix_millis(created),
                updated_at: Timestamp::from_unix_millis(updated),
            })
        })
        .collect()
}

async fn write_list(pool: &Pool<Db>, l: &ContactList, create: bool) -> Result<(), StorageError> {
    let mut tx = begin_write(pool).await.map_err(unavailable)?;
    // The creation time is written once (an update keeps the stored one).
    let sql = if create {
        "INSERT INTO contact_lists (id, name, reminder_minutes, min_severity, updated_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    } else {
        "UPDATE contact_lists SET name = $2, reminder_minutes = $3, min_severity = $4, \
         updated_at = $5 WHERE id = $1"
    };
    let q = sqlx::query(sql)
        .bind(l.id.clone())
        .bind(l.name.clone())
        .bind(l.reminder_minutes.map(i64::from))
        .bind(l.min_severity.map(|s| s.as_str().to_owned()))
        .bind(l.updated_at.unix_millis());
    let q = if create {
        q.bind(l.created_at.unix_millis())
    } else {
        q
    };
    let done = q.execute(&mut *tx).await.map_err(unavailable)?;
    found(done.rows_affected(), "contact list", &l.id)?;
    sqlx::query("DELETE FROM contact_list_channels WHERE list_id = $1")
        .bind(l.id.clone())
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    for c in &l.channel_ids {
        sqlx::query("INSERT INTO contact_list_channels (list_id, channel_id) VALUES ($1, $2)")
            .bind(l.id.clone())
            .bind(c.clone())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
    }
    tx.commit().await.map_err(unavailable)
}

#[async_trait]
impl AlertingStore for Store {
    async fn source_severities(
        &self,
    ) -> Result<Vec<(AlertSource, IncidentSeverity)>, StorageError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT source, severity FROM alert_source_severities ORDER BY source")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        rows.into_iter()
            .filter_map(|(source, s)| {
                AlertSource::parse(&source).map(|src| Ok((src, severity("severity", &s)?)))
            })
            .collect()
    }

    async fn set_source_severity(
        &self,
        source: AlertSource,
        severity: Option<IncidentSeverity>,
    ) -> Result<(), StorageError> {
        let q = match severity {
            Some(s) => sqlx::query(
                "INSERT INTO alert_source_severities (source, severity) VALUES ($1, $2) \
                 ON CONFLICT (source) DO UPDATE SET severity = excluded.severity",
            )
            .bind(source.as_str().to_owned())
            .bind(s.as_str().to_owned()),
            None => sqlx::query("DELETE FROM alert_source_severities WHERE source = $1")
                .bind(source.as_str().to_owned()),
        };
        q.execute(&self.pool).await.map_err(unavailable)?;
        Ok(())
    }

    async fn contact_lists(&self) -> Result<Vec<ContactList>, StorageError> {
        lists(&self.pool, None).await
    }

    async fn contact_list(&self, id: &str) -> Result<Option<ContactList>, StorageError> {
        Ok(lists(&self.pool, Some(id)).await?.into_iter().next())
    }

    async fn create_contact_list(&self, list: &ContactList) -> Result<(), StorageError> {
        write_list(&self.pool, list, true).await
    }

    async fn update_contact_list(&self, list: &ContactList) -> Result<(), StorageError> {
        write_list(&self.pool, list, false).await
    }

    async fn delete_contact_list(&self, id: &str) -> Result<(), StorageError> {
        let mut tx = begin_write(&self.pool).await.map_err(unavailable)?;
        for table in ["connection_alerting", "check_alerting", "probe_alerting"] {
            let used: Option<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
                "SELECT contact_list_id FROM {table} WHERE contact_list_id = $1 LIMIT 1"
            )))
            .bind(id.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
            if used.is_some() {
                return Err(StorageError::Conflict(
                    "a connection, check or probe routes to this contact list".into(),
                ));
            }
        }
        let done = sqlx::query("DELETE FROM contact_lists WHERE id = $1")
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        found(done.rows_affected(), "contact list", id)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn alert_route(
        &self,
        subject: AlertSubject,
        id: &str,
    ) -> Result<AlertRoute, StorageError> {
        let (table, key) = table_of(subject);
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT severity, contact_list_id FROM {table} WHERE {key} = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        let Some((sev, list)) = row else {
            return Ok(AlertRoute::default());
        };
        Ok(AlertRoute {
            severity: sev
                .as_deref()
                .map(|s| severity("severity", s))
                .transpose()?,
            contact_list_id: list,
        })
    }

    async fn set_alert_route(
        &self,
        subject: AlertSubject,
        id: &str,
        route: &AlertRoute,
    ) -> Result<(), StorageError> {
        let (table, key) = table_of(subject);
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} ({key}, severity, contact_list_id) VALUES ($1, $2, $3) \
             ON CONFLICT ({key}) DO UPDATE SET severity = excluded.severity, \
             contact_list_id = excluded.contact_list_id"
        )))
        .bind(id.to_owned())
        .bind(route.severity.map(|s| s.as_str().to_owned()))
        .bind(route.contact_list_id.clone())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn incident_status(&self, id: &str) -> Result<Option<IncidentStatus>, StorageError> {
        let row: Option<StatusRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {STATUS_COLUMNS} FROM incidents WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(status_of).transpose()
    }

    async fn incident_statuses(
        &self,
        connection: Option<&str>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<IncidentStatus>, StorageError> {
        let rows: Vec<StatusRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {STATUS_COLUMNS} FROM incidents WHERE ($1 IS NULL OR connection_id = $1) \
             AND opened_at < $3 AND (closed_at IS NULL OR closed_at > $2) ORDER BY opened_at, id"
        )))
        .bind(connection.map(str::to_owned))
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter().map(status_of).collect()
    }

    async fn acknowledge_incident(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE incidents SET acknowledged_by = $2, acknowledged_at = $3 WHERE id = $1 \
             AND closed_at IS NULL AND acknowledged_at IS NULL",
        )
        .bind(id.to_owned())
        .bind(by.to_owned())
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn unacknowledged_incidents(&self) -> Result<Vec<IncidentStatus>, StorageError> {
        let rows: Vec<StatusRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {STATUS_COLUMNS} FROM incidents WHERE closed_at IS NULL AND announced = TRUE \
             AND acknowledged_at IS NULL ORDER BY opened_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter().map(status_of).collect()
    }

    async fn claim_reminder(
        &self,
        id: &str,
        previous: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        claim_reminder_in(&self.pool, "incidents", id, previous, at).await
    }

    async fn open_alert_incident(&self, i: &OutageIncident) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "INSERT INTO outage_incidents (id, probe_id, family, opened_at, source, subject_id, \
             severity) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(i.id.clone())
        .bind(i.probe_id.clone())
        .bind(i.family.clone())
        .bind(i.opened_at.unix_millis())
        .bind(i.source.as_str())
        .bind(i.subject_id.clone())
        .bind(i.severity.map(IncidentSeverity::as_str))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn close_alert_incidents(
        &self,
        source: AlertSource,
        subject_id: &str,
        family: &str,
        at: Timestamp,
    ) -> Result<u64, StorageError> {
        let done = sqlx::query(
            "UPDATE outage_incidents SET closed_at = CASE WHEN $4 > opened_at THEN $4 ELSE \
             opened_at END WHERE source = $1 AND subject_id = $2 AND family = $3 \
             AND closed_at IS NULL",
        )
        .bind(source.as_str())
        .bind(subject_id.to_owned())
        .bind(family.to_owned())
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn outage_incidents(
        &self,
        probe: Option<&str>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<OutageIncident>, StorageError> {
        let rows: Vec<OutageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OUTAGE_COLUMNS} FROM outage_incidents WHERE ($1 IS NULL OR probe_id = $1) \
             AND opened_at < $3 AND (closed_at IS NULL OR closed_at > $2) ORDER BY opened_at, id"
        )))
        .bind(probe.map(str::to_owned))
        .bind(since.unix_millis())
        .bind(until.unix_millis())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter().map(outage_incident_of).collect()
    }

    async fn outage_incident(&self, id: &str) -> Result<Option<OutageIncident>, StorageError> {
        let row: Option<OutageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OUTAGE_COLUMNS} FROM outage_incidents WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.map(outage_incident_of).transpose()
    }

    async fn acknowledge_outage_incident(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        let done = sqlx::query(
            "UPDATE outage_incidents SET acknowledged_by = $2, acknowledged_at = $3 WHERE id = $1 \
             AND closed_at IS NULL AND acknowledged_at IS NULL",
        )
        .bind(id.to_owned())
        .bind(by.to_owned())
        .bind(at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn unacknowledged_outage_incidents(&self) -> Result<Vec<OutageIncident>, StorageError> {
        let rows: Vec<OutageRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {OUTAGE_COLUMNS} FROM outage_incidents WHERE closed_at IS NULL \
             AND acknowledged_at IS NULL ORDER BY opened_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter().map(outage_incident_of).collect()
    }

    async fn claim_outage_reminder(
        &self,
        id: &str,
        previous: Option<Timestamp>,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        claim_reminder_in(&self.pool, "outage_incidents", id, previous, at).await
    }
}
