//! The access rule of every route: one line per route (method, path pattern, rule), REST and
//! pages. The edges look a request up here before its handler runs; a route without a line is
//! admins-only (and the access-matrix test, which walks the OpenAPI document and the page route
//! list, fails naming it). Path patterns use `{name}` or `:name` for a segment; a literal
//! segment beats a pattern (`/settings/connections/new` over `/settings/connections/:id`).
//!
//! Adding a route: add ONE line to [`REST`] (paths as in the OpenAPI document, without `/api`)
//! or [`PAGES`], with the permission of the matrix (`netpulse_domain::access`).

use netpulse_domain::access::Permission;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone (sign-in, setup, share links, health, static files).
    Public,
    /// A probe with its own token (the agent API); no user role applies.
    Probe,
    /// Any signed-in user (their own password, their own tokens, sign-out).
    SignedIn,
    /// A user or token with this permission.
    Needs(Permission),
}

use Permission::{
    AgentsWrite, AlertsAck, AlertsWrite, ReportsRead, ResultsRead, SchedulesDelete, SchedulesWrite,
    SettingsWrite, TestsRun, UsersWrite,
};
use Rule::{Needs, Probe, Public, SignedIn};

/// The REST API's routes (`/api` + path).
pub const REST: &[(&str, &str, Rule)] = &[
    ("GET", "/v1/ping", Public),
    ("GET", "/v1/healthcheck", Public),
    // Access tokens (JWT): sign-in is public; refresh and sign-out check the token itself.
    ("POST", "/v1/auth/login", Public),
    ("POST", "/v1/auth/refresh", SignedIn),
    ("POST", "/v1/auth/logout", SignedIn),
    ("GET", "/v1/audit", Needs(UsersWrite)),
    ("GET", "/v1/probes/{probe_id}/due", Probe),
    ("GET", "/v1/probes/{probe_id}/config", Probe),
    ("GET", "/v1/probes/{probe_id}/health", Probe),
    ("POST", "/v1/probes/{probe_id}/results", Probe),
    ("POST", "/v1/probes/{probe_id}/check-results", Probe),
    ("GET", "/v1/probes", Needs(ResultsRead)),
    ("POST", "/v1/probes", Needs(AgentsWrite)),
    ("GET", "/v1/probes/{probe_id}", Needs(ResultsRead)),
    ("PATCH", "/v1/probes/{probe_id}", Needs(AgentsWrite)),
    ("DELETE", "/v1/probes/{probe_id}", Needs(AgentsWrite)),
    (
        "POST",
        "/v1/probes/{probe_id}/rotate-token",
        Needs(AgentsWrite),
    ),
    ("GET", "/v1/connections", Needs(ResultsRead)),
    ("POST", "/v1/connections", Needs(SchedulesWrite)),
    ("GET", "/v1/connections/{connection_id}", Needs(ResultsRead)),
    (
        "PATCH",
        "/v1/connections/{connection_id}",
        Needs(SchedulesWrite),
    ),
    (
        "DELETE",
        "/v1/connections/{connection_id}",
        Needs(SchedulesDelete),
    ),
    (
        "GET",
        "/v1/connections/{connection_id}/run",
        Needs(ResultsRead),
    ),
    (
        "POST",
        "/v1/connections/{connection_id}/run",
        Needs(TestsRun),
    ),
    (
        "GET",
        "/v1/connections/{connection_id}/baseline",
        Needs(ResultsRead),
    ),
    (
        "POST",
        "/v1/connections/{connection_id}/maintenance-windows",
        Needs(SchedulesWrite),
    ),
    ("GET", "/v1/maintenance-windows", Needs(ResultsRead)),
    (
        "DELETE",
        "/v1/maintenance-windows/{window_id}",
        Needs(SchedulesWrite),
    ),
    ("GET", "/v1/incidents", Needs(ResultsRead)),
    ("POST", "/v1/incidents/{incident_id}/ack", Needs(AlertsAck)),
    (
        "POST",
        "/v1/outage-incidents/{incident_id}/ack",
        Needs(AlertsAck),
    ),
    ("GET", "/v1/notifications/severities", Needs(ResultsRead)),
    ("PUT", "/v1/notifications/severities", Needs(AlertsWrite)),
    ("GET", "/v1/notifications/contact-lists", Needs(ResultsRead)),
    (
        "POST",
        "/v1/notifications/contact-lists",
        Needs(AlertsWrite),
    ),
    (
        "GET",
        "/v1/notifications/contact-lists/{list_id}",
        Needs(ResultsRead),
    ),
    (
        "PUT",
        "/v1/notifications/contact-lists/{list_id}",
        Needs(AlertsWrite),
    ),
    (
        "DELETE",
        "/v1/notifications/contact-lists/{list_id}",
        Needs(AlertsWrite),
    ),
    (
        "GET",
        "/v1/connections/{connection_id}/alerting",
        Needs(ResultsRead),
    ),
    (
        "PUT",
        "/v1/connections/{connection_id}/alerting",
        Needs(SchedulesWrite),
    ),
    ("GET", "/v1/checks/{check_id}/alerting", Needs(ResultsRead)),
    ("GET", "/v1/checks/{check_id}/baseline", Needs(ResultsRead)),
    ("GET", "/v1/probes/{probe_id}/alerting", Needs(ResultsRead)),
    (
        "PUT",
        "/v1/probes/{probe_id}/alerting",
        Needs(SchedulesWrite),
    ),
    (
        "PUT",
        "/v1/checks/{check_id}/alerting",
        Needs(SchedulesWrite),
    ),
    ("GET", "/v1/measurements", Needs(ResultsRead)),
    (
        "GET",
        "/v1/measurements/{measurement_id}",
        Needs(ResultsRead),
    ),
    ("GET", "/v1/checks", Needs(ResultsRead)),
    ("POST", "/v1/checks", Needs(SchedulesWrite)),
    ("GET", "/v1/checks/{check_id}", Needs(ResultsRead)),
    ("PATCH", "/v1/checks/{check_id}", Needs(SchedulesWrite)),
    ("DELETE", "/v1/checks/{check_id}", Needs(SchedulesDelete)),
    ("GET", "/v1/checks/{check_id}/summary", Needs(ResultsRead)),
    ("GET", "/v1/check-results", Needs(ResultsRead)),
    ("GET", "/v1/notifications/channel-types", Needs(ResultsRead)),
    ("GET", "/v1/notifications/channels", Needs(AlertsWrite)),
    ("POST", "/v1/notifications/channels", Needs(AlertsWrite)),
    (
        "GET",
        "/v1/notifications/channels/{channel_id}",
        Needs(AlertsWrite),
    ),
    (
        "PATCH",
        "/v1/notifications/channels/{channel_id}",
        Needs(AlertsWrite),
    ),
    (
        "DELETE",
        "/v1/notifications/channels/{channel_id}",
        Needs(AlertsWrite),
    ),
    (
        "POST",
        "/v1/notifications/channels/{channel_id}/test",
        Needs(AlertsWrite),
    ),
    ("GET", "/v1/notifications/deliveries", Needs(AlertsWrite)),
    ("GET", "/v1/notifications/settings", Needs(AlertsWrite)),
    ("PATCH", "/v1/notifications/settings", Needs(AlertsWrite)),
    ("GET", "/v1/integrations/mqtt", Needs(SettingsWrite)),
    ("PUT", "/v1/integrations/mqtt", Needs(SettingsWrite)),
    // Fleet (issue 20): self-registration carries its own registration token, not a user's.
    ("POST", "/v1/agents/register", Public),
    ("GET", "/v1/registration-tokens", Needs(AgentsWrite)),
    ("POST", "/v1/registration-tokens", Needs(AgentsWrite)),
    (
        "POST",
        "/v1/registration-tokens/{token_id}/revoke",
        Needs(AgentsWrite),
    ),
    // Probe maintenance, like the connections' windows: operators may schedule and end it.
    (
        "GET",
        "/v1/probes/{probe_id}/maintenance",
        Needs(ResultsRead),
    ),
    (
        "POST",
        "/v1/probes/{probe_id}/maintenance",
        Needs(SchedulesWrite),
    ),
    (
        "POST",
        "/v1/probes/{probe_id}/maintenance/switch",
        Needs(SchedulesWrite),
    ),
    (
        "DELETE",
        "/v1/probes/{probe_id}/maintenance/{window_id}",
        Needs(SchedulesWrite),
    ),
    // Outages and uptime (issue 15).
    ("GET", "/v1/outages", Needs(ResultsRead)),
    ("GET", "/v1/outages/{outage_id}", Needs(ResultsRead)),
    ("GET", "/v1/uptime", Needs(ResultsRead)),
    ("GET", "/v1/status", Needs(ResultsRead)),
];

