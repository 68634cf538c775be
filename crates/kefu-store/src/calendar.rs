//! The working calendar and the time limits as settings administrators edit (issue 5): each
//! calendar year (public holidays and make-up working days) and the time-limit table are
//! versioned values in the same `setting_versions` table as the catalogue
//! ([`Setting::CalendarYear`] keyed `calendar:2026`, [`Setting::TimeLimits`]), with the same
//! promises:
//!
//! - reading gives the newest saved version, or the shipped default at version 0 (the State
//!   Council schedule for 2025 and 2026, an empty year otherwise; `TimeLimits::defaults()`);
//! - saving carries the version it was based on (a stale one is `VersionConflict`) and appends
//!   version + 1 with who and when, plus an audit entry, in one transaction; a value equal to
//!   the current one writes nothing;
//! - stored values decode back through the domain's constructors (`calendar_codec`), else
//!   `Corrupt`.
//!
//! The weekly working hours are not a setting yet: every year is checked against, and merged
//! into, the default Monday–Friday week. [`effective_calendar`] and [`load_time_rules`] build
//! what deadline computations use.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use kefu_domain::calendar::{
    DayKind, DayOverride, TimeLimits, WeekPattern, WorkingCalendar, YearSchedule,
};
use kefu_domain::sla::SlaPolicy;

use crate::calendar_codec::weekday_code;
use crate::catalogue::listed;
use crate::{Actor, Page, PageRequest, StoreError, Versioned};

/// The first year a calendar may be stored for (as accepted by the year-file format).
pub const MIN_YEAR: i32 = 1900;
/// The last year a calendar may be stored for.
pub const MAX_YEAR: i32 = 9999;

/// A version of one calendar year.
pub type VersionedYear = Versioned<YearSchedule>;
/// A version of the time-limit table.
pub type VersionedTimeLimits = Versioned<TimeLimits>;

/// What deadline computations need: the effective working calendar and the time limits.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeRules {
    /// The shipped years with the stored ones over them, in the centre's offset.
    pub calendar: WorkingCalendar,
    /// The current time-limit table.
    pub limits: TimeLimits,
    /// When overdue orders go one level up.
    pub policy: SlaPolicy,
}

impl Default for TimeRules {
    /// The shipped calendar (2025, 2026) in +08:00, the default limits and policy.
    fn default() -> Self {
        Self {
            calendar: WorkingCalendar::china_default(),
            limits: TimeLimits::defaults(),
            policy: SlaPolicy::default(),
        }
    }
}

