//! Special dates (纪念日) and the "who has one on day D / in the next N days" window.

use chrono::{Datelike, NaiveDate};

use super::fields::SpecialDateKind;
use crate::FieldError;

/// A recurring day of the year worth a greeting, with the year it started when known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpecialDate {
    /// Birthday, founding day, contract anniversary…
    pub kind: SpecialDateKind,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month, 1–31 (29 February allowed).
    pub day: u32,
    /// The year of the original event, when known.
    pub year: Option<i32>,
    /// A free label ("董事长生日"), at most 50 characters.
    pub label: Option<String>,
}

/// The longest label of a special date.
pub const MAX_LABEL_LEN: usize = 50;
/// The longest query window for upcoming special dates, in days.
pub const MAX_WINDOW_DAYS: u32 = 366;

impl SpecialDate {
    /// Parses `MM-DD` or `YYYY-MM-DD`; errors name the field `date`.
    pub fn parse(
        kind: SpecialDateKind,
        date: &str,
        label: Option<&str>,
        today: NaiveDate,
    ) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                "date",
                format!("'{date}' is not a date; use MM-DD or YYYY-MM-DD"),
            )
        };
        let parts: Vec<&str> = date.trim().split('-').collect();
        let (year, month, day) = match parts.as_slice() {
            [m, d] => (
                None,
                m.parse().map_err(|_| bad())?,
                d.parse().map_err(|_| bad())?,
            ),
            [y, m, d] => (
                Some(y.parse::<i32>().map_err(|_| bad())?),
                m.parse().map_err(|_| bad())?,
                d.parse().map_err(|_| bad())?,
            ),
            _ => return Err(bad()),
        };
        // 2000 is a leap year, so this accepts 02-29 for recurring dates without a year.
        let check_year = year.unwrap_or(2000);
        let full = NaiveDate::from_ymd_opt(check_year, month, day).ok_or_else(bad)?;
        if year.is_some() && (check_year < 1800 || full > today) {
            return Err(FieldError::new(
                "date",
                format!("{full} is not between 1800 and today"),
            ));
        }
        let label = match label.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) if l.chars().count() > MAX_LABEL_LEN => {
                return Err(FieldError::new(
                    "label",
                    format!("a label has at most {MAX_LABEL_LEN} characters"),
                ));
            }
            other => other.map(str::to_owned),
        };
        Ok(Self {
            kind,
            month,
            day,
            year,
            label,
        })
    }

    /// The date as `MM-DD` or `YYYY-MM-DD`.
    pub fn to_date_string(&self) -> String {
        match self.year {
            Some(y) => format!("{y:04}-{:02}-{:02}", self.month, self.day),
            None => format!("{:02}-{:02}", self.month, self.day),
        }
    }

    /// The day this date is celebrated in `year`: 29 February falls on 28 February in common years.
    pub fn occurrence_in(&self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, self.month, self.day).or_else(|| {
            (self.month == 2 && self.day == 29)
                .then(|| NaiveDate::from_ymd_opt(year, 2, 28))
                .flatten()
        })
    }
}

/// The (month, day) keys to look up for the days `from ..= from + days`, each with the date it
/// is celebrated on. In a common year 28 February also matches dates stored as 29 February.
pub fn window_keys(from: NaiveDate, days: u32) -> Vec<((u32, u32), NaiveDate)> {
    let days = days.min(MAX_WINDOW_DAYS);
    let mut keys = Vec::with_capacity(days as usize + 2);
    for offset in 0..=days {
        let Some(d) = from.checked_add_days(chrono::Days::new(u64::from(offset))) else {
            break;
        };
        keys.push(((d.month(), d.day()), d));
        if d.month() == 2 && d.day() == 28 && NaiveDate::from_ymd_opt(d.year(), 2, 29).is_none() {
            keys.push(((2, 29), d));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn leap_day_birthdays_are_greeted_on_28_february_in_common_years() {
        let keys = window_keys(d(2027, 2, 27), 2);
        let on_28: Vec<_> = keys
            .iter()
            .filter(|(_, day)| *day == d(2027, 2, 28))
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(on_28, vec![(2, 28), (2, 29)]);
    }

    #[test]
    fn window_crosses_the_new_year() {
        let keys = window_keys(d(2026, 12, 30), 3);
        assert_eq!(
            keys.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            vec![(12, 30), (12, 31), (1, 1), (1, 2)]
        );
    }

    #[test]
    fn recurring_leap_day_is_accepted_but_31_april_is_not() {
        let t = d(2026, 11, 22);
        assert!(SpecialDate::parse(SpecialDateKind::Birthday, "02-29", None, t).is_ok());
        assert!(SpecialDate::parse(SpecialDateKind::Birthday, "04-31", None, t).is_err());
        assert!(SpecialDate::parse(SpecialDateKind::Founding, "2030-01-01", None, t).is_err());
    }
}
