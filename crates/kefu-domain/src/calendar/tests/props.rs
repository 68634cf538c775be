//! Property tests beyond the default calendar: uneven day patterns (a short Friday, make-up days
//! working like another weekday) and suspensions.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc, Weekday};
use proptest::prelude::*;

use super::super::{
    DayOverride, DayPeriods, Limit, Suspension, WeekPattern, WorkPeriod, WorkingCalendar,
};
use super::{bj, cal};

/// Mon–Thu 08:30–12:00 and 14:00–17:30, Fri 09:00–11:00, Sat 13:00–15:00 and 16:00–16:30, Sun off;
/// make-up Sundays in March 2026 working like Friday and like Monday, and a holiday.
fn uneven() -> WorkingCalendar {
    let p = |a, b, c, d| WorkPeriod::hm(a, b, c, d).unwrap();
    let full = DayPeriods::new(vec![p(8, 30, 12, 0), p(14, 0, 17, 30)]).unwrap();
    let fri = DayPeriods::new(vec![p(9, 0, 11, 0)]).unwrap();
    let sat = DayPeriods::new(vec![p(13, 0, 15, 0), p(16, 0, 16, 30)]).unwrap();
    let week = WeekPattern::new([
        full.clone(),
        full.clone(),
        full.clone(),
        full,
        fri,
        sat,
        DayPeriods::none(),
    ]);
    let mut c = WorkingCalendar::new(week, FixedOffset::east_opt(8 * 3600).unwrap());
    let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
    let set = |c: &mut WorkingCalendar, day, o| c.set_day(d(day), Some(o)).unwrap();
    set(
        &mut c,
        8,
        DayOverride::workday("调休", Weekday::Fri).unwrap(),
    );
    set(
        &mut c,
        15,
        DayOverride::workday("调休", Weekday::Mon).unwrap(),
    );
    set(&mut c, 17, DayOverride::holiday("假日").unwrap());
    c
}

fn march(secs: i64) -> DateTime<Utc> {
    bj("2026-03-01 00:00") + Duration::seconds(secs)
}

/// Working time at `t`, or exactly the end of a period (the second before is working time).
fn working_or_period_end(c: &WorkingCalendar, t: DateTime<Utc>) -> bool {
    c.is_working_time(t) || c.is_working_time(t - Duration::seconds(1))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn uneven_days_stay_monotonic_and_in_working_time(
        a in 0i64..28 * 86_400,
        gap in 0i64..3 * 86_400,
        n in 0u32..=8,
        extra in 1u32..=3,
    ) {
        let c = uneven();
        let (t1, t2) = (march(a), march(a + gap));
        let d1 = c.add_working_days(t1, n).unwrap();
        prop_assert!(working_or_period_end(&c, d1), "{d1}");
        prop_assert!(d1 <= c.add_working_days(t2, n).unwrap());
        prop_assert!(d1 < c.add_working_days(t1, n + extra).unwrap());
    }

    #[test]
    fn uneven_working_hours_invert_working_time_between(
        a in 0i64..28 * 86_400,
        secs in 1i64..30 * 3600,
    ) {
        let c = uneven();
        let t = march(a);
        let d = Duration::seconds(secs);
        let r = c.add_working_hours(t, d).unwrap();
        prop_assert!(working_or_period_end(&c, r));
        prop_assert_eq!(c.working_time_between(t, r), d);
        prop_assert!(c.working_time_between(t, r - Duration::seconds(1)) < d);
    }

    #[test]
    fn suspensions_only_ever_extend_by_the_time_they_stop(
        a in 0i64..28 * 86_400,
        cuts in proptest::collection::vec((0i64..6 * 86_400, 0i64..86_400), 0..4),
        kind in 0usize..3,
    ) {
        let c = cal();
        let start = march(a);
        let limit = [Limit::WorkingDays(2), Limit::WorkingHours(5), Limit::Clock(Duration::hours(30))][kind];
        let suspensions: Vec<_> = cuts
            .iter()
            .map(|&(from, len)| Suspension { from: start + Duration::seconds(from), until: Some(start + Duration::seconds(from + len)) })
            .collect();
        let base = limit.deadline(&c, start).unwrap();
        let due = limit.deadline_with_suspensions(&c, start, &suspensions).unwrap().unwrap();
        prop_assert!(due >= base);
        // Counted time outside the suspensions up to the deadline equals the limit's budget.
        let share = limit.elapsed_share_with_suspensions(&c, start, &suspensions, due).unwrap();
        prop_assert!((share - 1.0).abs() < 1e-9, "share at the deadline {}", share);
        // An open suspension added before the deadline makes it unknown.
        let mut open = suspensions.clone();
        open.push(Suspension { from: start, until: None });
        prop_assert_eq!(limit.deadline_with_suspensions(&c, start, &open).unwrap(), None);
    }
}
