//! The entities NetPulse stores: probes, connections, their scheduling state, measurements and
//! run-now requests.

use crate::alert::{AlertPolicy, AlertState};
use crate::degradation::{AdaptivePolicy, HealthHistory, HealthSample};
use crate::due_work::LastRun;
use crate::error::InvalidValue;
use crate::health::{Thresholds, Verdict};
use crate::id::{ConnectionId, ProbeId, ResultId};
use crate::measurement::Observation;
use crate::pool::{Engine, PoolEntry, ServerPool};
use crate::schedule::Schedule;
use crate::time::Timestamp;
use crate::values::{Colour, ExpectedSpeed, Labels, Name};

/// One agent installation that runs tests for its connections.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Its id.
    pub id: ProbeId,
    /// Its display name.
    pub name: Name,
    /// Its labels (`site` is exported with metrics).
    pub labels: Labels,
    /// Whether it may poll and push.
    pub enabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// When its agent last polled for work.
    pub last_poll_at: Option<Timestamp>,
    /// The version its agent reported with the last recorded poll.
    pub agent_version: Option<String>,
    /// The engines its agent reported it can run.
    pub agent_engines: Vec<Engine>,
}

/// One monitored link, owned by a probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// Its id.
    pub id: ConnectionId,
    /// The probe that tests it (immutable).
    pub probe_id: ProbeId,
    /// Its display name.
    pub name: Name,
    /// The ISP as the user names it.
    pub isp: String,
    /// The plan's promised speed.
    pub expected: ExpectedSpeed,
    /// Its accent colour.
    pub colour: Colour,
    /// Its labels.
    pub labels: Labels,
    /// The servers its tests rotate through.
    pub pool: ServerPool,
    /// When it is tested.
    pub schedule: Schedule,
    /// What a healthy result is.
    pub thresholds: Thresholds,
    /// How it is retested when degraded.
    pub adaptive: AdaptivePolicy,
    /// Its own alert thresholds, overriding the global ones.
    pub alerts: Option<AlertPolicy>,
    /// A network interface tests should leave through (multi-WAN on one box).
    pub source_interface: Option<String>,
    /// A source address tests should bind to.
    pub source_address: Option<String>,
    /// Whether it is tested at all.
    pub enabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
}

/// What the scheduler and the status need to know about a connection, kept up to date by
/// ingest in the same transaction as each measurement.
///
/// Only a result that is not late moves it: see [`ConnectionState::is_late`] and
/// [`ConnectionState::after`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionState {
    /// The newest result applied (completion time and requested pool entry).
    pub last: Option<LastRun>,
    /// Verdicts of the results applied, newest first.
    pub history: HealthHistory,
    /// When the newest *completed* result finished, if any.
    pub last_completed_at: Option<Timestamp>,
    /// The alert debouncer's memory.
    pub alert: AlertState,
}

impl ConnectionState {
    /// Whether a result that completed at `completed_at` is late: older than the newest result
    /// applied. A result completed in the same millisecond as that one is not late (the two are
    /// simultaneous: neither is older, whichever arrives first).
    pub fn is_late(&self, completed_at: Timestamp) -> bool {
        self.last
            .as_ref()
            .is_some_and(|last| completed_at < last.completed_at)
    }

    /// The state after recording a result that finished at `completed_at`.
    ///
    /// Results arrive out of order (an agent replays its spool, a backfill). A late result
    /// ([`Self::is_late`]) moves neither the last-run marker nor the history (so a late
    /// unhealthy result cannot make a link degraded, nor a late healthy one end it).
    /// `last_completed_at` is the newest completed result's time whatever the order, so a late
    /// completed result moves it only when every newer result failed.
    #[must_use]
    pub fn after(
        mut self,
        completed_at: Timestamp,
        pool_entry: Option<PoolEntry>,
        sample: HealthSample,
    ) -> Self {
        if sample != HealthSample::Failed {
            self.last_completed_at = Some(
                self.last_completed_at
                    .map_or(completed_at, |t| t.max(completed_at)),
            );
        }
        if !self.is_late(completed_at) {
            self.last = Some(LastRun {
                completed_at,
                pool_entry,
            });
            self.history.push_newest(sample);
        }
        self
    }
}

