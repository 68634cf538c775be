//! One year of public holidays and make-up working days (the State Council notice), and the
//! line-based text format administrators import each November.
//!
//! ```text
//! # 2026, State Council notice of 2025-11-04
//! year 2026
//! 2026-01-01..2026-01-03 holiday 元旦
//! 2026-01-04 workday 元旦调休
//! 2026-02-28 workday like=fri 春节调休
//! ```
//!
//! `#` starts a comment (to the end of the line), blank lines are ignored, `year YYYY` comes once
//! before any day. A `workday` works with the periods of the `like=` weekday, Monday by default.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

use super::{CalendarError, LineProblem, WeekPattern};

/// Longest accepted line of a year file, in characters.
pub const MAX_LINE_CHARS: usize = 200;
/// Most lines accepted in a year file (comments included).
pub const MAX_LINES: usize = 1_000;
/// Longest day name, in characters.
pub const MAX_DAY_NAME_CHARS: usize = 40;

/// The name shown for a holiday or make-up day (春节, 春节调休): 1–40 characters, no `#`, no
/// control characters, no surrounding spaces, so it survives a write–parse round trip.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DayName(String);

impl DayName {
    /// Checks a day name.
    pub fn parse(name: &str) -> Result<Self, CalendarError> {
        let chars = name.chars().count();
        let ok = (1..=MAX_DAY_NAME_CHARS).contains(&chars)
            && name.trim() == name
            && !name.contains('#')
            && !name.chars().any(char::is_control);
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(CalendarError::BadName {
                max: MAX_DAY_NAME_CHARS,
            })
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a date's override does to the weekly pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DayKind {
    /// 休息: a public holiday, no working time at all.
    Holiday,
    /// 调休上班: a day off made a working day with the periods of weekday `like`.
    Workday {
        /// Whose working periods the day uses (Monday unless the file says otherwise).
        like: Weekday,
    },
}

/// A holiday or make-up working day on one date, with its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DayOverride {
    /// Holiday or make-up working day.
    pub kind: DayKind,
    /// The name shown in the calendar (春节, 元旦调休).
    pub name: DayName,
}

impl DayOverride {
    /// A public holiday called `name`.
    pub fn holiday(name: &str) -> Result<Self, CalendarError> {
        Ok(Self {
            kind: DayKind::Holiday,
            name: DayName::parse(name)?,
        })
    }

    /// A make-up working day called `name`, working like `like`.
    pub fn workday(name: &str, like: Weekday) -> Result<Self, CalendarError> {
        Ok(Self {
            kind: DayKind::Workday { like },
            name: DayName::parse(name)?,
        })
    }

    /// Checks the override against a weekly pattern: a make-up working day must fall on a day off
    /// and borrow the periods of a weekday that has some.
    pub fn check(&self, date: NaiveDate, week: &WeekPattern) -> Result<(), CalendarError> {
        if let DayKind::Workday { like } = self.kind {
            if week.day(date.weekday()).is_working() {
                return Err(CalendarError::WorkdayOnWorkingDay {
                    date,
                    weekday: date.weekday(),
                });
            }
            if !week.day(like).is_working() {
                return Err(CalendarError::EmptyPattern {
                    date,
                    weekday: like,
                });
            }
        }
        Ok(())
    }
}

/// The overrides of one calendar year: at most one per date, all within the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSchedule {
    year: i32,
    days: BTreeMap<NaiveDate, DayOverride>,
}

impl YearSchedule {
    /// An empty schedule for `year` (no holidays, no make-up days).
    pub fn new(year: i32) -> Self {
        Self {
            year,
            days: BTreeMap::new(),
        }
    }

    /// The declared year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The overrides, by date.
    pub fn days(&self) -> &BTreeMap<NaiveDate, DayOverride> {
        &self.days
    }

