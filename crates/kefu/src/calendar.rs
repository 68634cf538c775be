//! `kefu calendar`: a month of the working calendar, and the deadline of a time limit — for
//! staff checking a limit by hand and for checking the calendar rules themselves — and the
//! import of a year file into the store. The calendar is the one the server uses: the shipped
//! State Council schedules (Mon–Fri 08:30–12:00 and 14:00–17:30, in `calendar.utc_offset`,
//! *default* +08:00) with the years stored by administrators over them, when a store exists;
//! then any year files given with `--year-file`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday,
};
use kefu_domain::calendar::{
    CalendarError, DayKind, Limit, WeekPattern, WorkingCalendar, parse_year_file_all,
};
use kefu_store::{Actor, effective_calendar};

use crate::config::{Config, Database};
use crate::db;

/// The most year files one command reads (a calendar holds a handful of years).
pub const MAX_YEAR_FILES: usize = 20;
/// The largest limit the command computes (a year of working days is already absurd).
pub const MAX_LIMIT: u32 = 10_000;

/// Whether the configured store exists: a SQLite file that is there, or any PostgreSQL URL
/// (a database configured but unreachable is an error, not a silent fallback).
fn store_exists(database: &Database) -> bool {
    match database {
        Database::Sqlite(path) => path.exists(),
        Database::Postgres { .. } => true,
    }
}

/// The calendar the server would use (the stored years over the shipped ones, or the shipped
/// ones alone when no store exists yet), with the given year files merged in (each replaces
/// its year).
pub async fn load(config: &Config, year_files: &[PathBuf]) -> anyhow::Result<WorkingCalendar> {
    anyhow::ensure!(
        year_files.len() <= MAX_YEAR_FILES,
        "give at most {MAX_YEAR_FILES} year files"
    );
    let mut cal = if store_exists(&config.database) {
        let store = db::open_migrated(&config.database).await?;
        effective_calendar(store.as_ref(), config.utc_offset)
            .await
            .context("cannot read the stored calendar")?
    } else {
        WorkingCalendar::china_default().with_offset(config.utc_offset)
    };
    for path in year_files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the year file {}", path.display()))?;
        cal.import_year_file(&text)
            .with_context(|| format!("year file {} is not valid", path.display()))?;
    }
    Ok(cal)
}

const WEEKDAYS_ZH: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];

fn weekday_zh(w: Weekday) -> &'static str {
    WEEKDAYS_ZH[w.num_days_from_monday() as usize]
}

