//! Year files: the shipped schedules, round trips, merging, and errors that name their line.

use chrono::{NaiveDate, Weekday};

use super::super::{
    CalendarError, DayKind, DayOverride, LineProblem, WorkingCalendar, YEAR_2025, YEAR_2026,
    parse_year_file, parse_year_file_all, to_year_file,
};
use super::{bj, cal};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The lines of a year file without comments and blank lines.
fn content_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn shipped_files_round_trip() {
    for text in [YEAR_2025, YEAR_2026] {
        let schedule = parse_year_file(text).unwrap();
        let written = to_year_file(&schedule);
        // The shipped files are written in the canonical form, comments aside.
        assert_eq!(content_lines(text), content_lines(&written));
        assert_eq!(parse_year_file(&written).unwrap(), schedule);
    }
}

#[test]
fn shipped_2026_matches_the_notice() {
    let s = parse_year_file(YEAR_2026).unwrap();
    let holidays = s
        .days()
        .values()
        .filter(|d| d.kind == DayKind::Holiday)
        .count();
    let workdays: Vec<_> = s
        .days()
        .iter()
        .filter(|(_, d)| d.kind != DayKind::Holiday)
        .map(|(d, _)| *d)
        .collect();
    // 3 + 9 + 3 + 5 + 3 + 3 + 7 days off.
    assert_eq!(holidays, 33);
    assert_eq!(
        workdays,
        vec![
            date(2026, 1, 4),
            date(2026, 2, 14),
            date(2026, 2, 28),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10)
        ]
    );
    assert_eq!(s.days()[&date(2026, 2, 15)].name.as_str(), "春节");
}

#[test]
fn shipped_2025_matches_the_notice() {
    let s = parse_year_file(YEAR_2025).unwrap();
    let holidays = s
        .days()
        .values()
        .filter(|d| d.kind == DayKind::Holiday)
        .count();
    // 1 + 8 + 3 + 5 + 3 + 8 days off.
    assert_eq!(holidays, 28);
    let workdays: Vec<_> = s
        .days()
        .iter()
        .filter(|(_, d)| d.kind != DayKind::Holiday)
        .map(|(d, _)| *d)
        .collect();
    assert_eq!(
        workdays,
        vec![
            date(2025, 1, 26),
            date(2025, 2, 8),
            date(2025, 4, 27),
            date(2025, 9, 28),
            date(2025, 10, 11)
        ]
    );
}

#[test]
fn an_edited_year_round_trips() {
    let text = "# edited by an administrator\n\
                year 2027\n\
                \n\
                2027-01-01 holiday 元旦  # New Year\n\
                2027-02-06..2027-02-13 holiday 春节\n\
                2027-02-20 workday like=fri 春节调休\n\
                2027-02-21 workday 春节调休\n";
    let s = parse_year_file(text).unwrap();
    assert_eq!(
        s.days()[&date(2027, 2, 20)].kind,
        DayKind::Workday { like: Weekday::Fri }
    );
    let written = to_year_file(&s);
    assert_eq!(
        written,
        "year 2027\n\
         2027-01-01 holiday 元旦\n\
         2027-02-06..2027-02-13 holiday 春节\n\
         2027-02-20 workday like=fri 春节调休\n\
         2027-02-21 workday 春节调休\n"
    );
    assert_eq!(parse_year_file(&written).unwrap(), s);
    // The same file saved on Windows (byte-order mark, CRLF) reads the same.
    let windows = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    assert_eq!(parse_year_file(&windows).unwrap(), s);
}

