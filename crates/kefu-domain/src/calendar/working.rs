//! The working calendar as plain data: the weekly pattern, the per-date overrides of every loaded
//! year, and the fixed UTC offset the calendar's dates and times are in.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, FixedOffset, NaiveDate};

use super::{
    CalendarError, DayKind, DayOverride, DayPeriods, WeekPattern, YearSchedule,
    parse_year_file_with,
};

/// The 2025 schedule shipped with kefu (State Council notice of 2024-11-12).
pub const YEAR_2025: &str = include_str!("../../data/calendars/2025.txt");
/// The 2026 schedule shipped with kefu (State Council notice of 2025-11-04).
pub const YEAR_2026: &str = include_str!("../../data/calendars/2026.txt");

/// China Standard Time in seconds east of UTC; China has kept +08:00 all year since 1991.
pub const CHINA_OFFSET_SECS: i32 = 8 * 3600;

/// Working hours, holidays and make-up working days in one fixed-offset zone.
///
/// Dates and times of day are local to `offset`; the arithmetic in this module takes and returns
/// UTC instants. A fixed offset suffices because the zone it models has no daylight saving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    week: WeekPattern,
    days: BTreeMap<NaiveDate, DayOverride>,
    years: BTreeSet<i32>,
    offset: FixedOffset,
}

impl WorkingCalendar {
    /// A calendar with a weekly pattern, no holidays yet, in `offset`.
    pub fn new(week: WeekPattern, offset: FixedOffset) -> Self {
        Self {
            week,
            days: BTreeMap::new(),
            years: BTreeSet::new(),
            offset,
        }
    }

    /// The *default* calendar: Mon–Fri 08:30–12:00, 14:00–17:30, +08:00, with the shipped 2025 and
    /// 2026 State Council schedules loaded.
    #[allow(clippy::expect_used)]
    pub fn china_default() -> Self {
        // The offset is a constant within ±24 h and the shipped files are checked by the tests
        // (`shipped_files_round_trip`), so neither can fail at run time.
        let offset = FixedOffset::east_opt(CHINA_OFFSET_SECS).expect("+08:00 is a valid offset");
        let mut calendar = Self::new(WeekPattern::china_default(), offset);
        for text in [YEAR_2025, YEAR_2026] {
            calendar
                .import_year_file(text)
                .expect("shipped year files are valid (tested)");
        }
        calendar
    }

    /// The same calendar in another fixed offset (the dates and hours stay local to it).
    pub fn with_offset(mut self, offset: FixedOffset) -> Self {
        self.offset = offset;
        self
    }

    /// The weekly pattern.
    pub fn week(&self) -> &WeekPattern {
        &self.week
    }

    /// The offset local dates and hours are in.
    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// Every override of every loaded year, by date.
    pub fn overrides(&self) -> &BTreeMap<NaiveDate, DayOverride> {
        &self.days
    }

    /// The years whose schedule was imported; outside them only the weekly pattern applies.
    pub fn loaded_years(&self) -> &BTreeSet<i32> {
        &self.years
    }

    /// The override of a date, if it has one.
    pub fn override_on(&self, date: NaiveDate) -> Option<&DayOverride> {
        self.days.get(&date)
    }

    /// The working periods of a local date, after holidays and make-up days.
    pub fn periods_on(&self, date: NaiveDate) -> &DayPeriods {
        match self.days.get(&date).map(|d| d.kind) {
            Some(DayKind::Holiday) => &EMPTY_DAY,
            Some(DayKind::Workday { like }) => self.week.day(like),
            None => self.week.day(date.weekday()),
        }
    }

    /// Replaces the overrides of `schedule`'s year with it (other years are untouched).
    pub fn merge_year(&mut self, schedule: YearSchedule) -> Result<(), CalendarError> {
        for (date, day) in schedule.days() {
            day.check(*date, &self.week)?;
        }
        let year = schedule.year();
        self.days.retain(|date, _| date.year() != year);
        self.days.extend(schedule.days().clone());
        self.years.insert(year);
        Ok(())
    }

    /// Parses a year file against this calendar's week and merges it; returns the year.
    pub fn import_year_file(&mut self, text: &str) -> Result<i32, CalendarError> {
        let schedule = parse_year_file_with(text, &self.week)?;
        let year = schedule.year();
        self.merge_year(schedule)?;
        Ok(year)
    }

    /// Sets or clears the override of one date (an administrator editing a day).
    pub fn set_day(
        &mut self,
        date: NaiveDate,
        day: Option<DayOverride>,
    ) -> Result<(), CalendarError> {
        match day {
            Some(day) => {
                day.check(date, &self.week)?;
                self.days.insert(date, day);
            }
            None => {
                self.days.remove(&date);
            }
        }
        Ok(())
    }

    /// The overrides of one year, ready for [`super::to_year_file`].
    pub fn year_schedule(&self, year: i32) -> YearSchedule {
        let days = self
            .days
            .iter()
            .filter(|(date, _)| date.year() == year)
            .map(|(date, day)| (*date, day.clone()))
            .collect();
        YearSchedule::from_parts(year, days)
    }
}

impl Default for WorkingCalendar {
    fn default() -> Self {
        Self::china_default()
    }
}

static EMPTY_DAY: DayPeriods = DayPeriods::none();
