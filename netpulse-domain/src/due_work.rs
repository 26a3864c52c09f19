//! Whether a connection is due for a test at a given moment, on which pool entry, and why.
//!
//! This is computed on demand when an agent polls; nothing runs in the background. The inputs
//! are the connection's settings and its *state* (last completion, last pool entry, recent
//! verdicts), never the measurement history, so the cost does not grow with history.

use std::fmt;

use crate::degradation::{AdaptivePolicy, HealthHistory};
use crate::id::ConnectionId;
use crate::pool::{Engine, PoolEntry, ServerPool};
use crate::schedule::{CronCalendar, Schedule};
use crate::time::Timestamp;

/// Why a task was handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DueReason {
    /// The connection has never produced a result.
    FirstRun,
    /// Its schedule says so.
    Schedule,
    /// It is degraded and its shortened interval has passed.
    Adaptive,
    /// Someone asked for a test now.
    RunNow,
}

impl DueReason {
    /// The reason's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FirstRun => "first_run",
            Self::Schedule => "schedule",
            Self::Adaptive => "adaptive",
            Self::RunNow => "run_now",
        }
    }
}

impl fmt::Display for DueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The connection's last result, as kept in its state row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    /// When it completed.
    pub completed_at: Timestamp,
    /// The pool entry that was requested for it (not the server the tool reported).
    pub pool_entry: Option<PoolEntry>,
}

/// A pending "run now" request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunNowRequest {
    /// A pool entry the user pinned; `None` follows the rotation.
    pub pinned: Option<PoolEntry>,
}

/// Everything the due calculation looks at.
#[derive(Debug, Clone, Copy)]
pub struct DueInput<'a> {
    /// The connection (its id seeds the jitter).
    pub connection_id: &'a ConnectionId,
    /// Whether it is enabled; a disabled connection is never due.
    pub enabled: bool,
    /// Its schedule.
    pub schedule: &'a Schedule,
    /// Its server pool.
    pub pool: &'a ServerPool,
    /// Its adaptive policy.
    pub policy: &'a AdaptivePolicy,
    /// Its last result, if any.
    pub last: Option<&'a LastRun>,
    /// Its recent verdicts, newest first.
    pub history: &'a HealthHistory,
    /// A pending run-now request, if any.
    pub run_now: Option<&'a RunNowRequest>,
    /// The moment of the poll.
    pub now: Timestamp,
    /// The engines the polling agent says it can run (empty: it did not say). The rotation
    /// skips pool entries of other engines while the pool has one it can run.
    pub engines: &'a [Engine],
}

/// A task to hand to the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTask {
    /// The pool entry to test against; `None` lets the engine choose.
    pub pool_entry: Option<PoolEntry>,
    /// The engine the entry selects.
    pub engine: Engine,
    /// Why it is due.
    pub reason: DueReason,
}

/// Whether the schedule alone makes the connection due (`now >= last + interval`, inclusive;
/// cron: some expression ticked strictly after the last result and at or before now).
fn schedule_due(input: &DueInput<'_>, last: &LastRun, calendar: &dyn CronCalendar) -> bool {
    match input.schedule {
        Schedule::Even(even) => {
            let interval = i64::from(even.interval_seconds(input.connection_id));
            input.now.seconds_since(last.completed_at) >= interval
        }
        Schedule::Cron(cron) => cron
            .next_tick_after(last.completed_at, calendar)
            .is_some_and(|tick| tick <= input.now),
    }
}

