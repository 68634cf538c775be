//! Test support for this and other crates' tests: a fresh, migrated store in its own schema.
//!
//! The database comes from `KEFU_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Each store gets a schema
//! `kefu_t_<unixsecs>_<pid>_<counter>`; schemas of that form older than two hours are dropped
//! when a new one is made, so crashed runs do not pile up.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use kefu_store::Store;
use sqlx::Connection;

use crate::PgStore;

/// The URL used when `KEFU_TEST_DATABASE_URL` is not set.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Connections per test store: many test processes run at once.
const TEST_POOL_SIZE: u32 = 5;
/// Test schemas older than this are dropped.
const STALE_AFTER_SECS: u64 = 2 * 60 * 60;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The test database URL.
pub fn test_database_url() -> String {
    std::env::var("KEFU_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned())
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Drops `kefu_t_<secs>_…` schemas older than two hours (best effort: another process may be
/// dropping the same one).
async fn drop_stale_schemas(url: &str) {
    let Ok(mut conn) = sqlx::PgConnection::connect(url).await else {
        return;
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'kefu\\_t\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap_or_default();
    let now = unix_secs();
    for name in names {
        let secs = name
            .strip_prefix("kefu_t_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|s| s.parse::<u64>().ok());
        let valid = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if valid && secs.is_some_and(|s| now.saturating_sub(s) > STALE_AFTER_SECS) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE"
            )))
            .execute(&mut conn)
            .await;
        }
    }
    let _ = conn.close().await;
}

/// A new, migrated store in a new schema of the test database. Panics (failing the test, never
/// skipping it) when PostgreSQL cannot be reached.
pub async fn fresh_store() -> PgStore {
    let url = test_database_url();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let schema = format!("kefu_t_{}_{}_{n}", unix_secs(), std::process::id());
    if n == 0 {
        drop_stale_schemas(&url).await;
    }
    let store = match PgStore::connect_with_schema_sized(&url, &schema, TEST_POOL_SIZE).await {
        Ok(s) => s,
        Err(e) => panic!(
            "PostgreSQL for tests is not reachable ({e}). Start it, or point \
             KEFU_TEST_DATABASE_URL at one (default {DEFAULT_TEST_DATABASE_URL})."
        ),
    };
    if let Err(e) = store.migrate().await {
        panic!("cannot migrate the test schema {schema}: {e}");
    }
    store
}
