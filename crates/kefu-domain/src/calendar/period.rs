//! Working periods within a day and the weekly pattern of them.
//!
//! Times of day are seconds since local midnight (0..=86 400) rather than `NaiveTime` so that a
//! period may end at 24:00, which `NaiveTime` cannot express.

use chrono::Weekday;

use super::CalendarError;

/// Seconds in a day; the largest valid end of a period (24:00).
pub const DAY_SECS: u32 = 86_400;

/// At most this many working periods in one day (a split shift, not a timetable).
pub const MAX_PERIODS_PER_DAY: usize = 4;

/// One stretch of working time within a day, half-open: `[start, end)` in local time.
///
/// Half-open means 12:00 is not working time in 08:30–12:00, so "is working time" and "next working
/// instant" agree on every boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkPeriod {
    start: u32,
    end: u32,
}

impl WorkPeriod {
    /// A period from `start` to `end`, both in seconds since local midnight; start < end ≤ 24:00.
    pub fn from_secs(start: u32, end: u32) -> Result<Self, CalendarError> {
        if start >= end || end > DAY_SECS {
            return Err(CalendarError::BadPeriod {
                start: fmt_secs(start),
                end: fmt_secs(end),
            });
        }
        Ok(Self { start, end })
    }

    /// A period from hours and minutes, e.g. `hm(8, 30, 12, 0)`; `(24, 0)` is a valid end.
    pub fn hm(start_h: u32, start_m: u32, end_h: u32, end_m: u32) -> Result<Self, CalendarError> {
        Self::from_secs(start_h * 3600 + start_m * 60, end_h * 3600 + end_m * 60)
    }

    /// Start, in seconds since local midnight.
    pub const fn start(self) -> u32 {
        self.start
    }

    /// End (exclusive), in seconds since local midnight.
    pub const fn end(self) -> u32 {
        self.end
    }

    /// Length in seconds.
    pub const fn secs(self) -> u32 {
        self.end - self.start
    }
}

impl std::fmt::Display for WorkPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}–{}", fmt_secs(self.start), fmt_secs(self.end))
    }
}

/// `HH:MM` (or `HH:MM:SS` when there are seconds) for a second of the day.
pub(crate) fn fmt_secs(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The working periods of one day: sorted, non-overlapping, not touching, at most
/// [`MAX_PERIODS_PER_DAY`]. Empty means a day off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DayPeriods(Vec<WorkPeriod>);

impl DayPeriods {
    /// Checks and wraps the periods of a day. Touching periods are refused rather than merged so
    /// that what an administrator typed is what is stored.
    pub fn new(periods: Vec<WorkPeriod>) -> Result<Self, CalendarError> {
        if periods.len() > MAX_PERIODS_PER_DAY {
            return Err(CalendarError::TooManyPeriods {
                count: periods.len(),
                max: MAX_PERIODS_PER_DAY,
            });
        }
        for pair in periods.windows(2) {
            if pair[1].start <= pair[0].end {
                return Err(CalendarError::PeriodsOverlap {
                    first: pair[0].to_string(),
                    second: pair[1].to_string(),
                });
            }
        }
        Ok(Self(periods))
    }

    /// A day off.
    pub const fn none() -> Self {
        Self(Vec::new())
    }

    /// The periods, in order.
    pub fn periods(&self) -> &[WorkPeriod] {
        &self.0
    }

    /// Whether the day has any working time.
    pub fn is_working(&self) -> bool {
        !self.0.is_empty()
    }

    /// Total working seconds in the day.
    pub fn total_secs(&self) -> u32 {
        self.0.iter().map(|p| p.secs()).sum()
    }

    /// Working seconds in `[0, secs)` of the day.
    pub fn secs_before(&self, secs: u32) -> u32 {
        self.0
            .iter()
            .map(|p| secs.clamp(p.start, p.end) - p.start)
            .sum()
    }

    /// Whether the second `secs` of the day is working time.
    pub fn contains(&self, secs: u32) -> bool {
        self.0.iter().any(|p| p.start <= secs && secs < p.end)
    }
}

/// Working periods for each weekday, Monday first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WeekPattern([DayPeriods; 7]);

impl WeekPattern {
    /// A pattern from seven days' periods, Monday first.
    pub fn new(days: [DayPeriods; 7]) -> Self {
        Self(days)
    }

    /// Monday–Friday 08:30–12:00 and 14:00–17:30, weekends off (domain.md *default*).
    pub fn china_default() -> Self {
        // The two literal periods are valid and apart, so construction cannot fail; the fallback
        // keeps the function total without an unwrap.
        let day = WorkPeriod::hm(8, 30, 12, 0)
            .and_then(|am| Ok((am, WorkPeriod::hm(14, 0, 17, 30)?)))
            .and_then(|(am, pm)| DayPeriods::new(vec![am, pm]))
            .unwrap_or_default();
        let off = DayPeriods::none();
        Self([
            day.clone(),
            day.clone(),
            day.clone(),
            day.clone(),
            day,
            off.clone(),
            off,
        ])
    }

    /// The periods of a weekday.
    pub fn day(&self, weekday: Weekday) -> &DayPeriods {
        &self.0[weekday.num_days_from_monday() as usize]
    }

    /// Whether some weekday has working time.
    pub fn has_working_day(&self) -> bool {
        self.0.iter().any(DayPeriods::is_working)
    }
}

impl Default for WeekPattern {
    fn default() -> Self {
        Self::china_default()
    }
}
