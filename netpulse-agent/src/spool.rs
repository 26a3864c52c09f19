//! The spool: finished results wait here, durably, until the server has them.
//!
//! Layout of the spool directory:
//!
//! - `<result-id>.json`: one pending result each, in the JSON shape of the push body (the wire
//!   contract, `netpulse_adapters::wire::ResultPushBody`) plus `"format": 1` (see
//!   [`SpoolRecord`]). Result ids are UUID v7, which sort by creation time,
//!   so file-name order is age order: replay and eviction go oldest first.
//! - `.<result-id>.json.tmp`: a result being written. A crash can leave one behind; they are
//!   deleted when the spool is opened (the result they held had not been stored yet, so it was
//!   never pushed either).
//! - `rejected/<result-id>.json` (+ `.reason.txt`): results the server refused for good
//!   (a 4xx other than 401/403), kept for inspection.
//! - `corrupt/<name>` (+ `.reason.txt`): files that could not be read as a result.
//! - `.<result-id>.json.attempts`: how often the server answered that result with a 5xx, and
//!   for how many more replays it is set back (see [`Attempts`]); deleted with the result.
//! - `.lock`: held (advisory lock) by the agent using the spool, so two agents never share one.
//!
//! Writes are atomic and durable: the temporary file is written and fsynced, renamed into
//! place, and the directory is fsynced, so after a crash a result is either fully there or not
//! there at all.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use netpulse_adapters::wire::ResultPushBody;
use netpulse_ports::agent_api::ResultPush;
use serde::{Deserialize, Serialize};

/// The version of the spool file format.
pub const SPOOL_FORMAT: u32 = 1;

/// The folder (inside the spool) for results the server rejected.
pub const REJECTED_DIR: &str = "rejected";

/// The folder (inside the spool) for files that could not be read.
pub const CORRUPT_DIR: &str = "corrupt";

const LOCK_FILE: &str = ".lock";
const TMP_SUFFIX: &str = ".tmp";
const ATTEMPTS_SUFFIX: &str = ".attempts";

/// Server errors (5xx) a result may get in a row before the replay moves on past it.
pub const SERVER_ERRORS_BEFORE_SETTING_BACK: u32 = 3;

/// The most replays a result that keeps failing is set back for.
pub const MAX_SET_BACK_REPLAYS: u32 = 64;

/// The delivery history of one spooled result the server answered with a 5xx, kept beside it
/// (`.<result-id>.json.attempts`) so it survives restarts and `--once` runs.
///
/// A result answered with a 5xx [`SERVER_ERRORS_BEFORE_SETTING_BACK`] times in a row is set
/// back: it stays in the spool, the replay skips it for the next 1, 2, 4, … replays (at most
/// [`MAX_SET_BACK_REPLAYS`]) and goes on with the results behind it, so one result the server
/// cannot take never blocks the others. Before that, a 5xx stops the replay (the server is
/// probably failing for every result). A delivery or a rejection deletes the record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempts {
    /// 5xx answers in a row.
    pub server_errors: u32,
    /// Replays still to skip this result for.
    pub skip_replays: u32,
}

impl Attempts {
    /// The record after one more 5xx answer.
    #[must_use]
    pub fn after_server_error(self) -> Self {
        let server_errors = self.server_errors.saturating_add(1);
        let skip_replays = match server_errors.checked_sub(SERVER_ERRORS_BEFORE_SETTING_BACK) {
            None => 0,
            Some(extra) => 1u32
                .checked_shl(extra)
                .unwrap_or(MAX_SET_BACK_REPLAYS)
                .min(MAX_SET_BACK_REPLAYS),
        };
        Self {
            server_errors,
            skip_replays,
        }
    }

    /// Whether the result is set back (the replay moves on past it).
    pub fn set_back(self) -> bool {
        self.server_errors >= SERVER_ERRORS_BEFORE_SETTING_BACK
    }
}

/// Why a spool operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// A file-system operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done, e.g. `write`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Another process holds the spool's lock.
    #[error(
        "the spool directory {0} is in use by another agent (each agent needs its own spool \
         directory)"
    )]
    Locked(PathBuf),
    /// A spooled file is not a readable result.
    #[error("{path} is not a spooled result: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> SpoolError + 'a {
    move |source| SpoolError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// One spooled result, exactly as stored: the push body ([`ResultPushBody`], the wire
/// contract) plus the format version, `{"format":1,"resultId":…,…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolRecord {
    /// Always [`SPOOL_FORMAT`].
    pub format: u32,
    /// The result, as it is pushed.
    #[serde(flatten)]
    pub push: ResultPushBody,
}

impl SpoolRecord {
    /// The record of a result.
    pub fn from_result(result: &ResultPush) -> Self {
        Self {
            format: SPOOL_FORMAT,
            push: ResultPushBody::from(result),
        }
    }

    /// The result, with every field validated.
    pub fn into_result(self) -> Result<ResultPush, String> {
        if self.format != SPOOL_FORMAT {
            return Err(format!(
                "unknown format {} (this agent reads {SPOOL_FORMAT})",
                self.format
            ));
        }
        ResultPush::try_from(self.push).map_err(|e| e.to_string())
    }
}