/// Every refusal of a year file, one per line: `FILE:7: …` (1-based lines).
fn import_problems(path: &Path, errors: &[CalendarError]) -> String {
    errors
        .iter()
        .map(|e| match e {
            CalendarError::Line { line, problem } => {
                format!("  {}:{line}: {problem}", path.display())
            }
            other => format!("  {}: {other}", path.display()),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `kefu calendar import FILE`: parses the year file (reporting every bad line), then stores it
/// as the next version of its year, recorded as `system:import`. Returns the report printed.
pub async fn import(config: &Config, path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the year file {}", path.display()))?;
    let schedule = parse_year_file_all(&text, &WeekPattern::china_default()).map_err(|errors| {
        anyhow::anyhow!(
            "year file {} is not valid; nothing was imported. Fix these lines:\n{}",
            path.display(),
            import_problems(path, &errors)
        )
    })?;
    let year = schedule.year();
    let store = db::open_migrated(&config.database).await?;
    let current = store.current_calendar_year(year).await?;
    let saved = store
        .save_calendar_year(
            schedule,
            current.version,
            &Actor::System("import"),
            Utc::now(),
        )
        .await
        .with_context(|| format!("cannot store the calendar of {year}"))?;
    let holidays = saved
        .value
        .days()
        .values()
        .filter(|d| d.kind == DayKind::Holiday)
        .count();
    let workdays = saved.value.days().len() - holidays;
    let what = if saved.version == current.version {
        "unchanged"
    } else {
        "imported"
    };
    Ok(format!(
        "{year} 工作日历 {what}: version {}, {holidays} 休息 holidays, {workdays} 调休上班 make-up working days\n",
        saved.version
    ))
}

/// Parses `YYYY-MM`.
pub fn parse_month(s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
        .with_context(|| format!("'{s}' is not a month; write it as YYYY-MM, e.g. 2026-02"))
}

/// A month as a grid (休 = public holiday, 班 = make-up working day) followed by the list of its
/// special days and the number of working days.
pub fn show_month(cal: &WorkingCalendar, first: NaiveDate) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  工作日历 working calendar (UTC{})",
        first.format("%Y-%m"),
        cal.offset()
    );
    let loaded = cal.loaded_years().contains(&first.year());
    if !loaded {
        let _ = writeln!(
            out,
            "注意 note: no holiday schedule loaded for {}; weekends only (import it with `kefu calendar import FILE`)",
            first.year()
        );
    }
    let _ = writeln!(out, " 一   二   三   四   五   六   日");
    let lead = first.weekday().num_days_from_monday() as usize;
    let mut line = "     ".repeat(lead);
    let mut working_days = 0;
    let mut notes = Vec::new();
    let mut day = first;
    while day.month() == first.month() {
        let mark = match cal.override_on(day).map(|o| o.kind) {
            Some(DayKind::Holiday) => "休",
            Some(DayKind::Workday { .. }) => "班",
            None if cal.periods_on(day).is_working() => " ",
            None => "·",
        };
        if cal.periods_on(day).is_working() {
            working_days += 1;
        }
        if let Some(o) = cal.override_on(day) {
            let what = match o.kind {
                DayKind::Holiday => "休息 holiday".to_owned(),
                DayKind::Workday { like } => format!(
                    "调休上班 make-up working day (hours of 周{})",
                    weekday_zh(like)
                ),
            };
            notes.push(format!(
                "{} 周{}  {}  {}",
                day.format("%m-%d"),
                weekday_zh(day.weekday()),
                o.name.as_str(),
                what
            ));
        }
        let _ = write!(line, "{:>3}{} ", day.day(), mark);
        if day.weekday() == Weekday::Sun {
            let _ = writeln!(out, "{}", line.trim_end());
            line.clear();
        }
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "休 = 法定节假日 public holiday   班 = 调休上班 make-up working day   · = 周末 weekend"
    );
    for n in notes {
        let _ = writeln!(out, "  {n}");
    }
    let _ = writeln!(out, "工作日 working days: {working_days}");
    out
}

/// Parses the start instant: RFC 3339 (seconds optional), or `YYYY-MM-DD HH:MM` in the
/// calendar's own offset.
pub fn parse_instant(s: &str, offset: FixedOffset) -> anyhow::Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%d %H:%M%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, f)
            && let Some(t) = offset.from_local_datetime(&naive).single()
        {
            return Ok(t.with_timezone(&Utc));
        }
    }
    anyhow::bail!("'{s}' is not a time; write e.g. 2026-02-13T16:00+08:00 or '2026-02-13 16:00'")
}

/// The limit asked for on the command line: exactly one of the three.
pub fn limit_of(
    working_days: Option<u32>,
    working_hours: Option<u32>,
    clock_minutes: Option<u32>,
) -> anyhow::Result<Limit> {
    let limit = match (working_days, working_hours, clock_minutes) {
        (Some(n), None, None) => Limit::WorkingDays(n),
        (None, Some(n), None) => Limit::WorkingHours(n),
        (None, None, Some(n)) => Limit::Clock(Duration::minutes(i64::from(n))),
        _ => anyhow::bail!("give exactly one of --working-days, --working-hours, --clock-minutes"),
    };
    let n = working_days
        .or(working_hours)
        .or(clock_minutes)
        .unwrap_or(0);
    anyhow::ensure!(n <= MAX_LIMIT, "a limit of at most {MAX_LIMIT} is accepted");
    Ok(limit)
}