/// Decides whether a task is due now.
///
/// Order of precedence: a disabled connection is never due; a run-now request always is (its
/// pin is honoured even when the schedule is also due); then first run; then the schedule; then
/// the adaptive rule (degraded and `now >= last + min(normal, adaptive_interval)`).
pub fn due_work(input: &DueInput<'_>, calendar: &dyn CronCalendar) -> Option<DueTask> {
    if !input.enabled {
        return None;
    }
    let rotated = || {
        input
            .pool
            .next_runnable_after(
                input.last.and_then(|l| l.pool_entry.as_ref()),
                input.engines,
            )
            .cloned()
    };
    let task = |pool_entry: Option<PoolEntry>, reason| {
        let engine = pool_entry.as_ref().map_or(Engine::Ookla, PoolEntry::engine);
        Some(DueTask {
            pool_entry,
            engine,
            reason,
        })
    };
    if let Some(request) = input.run_now {
        let entry = request.pinned.clone().or_else(rotated);
        return task(entry, DueReason::RunNow);
    }
    let Some(last) = input.last else {
        return task(rotated(), DueReason::FirstRun);
    };
    if schedule_due(input, last, calendar) {
        return task(rotated(), DueReason::Schedule);
    }
    if input.policy.is_degraded(input.history) {
        let normal = input.schedule.normal_interval_seconds(input.connection_id);
        let effective = i64::from(input.policy.effective_interval(normal));
        if input.now.seconds_since(last.completed_at) >= effective {
            return task(rotated(), DueReason::Adaptive);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::degradation::HealthSample::{self, Failed as F, Healthy as H, Unhealthy as U};
    use crate::schedule::{CronSchedule, EvenSchedule, ListedTicks};
    use proptest::prelude::*;

    const NOW: i64 = 1_780_747_500; // 2026-06-06T12:05:00Z

    struct Case {
        id: ConnectionId,
        schedule: Schedule,
        pool: ServerPool,
        policy: AdaptivePolicy,
        last: Option<LastRun>,
        history: HealthHistory,
        run_now: Option<RunNowRequest>,
        enabled: bool,
    }

    impl Case {
        fn even(per_day: u32) -> Self {
            Self {
                id: ConnectionId::parse("11111111-1111-4111-8111-111111111111").unwrap(),
                schedule: Schedule::Even(EvenSchedule::new(per_day, 0).unwrap()),
                pool: ServerPool::parse_all(&["a", "b", "c"]).unwrap(),
                policy: AdaptivePolicy::new(300, 3, 5).unwrap(),
                last: None,
                history: HealthHistory::default(),
                run_now: None,
                enabled: true,
            }
        }
        fn last(mut self, seconds_ago: i64, entry: &str) -> Self {
            self.last = Some(LastRun {
                completed_at: Timestamp::from_unix_seconds(NOW - seconds_ago),
                pool_entry: Some(PoolEntry::parse(entry).unwrap()),
            });
            self
        }
        fn history(mut self, h: &[HealthSample]) -> Self {
            self.history = HealthHistory::from_newest_first(h.to_vec());
            self
        }
        fn decide_with(&self, cal: &dyn CronCalendar) -> Option<(Option<String>, DueReason)> {
            let input = DueInput {
                connection_id: &self.id,
                enabled: self.enabled,
                schedule: &self.schedule,
                pool: &self.pool,
                policy: &self.policy,
                last: self.last.as_ref(),
                history: &self.history,
                run_now: self.run_now.as_ref(),
                now: Timestamp::from_unix_seconds(NOW),
                engines: &[],
            };
            due_work(&input, cal).map(|t| (t.pool_entry.map(|e| e.as_str().to_owned()), t.reason))
        }
        fn decide(&self) -> Option<(Option<String>, DueReason)> {
            self.decide_with(&ListedTicks::new())
        }
    }

    #[allow(clippy::unnecessary_wraps)]
    fn due(entry: &str, reason: DueReason) -> Option<(Option<String>, DueReason)> {
        Some((Some(entry.to_owned()), reason))
    }

    #[test]
    fn even_schedule_examples_of_section_2() {
        assert_eq!(Case::even(24).decide(), due("a", DueReason::FirstRun));
        assert_eq!(
            Case::even(24).last(3600, "a").decide(),
            due("b", DueReason::Schedule)
        );
        assert_eq!(Case::even(24).last(1800, "a").decide(), None);
        assert_eq!(Case::even(24).last(3599, "a").decide(), None);
    }

    #[test]
    fn adaptive_examples_of_section_2() {
        let c = |ago, h: &[HealthSample]| Case::even(24).last(ago, "a").history(h).decide();
        assert_eq!(c(600, &[U]), due("b", DueReason::Adaptive));
        assert_eq!(c(200, &[U]), None);
        assert_eq!(c(600, &[H]), None);
        assert_eq!(c(600, &[F, F, F, F, F]), None, "back-off");
        assert_eq!(c(600, &[F, H]), due("b", DueReason::Adaptive));
        assert_eq!(c(600, &[F, F, F, F, H]), due("b", DueReason::Adaptive));
    }

    fn cron_case(expr: &str, cal: &ListedTicks) -> Case {
        let mut c = Case::even(24);
        c.schedule = Schedule::Cron(CronSchedule::new(vec![expr.into()], "UTC", cal).unwrap());
        c
    }

    #[test]
    fn cron_examples_of_section_2() {
        let from = Timestamp::from_unix_seconds(NOW - 3 * 86_400);
        let until = Timestamp::from_unix_seconds(NOW + 86_400);
        let every_minute = ListedTicks::every("* * * * *", 60, from, until);
        let c = cron_case("* * * * *", &every_minute).last(300, "a");
        assert_eq!(c.decide_with(&every_minute), due("b", DueReason::Schedule));

        let midnight = ListedTicks::every("0 0 * * *", 86_400, from, until);
        let m = cron_case("0 0 * * *", &midnight).last(60, "a");
        assert_eq!(m.decide_with(&midnight), None);
        let healthy = cron_case("0 0 * * *", &midnight)
            .last(600, "a")
            .history(&[H]);
        assert_eq!(healthy.decide_with(&midnight), None);
        let unhealthy = cron_case("0 0 * * *", &midnight)
            .last(600, "a")
            .history(&[U]);
        assert_eq!(
            unhealthy.decide_with(&midnight),
            due("b", DueReason::Adaptive)
        );
        // A tick exactly at the last completion does not count; the current minute does.
        let at_tick =
            ListedTicks::new().with("0 * * * *", vec![Timestamp::from_unix_seconds(NOW - 60)]);
        let c = cron_case("0 * * * *", &at_tick).last(60, "a");
        assert_eq!(c.decide_with(&at_tick), None);
        let c = cron_case("0 * * * *", &at_tick).last(61, "a");
        assert_eq!(c.decide_with(&at_tick), due("b", DueReason::Schedule));
    }

    #[test]
    fn run_now_pins_are_honoured_even_when_due() {
        let mut c = Case::even(24).last(7200, "a");
        c.run_now = Some(RunNowRequest {
            pinned: Some(PoolEntry::parse("c").unwrap()),
        });
        assert_eq!(c.decide(), due("c", DueReason::RunNow));
        c.run_now = Some(RunNowRequest::default());
        assert_eq!(c.decide(), due("b", DueReason::RunNow));
        c.enabled = false;
        assert_eq!(c.decide(), None);
    }

    #[test]
    fn the_rotation_skips_entries_the_agent_cannot_run() {
        let c = Case::even(24);
        let pool = ServerPool::parse_all(&["12345", "https://speed.example", "iperf3://10.0.0.1"])
            .unwrap();
        let decide = |last: Option<&str>, engines: &[Engine]| {
            let last = last.map(|e| LastRun {
                completed_at: Timestamp::from_unix_seconds(NOW - 86_400),
                pool_entry: Some(PoolEntry::parse(e).unwrap()),
            });
            let input = DueInput {
                connection_id: &c.id,
                enabled: true,
                schedule: &c.schedule,
                pool: &pool,
                policy: &c.policy,
                last: last.as_ref(),
                history: &c.history,
                run_now: None,
                now: Timestamp::from_unix_seconds(NOW),
                engines,
            };
            due_work(&input, &ListedTicks::new()).map(|t| t.pool_entry.unwrap().to_string())
        };
        // An agent without Ookla (nor iperf3) gets the HTTP entry, whatever came last.
        for last in [
            None,
            Some("12345"),
            Some("https://speed.example"),
            Some("iperf3://10.0.0.1"),
        ] {
            assert_eq!(
                decide(last, &[Engine::Http]).as_deref(),
                Some("https://speed.example")
            );
        }
        assert_eq!(
            decide(
                Some("https://speed.example"),
                &[Engine::Http, Engine::Ookla]
            )
            .as_deref(),
            Some("12345")
        );
        // An agent that did not say gets the plain rotation; one that can run none of them too
        // (its `tool-missing` result shows the problem).
        assert_eq!(
            decide(Some("12345"), &[]).as_deref(),
            Some("https://speed.example")
        );
        assert_eq!(
            decide(Some("https://speed.example"), &[Engine::Http]).as_deref(),
            Some("https://speed.example")
        );
    }

    #[test]
    fn empty_pools_let_the_engine_choose() {
        let mut c = Case::even(24);
        c.pool = ServerPool::default();
        let input = DueInput {
            connection_id: &c.id,
            enabled: true,
            schedule: &c.schedule,
            pool: &c.pool,
            policy: &c.policy,
            last: None,
            history: &c.history,
            run_now: None,
            now: Timestamp::from_unix_seconds(NOW),
            engines: &[],
        };
        let t = due_work(&input, &ListedTicks::new()).unwrap();
        assert_eq!((t.pool_entry, t.engine), (None, Engine::Ookla));
    }

    fn sample() -> impl Strategy<Value = HealthSample> {
        prop_oneof![Just(H), Just(U), Just(F), Just(HealthSample::Unjudged)]
    }

    proptest! {
        #[test]
        fn never_due_before_the_interval_unless_adaptive(
            per_day in 1u32..=1440,
            jitter in 0u32..=600,
            ago in 0i64..200_000,
            history in proptest::collection::vec(sample(), 0..12),
        ) {
            let mut c = Case::even(per_day).last(ago, "a").history(&history);
            c.schedule = Schedule::Even(EvenSchedule::new(per_day, jitter).unwrap());
            let interval = i64::from(c.schedule.normal_interval_seconds(&c.id));
            match c.decide() {
                Some((_, DueReason::Schedule)) => prop_assert!(ago >= interval),
                Some((_, DueReason::Adaptive)) => {
                    prop_assert!(c.policy.is_degraded(&c.history));
                    prop_assert!(ago >= i64::from(c.policy.effective_interval(interval as u32)));
                }
                Some((_, other)) => prop_assert!(false, "unexpected reason {other}"),
                None => prop_assert!(ago < interval),
            }
        }

        #[test]
        fn jitter_stays_within_bounds(jitter in 0u32..=86_400, seed in "[0-9a-f]{8}") {
            let id = ConnectionId::parse(&format!("{seed}-2222-4222-8222-222222222222")).unwrap();
            let s = EvenSchedule::new(24, jitter).unwrap();
            prop_assert!(s.jitter_for(&id) <= jitter);
        }
    }
}
