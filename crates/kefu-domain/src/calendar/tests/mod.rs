//! Tests of the working calendar: real dates of the 2025 and 2026 schedules, edge cases of the
//! arithmetic, year files, limits and suspensions, and property tests against a brute-force
//! minute-by-minute oracle.

#![allow(clippy::unwrap_used)]

mod dates;
mod edges;
mod limits;
mod oracle;
mod props;
mod year_files;

use chrono::{DateTime, FixedOffset, Utc};

use super::WorkingCalendar;

/// An instant written in Beijing time: `2026-02-13 16:00` or `2026-02-13 16:00:05`.
pub(super) fn bj(s: &str) -> DateTime<Utc> {
    let fmt = if s.len() > 16 {
        "%Y-%m-%d %H:%M:%S %z"
    } else {
        "%Y-%m-%d %H:%M %z"
    };
    DateTime::<FixedOffset>::parse_from_str(&format!("{s} +0800"), fmt)
        .unwrap()
        .with_timezone(&Utc)
}

/// The default calendar (2025 and 2026 loaded, +08:00).
pub(super) fn cal() -> WorkingCalendar {
    WorkingCalendar::china_default()
}

/// `n` working days from `from`, both in Beijing time.
pub(super) fn days(from: &str, n: u32) -> DateTime<Utc> {
    cal().add_working_days(bj(from), n).unwrap()
}