fn local(cal: &WorkingCalendar, t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&cal.offset());
    let day = l.date_naive();
    let what = match cal.override_on(day) {
        Some(o) => match o.kind {
            DayKind::Holiday => format!("，{} 休息", o.name.as_str()),
            DayKind::Workday { .. } => format!("，{} 调休上班", o.name.as_str()),
        },
        None => String::new(),
    };
    format!(
        "{} (周{}{what})",
        l.format("%Y-%m-%d %H:%M %:z"),
        weekday_zh(l.weekday())
    )
}

/// The deadline line: start, limit, due instant (in the calendar's offset and in UTC).
pub fn add(cal: &WorkingCalendar, from: DateTime<Utc>, limit: Limit) -> anyhow::Result<String> {
    let due = limit
        .deadline(cal, from)
        .context("the deadline cannot be computed")?;
    let mut out = String::new();
    let _ = writeln!(out, "开始 start:     {}", local(cal, from));
    if !cal.is_working_time(from) && limit.is_working_time() {
        let next = cal
            .next_working_instant(from)
            .context("no working time ahead")?;
        let _ = writeln!(
            out,
            "  (outside working hours: counting from {})",
            local(cal, next)
        );
    }
    let _ = writeln!(
        out,
        "时限 limit:     {} ({})",
        limit.label_zh(),
        limit.code()
    );
    let _ = writeln!(out, "截止 deadline:  {}", local(cal, due));
    let _ = writeln!(
        out,
        "UTC:            {}",
        due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> FixedOffset {
        WorkingCalendar::china_default().offset()
    }

    #[test]
    fn complaint_on_friday_before_a_make_up_saturday_is_due_that_saturday() {
        let cal = WorkingCalendar::china_default();
        let from = parse_instant("2026-02-13T16:00+08:00", shanghai()).unwrap_or_default();
        let out = add(&cal, from, Limit::WorkingDays(1)).unwrap_or_default();
        assert!(
            out.contains("截止 deadline:  2026-02-14 16:00 +08:00 (周六，"),
            "{out}"
        );
        assert!(out.contains("2026-02-14T08:00:00Z"), "{out}");
    }

    #[test]
    fn february_2026_marks_spring_festival_and_its_make_up_days() {
        let cal = WorkingCalendar::china_default();
        let out = show_month(&cal, parse_month("2026-02").unwrap_or_default());
        assert!(out.contains(" 14班"), "{out}");
        assert!(out.contains(" 16休"), "{out}");
        assert!(out.contains(" 28班"), "{out}");
        // 20 weekdays, minus the 6 that are holidays (16–20 and 23), plus 2 make-up Saturdays.
        let expected = (1..=28)
            .filter_map(|d| NaiveDate::from_ymd_opt(2026, 2, d))
            .filter(|d| cal.periods_on(*d).is_working())
            .count();
        assert!(
            out.contains(&format!("工作日 working days: {expected}")),
            "{out}"
        );
        assert_eq!(expected, 16);
    }

    #[test]
    fn a_month_without_a_schedule_says_so() {
        let cal = WorkingCalendar::china_default();
        let out = show_month(&cal, parse_month("2031-05").unwrap_or_default());
        assert!(out.contains("no holiday schedule loaded for 2031"), "{out}");
    }

    #[test]
    fn start_times_are_read_in_several_spellings() {
        let want = parse_instant("2026-02-13T16:00:00+08:00", shanghai()).ok();
        assert!(want.is_some());
        assert_eq!(
            parse_instant("2026-02-13T16:00+08:00", shanghai()).ok(),
            want
        );
        assert_eq!(parse_instant("2026-02-13 16:00", shanghai()).ok(), want);
        assert_eq!(parse_instant("2026-02-13T08:00:00Z", shanghai()).ok(), want);
        assert!(parse_instant("13/02/2026", shanghai()).is_err());
        assert!(parse_month("2026-13").is_err());
    }

    #[test]
    fn exactly_one_limit_is_required() {
        assert!(limit_of(None, None, None).is_err());
        assert!(limit_of(Some(1), Some(2), None).is_err());
        assert!(limit_of(Some(MAX_LIMIT + 1), None, None).is_err());
        assert_eq!(
            limit_of(None, None, Some(45)).ok(),
            Some(Limit::Clock(Duration::minutes(45)))
        );
    }
}
