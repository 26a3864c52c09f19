//! The badge a connection wears on the dashboard: Healthy, Degraded or Down.

use crate::degradation::HealthSample;

/// A connection's overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    /// Tests complete and the link is not degraded.
    Healthy,
    /// The adaptive rule considers the link degraded.
    Degraded,
    /// Never completed a test, or the newest test in the window failed.
    Down,
}

impl ConnectionStatus {
    /// The status's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Down => "down",
        }
    }
}

/// The status of one connection (§1.9): Down when it never completed a test or its newest
/// result inside the window failed; else Degraded when the adaptive rule says so; else Healthy.
///
/// The caller passes the connection's own degraded flag (computed from its id-keyed state), so
/// two connections with the same names never share a verdict (the PHP bug §11.11).
pub fn connection_status(
    ever_completed: bool,
    newest_in_window: Option<HealthSample>,
    degraded: bool,
) -> ConnectionStatus {
    if !ever_completed || newest_in_window == Some(HealthSample::Failed) {
        ConnectionStatus::Down
    } else if degraded {
        ConnectionStatus::Degraded
    } else {
        ConnectionStatus::Healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthSample::{Failed, Healthy, Unhealthy};

    #[test]
    fn follows_section_1_9() {
        assert_eq!(
            connection_status(false, None, false),
            ConnectionStatus::Down
        );
        assert_eq!(
            connection_status(false, Some(Failed), true),
            ConnectionStatus::Down
        );
        assert_eq!(
            connection_status(true, Some(Failed), true),
            ConnectionStatus::Down
        );
        assert_eq!(
            connection_status(true, Some(Unhealthy), true),
            ConnectionStatus::Degraded
        );
        assert_eq!(
            connection_status(true, Some(Healthy), false),
            ConnectionStatus::Healthy
        );
        // The newest failure is older than the window: not down by that rule.
        assert_eq!(
            connection_status(true, None, false),
            ConnectionStatus::Healthy
        );
    }
}
