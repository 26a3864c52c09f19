use proptest::prelude::*;

use super::sketch::RELATIVE_ACCURACY;
use super::*;

fn exact_at_rank(sorted: &[f64], q: f64) -> f64 {
    sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
}

#[test]
fn an_empty_sketch_has_no_quantiles() {
    let s = Sketch::new();
    assert_eq!(s.quantile(0.5), None);
    assert_eq!(s.count(), 0);
    assert_eq!(Sketch::decode(&s.encode()), Ok(s));
}

#[test]
fn zero_and_tiny_values_are_counted_as_zero() {
    let mut s = Sketch::new();
    for v in [0.0, 0.0, 1e-12, 5.0] {
        s.add(v);
    }
    s.add(-1.0);
    s.add(f64::NAN);
    assert_eq!(s.count(), 4);
    assert_eq!(s.quantile(0.0), Some(0.0));
    assert_eq!(s.quantile(0.5), Some(0.0));
    let top = s.quantile(1.0).unwrap();
    assert!((top - 5.0).abs() / 5.0 <= RELATIVE_ACCURACY);
}

#[test]
fn decode_refuses_bad_bytes() {
    assert!(Sketch::decode(&[]).is_err());
    assert!(Sketch::decode(&[9]).is_err());
    assert!(Sketch::decode(&[1, 0, 1]).is_err());
    let mut s = Sketch::new();
    s.add(3.0);
    let mut bytes = s.encode();
    bytes.push(0);
    assert!(Sketch::decode(&bytes).is_err());
}

#[test]
fn a_month_of_hourly_sketches_stays_small() {
    // 43,200 RTTs between 5 and 80 ms in one sketch: a few hundred bytes, not 43,200 values.
    let mut s = Sketch::new();
    for i in 0..43_200u32 {
        s.add(5.0 + f64::from(i % 7_500) / 100.0);
    }
    let bytes = s.encode();
    assert!(bytes.len() < 1_200, "{} bytes", bytes.len());
}

#[test]
fn bucket_means_weight_by_count_not_by_bucket() {
    let mut a = Bucket::default();
    a.add(true, Some(100.0));
    let mut b = Bucket::default();
    for _ in 0..3 {
        b.add(true, Some(200.0));
    }
    b.add(false, None);
    a.merge(&b);
    assert_eq!(a.mean(), Some(175.0));
    assert_eq!((a.count, a.ok, a.fail, a.values), (5, 4, 1, 4));
    assert_eq!((a.min, a.max), (Some(100.0), Some(200.0)));
    assert_eq!(a.success_ratio(), Some(0.8));
    assert!((a.stdev().unwrap() - 50.0).abs() < 1e-9);
}

proptest! {
    /// Every quantile is within α of the exact value at its rank.
    #[test]
    fn quantiles_are_within_one_percent(
        values in proptest::collection::vec(0.001f64..1e10, 1..400),
        q in 0.0f64..=1.0,
    ) {
        let mut s = Sketch::new();
        for v in &values { s.add(*v); }
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let exact = exact_at_rank(&sorted, q);
        let got = s.quantile(q).unwrap();
        prop_assert!((got - exact).abs() <= exact * RELATIVE_ACCURACY * (1.0 + 1e-9),
            "q {q}: got {got}, exact {exact}");
    }

    /// Merging in any split and order equals one sketch over everything; bytes round-trip.
    #[test]
    fn merging_is_lossless_and_order_free(
        values in proptest::collection::vec(0.0f64..1e6, 0..300),
        split in 0usize..300,
    ) {
        let split = split.min(values.len());
        let (mut all, mut left, mut right) = (Bucket::default(), Bucket::default(), Bucket::default());
        for (i, v) in values.iter().enumerate() {
            all.add(true, Some(*v));
            if i < split { left.add(true, Some(*v)) } else { right.add(true, Some(*v)) }
        }
        let mut lr = left.clone();
        lr.merge(&right);
        let mut rl = right.clone();
        rl.merge(&left);
        prop_assert_eq!(&lr.sketch, &all.sketch);
        prop_assert_eq!(&rl.sketch, &all.sketch);
        prop_assert_eq!((lr.count, lr.min, lr.max), (all.count, all.min, all.max));
        prop_assert_eq!(Sketch::decode(&all.sketch.encode()).unwrap(), all.sketch);
    }
}

