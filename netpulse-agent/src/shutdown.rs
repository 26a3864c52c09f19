//! The shutdown signal of the binary: SIGINT (Ctrl-C) or SIGTERM.

use std::future::Future;

/// Installs the SIGINT and SIGTERM handlers now (so that a signal arriving at any later moment
/// stops the agent cleanly instead of killing it) and returns a future that completes when
/// either arrives. Must be called inside a Tokio runtime.
#[cfg(unix)]
pub fn terminate_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
            _ = int.recv() => tracing::info!("SIGINT received, stopping"),
        }
    })
}

/// Completes on Ctrl-C (the handler is installed when the future is first polled).
#[cfg(not(unix))]
pub fn terminate_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C received, stopping");
        }
    })
}
