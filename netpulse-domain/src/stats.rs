//! Statistics for dashboards and reports: means, percentiles, trends, time series and the
//! weekday × hour heatmap. Everything here is a pure function over slices; callers fetch the
//! samples and format the numbers.
//!
//! # Rules
//!
//! - **Mean** of an empty slice is `None`. **Percentiles** are nearest-rank: on the sorted
//!   values, rank = ⌈p/100 · n⌉ clamped to 1..=n, so the 95th percentile of 20 values is the
//!   19th smallest.
//! - **Trend %** = (current − previous) / previous × 100; `None` when either mean is unknown or
//!   the previous mean is 0.
//! - **Series** ([`bucket_series`]): a [`SeriesRange`] fixes a window, a bucket count and a
//!   bucket width (window = count × width). `since = now − window` (not aligned to the clock);
//!   only samples with `since <= t < now` count, so callers may pass a wider slice. A sample's
//!   bucket is ⌊(t − since) / width⌋; a bucket's value is the mean of its non-null values, `None`
//!   when it has none (no interpolation). Buckets are stamped with their start, ascending and
//!   equally spaced, and the last start + width = `now`.
//!   **Sparse mode**: when the window holds at least 1 and fewer than [`SPARSE_THRESHOLD`]
//!   samples (counting samples without a value, e.g. failed tests), the series is one point per
//!   sample at its true timestamp instead, ascending, a `None` value being a gap. An empty
//!   window gives the full grid of `None`. Rounding (e.g. speeds to whole bits) is the caller's.
//! - **Window-over-window trend** ([`window_trend_percent`]): the trend from the mean of the
//!   non-null values in `[since − window, since)` to the mean of those in `[since, now)`.
//! - **Heatmap** ([`value_heatmap`], [`health_heatmap`]): 7 rows (Monday = 0 … Sunday = 6) × 24
//!   hours = [`HEATMAP_CELLS`] cells in row-major order (Mon 00 … Sun 23), weekday and hour taken
//!   in a fixed UTC offset given by the caller. The heatmap covers every sample it is given.
//!   For a value metric a cell's value is the mean of its non-null values, `samples` counts
//!   those and `attempts` counts every sample. For health the value is the share of healthy
//!   samples among all of them (failed and unjudged included), and `samples` = `attempts`.
//!   A cell with fewer than `min_samples` samples (the product uses [`HEATMAP_MIN_SAMPLES`])
//!   has no value but keeps its counts.
//! - **Colour scale** ([`HeatmapScale`]): health is fixed to [0, 1]; a value metric runs from
//!   the smallest cell value to the 95th percentile of the cell values (outliers saturate), with
//!   max = min + 1 when max <= min and [0, 1] when there are no values. [`goodness`] places a
//!   value on the scale, clamped to [0, 1], and inverted when lower is better (ping). The legend
//!   has five stops at min + (max − min) · i/4.

use std::fmt;

use crate::degradation::HealthSample;
use crate::error::InvalidValue;
use crate::time::Timestamp;

// ---------------------------------------------------------------------------------------------
// Mean, percentile, trend
// ---------------------------------------------------------------------------------------------

/// The arithmetic mean, `None` for an empty slice.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// The nearest-rank `p`th percentile: the value of rank ⌈p/100 · n⌉ (clamped to 1..=n) among the
/// sorted values. `p` is meant to lie in 0..=100 and is clamped to it. `None` for an empty slice
/// or a NaN `p`. The result is always one of the values.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() || p.is_nan() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    // p · n / 100 rather than p / 100 · n: exact whenever p is a whole number, so e.g. the 95th
    // percentile of 20 values is rank 19 and never 20 through rounding.
    let rank = (p.clamp(0.0, 100.0) * n as f64 / 100.0).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// The change from `previous_mean` to `current_mean` in percent of `previous_mean`. `None` when
/// either is unknown or the previous mean is 0.
pub fn trend_percent(previous_mean: Option<f64>, current_mean: Option<f64>) -> Option<f64> {
    let previous = previous_mean.filter(|p| *p != 0.0)?;
    let current = current_mean?;
    Some((current - previous) / previous * 100.0)
}

/// The mean of the non-null values of the samples with `from <= t < until`.
fn mean_between(
    samples: &[(Timestamp, Option<f64>)],
    from: Timestamp,
    until: Timestamp,
) -> Option<f64> {
    let (sum, count) = within(samples, from, until)
        .filter_map(|(_, value)| *value)
        .fold((0.0, 0_usize), |(sum, count), v| (sum + v, count + 1));
    (count > 0).then(|| sum / count as f64)
}

