//! Edge cases of the arithmetic: period boundaries, time outside working hours, sub-seconds,
//! offsets, uneven day patterns and calendars that have no working time.

use chrono::{Duration, FixedOffset, TimeZone, Utc, Weekday};

use super::super::{
    DayOverride, DayPeriods, DeadlineError, WeekPattern, WorkPeriod, WorkingCalendar,
};
use super::{bj, cal, days};

#[test]
fn inside_working_hours_keeps_the_time_of_day() {
    assert_eq!(days("2026-03-09 08:30", 1), bj("2026-03-10 08:30"));
    assert_eq!(days("2026-03-09 11:59:59", 1), bj("2026-03-10 11:59:59"));
    assert_eq!(days("2026-03-09 14:00", 1), bj("2026-03-10 14:00"));
    assert_eq!(days("2026-03-09 17:29:59", 1), bj("2026-03-10 17:29:59"));
    // Friday → Monday.
    assert_eq!(days("2026-03-13 10:00", 1), bj("2026-03-16 10:00"));
}

#[test]
fn period_ends_are_not_working_time() {
    let c = cal();
    assert!(c.is_working_time(bj("2026-03-09 08:30")));
    assert!(!c.is_working_time(bj("2026-03-09 08:29:59")));
    assert!(c.is_working_time(bj("2026-03-09 11:59:59")));
    assert!(!c.is_working_time(bj("2026-03-09 12:00")));
    assert!(!c.is_working_time(bj("2026-03-09 13:59:59")));
    assert!(c.is_working_time(bj("2026-03-09 14:00")));
    assert!(!c.is_working_time(bj("2026-03-09 17:30")));
}

#[test]
fn outside_working_hours_counts_from_the_next_working_instant() {
    // Lunch: from 14:00.
    assert_eq!(days("2026-03-09 12:00", 1), bj("2026-03-10 14:00"));
    assert_eq!(days("2026-03-09 13:00", 1), bj("2026-03-10 14:00"));
    // After work: from the next day's 08:30, so due the day after at 08:30.
    assert_eq!(days("2026-03-09 17:30", 1), bj("2026-03-11 08:30"));
    assert_eq!(days("2026-03-09 22:00", 1), bj("2026-03-11 08:30"));
    // Before work: from 08:30 that day.
    assert_eq!(days("2026-03-09 07:00", 1), bj("2026-03-10 08:30"));
    // An ordinary Saturday: from Monday 08:30.
    assert_eq!(days("2026-03-07 10:00", 1), bj("2026-03-10 08:30"));
    // Zero days is the next working instant.
    assert_eq!(days("2026-03-07 10:00", 0), bj("2026-03-09 08:30"));
    assert_eq!(days("2026-03-09 10:00", 0), bj("2026-03-09 10:00"));
}

#[test]
fn sub_seconds_are_kept() {
    let t = bj("2026-03-09 10:00") + Duration::milliseconds(500);
    assert_eq!(
        cal().add_working_days(t, 1).unwrap(),
        bj("2026-03-10 10:00") + Duration::milliseconds(500)
    );
    let lunch = bj("2026-03-09 12:00") - Duration::nanoseconds(1);
    assert!(cal().is_working_time(lunch));
    assert_eq!(
        cal()
            .add_working_hours(lunch, Duration::nanoseconds(1))
            .unwrap(),
        bj("2026-03-09 12:00")
    );
}

#[test]
fn working_hours_across_lunch_and_weekend() {
    let c = cal();
    let h = Duration::hours;
    assert_eq!(
        c.add_working_hours(bj("2026-03-09 11:00"), h(2)).unwrap(),
        bj("2026-03-09 15:00")
    );
    // Used up exactly at a period end: that end, not the next start.
    assert_eq!(
        c.add_working_hours(bj("2026-03-09 11:00"), h(1)).unwrap(),
        bj("2026-03-09 12:00")
    );
    assert_eq!(
        c.add_working_hours(bj("2026-03-09 17:00"), Duration::minutes(30))
            .unwrap(),
        bj("2026-03-09 17:30")
    );
    // Friday 16:30 + 2 h → Monday 09:30.
    assert_eq!(
        c.add_working_hours(bj("2026-03-13 16:30"), h(2)).unwrap(),
        bj("2026-03-16 09:30")
    );
    // From outside working hours.
    assert_eq!(
        c.add_working_hours(bj("2026-03-14 03:00"), h(4)).unwrap(),
        bj("2026-03-16 14:30")
    );
    assert_eq!(
        c.add_working_hours(bj("2026-03-14 03:00"), Duration::zero())
            .unwrap(),
        bj("2026-03-14 03:00")
    );
    assert_eq!(
        c.add_working_hours(bj("2026-03-14 03:00"), Duration::seconds(-1)),
        Err(DeadlineError::NegativeDuration)
    );
}

