//! The check-result spool: one file per round in `<spool>/checks/`, written atomically
//! (temporary file, then rename) before anything is pushed, removed once the server has
//! acknowledged the batch it was in. A round is flushed to the disk (`fsync` of the file and
//! the directory) only when it stays: when its push failed ([`CheckSpool::sync`]). Most rounds
//! are pushed and removed a few milliseconds after they were written, and the file then never
//! reaches the disk; a process that dies in between loses nothing (the file is in the page
//! cache), only a power loss or kernel crash inside that window can lose the round. Oldest first; beyond the cap the oldest rounds are
//! dropped (and counted). Replays are harmless: the server is idempotent on (check, family,
//! round). The directory lives inside the agent's spool, whose lock it shares.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use netpulse_adapters::wire_checks::{CheckResultBody, DueChecksBody};
use netpulse_domain::check::CheckMeasurement;
use netpulse_ports::agent_api::CheckSet;
use serde::{Deserialize, Serialize};

/// The folder inside the spool.
pub const CHECKS_DIR: &str = "checks";
/// The file keeping the last check set.
pub const SET_FILE: &str = "set.json";
/// The format number of a round file.
pub const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct RoundFile {
    format: u32,
    results: Vec<CheckResultBody>,
}

/// A spool of check rounds. Blocking file I/O: call it from `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct CheckSpool {
    dir: PathBuf,
    max_rounds: usize,
    /// Rounds written since the last [`CheckSpool::sync`], not yet flushed to the disk.
    unsynced: Arc<Mutex<Vec<PathBuf>>>,
}

/// One spooled round.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoundEntry {
    /// The file.
    pub path: PathBuf,
}

impl CheckSpool {
    /// Opens (creating) `<spool_dir>/checks`, keeping at most `max_rounds` rounds.
    pub fn open(spool_dir: &Path, max_rounds: usize) -> std::io::Result<Self> {
        let dir = spool_dir.join(CHECKS_DIR);
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            dir,
            max_rounds: max_rounds.max(1),
            unsynced: Arc::default(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The check set kept from the last `/due` that carried one, if any (so that a restart
    /// while the server is away still measures).
    pub fn load_set(&self) -> Option<CheckSet> {
        let text = fs::read_to_string(self.dir.join(SET_FILE)).ok()?;
        let body: DueChecksBody = serde_json::from_str(&text).ok()?;
        CheckSet::try_from(body).ok()
    }

    /// Keeps the check set (atomically replaced).
    pub fn save_set(&self, set: &CheckSet) -> std::io::Result<()> {
        let json = serde_json::to_vec(&DueChecksBody::new(set)).map_err(std::io::Error::other)?;
        let path = self.dir.join(SET_FILE);
        let tmp = self.dir.join(format!("{SET_FILE}.tmp"));
        fs::write(&tmp, json)?;
        fs::rename(&tmp, &path)
    }

    /// Stores one round's results; returns how many old rounds were dropped to make room.
    pub fn store(&self, round_at_ms: i64, results: &[CheckMeasurement]) -> std::io::Result<usize> {
        if results.is_empty() {
            return Ok(0);
        }
        let body = RoundFile {
            format: FORMAT,
            results: results.iter().map(CheckResultBody::from).collect(),
        };
        let json = serde_json::to_vec(&body).map_err(std::io::Error::other)?;
        let mut n = 0;
        let path = loop {
            let p = self
                .dir
                .join(format!("round-{round_at_ms:015}-{n:03}.json"));
            if !p.exists() {
                break p;
            }
            n += 1;
        };
        let tmp = path.with_extension("json.tmp");
        fs::write(&tmp, &json)?;
        fs::rename(&tmp, &path)?;
        self.unsynced().push(path);
        let pending = self.pending()?;
        let excess = pending.len().saturating_sub(self.max_rounds);
        for old in &pending[..excess] {
            let _ = fs::remove_file(&old.path);
        }
        Ok(excess)
    }

    fn unsynced(&self) -> std::sync::MutexGuard<'_, Vec<PathBuf>> {
        self.unsynced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Flushes the rounds written since the last call (those still spooled) and the directory
    /// to the disk: called when a push failed, so that what stays survives a power loss.
    pub fn sync(&self) -> std::io::Result<()> {
        let paths = std::mem::take(&mut *self.unsynced());
        let mut synced_any = false;
        for path in &paths {
            match fs::File::open(path) {
                Ok(file) => {
                    file.sync_all()?;
                    synced_any = true;
                }
                // Pushed and removed, or dropped by the cap, meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if synced_any {
            fs::File::open(&self.dir)?.sync_all()?;
        }
        Ok(())
    }

    /// The rounds written and not yet flushed to the disk (see [`CheckSpool::sync`]).
    pub fn unsynced_rounds(&self) -> usize {
        self.unsynced().len()
    }

    /// The spooled rounds, oldest first.
    pub fn pending(&self) -> std::io::Result<Vec<RoundEntry>> {
        let mut entries: Vec<RoundEntry> = fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with("round-")
                    && Path::new(&name).extension().is_some_and(|x| x == "json")
            })
            .map(|e| RoundEntry { path: e.path() })
            .collect();
        entries.sort();
        Ok(entries)
    }

    /// Reads a round; an unreadable file is removed and reads as empty (a result the server
    /// could never take must not block the spool).
    pub fn load(&self, entry: &RoundEntry) -> Vec<CheckMeasurement> {
        let parsed = fs::read(&entry.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<RoundFile>(&bytes).ok())
            .filter(|f| f.format == FORMAT);
        let Some(file) = parsed else {
            tracing::error!(file = %entry.path.display(), "unreadable check round dropped");
            let _ = fs::remove_file(&entry.path);
            return Vec::new();
        };
        file.results
            .into_iter()
            .filter_map(|b| CheckMeasurement::try_from(b).ok())
            .collect()
    }

    /// Removes rounds the server has.
    pub fn remove(&self, entries: &[RoundEntry]) {
        for e in entries {
            let _ = fs::remove_file(&e.path);
        }
        self.unsynced()
            .retain(|p| !entries.iter().any(|e| &e.path == p));
    }
}
