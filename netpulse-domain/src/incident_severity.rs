//! How urgent an incident is, with Flux Notify's four names (CRITICAL, HIGH, MEDIUM, LOW), and
//! which severity each kind of alert carries unless the user says otherwise.
//!
//! Incident tools each have their own scale; [`IncidentSeverity`] maps onto them
//! (PagerDuty's `critical`/`error`/`warning`/`info`, Opsgenie's `P1`–`P4`) so the same incident
//! is equally urgent everywhere.

use crate::InvalidValue;

/// How urgent an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IncidentSeverity {
    /// Someone must act now (e.g. a probe went dark: nothing is being measured).
    Critical,
    /// Service is impaired (e.g. a connection is unhealthy).
    High,
    /// Part of the service is impaired (e.g. one service check fails).
    Medium,
    /// Worth a look.
    Low,
}

impl IncidentSeverity {
    /// Every severity, most urgent first.
    pub const ALL: [Self; 4] = [Self::Critical, Self::High, Self::Medium, Self::Low];

    /// The lower-case name (JSON, labels).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }

    /// Flux Notify's upper-case name (shown in the UI and message texts).
    pub const fn label(self) -> &'static str {
        match self {
            Self::Critical => "CRITICAL",
            Self::High => "HIGH",
            Self::Medium => "MEDIUM",
            Self::Low => "LOW",
        }
    }

    /// Reads a name, in either case.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, InvalidValue> {
        let t = text.trim();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                InvalidValue::new(field, t, "must be one of critical, high, medium, low")
            })
    }

    /// PagerDuty Events v2 `payload.severity`.
    pub const fn pagerduty(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "error",
            Self::Medium => "warning",
            Self::Low => "info",
        }
    }

    /// Opsgenie `priority`.
    pub const fn opsgenie(self) -> &'static str {
        match self {
            Self::Critical => "P1",
            Self::High => "P2",
            Self::Medium => "P3",
            Self::Low => "P4",
        }
    }
}

/// What raised an incident (the alert kind severities are configured per).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertSource {
    /// A connection's speed tests turned unhealthy.
    Connection,
    /// A probe stopped polling.
    ProbeOffline,
    /// A service check (ICMP, HTTP, DNS, TCP, UDP) failed rounds in a row.
    Check,
    /// An outage episode of a probe's connectivity checks opened (wave2-specs §2.3).
    Outage,
}

impl AlertSource {
    /// Every source.
    pub const ALL: [Self; 4] = [
        Self::Connection,
        Self::ProbeOffline,
        Self::Check,
        Self::Outage,
    ];

    /// The name (JSON, the `alertname` suffix).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connection => "connection",
            Self::ProbeOffline => "probe_offline",
            Self::Check => "check",
            Self::Outage => "outage",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The Alertmanager `alertname` of incidents from this source.
    pub const fn alert_name(self) -> &'static str {
        match self {
            Self::Connection => "NetPulseConnectionUnhealthy",
            Self::ProbeOffline => "NetPulseProbeOffline",
            Self::Check => "NetPulseCheckFailing",
            Self::Outage => "NetPulseOutage",
        }
    }

    /// The severity when nothing is configured: a dark probe measures nothing (critical), an
    /// unhealthy connection impairs service (high), one failing service check is partial
    /// (medium), an outage impairs service (high; see [`outage_severity`]).
    pub const fn default_severity(self) -> IncidentSeverity {
        match self {
            Self::Connection | Self::Outage => IncidentSeverity::High,
            Self::ProbeOffline => IncidentSeverity::Critical,
            Self::Check => IncidentSeverity::Medium,
        }
    }
}

/// The severity of an incident: the most specific setting wins — the connection's or check's
/// own, then the one configured for the alert source, then the source's default.
pub fn severity_of(
    source: AlertSource,
    own: Option<IncidentSeverity>,
    per_source: Option<IncidentSeverity>,
) -> IncidentSeverity {
    own.or(per_source)
        .unwrap_or_else(|| source.default_severity())
}

/// The severity of an outage incident: CRITICAL when the `all` family is completely down (no
/// configured family gets through at all), else HIGH (one family down, or a partial outage).
pub const fn outage_severity(all_families: bool, complete: bool) -> IncidentSeverity {
    if all_families && complete {
        IncidentSeverity::Critical
    } else {
        IncidentSeverity::High
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_either_case_and_bad_names_name_the_field() {
        for s in IncidentSeverity::ALL {
            assert_eq!(IncidentSeverity::parse("severity", s.as_str()).unwrap(), s);
            assert_eq!(IncidentSeverity::parse("severity", s.label()).unwrap(), s);
        }
        let e = IncidentSeverity::parse("severity", "urgent").unwrap_err();
        assert_eq!(e.field, "severity");
        for s in AlertSource::ALL {
            assert_eq!(AlertSource::parse(s.as_str()), Some(s));
        }
        assert_eq!(AlertSource::parse("nope"), None);
    }

    #[test]
    fn the_most_specific_setting_wins() {
        use IncidentSeverity::*;
        assert_eq!(severity_of(AlertSource::Connection, None, None), High);
        assert_eq!(severity_of(AlertSource::ProbeOffline, None, None), Critical);
        assert_eq!(severity_of(AlertSource::Check, None, None), Medium);
        assert_eq!(severity_of(AlertSource::Outage, None, None), High);
        assert_eq!(outage_severity(true, true), Critical);
        assert_eq!(outage_severity(true, false), High);
        assert_eq!(outage_severity(false, true), High);
        assert_eq!(severity_of(AlertSource::Check, None, Some(Low)), Low);
        assert_eq!(
            severity_of(AlertSource::Check, Some(Critical), Some(Low)),
            Critical
        );
    }

    #[test]
    fn tool_scales_keep_the_order() {
        let pd: Vec<_> = IncidentSeverity::ALL
            .iter()
            .map(|s| s.pagerduty())
            .collect();
        assert_eq!(pd, ["critical", "error", "warning", "info"]);
        let og: Vec<_> = IncidentSeverity::ALL.iter().map(|s| s.opsgenie()).collect();
        assert_eq!(og, ["P1", "P2", "P3", "P4"]);
    }
}
