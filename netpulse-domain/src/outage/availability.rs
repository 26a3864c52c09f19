//! Availability over a window, always with its coverage (wave2-specs §2.3, "Uptime").

use super::round::RoundState;

/// Time per round state over a window, ms: what availability is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateTime {
    /// In known rounds (every state but unknown; missing rounds are unknown).
    pub known_ms: i64,
    /// In maintenance rounds.
    pub maintenance_ms: i64,
    /// In local rounds (the agent could not measure).
    pub local_ms: i64,
    /// In down rounds.
    pub complete_ms: i64,
    /// In partial rounds.
    pub partial_ms: i64,
}

impl StateTime {
    /// Adds one round of `period_ms` in `state`.
    pub fn add(&mut self, state: RoundState, period_ms: i64) {
        match state {
            RoundState::Unknown => return,
            RoundState::Maintenance => self.maintenance_ms += period_ms,
            RoundState::Local => self.local_ms += period_ms,
            RoundState::Down { .. } => self.complete_ms += period_ms,
            RoundState::Partial { .. } => self.partial_ms += period_ms,
            RoundState::Up | RoundState::Target => {}
        }
        self.known_ms += period_ms;
    }

    /// Merges another window's times (e.g. hourly buckets).
    pub fn merge(&mut self, other: &Self) {
        self.known_ms += other.known_ms;
        self.maintenance_ms += other.maintenance_ms;
        self.local_ms += other.local_ms;
        self.complete_ms += other.complete_ms;
        self.partial_ms += other.partial_ms;
    }
}

/// Availability over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Availability {
    /// `1 − complete/base`: the share of measured time the internet was not fully down (the
    /// ISP-SLA figure). `None` when nothing was measured.
    pub availability: Option<f64>,
    /// `1 − (complete + partial)/base` (the incident.io convention).
    pub strict: Option<f64>,
    /// `known/(window − maintenance)`: how much of the window was measured. `None` when the
    /// whole window was maintenance.
    pub coverage: Option<f64>,
}

impl Availability {
    /// Availability over a window of `window_ms` with these state times, where
    /// `base = known − maintenance − local`.
    pub fn of(window_ms: i64, t: &StateTime) -> Self {
        let base = t.known_ms - t.maintenance_ms - t.local_ms;
        let ratio = |down: i64| (base > 0).then(|| 1.0 - down as f64 / base as f64);
        let outside_maintenance = window_ms - t.maintenance_ms;
        Self {
            availability: ratio(t.complete_ms),
            strict: ratio(t.complete_ms + t.partial_ms),
            coverage: (outside_maintenance > 0).then(|| {
                ((t.known_ms - t.maintenance_ms) as f64 / outside_maintenance as f64).min(1.0)
            }),
        }
    }
}
