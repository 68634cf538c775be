//! The initial load of an empty customer archive on SQLite (issue 6, the province's first
//! import). At the start, one transaction drops the secondary indexes of the customer tables
//! and records their `CREATE INDEX` text in `load_pending_indexes` (migration 0013); batches
//! are then committed one by one, in id order (appends only), without per-row foreign-key
//! checks; `finish` re-creates each index with one sorted build, checks the references by
//! range and deletes the marker, in one transaction. Inserting 10 million rows into six
//! randomly keyed indexes was most of SQLite's work (BENCHMARKS.md); sorted builds are a
//! fraction of it.
//!
//! Why committed batches and not one transaction as on PostgreSQL: SQLite keeps a transaction's
//! pages in the WAL until it commits, and finding a page among millions of WAL frames is a
//! walk over the WAL index, so the index builds and checks of a 10-million-row transaction
//! read the tables several times slower than from the database file (measured: 156 s of
//! index builds, 42 s of reference checks and a 29 s checkpoint at commit).
//!
//! Batches overlap: `insert` hands a batch to a blocking thread that writes it through a
//! connection of its own with prepared statements (`customer_load_batch`), and returns while
//! it runs, so the caller reads and checks the next batch meanwhile. Ids are handed out ahead
//! (counted from the largest stored at `begin`); a batch's error surfaces at the next call
//! (`insert`, `finish` or `abort`). Each batch first checks that no other writer took its ids
//! (a customer created through the API during the load): then the load stops with an error,
//! and a re-run updates what it stored.
//!
//! Consistency: the UNIQUE account-number index stays throughout, so a re-run never
//! duplicates. A failed load is `abort`ed (indexes rebuilt, whole batches kept, like the
//! batch-by-batch path); after a crash, the marker makes the next `migrate` (every store open)
//! rebuild the indexes. The load's pool connection is closed, never returned to the pool, when
//! the load ends: its sorting pragmas (`sort_in_threads`) must not leak to other work; the
//! batch writer's connection (foreign keys off, `synchronous = NORMAL`, a large cache) is its
//! own and closed before the rebuild.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::CustomerId;
use kefu_store::{Actor, InitialLoad, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::task::JoinHandle;

use crate::audit::append_in;
use crate::customer_insert::UNKNOWN_UNIT;
use crate::customer_load_batch::{Batch, BatchWriter};
use crate::customer_upsert::set_cache;
use crate::{SqliteStore, db, ms};

/// The tables an initial load fills; their secondary indexes are rebuilt at the end. The
/// customers' creation goes to `customer_batch_creations`, one row per batch.
const TABLES: [&str; 4] = [
    "customers",
    "customer_phones",
    "customer_tags",
    "customer_special_dates",
];

/// The tables that refer to `customers (id)`, checked by range at the end.
const CHILDREN: [&str; 3] = ["customer_phones", "customer_tags", "customer_special_dates"];

/// Page cache of the batch writer: the unique account-number index takes inserts in random
/// order, and the tables' last pages stay cached between batches.
const LOAD_CACHE_KIB: u32 = 512 * 1024;
/// Page cache while indexes are built: SQLite's sorter sorts runs of this size, one per
/// worker thread, then merges them.
const SORT_CACHE_KIB: u32 = 8 * 1024;

pub(crate) struct SqliteInitialLoad {
    /// Sets the indexes aside, rebuilds them and writes the audit entry.
    conn: PoolConnection<Sqlite>,
    /// Writes the batches; `None` while one runs.
    writer: Option<BatchWriter>,
    /// The batch running now: it gives the writer back with its outcome.
    running: Option<JoinHandle<Ran>>,
    /// Every org unit's path (org units are never deleted).
    units: Arc<HashMap<i64, String>>,
    /// The id the next batch's first customer gets.
    next_customer: i64,
    stored: u64,
}

/// A batch's writer and outcome (customers stored).
type Ran = (BatchWriter, Result<u64, StoreError>);

/// The largest customer id stored (0 when none).
async fn largest_id(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM customers")
        .fetch_one(conn)
        .await
        .map_err(db)
}

pub(crate) async fn exec(conn: &mut SqliteConnection, sql: &str) -> Result<(), StoreError> {
    // Safe: every statement here is ours or read back from sqlite_master.
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Starts the load if no customer is stored; `None` (and nothing changed) otherwise.
pub(crate) async fn begin(store: &SqliteStore) -> Result<Option<Box<dyn InitialLoad>>, StoreError> {
    let mut conn = store.pool.acquire().await.map_err(db)?;
    // From here on any early return closes the connection, rolling back what it began.
    conn.close_on_drop();
    exec(&mut conn, "BEGIN IMMEDIATE").await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM customers)")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    if !empty {
        // Release the lock now rather than when the closing connection gets to it: the
        // caller's upserts come next.
        exec(&mut conn, "ROLLBACK").await?;
        return Ok(None);
    }
    // Indexes with SQL text: the named ones. Primary keys and UNIQUE constraints
    // (`sqlite_autoindex_*`, no text) stay: the account-number constraint must hold throughout.
    let tables = TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    set_indexes_aside(&mut conn, &format!("tbl_name IN ({tables})")).await?;
    let units: Vec<(i64, String)> = sqlx::query_as("SELECT id, path FROM org_units")
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let customers = largest_id(&mut conn).await?;
    exec(&mut conn, "COMMIT").await?;
    let path = store.path.clone();
    let writer = tokio::task::spawn_blocking(move || BatchWriter::open(&path, LOAD_CACHE_KIB))
        .await
        .map_err(|e| StoreError::Database(format!("cannot open the load's writer: {e}")));
    let writer = match writer.and_then(|w| w) {
        Ok(w) => w,
        Err(e) => {
            // Nothing loaded yet: put the indexes back before reporting.
            let _ = rebuild(&mut conn).await;
            let _ = exec(&mut conn, "COMMIT").await;
            return Err(e);
        }
    };
    Ok(Some(Box::new(SqliteInitialLoad {
        conn,
        writer: Some(writer),
        running: None,
        units: Arc::new(units.into_iter().collect()),
        next_customer: customers + 1,
        stored: 0,
    })))
}

