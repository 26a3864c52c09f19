//! Who may do what: three roles and a fixed permission matrix (wave2-specs §8.2), checked on
//! every request from the user's *current* role.
//!
//! | permission        | Viewer | Operator | Admin |
//! |-------------------|--------|----------|-------|
//! | `results:read`    | ✓      | ✓        | ✓     |
//! | `reports:read`    | ✓      | ✓        | ✓     |
//! | `tests:run`       |        | ✓        | ✓     |
//! | `schedules:write` |        | ✓        | ✓     |
//! | `alerts:ack`      |        | ✓        | ✓     |
//! | `schedules:delete`|        |          | ✓     |
//! | `agents:write`    |        |          | ✓     |
//! | `alerts:write`    |        |          | ✓     |
//! | `users:write`     |        |          | ✓     |
//! | `settings:write`  |        |          | ✓     |
//!
//! An API token carries scopes; what it may do is `scopes ∩ permissions(owner's current role)`,
//! so demoting the owner shrinks their tokens. There is always at least one enabled Admin
//! ([`last_admin_guard`]).

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Views results, dashboards and reports.
    Viewer,
    /// Also runs tests, edits schedules and checks, acknowledges alerts.
    Operator,
    /// Everything.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Self; 3] = [Self::Viewer, Self::Operator, Self::Admin];

    /// `viewer`, `operator`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    /// Reads a role's name (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Whether this role has `p`.
    pub fn allows(self, p: Permission) -> bool {
        match p {
            Permission::ResultsRead | Permission::ReportsRead => true,
            Permission::TestsRun | Permission::SchedulesWrite | Permission::AlertsAck => {
                self >= Self::Operator
            }
            Permission::SchedulesDelete
            | Permission::AgentsWrite
            | Permission::AlertsWrite
            | Permission::UsersWrite
            | Permission::SettingsWrite => self == Self::Admin,
        }
    }

    /// Every permission of this role.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }
}

/// A permission (also an API token scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Dashboards, history, outages, traces, baselines, agent states.
    ResultsRead,
    /// SLA reports and history CSV.
    ReportsRead,
    /// Run-now and on-demand diagnostics.
    TestsRun,
    /// Create and edit connections, checks, trace jobs, maintenance windows.
    SchedulesWrite,
    /// Acknowledge incidents.
    AlertsAck,
    /// Delete connections, checks and schedules.
    SchedulesDelete,
    /// Register agents, rotate their tokens, delete them.
    AgentsWrite,
    /// Alert rules, channels, digests, quiet hours.
    AlertsWrite,
    /// Users, their tokens and 2FA resets.
    UsersWrite,
    /// Site settings, OIDC, retention.
    SettingsWrite,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Self; 10] = [
        Self::ResultsRead,
        Self::ReportsRead,
        Self::TestsRun,
        Self::SchedulesWrite,
        Self::AlertsAck,
        Self::SchedulesDelete,
        Self::AgentsWrite,
        Self::AlertsWrite,
        Self::UsersWrite,
        Self::SettingsWrite,
    ];

    /// The scope name, e.g. `results:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResultsRead => "results:read",
            Self::ReportsRead => "reports:read",
            Self::TestsRun => "tests:run",
            Self::SchedulesWrite => "schedules:write",
            Self::AlertsAck => "alerts:ack",
            Self::SchedulesDelete => "schedules:delete",
            Self::AgentsWrite => "agents:write",
            Self::AlertsWrite => "alerts:write",
            Self::UsersWrite => "users:write",
            Self::SettingsWrite => "settings:write",
        }
    }

    /// Reads a scope name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text.trim())
    }
}

/// What a token may do: its scopes that its owner's current role allows.
pub fn effective(scopes: &[Permission], owner: Role) -> Vec<Permission> {
    let mut out: Vec<Permission> = scopes
        .iter()
        .copied()
        .filter(|p| owner.allows(*p))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Why a change to a user is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastAdmin {
    /// The change would leave no enabled Admin.
    WouldRemove,
}

/// Refuses a change that leaves no enabled Admin: `is_enabled_admin_now` is the user's state
/// before, `stays_enabled_admin` after, and `enabled_admins` counts them before the change.
pub fn last_admin_guard(
    is_enabled_admin_now: bool,
    stays_enabled_admin: bool,
    enabled_admins: u64,
) -> Result<(), LastAdmin> {
    if is_enabled_admin_now && !stays_enabled_admin && enabled_admins <= 1 {
        Err(LastAdmin::WouldRemove)
    } else {
        Ok(())
    }
}

/// Audit-log entries are kept this many days unless the `audit.keep_days` setting says
/// otherwise (a little over a year, so a yearly review still sees the whole year).
pub const AUDIT_KEEP_DAYS: i64 = 400;
/// The setting that holds how many days audit-log entries are kept.
pub const AUDIT_KEEP_SETTING: &str = "audit.keep_days";

/// The days to keep audit entries for a stored `audit.keep_days` value: a positive whole
/// number of days, else the default.
pub fn audit_keep_days(setting: Option<&str>) -> i64 {
    setting
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|d| *d > 0)
        .unwrap_or(AUDIT_KEEP_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_retention_defaults_to_400_days() {
        assert_eq!(audit_keep_days(None), 400);
        assert_eq!(audit_keep_days(Some("30")), 30);
        assert_eq!(audit_keep_days(Some("0")), 400);
        assert_eq!(audit_keep_days(Some("-5")), 400);
        assert_eq!(audit_keep_days(Some("soon")), 400);
    }

    #[test]
    fn the_matrix() {
        use Permission as P;
        assert_eq!(
            Role::Viewer.permissions(),
            vec![P::ResultsRead, P::ReportsRead]
        );
        assert_eq!(
            Role::Operator.permissions(),
            vec![
                P::ResultsRead,
                P::ReportsRead,
                P::TestsRun,
                P::SchedulesWrite,
                P::AlertsAck
            ]
        );
        assert_eq!(Role::Admin.permissions(), P::ALL.to_vec());
        for p in P::ALL {
            assert_eq!(P::parse(p.as_str()), Some(p));
        }
        assert_eq!(Role::parse(" Operator"), Some(Role::Operator));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn a_token_never_exceeds_its_owners_current_role() {
        let all = Permission::ALL;
        assert_eq!(effective(&all, Role::Viewer), Role::Viewer.permissions());
        assert_eq!(
            effective(
                &[Permission::UsersWrite, Permission::ResultsRead],
                Role::Operator
            ),
            vec![Permission::ResultsRead]
        );
    }

    #[test]
    fn the_last_enabled_admin_stays() {
        assert_eq!(
            last_admin_guard(true, false, 1),
            Err(LastAdmin::WouldRemove)
        );
        assert_eq!(last_admin_guard(true, false, 2), Ok(()));
        assert_eq!(last_admin_guard(false, false, 1), Ok(()));
        assert_eq!(last_admin_guard(true, true, 1), Ok(()));
    }
}
