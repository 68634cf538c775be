//! kefu's store on PostgreSQL: the production store, many stateless nodes over one database.
//!
//! Layout mirrors `kefu-store-sqlite`: one module per aggregate (`org`, `staff`, `customer`,
//! `audit`, `workorder`, `catalogue`), `migrate` for the schema, `rows` for row → domain
//! conversion. Every write method is one transaction; rows being changed are locked with
//! `SELECT … FOR UPDATE`, unique constraints back up the explicit duplicate checks, and batch
//! inserts go through `UNNEST` arrays (one statement per table, whatever the batch size).
//! Timestamps are `timestamptz`.

mod audit;
mod board;
mod calendar;
mod catalogue;
mod copy_binary;
mod customer;
mod customer_copy;
mod customer_insert;
mod customer_load;
mod customer_read;
mod customer_upsert;
mod import_job;
mod knowledge;
mod migrate;
mod org;
mod rows;
mod search;
mod selfservice;
mod sla;
mod staff;
pub mod testing;
mod workorder;
mod workorder_intake;
mod workorder_load;
mod workorder_read;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_store::workorder_batch::IntakeQueue;
use kefu_store::{MigrationReport, Store, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};

/// Connections in the pool of a served store.
const MAX_CONNECTIONS: u32 = 16;
/// How long a request waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PostgreSQL store. Cheap to clone (the pool is shared). Its `Debug` never shows the URL.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The group-committing intake writer (one task per store, shared by clones).
    intakes: Arc<IntakeQueue<workorder_intake::PgIntakeWriter>>,
    /// API tokens resolved in the last second (see `kefu_store::token_cache`).
    tokens: Arc<kefu_store::TokenCache>,
    /// The segmenter of the search index (`search`), shared by clones.
    text: Arc<kefu_text::SharedSegmenter>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

fn parse_url(url: &str) -> Result<PgConnectOptions, StoreError> {
    // The URL may hold a password: never echo it.
    PgConnectOptions::from_str(url).map_err(|_| {
        StoreError::Database(
            "the PostgreSQL URL is not valid; expected postgres://user[:password]@host[:port]/database"
                .to_owned(),
        )
    })
}

fn connect_error(e: sqlx::Error) -> StoreError {
    StoreError::Database(format!("cannot connect to PostgreSQL: {e}"))
}

/// Whether `schema` is a plain lower-case identifier (so it can be written into SQL unquoted).
fn valid_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit()
}

impl PgStore {
    /// Connects to the database at `url` (tables in the default `search_path`). Does not migrate.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let options = parse_url(url)?;
        Self::pool_with(options, MAX_CONNECTIONS).await
    }

    /// Connects with every pooled connection's `search_path` set to `schema`, creating the
    /// schema if missing, so migrations and queries live in it. `schema` must be a lower-case
    /// identifier (`[a-z_][a-z0-9_]*`). Does not migrate.
    pub async fn connect_with_schema(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        Self::connect_with_schema_sized(url, schema, MAX_CONNECTIONS).await
    }

    pub(crate) async fn connect_with_schema_sized(
        url: &str,
        schema: &str,
        max: u32,
    ) -> Result<PgStore, StoreError> {
        if !valid_schema(schema) {
            return Err(StoreError::Database(format!(
                "schema name '{schema}' is not allowed; use lower-case letters, digits and '_'"
            )));
        }
        let options = parse_url(url)?;
        let mut conn = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(connect_error)?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&mut conn)
        .await
        .map_err(db)?;
        conn.close().await.map_err(db)?;
        Self::pool_with(options.options([("search_path", schema)]), max).await
    }

    async fn pool_with(options: PgConnectOptions, max: u32) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        let writer = workorder_intake::PgIntakeWriter { pool: pool.clone() };
        Ok(PgStore {
            pool,
            intakes: Arc::new(IntakeQueue::new(writer)),
            tokens: Arc::default(),
            text: Arc::default(),
        })
    }

    /// The underlying pool (for benchmarks and diagnostics).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a write transaction.
    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(db)
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db)
    }

    async fn migrate(&self) -> Result<MigrationReport, StoreError> {
        migrate::run(&self.pool).await
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::applied_version(&self.pool).await
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

/// A database failure that is not one of the typed outcomes.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// Whether `e` is a UNIQUE constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// The current time at the precision every backend stores (milliseconds).
pub(crate) fn now_ms() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// The smallest string greater than every string starting with `prefix` (byte order, i.e.
/// `COLLATE "C"`), or `None` when there is none.
pub(crate) fn prefix_upper(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(n) = next {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The `[low, high)` range of paths inside `scope`.
pub(crate) fn scope_range(scope: &OrgPath) -> (String, String) {
    let low = scope.as_str().to_owned();
    let high = prefix_upper(&low).unwrap_or_else(|| format!("{low}\u{10FFFF}"));
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("kefu_t_1_2_3"));
        assert!(!valid_schema("x; DROP TABLE y"));
        assert!(!valid_schema("Upper"));
        assert!(!valid_schema("1abc"));
        assert!(!valid_schema(""));
    }

    #[test]
    fn bad_url_is_refused_without_echoing_it() {
        let err = parse_url("postgres://u:hunter2@h:notaport/db")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| !e.contains("hunter2")));
    }
}