/// Inside the caller's write transaction: drops the named indexes (those with SQL text:
/// primary keys and UNIQUE constraints, `sqlite_autoindex_*`, stay) of the tables `tables`
/// selects (a condition on `sqlite_master`), recording each in `load_pending_indexes` for
/// `rebuild_in`. Returns how many.
pub(crate) async fn set_indexes_aside(
    conn: &mut SqliteConnection,
    tables: &str,
) -> Result<usize, StoreError> {
    // Safe: the condition is ours.
    let indexes: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND {tables} ORDER BY name"
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    for (name, sql) in &indexes {
        sqlx::query("INSERT OR REPLACE INTO load_pending_indexes (name, sql) VALUES (?, ?)")
            .bind(name)
            .bind(sql)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        exec(conn, &format!("DROP INDEX \"{name}\"")).await?;
    }
    Ok(indexes.len())
}

/// Sets `conn` up for index builds on SQLite's multi-threaded sorter, outside any
/// transaction. The sorter uses its worker threads only with temporary files (the pool's
/// `temp_store = MEMORY` makes it sort on one thread) and sorts one cache-sized run per
/// worker, so a small cache sorts faster than a large one. Measured at 10 000 000
/// customers, the name index: 17.0 s (512 MiB cache) or 20.6 s (temporary storage in
/// memory) against 5.7 s with 8 MiB runs in files and two threads.
pub(crate) async fn sort_in_threads(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    exec(conn, "PRAGMA temp_store = FILE").await?;
    exec(conn, "PRAGMA threads = 2").await?;
    set_cache(conn, SORT_CACHE_KIB).await
}

/// Puts back what `sort_in_threads` changed on a connection that returns to the pool.
pub(crate) async fn pool_settings(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    exec(conn, "PRAGMA temp_store = MEMORY").await?;
    exec(conn, "PRAGMA threads = 0").await?;
    set_cache(conn, crate::CACHE_KIB).await
}

