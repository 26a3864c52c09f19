//! Connectivity checks on the agent (issue 14): the probe's check set comes with `/due`
//! ([`CheckRounds::update`]); the agent runs **rounds** on its own clock at its deterministic
//! offset (`crc32(probe id) mod period`), so it keeps measuring while the server is away. In a
//! round every due check starts, spread over 2 s; all results carry the round's scheduled time
//! and are flagged `duringSpeedTest` when a speed test ran meanwhile, and `afterResume` when the
//! round ran within 30 s after the host resumed from a suspend ([`suspend`]; the server counts
//! failures in such a round as unknown, not as an outage). Each round is spooled
//! ([`spool`]) before it is pushed in batches to `POST /check-results`; the server is
//! idempotent on (check, family, round), so a replayed spool counts once.
//!
//! The rounds run on a thread of their own with a current-thread runtime ([`thread`]).
//!
//! `netpulse-agent --test` ([`table`]) runs every check once and prints a table.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netpulse_adapters::checks::CheckEngine;
use netpulse_adapters::wire_checks::MAX_CHECK_RESULTS_PER_BATCH;
use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckMeasurement, CheckSetVersion, round};
use netpulse_ports::agent_api::{AgentApi, CheckSet};
use tokio::sync::Notify;

pub mod spool;
pub mod suspend;
pub mod table;
pub mod test_run;
pub mod thread;

use spool::CheckSpool;
use suspend::{SuspendClocks, SuspendDetector, SystemSuspendClocks};

/// The most rounds the check spool keeps (a week of minutes).
pub const MAX_SPOOLED_ROUNDS: usize = 10_080;

/// The wall clock as a [`Timestamp`].
pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_unix_millis(ms)
}

/// The check rounds of one agent.
#[derive(Debug)]
pub struct CheckRounds {
    engine: CheckEngine,
    set: std::sync::Mutex<Option<CheckSet>>,
    changed: Notify,
    spool: Option<CheckSpool>,
    agent_key: String,
    speed_tests_running: AtomicU32,
    speed_tests_started: AtomicU64,
    suspend: SuspendDetector,
}

/// Marks a speed test as running while it lives ([`CheckRounds::speed_test`]).
#[derive(Debug)]
pub struct SpeedTestGuard(Arc<CheckRounds>);

