//! Running an external speed-test tool as a child process and capturing what it printed.
//!
//! The child is started without a shell (argv only), with stdin closed, in a process group of
//! its own (on Unix), and with `kill_on_drop`. On timeout the whole group is killed with
//! `SIGKILL`, so that helper processes the tool started do not linger; what it printed so far
//! is kept and a `timeout` marker line is appended to stderr. If the run is cancelled (its
//! future dropped) while the tool runs, the group is killed too.
//!
//! stdout is captured in full up to [`STDOUT_MAX_BYTES`]; stderr keeps its last
//! [`STDERR_TAIL_BYTES`]. Both are decoded as UTF-8, invalid sequences replaced.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use netpulse_domain::model::RawOutput;
use netpulse_ports::clock::Clock;
use netpulse_ports::runner::RunOutput;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{MarkerClass, append_marker, marker_line};

/// How much of stdout is kept at most (the rest is dropped and a marker says so).
pub const STDOUT_MAX_BYTES: usize = 32 * 1024 * 1024;

/// How much of stderr is kept: its last 64 KiB.
pub const STDERR_TAIL_BYTES: usize = 64 * 1024;

/// How long output readers may take to drain the pipes once the process group is gone.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// One process to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The program: a path, or a bare name looked up on `PATH`.
    pub program: PathBuf,
    /// The arguments (no shell is involved).
    pub args: Vec<OsString>,
    /// How long the process may run before its process group is killed.
    pub timeout: Duration,
}

impl ProcessSpec {
    /// A spec for `program` with string arguments.
    pub fn new<I, S>(program: impl Into<PathBuf>, args: I, timeout: Duration) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            timeout,
        }
    }

    /// The program's name for messages (its file name).
    fn display_name(&self) -> String {
        self.program.file_name().map_or_else(
            || self.program.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

/// Where an executable named `program` is: `program` itself when it contains a path separator
/// (and is an executable file), otherwise the first executable file of that name in a `PATH`
/// directory. `None` when there is none.
pub fn resolve_executable(program: &Path) -> Option<PathBuf> {
    if program.as_os_str().is_empty() {
        return None;
    }
    if program.components().count() > 1 {
        return is_executable_file(program).then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable_file(candidate))
}

fn is_executable_file(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Runs the process and returns what it printed, with agent marker lines appended to stderr
/// for failures the agent saw (binary missing, timeout, killed by a signal, output too
/// large). Never fails: every problem is part of the output.
pub async fn run_process(clock: &dyn Clock, spec: &ProcessSpec) -> RunOutput {
    let name = spec.display_name();
    let started_at = clock.now();
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);

    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let (class, message) = match e.kind() {
                std::io::ErrorKind::NotFound => (
                    MarkerClass::ToolMissing,
                    format!("{} was not found: {e}", spec.program.display()),
                ),
                std::io::ErrorKind::PermissionDenied => (
                    MarkerClass::ToolMissing,
                    format!("{} cannot be executed: {e}", spec.program.display()),
                ),
                _ => (
                    MarkerClass::Error,
                    format!("could not start {}: {e}", spec.program.display()),
                ),
            };
            return RunOutput {
                started_at,
                finished_at: clock.now(),
                raw: RawOutput {
                    exit_code: None,
                    stdout: String::new(),
                    stderr: marker_line(class, &message),
                },
            };
        }
    };
    let pid = child.id();
    let mut group = GroupGuard(pid);
    let stdout = Arc::new(Mutex::new(Capture::head(STDOUT_MAX_BYTES)));
    let stderr = Arc::new(Mutex::new(Capture::tail(STDERR_TAIL_BYTES)));
    let mut readers: Vec<JoinHandle<()>> = Vec::with_capacity(2);
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(read_into(out, Arc::clone(&stdout))));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(read_into(err, Arc::clone(&stderr))));
    }

    let deadline = Instant::now() + spec.timeout;
    let mut markers: Vec<(MarkerClass, String)> = Vec::new();
    let exit_code = match tokio::time::timeout_at(deadline, child.wait()).await {
        Ok(Ok(status)) => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if let Some(signal) = status.signal() {
                    markers.push((
                        MarkerClass::Error,
                        format!("{name} was killed by signal {signal}"),
                    ));
                }
            }
            status.code()
        }
        Ok(Err(e)) => {
            kill_group(pid);
            let _ = child.kill().await;
            markers.push((
                MarkerClass::Error,
                format!("waiting for {name} failed: {e}"),
            ));
            None
        }
        Err(_) => {
            kill_group(pid);
            let _ = child.kill().await;
            markers.push((
                MarkerClass::Timeout,
                format!(
                    "{name} did not finish within {}; it was stopped",
                    human_duration(spec.timeout)
                ),
            ));
            None
        }
    };

    // The pipes close once every process holding them is gone. A helper process that the tool
    // left behind may keep them open: wait until the deadline (at least the grace period),
    // then kill the group and stop reading.
    let drain_until = deadline.max(Instant::now() + DRAIN_GRACE);
    if !join_all_until(&mut readers, drain_until).await {
        kill_group(pid);
        if !join_all_until(&mut readers, Instant::now() + DRAIN_GRACE).await {
            for reader in &readers {
                reader.abort();
            }
        }
        if markers.is_empty() {
            markers.push((
                MarkerClass::Error,
                format!(
                    "{name} exited but a process it started kept its output open; it was stopped"
                ),
            ));
        }
    }

    group.disarm();
    let finished_at = clock.now();
    let stdout = take_capture(&stdout);
    let stderr = take_capture(&stderr);
    let stdout_text = String::from_utf8_lossy(&stdout.bytes).into_owned();
    let mut stderr_text = String::new();
    if stderr.dropped > 0 {
        let _ = writeln!(
            stderr_text,
            "[the first {} bytes of stderr were dropped]",
            stderr.dropped
        );
    }
    stderr_text.push_str(&String::from_utf8_lossy(&stderr.bytes));
    if stdout.dropped > 0 {
        markers.push((
            MarkerClass::Error,
            format!(
                "{name} printed more than {} bytes on stdout; the last {} bytes were dropped",
                STDOUT_MAX_BYTES, stdout.dropped
            ),
        ));
    }
    for (class, message) in markers {
        append_marker(&mut stderr_text, class, &message);
    }
    RunOutput {
        started_at,
        finished_at,
        raw: RawOutput {
            exit_code,
            stdout: stdout_text,
            stderr: stderr_text,
        },
    }
}

