//! The two ways the calendar can refuse: bad calendar data (with the line of the year file when
//! there is one) and arithmetic that cannot produce an instant.

use chrono::NaiveDate;

/// Why a year file, a working period or a day override was refused; says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A problem on one line of a year file (lines count from 1).
    #[error("line {line}: {problem}")]
    Line {
        /// 1-based line number in the imported text.
        line: usize,
        /// What is wrong on that line.
        problem: LineProblem,
    },
    /// The file has no `year YYYY` line.
    #[error("the file declares no year: start it with a line such as `year 2026`")]
    MissingYear,
    /// The text is larger than an administrator's year file can be.
    #[error("the file has more than {max} lines; a year file lists at most one line per day")]
    TooManyLines {
        /// The limit that was exceeded.
        max: usize,
    },
    /// A working period whose start is not before its end, or outside 00:00–24:00.
    #[error(
        "working period {start}–{end} is empty or outside the day: start must be before end, both within 00:00–24:00"
    )]
    BadPeriod {
        /// The start as written (HH:MM).
        start: String,
        /// The end as written (HH:MM).
        end: String,
    },
    /// Periods of one day that overlap, touch or are out of order.
    #[error(
        "working periods {first} and {second} overlap, touch or are out of order: list them by start time with a gap between (merge touching periods into one)"
    )]
    PeriodsOverlap {
        /// The earlier-listed period (HH:MM–HH:MM).
        first: String,
        /// The later-listed period (HH:MM–HH:MM).
        second: String,
    },
    /// More periods in one day than the calendar accepts.
    #[error("{count} working periods in one day; at most {max} are allowed")]
    TooManyPeriods {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A day override outside the year of the schedule it is added to.
    #[error("{date} is not in the year {year} that this schedule declares")]
    OutsideYear {
        /// The offending date.
        date: NaiveDate,
        /// The declared year.
        year: i32,
    },
    /// The same date given twice.
    #[error("{date} is listed twice; keep one entry per date")]
    DuplicateDate {
        /// The repeated date.
        date: NaiveDate,
    },
    /// A make-up working day on a date that is already a working day by the weekly pattern.
    #[error(
        "{date} ({weekday}) is already a working day in the weekly pattern; a make-up working day (workday) must fall on a day off such as a weekend"
    )]
    WorkdayOnWorkingDay {
        /// The date.
        date: NaiveDate,
        /// Its weekday, in English.
        weekday: chrono::Weekday,
    },
    /// A make-up working day whose pattern weekday has no working periods.
    #[error(
        "{date} would work like {weekday}, but {weekday} has no working periods; pick a weekday that has working hours"
    )]
    EmptyPattern {
        /// The date.
        date: NaiveDate,
        /// The pattern weekday.
        weekday: chrono::Weekday,
    },
    /// A day name that is empty or too long.
    #[error("the day name must be 1 to {max} characters (e.g. 春节 or 春节调休)")]
    BadName {
        /// The limit in characters.
        max: usize,
    },
}

/// What is wrong on one line of a year file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// The line is longer than the limit.
    #[error("the line is longer than {max} characters")]
    TooLong {
        /// The limit in characters.
        max: usize,
    },
    /// The line does not have the shape `DATE[..DATE] holiday|workday [like=WEEKDAY] NAME`.
    #[error(
        "expected `YYYY-MM-DD[..YYYY-MM-DD] holiday NAME` or `YYYY-MM-DD workday [like=mon] NAME`, found `{found}`"
    )]
    Syntax {
        /// The line as found (trimmed).
        found: String,
    },
    /// The `year` line is malformed or repeated, or comes after entries.
    #[error("`year YYYY` must appear once, before any day; found `{found}`")]
    BadYear {
        /// The line as found (trimmed).
        found: String,
    },
    /// A day listed before the `year` line.
    #[error("a day is listed before the `year YYYY` line; put that line first")]
    BeforeYear,
    /// A date that is not a real calendar date in the form YYYY-MM-DD.
    #[error("`{found}` is not a date in the form YYYY-MM-DD")]
    BadDate {
        /// The text that failed to parse.
        found: String,
    },
    /// A range whose end is before its start.
    #[error("range {from}..{to} ends before it starts; write the earlier date first")]
    BackwardsRange {
        /// Range start.
        from: NaiveDate,
        /// Range end.
        to: NaiveDate,
    },
    /// An unknown weekday in `like=`.
    #[error("`{found}` is not a weekday; use like=mon, tue, wed, thu, fri, sat or sun")]
    BadWeekday {
        /// The text after `like=`.
        found: String,
    },
    /// The entry broke a rule of the schedule (duplicate, outside the year, …).
    #[error("{0}")]
    Rule(Box<CalendarError>),
}

/// Why a deadline or a working instant cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    /// The calendar has no working time for too long a stretch: it is probably misconfigured.
    #[error(
        "no working time in the {days} days from {from}: check the weekly working hours and the holidays of the calendar"
    )]
    NoWorkingTime {
        /// The local date the search started from.
        from: NaiveDate,
        /// How many days were scanned.
        days: u32,
    },
    /// The deadline lies further ahead than the arithmetic scans: the limit is too large for the
    /// calendar's working hours.
    #[error(
        "the deadline is more than {days} days after {from}; use a smaller limit or check the calendar's working hours"
    )]
    ScanLimit {
        /// The local date the search started from.
        from: NaiveDate,
        /// How many days were scanned.
        days: u32,
    },
    /// A negative duration where only zero or more makes sense.
    #[error("a time limit cannot be negative")]
    NegativeDuration,
    /// The result would fall outside the dates the system can represent.
    #[error("the deadline falls outside the representable dates")]
    OutOfRange,
    /// A suspension that ends before it starts.
    #[error("suspension #{index} ends before it starts")]
    BackwardsSuspension {
        /// 0-based index in the list given.
        index: usize,
    },
    /// More suspensions than one order can have.
    #[error("{count} suspensions given; at most {max} are allowed per order")]
    TooManySuspensions {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
}