/// The samples with `from <= t < until`, in input order.
fn within<T>(
    samples: &[(Timestamp, T)],
    from: Timestamp,
    until: Timestamp,
) -> impl Iterator<Item = &(Timestamp, T)> {
    samples
        .iter()
        .filter(move |(at, _)| from <= *at && *at < until)
}

// ---------------------------------------------------------------------------------------------
// Time series
// ---------------------------------------------------------------------------------------------

/// A window with fewer samples than this (but at least one) is drawn sample by sample.
pub const SPARSE_THRESHOLD: usize = 12;

/// The time window of a dashboard series, with its fixed bucket grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesRange {
    /// `6h`: 21,600 s in 72 buckets of 300 s.
    SixHours,
    /// `24h`: 86,400 s in 48 buckets of 1,800 s.
    Day,
    /// `7d`: 604,800 s in 84 buckets of 7,200 s.
    Week,
    /// `30d`: 2,592,000 s in 90 buckets of 28,800 s.
    Month,
    /// `90d`: 7,776,000 s in 120 buckets of 64,800 s.
    Quarter,
    /// `12m`: 31,449,600 s (52 weeks) in 52 buckets of 604,800 s.
    Year,
}

impl SeriesRange {
    /// Every range, shortest first.
    pub const ALL: [Self; 6] = [
        Self::SixHours,
        Self::Day,
        Self::Week,
        Self::Month,
        Self::Quarter,
        Self::Year,
    ];

    /// The range's name on the wire: `6h`, `24h`, `7d`, `30d`, `90d` or `12m`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SixHours => "6h",
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Quarter => "90d",
            Self::Year => "12m",
        }
    }

    /// Reads a range name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                InvalidValue::new("range", text, "must be one of 6h, 24h, 7d, 30d, 90d, 12m")
            })
    }

    /// The window length in seconds (= bucket count × bucket width).
    pub const fn window_seconds(self) -> i64 {
        self.bucket_count() as i64 * self.bucket_width_seconds()
    }

    /// How many buckets the window is cut into.
    pub const fn bucket_count(self) -> usize {
        match self {
            Self::SixHours => 72,
            Self::Day => 48,
            Self::Week => 84,
            Self::Month => 90,
            Self::Quarter => 120,
            Self::Year => 52,
        }
    }

    /// The width of one bucket in seconds.
    pub const fn bucket_width_seconds(self) -> i64 {
        match self {
            Self::SixHours => 300,
            Self::Day => 1_800,
            Self::Week => 7_200,
            Self::Month => 28_800,
            Self::Quarter => 64_800,
            Self::Year => 604_800,
        }
    }

    /// The rollup level that answers the range (`None`: raw results): 6 h and 24 h raw, 7 d
    /// hourly, 30 d and 90 d daily, 12 months weekly ([`crate::rollup::Level::for_window`]).
    pub const fn level(self) -> Option<crate::rollup::Level> {
        crate::rollup::Level::for_window(self.window_seconds())
    }

    /// The start of the window ending at `now`: `now − window`.
    pub const fn since(self, now: Timestamp) -> Timestamp {
        now.plus_seconds(-self.window_seconds())
    }
}

impl fmt::Display for SeriesRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One point of a series: a bucket start (or, in sparse mode, a sample's time) and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// The bucket start, or the sample's own time in sparse mode.
    pub at: Timestamp,
    /// The mean of the bucket (or the sample's value); `None` is a gap.
    pub value: Option<f64>,
}

/// A series ready to chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The points, ascending by time.
    pub points: Vec<Point>,
    /// `true` when the points are the window's samples themselves (fewer than
    /// [`SPARSE_THRESHOLD`]), `false` when they are the range's full bucket grid.
    pub sparse: bool,
}

/// The series of `range` ending at `now` (see the module documentation for the rules). Samples
/// outside `[now − window, now)` are ignored, and their order does not matter.
pub fn bucket_series(
    range: SeriesRange,
    now: Timestamp,
    samples: &[(Timestamp, Option<f64>)],
) -> Series {
    let since = range.since(now);
    let in_window = within(samples, since, now).count();
    if (1..SPARSE_THRESHOLD).contains(&in_window) {
        let mut points: Vec<Point> = within(samples, since, now)
            .map(|&(at, value)| Point { at, value })
            .collect();
        points.sort_by_key(|point| point.at);
        return Series {
            points,
            sparse: true,
        };
    }

    let count = range.bucket_count();
    let width_ms = range.bucket_width_seconds() * 1000;
    let since_ms = since.unix_millis();
    let mut sums = vec![0.0_f64; count];
    let mut counts = vec![0_usize; count];
    for (at, value) in within(samples, since, now) {
        let Some(value) = *value else { continue };
        // 0 <= t − since < window, so the index is within the grid.
        let index = ((at.unix_millis() - since_ms) / width_ms) as usize;
        if let (Some(sum), Some(n)) = (sums.get_mut(index), counts.get_mut(index)) {
            *sum += value;
            *n += 1;
        }
    }
    let points = (0..count)
        .map(|i| Point {
            at: Timestamp::from_unix_millis(since_ms + i as i64 * width_ms),
            value: (counts[i] > 0).then(|| sums[i] / counts[i] as f64),
        })
        .collect();
    Series {
        points,
        sparse: false,
    }
}

