//! One rollup bucket of one series, and how buckets merge.

use super::sketch::Sketch;

/// The aggregate of a series over one bucket (an hour, a local day, a local week, or any
/// merge of them).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bucket {
    /// Results in the bucket (ok and failed).
    pub count: u64,
    /// Results that succeeded.
    pub ok: u64,
    /// Results that failed.
    pub fail: u64,
    /// Values seen (successful results with a value).
    pub values: u64,
    /// Σ value.
    pub sum: f64,
    /// Σ value².
    pub sum_sq: f64,
    /// The smallest value.
    pub min: Option<f64>,
    /// The largest value.
    pub max: Option<f64>,
    /// The values' distribution.
    pub sketch: Sketch,
}

impl Bucket {
    /// Adds one result: `ok` or not, with its value if it has one.
    pub fn add(&mut self, ok: bool, value: Option<f64>) {
        self.count += 1;
        if ok {
            self.ok += 1;
        } else {
            self.fail += 1;
        }
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.values += 1;
            self.sum += v;
            self.sum_sq += v * v;
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
            self.sketch.add(v);
        }
    }

    /// Adds another bucket (order does not matter).
    pub fn merge(&mut self, other: &Self) {
        self.count += other.count;
        self.ok += other.ok;
        self.fail += other.fail;
        self.values += other.values;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
        self.min = min_opt(self.min, other.min, f64::min);
        self.max = min_opt(self.max, other.max, f64::max);
        self.sketch.merge(&other.sketch);
    }

    /// Σsum/Σvalues; `None` without values.
    pub fn mean(&self) -> Option<f64> {
        (self.values > 0).then(|| self.sum / self.values as f64)
    }

    /// The sample standard deviation from the sums; `None` below two values.
    pub fn stdev(&self) -> Option<f64> {
        if self.values < 2 {
            return None;
        }
        let n = self.values as f64;
        let var = (self.sum_sq - self.sum * self.sum / n) / (n - 1.0);
        Some(var.max(0.0).sqrt())
    }

    /// The share of results that succeeded; `None` without results.
    pub fn success_ratio(&self) -> Option<f64> {
        (self.count > 0).then(|| self.ok as f64 / self.count as f64)
    }

    /// The `q` quantile of the values (within 1 %, see [`Sketch::quantile`]).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.sketch.quantile(q)
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}
