//! kefu's store on SQLite (bundled, WAL): the default for a single node and for `--demo`.
//!
//! Layout: one module per aggregate (`org`, `staff`, `customer`, `audit`, `workorder`,
//! `catalogue`), `migrate` for the schema, `rows` for row → domain conversion. Every write
//! method runs in one `BEGIN IMMEDIATE` transaction, so a read-check-write sequence (version
//! checks, existence checks) can never interleave with another writer. Timestamps are INTEGER
//! milliseconds (UTC).

mod audit;
mod board;
mod calendar;
mod catalogue;
mod customer;
mod customer_insert;
mod customer_load;
mod customer_load_batch;
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

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_store::workorder_batch::IntakeQueue;
use kefu_store::{MigrationReport, Store, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

/// How long a writer waits for another writer's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache per connection, in KiB.
pub(crate) const CACHE_KIB: u32 = 32 * 1024;
/// The page size of a new database file, in bytes.
const PAGE_SIZE: u32 = 8192;
/// Connections in the pool (WAL lets readers run beside the one writer).
const MAX_CONNECTIONS: u32 = 8;

/// The SQLite store. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file (an initial load writes its batches through a connection of its own).
    path: Arc<std::path::PathBuf>,
    /// The group-committing intake writer (one task per store, shared by clones).
    intakes: Arc<IntakeQueue<workorder_intake::SqliteIntakeWriter>>,
    /// API tokens resolved in the last second (see `kefu_store::token_cache`).
    tokens: Arc<kefu_store::TokenCache>,
    /// The segmenter of the search index (`search`), shared by clones.
    text: Arc<kefu_text::SharedSegmenter>,
    /// Bulk order loads write one at a time, queued here rather than on SQLite's lock: a
    /// connection polling for the write lock holds a WAL read mark, which keeps the WAL from
    /// starting over (two loads in flight grew it to 45 GB over 2 million orders).
    loads: Arc<tokio::sync::Mutex<()>>,
    /// A test store's directory, removed when the last clone is dropped (`testing`).
    scratch: Option<Arc<testing::ScratchDir>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing, with its parent directory) the database file at `path`.
    /// Does not migrate: call `Store::migrate` before use.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with(path, MAX_CONNECTIONS).await
    }

    pub(crate) async fn open_with(path: &Path, max: u32) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Database(format!(
                    "cannot create the database directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // Takes effect only when the file is created (a WAL database keeps its size). An
            // order row is 1–1.5 KB: 4 KB pages left a quarter of the order table unused.
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: every COMMIT reaches the disk before it returns, so an acknowledged write
            // (an appeal the agent has read a number for) survives a power cut, not only a
            // crash of the process, as on PostgreSQL. The fsync costs ~4 ms a transaction
            // here; the hot write paths (intakes, audit entries) are group-committed, so it
            // is paid per batch (BENCHMARKS.md: intake 3 605 orders/s with FULL).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            // The default 2 MB page cache thrashes once the customer indexes outgrow it (bulk
            // loads slow down by half at 200 000 customers); pages are only allocated when used.
            .pragma("cache_size", format!("-{CACHE_KIB}"))
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            // A connection to a local file cannot go stale the way a network connection can,
            // and the test is a round trip to the connection's thread on every acquire: a
            // third of what a read costs under load.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Database(format!(
                    "cannot open the SQLite database {}: {e}",
                    path.display()
                ))
            })?;
        let writer = workorder_intake::SqliteIntakeWriter { pool: pool.clone() };
        Ok(SqliteStore {
            pool,
            path: Arc::new(path.to_owned()),
            intakes: Arc::new(IntakeQueue::new(writer)),
            tokens: Arc::default(),
            text: Arc::default(),
            loads: Arc::default(),
            scratch: None,
        })
    }

    /// The underlying pool (for benchmarks and diagnostics).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Begins a write transaction holding the write lock from the start.
    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)
    }
}

#[async_trait]
impl Store for SqliteStore {
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
        "sqlite"
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

/// Milliseconds since the epoch, as stored.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Reads a stored millisecond timestamp.
pub(crate) fn from_ms(entity: &'static str, id: i64, v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt {
        entity,
        id: id.to_string(),
        reason: format!("timestamp {v} ms is out of range"),
    })
}

/// The current time at the stored precision.
pub(crate) fn now_ms() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// The smallest string greater than every string starting with `prefix` (byte order), or
/// `None` when there is none. Used as the exclusive upper bound of index range scans.
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
    // A path always ends with '/', so incrementing it gives '0'.
    let high = prefix_upper(&low).unwrap_or_else(|| format!("{low}\u{10FFFF}"));
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_upper_increments_the_last_character() {
        assert_eq!(prefix_upper("/1/4/").as_deref(), Some("/1/40"));
        assert_eq!(prefix_upper("王").as_deref(), Some("玌"));
        assert_eq!(prefix_upper(""), None);
    }
}