    /// Adds one date's override; refuses a date outside the year or one already listed.
    pub fn insert(&mut self, date: NaiveDate, day: DayOverride) -> Result<(), CalendarError> {
        if date.year() != self.year {
            return Err(CalendarError::OutsideYear {
                date,
                year: self.year,
            });
        }
        if self.days.contains_key(&date) {
            return Err(CalendarError::DuplicateDate { date });
        }
        self.days.insert(date, day);
        Ok(())
    }

    /// Builds a schedule from the calendar's own map (used to export a loaded year).
    pub(crate) fn from_parts(year: i32, days: BTreeMap<NaiveDate, DayOverride>) -> Self {
        Self { year, days }
    }
}

/// Parses a year file, checking make-up days against the default Monday–Friday week.
///
/// The State Council notices are written against that week, so this is what a shipped or
/// downloaded file is checked with; use [`parse_year_file_with`] for a calendar with its own week.
pub fn parse_year_file(text: &str) -> Result<YearSchedule, CalendarError> {
    parse_year_file_with(text, &WeekPattern::china_default())
}

/// Parses a year file, checking make-up days against `week`; the error names its line (the
/// first bad one; [`parse_year_file_all`] reports every one).
pub fn parse_year_file_with(text: &str, week: &WeekPattern) -> Result<YearSchedule, CalendarError> {
    parse_year_file_all(text, week).map_err(|mut errors| {
        // `parse_year_file_all` never returns an empty list; the fallback keeps this total.
        if errors.is_empty() {
            CalendarError::MissingYear
        } else {
            errors.swap_remove(0)
        }
    })
}

/// Parses a year file like [`parse_year_file_with`] but goes on after a bad line, so that an
/// administrator importing a file sees every bad line at once (in line order; never empty on
/// error). A bad `year` line is reported once; the days after it are not blamed for it.
pub fn parse_year_file_all(
    text: &str,
    week: &WeekPattern,
) -> Result<YearSchedule, Vec<CalendarError>> {
    let mut schedule: Option<YearSchedule> = None;
    let mut errors = Vec::new();
    let mut bad_year_line = false;
    // Editors on Windows may save with a byte-order mark; it is not part of the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if line > MAX_LINES {
            errors.push(CalendarError::TooManyLines { max: MAX_LINES });
            return Err(errors);
        }
        let at = |problem| CalendarError::Line { line, problem };
        if raw.chars().count() > MAX_LINE_CHARS {
            errors.push(at(LineProblem::TooLong {
                max: MAX_LINE_CHARS,
            }));
            continue;
        }
        let content = raw.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        let (first, rest) = split_word(content);
        if first == "year" {
            let year = rest
                .parse::<i32>()
                .ok()
                .filter(|y| (1900..=9999).contains(y));
            match year {
                Some(year) if schedule.is_none() && !bad_year_line => {
                    schedule = Some(YearSchedule::new(year));
                }
                _ => {
                    bad_year_line |= schedule.is_none();
                    errors.push(at(LineProblem::BadYear {
                        found: content.to_owned(),
                    }));
                }
            }
            continue;
        }
        let Some(schedule) = schedule.as_mut() else {
            if !bad_year_line {
                errors.push(at(LineProblem::BeforeYear));
            }
            continue;
        };
        if let Err(problem) = parse_line(schedule, first, rest, content, week) {
            errors.push(at(problem));
        }
    }
    match schedule {
        Some(schedule) if errors.is_empty() => Ok(schedule),
        None if errors.is_empty() => Err(vec![CalendarError::MissingYear]),
        _ => Err(errors),
    }
}

/// Adds the days of one entry line to `schedule`; on error nothing of the line is added.
fn parse_line(
    schedule: &mut YearSchedule,
    first: &str,
    rest: &str,
    content: &str,
    week: &WeekPattern,
) -> Result<(), LineProblem> {
    let (from, to) = parse_range(first)?;
    let day = parse_day(rest, content)?;
    let rule = |e| LineProblem::Rule(Box::new(e));
    let mut dates = Vec::new();
    let mut date = from;
    loop {
        day.check(date, week).map_err(rule)?;
        if date.year() != schedule.year() {
            return Err(rule(CalendarError::OutsideYear {
                date,
                year: schedule.year(),
            }));
        }
        if schedule.days().contains_key(&date) {
            return Err(rule(CalendarError::DuplicateDate { date }));
        }
        dates.push(date);
        match date.succ_opt() {
            Some(next) if next <= to => date = next,
            _ => break,
        }
    }
    for date in dates {
        schedule.insert(date, day.clone()).map_err(rule)?;
    }
    Ok(())
}

