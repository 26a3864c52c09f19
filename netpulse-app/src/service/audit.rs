//! The audit log: who changed what and when (users, roles, tokens, connections, checks,
//! channels, settings, maintenance, 2FA resets). Services call [`record`] after a change
//! succeeds; the actor is the request's caller, which the edges set for the request with
//! [`as_actor`] (a task-local, so no service signature carries it; the command line and the
//! system leave it unset and are recorded without an actor). Listed newest first with keyset
//! paging; pruned by age in housekeeping ([`prune`], [`DEFAULT_KEEP_DAYS`]).

use std::future::Future;

use netpulse_domain::Timestamp;
use netpulse_domain::id::UserId;
use netpulse_ports::access_store::AuditEntry;

use super::App;
use crate::error::AppError;

/// Entries older than this many days are pruned when no other value is set.
pub const DEFAULT_KEEP_DAYS: i64 = netpulse_domain::access::AUDIT_KEEP_DAYS;
/// The most entries one page lists.
pub const MAX_PAGE: u32 = 200;

/// Who is acting in this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user (`None` for a service token without an owner).
    pub user_id: Option<UserId>,
    /// Their e-mail, or the token's name.
    pub name: String,
}

tokio::task_local! {
    static ACTOR: Option<Actor>;
}

/// Runs `fut` (a request) with `actor` as the audit log's actor.
pub async fn as_actor<F: Future>(actor: Option<Actor>, fut: F) -> F::Output {
    ACTOR.scope(actor, fut).await
}

fn current() -> Option<Actor> {
    ACTOR.try_with(Clone::clone).ok().flatten()
}

/// Appends an entry for a change that succeeded: `action` like `user.role`, `subject` like
/// `user:alice@example.org`, `detail` in words.
pub async fn record(
    app: &App,
    action: &str,
    subject: impl Into<String>,
    detail: impl Into<String>,
) -> Result<(), AppError> {
    let actor = current();
    app.storage
        .append_audit(&AuditEntry {
            id: crate::ids::new_uuid(),
            at: app.clock.now(),
            actor_id: actor.as_ref().and_then(|a| a.user_id.clone()),
            actor_email: actor.map(|a| a.name),
            action: action.to_owned(),
            subject: subject.into(),
            detail: detail.into(),
        })
        .await?;
    Ok(())
}

/// A page of entries, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next (older) page, when there is one.
    pub next: Option<String>,
}

fn cursor_of(e: &AuditEntry) -> String {
    format!("{}_{}", e.at.unix_millis(), e.id)
}

fn parse_cursor(text: &str) -> Result<(Timestamp, String), AppError> {
    let bad = || AppError::invalid("before", "not a cursor from a previous page");
    let (at, id) = text.split_once('_').ok_or_else(bad)?;
    let at: i64 = at.parse().map_err(|_| bad())?;
    if id.is_empty() || id.len() > 64 {
        return Err(bad());
    }
    Ok((Timestamp::from_unix_millis(at), id.to_owned()))
}

/// Entries before the cursor `before` (from [`Page::next`]), at most `limit` (1–200).
pub async fn list(app: &App, before: Option<&str>, limit: u32) -> Result<Page, AppError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(AppError::invalid(
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        ));
    }
    let before = before.map(parse_cursor).transpose()?;
    let mut entries = app.storage.audit_entries(before, limit + 1).await?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next = if more {
        entries.last().map(cursor_of)
    } else {
        None
    };
    Ok(Page { entries, next })
}

/// Deletes entries older than `keep_days` days; returns how many.
pub async fn prune(app: &App, keep_days: i64) -> Result<u64, AppError> {
    let before = app.clock.now().plus_seconds(-keep_days.max(1) * 86_400);
    Ok(app.storage.prune_audit(before).await?)
}