/// `CREATE INDEX name …` as `CREATE INDEX IF NOT EXISTS name …`: a repair at store open may
/// have rebuilt some already.
fn if_not_exists(sql: &str) -> String {
    for head in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = sql.strip_prefix(head) {
            return format!("{head}IF NOT EXISTS {rest}");
        }
    }
    sql.to_owned()
}

/// The indexes set aside and not rebuilt yet: name and `CREATE INDEX` text.
async fn pending_indexes(conn: &mut SqliteConnection) -> Result<Vec<(String, String)>, StoreError> {
    sqlx::query_as("SELECT name, sql FROM load_pending_indexes ORDER BY name")
        .fetch_all(conn)
        .await
        .map_err(db)
}

/// Inside the caller's write transaction: re-creates every index still pending, checks that
/// the customer tables' references are in range, and deletes the marker rows. Returns how
/// many indexes were built.
pub(crate) async fn rebuild_in(conn: &mut SqliteConnection) -> Result<usize, StoreError> {
    let pending = pending_indexes(conn).await?;
    for (_, sql) in &pending {
        exec(conn, &if_not_exists(sql)).await?;
    }
    check_references(conn).await?;
    exec(conn, "DELETE FROM load_pending_indexes").await?;
    Ok(pending.len())
}

/// Checks that the customer tables' child rows refer to stored customers.
async fn check_references(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    // The rows went in without per-row reference checks. Customer ids are handed out in one
    // ascending run and customers are never deleted, so a child row refers to a stored
    // customer exactly when its id lies between the smallest and the largest: one index
    // probe at each end of each table, instead of a look-up per row (42 s at 10 M rows).
    for table in CHILDREN {
        let outside: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT EXISTS (SELECT 1 FROM {table} \
             WHERE customer_id < (SELECT COALESCE(MIN(id), 0) FROM customers) \
             OR customer_id > (SELECT COALESCE(MAX(id), 0) FROM customers))"
        )))
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
        if outside {
            return Err(StoreError::Database(format!(
                "a row of {table} refers to a customer that does not exist"
            )));
        }
    }
    Ok(())
}

/// Like `rebuild_in`, but one index per transaction, each deleting its own marker row, with
/// the WAL checkpointed and truncated after each: a transaction holds one index's pages in the
/// WAL rather than all of them (~8 GB for the order indexes at 30 M orders), and an
/// interrupted rebuild keeps the indexes it finished. Outside any transaction.
pub(crate) async fn rebuild_each(conn: &mut SqliteConnection) -> Result<usize, StoreError> {
    let pending = pending_indexes(conn).await?;
    // Checked first, so a failure leaves the marker for the next try (the check reads
    // whole child tables when their indexes are aside: seconds at 10 M customers).
    check_references(conn).await?;
    for (name, sql) in &pending {
        let started = std::time::Instant::now();
        exec(conn, "BEGIN IMMEDIATE").await?;
        let built = async {
            exec(conn, &if_not_exists(sql)).await?;
            sqlx::query("DELETE FROM load_pending_indexes WHERE name = ?")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            exec(conn, "COMMIT").await
        }
        .await;
        if built.is_err() {
            let _ = exec(conn, "ROLLBACK").await;
            built?;
        }
        tracing::info!(index = %name, ms = started.elapsed().as_millis(), "index rebuilt");
        // Best effort: a reader of an older snapshot may keep the WAL from being truncated.
        let _ = exec(conn, "PRAGMA wal_checkpoint(TRUNCATE)").await;
    }
    Ok(pending.len())
}

