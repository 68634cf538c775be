//! Real dates of the 2025 and 2026 State Council schedules (issue 5 acceptance).

use super::{bj, cal, days};

#[test]
fn friday_before_make_up_saturday_is_due_on_the_saturday() {
    // 2026-02-14 (Sat) is a make-up working day before Spring Festival.
    assert_eq!(days("2026-02-13 16:00", 1), bj("2026-02-14 16:00"));
}

#[test]
fn last_working_day_before_spring_festival_2026_is_due_after_the_holiday() {
    // Sat 2026-02-14 works, Feb 15–23 are off, Tue Feb 24 is the next working day.
    assert_eq!(days("2026-02-14 10:00", 1), bj("2026-02-24 10:00"));
    assert_eq!(days("2026-02-13 16:00", 2), bj("2026-02-24 16:00"));
    // Accepted during the holiday: counted from Feb 24 08:30.
    assert_eq!(days("2026-02-17 10:00", 1), bj("2026-02-25 08:30"));
}

#[test]
fn spring_festival_2026_second_make_up_saturday() {
    // Fri Feb 27 → make-up Sat Feb 28 → Mon Mar 2.
    assert_eq!(days("2026-02-27 09:00", 1), bj("2026-02-28 09:00"));
    assert_eq!(days("2026-02-28 09:00", 1), bj("2026-03-02 09:00"));
}

#[test]
fn friday_before_make_up_sunday_2025_national_day() {
    // 2025-09-28 (Sun) is a make-up working day.
    assert_eq!(days("2025-09-26 15:00", 1), bj("2025-09-28 15:00"));
}

#[test]
fn national_day_2025_merged_with_mid_autumn() {
    // Oct 1–8 off; Oct 9 (Thu), Oct 10 (Fri), Oct 11 (make-up Sat).
    assert_eq!(days("2025-09-30 10:00", 1), bj("2025-10-09 10:00"));
    assert_eq!(days("2025-09-30 10:00", 2), bj("2025-10-10 10:00"));
    assert_eq!(days("2025-09-30 10:00", 3), bj("2025-10-11 10:00"));
    assert_eq!(days("2025-10-11 10:00", 1), bj("2025-10-13 10:00"));
    // Complaint reply: 7 working days from Sep 29.
    assert_eq!(days("2025-09-29 09:00", 7), bj("2025-10-15 09:00"));
}

#[test]
fn spring_festival_2025_with_make_up_sunday() {
    // Jan 26 (Sun) works, Jan 28–Feb 4 off, Feb 8 (Sat) works.
    assert_eq!(days("2025-01-24 15:00", 1), bj("2025-01-26 15:00"));
    assert_eq!(days("2025-01-26 15:00", 1), bj("2025-01-27 15:00"));
    assert_eq!(days("2025-01-27 15:00", 1), bj("2025-02-05 15:00"));
    assert_eq!(days("2025-02-07 11:00", 1), bj("2025-02-08 11:00"));
    assert_eq!(days("2025-02-08 11:00", 1), bj("2025-02-10 11:00"));
}

#[test]
fn new_year_2026_make_up_sunday() {
    // Wed 2025-12-31 → Jan 1–3 off → Sun Jan 4 works.
    assert_eq!(days("2025-12-31 10:00", 1), bj("2026-01-04 10:00"));
}

#[test]
fn labour_day_of_both_years() {
    // 2025: Sun Apr 27 works, May 1–5 off.
    assert_eq!(days("2025-04-25 10:00", 1), bj("2025-04-27 10:00"));
    assert_eq!(days("2025-04-30 10:00", 1), bj("2025-05-06 10:00"));
    // 2026: May 1–5 off, Sat May 9 works.
    assert_eq!(days("2026-04-30 10:00", 1), bj("2026-05-06 10:00"));
    assert_eq!(days("2026-05-08 10:00", 1), bj("2026-05-09 10:00"));
}

#[test]
fn national_day_2026_make_up_days() {
    // Sun Sep 20 works; Sep 25–27 and Oct 1–7 off; Sat Oct 10 works.
    assert_eq!(days("2026-09-18 10:00", 1), bj("2026-09-20 10:00"));
    assert_eq!(days("2026-09-24 10:00", 1), bj("2026-09-28 10:00"));
    assert_eq!(days("2026-09-30 10:00", 1), bj("2026-10-08 10:00"));
    assert_eq!(days("2026-10-09 10:00", 1), bj("2026-10-10 10:00"));
}

#[test]
fn holidays_and_make_up_days_are_what_the_notices_say() {
    let c = cal();
    assert!(!c.is_working_time(bj("2026-02-16 10:00")));
    assert!(c.is_working_time(bj("2026-02-14 10:00")));
    assert!(c.is_working_time(bj("2025-01-26 10:00")));
    assert!(!c.is_working_time(bj("2025-10-08 10:00")));
    assert!(c.is_working_time(bj("2025-10-11 10:00")));
    // An ordinary Saturday stays off.
    assert!(!c.is_working_time(bj("2026-03-07 10:00")));
    assert_eq!(
        c.loaded_years().iter().copied().collect::<Vec<_>>(),
        vec![2025, 2026]
    );
}

#[test]
fn next_working_instant_skips_the_holiday() {
    let c = cal();
    assert_eq!(
        c.next_working_instant(bj("2026-02-14 18:00")).unwrap(),
        bj("2026-02-24 08:30")
    );
    assert_eq!(
        c.next_working_instant(bj("2026-02-13 18:00")).unwrap(),
        bj("2026-02-14 08:30")
    );
}

#[test]
fn working_hours_across_spring_festival() {
    let c = cal();
    // Sat Feb 14 17:00 + 2 h: 30 min that day, then Feb 24 08:30 + 1.5 h.
    assert_eq!(
        c.add_working_hours(bj("2026-02-14 17:00"), chrono::Duration::hours(2))
            .unwrap(),
        bj("2026-02-24 10:00")
    );
    assert_eq!(
        c.working_time_between(bj("2026-02-13 08:30"), bj("2026-02-25 08:30")),
        chrono::Duration::hours(21)
    );
}
