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
    /// `24h`: 86,400 s in 48 buckets of 1,800 s.
    Day,
    /// `7d`: 604,800 s in 84 buckets of 7,200 s.
    Week,
    /// `30d`: 2,592,000 s in 90 buckets of 28,800 s.
    Month,
    /// `90d`: 7,776,000 s in 120 buckets of 64,800 s.
    Quarter,
}

impl SeriesRange {
    /// Every range, shortest first.
    pub const ALL: [Self; 4] = [Self::Day, Self::Week, Self::Month, Self::Quarter];

    /// The range's name on the wire: `24h`, `7d`, `30d` or `90d`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
            Self::Quarter => "90d",
        }
    }

    /// Reads a range name.
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| InvalidValue::new("range", text, "must be one of 24h, 7d, 30d, 90d"))
    }

    /// The window length in seconds (= bucket count × bucket width).
    pub const fn window_seconds(self) -> i64 {
        self.bucket_count() as i64 * self.bucket_width_seconds()
    }

    /// How many buckets the window is cut into.
    pub const fn bucket_count(self) -> usize {
        match self {
            Self::Day => 48,
            Self::Week => 84,
            Self::Month => 90,
            Self::Quarter => 120,
        }
    }

    /// The width of one bucket in seconds.
    pub const fn bucket_width_seconds(self) -> i64 {
        match self {
            Self::Day => 1_800,
            Self::Week => 7_200,
            Self::Month => 28_800,
            Self::Quarter => 64_800,
        }
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
mod tests {
    use super::*;
    use HealthSample::{Failed as F, Healthy as H, Unhealthy as U, Unjudged as N};
    use proptest::prelude::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    /// A sample `seconds` after `base`.
    fn at(base: Timestamp, seconds: i64, value: Option<f64>) -> (Timestamp, Option<f64>) {
        (base.plus_seconds(seconds), value)
    }

    // --- mean, percentile, trend ------------------------------------------------------------

    #[test]
    fn mean_examples() {
        for (values, want) in [
            (&[][..], None),
            (&[5.0][..], Some(5.0)),
            (&[100.0, 200.0][..], Some(150.0)),
            (&[900e6, 700e6][..], Some(800e6)),
            (&[-1.0, 1.0][..], Some(0.0)),
        ] {
            assert_eq!(mean(values), want, "{values:?}");
        }
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        let mut shuffled = twenty.clone();
        shuffled.reverse();
        shuffled.swap(3, 11);
        for (values, p, want) in [
            (&[][..], 50.0, None),
            (&twenty[..], 95.0, Some(19.0)),   // rank ceil(19.0) = 19
            (&shuffled[..], 95.0, Some(19.0)), // order of the input does not matter
            (&twenty[..], 100.0, Some(20.0)),
            (&twenty[..], 0.0, Some(1.0)), // rank 0 clamps to 1
            (&twenty[..], 50.0, Some(10.0)),
            (&twenty[..], 51.0, Some(11.0)),  // rank ceil(10.2) = 11
            (&twenty[..], 150.0, Some(20.0)), // p clamps to 100
            (&twenty[..], -5.0, Some(1.0)),
            (&twenty[..], f64::NAN, None),
            (&[7.0][..], 95.0, Some(7.0)),
            (&[3.0, 1.0, 2.0][..], 50.0, Some(2.0)), // rank ceil(1.5) = 2
        ] {
            assert_eq!(percentile(values, p), want, "p{p} of {values:?}");
        }
    }

    #[test]
    fn trend_percent_examples() {
        for (previous, current, want) in [
            (Some(100.0), Some(150.0), Some(50.0)),
            (Some(200.0), Some(100.0), Some(-50.0)),
            (Some(100.0), Some(200.0), Some(100.0)),
            (Some(100.0), Some(100.0), Some(0.0)),
            (None, Some(100.0), None),
            (Some(0.0), Some(100.0), None),
            (Some(100.0), None, None),
            (None, None, None),
        ] {
            assert_eq!(
                trend_percent(previous, current),
                want,
                "{previous:?} -> {current:?}"
            );
        }
    }

    // --- series ranges ----------------------------------------------------------------------

    #[test]
    fn series_ranges_have_the_documented_grids() {
        for (range, name, window, count, width) in [
            (SeriesRange::Day, "24h", 86_400, 48, 1_800),
            (SeriesRange::Week, "7d", 604_800, 84, 7_200),
            (SeriesRange::Month, "30d", 2_592_000, 90, 28_800),
            (SeriesRange::Quarter, "90d", 7_776_000, 120, 64_800),
        ] {
            assert_eq!(range.as_str(), name);
            assert_eq!(range.to_string(), name);
            assert_eq!(SeriesRange::parse(name), Ok(range));
            assert_eq!(range.window_seconds(), window, "{name}");
            assert_eq!(range.bucket_count(), count, "{name}");
            assert_eq!(range.bucket_width_seconds(), width, "{name}");
            let now = ts("2026-06-08T12:34:56.789Z");
            assert_eq!(now.seconds_since(range.since(now)), window);
        }
    }

    #[test]
    fn unknown_range_names_are_rejected() {
        for text in ["", "1d", "24H", "7 d", "week"] {
            let err = SeriesRange::parse(text).unwrap_err();
            assert_eq!(err.field, "range");
            assert_eq!(err.value, text);
            assert!(err.to_string().contains("24h, 7d, 30d, 90d"));
        }
    }

    // --- bucket series ----------------------------------------------------------------------

    /// `n` samples spread one per bucket of the 24h grid, all with `value`.
    fn one_per_bucket(
        since: Timestamp,
        n: usize,
        value: Option<f64>,
    ) -> Vec<(Timestamp, Option<f64>)> {
        (0..n)
            .map(|i| at(since, i as i64 * 1_800 + 60, value))
            .collect()
    }

    #[test]
    fn empty_window_gives_the_full_null_grid() {
        let now = ts("2026-06-08T12:34:56Z");
        let since = SeriesRange::Day.since(now);
        let outside = [at(since, -1, Some(1.0)), at(now, 0, Some(2.0))];
        for samples in [&[][..], &outside[..]] {
            let series = bucket_series(SeriesRange::Day, now, samples);
            assert!(!series.sparse);
            assert_eq!(series.points.len(), 48);
            assert!(series.points.iter().all(|p| p.value.is_none()));
            assert_eq!(series.points[0].at, since);
            assert_eq!(series.points[47].at.plus_seconds(1_800), now);
        }
    }

    #[test]
    fn buckets_average_non_null_values_and_leave_gaps() {
        let now = ts("2026-06-08T12:34:56Z");
        let since = SeriesRange::Day.since(now);
        let mut samples = one_per_bucket(since, 12, Some(10.0));
        // Bucket 0 also gets 20 and a failed test: mean of 10 and 20.
        samples.push(at(since, 0, Some(20.0)));
        samples.push(at(since, 100, None));
        // Bucket 1 gets only failed tests on top of its 10: still 10.
        samples.push(at(since, 1_800, None));
        // Bucket 20 gets only a failed test: None.
        samples.push(at(since, 20 * 1_800 + 5, None));
        let series = bucket_series(SeriesRange::Day, now, &samples);
        assert!(!series.sparse);
        assert_eq!(series.points.len(), 48);
        assert_eq!(series.points[0].value, Some(15.0));
        assert_eq!(series.points[1].value, Some(10.0));
        assert_eq!(series.points[11].value, Some(10.0));
        assert_eq!(series.points[12].value, None);
        assert_eq!(series.points[20].value, None);
        assert_eq!(series.points[47].value, None);
    }

    #[test]
    fn window_bounds_are_half_open() {
        let now = ts("2026-06-08T12:34:56.500Z");
        let since = SeriesRange::Day.since(now);
        let mut samples = one_per_bucket(since, 12, None);
        for (sample, bucket, want) in [
            ((since, Some(1.0)), Some(0), Some(1.0)), // exactly at since: counts
            (
                (
                    Timestamp::from_unix_millis(since.unix_millis() - 1),
                    Some(9.0),
                ),
                None,
                None,
            ),
            ((now, Some(9.0)), None, None), // exactly at now: excluded
            (
                (
                    Timestamp::from_unix_millis(now.unix_millis() - 1),
                    Some(2.0),
                ),
                Some(47),
                Some(2.0),
            ),
            ((since.plus_seconds(1_800), Some(3.0)), Some(1), Some(3.0)), // a bucket start
            ((since.plus_seconds(1_799), Some(4.0)), Some(0), Some(4.0)), // just before it
        ] {
            samples.truncate(12);
            samples.push(sample);
            let series = bucket_series(SeriesRange::Day, now, &samples);
            assert!(!series.sparse, "{sample:?}");
            let values: Vec<Option<f64>> = series.points.iter().map(|p| p.value).collect();
            match bucket {
                Some(b) => assert_eq!(values[b], want, "{sample:?}"),
                None => assert!(values.iter().all(Option::is_none), "{sample:?}"),
            }
        }
    }

    #[test]
    fn eleven_samples_are_sparse_twelve_are_bucketed_counting_failures() {
        let now = ts("2026-06-08T12:34:56Z");
        let since = SeriesRange::Week.since(now);
        // Out of order, with failures, plus samples outside the window that must not count.
        let mut samples: Vec<(Timestamp, Option<f64>)> = (0..11_i64)
            .rev()
            .map(|i| at(since, i * 3_600, (i % 3 != 0).then_some(i as f64)))
            .collect();
        samples.push(at(since, -10, Some(1.0)));
        samples.push(at(now, 0, Some(1.0)));

        let sparse = bucket_series(SeriesRange::Week, now, &samples);
        assert!(sparse.sparse);
        let want: Vec<Point> = (0..11_i64)
            .map(|i| Point {
                at: since.plus_seconds(i * 3_600),
                value: (i % 3 != 0).then_some(i as f64),
            })
            .collect();
        assert_eq!(sparse.points, want);

        samples.push(at(since, 50_000, None)); // the 12th, a failed test
        let grid = bucket_series(SeriesRange::Week, now, &samples);
        assert!(!grid.sparse);
        assert_eq!(grid.points.len(), 84);
        // Bucket 0 (two hours) holds samples 0 (failed) and 1.
        assert_eq!(grid.points[0].value, Some(1.0));
        // Bucket 3 holds samples 6 (failed) and 7.
        assert_eq!(grid.points[3].value, Some(7.0));
    }

    #[test]
    fn a_single_failed_sample_is_a_sparse_gap() {
        let now = ts("2026-06-08T12:00:00Z");
        let samples = [at(now, -60, None)];
        let series = bucket_series(SeriesRange::Month, now, &samples);
        assert_eq!(
            series,
            Series {
                points: vec![Point {
                    at: now.plus_seconds(-60),
                    value: None
                }],
                sparse: true,
            }
        );
    }

    #[test]
    fn window_trend_examples() {
        let now = ts("2026-06-08T12:00:00Z");
        let range = SeriesRange::Week;
        let since = range.since(now);
        let prev = |s: i64, v: Option<f64>| at(since, -s, v);
        let cur = |s: i64, v: Option<f64>| at(since, s, v);
        for (samples, want) in [
            // prev [100, 100], current [100, 200] -> +50
            (
                vec![
                    prev(10, Some(100.0)),
                    prev(20, Some(100.0)),
                    cur(0, Some(100.0)),
                    cur(10, Some(200.0)),
                ],
                Some(50.0),
            ),
            // prev 200, current 100 -> -50
            (vec![prev(1, Some(200.0)), cur(1, Some(100.0))], Some(-50.0)),
            // download only: prev 100, current 200 -> +100 (failures ignored)
            (
                vec![prev(1, Some(100.0)), cur(1, Some(200.0)), cur(2, None)],
                Some(100.0),
            ),
            // nothing before
            (vec![cur(1, Some(100.0))], None),
            // previous mean 0
            (vec![prev(1, Some(0.0)), cur(1, Some(100.0))], None),
            // only failures now
            (vec![prev(1, Some(100.0)), cur(1, None)], None),
            // older than the previous window, or at/after now: ignored
            (
                vec![
                    prev(range.window_seconds() + 1, Some(1.0)),
                    prev(range.window_seconds(), Some(100.0)),
                    cur(1, Some(150.0)),
                    at(now, 0, Some(1e9)),
                ],
                Some(50.0),
            ),
        ] {
            assert_eq!(
                window_trend_percent(range, now, &samples),
                want,
                "{samples:?}"
            );
        }
    }

    // --- heatmap ----------------------------------------------------------------------------

    #[test]
    fn value_heatmap_reference_example() {
        let t = ts("2026-06-08T09:15:00Z"); // Monday 09h UTC
        let samples = [
            (t, Some(900e6)),
            (t.plus_seconds(600), Some(700e6)),
            (t.plus_seconds(1_200), None),
        ];
        for (min_samples, want) in [(1, Some(800e6)), (2, Some(800e6)), (3, None)] {
            let map = value_heatmap(&samples, 0, min_samples);
            let cell = map.cell(0, 9).unwrap();
            assert_eq!(
                (cell.value, cell.samples, cell.attempts),
                (want, 2, 3),
                "min {min_samples}"
            );
            assert_eq!(map.values().count(), usize::from(want.is_some()));
        }
    }

    #[test]
    fn health_heatmap_reference_example() {
        let t = ts("2026-06-10T18:59:59Z"); // Wednesday 18h UTC
        let samples: Vec<(Timestamp, HealthSample)> = [H, U, U, N]
            .into_iter()
            .enumerate()
            .map(|(i, s)| (t.plus_seconds(-(i as i64)), s))
            .collect();
        for (min_samples, want) in [(1, Some(0.25)), (3, Some(0.25)), (4, Some(0.25)), (5, None)] {
            let map = health_heatmap(&samples, 0, min_samples);
            let cell = map.cell(2, 18).unwrap();
            assert_eq!(
                (cell.value, cell.samples, cell.attempts),
                (want, 4, 4),
                "min {min_samples}"
            );
        }
        let failing = [(t, F), (t, F), (t, H)];
        let map = health_heatmap(&failing, 0, HEATMAP_MIN_SAMPLES);
        assert_eq!(map.cell(2, 18).unwrap().value, Some(1.0 / 3.0));
    }

    #[test]
    fn heatmap_cells_follow_the_utc_offset() {
        // 2026-06-08 is a Monday.
        let t = ts("2026-06-08T00:30:00Z");
        for (offset, weekday, hour) in [
            (0, 0, 0),
            (-3_600, 6, 23), // Sunday 23h, across midnight and the week boundary
            (9 * 3_600, 0, 9),
            (-30 * 60, 0, 0),  // 00:00 exactly
            (-31 * 60, 6, 23), // 23:59
            (14 * 3_600, 0, 14),
            (-12 * 3_600, 6, 12),
        ] {
            let samples = [(t, Some(1.0)), (t, Some(3.0)), (t, None)];
            let map = value_heatmap(&samples, offset, HEATMAP_MIN_SAMPLES - 1);
            let i = usize::from(weekday) * 24 + usize::from(hour);
            for (j, cell) in map.cells().iter().enumerate() {
                if j == i {
                    assert_eq!(
                        (
                            cell.weekday,
                            cell.hour,
                            cell.value,
                            cell.samples,
                            cell.attempts
                        ),
                        (weekday, hour, Some(2.0), 2, 3),
                        "offset {offset}"
                    );
                } else {
                    assert_eq!((cell.value, cell.attempts), (None, 0), "offset {offset}");
                }
            }
            let health = health_heatmap(&[(t, H)], offset, 1);
            assert_eq!(health.cell(weekday, hour).unwrap().value, Some(1.0));
        }
    }

    #[test]
    fn empty_heatmap_has_168_empty_cells_in_row_major_order() {
        let map = value_heatmap(&[], 0, HEATMAP_MIN_SAMPLES);
        assert_eq!(map.cells().len(), 168);
        for (i, cell) in map.cells().iter().enumerate() {
            assert_eq!(usize::from(cell.weekday), i / 24);
            assert_eq!(usize::from(cell.hour), i % 24);
            assert_eq!((cell.value, cell.samples, cell.attempts), (None, 0, 0));
        }
        assert_eq!(map.cells()[167].weekday, 6);
        assert_eq!(map.cells()[167].hour, 23);
        assert!(map.cell(7, 0).is_none());
        assert!(map.cell(0, 24).is_none());
        // min_samples 0 still gives no value to a cell without values.
        let map = health_heatmap(&[], 0, 0);
        assert!(map.cells().iter().all(|c| c.value.is_none()));
    }

    // --- colour scale -----------------------------------------------------------------------

    #[test]
    fn value_scale_examples() {
        let mut with_outlier: Vec<f64> = (1..=19).map(|i| f64::from(i) * 1e8).collect();
        with_outlier.push(1e10);
        for (values, want_min, want_max) in [
            (with_outlier.clone(), 1e8, 1.9e9),
            (vec![], 0.0, 1.0),
            (vec![5e8], 5e8, 5e8 + 1.0),
            (vec![2.0, 2.0, 2.0], 2.0, 3.0),
            (vec![0.020, 0.010], 0.010, 0.020),
            (vec![f64::NAN, f64::INFINITY, 4.0], 4.0, 5.0),
        ] {
            let scale = HeatmapScale::for_values(values.iter().copied());
            assert_eq!(
                (scale.min(), scale.max()),
                (want_min, want_max),
                "{values:?}"
            );
        }
        assert_eq!(HeatmapScale::UNIT, HeatmapScale::new(0.0, 1.0));
        assert_eq!(HeatmapScale::new(3.0, 1.0), HeatmapScale::new(3.0, 4.0));
    }

    #[test]
    fn scale_of_a_heatmap_uses_its_cell_values() {
        let monday = ts("2026-06-08T00:00:00Z");
        // Hour h of Monday gets three samples of (h + 1) · 1e8; hour 19 is the outlier.
        let mut samples = Vec::new();
        for h in 0..20_i64 {
            let value = if h == 19 { 1e10 } else { (h + 1) as f64 * 1e8 };
            for k in 0..3 {
                samples.push((monday.plus_seconds(h * 3_600 + k), Some(value)));
            }
        }
        let map = value_heatmap(&samples, 0, HEATMAP_MIN_SAMPLES);
        let scale = HeatmapScale::for_values(map.values());
        assert_eq!((scale.min(), scale.max()), (1e8, 1.9e9));
        assert_eq!(goodness(1e10, scale, false), 1.0);
    }

    #[test]
    fn goodness_examples() {
        let scale = HeatmapScale::new(100.0, 200.0);
        for (value, lower_is_better, want) in [
            (100.0, false, 0.0),
            (150.0, false, 0.5),
            (200.0, false, 1.0),
            (50.0, false, 0.0),
            (1e12, false, 1.0),
            (175.0, true, 0.25),
            (100.0, true, 1.0),
            (300.0, true, 0.0),
            (f64::NAN, false, 0.0),
            (f64::INFINITY, false, 1.0),
            (f64::NEG_INFINITY, true, 1.0),
        ] {
            assert_eq!(
                goodness(value, scale, lower_is_better),
                want,
                "{value} lower_is_better={lower_is_better}"
            );
        }
        assert_eq!(goodness(0.25, HeatmapScale::UNIT, false), 0.25);
    }

    #[test]
    fn legend_examples() {
        assert_eq!(HeatmapScale::UNIT.legend(), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(
            HeatmapScale::new(1e8, 1.7e9).legend(),
            [1e8, 5e8, 9e8, 1.3e9, 1.7e9]
        );
        assert_eq!(
            HeatmapScale::new(2.0, 2.0).legend(),
            [2.0, 2.25, 2.5, 2.75, 3.0]
        );
    }

    // --- properties -------------------------------------------------------------------------

    fn range() -> impl Strategy<Value = SeriesRange> {
        prop::sample::select(SeriesRange::ALL.to_vec())
    }

    /// `now` anywhere from 1970 to 2100, and samples from two windows before it to one after.
    fn series_input()
    -> impl Strategy<Value = (SeriesRange, Timestamp, Vec<(Timestamp, Option<f64>)>)> {
        (range(), 0_i64..4_102_444_800_000).prop_flat_map(|(range, now_ms)| {
            let window_ms = range.window_seconds() * 1000;
            let sample = (-2 * window_ms..window_ms, prop::option::of(-1e10_f64..1e10)).prop_map(
                move |(offset, value)| {
                    (
                        Timestamp::from_unix_millis(now_ms - window_ms + offset),
                        value,
                    )
                },
            );
            (
                Just(range),
                Just(Timestamp::from_unix_millis(now_ms)),
                prop::collection::vec(sample, 0..40),
            )
        })
    }

    proptest! {
        #[test]
        fn percentile_is_an_element_of_rank_ceil_p_n_over_100(
            values in prop::collection::vec(-1e12_f64..1e12, 1..60),
            p in 0_u32..=100,
        ) {
            let got = percentile(&values, f64::from(p)).unwrap();
            prop_assert!(values.contains(&got));
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = values.len();
            let rank = (p as usize * n).div_ceil(100).clamp(1, n);
            prop_assert_eq!(got, sorted[rank - 1]);
        }

        #[test]
        fn series_is_the_grid_or_the_windows_samples((range, now, samples) in series_input()) {
            let since = range.since(now);
            let in_window: Vec<_> = samples
                .iter()
                .filter(|(t, _)| since <= *t && *t < now)
                .collect();
            let series = bucket_series(range, now, &samples);
            prop_assert_eq!(series.sparse, (1..SPARSE_THRESHOLD).contains(&in_window.len()));
            if series.sparse {
                prop_assert_eq!(series.points.len(), in_window.len());
                prop_assert!(series.points.windows(2).all(|w| w[0].at <= w[1].at));
                for point in &series.points {
                    prop_assert!(in_window.iter().any(|(t, v)| *t == point.at && *v == point.value));
                }
            } else {
                let width_ms = range.bucket_width_seconds() * 1000;
                prop_assert_eq!(series.points.len(), range.bucket_count());
                prop_assert_eq!(series.points[0].at, since);
                let equally_spaced = series
                    .points
                    .windows(2)
                    .all(|w| w[1].at.unix_millis() - w[0].at.unix_millis() == width_ms);
                prop_assert!(equally_spaced);
                let last = series.points.last().unwrap().at;
                prop_assert_eq!(last.unix_millis() + width_ms, now.unix_millis());
                // Each bucket is the mean of the non-null values inside it.
                for point in &series.points {
                    let end = Timestamp::from_unix_millis(point.at.unix_millis() + width_ms);
                    let inside: Vec<f64> = in_window
                        .iter()
                        .filter(|(t, _)| point.at <= *t && *t < end)
                        .filter_map(|(_, v)| *v)
                        .collect();
                    match (point.value, mean(&inside)) {
                        (Some(got), Some(want)) => {
                            prop_assert!((got - want).abs() <= 1e-6 * want.abs().max(1.0));
                        }
                        (got, want) => prop_assert_eq!(got, want),
                    }
                }
            }
        }

        #[test]
        fn heatmap_counts_every_sample_once(
            samples in prop::collection::vec(
                (any::<i32>(), prop::option::of(0.0_f64..1e10)),
                0..80,
            ),
            offset in -14 * 3_600_i32..=14 * 3_600,
            min_samples in 0_usize..5,
        ) {
            let samples: Vec<(Timestamp, Option<f64>)> = samples
                .into_iter()
                .map(|(s, v)| (Timestamp::from_unix_seconds(i64::from(s)), v))
                .collect();
            let map = value_heatmap(&samples, offset, min_samples);
            let cells = map.cells();
            prop_assert_eq!(cells.iter().map(|c| c.attempts).sum::<usize>(), samples.len());
            prop_assert_eq!(
                cells.iter().map(|c| c.samples).sum::<usize>(),
                samples.iter().filter(|(_, v)| v.is_some()).count()
            );
            for (i, cell) in cells.iter().enumerate() {
                prop_assert_eq!(usize::from(cell.weekday) * 24 + usize::from(cell.hour), i);
                prop_assert!(cell.samples <= cell.attempts);
                prop_assert_eq!(
                    cell.value.is_some(),
                    cell.samples > 0 && cell.samples >= min_samples
                );
            }
            for (t, _) in &samples {
                let (weekday, hour) = t.weekday_and_hour(offset);
                prop_assert!(map.cell(weekday, hour).unwrap().attempts > 0);
            }

            let health: Vec<(Timestamp, HealthSample)> = samples
                .iter()
                .map(|(t, v)| (*t, if v.is_some() { H } else { F }))
                .collect();
            let map = health_heatmap(&health, offset, min_samples);
            prop_assert_eq!(map.cells().iter().map(|c| c.attempts).sum::<usize>(), samples.len());
            for cell in map.cells() {
                prop_assert_eq!(cell.samples, cell.attempts);
                if let Some(v) = cell.value {
                    prop_assert!((0.0..=1.0).contains(&v));
                }
            }
        }

        #[test]
        fn goodness_is_always_within_unit_interval(
            value in any::<f64>(),
            min in any::<f64>(),
            max in any::<f64>(),
            cells in prop::collection::vec(any::<f64>(), 0..30),
            lower_is_better in any::<bool>(),
        ) {
            for scale in [HeatmapScale::new(min, max), HeatmapScale::for_values(cells.iter().copied())] {
                prop_assert!(scale.min().is_finite() && scale.max().is_finite());
                prop_assert!(scale.max() >= scale.min());
                let g = goodness(value, scale, lower_is_better);
                prop_assert!((0.0..=1.0).contains(&g), "{} on {:?}", g, scale);
            }
        }

        #[test]
        fn value_scale_spans_min_to_p95_of_cells(
            cells in prop::collection::vec(-1e9_f64..1e9, 1..50),
        ) {
            let scale = HeatmapScale::for_values(cells.iter().copied());
            let min = cells.iter().copied().fold(f64::INFINITY, f64::min);
            let p95 = percentile(&cells, 95.0).unwrap();
            prop_assert_eq!(scale.min(), min);
            prop_assert_eq!(scale.max(), if p95 > min { p95 } else { min + 1.0 });
            let legend = scale.legend();
            prop_assert_eq!(legend[0], scale.min());
            prop_assert!(legend.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
