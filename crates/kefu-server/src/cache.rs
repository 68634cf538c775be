//! A value read from the store and shared by every handler until it is older than its
//! `max_age`, or until this process saves a new one ([`Cached::reload`]). Used for what nearly
//! every request needs and administrators rarely change: the time rules, the catalogue and the
//! major-appeal rules. Several server processes on one PostgreSQL converge on a change made
//! through another one within `max_age`.
//!
//! Loads are serialised by one async mutex and each load stores what it read: a reload that
//! starts after a save commits is the last to store, so a slower, older load cannot overwrite
//! it.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use kefu_store::StoreError;

/// One cached value.
#[derive(Debug)]
pub struct Cached<T> {
    max_age: Duration,
    current: RwLock<Option<(Instant, Arc<T>)>>,
    loading: tokio::sync::Mutex<()>,
}

impl<T> Cached<T> {
    /// An empty cache whose values are read again once older than `max_age`.
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            current: RwLock::new(None),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// The cached value if it is younger than `max_age`.
    fn fresh(&self) -> Option<Arc<T>> {
        // A poisoned lock only means a writer panicked between two plain assignments; the
        // value is still whole.
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.max_age)
            .map(|(_, v)| Arc::clone(v))
    }

    /// Loads and stores the value; the caller holds `loading`.
    async fn load<F, Fut>(&self, load: F) -> Result<Arc<T>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let value = Arc::new(load().await?);
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        *guard = Some((Instant::now(), Arc::clone(&value)));
        Ok(value)
    }

    /// The current value: the cached one when fresh, else `load`ed (one caller loads while the
    /// others wait for its result).
    pub async fn get<F, Fut>(&self, load: F) -> Result<Arc<T>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        let _loading = self.loading.lock().await;
        if let Some(v) = self.fresh() {
            return Ok(v);
        }
        self.load(load).await
    }

    /// Loads the value now, whatever the age of the cached one. On error the cached copy is
    /// dropped, so the next reader loads afresh instead of using a stale value.
    pub async fn reload<F, Fut>(&self, load: F) -> Result<Arc<T>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let _loading = self.loading.lock().await;
        let loaded = self.load(load).await;
        if loaded.is_err() {
            *self.current.write().unwrap_or_else(|e| e.into_inner()) = None;
        }
        loaded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_value_is_reused_and_a_reload_replaces_it() {
        let cache = Cached::new(Duration::from_secs(60));
        let one = cache.get(|| async { Ok(1) }).await.expect("load");
        let still = cache.get(|| async { Ok(2) }).await.expect("cached");
        assert_eq!((*one, *still), (1, 1));
        let two = cache.reload(|| async { Ok(2) }).await.expect("reload");
        assert_eq!(*two, 2);
        let failed = cache
            .reload(|| async { Err(StoreError::InvalidState("down".into())) })
            .await;
        assert!(failed.is_err());
        assert_eq!(*cache.get(|| async { Ok(3) }).await.expect("load"), 3);
    }

    #[tokio::test]
    async fn an_old_value_is_read_again() {
        let cache = Cached::new(Duration::ZERO);
        cache.get(|| async { Ok(1) }).await.expect("load");
        assert_eq!(*cache.get(|| async { Ok(2) }).await.expect("load"), 2);
    }
}
