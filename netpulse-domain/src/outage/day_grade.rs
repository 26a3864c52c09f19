//! The colour of a day on the status-page bar: from the day's availability, never without
//! its coverage (a day without measured time is `NoData`, not up).

use super::availability::{Availability, StateTime};

/// How a day went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayGrade {
    /// Nothing measured (or only maintenance / local time).
    NoData,
    /// No down and no partial round.
    Up,
    /// Partial rounds only: never fully down.
    Partial,
    /// Fully down for less than 1 % of the measured time.
    Minor,
    /// Fully down for 1 % of the measured time or more.
    Major,
}

impl DayGrade {
    /// The availability below which a day is [`DayGrade::Major`].
    pub const MAJOR_BELOW: f64 = 0.99;

    /// The grade of a day's availability.
    pub fn of(a: &Availability) -> Self {
        match (a.availability, a.strict) {
            (Some(av), Some(strict)) => {
                if av < Self::MAJOR_BELOW {
                    Self::Major
                } else if av < 1.0 {
                    Self::Minor
                } else if strict < 1.0 {
                    Self::Partial
                } else {
                    Self::Up
                }
            }
            _ => Self::NoData,
        }
    }

    /// The grade of a day of `day_ms` with these state times.
    pub fn of_time(day_ms: i64, t: &StateTime) -> Self {
        Self::of(&Availability::of(day_ms, t))
    }

    /// `none`, `up`, `partial`, `minor`, `major`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NoData => "none",
            Self::Up => "up",
            Self::Partial => "partial",
            Self::Minor => "minor",
            Self::Major => "major",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn a_day_is_graded_by_its_measured_time_only() {
        assert_eq!(
            DayGrade::of_time(DAY, &StateTime::default()),
            DayGrade::NoData
        );
        let maint = StateTime {
            known_ms: DAY,
            maintenance_ms: DAY,
            ..StateTime::default()
        };
        assert_eq!(DayGrade::of_time(DAY, &maint), DayGrade::NoData);
        // One hour measured, all up: up (the coverage is shown apart).
        let hour_up = StateTime {
            known_ms: 3_600_000,
            ..StateTime::default()
        };
        assert_eq!(DayGrade::of_time(DAY, &hour_up), DayGrade::Up);
        let partial = StateTime {
            known_ms: DAY,
            partial_ms: 60_000,
            ..StateTime::default()
        };
        assert_eq!(DayGrade::of_time(DAY, &partial), DayGrade::Partial);
        // 14 minutes down of 1440: 99.03 %: minor; 15 minutes: 98.96 %: major.
        let minor = StateTime {
            known_ms: DAY,
            complete_ms: 14 * 60_000,
            ..StateTime::default()
        };
        assert_eq!(DayGrade::of_time(DAY, &minor), DayGrade::Minor);
        let major = StateTime {
            known_ms: DAY,
            complete_ms: 15 * 60_000,
            ..StateTime::default()
        };
        assert_eq!(DayGrade::of_time(DAY, &major), DayGrade::Major);
    }
}
