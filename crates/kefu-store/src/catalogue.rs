//! The editable settings of the work-order desk (issue 4 items 2 and 3): the sub-category
//! catalogue and the major-appeal rules. Administrators change them without a code change, so
//! each is stored as a versioned value:
//!
//! - reading gives the newest saved version, or the domain's defaults at version 0 when none
//!   was ever saved;
//! - saving carries the version it was based on (a stale one is `VersionConflict`) and appends
//!   version + 1 with who and when, plus an audit entry, in one transaction; every earlier
//!   version stays readable in the history. Saving a value equal to the current one writes
//!   nothing;
//! - stored values decode back through `Catalogue::new` / `MajorRules::new` (`catalogue_codec`);
//!   one that does not is `Corrupt`.
//!
//! References must not dangle: a catalogue may not drop a sub-category that a stored work order
//! is filed under, nor one the major rules name, and major rules may only name sub-categories
//! of the current catalogue (`InvalidState`, naming the codes). The domain has no notion of a
//! retired sub-category yet, so a code in use stays in the catalogue for good. The check sees
//! every order committed before the save; `WorkOrderStore::intake` does not re-read the
//! catalogue, so an intake validated against the catalogue just before a save that drops its
//! code is still filed under it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::ids::StaffId;
use kefu_domain::workorder::{Catalogue, MajorRules, SubCategoryCode};

use crate::{Actor, Page, PageRequest, StoreError};

/// Which setting a stored version belongs to (the `setting` column holds [`Setting::key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The sub-category catalogue.
    Catalogue,
    /// The major-appeal rules.
    MajorRules,
    /// One year of public holidays and make-up working days (`calendar::CalendarStore`).
    CalendarYear(i32),
    /// The time-limit table and its warning share (`calendar::CalendarStore`).
    TimeLimits,
    /// The segmenter's user dictionary (`search::SearchStore`).
    SearchDictionary,
}

impl Setting {
    /// The kind of setting: the entity of errors (`calendar` for every year).
    pub fn code(self) -> &'static str {
        match self {
            Setting::Catalogue => "catalogue",
            Setting::MajorRules => "major_rules",
            Setting::CalendarYear(_) => "calendar",
            Setting::TimeLimits => "time_limits",
            Setting::SearchDictionary => "search_dictionary",
        }
    }

    /// The stored key, also the audit target: the code, or `calendar:2026` for a year (each
    /// year is versioned on its own, so editing 2027 never conflicts with an edit of 2026).
    pub fn key(self) -> String {
        match self {
            Setting::CalendarYear(year) => format!("calendar:{year}"),
            other => other.code().to_owned(),
        }
    }

    /// The audit action of a save.
    pub fn save_action(self) -> &'static str {
        match self {
            Setting::Catalogue => "catalogue.save",
            Setting::MajorRules => "major_rules.save",
            Setting::CalendarYear(_) => "calendar.save",
            Setting::TimeLimits => "time_limits.save",
            Setting::SearchDictionary => "search_dictionary.save",
        }
    }
}

/// Who saved a version, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// When it was saved.
    pub at: DateTime<Utc>,
    /// The staff member, when a person saved it.
    pub staff_id: Option<StaffId>,
    /// `staff:12` or `system:import`.
    pub actor: String,
}

impl Saved {
    /// A save by `actor` at `at`, kept to the millisecond every backend stores exactly.
    pub fn by(actor: &Actor, at: DateTime<Utc>) -> Saved {
        Saved {
            at: DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at),
            staff_id: actor.staff_id(),
            actor: actor.label(),
        }
    }
}

/// One version of a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// 0 for the built-in defaults, then 1, 2, … per save.
    pub version: i64,
    /// The value.
    pub value: T,
    /// Who saved it and when; `None` for the built-in defaults (version 0).
    pub saved: Option<Saved>,
}

/// A version of the sub-category catalogue.
pub type VersionedCatalogue = Versioned<Catalogue>;
/// A version of the major-appeal rules.
pub type VersionedMajorRules = Versioned<MajorRules>;

/// Persistence of the catalogue and the major-appeal rules.
#[async_trait]
pub trait CatalogueStore: Send + Sync {
    /// The newest saved catalogue, or `Catalogue::defaults()` at version 0.
    async fn current_catalogue(&self) -> Result<VersionedCatalogue, StoreError>;