#[test]
fn levels_answer_ranges_by_length() {
    assert_eq!(Level::for_window(6 * 3_600), None);
    assert_eq!(Level::for_window(48 * 3_600), None);
    assert_eq!(Level::for_window(48 * 3_600 + 1), Some(Level::Hour));
    assert_eq!(Level::for_window(7 * 86_400), Some(Level::Hour));
    assert_eq!(Level::for_window(30 * 86_400), Some(Level::Day));
    assert_eq!(Level::for_window(120 * 86_400), Some(Level::Day));
    assert_eq!(Level::for_window(365 * 86_400), Some(Level::Week));
    for l in [Level::Hour, Level::Day, Level::Week] {
        assert_eq!(Level::from_code(l.code()), Some(l));
    }
    assert_eq!(Level::from_code(0), None);
}

#[test]
fn a_bucket_is_never_longer_than_its_level_bound() {
    // An hour is exact; a local day or week may gain an hour (DST) or more (a zone moving
    // its clocks by a day), and the bound still holds with room to spare.
    assert_eq!(Level::Hour.max_seconds(), Level::Hour.nominal_seconds());
    for l in [Level::Day, Level::Week] {
        assert!(l.max_seconds() >= l.nominal_seconds() + 86_400);
    }
}

fn speed_sample(i: u64, v: f64) -> SpeedSample {
    SpeedSample {
        at: crate::time::Timestamp::from_unix_millis(1_700_000_000_000 + i as i64 * 1000),
        ok: !i.is_multiple_of(5),
        healthy: i.is_multiple_of(3),
        values: if i.is_multiple_of(5) {
            [None; 5]
        } else {
            [
                Some(v * 1e6),
                Some(v * 1e5),
                Some(v),
                Some(v / 10.0),
                Some(0.0),
            ]
        },
    }
}

#[test]
fn speed_buckets_count_results_and_metrics() {
    let samples: Vec<SpeedSample> = (0..10).map(|i| speed_sample(i, 10.0 + i as f64)).collect();
    let b = SpeedBucket::of(&samples);
    assert_eq!((b.results, b.ok, b.fail, b.healthy), (10, 8, 2, 4));
    assert_eq!(b.last_at, Some(samples[9].at));
    // Values 11,12,13,14,16,17,18,19 → mean 15.
    assert_eq!(b.mean(SpeedMetric::Ping), Some(15.0));
    assert_eq!(b.mean(SpeedMetric::Download), Some(15e6));
    assert_eq!(b.metric(SpeedMetric::Loss).max, Some(0.0));
    assert_eq!(b.healthy_ratio(), Some(0.4));
    assert_eq!(SpeedBucket::default().healthy_ratio(), None);
}

proptest! {
    /// A bucket of samples in any order and split equals the merge of its parts.
    #[test]
    fn speed_buckets_are_order_free(
        values in proptest::collection::vec(1.0f64..1e3, 0..200),
        split in 0usize..200,
        seed in any::<u64>(),
    ) {
        let samples: Vec<SpeedSample> =
            values.iter().enumerate().map(|(i, v)| speed_sample(i as u64, *v)).collect();
        let all = SpeedBucket::of(&samples);
        let mut shuffled = samples.clone();
        let mut x = seed;
        for i in (1..shuffled.len()).rev() {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            shuffled.swap(i, (x >> 33) as usize % (i + 1));
        }
        let split = split.min(shuffled.len());
        let left = SpeedBucket::of(&shuffled[..split]);
        let right = SpeedBucket::of(&shuffled[split..]);
        let merged = SpeedBucket::merged([&right, &left]);
        prop_assert_eq!((merged.results, merged.ok, merged.fail, merged.healthy, merged.last_at),
            (all.results, all.ok, all.fail, all.healthy, all.last_at));
        for m in SpeedMetric::ALL {
            let (a, b) = (merged.metric(m), all.metric(m));
            prop_assert_eq!(&a.sketch, &b.sketch);
            prop_assert_eq!((a.values, a.min, a.max), (b.values, b.min, b.max));
            prop_assert!((a.sum - b.sum).abs() <= 1e-9 * b.sum.abs().max(1.0));
        }
    }
}
