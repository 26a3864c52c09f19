//! Rollups of speed results: one [`SpeedBucket`] per connection and bucket (a UTC hour, a local
//! day or a local ISO week), with the result counts and one [`Bucket`] per metric, and which
//! [`Level`] answers a range (wave2-specs §6.2).
//!
//! - A bucket is always **recomputed** from the raw results it covers (or, for a week, merged
//!   from its seven days), never incremented, so late, replayed and re-parsed results give the
//!   same bucket whatever order they arrived in.
//! - **Tiers** ([`Level::for_window`]): up to 48 h raw, up to 14 d hourly, up to 120 d daily,
//!   longer ranges weekly — the finest level whose bucket count stays within budget.

use super::bucket::Bucket;
use crate::time::Timestamp;

/// The metrics a speed rollup keeps, in [`SpeedBucket::metrics`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpeedMetric {
    /// Download, bits/s.
    Download,
    /// Upload, bits/s.
    Upload,
    /// Ping, ms.
    Ping,
    /// Jitter, ms.
    Jitter,
    /// Packet loss, percent.
    Loss,
}

impl SpeedMetric {
    /// Every metric, in storage order.
    pub const ALL: [Self; 5] = [
        Self::Download,
        Self::Upload,
        Self::Ping,
        Self::Jitter,
        Self::Loss,
    ];

    /// Its index into [`SpeedBucket::metrics`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A rollup level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// UTC hours.
    Hour,
    /// Local days in the site time zone.
    Day,
    /// Local ISO weeks (from Monday 00:00) in the site time zone.
    Week,
}

/// Ranges up to this long are answered from raw results, seconds (48 h).
pub const RAW_MAX_SECONDS: i64 = 48 * 3_600;
/// Ranges up to this long are answered from hourly buckets, seconds (14 d).
pub const HOURLY_MAX_SECONDS: i64 = 14 * 86_400;
/// Ranges up to this long are answered from daily buckets, seconds (120 d).
pub const DAILY_MAX_SECONDS: i64 = 120 * 86_400;

impl Level {
    /// Its code in storage (1, 2, 3).
    pub const fn code(self) -> i16 {
        match self {
            Self::Hour => 1,
            Self::Day => 2,
            Self::Week => 3,
        }
    }

    /// The level of a storage code.
    pub const fn from_code(code: i16) -> Option<Self> {
        match code {
            1 => Some(Self::Hour),
            2 => Some(Self::Day),
            3 => Some(Self::Week),
            _ => None,
        }
    }

    /// The nominal length of one bucket, seconds (a local day or week may be an hour shorter
    /// or longer across a DST change).
    pub const fn nominal_seconds(self) -> i64 {
        match self {
            Self::Hour => 3_600,
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
        }
    }

    /// An upper bound on the length of one bucket, seconds: a UTC hour, and two nominal days
    /// or eight nominal weeks' days for local days and weeks (however a zone shifts its
    /// clocks). A bucket overlapping `[from, …)` therefore starts after `from` less this
    /// (what lets a clear use the (connection, level, start) index).
    pub const fn max_seconds(self) -> i64 {
        match self {
            Self::Hour => 3_600,
            Self::Day => 2 * 86_400,
            Self::Week => 8 * 86_400,
        }
    }

    /// Which level answers a window of `seconds`: `None` (raw results) up to 48 h, hourly up
    /// to 14 d, daily up to 120 d, weekly beyond — at most 336 buckets of the chosen level
    /// for a range at its level's limit.
    pub const fn for_window(seconds: i64) -> Option<Self> {
        if seconds <= RAW_MAX_SECONDS {
            None
        } else if seconds <= HOURLY_MAX_SECONDS {
            Some(Self::Hour)
        } else if seconds <= DAILY_MAX_SECONDS {
            Some(Self::Day)
        } else {
            Some(Self::Week)
        }
    }
}

/// One raw speed result as a rollup sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeedSample {
    /// When it completed.
    pub at: Timestamp,
    /// Whether the test completed (not failed).
    pub ok: bool,
    /// Whether it was judged healthy.
    pub healthy: bool,
    /// Download, upload, ping, jitter, loss ([`SpeedMetric`] order).
    pub values: [Option<f64>; 5],
}

/// The aggregate of a connection's results over one bucket (or any merge of buckets).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpeedBucket {
    /// Results (any status).
    pub results: u64,
    /// Completed results.
    pub ok: u64,
    /// Failed results.
    pub fail: u64,
    /// Healthy results.
    pub healthy: u64,
    /// The newest result's completion time.
    pub last_at: Option<Timestamp>,
    /// Per metric ([`SpeedMetric`] order); their `count`, `ok` and `fail` equal the bucket's.
    pub metrics: [Bucket; 5],
}

impl SpeedBucket {
    /// The bucket of these samples (their order does not matter).
    pub fn of<'a>(samples: impl IntoIterator<Item = &'a SpeedSample>) -> Self {
        let mut b = Self::default();
        for s in samples {
            b.add(s);
        }
        b
    }

    /// Adds one result.
    pub fn add(&mut self, s: &SpeedSample) {
        self.results += 1;
        if s.ok {
            self.ok += 1;
        } else {
            self.fail += 1;
        }
        self.healthy += u64::from(s.healthy);
        self.last_at = self.last_at.max(Some(s.at));
        for (m, v) in self.metrics.iter_mut().zip(s.values) {
            m.add(s.ok, v);
        }
    }

    /// Adds another bucket (lossless, order-free).
    pub fn merge(&mut self, other: &Self) {
        self.results += other.results;
        self.ok += other.ok;
        self.fail += other.fail;
        self.healthy += other.healthy;
        self.last_at = self.last_at.max(other.last_at);
        for (m, o) in self.metrics.iter_mut().zip(&other.metrics) {
            m.merge(o);
        }
    }

    /// The merge of several buckets.
    pub fn merged<'a>(buckets: impl IntoIterator<Item = &'a Self>) -> Self {
        let mut b = Self::default();
        for o in buckets {
            b.merge(o);
        }
        b
    }

    /// One metric's aggregate.
    pub fn metric(&self, m: SpeedMetric) -> &Bucket {
        &self.metrics[m.index()]
    }

    /// The mean of a metric (Σsum/Σvalues); `None` without values.
    pub fn mean(&self, m: SpeedMetric) -> Option<f64> {
        self.metric(m).mean()
    }

    /// The healthy share, 0–1; `None` without results.
    pub fn healthy_ratio(&self) -> Option<f64> {
        (self.results > 0).then(|| self.healthy as f64 / self.results as f64)
    }
}
