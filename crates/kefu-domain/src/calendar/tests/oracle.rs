//! Property tests against a brute-force oracle: every minute of 2025–2026 marked working or not
//! from the notices' dates typed out here independently of the year files, with running totals.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use proptest::prelude::*;

use super::{bj, cal};

const DAYS: usize = 731; // 2025-01-01 ..= 2027-01-01
const MINUTES: usize = DAYS * 1440;

/// Off days and make-up days of 2025 and 2026 as (month, day) lists, typed from domain.md.
const OFF_2025: &[(u32, u32, u32, u32)] = &[
    (1, 1, 1, 1),
    (1, 28, 2, 4),
    (4, 4, 4, 6),
    (5, 1, 5, 5),
    (5, 31, 6, 2),
    (10, 1, 10, 8),
];
const ON_2025: &[(u32, u32)] = &[(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)];
const OFF_2026: &[(u32, u32, u32, u32)] = &[
    (1, 1, 1, 3),
    (2, 15, 2, 23),
    (4, 4, 4, 6),
    (5, 1, 5, 5),
    (6, 19, 6, 21),
    (9, 25, 9, 27),
    (10, 1, 10, 7),
];
const ON_2026: &[(u32, u32)] = &[(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)];

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
}

fn oracle_working_day(d: NaiveDate) -> bool {
    let (off, on) = if d.year() == 2025 {
        (OFF_2025, ON_2025)
    } else if d.year() == 2026 {
        (OFF_2026, ON_2026)
    } else {
        (&[][..], &[][..])
    };
    let md = (d.month(), d.day());
    if on.contains(&md) {
        return true;
    }
    if off
        .iter()
        .any(|&(m1, d1, m2, d2)| (m1, d1) <= md && md <= (m2, d2))
    {
        return false;
    }
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

struct Oracle {
    /// `working[i]`: minute `i` (from 2025-01-01 00:00 +08:00) is working time.
    working: Vec<bool>,
    /// `before[i]`: working minutes before minute `i`.
    before: Vec<u32>,
}

fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(|| {
        let mut working = Vec::with_capacity(MINUTES);
        for day in base().iter_days().take(DAYS) {
            let on = oracle_working_day(day);
            for m in 0..1440 {
                working.push(on && ((510..720).contains(&m) || (840..1050).contains(&m)));
            }
        }
        let mut before = Vec::with_capacity(MINUTES + 1);
        let mut n = 0;
        before.push(0);
        for &w in &working {
            n += u32::from(w);
            before.push(n);
        }
        Oracle { working, before }
    })
}

fn instant(minute: usize) -> DateTime<Utc> {
    bj("2025-01-01 00:00") + Duration::minutes(minute as i64)
}

fn minute_of(t: DateTime<Utc>) -> usize {
    (t - bj("2025-01-01 00:00")).num_minutes() as usize
}

#[test]
fn every_minute_of_2025_and_2026_agrees_with_the_oracle() {
    let c = cal();
    let o = oracle();
    for (i, &w) in o.working.iter().enumerate() {
        assert_eq!(
            c.is_working_time(instant(i)),
            w,
            "minute {i}: {}",
            instant(i)
        );
    }
    // And the yearly totals through working_time_between.
    assert_eq!(
        c.working_time_between(instant(0), instant(MINUTES)),
        Duration::minutes(i64::from(o.before[MINUTES]))
    );
}

/// Oracle: the first working minute at or after `i`.
fn next_working(i: usize) -> usize {
    (i..MINUTES).find(|&j| oracle().working[j]).unwrap()
}

/// Oracle: `n` working days after minute `i`, by the same-time-of-day rule.
fn oracle_days(i: usize, n: u32) -> usize {
    let s = next_working(i);
    let (mut day, tod) = (s / 1440, s % 1440);
    let mut left = n;
    while left > 0 {
        day += 1;
        if oracle_working_day(base() + Duration::days(day as i64)) {
            left -= 1;
        }
    }
    day * 1440 + tod
}

/// Oracle: the earliest minute boundary by which `d` working minutes have passed since `i`.
fn oracle_hours(i: usize, d: u32) -> usize {
    let target = oracle().before[i] + d;
    oracle().before.partition_point(|&b| b < target)
}