/// The tool's raw output, kept with each measurement so a parser fix can repair history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawOutput {
    /// The tool's exit status; `None` when it was killed or never started.
    pub exit_code: Option<i32>,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// One recorded speed test.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The agent-generated result id (idempotency key).
    pub id: ResultId,
    /// The probe that ran it.
    pub probe_id: ProbeId,
    /// The connection it measured.
    pub connection_id: ConnectionId,
    /// The engine that ran it.
    pub engine: Engine,
    /// The pool entry that was requested.
    pub pool_entry: Option<PoolEntry>,
    /// What the engine observed.
    pub observation: Observation,
    /// When it started (tool-reported, clamped).
    pub started_at: Timestamp,
    /// When it completed (tool-reported, clamped to the receive time).
    pub completed_at: Timestamp,
    /// When the server received it.
    pub received_at: Timestamp,
    /// `true` for scheduled tests, `false` for run-now.
    pub scheduled: bool,
    /// The verdict at ingest time.
    pub verdict: Verdict,
    /// The raw tool output.
    pub raw: RawOutput,
}

impl Measurement {
    /// The sample this measurement contributes to histories.
    pub fn sample(&self) -> HealthSample {
        HealthSample::from_verdict(!self.observation.completed(), Some(self.verdict.healthy()))
    }
}

/// The earliest `startedAt` a result may have: 2000-01-01T00:00:00Z. Earlier times come from a
/// box whose clock was never set (or a broken client), not from a test.
pub const EARLIEST_RESULT_TIME: Timestamp = Timestamp::from_unix_seconds(946_684_800);

/// How far ahead of the server's clock a result's times may be: one day (small boxes drift;
/// a day more is a clock that is wrong, not drifting). Times within it are clamped to the
/// receive time ([`clamp_times`]).
pub const MAX_RESULT_CLOCK_AHEAD_SECONDS: i64 = 86_400;

/// The times of a submission that carries none (the PHP agent's pushes): both become the
/// receive time.
pub const UNKNOWN_RESULT_TIME: Timestamp = Timestamp::from_unix_millis(i64::MAX);