impl Drop for SpeedTestGuard {
    fn drop(&mut self) {
        self.0.speed_tests_running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What pushing the spool did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PushReport {
    /// Results the server took now.
    pub recorded: u32,
    /// Results it had already.
    pub duplicates: u32,
    /// Results for checks that no longer exist (dropped).
    pub unknown_checks: u32,
    /// Rounds still waiting.
    pub pending_rounds: usize,
}

impl CheckRounds {
    /// Rounds spooling into `<spool_dir>/checks`; `agent_key` (the probe id) sets the offset.
    /// The last check set kept in the spool is taken up again.
    pub fn new(spool_dir: &std::path::Path, agent_key: &str) -> std::io::Result<Self> {
        let spool = CheckSpool::open(spool_dir, MAX_SPOOLED_ROUNDS)?;
        let kept = spool.load_set();
        if let Some(set) = &kept {
            tracing::info!(version = %set.version, checks = set.items.len(), "check set taken up from the spool");
        }
        Ok(Self {
            engine: CheckEngine::new(),
            set: std::sync::Mutex::new(kept),
            changed: Notify::new(),
            spool: Some(spool),
            agent_key: agent_key.to_owned(),
            speed_tests_running: AtomicU32::new(0),
            speed_tests_started: AtomicU64::new(0),
            suspend: SuspendDetector::new(Box::new(SystemSuspendClocks)),
        })
    }

    /// Rounds that spool nothing (for `--test`).
    pub fn without_spool(agent_key: &str) -> Self {
        Self {
            engine: CheckEngine::new(),
            set: std::sync::Mutex::new(None),
            changed: Notify::new(),
            spool: None,
            agent_key: agent_key.to_owned(),
            speed_tests_running: AtomicU32::new(0),
            speed_tests_started: AtomicU64::new(0),
            suspend: SuspendDetector::new(Box::new(SystemSuspendClocks)),
        }
    }

    /// These rounds with `clocks` telling suspends (tests drive a suspend with them).
    #[must_use]
    pub fn with_suspend_clocks(mut self, clocks: Box<dyn SuspendClocks>) -> Self {
        self.suspend = SuspendDetector::new(clocks);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CheckSet>> {
        self.set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The spool (`None` for `--test`).
    pub fn spool(&self) -> Option<&CheckSpool> {
        self.spool.as_ref()
    }

    /// The version of the set held, for `checksVersion`.
    pub fn version(&self) -> Option<CheckSetVersion> {
        self.lock().as_ref().map(|s| s.version.clone())
    }

    /// The set held.
    pub fn set(&self) -> Option<CheckSet> {
        self.lock().clone()
    }

    /// Takes the `checks` of a `/due` answer: none (an old server) or "unchanged" keeps the
    /// current set; anything else replaces it.
    pub fn update(&self, checks: Option<CheckSet>) {
        let Some(new) = checks else { return };
        let mut set = self.lock();
        if new.unchanged && set.as_ref().is_some_and(|s| s.version == new.version) {
            return;
        }
        if new.unchanged {
            // "Unchanged" for a version we do not hold: keep what we have.
            return;
        }
        tracing::info!(version = %new.version, checks = new.items.len(), period_s = new.period_s, "check set updated");
        if let Some(spool) = &self.spool
            && set.as_ref() != Some(&new)
            && let Err(e) = spool.save_set(&new)
        {
            tracing::warn!(error = %e, "cannot keep the check set in the spool");
        }
        *set = Some(new);
        drop(set);
        self.changed.notify_waiters();
    }

    /// Flags the checks of the rounds running while the guard lives as `duringSpeedTest`.
    pub fn speed_test(self: &Arc<Self>) -> SpeedTestGuard {
        self.speed_tests_running.fetch_add(1, Ordering::SeqCst);
        self.speed_tests_started.fetch_add(1, Ordering::SeqCst);
        SpeedTestGuard(Arc::clone(self))
    }

    /// The offset of this agent's rounds into the period, ms.
    pub fn offset_ms(&self, period_s: u32) -> i64 {
        round::offset_ms(&self.agent_key, period_s)
    }

    /// Runs the checks due in the round scheduled at `round_at`, their starts spread over 2 s;
    /// with `every` (`--test`), all of them at once. The results are flagged `afterResume` when
    /// the round started or ended within the grace after a resume.
    pub async fn run_round(
        &self,
        set: &CheckSet,
        round_at: Timestamp,
        every: bool,
    ) -> Vec<CheckMeasurement> {
        let due: Vec<_> = set
            .items
            .iter()
            .filter(|(_, spec)| {
                every || round::runs_in_round(spec.interval_s, set.period_s, round_at)
            })
            .collect();
        let grace_at_start = self.suspend.in_grace();
        let started_before = self.speed_tests_started.load(Ordering::SeqCst);
        let running_before = self.speed_tests_running.load(Ordering::SeqCst) > 0;
        let count = due.len();
        let runs = due
            .into_iter()
            .enumerate()
            .map(|(i, (id, spec))| async move {
                if !every {
                    tokio::time::sleep(Duration::from_millis(round::stagger_ms(i, count))).await;
                }
                self.engine.run(id, spec, round_at).await
            });
        let mut results: Vec<CheckMeasurement> = futures_util::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect();
        let during = running_before
            || self.speed_tests_running.load(Ordering::SeqCst) > 0
            || self.speed_tests_started.load(Ordering::SeqCst) != started_before;
        let after_resume = grace_at_start || self.suspend.in_grace();
        for m in &mut results {
            m.during_speed_test = during;
            m.after_resume = after_resume;
        }
        results
    }

    async fn blocking<T: Send + 'static>(
        &self,
        op: impl FnOnce(&CheckSpool) -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        let Some(spool) = self.spool.clone() else {
            return Err(std::io::Error::other("these rounds have no spool"));
        };
        tokio::task::spawn_blocking(move || op(&spool))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
    }

    /// Spools one round's results.
    pub async fn store(&self, round_at: Timestamp, results: Vec<CheckMeasurement>) {
        let ms = round_at.unix_millis();
        match self.blocking(move |s| s.store(ms, &results)).await {
            Ok(0) => {}
            Ok(dropped) => {
                tracing::warn!(dropped, "check spool full: the oldest rounds were dropped");
            }
            Err(e) => tracing::error!(error = %e, "cannot spool check results"),
        }
    }

    /// Pushes the spooled rounds, oldest first, in batches of at most 5,000 results, until
    /// the spool is empty or a push fails (the rest waits for the next round).
    pub async fn push_spooled(&self, api: &dyn AgentApi) -> PushReport {
        let mut report = PushReport::default();
        let Ok(pending) = self.blocking(CheckSpool::pending).await else {
            return report;
        };
        let mut rest = pending.as_slice();
        while !rest.is_empty() {
            let mut batch = Vec::new();
            let mut taken = 0;
            for entry in rest {
                let entry = entry.clone();
                let results = self
                    .blocking(move |s| Ok(s.load(&entry)))
                    .await
                    .unwrap_or_default();
                if !batch.is_empty() && batch.len() + results.len() > MAX_CHECK_RESULTS_PER_BATCH {
                    break;
                }
                batch.extend(results);
                taken += 1;
            }
            let (now, later) = rest.split_at(taken);
            if !batch.is_empty() {
                match api.push_check_results(&batch).await {
                    Ok(outcome) => {
                        report.recorded += outcome.recorded;
                        report.duplicates += outcome.duplicates;
                        report.unknown_checks += outcome.unknown_checks;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, rounds = rest.len(), "pushing check results failed; they stay spooled");
                        report.pending_rounds = rest.len();
                        // They stay: now they go to the disk (spool::CheckSpool::sync).
                        if let Err(e) = self.blocking(CheckSpool::sync).await {
                            tracing::error!(error = %e, "cannot flush the check spool to the disk");
                        }
                        return report;
                    }
                }
            }
            let done = now.to_vec();
            let _ = self
                .blocking(move |s| {
                    s.remove(&done);
                    Ok(())
                })
                .await;
            rest = later;
        }
        report
    }

    /// Runs rounds forever (the caller drops the future to stop): waits for a set, sleeps to
    /// the next round at this agent's offset, runs it, spools it and pushes the spool. A
    /// suspend noticed while sleeping (the sleep's monotonic timer stops with the host) makes
    /// it pick the next round from the wall clock again instead of running a stale one.
    pub async fn run_forever(self: Arc<Self>, api: Arc<dyn AgentApi>) {
        loop {
            let Some(set) = self.set().filter(|s| !s.items.is_empty()) else {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if self.set().is_some_and(|s| !s.items.is_empty()) {
                    continue;
                }
                changed.await;
                continue;
            };
            let offset = self.offset_ms(set.period_s);
            let next = round::next_round_after(now(), set.period_s, offset);
            let wait = u64::try_from(next.unix_millis() - now().unix_millis()).unwrap_or(0);
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(wait)) => {}
                () = self.changed.notified() => continue,
                () = self.suspend.watch() => continue,
            }
            if now().unix_millis() - next.unix_millis() > i64::from(set.period_s) * 1000 {
                // Slept through its time (a suspend just before it was due): pick again.
                continue;
            }
            let Some(set) = self.set() else { continue };
            let results = self.run_round(&set, next, false).await;
            tracing::debug!(round_at = %next.to_rfc3339(), results = results.len(), "check round done");
            self.store(next, results).await;
            let pushed = self.push_spooled(api.as_ref()).await;
            tracing::debug!(?pushed, "check results pushed");
        }
    }
}