#[test]
fn working_time_between_counts_only_working_periods() {
    let c = cal();
    let h = Duration::hours;
    assert_eq!(
        c.working_time_between(bj("2026-03-09 08:30"), bj("2026-03-10 08:30")),
        h(7)
    );
    assert_eq!(
        c.working_time_between(bj("2026-03-13 16:30"), bj("2026-03-16 09:30")),
        h(2)
    );
    assert_eq!(
        c.working_time_between(bj("2026-03-09 11:00"), bj("2026-03-09 15:00")),
        h(2)
    );
    assert_eq!(
        c.working_time_between(bj("2026-03-10 10:00"), bj("2026-03-09 10:00")),
        Duration::zero()
    );
    // Four full weeks of March 2026 (no holidays): 20 days × 7 h.
    assert_eq!(
        c.working_time_between(bj("2026-03-02 00:00"), bj("2026-03-30 00:00")),
        h(140)
    );
    // All of 2026: 261 weekdays, 19 of them holidays, plus 6 make-up days = 248 working days.
    assert_eq!(
        c.working_time_between(bj("2026-01-01 00:00"), bj("2027-01-01 00:00")),
        h(7 * 248)
    );
}

#[test]
fn clock_limits_ignore_the_calendar() {
    let c = cal();
    assert_eq!(
        c.add_clock(bj("2026-02-16 23:30"), Duration::minutes(45))
            .unwrap(),
        bj("2026-02-17 00:15")
    );
    assert_eq!(
        c.add_clock(bj("2026-02-16 23:30"), Duration::minutes(-1)),
        Err(DeadlineError::NegativeDuration)
    );
}

#[test]
fn the_offset_is_configurable() {
    let utc = cal().with_offset(FixedOffset::east_opt(0).unwrap());
    // Monday 10:00 UTC is 18:00 in Beijing.
    let t = Utc.with_ymd_and_hms(2026, 3, 9, 10, 0, 0).unwrap();
    assert!(utc.is_working_time(t));
    assert!(!cal().is_working_time(t));
    assert_eq!(utc.add_working_days(t, 1).unwrap(), t + Duration::days(1));
    assert_eq!(
        cal().add_working_days(t, 1).unwrap(),
        bj("2026-03-11 08:30")
    );
}

fn day(periods: &[(u32, u32, u32, u32)]) -> DayPeriods {
    DayPeriods::new(
        periods
            .iter()
            .map(|&(a, b, c, d)| WorkPeriod::hm(a, b, c, d).unwrap())
            .collect(),
    )
    .unwrap()
}

/// Mon–Thu 08:30–12:00 and 14:00–17:30, Fri 08:30–12:00 only, weekends off.
fn short_friday() -> WorkingCalendar {
    let full = day(&[(8, 30, 12, 0), (14, 0, 17, 30)]);
    let short = day(&[(8, 30, 12, 0)]);
    let off = DayPeriods::none();
    let week = WeekPattern::new([
        full.clone(),
        full.clone(),
        full.clone(),
        full,
        short,
        off.clone(),
        off,
    ]);
    WorkingCalendar::new(week, FixedOffset::east_opt(8 * 3600).unwrap())
}

#[test]
fn uneven_days_clamp_to_the_target_days_working_time() {
    let c = short_friday();
    let d = |s, n| c.add_working_days(bj(s), n).unwrap();
    // Thu 16:00 + 1: Friday has no afternoon, so the end of Friday's work.
    assert_eq!(d("2026-03-12 16:00", 1), bj("2026-03-13 12:00"));
    // Thu 10:00 + 1 is inside Friday's morning.
    assert_eq!(d("2026-03-12 10:00", 1), bj("2026-03-13 10:00"));
    // A make-up Saturday working like Friday.
    let mut c = c;
    c.set_day(
        chrono::NaiveDate::from_ymd_opt(2026, 3, 14).unwrap(),
        Some(DayOverride::workday("调休", Weekday::Fri).unwrap()),
    )
    .unwrap();
    assert_eq!(
        c.add_working_days(bj("2026-03-13 11:00"), 1).unwrap(),
        bj("2026-03-14 11:00")
    );
    assert!(!c.is_working_time(bj("2026-03-14 15:00")));
    // A make-up day working like Monday (the default) gets the full day.
    c.set_day(
        chrono::NaiveDate::from_ymd_opt(2026, 3, 14).unwrap(),
        Some(DayOverride::workday("调休", Weekday::Mon).unwrap()),
    )
    .unwrap();
    assert!(c.is_working_time(bj("2026-03-14 15:00")));
}

