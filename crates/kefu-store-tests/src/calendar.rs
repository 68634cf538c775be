//! Story of the calendar settings (issue 5): each calendar year and the time-limit table start
//! as the shipped defaults at version 0, are saved as numbered versions with who and when and
//! an audit entry, refuse stale versions, keep every version, and the effective calendar puts
//! the stored years over the shipped ones.

use chrono::{Duration, FixedOffset, NaiveDate, Weekday};
use kefu_domain::calendar::{
    DayKind, DayOverride, Limit, LimitKind, LimitRule, TimeLimits, WorkingCalendar, YearSchedule,
};
use kefu_domain::ids::StaffId;
use kefu_store::calendar::default_year;
use kefu_store::{
    Actor, PageRequest, Saved, Store, StoreError, effective_calendar, load_time_rules,
};

use crate::fixtures::at;

fn admin(id: i64) -> Actor {
    Actor::Staff(StaffId(id))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("fixture date")
}

fn beijing() -> FixedOffset {
    WorkingCalendar::china_default().offset()
}

/// The shipped 2026 schedule plus a company holiday on Wednesday 6 May 2026.
fn with_company_day() -> YearSchedule {
    let mut s = default_year(2026);
    let day = DayOverride::holiday("厂庆").expect("name");
    s.insert(date(2026, 5, 6), day).expect("free date");
    s
}

/// 2027: New Year's Day off and a make-up Saturday working like a Friday.
fn year_2027() -> YearSchedule {
    let mut s = YearSchedule::new(2027);
    s.insert(
        date(2027, 1, 1),
        DayOverride::holiday("元旦").expect("name"),
    )
    .expect("insert");
    let sat = DayOverride::workday("调休", Weekday::Fri).expect("name");
    s.insert(date(2027, 1, 9), sat).expect("insert");
    s
}

/// The defaults with complaints replied to in 5 working days and a warning at 80 %.
fn tighter() -> TimeLimits {
    let mut rules: Vec<LimitRule> = TimeLimits::defaults().rules().to_vec();
    for r in &mut rules {
        if r.kind == LimitKind::Reply && r.appeal_type.as_deref() == Some("complaint") {
            r.limit = Limit::WorkingDays(5);
        }
    }
    rules.push(
        LimitRule::new(LimitKind::Contact, Limit::Clock(Duration::minutes(30))).for_grade("vip"),
    );
    TimeLimits::new(rules, 0.8).expect("valid limits")
}

async fn audit_of(store: &dyn Store, target: &str) -> Vec<(String, String)> {
    store
        .list_audit(Some(target), PageRequest::new(None, Some(200)))
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

/// Nothing saved yet: shipped years, empty other years and the default limits, all version 0,
/// and the effective calendar is the shipped one.
pub async fn calendar_and_time_limits_start_as_the_shipped_defaults(store: &dyn Store) {
    let y = store.current_calendar_year(2026).await.expect("2026");
    assert_eq!(
        (y.version, &y.value, &y.saved),
        (0, &default_year(2026), &None)
    );
    assert!(!y.value.days().is_empty());
    let y = store.current_calendar_year(2031).await.expect("2031");
    assert_eq!((y.version, y.value.days().len()), (0, 0));
    assert!(
        store
            .stored_calendar_years()
            .await
            .expect("years")
            .is_empty()
    );
    let l = store.current_time_limits().await.expect("limits");
    assert_eq!(
        (l.version, &l.value, &l.saved),
        (0, &TimeLimits::defaults(), &None)
    );
    let cal = effective_calendar(store, beijing())
        .await
        .expect("calendar");
    assert_eq!(cal, WorkingCalendar::china_default());
    let h = store
        .calendar_year_history(2026, PageRequest::first())
        .await
        .expect("history");
    assert!(h.items.is_empty());
}

/// A saved year reads back equal as version 1 by its actor, is audited under its own key, keeps
/// its history, and replaces the shipped year in the effective calendar; saving it unchanged
/// writes nothing.
pub async fn saved_calendar_year_overrides_the_shipped_one(store: &dyn Store) {
    let saved = store
        .save_calendar_year(with_company_day(), 0, &admin(7), at(5))
        .await
        .expect("save");
    let by = Saved {
        at: at(5),
        staff_id: Some(StaffId(7)),
        actor: "staff:7".into(),
    };
    assert_eq!(saved.version, 1);
    assert_eq!(saved.value, with_company_day());
    assert_eq!(saved.saved.as_ref(), Some(&by));
    assert_eq!(
        store.current_calendar_year(2026).await.expect("read"),
        saved
    );
    let again = store
        .save_calendar_year(with_company_day(), 1, &admin(8), at(6))
        .await
        .expect("unchanged save");
    assert_eq!(again, saved);
    let history = store
        .calendar_year_history(2026, PageRequest::first())
        .await
        .expect("history");
    assert_eq!(history.items, vec![saved.clone()]);
    let audit = audit_of(store, "calendar:2026").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].0, "calendar.save");
    assert!(
        audit[0].1.contains("added 2026-05-06 holiday 厂庆"),
        "{audit:?}"
    );

    let cal = effective_calendar(store, beijing())
        .await
        .expect("calendar");
    let kind = cal.override_on(date(2026, 5, 6)).map(|o| o.kind);
    assert_eq!(kind, Some(DayKind::Holiday));
    assert!(!cal.periods_on(date(2026, 5, 6)).is_working());
    // The shipped 2025 stays.
    assert!(cal.override_on(date(2025, 10, 1)).is_some());

    // Another year is a setting of its own: version 1 too, and it joins the calendar.
    let y27 = store
        .save_calendar_year(year_2027(), 0, &admin(7), at(7))
        .await
        .expect("2027");
    assert_eq!(y27.version, 1);
    let years: Vec<i32> = store
        .stored_calendar_years()
        .await
        .expect("years")
        .iter()
        .map(|v| v.value.year())
        .collect();
    assert_eq!(years, [2026, 2027]);
    let rules = load_time_rules(store, beijing()).await.expect("rules");
    assert!(rules.calendar.loaded_years().contains(&2027));
    assert!(rules.calendar.periods_on(date(2027, 1, 9)).is_working());
    assert_eq!(rules.limits, TimeLimits::defaults());
}

