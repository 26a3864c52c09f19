//! Server pools: which test server (and therefore which engine) the next task uses, in
//! round-robin order.
//!
//! Pool entry syntax (the agent's engines interpret the details):
//! - `12345` or `ookla:12345`: an Ookla server id;
//! - `ookla:host:port` or a bare `host:port`: an Ookla server by host;
//! - `iperf3://host[:port]?protocol=udp&streams=4&seconds=10&direction=download|upload|bidir`;
//! - `http://…` or `https://…`: the built-in HTTP engine against that base URL.
//!
//! An empty pool lets the default engine (Ookla) choose its own server.

use std::fmt;

use crate::error::InvalidValue;

/// The speed-test engine that runs a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// The Ookla Speedtest CLI.
    Ookla,
    /// iperf3 against an iperf3 server.
    Iperf3,
    /// The agent's built-in HTTP engine.
    Http,
}

impl Engine {
    /// Every engine.
    pub const ALL: [Self; 3] = [Self::Ookla, Self::Iperf3, Self::Http];

    /// The engine's name on the wire and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ookla => "ookla",
            Self::Iperf3 => "iperf3",
            Self::Http => "http",
        }
    }

    /// Reads an engine name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == text)
            .ok_or_else(|| InvalidValue::new("engine", text, "must be one of ookla, iperf3, http"))
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most entries a server pool has.
pub const MAX_POOL_ENTRIES: usize = 64;
/// The longest pool entry, in bytes.
pub const MAX_POOL_ENTRY_BYTES: usize = 512;

/// One entry of a server pool, as the user wrote it (trimmed, no whitespace or commas).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolEntry(String);

impl PoolEntry {
    /// Validates one entry.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let t = text.trim();
        if t.is_empty() {
            return Err(InvalidValue::new(
                "server_pool",
                text,
                "entries must not be empty",
            ));
        }
        if t.len() > MAX_POOL_ENTRY_BYTES {
            return Err(InvalidValue::new(
                "server_pool",
                crate::values::shown(t),
                format!("entries must be at most {MAX_POOL_ENTRY_BYTES} bytes"),
            ));
        }
        if t.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        {
            return Err(InvalidValue::new(
                "server_pool",
                text,
                "entries must not contain spaces, commas or control characters",
            ));
        }
        let entry = Self(t.to_owned());
        if let Some(rest) = t.strip_prefix("iperf3://") {
            if rest.is_empty() || rest.starts_with(['?', ':', '/']) {
                return Err(InvalidValue::new(
                    "server_pool",
                    text,
                    "iperf3:// needs a host",
                ));
            }
        } else if let Some(rest) = t.strip_prefix("ookla:") {
            if rest.is_empty() {
                return Err(InvalidValue::new(
                    "server_pool",
                    text,
                    "ookla: needs a server id or host:port",
                ));
            }
        } else if !(t.starts_with("http://") || t.starts_with("https://")) && t.contains("://") {
            return Err(InvalidValue::new(
                "server_pool",
                text,
                "unknown scheme (use a server id, ookla:…, iperf3://…, http:// or https://)",
            ));
        }
        Ok(entry)
    }

    /// The entry's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The engine this entry selects.
    pub fn engine(&self) -> Engine {
        if self.0.starts_with("iperf3://") {
            Engine::Iperf3
        } else if self.0.starts_with("http://") || self.0.starts_with("https://") {
            Engine::Http
        } else {
            Engine::Ookla
        }
    }
}

impl fmt::Display for PoolEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ordered list of servers that a connection's tests rotate through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerPool(Vec<PoolEntry>);

impl ServerPool {
    /// A pool of the given entries (order matters; duplicates are kept, so a user can weight one).
    pub fn new(entries: Vec<PoolEntry>) -> Self {
        Self(entries)
    }