/// Rebuilds the indexes a crashed initial load (of customers, or a bulk load of work orders)
/// left aside (run by `migrate`). Nothing to do,
/// and one cheap query, on every other open.
pub(crate) async fn repair(pool: &SqlitePool) -> Result<(), StoreError> {
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM load_pending_indexes")
        .fetch_one(pool)
        .await
        .map_err(db)?;
    if pending == 0 {
        return Ok(());
    }
    tracing::warn!(
        indexes = pending,
        "a bulk load was interrupted: rebuilding the indexes it set aside"
    );
    let mut conn = pool.acquire().await.map_err(db)?;
    sort_in_threads(&mut conn).await?;
    let rebuilt = rebuild_each(&mut conn).await;
    let reset = pool_settings(&mut conn).await;
    rebuilt.and(reset)
}

impl SqliteInitialLoad {
    /// Waits for the running batch, if any, and takes the writer back. A batch's error is
    /// returned here, with the writer kept.
    async fn settle(&mut self) -> Result<BatchWriter, StoreError> {
        if let Some(running) = self.running.take() {
            let (writer, result) = running.await.map_err(|e| {
                StoreError::Database(format!("a batch of the initial load stopped: {e}"))
            })?;
            match result {
                Ok(count) => {
                    self.stored += count;
                    return Ok(writer);
                }
                Err(e) => {
                    self.writer = Some(writer);
                    return Err(e);
                }
            }
        }
        self.writer.take().ok_or_else(|| {
            StoreError::Database(
                "the initial load lost its writer (a batch thread stopped); the indexes are \
                 rebuilt when the store is next opened"
                    .to_owned(),
            )
        })
    }
}

/// Begins the closing transaction (`finish` and `abort` commit it): its COMMIT is fsynced,
/// and with it every batch before.
async fn rebuild(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    exec(conn, "PRAGMA synchronous = FULL").await?;
    // The connection is closed when the load ends: nothing to put back.
    sort_in_threads(conn).await?;
    exec(conn, "BEGIN IMMEDIATE").await?;
    rebuild_in(conn).await?;
    Ok(())
}

#[async_trait]
impl InitialLoad for SqliteInitialLoad {
    async fn insert(
        &mut self,
        records: Vec<CustomerRecord>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerId>, StoreError> {
        if records
            .iter()
            .any(|r| !self.units.contains_key(&r.supply_unit_id.0))
        {
            return Err(UNKNOWN_UNIT);
        }
        let mut writer = self.settle().await?;
        let count = records.len() as i64;
        let batch = Batch {
            records,
            first: self.next_customer,
            at: ms(now),
            staff_id: actor.staff_id().map(|s| s.0),
            actor: actor.label(),
        };
        let first = batch.first;
        self.next_customer += count;
        let units = self.units.clone();
        self.running = Some(tokio::task::spawn_blocking(move || {
            let result = writer.write(&batch, &units).map(|()| count as u64);
            (writer, result)
        }));
        Ok((first..first + count).map(CustomerId).collect())
    }

    async fn finish(
        mut self: Box<Self>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if let Err(e) = self.settle().await {
            // The last batch failed: put the indexes back, as `abort` does, before reporting.
            self.writer = None;
            let restored = async {
                rebuild(&mut self.conn).await?;
                exec(&mut self.conn, "COMMIT").await
            };
            if let Err(again) = restored.await {
                // The marker stays: the next open rebuilds them.
                tracing::warn!(error = %again, "could not rebuild the indexes after a failed batch");
            }
            return Err(e);
        }
        // The writer is closed by now: the rebuild runs on the load's other connection.
        self.writer = None;
        rebuild(&mut self.conn).await?;
        append_in(
            &mut self.conn,
            actor,
            now,
            "customer.initial_load",
            "customer:*",
            &format!(
                "{} records created into an empty archive (indexes rebuilt)",
                self.stored
            ),
        )
        .await?;
        exec(&mut self.conn, "COMMIT").await?;
        Ok(self.stored)
    }

    async fn abort(mut self: Box<Self>) -> Result<(), StoreError> {
        // The batch that failed has rolled back; the others are committed.
        let _ = self.settle().await;
        self.writer = None;
        rebuild(&mut self.conn).await?;
        exec(&mut self.conn, "COMMIT").await
    }
}
