//! Rollups: buckets of a series that merge, so any range's count, mean, spread, extremes and
//! quantiles come from a few stored rows instead of every raw result (wave2-specs §6.2).
//!
//! - A [`Bucket`] holds `count`, `ok`, `fail`, `sum`, `sum_sq`, `min`, `max` and a
//!   [`Sketch`] of the values. Merging buckets adds them: means are Σsum/Σcount (weighted by
//!   count, never an average of averages), and quantiles come from the merged sketch.
//! - The [`Sketch`] is a DDSketch-style logarithmic histogram with relative accuracy 1 %:
//!   every quantile it answers is within 1 % of a value of the exact distribution at that rank.
//!   Merging adds counts, so it is lossless and independent of order (unlike t-digest).
//! - Buckets are recomputed from raw results rather than incremented, so a replayed spool
//!   cannot count twice; the order results arrive in does not matter.

pub mod bucket;
pub mod sketch;
pub mod speed;

pub use bucket::Bucket;
pub use sketch::Sketch;
pub use speed::{Level, SpeedBucket, SpeedMetric, SpeedSample};

#[cfg(test)]
#[allow(clippy::float_cmp)] // the examples have exact results
#[path = "rollup_tests.rs"]
mod tests;
