//! The initial load of an empty customer archive on SQLite (issue 6, the province's first
//! import): one `BEGIN IMMEDIATE` transaction on a connection of its own. The secondary indexes
//! of the customer tables are dropped at the start (their `CREATE INDEX` text kept from
//! `sqlite_master`) and foreign keys are not checked row by row; rows then go in id order, which
//! only appends to the tables. `finish` re-creates each index with one sorted build, checks
//! every reference once and commits. Inserting 10 million rows into six randomly keyed indexes
//! was most of SQLite's work (BENCHMARKS.md); a sorted build is a fraction of it.
//!
//! Atomicity carries the crash story: DDL is transactional in SQLite, so a crash, a failed
//! batch or a dropped load rolls the indexes back in with the (empty) tables — no store is ever
//! left without its indexes. The connection is closed, never returned to the pool, when the
//! load ends: its pragmas (foreign keys off, a large cache) must not leak to other work.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::CustomerId;
use kefu_store::{Actor, InitialLoad, StoreError};
use sqlx::Sqlite;
use sqlx::pool::PoolConnection;

use crate::audit::append_in;
use crate::customer_insert::{UNKNOWN_UNIT, insert_unchecked};
use crate::{SqliteStore, db};

/// The tables an initial load fills; their secondary indexes are rebuilt at the end.
const TABLES: [&str; 5] = [
    "customers",
    "customer_phones",
    "customer_tags",
    "customer_special_dates",
    "customer_events",
];

/// Page cache of the load's connection: the index builds sort in it, and the tables' last
/// pages stay in it between batches.
const LOAD_CACHE_KIB: u32 = 512 * 1024;

pub(crate) struct SqliteInitialLoad {
    conn: PoolConnection<Sqlite>,
    /// The dropped indexes' `CREATE INDEX` statements, as `sqlite_master` held them.
    indexes: Vec<String>,
    /// Every org unit's path (units cannot change: the load holds the write lock).
    units: std::collections::HashMap<i64, String>,
    stored: u64,
}

async fn exec(conn: &mut PoolConnection<Sqlite>, sql: &str) -> Result<(), StoreError> {
    // Safe: every statement here is ours or read back from sqlite_master.
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut **conn)
        .await
        .map_err(db)?;
    Ok(())
}

fn table_list() -> String {
    TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Starts the load if no customer is stored; `None` (and nothing changed) otherwise.
pub(crate) async fn begin(store: &SqliteStore) -> Result<Option<Box<dyn InitialLoad>>, StoreError> {
    let mut conn = store.pool.acquire().await.map_err(db)?;
    // From here on any early return closes the connection, rolling back what it began.
    conn.close_on_drop();
    // `foreign_keys` cannot change inside a transaction; `threads` lets index builds sort on
    // a second core.
    exec(&mut conn, "PRAGMA foreign_keys = OFF").await?;
    exec(&mut conn, &format!("PRAGMA cache_size = -{LOAD_CACHE_KIB}")).await?;
    exec(&mut conn, "PRAGMA threads = 2").await?;
    exec(&mut conn, "BEGIN IMMEDIATE").await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM customers)")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    if !empty {
        return Ok(None);
    }
    // Indexes with SQL text: the named ones. Primary keys and UNIQUE constraints
    // (`sqlite_autoindex_*`, no text) stay: the account-number constraint must hold throughout.
    let indexes: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND tbl_name IN ({}) ORDER BY name",
        table_list()
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    for (name, _) in &indexes {
        exec(&mut conn, &format!("DROP INDEX \"{name}\"")).await?;
    }
    let units: Vec<(i64, String)> = sqlx::query_as("SELECT id, path FROM org_units")
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    Ok(Some(Box::new(SqliteInitialLoad {
        conn,
        indexes: indexes.into_iter().map(|(_, sql)| sql).collect(),
        units: units.into_iter().collect(),
        stored: 0,
    })))
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
        let refs: Vec<&CustomerRecord> = records.iter().collect();
        let ids = insert_unchecked(&mut self.conn, &refs, &self.units, actor, now).await?;
        self.stored += ids.len() as u64;
        Ok(ids.into_iter().map(CustomerId).collect())
    }

    async fn finish(
        mut self: Box<Self>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        for sql in std::mem::take(&mut self.indexes) {
            exec(&mut self.conn, &sql).await?;
        }
        // The rows were written without per-row reference checks: check them all at once.
        for table in TABLES {
            let broken: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT \"table\" FROM pragma_foreign_key_check('{table}') LIMIT 1"
            )))
            .fetch_optional(&mut *self.conn)
            .await
            .map_err(db)?;
            if broken.is_some() {
                return Err(StoreError::Database(format!(
                    "the initial load left a row of {table} referring to a missing row; \
                     nothing was stored"
                )));
            }
        }
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
}