/// Minutes of 2025-01-01 .. 2026-11-30, leaving room for the result within the oracle's range.
fn start_minute() -> impl Strategy<Value = usize> {
    0..(DAYS - 32) * 1440
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn working_days_equal_the_oracle(i in start_minute(), n in 0u32..=15) {
        let got = cal().add_working_days(instant(i), n).unwrap();
        prop_assert_eq!(got, instant(oracle_days(i, n)));
        // The default calendar's days are all alike, so the deadline is always working time.
        prop_assert!(cal().is_working_time(got));
    }

    #[test]
    fn working_hours_equal_the_oracle(i in start_minute(), d in 1u32..=3000) {
        let got = cal().add_working_hours(instant(i), Duration::minutes(i64::from(d))).unwrap();
        let want = oracle_hours(i, d);
        prop_assert_eq!(got, instant(want));
        // Working time, or exactly the end of a period (the minute before is working).
        prop_assert!(oracle().working[want - 1]);
    }

    #[test]
    fn working_time_between_equals_the_oracle(a in start_minute(), len in 0usize..31 * 1440) {
        let b = a + len;
        let want = oracle().before[b] - oracle().before[a];
        prop_assert_eq!(
            cal().working_time_between(instant(a), instant(b)),
            Duration::minutes(i64::from(want))
        );
    }

    #[test]
    fn next_working_instant_equals_the_oracle(i in start_minute()) {
        prop_assert_eq!(cal().next_working_instant(instant(i)).unwrap(), instant(next_working(i)));
    }

    #[test]
    fn working_days_are_monotonic(
        a in 0i64..(DAYS as i64 - 32) * 86_400,
        gap in 0i64..10 * 86_400,
        n in 0u32..=15,
        extra in 0u32..=5,
    ) {
        let c = cal();
        let (t1, t2) = (instant(0) + Duration::seconds(a), instant(0) + Duration::seconds(a + gap));
        let d1 = c.add_working_days(t1, n).unwrap();
        prop_assert!(d1 <= c.add_working_days(t2, n).unwrap(), "monotonic in t");
        let more = c.add_working_days(t1, n + extra).unwrap();
        if extra > 0 {
            prop_assert!(d1 < more, "strictly monotonic in n");
        } else {
            prop_assert_eq!(d1, more);
        }
        // Adding days one at a time from a working instant is the same as adding them at once.
        let step = c.add_working_days(d1, extra).unwrap();
        prop_assert_eq!(step, more);
    }

    #[test]
    fn working_hours_are_monotonic_and_invert_working_time_between(
        a in 0i64..(DAYS as i64 - 32) * 86_400,
        gap in 0i64..3 * 86_400,
        secs in 1i64..40 * 3600,
    ) {
        let c = cal();
        let (t1, t2) = (instant(0) + Duration::seconds(a), instant(0) + Duration::seconds(a + gap));
        let d = Duration::seconds(secs);
        let r1 = c.add_working_hours(t1, d).unwrap();
        prop_assert!(r1 <= c.add_working_hours(t2, d).unwrap());
        prop_assert_eq!(c.working_time_between(t1, r1), d);
        // Earliest: one second before, the budget is not yet used up.
        prop_assert!(c.working_time_between(t1, r1 - Duration::seconds(1)) < d);
    }

    #[test]
    fn one_working_day_is_seven_working_hours(i in start_minute()) {
        // With identical days, N working days from a working instant is N × 7 h of working time.
        let c = cal();
        let s = c.next_working_instant(instant(i)).unwrap();
        let d = c.add_working_days(s, 1).unwrap();
        prop_assert_eq!(c.working_time_between(s, d), Duration::hours(7));
    }
}

#[test]
fn oracle_sanity() {
    // The oracle itself: 2026-02-14 (make-up Saturday) works; 2026-02-16 does not.
    let day = |y, m, d| oracle_working_day(NaiveDate::from_ymd_opt(y, m, d).unwrap());
    assert!(day(2026, 2, 14));
    assert!(!day(2026, 2, 16));
    assert!(!day(2025, 10, 8));
    assert_eq!(minute_of(instant(12345)), 12345);
}