/// The dashboard's routes.
pub const PAGES: &[(&str, &str, Rule)] = &[
    ("GET", "/static/*path", Public),
    ("GET", "/setup", Public),
    ("POST", "/setup", Public),
    ("GET", "/login", Public),
    ("POST", "/login", Public),
    ("GET", "/login/two-factor", Public),
    ("POST", "/login/two-factor", Public),
    ("GET", "/r/:token", Public),
    ("POST", "/logout", SignedIn),
    ("GET", "/", Needs(ResultsRead)),
    ("GET", "/dashboard/cursor", Needs(ResultsRead)),
    ("POST", "/dashboard/run", Needs(TestsRun)),
    ("GET", "/dashboard/run-status", Needs(ResultsRead)),
    ("GET", "/history", Needs(ResultsRead)),
    ("GET", "/history/export.csv", Needs(ReportsRead)),
    ("GET", "/history/:id", Needs(ResultsRead)),
    ("POST", "/history/:id/share", Needs(SchedulesWrite)),
    ("POST", "/history/:id/share/revoke", Needs(SchedulesWrite)),
    ("GET", "/heatmap", Needs(ResultsRead)),
    ("GET", "/servers", Needs(ResultsRead)),
    ("GET", "/connectivity", Needs(ResultsRead)),
    ("GET", "/settings", SignedIn),
    ("POST", "/settings/general", Needs(SettingsWrite)),
    ("POST", "/settings/tokens", SignedIn),
    ("POST", "/settings/tokens/:id/revoke", SignedIn),
    ("POST", "/settings/password", SignedIn),
    ("GET", "/settings/probes", Needs(ResultsRead)),
    ("POST", "/settings/probes", Needs(AgentsWrite)),
    ("POST", "/settings/probes/:id/:action", Needs(AgentsWrite)),
    ("GET", "/settings/notifications", Needs(AlertsWrite)),
    ("POST", "/settings/mqtt", Needs(SettingsWrite)),
    ("GET", "/settings/connections", Needs(ResultsRead)),
    ("POST", "/settings/connections", Needs(SchedulesWrite)),
    ("GET", "/settings/connections/new", Needs(SchedulesWrite)),
    (
        "GET",
        "/settings/connections/cron-preview",
        Needs(SchedulesWrite),
    ),
    ("GET", "/settings/connections/:id", Needs(SchedulesWrite)),
    ("POST", "/settings/connections/:id", Needs(SchedulesWrite)),
    (
        "POST",
        "/settings/connections/:id/:action",
        Needs(SchedulesWrite),
    ),
    (
        "POST",
        "/settings/connections/:id/delete",
        Needs(SchedulesDelete),
    ),
    ("GET", "/settings/users", Needs(UsersWrite)),
    ("POST", "/settings/users", Needs(UsersWrite)),
    ("POST", "/settings/users/:id", Needs(UsersWrite)),
    ("GET", "/settings/two-factor", SignedIn),
    ("POST", "/settings/two-factor/:action", SignedIn),
    ("POST", "/settings/two-factor-required", Needs(UsersWrite)),
    ("GET", "/settings/audit", Needs(UsersWrite)),
    ("GET", "/fleet", Needs(ResultsRead)),
    ("GET", "/incidents", Needs(ResultsRead)),
    // The Outages page and one outage (issue 15).
    ("GET", "/outages", Needs(ResultsRead)),
    ("GET", "/outages/:id", Needs(ResultsRead)),
];