/// Persistence of the calendar years and the time-limit table.
#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// The newest saved schedule of `year`, or [`default_year`] at version 0.
    async fn current_calendar_year(&self, year: i32) -> Result<VersionedYear, StoreError>;

    /// The newest saved version of every year that was ever saved, by year.
    async fn stored_calendar_years(&self) -> Result<Vec<VersionedYear>, StoreError>;

    /// Saves `schedule` (its year is the setting) over `expected_version` (else
    /// `VersionConflict`). In one transaction: checks the days against the default week
    /// (`InvalidState`), appends the new version with `actor` and `now`, and an audit entry.
    /// A schedule equal to the current one is returned as it is.
    async fn save_calendar_year(
        &self,
        schedule: YearSchedule,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedYear, StoreError>;

    /// Saved versions of `year`, newest first (the cursor is the last version seen).
    async fn calendar_year_history(
        &self,
        year: i32,
        page: PageRequest,
    ) -> Result<Page<VersionedYear>, StoreError>;

    /// The newest saved time limits, or `TimeLimits::defaults()` at version 0.
    async fn current_time_limits(&self) -> Result<VersionedTimeLimits, StoreError>;

    /// Saves `limits` over `expected_version` (else `VersionConflict`), appending the version
    /// and an audit entry in one transaction. Limits equal to the current ones are returned
    /// as they are.
    async fn save_time_limits(
        &self,
        limits: TimeLimits,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedTimeLimits, StoreError>;

    /// Saved versions, newest first (the cursor is the last version seen).
    async fn time_limits_history(
        &self,
        page: PageRequest,
    ) -> Result<Page<VersionedTimeLimits>, StoreError>;
}

/// The schedule of `year` shipped with kefu (the State Council notice), else an empty year.
pub fn default_year(year: i32) -> YearSchedule {
    let shipped = WorkingCalendar::china_default();
    if shipped.loaded_years().contains(&year) {
        shipped.year_schedule(year)
    } else {
        YearSchedule::new(year)
    }
}

/// Refuses a year outside [`MIN_YEAR`]..=[`MAX_YEAR`] or a schedule whose make-up working days
/// do not fit the default week (`InvalidState`, naming the date).
pub fn check_year(schedule: &YearSchedule) -> Result<(), StoreError> {
    if !(MIN_YEAR..=MAX_YEAR).contains(&schedule.year()) {
        return Err(StoreError::InvalidState(format!(
            "calendar year {} is outside {MIN_YEAR}–{MAX_YEAR}",
            schedule.year()
        )));
    }
    let week = WeekPattern::china_default();
    for (date, day) in schedule.days() {
        day.check(*date, &week)
            .map_err(|e| StoreError::InvalidState(e.to_string()))?;
    }
    Ok(())
}

fn describe_day(date: &NaiveDate, day: &DayOverride) -> String {
    match day.kind {
        DayKind::Holiday => format!("{date} holiday {}", day.name.as_str()),
        DayKind::Workday { like } => format!(
            "{date} workday like={} {}",
            weekday_code(like),
            day.name.as_str()
        ),
    }
}

/// The audit detail of a calendar save: the version and the dates added, changed, removed.
pub fn year_change(version: i64, old: &YearSchedule, new: &YearSchedule) -> String {
    let (a, b) = (old.days(), new.days());
    let pick = |from: &BTreeMap<NaiveDate, DayOverride>,
                keep: &dyn Fn(&NaiveDate, &DayOverride) -> bool| {
        from.iter()
            .filter(|(d, o)| keep(d, o))
            .map(|(d, o)| describe_day(d, o))
            .collect::<Vec<_>>()
    };
    let added = pick(b, &|d, _| !a.contains_key(d));
    let changed = pick(b, &|d, o| a.get(d).is_some_and(|x| x != o));
    let removed = pick(a, &|d, _| !b.contains_key(d));
    let holidays = b.values().filter(|o| o.kind == DayKind::Holiday).count();
    let mut parts = vec![format!(
        "version {version}: {} {holidays} holidays, {} make-up working days",
        new.year(),
        b.len() - holidays
    )];
    for (what, items) in [
        ("added", added),
        ("changed to", changed),
        ("removed", removed),
    ] {
        if !items.is_empty() {
            parts.push(format!("{what} {}", listed(&items)));
        }
    }
    parts.join("; ")
}

/// The audit detail of a time-limits save: the version, the rule count and the warning share.
pub fn time_limits_change(version: i64, old: &TimeLimits, new: &TimeLimits) -> String {
    let mut parts = vec![format!(
        "version {version}: {} rules, warning at {}",
        new.rules().len(),
        new.warning_share()
    )];
    let describe = |r: &kefu_domain::calendar::LimitRule| {
        let criteria = [
            r.appeal_type.as_deref(),
            r.sub_category.as_deref(),
            r.grade.as_deref(),
            r.area.map(|a| a.code()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(",");
        format!("{}[{criteria}]={}", r.kind.code(), r.limit.code())
    };
    let added: Vec<String> = new
        .rules()
        .iter()
        .filter(|r| !old.rules().contains(r))
        .map(describe)
        .collect();
    let removed: Vec<String> = old
        .rules()
        .iter()
        .filter(|r| !new.rules().contains(r))
        .map(describe)
        .collect();
    for (what, items) in [("added", added), ("removed", removed)] {
        if !items.is_empty() {
            parts.push(format!("{what} {}", listed(&items)));
        }
    }
    parts.join("; ")
}

/// The working calendar deadlines use: the default week and the shipped years in `offset`, each
/// stored year replacing its shipped or empty schedule.
pub async fn effective_calendar<S: CalendarStore + ?Sized>(
    store: &S,
    offset: FixedOffset,
) -> Result<WorkingCalendar, StoreError> {
    let mut calendar = WorkingCalendar::china_default().with_offset(offset);
    for stored in store.stored_calendar_years().await? {
        let year = stored.value.year();
        calendar
            .merge_year(stored.value)
            .map_err(|e| StoreError::Corrupt {
                entity: "calendar",
                id: format!("{year} version {}", stored.version),
                reason: e.to_string(),
            })?;
    }
    Ok(calendar)
}

/// The effective calendar and the current time limits, read together.
pub async fn load_time_rules<S: CalendarStore + ?Sized>(
    store: &S,
    offset: FixedOffset,
) -> Result<TimeRules, StoreError> {
    Ok(TimeRules {
        calendar: effective_calendar(store, offset).await?,
        limits: store.current_time_limits().await?.value,
        policy: SlaPolicy::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_years_are_the_defaults_and_others_are_empty() {
        assert!(default_year(2026).days().len() > 20);
        assert!(default_year(2031).days().is_empty());
        assert!(check_year(&default_year(2025)).is_ok());
        assert!(check_year(&YearSchedule::new(1800)).is_err());
    }

    #[test]
    fn change_details_name_the_dates() {
        let old = default_year(2026);
        let mut new = YearSchedule::new(2026);
        for (d, o) in old.days().iter().skip(1) {
            new.insert(*d, o.clone()).unwrap_or_default();
        }
        let extra = NaiveDate::from_ymd_opt(2026, 5, 6).unwrap_or_default();
        let day = DayOverride::holiday("厂庆").unwrap_or_else(|e| panic!("{e}"));
        new.insert(extra, day).unwrap_or_default();
        let d = year_change(3, &old, &new);
        assert!(d.starts_with("version 3: 2026 "), "{d}");
        assert!(d.contains("added 2026-05-06 holiday 厂庆"), "{d}");
        assert!(d.contains("removed 2026-01-01 holiday"), "{d}");
        let d = time_limits_change(1, &TimeLimits::defaults(), &TimeLimits::defaults());
        assert!(d.starts_with("version 1: 16 rules, warning at 0.75"), "{d}");
    }
}
