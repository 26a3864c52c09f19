//! The thread the check rounds run on: a current-thread Tokio runtime of their own, beside the
//! agent's multi-threaded one.
//!
//! A round is a burst of short socket waits (20 echo slots, 4 HTTP exchanges, the spool
//! write); on a multi-threaded runtime every wake-up of one of them may land on another worker
//! and costs a cross-thread `futex` wake and steal (about 80 `futex` calls a round were
//! measured). On one thread the round's tasks (the ICMP receivers, the HTTP connections) wake
//! each other without leaving it. The engine's sockets belong to the runtime of its first
//! round, so every round of a [`CheckRounds`] runs here.

use std::sync::Arc;

use netpulse_ports::agent_api::AgentApi;
use tokio::sync::oneshot;

use super::CheckRounds;

/// The runtime check rounds run on (the agent's thread and the benchmark use this one).
pub fn round_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Check rounds running on their own thread ([`CheckRounds::run_forever`]); stopped by
/// [`RoundsThread::stop`] or, without waiting, by dropping it.
#[derive(Debug)]
pub struct RoundsThread {
    stop: Option<oneshot::Sender<()>>,
    stopped: Option<oneshot::Receiver<()>>,
}

impl RoundsThread {
    /// Starts `rounds.run_forever(api)` on a new thread named `netpulse-checks`.
    pub fn start(rounds: Arc<CheckRounds>, api: Arc<dyn AgentApi>) -> std::io::Result<Self> {
        let runtime = round_runtime()?;
        let (stop, stop_asked) = oneshot::channel::<()>();
        let (done, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("netpulse-checks".to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    tokio::select! {
                        () = rounds.run_forever(api) => {}
                        _ = stop_asked => {}
                    }
                });
                // Dropping the runtime ends its tasks and waits for a spool write under way.
                drop(runtime);
                let _ = done.send(());
            })?;
        Ok(Self {
            stop: Some(stop),
            stopped: Some(stopped),
        })
    }

    /// Stops the rounds (a round under way is abandoned; a spool write under way finishes)
    /// and waits until the thread is done.
    pub async fn stop(mut self) {
        drop(self.stop.take());
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.await;
        }
    }
}

impl Drop for RoundsThread {
    fn drop(&mut self) {
        // Dropping the sender tells the thread to stop; it is not waited for here.
        drop(self.stop.take());
    }
}
