//! Where a chart line is broken and where it joins across missing points.
//!
//! A connection tested every few hours leaves most buckets of a 7-day grid empty. A line that
//! breaks at every empty bucket is a spray of fragments; a line that never breaks hides a day
//! without data. The rule: consecutive known points are joined when they are at most
//! [`join_limit_seconds`] apart (a few expected intervals, never less than a few buckets);
//! a longer stretch without data is a real gap and breaks the line. A point with no joined
//! neighbour stands alone and is drawn as a dot.

use crate::Timestamp;

/// How many expected intervals (or buckets) without data still count as one line.
pub const JOIN_FACTOR: i64 = 3;

/// The longest stretch between two known points that is still joined: [`JOIN_FACTOR`] ×
/// the larger of the expected test interval and the bucket width (both seconds; 0 or less
/// counts as 1).
pub fn join_limit_seconds(expected_interval_seconds: i64, bucket_width_seconds: i64) -> i64 {
    JOIN_FACTOR * expected_interval_seconds.max(bucket_width_seconds).max(1)
}

/// The indices `i` of `times` (ascending) after which the line breaks: `times[i + 1]` is more
/// than `limit_seconds` after `times[i]`.
pub fn breaks_after(times: &[Timestamp], limit_seconds: i64) -> Vec<usize> {
    times
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[1].seconds_since(w[0]) > limit_seconds)
        .map(|(i, _)| i)
        .collect()
}

/// Whether each of `times` (ascending) stands alone: no neighbour within `limit_seconds`.
pub fn alone(times: &[Timestamp], limit_seconds: i64) -> Vec<bool> {
    (0..times.len())
        .map(|i| {
            let before = i > 0 && times[i].seconds_since(times[i - 1]) <= limit_seconds;
            let after =
                i + 1 < times.len() && times[i + 1].seconds_since(times[i]) <= limit_seconds;
            !before && !after
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(hours: i64) -> Timestamp {
        Timestamp::from_unix_seconds(hours * 3600)
    }

    #[test]
    fn the_limit_is_a_few_intervals_or_buckets() {
        // Every 3 hours on a 2-hour grid: 9 hours.
        assert_eq!(join_limit_seconds(10_800, 7_200), 32_400);
        // Hourly tests on a 2-hour grid: 3 buckets.
        assert_eq!(join_limit_seconds(3_600, 7_200), 21_600);
        assert_eq!(join_limit_seconds(0, 0), 3);
    }

    #[test]
    fn a_test_every_few_hours_is_one_line_and_a_missing_day_breaks_it() {
        // Every 3 hours for a day, nothing for 30 hours, then every 3 hours again.
        let mut times: Vec<Timestamp> = (0..8).map(|i| t(i * 3)).collect();
        times.extend((0..4).map(|i| t(51 + i * 3)));
        let limit = join_limit_seconds(10_800, 7_200);
        assert_eq!(breaks_after(&times, limit), vec![7]);
        assert!(alone(&times, limit).iter().all(|a| !a));
    }

    #[test]
    fn a_point_between_real_gaps_stands_alone() {
        let times = [t(0), t(2), t(30), t(60), t(62)];
        let limit = join_limit_seconds(3_600, 3_600);
        assert_eq!(breaks_after(&times, limit), vec![1, 2]);
        assert_eq!(alone(&times, limit), vec![false, false, true, false, false]);
        assert_eq!(alone(&[t(5)], limit), vec![true]);
        assert!(breaks_after(&[], limit).is_empty());
    }
}