/// Checks a pushed result's times against the server's clock `received`: `startedAt` not before
/// [`EARLIEST_RESULT_TIME`] nor more than [`MAX_RESULT_CLOCK_AHEAD_SECONDS`] ahead,
/// `finishedAt` not before `startedAt` nor more than that ahead. [`UNKNOWN_RESULT_TIME`] for
/// both passes.
pub fn check_result_times(
    started: Timestamp,
    finished: Timestamp,
    received: Timestamp,
) -> Result<(), InvalidValue> {
    if started == UNKNOWN_RESULT_TIME && finished == UNKNOWN_RESULT_TIME {
        return Ok(());
    }
    let latest = received.plus_seconds(MAX_RESULT_CLOCK_AHEAD_SECONDS);
    if started < EARLIEST_RESULT_TIME {
        return Err(InvalidValue::new(
            "startedAt",
            started.to_rfc3339(),
            "must not be before 2000-01-01T00:00:00Z",
        ));
    }
    if started > latest {
        return Err(InvalidValue::new(
            "startedAt",
            started.to_rfc3339(),
            format!(
                "must not be more than a day after the server's clock ({})",
                received.to_rfc3339()
            ),
        ));
    }
    if finished < started {
        return Err(InvalidValue::new(
            "finishedAt",
            finished.to_rfc3339(),
            format!("must not be before startedAt ({})", started.to_rfc3339()),
        ));
    }
    if finished > latest {
        return Err(InvalidValue::new(
            "finishedAt",
            finished.to_rfc3339(),
            format!(
                "must not be more than a day after the server's clock ({})",
                received.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

/// Clamps tool-reported start and finish times: the finish is never after the receive time
/// (clocks on small boxes drift), and the start is never after the finish.
pub fn clamp_times(
    started: Timestamp,
    finished: Timestamp,
    received: Timestamp,
) -> (Timestamp, Timestamp) {
    let completed = finished.min(received);
    (started.min(completed), completed)
}

/// Where a run-now request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunPhase {
    /// Waiting for the probe's next poll.
    Queued,
    /// Handed to the agent.
    Running,
    /// A result arrived.
    Done,
    /// The connection was disabled or deleted before the agent took it.
    Cancelled,
}

impl RunPhase {
    /// The phase's name on the wire and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a phase name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Done, Self::Cancelled]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_keeps_times_ordered_and_not_in_the_future() {
        let t = Timestamp::from_unix_seconds;
        assert_eq!(clamp_times(t(10), t(40), t(50)), (t(10), t(40)));
        assert_eq!(clamp_times(t(10), t(90), t(50)), (t(10), t(50)));
        assert_eq!(clamp_times(t(80), t(90), t(50)), (t(50), t(50)));
    }

    #[test]
    fn result_times_are_bounded_by_2000_and_a_day_ahead() {
        let now = Timestamp::parse_rfc3339("2026-06-06T12:00:00Z").unwrap();
        let field = |s: Timestamp, f: Timestamp| check_result_times(s, f, now).map_err(|e| e.field);
        let zero = Timestamp::parse_rfc3339("0000-01-01T00:00:00Z").unwrap();
        assert_eq!(field(zero, now), Err("startedAt"));
        assert_eq!(
            field(EARLIEST_RESULT_TIME.plus_seconds(-1), now),
            Err("startedAt")
        );
        assert_eq!(field(EARLIEST_RESULT_TIME, EARLIEST_RESULT_TIME), Ok(()));
        let day = MAX_RESULT_CLOCK_AHEAD_SECONDS;
        assert_eq!(field(now.plus_seconds(day), now.plus_seconds(day)), Ok(()));
        assert_eq!(
            field(now.plus_seconds(day + 1), now.plus_seconds(day + 1)),
            Err("startedAt")
        );
        assert_eq!(field(now, now.plus_seconds(day + 1)), Err("finishedAt"));
        assert_eq!(field(now, now.plus_seconds(-1)), Err("finishedAt"));
        assert_eq!(field(UNKNOWN_RESULT_TIME, UNKNOWN_RESULT_TIME), Ok(()));
    }

    #[test]
    fn state_moves_forward_only() {
        let t = Timestamp::from_unix_seconds;
        let a = PoolEntry::parse("a").ok();
        let b = PoolEntry::parse("b").ok();
        let newest = ConnectionState::default().after(t(100), a.clone(), HealthSample::Healthy);
        let s = newest
            .clone()
            .after(t(50), b.clone(), HealthSample::Failed)
            .after(t(99), b.clone(), HealthSample::Unhealthy);
        assert_eq!(s, newest, "late results move nothing");
        assert_eq!(s.last.as_ref().unwrap().pool_entry, a);
        assert_eq!(s.history.encode(), "H");
        let s = s.after(t(100), b.clone(), HealthSample::Unhealthy);
        assert_eq!(
            s.history.encode(),
            "UH",
            "a simultaneous result is not late"
        );
        assert_eq!(s.last.unwrap().pool_entry, b);
    }

    #[test]
    fn the_last_completion_is_the_newest_completed_result_whatever_the_order() {
        let t = Timestamp::from_unix_seconds;
        let s = ConnectionState::default()
            .after(t(100), None, HealthSample::Failed)
            .after(t(80), None, HealthSample::Healthy);
        assert_eq!(s.last_completed_at, Some(t(80)));
        assert_eq!(
            s.history.encode(),
            "F",
            "but the late result changes no live state"
        );
    }
}