/// A pending result's file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpooledFile {
    name: String,
    path: PathBuf,
}

impl SpooledFile {
    /// The file name (`<result-id>.json`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What [`Spool::open`] found and tidied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Results waiting to be pushed.
    pub pending: usize,
    /// Half-written temporary files that were deleted.
    pub removed_temporary: usize,
    /// Results evicted because there were more than the cap.
    pub evicted: Vec<String>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    max_results: usize,
    _lock: File,
}

/// The spool directory of one agent. Cheap to clone (all clones share the lock). Its methods
/// do blocking file I/O: call them from `spawn_blocking` in async code.
#[derive(Debug, Clone)]
pub struct Spool {
    inner: Arc<Inner>,
}

/// Fsyncs a directory so that renames and deletions in it survive a crash.
fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error("fsync", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl Spool {
    /// Opens (creating it if needed) and locks the spool directory, deletes half-written
    /// temporary files, and evicts the oldest results beyond `max_results` (at least 1).
    pub fn open(dir: &Path, max_results: usize) -> Result<(Self, OpenReport), SpoolError> {
        fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error("open", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(SpoolError::Locked(dir.to_owned())),
            Err(fs::TryLockError::Error(e)) => return Err(io_error("lock", &lock_path)(e)),
        }
        let spool = Self {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                max_results: max_results.max(1),
                _lock: lock,
            }),
        };
        let mut report = OpenReport::default();
        for entry in fs::read_dir(dir).map_err(io_error("list", dir))? {
            let entry = entry.map_err(io_error("list", dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(TMP_SUFFIX) && entry.file_type().is_ok_and(|t| t.is_file()) {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_error("delete", &path))?;
                tracing::warn!(file = %path.display(), "deleted a half-written spool file left by an interrupted run");
                report.removed_temporary += 1;
            } else if let Some(result) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(ATTEMPTS_SUFFIX))
                && !dir.join(result).exists()
            {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_error("delete", &path))?;
            }
        }
        if report.removed_temporary > 0 {
            sync_dir(dir)?;
        }
        report.evicted = spool.evict_over_cap()?;
        report.pending = spool.pending()?.len();
        Ok((spool, report))
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The cap on pending results.
    pub fn max_results(&self) -> usize {
        self.inner.max_results
    }

    /// The pending results' files, oldest first.
    pub fn pending(&self) -> Result<Vec<SpooledFile>, SpoolError> {
        let dir = self.dir();
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).map_err(io_error("list", dir))? {
            let entry = entry.map_err(io_error("list", dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.')
                || Path::new(&name).extension().is_none_or(|e| e != "json")
                || !entry.file_type().is_ok_and(|t| t.is_file())
            {
                continue;
            }
            files.push(SpooledFile {
                path: entry.path(),
                name,
            });
        }
        files.sort();
        Ok(files)
    }

    /// Stores a result durably and returns its file, then evicts the oldest results beyond
    /// the cap (logged; the ids are returned too). Storing a result id twice replaces it.
    pub fn store(&self, result: &ResultPush) -> Result<(SpooledFile, Vec<String>), SpoolError> {
        let name = format!("{}.json", result.result_id);
        let path = self.dir().join(&name);
        let tmp = self.dir().join(format!(".{name}{TMP_SUFFIX}"));
        let json = serde_json::to_vec_pretty(&SpoolRecord::from_result(result))
            .map_err(|e| io_error("encode", &path)(io::Error::other(e)))?;
        let written = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("write", &tmp)(e));
        }
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("rename into place", &path)(e));
        }
        sync_dir(self.dir())?;
        let evicted = self.evict_over_cap()?;
        Ok((SpooledFile { name, path }, evicted))
    }

    /// Reads a pending result.
    pub fn load(&self, file: &SpooledFile) -> Result<ResultPush, SpoolError> {
        let bytes = fs::read(file.path()).map_err(io_error("read", file.path()))?;
        let corrupt = |reason: String| SpoolError::Corrupt {
            path: file.path().to_owned(),
            reason,
        };
        let record: SpoolRecord = serde_json::from_slice(&bytes)
            .map_err(|e| corrupt(format!("not a spool record ({e})")))?;
        record.into_result().map_err(corrupt)
    }

    /// Deletes a delivered result (durably; a result that comes back after a crash is pushed
    /// again, which the server answers with "already recorded").
    pub fn remove(&self, file: &SpooledFile) -> Result<(), SpoolError> {
        self.forget_attempts(file)?;
        match fs::remove_file(file.path()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error("delete", file.path())(e)),
        }
        sync_dir(self.dir())
    }

    /// Moves a result the server rejected for good into `rejected/`, with the reason beside it.
    pub fn reject(&self, file: &SpooledFile, reason: &str) -> Result<PathBuf, SpoolError> {
        self.set_aside(file, REJECTED_DIR, reason)
    }

    /// Moves an unreadable file into `corrupt/`, with the reason beside it.
    pub fn quarantine(&self, file: &SpooledFile, reason: &str) -> Result<PathBuf, SpoolError> {
        self.set_aside(file, CORRUPT_DIR, reason)
    }

    fn set_aside(
        &self,
        file: &SpooledFile,
        folder: &str,
        reason: &str,
    ) -> Result<PathBuf, SpoolError> {
        self.forget_attempts(file)?;
        let dir = self.dir().join(folder);
        fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        let reason_path = dir.join(format!("{}.reason.txt", file.name()));
        let written = (|| {
            let mut f = File::create(&reason_path)?;
            f.write_all(reason.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()
        })();
        written.map_err(io_error("write", &reason_path))?;
        let target = dir.join(file.name());
        fs::rename(file.path(), &target).map_err(io_error("move", file.path()))?;
        sync_dir(&dir)?;
        sync_dir(self.dir())?;
        Ok(target)
    }

    fn attempts_path(&self, file: &SpooledFile) -> PathBuf {
        self.dir()
            .join(format!(".{}{ATTEMPTS_SUFFIX}", file.name()))
    }

    /// The delivery history of a pending result (the default when it has none, or when its
    /// record cannot be read).
    pub fn attempts(&self, file: &SpooledFile) -> Attempts {
        fs::read(self.attempts_path(file))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Replaces the delivery history of a pending result (durably).
    pub fn set_attempts(&self, file: &SpooledFile, attempts: Attempts) -> Result<(), SpoolError> {
        let path = self.attempts_path(file);
        let tmp = self
            .dir()
            .join(format!(".{}{ATTEMPTS_SUFFIX}{TMP_SUFFIX}", file.name()));
        let json = serde_json::to_vec(&attempts)
            .map_err(|e| io_error("encode", &path)(io::Error::other(e)))?;
        let written = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io_error("write", &path)(e));
        }
        sync_dir(self.dir())
    }

    fn forget_attempts(&self, file: &SpooledFile) -> Result<(), SpoolError> {
        let path = self.attempts_path(file);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("delete", &path)(e)),
        }
    }

    /// Deletes the oldest pending results beyond the cap; returns their file names.
    fn evict_over_cap(&self) -> Result<Vec<String>, SpoolError> {
        let pending = self.pending()?;
        let excess = pending.len().saturating_sub(self.max_results());
        let mut evicted = Vec::with_capacity(excess);
        for file in pending.into_iter().take(excess) {
            self.forget_attempts(&file)?;
            match fs::remove_file(file.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("evict", file.path())(e)),
            }
            tracing::error!(
                file = %file.path().display(),
                cap = self.max_results(),
                "spool full: dropped the oldest undelivered result"
            );
            evicted.push(file.name);
        }
        if !evicted.is_empty() {
            sync_dir(self.dir())?;
        }
        Ok(evicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file exactly as the agent wrote it before the push body moved to the wire contract.
    const WRITTEN_BEFORE: &str = r#"{
  "format": 1,
  "resultId": "01890000-0000-7000-8000-000000000001",
  "connectionId": "22222222-2222-4222-8222-222222222222",
  "taskId": null,
  "engine": "ookla",
  "poolEntry": "12345",
  "startedAt": "2026-06-06T12:05:00.250Z",
  "finishedAt": "2026-06-06T12:05:30Z",
  "scheduled": true,
  "exitCode": 0,
  "stdout": "{\"type\":\"result\"}",
  "stderr": ""
}"#;

    #[test]
    fn files_written_before_still_load_and_are_written_the_same_way() {
        let record: SpoolRecord = serde_json::from_str(WRITTEN_BEFORE).unwrap();
        let result = record.into_result().unwrap();
        assert_eq!(
            result.result_id.as_str(),
            "01890000-0000-7000-8000-000000000001"
        );
        assert_eq!(result.task_id, None);
        assert_eq!(result.raw.exit_code, Some(0));
        assert_eq!(
            result.started_at,
            netpulse_domain::Timestamp::from_unix_millis(1_780_747_500_250)
        );
        let written = serde_json::to_string_pretty(&SpoolRecord::from_result(&result)).unwrap();
        assert_eq!(written, WRITTEN_BEFORE);
    }

    #[test]
    fn other_formats_and_bad_fields_are_refused() {
        let mut record: SpoolRecord = serde_json::from_str(WRITTEN_BEFORE).unwrap();
        record.format = 2;
        assert!(
            record
                .clone()
                .into_result()
                .unwrap_err()
                .contains("unknown format 2")
        );
        record.format = SPOOL_FORMAT;
        record.push.started_at = "yesterday".to_owned();
        assert!(record.into_result().unwrap_err().contains("yesterday"));
        // A missing optional field reads as null, as before.
        let without_task: SpoolRecord =
            serde_json::from_str(&WRITTEN_BEFORE.replace("  \"taskId\": null,\n", "")).unwrap();
        assert_eq!(without_task.push.task_id, None);
    }
}