/// Splits off the first whitespace-separated word.
fn split_word(s: &str) -> (&str, &str) {
    match s.split_once(char::is_whitespace) {
        Some((a, b)) => (a, b.trim_start()),
        None => (s, ""),
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, LineProblem> {
    // `%Y` alone would accept signs and short years; insist on the ten-character form.
    let shaped = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|_| shaped)
        .ok_or_else(|| LineProblem::BadDate {
            found: s.to_owned(),
        })
}

fn parse_range(s: &str) -> Result<(NaiveDate, NaiveDate), LineProblem> {
    match s.split_once("..") {
        None => parse_date(s).map(|d| (d, d)),
        Some((a, b)) => {
            let (from, to) = (parse_date(a)?, parse_date(b)?);
            if to < from {
                return Err(LineProblem::BackwardsRange { from, to });
            }
            Ok((from, to))
        }
    }
}

fn parse_day(rest: &str, content: &str) -> Result<DayOverride, LineProblem> {
    let syntax = || LineProblem::Syntax {
        found: content.to_owned(),
    };
    let rule = |e| LineProblem::Rule(Box::new(e));
    let (kind, rest) = split_word(rest);
    match kind {
        "holiday" => DayOverride::holiday(rest).map_err(rule),
        "workday" => {
            let (like, name) = match split_word(rest) {
                (word, name) if word.starts_with("like=") => {
                    let code = &word["like=".len()..];
                    let like = parse_weekday(code).ok_or_else(|| LineProblem::BadWeekday {
                        found: code.to_owned(),
                    })?;
                    (like, name)
                }
                _ => (Weekday::Mon, rest),
            };
            DayOverride::workday(name, like).map_err(rule)
        }
        _ => Err(syntax()),
    }
}

const WEEKDAY_CODES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

fn parse_weekday(code: &str) -> Option<Weekday> {
    WEEKDAY_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, w)| *w)
}

fn weekday_code(day: Weekday) -> &'static str {
    WEEKDAY_CODES
        .iter()
        .find(|(_, w)| *w == day)
        .map_or("mon", |(c, _)| c)
}

/// Writes a schedule in the year-file format: one line per run of consecutive dates with the same
/// override, `like=` only when it is not Monday, no comments. Parsing the output gives the
/// schedule back.
pub fn to_year_file(schedule: &YearSchedule) -> String {
    let mut out = format!("year {}\n", schedule.year);
    let mut run: Option<(NaiveDate, NaiveDate, &DayOverride)> = None;
    let flush = |out: &mut String, (from, to, day): (NaiveDate, NaiveDate, &DayOverride)| {
        let dates = if from == to {
            from.to_string()
        } else {
            format!("{from}..{to}")
        };
        let what = match day.kind {
            DayKind::Holiday => "holiday".to_owned(),
            DayKind::Workday { like: Weekday::Mon } => "workday".to_owned(),
            DayKind::Workday { like } => format!("workday like={}", weekday_code(like)),
        };
        out.push_str(&format!("{dates} {what} {}\n", day.name.as_str()));
    };
    for (&date, day) in &schedule.days {
        run = match run {
            Some((from, to, prev)) if prev == day && to.succ_opt() == Some(date) => {
                Some((from, date, prev))
            }
            Some(done) => {
                flush(&mut out, done);
                Some((date, date, day))
            }
            None => Some((date, date, day)),
        };
    }
    if let Some(done) = run {
        flush(&mut out, done);
    }
    out
}