/// The window-over-window trend of `range` ending at `now`: from the mean of the non-null values
/// in `[since − window, since)` to the mean of those in `[since, now)`, in percent
/// ([`trend_percent`]). Pass both windows' samples in one slice; others are ignored.
pub fn window_trend_percent(
    range: SeriesRange,
    now: Timestamp,
    samples: &[(Timestamp, Option<f64>)],
) -> Option<f64> {
    let since = range.since(now);
    let previous_since = range.since(since);
    trend_percent(
        mean_between(samples, previous_since, since),
        mean_between(samples, since, now),
    )
}

// ---------------------------------------------------------------------------------------------
// Heatmap
// ---------------------------------------------------------------------------------------------

/// Cells of a heatmap: 7 weekdays × 24 hours.
pub const HEATMAP_CELLS: usize = 7 * 24;

/// The fewest samples a heatmap cell needs to show a value in the product.
pub const HEATMAP_MIN_SAMPLES: usize = 3;

/// One weekday-and-hour cell of a heatmap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatmapCell {
    /// Weekday in the heatmap's UTC offset: 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Hour in the heatmap's UTC offset, 0–23.
    pub hour: u8,
    /// The cell's value; `None` when it has fewer samples than required ("not enough data").
    pub value: Option<f64>,
    /// Samples that carry a value (for health: every sample).
    pub samples: usize,
    /// Every sample that fell into the cell.
    pub attempts: usize,
}

/// A weekday × hour heatmap: always [`HEATMAP_CELLS`] cells, row-major from Monday 00 to
/// Sunday 23.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    cells: [HeatmapCell; HEATMAP_CELLS],
}

impl Heatmap {
    /// Builds the grid from per-cell `(value, samples, attempts)`.
    fn from_fn(mut cell: impl FnMut(usize) -> (Option<f64>, usize, usize)) -> Self {
        Self {
            cells: std::array::from_fn(|i| {
                let (value, samples, attempts) = cell(i);
                HeatmapCell {
                    weekday: (i / 24) as u8,
                    hour: (i % 24) as u8,
                    value,
                    samples,
                    attempts,
                }
            }),
        }
    }

    /// Every cell, row-major: Monday 00, Monday 01, … Sunday 23.
    pub const fn cells(&self) -> &[HeatmapCell; HEATMAP_CELLS] {
        &self.cells
    }

    /// The cell of a weekday (0 = Monday … 6 = Sunday) and hour (0–23); `None` when out of range.
    pub fn cell(&self, weekday: u8, hour: u8) -> Option<&HeatmapCell> {
        (weekday < 7 && hour < 24).then(|| &self.cells[cell_index(weekday, hour)])
    }

    /// The values of the cells that have one, in cell order.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.cells.iter().filter_map(|cell| cell.value)
    }
}

fn cell_index(weekday: u8, hour: u8) -> usize {
    usize::from(weekday) * 24 + usize::from(hour)
}

fn cell_of(at: Timestamp, utc_offset_seconds: i32) -> usize {
    let (weekday, hour) = at.weekday_and_hour(utc_offset_seconds);
    cell_index(weekday, hour)
}

/// The heatmap of a value metric (download or upload bits/s, ping): each cell's value is the mean
/// of its non-null values, shown only with at least `min_samples` of them. Weekday and hour are
/// taken at `utc_offset_seconds` from UTC. Every sample given counts.
pub fn value_heatmap(
    samples: &[(Timestamp, Option<f64>)],
    utc_offset_seconds: i32,
    min_samples: usize,
) -> Heatmap {
    let mut sums = [0.0_f64; HEATMAP_CELLS];
    let mut valued = [0_usize; HEATMAP_CELLS];
    let mut attempts = [0_usize; HEATMAP_CELLS];
    for &(at, value) in samples {
        let i = cell_of(at, utc_offset_seconds);
        attempts[i] += 1;
        if let Some(value) = value {
            sums[i] += value;
            valued[i] += 1;
        }
    }
    Heatmap::from_fn(|i| {
        let n = valued[i];
        let value = (n > 0 && n >= min_samples).then(|| sums[i] / n as f64);
        (value, n, attempts[i])
    })
}