#[test]
fn merging_a_year_replaces_only_that_year() {
    let mut c = cal();
    // An administrator's corrected 2026: only New Year.
    let year = c
        .import_year_file("year 2026\n2026-01-01 holiday 元旦\n")
        .unwrap();
    assert_eq!(year, 2026);
    assert!(c.override_on(date(2026, 2, 16)).is_none());
    assert!(c.override_on(date(2026, 1, 1)).is_some());
    // 2025 untouched.
    assert!(c.override_on(date(2025, 10, 8)).is_some());
    assert_eq!(
        to_year_file(&c.year_schedule(2026)),
        "year 2026\n2026-01-01 holiday 元旦\n"
    );
    // Exporting a loaded year gives back the shipped content.
    assert_eq!(
        content_lines(&to_year_file(&cal().year_schedule(2025))),
        content_lines(YEAR_2025)
    );
}

#[test]
fn an_administrator_can_edit_one_day() {
    let mut c = cal();
    // A local typhoon day off on Monday 2026-03-09.
    c.set_day(
        date(2026, 3, 9),
        Some(DayOverride::holiday("台风停工").unwrap()),
    )
    .unwrap();
    assert!(!c.is_working_time(bj("2026-03-09 10:00")));
    assert_eq!(
        c.add_working_days(bj("2026-03-06 10:00"), 1).unwrap(),
        bj("2026-03-10 10:00")
    );
    c.set_day(date(2026, 3, 9), None).unwrap();
    assert!(c.is_working_time(bj("2026-03-09 10:00")));
    // A make-up working day on a Monday is refused.
    assert!(matches!(
        c.set_day(
            date(2026, 3, 9),
            Some(DayOverride::workday("调休", Weekday::Mon).unwrap())
        ),
        Err(CalendarError::WorkdayOnWorkingDay { .. })
    ));
}

/// The line and problem of a parse error.
fn line_error(text: &str) -> (usize, LineProblem) {
    match parse_year_file(text) {
        Err(CalendarError::Line { line, problem }) => (line, problem),
        other => panic!("expected a line error, got {other:?}"),
    }
}

fn rule_error(text: &str) -> (usize, CalendarError) {
    match line_error(text) {
        (line, LineProblem::Rule(e)) => (line, *e),
        other => panic!("expected a rule error, got {other:?}"),
    }
}

#[test]
fn parse_errors_name_their_line() {
    // Malformed date.
    let (line, p) = line_error("# c\nyear 2026\n2026-13-01 holiday 春节\n");
    assert_eq!(line, 3);
    assert!(matches!(p, LineProblem::BadDate { .. }), "{p}");
    let (line, _) = line_error("year 2026\n2026-2-1 holiday 春节\n");
    assert_eq!(line, 2);
    // Backwards or malformed range.
    let (line, p) = line_error("year 2026\n\n2026-02-23..2026-02-15 holiday 春节\n");
    assert_eq!(line, 3);
    assert!(matches!(p, LineProblem::BackwardsRange { .. }), "{p}");
    let (_, p) = line_error("year 2026\n2026-02-15..2026-02 holiday 春节\n");
    assert!(matches!(p, LineProblem::BadDate { .. }), "{p}");
    let (_, p) = line_error("year 2026\n2026-02-15...2026-02-16 holiday 春节\n");
    assert!(matches!(p, LineProblem::BadDate { .. }), "{p}");
    // A date listed twice: the second line is named.
    let (line, e) =
        rule_error("year 2026\n2026-02-15..2026-02-23 holiday 春节\n2026-02-20 holiday 春节\n");
    assert_eq!(line, 3);
    assert_eq!(
        e,
        CalendarError::DuplicateDate {
            date: date(2026, 2, 20)
        }
    );
    // Outside the declared year.
    let (line, e) = rule_error("year 2026\n2025-12-31..2026-01-01 holiday 元旦\n");
    assert_eq!(line, 2);
    assert!(matches!(e, CalendarError::OutsideYear { year: 2026, .. }));
    // A workday on a normal working day (2026-03-09 is a Monday).
    let (line, e) = rule_error("year 2026\n2026-03-09 workday 调休\n");
    assert_eq!(line, 2);
    assert!(matches!(e, CalendarError::WorkdayOnWorkingDay { .. }));
    assert!(e.to_string().contains("2026-03-09"), "{e}");
    // A workday like a day that has no working periods.
    let (_, e) = rule_error("year 2026\n2026-03-07 workday like=sun 调休\n");
    assert!(matches!(e, CalendarError::EmptyPattern { .. }));
    // Unknown weekday, unknown kind, missing name.
    let (_, p) = line_error("year 2026\n2026-03-07 workday like=funday 调休\n");
    assert!(matches!(p, LineProblem::BadWeekday { .. }));
    let (_, p) = line_error("year 2026\n2026-03-07 party 调休\n");
    assert!(matches!(p, LineProblem::Syntax { .. }));
    let (_, e) = rule_error("year 2026\n2026-03-07 holiday\n");
    assert!(matches!(e, CalendarError::BadName { .. }));
    // Year problems.
    let (line, p) = line_error("2026-01-01 holiday 元旦\nyear 2026\n");
    assert_eq!((line, p), (1, LineProblem::BeforeYear));
    let (line, p) = line_error("year 2026\nyear 2027\n");
    assert_eq!(line, 2);
    assert!(matches!(p, LineProblem::BadYear { .. }));
    let (_, p) = line_error("year twenty\n");
    assert!(matches!(p, LineProblem::BadYear { .. }));
    assert_eq!(
        parse_year_file("# nothing\n"),
        Err(CalendarError::MissingYear)
    );
    // A line too long.
    let long = format!("year 2026\n2026-01-01 holiday {}\n", "长".repeat(300));
    assert_eq!(line_error(&long).0, 2);
}

