//! Working calendar and time-limit arithmetic (issue 5, domain half).
//!
//! - [`WorkingCalendar`]: weekly working periods, public holidays and make-up working days
//!   (调休上班) per date, in a fixed UTC offset (*default* +08:00); the 2025 and 2026 State
//!   Council schedules ship as year files in `data/calendars/` and more years are imported as
//!   data ([`parse_year_file`], [`to_year_file`], [`WorkingCalendar::merge_year`]).
//! - Arithmetic over UTC instants (`arith.rs`, whose notes state the edge-case rules): working
//!   time, next working instant, adding working days or working time, time between two instants.
//! - [`Limit`]: working days, working hours or clock time; deadlines, elapsed share for the
//!   warning, suspensions (挂起) that stop the clock.
//! - [`TimeLimits`]: which limit applies, by what is timed and the order's type, sub-category,
//!   customer grade and area.

mod arith;
mod error;
mod limit;
mod period;
mod share;
mod table;
mod working;
mod year_file;

#[cfg(test)]
mod tests;

pub use arith::{MAX_IDLE_DAYS, MAX_SCAN_DAYS};
pub use error::{CalendarError, DeadlineError, LineProblem};
pub use limit::{Limit, MAX_SUSPENSIONS, Suspension};
pub use period::{DAY_SECS, DayPeriods, MAX_PERIODS_PER_DAY, WeekPattern, WorkPeriod};
pub use table::{
    DEFAULT_APPEAL_TYPE_CODES, DEFAULT_WARNING_SHARE, LimitKind, LimitQuery, LimitRule,
    MAX_CODE_CHARS, MAX_LIMIT_CLOCK_DAYS, MAX_LIMIT_WORKING_DAYS, MAX_LIMIT_WORKING_HOURS,
    MAX_RULES, ServiceArea, TimeLimits,
};
pub use working::{CHINA_OFFSET_SECS, WorkingCalendar, YEAR_2025, YEAR_2026};
pub use year_file::{
    DayKind, DayName, DayOverride, MAX_DAY_NAME_CHARS, MAX_LINE_CHARS, MAX_LINES, YearSchedule,
    parse_year_file, parse_year_file_all, parse_year_file_with, to_year_file,
};