fn is_param(segment: &str) -> bool {
    segment.starts_with(':') || segment.starts_with('{') || segment.starts_with('*')
}

/// How well `pattern` matches `path`: `None` when it does not, otherwise the number of literal
/// segments (more is more specific). A `*rest` segment matches the rest of the path.
fn score(pattern: &str, path: &str) -> Option<usize> {
    let mut p = pattern.split('/');
    let mut q = path.split('/');
    let mut literal = 0;
    loop {
        match (p.next(), q.next()) {
            (None, None) => return Some(literal),
            (Some(a), _) if a.starts_with('*') => return Some(literal),
            (Some(a), Some(b)) if is_param(a) && !b.is_empty() => {}
            (Some(a), Some(b)) if a == b => literal += 1,
            _ => return None,
        }
    }
}

/// The rule of `method path` in `table` (the most specific matching line; HEAD is GET's).
pub fn rule_in(table: &[(&str, &str, Rule)], method: &str, path: &str) -> Option<Rule> {
    let method = if method.eq_ignore_ascii_case("HEAD") {
        "GET"
    } else {
        method
    };
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    table
        .iter()
        .filter(|(m, _, _)| m.eq_ignore_ascii_case(method))
        .filter_map(|(_, pattern, rule)| score(pattern, path).map(|s| (s, *rule)))
        .max_by_key(|(s, _)| *s)
        .map(|(_, rule)| rule)
}

/// The rule of a REST request (path without `/api`); a route without a line is admins-only.
pub fn rest_rule(method: &str, path: &str) -> Rule {
    rule_in(REST, method, path).unwrap_or(Needs(UsersWrite))
}

/// The rule of a dashboard request; a route without a line is admins-only.
pub fn page_rule(method: &str, path: &str) -> Rule {
    rule_in(PAGES, method, path).unwrap_or(Needs(UsersWrite))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_line_wins() {
        assert_eq!(
            page_rule("GET", "/settings/connections/new"),
            Needs(SchedulesWrite)
        );
        assert_eq!(
            page_rule("POST", "/settings/connections/abc/delete"),
            Needs(SchedulesDelete)
        );
        assert_eq!(
            page_rule("POST", "/settings/connections/abc/enable"),
            Needs(SchedulesWrite)
        );
        assert_eq!(page_rule("GET", "/static/css/app.css"), Public);
        assert_eq!(page_rule("HEAD", "/history/"), Needs(ResultsRead));
        assert_eq!(rest_rule("POST", "/v1/connections/x/run"), Needs(TestsRun));
        assert_eq!(rest_rule("GET", "/v1/probes/x/due"), Probe);
        // No line: admins only.
        assert_eq!(rest_rule("PUT", "/v1/probes"), Needs(UsersWrite));
        assert_eq!(rule_in(REST, "GET", "/v1/nothing"), None);
        assert_eq!(rule_in(PAGES, "GET", "/history//x"), None);
    }
}