#[test]
fn error_messages_say_what_to_fix() {
    let err = parse_year_file("year 2026\n2026-02-23..2026-02-15 holiday 春节\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2: range 2026-02-23..2026-02-15 ends before it starts; write the earlier date first"
    );
}

#[test]
fn a_calendar_checks_workdays_against_its_own_week() {
    // A six-day week (Saturday works like Monday): a make-up Saturday makes no sense there.
    let mut week = WorkingCalendar::china_default().week().clone();
    let monday = week.day(Weekday::Mon).clone();
    let mut days: [_; 7] = std::array::from_fn(|i| {
        week.day(chrono::Weekday::try_from(i as u8).unwrap())
            .clone()
    });
    days[5] = monday;
    week = super::super::WeekPattern::new(days);
    let mut c = WorkingCalendar::new(week, cal().offset());
    let err = c
        .import_year_file("year 2026\n2026-02-14 workday 春节调休\n")
        .unwrap_err();
    assert!(matches!(err, CalendarError::Line { line: 2, .. }), "{err}");
}

#[test]
fn every_bad_line_is_reported_at_once() {
    let week = WorkingCalendar::china_default().week().clone();
    let text = "# import\nyear 2026\n2026-01-01 holiday 元旦\n2026-02-30 holiday 春节\n\
                2026-01-01 holiday 又一次\n2026-03-02 workday 调休\nnonsense\n2027-01-01 holiday 元旦\n";
    let errors = parse_year_file_all(text, &week).unwrap_err();
    let lines: Vec<usize> = errors
        .iter()
        .map(|e| match e {
            CalendarError::Line { line, .. } => *line,
            other => panic!("{other:?}"),
        })
        .collect();
    // Bad date, duplicate, workday on a Monday, bad syntax, outside the year.
    assert_eq!(lines, [4, 5, 6, 7, 8]);
    // The first of them is what the one-error parser reports.
    assert_eq!(parse_year_file(text).unwrap_err(), errors[0]);
    // A bad year line is reported once; the days after it are not blamed for it.
    let errors = parse_year_file_all("year 20x6\n2026-01-01 holiday 元旦\n", &week).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        parse_year_file_all("", &week),
        Err(vec![CalendarError::MissingYear])
    );
    assert!(parse_year_file_all(YEAR_2026, &week).is_ok());
}
