//! The time rules (effective working calendar + time limits) cached for the handlers that
//! compute deadlines. Reading them on every request would cost a few queries and a rebuild of
//! the calendar; instead one copy is shared and reloaded:
//!
//! - at once after a save through this process ([`crate::AppState::reload_time_rules`]), so an
//!   administrator's change applies to the next deadline computed here;
//! - otherwise when older than `max_age` (*default* 30 s), so several server processes on one
//!   PostgreSQL converge on a change made through another one within that time.
//!
//! Loads are serialised by one async mutex and each load stores what it read: a reload that
//! starts after a save commits is the last to store, so a slower, older load cannot overwrite
//! it.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::FixedOffset;
use kefu_store::{Store, StoreError, TimeRules, load_time_rules};

/// How long cached time rules are used before they are read again (*default*).
pub const TIME_RULES_MAX_AGE: Duration = Duration::from_secs(30);

/// The shared, periodically reloaded copy of the time rules.
#[derive(Debug)]
pub struct TimeRulesCache {
    offset: FixedOffset,
    max_age: Duration,
    current: RwLock<Option<(Instant, Arc<TimeRules>)>>,
    loading: tokio::sync::Mutex<()>,
}

impl TimeRulesCache {
    /// An empty cache for a centre at `offset`, reloading entries older than `max_age`.
    pub fn new(offset: FixedOffset, max_age: Duration) -> Self {
        Self {
            offset,
            max_age,
            current: RwLock::new(None),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// The cached rules if they are younger than `max_age`.
    fn fresh(&self) -> Option<Arc<TimeRules>> {
        // A poisoned lock only means a writer panicked between two plain assignments; the
        // value is still whole.
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.max_age)
            .map(|(_, rules)| Arc::clone(rules))
    }

    /// Loads and stores the rules; the caller holds `loading`.
    async fn load(&self, store: &dyn Store) -> Result<Arc<TimeRules>, StoreError> {
        let rules = Arc::new(load_time_rules(store, self.offset).await?);
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        *guard = Some((Instant::now(), Arc::clone(&rules)));
        Ok(rules)
    }

    /// The current rules: the cached ones when fresh, else read from `store` (one reader
    /// loads while the others wait for its result).
    pub async fn get(&self, store: &dyn Store) -> Result<Arc<TimeRules>, StoreError> {
        if let Some(rules) = self.fresh() {
            return Ok(rules);
        }
        let _loading = self.loading.lock().await;
        if let Some(rules) = self.fresh() {
            return Ok(rules);
        }
        self.load(store).await
    }

    /// Reads the rules from `store` now, whatever the age of the cached ones. On error the
    /// cached copy is dropped, so the next reader loads afresh instead of using stale rules.
    pub async fn reload(&self, store: &dyn Store) -> Result<Arc<TimeRules>, StoreError> {
        let _loading = self.loading.lock().await;
        let loaded = self.load(store).await;
        if loaded.is_err() {
            *self.current.write().unwrap_or_else(|e| e.into_inner()) = None;
        }
        loaded
    }
}