/// Waits for every reader until `until`; `true` when all finished.
async fn join_all_until(readers: &mut [JoinHandle<()>], until: Instant) -> bool {
    for reader in readers.iter_mut() {
        if reader.is_finished() {
            continue;
        }
        if tokio::time::timeout_at(until, &mut *reader).await.is_err() {
            return false;
        }
    }
    true
}

/// Kills the process group led by `pid` with `SIGKILL` (best effort; Unix only). The group
/// outlives its leader while any member is alive, so this also reaches helpers that the tool
/// left behind after exiting.
fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Kills the process group when dropped while armed: a cancelled run leaves no processes.
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0.take());
    }
}

/// `120 s`, `1.5 s`.
fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Captured output: either the head (up to a limit) or the tail (the last `limit` bytes).
#[derive(Debug, Default)]
struct Capture {
    bytes: Vec<u8>,
    limit: usize,
    keep_tail: bool,
    dropped: usize,
}

impl Capture {
    fn head(limit: usize) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    fn tail(limit: usize) -> Self {
        Self {
            limit,
            keep_tail: true,
            ..Self::default()
        }
    }

    fn push(&mut self, data: &[u8]) {
        if self.keep_tail {
            self.bytes.extend_from_slice(data);
            // Trim in batches so that a chatty tool does not cause a memmove per read.
            if self.bytes.len() > 2 * self.limit {
                self.trim_tail();
            }
        } else {
            let room = self.limit.saturating_sub(self.bytes.len());
            let take = room.min(data.len());
            self.bytes.extend_from_slice(&data[..take]);
            self.dropped += data.len() - take;
        }
    }

    fn trim_tail(&mut self) {
        if self.bytes.len() > self.limit {
            let excess = self.bytes.len() - self.limit;
            self.bytes.drain(..excess);
            self.dropped += excess;
        }
    }
}

fn take_capture(capture: &Mutex<Capture>) -> Capture {
    let mut guard = capture
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut taken = std::mem::take(&mut *guard);
    if taken.keep_tail {
        taken.trim_tail();
    }
    taken
}

async fn read_into(mut pipe: impl AsyncRead + Unpin, into: Arc<Mutex<Capture>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => into
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(&buf[..n]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_capture_keeps_the_beginning_and_counts_the_rest() {
        let mut c = Capture::head(5);
        c.push(b"abc");
        c.push(b"defgh");
        assert_eq!(c.bytes, b"abcde");
        assert_eq!(c.dropped, 3);
    }

    #[test]
    fn tail_capture_keeps_the_end() {
        let m = Mutex::new(Capture::tail(4));
        for chunk in [&b"0123"[..], b"4567", b"89", b"abcdef"] {
            m.lock().unwrap().push(chunk);
        }
        let c = take_capture(&m);
        assert_eq!(c.bytes, b"cdef");
        assert_eq!(c.dropped, 12);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_mins(2)), "120 s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn executables_resolve_on_path_and_by_path() {
        let sh = resolve_executable(Path::new("sh")).expect("sh is on PATH");
        assert!(sh.is_absolute());
        assert_eq!(resolve_executable(&sh), Some(sh.clone()));
        assert_eq!(
            resolve_executable(Path::new("netpulse-no-such-tool-here")),
            None
        );
        // A file that exists but is not executable.
        let plain =
            std::env::temp_dir().join(format!("netpulse-not-executable-{}", std::process::id()));
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let resolved = resolve_executable(&plain);
        std::fs::remove_file(&plain).unwrap();
        assert_eq!(resolved, None);
        assert_eq!(resolve_executable(Path::new("")), None);
    }
}