#[test]
fn a_calendar_without_working_days_errors_instead_of_hanging() {
    let off = DayPeriods::none();
    let week = WeekPattern::new(std::array::from_fn(|_| off.clone()));
    let c = WorkingCalendar::new(week, FixedOffset::east_opt(8 * 3600).unwrap());
    let t = bj("2026-03-09 10:00");
    assert!(matches!(
        c.next_working_instant(t),
        Err(DeadlineError::NoWorkingTime { .. })
    ));
    assert!(matches!(
        c.add_working_days(t, 1),
        Err(DeadlineError::NoWorkingTime { .. })
    ));
    assert!(matches!(
        c.add_working_hours(t, Duration::hours(1)),
        Err(DeadlineError::NoWorkingTime { .. })
    ));
    assert!(!c.is_working_time(t));
    assert_eq!(
        c.working_time_between(t, t + Duration::days(10_000)),
        Duration::zero()
    );
}

#[test]
fn a_limit_too_large_for_the_calendar_errors() {
    // One second of work a week: 2000 hours would take 140 000 years.
    let tiny = DayPeriods::new(vec![WorkPeriod::from_secs(36_000, 36_001).unwrap()]).unwrap();
    let off = DayPeriods::none();
    let mut days: [DayPeriods; 7] = std::array::from_fn(|_| off.clone());
    days[0] = tiny;
    let c = WorkingCalendar::new(WeekPattern::new(days), FixedOffset::east_opt(0).unwrap());
    assert!(matches!(
        c.add_working_hours(bj("2026-03-09 10:00"), Duration::hours(2000)),
        Err(DeadlineError::ScanLimit { .. })
    ));
}

#[test]
fn periods_are_validated() {
    assert!(WorkPeriod::hm(12, 0, 8, 30).is_err());
    assert!(WorkPeriod::hm(8, 0, 8, 0).is_err());
    assert!(WorkPeriod::hm(20, 0, 24, 1).is_err());
    assert!(WorkPeriod::hm(20, 0, 24, 0).is_ok());
    let p = |a, b, c, d| WorkPeriod::hm(a, b, c, d).unwrap();
    // Out of order, overlapping, touching.
    assert!(DayPeriods::new(vec![p(14, 0, 17, 30), p(8, 30, 12, 0)]).is_err());
    assert!(DayPeriods::new(vec![p(8, 30, 12, 0), p(11, 0, 17, 30)]).is_err());
    assert!(DayPeriods::new(vec![p(8, 30, 12, 0), p(12, 0, 17, 30)]).is_err());
    let five = (0..5).map(|h| p(h * 2, 0, h * 2 + 1, 0)).collect();
    assert!(DayPeriods::new(five).is_err());
    let err = DayPeriods::new(vec![p(8, 30, 12, 0), p(11, 0, 17, 30)]).unwrap_err();
    assert!(err.to_string().contains("08:30–12:00"), "{err}");
}

#[test]
fn a_period_may_end_at_midnight() {
    // A 24-hour hotline day: 00:00–24:00 every day.
    let all = day(&[(0, 0, 24, 0)]);
    let c = WorkingCalendar::new(
        WeekPattern::new(std::array::from_fn(|_| all.clone())),
        FixedOffset::east_opt(8 * 3600).unwrap(),
    );
    assert!(c.is_working_time(bj("2026-03-09 23:59:59")));
    assert!(c.is_working_time(bj("2026-03-10 00:00")));
    assert_eq!(
        c.add_working_hours(bj("2026-03-09 23:00"), Duration::hours(2))
            .unwrap(),
        bj("2026-03-10 01:00")
    );
    assert_eq!(
        c.working_time_between(bj("2026-03-09 00:00"), bj("2026-03-16 00:00")),
        Duration::days(7)
    );
}