/// The health heatmap: each cell's value is the ratio (0–1) of healthy samples to all samples
/// (failed and unjudged included), shown only with at least `min_samples` samples. Weekday and
/// hour are taken at `utc_offset_seconds` from UTC. Every sample given counts.
pub fn health_heatmap(
    samples: &[(Timestamp, HealthSample)],
    utc_offset_seconds: i32,
    min_samples: usize,
) -> Heatmap {
    let mut healthy = [0_usize; HEATMAP_CELLS];
    let mut attempts = [0_usize; HEATMAP_CELLS];
    for &(at, sample) in samples {
        let i = cell_of(at, utc_offset_seconds);
        attempts[i] += 1;
        if sample.is_healthy() {
            healthy[i] += 1;
        }
    }
    Heatmap::from_fn(|i| {
        let n = attempts[i];
        let value = (n > 0 && n >= min_samples).then(|| healthy[i] as f64 / n as f64);
        (value, n, n)
    })
}

/// The heatmap of pre-aggregated buckets, each `(start, Σ value, values, attempts)`: a cell's
/// value is Σsum/Σvalues (weighted by count, as from raw samples), shown only with at least
/// `min_samples` values. A bucket counts in the cell of its start at `utc_offset_seconds`.
/// For health, pass Σ healthy as the sum and the result count as both counts.
pub fn sum_heatmap(
    buckets: &[(Timestamp, f64, usize, usize)],
    utc_offset_seconds: i32,
    min_samples: usize,
) -> Heatmap {
    let mut sums = [0.0_f64; HEATMAP_CELLS];
    let mut valued = [0_usize; HEATMAP_CELLS];
    let mut attempts = [0_usize; HEATMAP_CELLS];
    for &(at, sum, values, tries) in buckets {
        let i = cell_of(at, utc_offset_seconds);
        sums[i] += sum;
        valued[i] += values;
        attempts[i] += tries;
    }
    Heatmap::from_fn(|i| {
        let n = valued[i];
        let value = (n > 0 && n >= min_samples).then(|| sums[i] / n as f64);
        (value, n, attempts[i])
    })
}

/// The range a heatmap's colours span. Always finite with `max > min` as far as `f64` allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatmapScale {
    min: f64,
    max: f64,
}

impl HeatmapScale {
    /// The fixed scale of the health heatmap, and of a value heatmap without values: [0, 1].
    pub const UNIT: Self = Self { min: 0.0, max: 1.0 };

    /// A scale from `min` to `max`; a non-finite `min` becomes 0, and `max` becomes `min + 1` when
    /// it is not finite or not above `min`.
    pub fn new(min: f64, max: f64) -> Self {
        let min = if min.is_finite() { min } else { 0.0 };
        let max = if max.is_finite() && max > min {
            max
        } else {
            min + 1.0
        };
        Self { min, max }
    }

    /// The scale of a value metric's cell values: from the smallest to the 95th percentile
    /// (nearest rank), so a single outlier does not wash out the rest. Non-finite values are
    /// ignored; no values give [`HeatmapScale::UNIT`].
    pub fn for_values(values: impl IntoIterator<Item = f64>) -> Self {
        let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        let Some(min) = values.iter().copied().reduce(f64::min) else {
            return Self::UNIT;
        };
        let max = percentile(&values, 95.0).unwrap_or(min);
        Self::new(min, max)
    }

    /// The low end of the scale (worst, unless lower is better).
    pub const fn min(self) -> f64 {
        self.min
    }

    /// The high end of the scale (best, unless lower is better).
    pub const fn max(self) -> f64 {
        self.max
    }

    /// The five legend stops: min + (max − min) · i/4 for i in 0..=4.
    pub fn legend(self) -> [f64; 5] {
        let span = self.max - self.min;
        std::array::from_fn(|i| self.min + span * i as f64 / 4.0)
    }
}

/// Where `value` sits on `scale`, from 0 (bad) to 1 (good): (v − min)/(max − min) clamped to
/// [0, 1], and inverted when `lower_is_better` (ping). A NaN position counts as 0 before
/// inversion, so the result is always within [0, 1].
pub fn goodness(value: f64, scale: HeatmapScale, lower_is_better: bool) -> f64 {
    let position = (value - scale.min) / (scale.max - scale.min);
    let g = if position.is_nan() {
        0.0
    } else {
        position.clamp(0.0, 1.0)
    };
    if lower_is_better { 1.0 - g } else { g }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
#[allow(clippy::float_cmp)] // the examples have exact results
#[path = "stats_tests.rs"]
mod tests;