/// Two administrators editing a year from one version: the second save conflicts and changes
/// nothing; a year-day that breaks the week is refused.
pub async fn stale_calendar_version_is_refused(store: &dyn Store) {
    store
        .save_calendar_year(with_company_day(), 0, &admin(1), at(1))
        .await
        .expect("first");
    let err = store
        .save_calendar_year(default_year(2026), 0, &admin(2), at(2))
        .await;
    assert!(
        matches!(
            err,
            Err(StoreError::VersionConflict {
                entity: "calendar",
                current: 1
            })
        ),
        "{err:?}"
    );
    let mut bad = YearSchedule::new(2028);
    // A make-up working day on a Monday, which already works.
    let monday = DayOverride::workday("调休", Weekday::Mon).expect("name");
    bad.insert(date(2028, 3, 6), monday).expect("insert");
    let err = store.save_calendar_year(bad, 0, &admin(1), at(3)).await;
    assert!(matches!(err, Err(StoreError::InvalidState(_))), "{err:?}");
    assert_eq!(
        store
            .current_calendar_year(2026)
            .await
            .expect("read")
            .version,
        1
    );
    assert_eq!(
        store
            .current_calendar_year(2028)
            .await
            .expect("read")
            .version,
        0
    );
    assert_eq!(audit_of(store, "calendar:2026").await.len(), 1);
}

/// Time limits round trip with their warning share, keep history newest first, are audited,
/// and refuse a stale version.
pub async fn time_limits_round_trip_and_keep_history(store: &dyn Store) {
    let v1 = store
        .save_time_limits(tighter(), 0, &admin(3), at(1))
        .await
        .expect("save");
    assert_eq!((v1.version, &v1.value), (1, &tighter()));
    let read = store.current_time_limits().await.expect("read");
    assert_eq!(read, v1);
    assert!((read.value.warning_share() - 0.8).abs() < f64::EPSILON);
    let err = store
        .save_time_limits(TimeLimits::defaults(), 0, &admin(4), at(2))
        .await;
    assert!(
        matches!(
            err,
            Err(StoreError::VersionConflict {
                entity: "time_limits",
                current: 1
            })
        ),
        "{err:?}"
    );
    let v2 = store
        .save_time_limits(TimeLimits::defaults(), 1, &admin(4), at(3))
        .await
        .expect("back to defaults");
    assert_eq!(v2.version, 2);
    let h = store
        .time_limits_history(PageRequest::first())
        .await
        .expect("history");
    let versions: Vec<i64> = h.items.iter().map(|v| v.version).collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(h.items[1].value, tighter());
    let audit = audit_of(store, "time_limits").await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit.iter().all(|(a, _)| a == "time_limits.save"));
    assert!(audit[1].1.contains("warning at 0.8"), "{audit:?}");
    // Calendar years are not confused with other settings.
    assert!(
        store
            .stored_calendar_years()
            .await
            .expect("years")
            .is_empty()
    );
}
