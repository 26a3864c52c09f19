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
