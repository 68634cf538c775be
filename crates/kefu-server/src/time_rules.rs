//! The time rules (effective working calendar + time limits) cached for the handlers that
//! compute deadlines. Reading them on every request would cost a few queries and a rebuild of
//! the calendar; instead one copy is shared and reloaded:
//!
//! - at once after a save through this process ([`crate::AppState::reload_time_rules`]), so an
//!   administrator's change applies to the next deadline computed here;
//! - otherwise when older than `max_age` (*default* 30 s), so several server processes on one
//!   PostgreSQL converge on a change made through another one within that time.
//!
//! The catalogue and major-appeal rules every intake reads are cached the same way
//! ([`IntakeSettings`], reloaded after a save through this process, else every 5 s).

use std::sync::Arc;
use std::time::Duration;

use chrono::FixedOffset;
use kefu_domain::workorder::{Catalogue, MajorRules};
use kefu_store::{Store, StoreError, TimeRules, load_time_rules};

use crate::cache::Cached;

/// How long cached time rules are used before they are read again (*default*).
pub const TIME_RULES_MAX_AGE: Duration = Duration::from_secs(30);

/// The shared, periodically reloaded copy of the time rules.
#[derive(Debug)]
pub struct TimeRulesCache {
    offset: FixedOffset,
    cached: Cached<TimeRules>,
}

impl TimeRulesCache {
    /// An empty cache for a centre at `offset`, reloading entries older than `max_age`.
    pub fn new(offset: FixedOffset, max_age: Duration) -> Self {
        Self {
            offset,
            cached: Cached::new(max_age),
        }
    }

    /// The current rules: the cached ones when fresh, else read from `store`.
    pub async fn get(&self, store: &dyn Store) -> Result<Arc<TimeRules>, StoreError> {
        self.cached
            .get(|| load_time_rules(store, self.offset))
            .await
    }

    /// Reads the rules from `store` now, whatever the age of the cached ones.
    pub async fn reload(&self, store: &dyn Store) -> Result<Arc<TimeRules>, StoreError> {
        self.cached
            .reload(|| load_time_rules(store, self.offset))
            .await
    }
}

/// What intake and reclassification read on every request: the sub-category catalogue and
/// the major-appeal rules, as one cached pair.
#[derive(Debug)]
pub struct IntakeSettings {
    /// The current catalogue.
    pub catalogue: Catalogue,
    /// The current major-appeal rules.
    pub major_rules: MajorRules,
}

/// How long the cached catalogue and major rules are used before being read again: short, as
/// an administrator expects a saved keyword to apply at once (this process reloads at once).
pub const INTAKE_SETTINGS_MAX_AGE: Duration = Duration::from_secs(5);

/// Reads the catalogue and the major rules.
pub async fn load_intake_settings(store: &dyn Store) -> Result<IntakeSettings, StoreError> {
    Ok(IntakeSettings {
        catalogue: store.current_catalogue().await?.value,
        major_rules: store.current_major_rules().await?.value,
    })
}
