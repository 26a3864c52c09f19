//! The state of an agent: MAINTENANCE, OFFLINE, DEGRADED or ONLINE (wave2-specs §4), first
//! match wins.
//!
//! 1. **Maintenance**: an active maintenance window or a manual pause. The liveness underneath
//!    is still reported ("MAINTENANCE (offline)").
//! 2. **Offline**: silent for longer than [`offline_after_seconds`] =
//!    max(120 s, 2 × poll interval + 30 s) — never before 2 minutes, and one lost poll is
//!    tolerated. A never-seen agent is offline.
//! 3. **Degraded**: seen recently, and over the last 10 minutes any of: (a) at least 20 % of at
//!    least 5 fast-check results failed; (b) the median ICMP RTT above max(2 × baseline,
//!    baseline + 50 ms) with a reliable baseline; (c) self-reported faults (spool deeper than 100
//!    or its oldest entry older than 10 min, clock skew over 5 s, an engine unavailable, the last
//!    3 pushes failed); (d) a late poll (silent longer than 1.5 × the poll interval).
//!    Hysteresis: it clears only after [`DEGRADED_CLEAR_SECONDS`] without any reason.
//! 4. **Online** otherwise.

use crate::Timestamp;

/// Seconds without a reason before DEGRADED clears.
pub const DEGRADED_CLEAR_SECONDS: i64 = 600;

/// Seconds of silence after which an agent is offline.
pub fn offline_after_seconds(poll_interval_seconds: u32) -> i64 {
    (2 * i64::from(poll_interval_seconds) + 30).max(120)
}

/// Whether an agent's reported version is older than the server's: dotted numbers compared
/// numerically (missing parts count as 0, a leading `v` and a `-…`/`+…` suffix are ignored); a
/// version that does not read so is not flagged.
pub fn is_outdated(agent: &str, server: &str) -> bool {
    fn parts(v: &str) -> Option<Vec<u64>> {
        let core = v.trim().trim_start_matches('v').split(['-', '+']).next()?;
        core.split('.').map(|p| p.parse().ok()).collect()
    }
    match (parts(agent), parts(server)) {
        (Some(mut a), Some(mut s)) => {
            let n = a.len().max(s.len());
            a.resize(n, 0);
            s.resize(n, 0);
            a < s
        }
        _ => false,
    }
}

/// An agent's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Paused or in a maintenance window.
    Maintenance,
    /// Silent too long, or never seen.
    Offline,
    /// Reachable, with a problem.
    Degraded,
    /// Reachable and well.
    Online,
}

impl State {
    /// Every state.
    pub const ALL: [Self; 4] = [
        Self::Online,
        Self::Degraded,
        Self::Offline,
        Self::Maintenance,
    ];

    /// `MAINTENANCE`, `OFFLINE`, `DEGRADED`, `ONLINE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Maintenance => "MAINTENANCE",
            Self::Offline => "OFFLINE",
            Self::Degraded => "DEGRADED",
            Self::Online => "ONLINE",
        }
    }
}

/// Why an agent is degraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// (a) At least 20 % of its fast checks failed.
    ChecksFailing,
    /// (b) ICMP latency well above its baseline.
    LatencyHigh,
    /// (c) More than 100 results spooled, or the oldest older than 10 minutes.
    SpoolBacklog,
    /// (c) Its clock is more than 5 s off the server's.
    ClockSkew,
    /// (c) An engine it should run is unavailable.
    EngineUnavailable,
    /// (c) Its last 3 pushes failed.
    PushesFailing,
    /// (d) It polled later than 1.5 × its interval.
    LatePoll,
}

impl Reason {
    /// The reason's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChecksFailing => "checks_failing",
            Self::LatencyHigh => "latency_high",
            Self::SpoolBacklog => "spool_backlog",
            Self::ClockSkew => "clock_skew",
            Self::EngineUnavailable => "engine_unavailable",
            Self::PushesFailing => "pushes_failing",
            Self::LatePoll => "late_poll",
        }
    }
}

/// What is known about an agent now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    /// The last request from the agent.
    pub last_seen: Option<Timestamp>,
    /// Its poll interval, seconds.
    pub poll_interval_seconds: u32,
    /// In a maintenance window or paused.
    pub in_maintenance: bool,
    /// Fast-check results in the last 10 minutes, and how many failed.
    pub checks_last_10_min: (u32, u32),
    /// Median ICMP RTT over the last 10 minutes, and the reliable baseline median, ms.
    pub icmp_median_and_baseline_ms: Option<(f64, f64)>,
    /// Results in its spool, and the age of the oldest one, seconds (self-reported).
    pub spool: (u32, i64),
    /// Its clock minus the server's, seconds (self-reported).
    pub clock_skew_seconds: i64,
    /// It reports an engine unavailable.
    pub engine_unavailable: bool,
    /// Its last consecutive failed pushes (self-reported).
    pub failed_pushes: u32,
    /// When a degraded reason was last seen (stored with the agent, for the hysteresis).
    pub last_reason_at: Option<Timestamp>,
}