    /// Validates every text as an entry; a pool has at most [`MAX_POOL_ENTRIES`].
    pub fn parse_all<S: AsRef<str>>(texts: &[S]) -> Result<Self, InvalidValue> {
        if texts.len() > MAX_POOL_ENTRIES {
            return Err(InvalidValue::new(
                "server_pool",
                format!("{} entries", texts.len()),
                format!("must have at most {MAX_POOL_ENTRIES} entries"),
            ));
        }
        texts
            .iter()
            .map(|t| PoolEntry::parse(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The entries in order.
    pub fn entries(&self) -> &[PoolEntry] {
        &self.0
    }

    /// Whether the pool is empty (the engine chooses its own server).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entry after the one the last task used, wrapping around; the first entry when there
    /// was no last task or its entry is no longer in the pool; `None` for an empty pool.
    ///
    /// Rotation keys on the *requested* entry stored with the measurement, never on the server
    /// id the tool reported, so host-style entries rotate too (the PHP version's bug §11.1).
    pub fn next_after(&self, last_used: Option<&PoolEntry>) -> Option<&PoolEntry> {
        self.next_runnable_after(last_used, &[])
    }

    /// Like [`Self::next_after`], skipping entries whose engine is not in `engines` (the
    /// engines the polling agent can run); `engines` empty means every engine. When no entry
    /// is runnable, the plain rotation's entry (the agent then reports it cannot run it, so the
    /// connection shows the problem instead of going silent).
    pub fn next_runnable_after(
        &self,
        last_used: Option<&PoolEntry>,
        engines: &[Engine],
    ) -> Option<&PoolEntry> {
        let start = last_used
            .and_then(|last| self.0.iter().position(|e| e == last))
            .map_or(0, |i| i + 1);
        let n = self.0.len();
        (0..n)
            .map(|k| &self.0[(start + k) % n.max(1)])
            .find(|e| engines.is_empty() || engines.contains(&e.engine()))
            .or_else(|| self.plain_next_after(last_used))
    }

    fn plain_next_after(&self, last_used: Option<&PoolEntry>) -> Option<&PoolEntry> {
        let first = self.0.first()?;
        let Some(last) = last_used else {
            return Some(first);
        };
        match self.0.iter().position(|e| e == last) {
            Some(i) => Some(&self.0[(i + 1) % self.0.len()]),
            None => Some(first),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pool(entries: &[&str]) -> ServerPool {
        ServerPool::parse_all(entries).unwrap()
    }

    #[test]
    fn a_pool_has_at_most_64_entries() {
        let entries = vec!["1234"; MAX_POOL_ENTRIES];
        assert_eq!(ServerPool::parse_all(&entries).unwrap().entries().len(), 64);
        let entries = vec!["1234"; MAX_POOL_ENTRIES + 1];
        let e = ServerPool::parse_all(&entries).unwrap_err();
        assert_eq!(e.field, "server_pool");
        assert!(e.rule.contains("at most 64 entries"), "{e}");
    }

    #[test]
    fn rotation_follows_the_reference_examples() {
        let p = pool(&["a", "b", "c"]);
        let e = |s: &str| PoolEntry::parse(s).unwrap();
        assert_eq!(p.next_after(Some(&e("a"))), Some(&e("b")));
        assert_eq!(p.next_after(Some(&e("c"))), Some(&e("a")));
        assert_eq!(p.next_after(None), Some(&e("a")));
        assert_eq!(p.next_after(Some(&e("zzz"))), Some(&e("a")));
        assert_eq!(ServerPool::default().next_after(Some(&e("a"))), None);
    }

    #[test]
    fn host_style_entries_rotate() {
        let p = pool(&["fra.example:8080", "ams.example:8080"]);
        let first = p.next_after(None).unwrap().clone();
        assert_eq!(
            p.next_after(Some(&first)).unwrap().as_str(),
            "ams.example:8080"
        );
    }

    #[test]
    fn entries_select_engines() {
        let cases = [
            ("12345", Engine::Ookla),
            ("ookla:12345", Engine::Ookla),
            ("ookla:speed.example:8080", Engine::Ookla),
            ("speed.example:8080", Engine::Ookla),
            ("iperf3://10.0.0.1:5201?protocol=udp", Engine::Iperf3),
            ("https://speed.example/", Engine::Http),
            ("http://127.0.0.1:8080", Engine::Http),
        ];
        for (text, engine) in cases {
            assert_eq!(PoolEntry::parse(text).unwrap().engine(), engine, "{text}");
        }
        for bad in ["", " ", "a b", "a,b", "ftp://x", "iperf3://", "ookla:"] {
            assert!(PoolEntry::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn rotation_visits_every_entry_in_order(n in 1usize..12, start in 0usize..12) {
            let entries: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
            let p = ServerPool::parse_all(&entries).unwrap();
            let mut last = Some(p.entries()[start % n].clone());
            for step in 1..=n {
                let next = p.next_after(last.as_ref()).unwrap().clone();
                prop_assert_eq!(next.as_str(), entries[(start + step) % n].as_str());
                last = Some(next);
            }
        }
    }
}