    /// Saves `catalogue` over the version `expected_version` (else `VersionConflict`). In one
    /// transaction: refuses to drop a sub-category a stored work order is filed under or the
    /// major rules name (`InvalidState`), appends the new version with `actor` and `now`, and
    /// an audit entry. A catalogue equal to the current one is returned as it is.
    async fn save_catalogue(
        &self,
        catalogue: Catalogue,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedCatalogue, StoreError>;

    /// Saved versions, newest first (the cursor is the last version seen).
    async fn catalogue_history(
        &self,
        page: PageRequest,
    ) -> Result<Page<VersionedCatalogue>, StoreError>;

    /// The newest saved major-appeal rules, or `MajorRules::defaults()` at version 0.
    async fn current_major_rules(&self) -> Result<VersionedMajorRules, StoreError>;

    /// Saves `rules` over the version `expected_version` (else `VersionConflict`). In one
    /// transaction: refuses sub-categories missing from the current catalogue
    /// (`InvalidState`), appends the new version with `actor` and `now`, and an audit entry.
    /// Rules equal to the current ones are returned as they are.
    async fn save_major_rules(
        &self,
        rules: MajorRules,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedMajorRules, StoreError>;

    /// Saved versions, newest first (the cursor is the last version seen).
    async fn major_rules_history(
        &self,
        page: PageRequest,
    ) -> Result<Page<VersionedMajorRules>, StoreError>;
}

/// The most codes an error message or an audit entry lists before "and N more".
const MAX_LISTED: usize = 20;

pub(crate) fn listed<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(MAX_LISTED)
        .map(ToString::to_string)
        .collect();
    match items.len().saturating_sub(MAX_LISTED) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The sub-categories of `old` that `new` no longer holds, in `old`'s order.
pub fn removed_codes(old: &Catalogue, new: &Catalogue) -> Vec<SubCategoryCode> {
    old.entries()
        .iter()
        .filter(|e| new.get(&e.code).is_none())
        .map(|e| e.code.clone())
        .collect()
}

/// Refuses a catalogue that drops codes still referenced: `in_use` by stored work orders (as the
/// store found them among the removed codes), or named by the current major `rules`.
pub fn check_removals(
    removed: &[SubCategoryCode],
    in_use: &[String],
    rules: &MajorRules,
) -> Result<(), StoreError> {
    let used: Vec<&str> = removed
        .iter()
        .map(SubCategoryCode::as_str)
        .filter(|c| in_use.iter().any(|u| u == c))
        .collect();
    if !used.is_empty() {
        return Err(StoreError::InvalidState(format!(
            "sub-categories {} are used by stored work orders and cannot be removed; keep them \
             in the catalogue (renaming or moving them to another department is allowed)",
            listed(&used)
        )));
    }
    let named: Vec<&SubCategoryCode> = removed
        .iter()
        .filter(|c| rules.sub_categories.contains(c))
        .collect();
    if !named.is_empty() {
        return Err(StoreError::InvalidState(format!(
            "sub-categories {} are named by the major-appeal rules; remove them from the rules \
             first",
            listed(&named)
        )));
    }
    Ok(())
}

/// Refuses rules naming sub-categories that the catalogue does not hold.
pub fn check_rules_against(rules: &MajorRules, catalogue: &Catalogue) -> Result<(), StoreError> {
    let unknown: Vec<&SubCategoryCode> = rules
        .sub_categories
        .iter()
        .filter(|c| catalogue.get(c).is_none())
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(StoreError::InvalidState(format!(
            "sub-categories {} are not in the catalogue; add them to the catalogue first or \
             pick existing ones",
            listed(&unknown)
        )))
    }
}

/// The audit detail of a catalogue save: the version and what changed, by code.
pub fn catalogue_change(version: i64, old: &Catalogue, new: &Catalogue) -> String {
    let added: Vec<&SubCategoryCode> = new
        .entries()
        .iter()
        .filter(|e| old.get(&e.code).is_none())
        .map(|e| &e.code)
        .collect();
    let removed = removed_codes(old, new);
    let changed: Vec<&SubCategoryCode> = new
        .entries()
        .iter()
        .filter(|e| old.get(&e.code).is_some_and(|o| o != *e))
        .map(|e| &e.code)
        .collect();
    let mut parts = vec![format!(
        "version {version}: {} sub-categories",
        new.entries().len()
    )];
    for (what, codes) in [("added", &added), ("changed", &changed)] {
        if !codes.is_empty() {
            parts.push(format!("{what} {}", listed(codes)));
        }
    }
    if !removed.is_empty() {
        parts.push(format!("removed {}", listed(&removed)));
    }
    parts.join("; ")
}

/// The audit detail of a major-rules save: the version and the keywords and codes changed.
pub fn major_rules_change(version: i64, old: &MajorRules, new: &MajorRules) -> String {
    fn diff<'a, T: PartialEq>(a: &'a [T], b: &'a [T]) -> Vec<&'a T> {
        a.iter().filter(|x| !b.contains(x)).collect()
    }
    let mut parts = vec![format!(
        "version {version}: {} keywords, {} sub-categories",
        new.keywords.len(),
        new.sub_categories.len()
    )];
    let kw_added = diff(&new.keywords, &old.keywords);
    let kw_removed = diff(&old.keywords, &new.keywords);
    let sc_added = diff(&new.sub_categories, &old.sub_categories);
    let sc_removed = diff(&old.sub_categories, &new.sub_categories);
    for (what, items) in [
        ("keywords added", listed(&kw_added)),
        ("keywords removed", listed(&kw_removed)),
    ] {
        if !items.is_empty() {
            parts.push(format!("{what} {items}"));
        }
    }
    for (what, items) in [
        ("sub-categories added", listed(&sc_added)),
        ("sub-categories removed", listed(&sc_removed)),
    ] {
        if !items.is_empty() {
            parts.push(format!("{what} {items}"));
        }
    }
    parts.join("; ")
}

/// The error of a stale `expected_version`.
pub fn setting_conflict(setting: Setting, current: i64) -> StoreError {
    StoreError::VersionConflict {
        entity: setting.code(),
        current,
    }
}

/// Decodes one stored version with `decode` (a `catalogue_codec` function); a body that does
/// not decode is `Corrupt`, naming the setting and the version.
pub fn decode_version<T>(
    setting: Setting,
    version: i64,
    body: &str,
    saved: Saved,
    decode: fn(&str) -> Result<T, String>,
) -> Result<Versioned<T>, StoreError> {
    decode(body)
        .map(|value| Versioned {
            version,
            value,
            saved: Some(saved),
        })
        .map_err(|reason| StoreError::Corrupt {
            entity: setting.code(),
            id: format!("version {version}"),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn without(code: &str) -> Catalogue {
        let entries = Catalogue::defaults()
            .entries()
            .iter()
            .filter(|e| e.code.as_str() != code)
            .cloned()
            .collect();
        Catalogue::new(entries).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn removals_in_use_or_named_by_the_rules_are_refused_naming_them() {
        let old = Catalogue::defaults();
        let new = without("complaint.metering");
        let removed = removed_codes(&old, &new);
        assert_eq!(removed.len(), 1);
        let rules = MajorRules::defaults();
        assert!(check_removals(&removed, &[], &rules).is_ok());
        let err = check_removals(&removed, &["complaint.metering".into()], &rules);
        assert!(
            matches!(&err, Err(StoreError::InvalidState(m)) if m.contains("complaint.metering")),
            "{err:?}"
        );
        let mut rules = MajorRules::defaults();
        rules.sub_categories = removed.clone();
        let err = check_removals(&removed, &[], &rules);
        assert!(
            matches!(&err, Err(StoreError::InvalidState(m)) if m.contains("major-appeal rules")),
            "{err:?}"
        );
        assert!(check_rules_against(&rules, &new).is_err());
        assert!(check_rules_against(&rules, &old).is_ok());
    }

    #[test]
    fn change_details_name_what_moved() {
        let old = Catalogue::defaults();
        let mut entries = without("complaint.metering").entries().to_vec();
        entries[0].name_en = "Attitude".into();
        let new = Catalogue::new(entries).unwrap_or_else(|e| panic!("{e:?}"));
        let d = catalogue_change(2, &old, &new);
        assert!(d.starts_with("version 2: "), "{d}");
        assert!(d.contains("changed complaint.service_attitude"), "{d}");
        assert!(d.contains("removed complaint.metering"), "{d}");
        let mut rules = MajorRules::defaults();
        rules.keywords.retain(|k| k != "群体");
        rules.keywords.push("雷击".into());
        let d = major_rules_change(3, &MajorRules::defaults(), &rules);
        assert!(d.contains("keywords added 雷击"), "{d}");
        assert!(d.contains("keywords removed 群体"), "{d}");
    }

    #[test]
    fn each_calendar_year_has_its_own_key() {
        assert_eq!(Setting::CalendarYear(2027).key(), "calendar:2027");
        assert_eq!(Setting::CalendarYear(2027).code(), "calendar");
        assert_eq!(Setting::Catalogue.key(), "catalogue");
    }

    #[test]
    fn long_lists_are_cut() {
        let many: Vec<i64> = (0..25).collect();
        assert!(listed(&many).ends_with("19 and 5 more"));
    }
}
