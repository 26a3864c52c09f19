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
        (SeriesRange::SixHours, "6h", 21_600, 72, 300),
        (SeriesRange::Year, "12m", 31_449_600, 52, 604_800),
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
fn one_per_bucket(since: Timestamp, n: usize, value: Option<f64>) -> Vec<(Timestamp, Option<f64>)> {
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
fn series_input() -> impl Strategy<Value = (SeriesRange, Timestamp, Vec<(Timestamp, Option<f64>)>)>
{
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
