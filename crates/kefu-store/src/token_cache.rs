//! API tokens resolved within the last second. An integration (a CTI system, a channel
//! gateway) sends the same bearer token on every request, and reading it with its staff member
//! is a whole store round trip per request: on SQLite a hop to a connection thread and back,
//! about a sixth of what a work-order intake costs. Each store keeps one of these caches:
//!
//! - an entry lives [`TokenCache::MAX_AGE_MS`] (one second), so a token revoked by another process
//!   (the `kefu admin` command against the same database) stops working within a second;
//! - a revocation through this store clears the cache before it returns, so it is immediate here;
//! - a read that began before a clear cannot store what it read (the generation check), so a
//!   slow look-up racing a revocation never puts the revoked token back;
//! - the cache never holds more than [`TokenCache::CAPACITY`] tokens.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use crate::StoreError;
use crate::staff::{ApiToken, Staff};

/// Recently used API tokens with their staff members, by the SHA-256 of the secret.
#[derive(Debug, Default)]
pub struct TokenCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Bumped by every clear; a read stores its result only under the generation it began in.
    generation: u64,
    entries: HashMap<Vec<u8>, (DateTime<Utc>, ApiToken, Staff)>,
}

/// The generation a look-up began in, to hand back to [`TokenCache::put`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

impl TokenCache {
    /// How long a resolved token is trusted without reading the store again, in milliseconds.
    pub const MAX_AGE_MS: i64 = 1_000;
    /// The most tokens held at once.
    pub const CAPACITY: usize = 4096;

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every critical section is a few map operations that cannot leave it half-changed.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether an entry stored at `at` may still be served at `now` (the store's clock, which
    /// the caller passes in: a clock set back never extends an entry's life).
    fn fresh(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let age = now - at;
        age >= Duration::zero() && age < Duration::milliseconds(Self::MAX_AGE_MS)
    }

    /// The token and staff member for `hash` if resolved less than `MAX_AGE_MS` before `now`;
    /// else the generation to pass to `put` after reading the store.
    pub fn get(&self, hash: &[u8], now: DateTime<Utc>) -> Result<(ApiToken, Staff), Generation> {
        let inner = self.lock();
        match inner.entries.get(hash) {
            Some((at, token, staff)) if Self::fresh(*at, now) => Ok((token.clone(), staff.clone())),
            _ => Err(Generation(inner.generation)),
        }
    }

    /// Remembers what the store answered for `hash` at `now`, unless the cache was cleared
    /// since the look-up began.
    pub fn put(
        &self,
        hash: &[u8],
        generation: Generation,
        token: &ApiToken,
        staff: &Staff,
        now: DateTime<Utc>,
    ) {
        let mut inner = self.lock();
        if inner.generation != generation.0 {
            return;
        }
        if inner.entries.len() >= Self::CAPACITY {
            inner.entries.retain(|_, (at, _, _)| Self::fresh(*at, now));
            if inner.entries.len() >= Self::CAPACITY {
                inner.entries.clear();
            }
        }
        inner
            .entries
            .insert(hash.to_vec(), (now, token.clone(), staff.clone()));
    }

    /// The token for `hash` from the cache, else from `read` (the store's query), remembering
    /// a live answer. What each store's `use_api_token` does.
    pub async fn resolve<F, Fut>(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
        read: F,
    ) -> Result<Option<(ApiToken, Staff)>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<(ApiToken, Staff)>, StoreError>>,
    {
        let generation = match self.get(hash, now) {
            Ok(hit) => return Ok(Some(hit)),
            Err(generation) => generation,
        };
        let found = read().await?;
        if let Some((token, staff)) = &found {
            self.put(hash, generation, token, staff, now);
        }
        Ok(found)
    }

    /// Forgets every token: called by each write that can end or change a token's rights.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use kefu_domain::auth::{Role, Roles, Username};
    use kefu_domain::ids::{ApiTokenId, OrgUnitId, StaffId};
    use kefu_domain::org::OrgPath;

    fn token(id: i64) -> (ApiToken, Staff) {
        let t = ApiToken {
            id: ApiTokenId(id),
            staff_id: StaffId(7),
            name: "cti".into(),
            created_at: Utc
                .with_ymd_and_hms(2026, 1, 5, 8, 0, 0)
                .single()
                .expect("instant"),
            last_used_at: None,
            revoked_at: None,
        };
        let s = Staff {
            id: StaffId(7),
            username: Username::parse("agent1").expect("login name"),
            display_name: "坐席一".into(),
            org_unit_id: OrgUnitId(2),
            org_path: OrgPath::root(OrgUnitId(1)).child(OrgUnitId(2)),
            department_id: None,
            roles: Roles::new(vec![Role::Agent]).expect("roles"),
            active: true,
            created_at: Utc
                .with_ymd_and_hms(2026, 1, 5, 8, 0, 0)
                .single()
                .expect("instant"),
        };
        (t, s)
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0)
            .single()
            .expect("instant")
    }

    #[test]
    fn a_resolved_token_is_served_until_it_is_a_second_old() {
        let cache = TokenCache::default();
        let generation = cache.get(b"h", t0()).expect_err("empty cache");
        let (t, s) = token(1);
        cache.put(b"h", generation, &t, &s, t0());
        let ms = Duration::milliseconds;
        assert_eq!(cache.get(b"h", t0() + ms(999)), Ok((t, s)));
        assert!(cache.get(b"h", t0() + ms(TokenCache::MAX_AGE_MS)).is_err());
        assert!(cache.get(b"h", t0() - ms(1)).is_err(), "a clock set back");
    }

    #[test]
    fn clear_forgets_tokens_and_refuses_reads_begun_before_it() {
        let cache = TokenCache::default();
        let (t, s) = token(1);
        let before = cache.get(b"h", t0()).expect_err("empty cache");
        cache.put(b"h", before, &t, &s, t0());
        // A look-up begins, a revocation clears the cache, then the look-up finishes.
        let racing = cache.get(b"other", t0()).expect_err("not cached");
        cache.clear();
        assert!(cache.get(b"h", t0()).is_err(), "cleared");
        cache.put(b"other", racing, &t, &s, t0());
        assert!(
            cache.get(b"other", t0()).is_err(),
            "a read older than the clear is not stored"
        );
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = TokenCache::default();
        let (t, s) = token(1);
        for i in 0..TokenCache::CAPACITY + 10 {
            let key = i.to_le_bytes();
            let generation = cache.get(&key, t0()).expect_err("new key");
            cache.put(&key, generation, &t, &s, t0());
        }
        assert!(cache.lock().entries.len() <= TokenCache::CAPACITY);
    }
}