/// The state and its reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The state.
    pub state: State,
    /// Whether it is alive underneath (shown with MAINTENANCE).
    pub alive: bool,
    /// Why it is degraded now (empty when none; a degraded agent in its hysteresis period has
    /// none).
    pub reasons: Vec<Reason>,
}

/// The agent's state at `now`.
pub fn state_of(now: Timestamp, f: &Facts) -> Verdict {
    let silent = f.last_seen.map(|t| now.seconds_since(t));
    let alive = silent.is_some_and(|s| s <= offline_after_seconds(f.poll_interval_seconds));
    let reasons = if alive {
        reasons(f, silent.unwrap_or(0))
    } else {
        Vec::new()
    };
    let state = if f.in_maintenance {
        State::Maintenance
    } else if !alive {
        State::Offline
    } else if !reasons.is_empty()
        || f.last_reason_at
            .is_some_and(|t| now.seconds_since(t) < DEGRADED_CLEAR_SECONDS)
    {
        State::Degraded
    } else {
        State::Online
    };
    Verdict {
        state,
        alive,
        reasons,
    }
}

fn reasons(f: &Facts, silent_seconds: i64) -> Vec<Reason> {
    let mut out = Vec::new();
    let (total, failed) = f.checks_last_10_min;
    if total >= 5 && u64::from(failed) * 5 >= u64::from(total) {
        out.push(Reason::ChecksFailing);
    }
    if f.icmp_median_and_baseline_ms
        .is_some_and(|(median, baseline)| median > (2.0 * baseline).max(baseline + 50.0))
    {
        out.push(Reason::LatencyHigh);
    }
    if f.spool.0 > 100 || f.spool.1 > 600 {
        out.push(Reason::SpoolBacklog);
    }
    if f.clock_skew_seconds.abs() > 5 {
        out.push(Reason::ClockSkew);
    }
    if f.engine_unavailable {
        out.push(Reason::EngineUnavailable);
    }
    if f.failed_pushes >= 3 {
        out.push(Reason::PushesFailing);
    }
    if silent_seconds * 2 > 3 * i64::from(f.poll_interval_seconds) {
        out.push(Reason::LatePoll);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(ago: i64) -> (Timestamp, Facts) {
        let now = Timestamp::from_unix_seconds(100_000);
        (
            now,
            Facts {
                last_seen: Some(now.plus_seconds(-ago)),
                poll_interval_seconds: 60,
                ..Facts::default()
            },
        )
    }

    #[test]
    fn offline_after_two_polls_and_thirty_seconds_never_before_two_minutes() {
        assert_eq!(offline_after_seconds(60), 150);
        assert_eq!(offline_after_seconds(30), 120);
        assert_eq!(offline_after_seconds(10), 120);
        let (now, f) = seen(150);
        assert_eq!(state_of(now, &f).state, State::Degraded); // late, not yet offline
        let (now, f) = seen(151);
        assert_eq!(state_of(now, &f).state, State::Offline);
        let never = Facts::default();
        assert_eq!(state_of(now, &never).state, State::Offline);
    }

    #[test]
    fn maintenance_wins_and_keeps_the_liveness_underneath() {
        let (now, mut f) = seen(1_000);
        f.in_maintenance = true;
        let v = state_of(now, &f);
        assert_eq!((v.state, v.alive), (State::Maintenance, false));
    }

    #[test]
    fn degraded_reasons() {
        let (now, mut f) = seen(10);
        assert_eq!(state_of(now, &f).state, State::Online);
        f.checks_last_10_min = (10, 2);
        f.icmp_median_and_baseline_ms = Some((61.0, 10.0));
        f.spool = (101, 0);
        f.clock_skew_seconds = -6;
        f.engine_unavailable = true;
        f.failed_pushes = 3;
        let v = state_of(now, &f);
        assert_eq!(v.state, State::Degraded);
        assert_eq!(v.reasons.len(), 6);
        // Below the thresholds: 1 of 10 failed, 4 results, latency within baseline + 50 ms.
        f = seen(10).1;
        f.checks_last_10_min = (4, 4);
        f.icmp_median_and_baseline_ms = Some((60.0, 10.0));
        assert_eq!(state_of(now, &f).state, State::Online);
        // A late poll: more than 1.5 intervals.
        let (now, f) = seen(91);
        assert_eq!(state_of(now, &f).reasons, vec![Reason::LatePoll]);
    }

    #[test]
    fn older_agent_versions_are_outdated() {
        assert!(is_outdated("0.1.0", "0.2.0"));
        assert!(is_outdated("0.9", "0.10.0"));
        assert!(!is_outdated("0.2", "0.2.0"));
        assert!(!is_outdated("v0.2.0-rc1", "0.2.0"));
        assert!(!is_outdated("1.0.0", "0.2.0"));
        assert!(!is_outdated("unknown", "0.2.0"));
    }

    #[test]
    fn degraded_clears_only_after_ten_quiet_minutes() {
        let (now, mut f) = seen(10);
        f.last_reason_at = Some(now.plus_seconds(-599));
        let v = state_of(now, &f);
        assert_eq!((v.state, v.reasons.len()), (State::Degraded, 0));
        f.last_reason_at = Some(now.plus_seconds(-600));
        assert_eq!(state_of(now, &f).state, State::Online);
    }
}
