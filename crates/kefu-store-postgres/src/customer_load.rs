//! The initial load of an empty customer archive on PostgreSQL (issue 6, the province's first
//! import), done as `pg_restore` does it: one transaction on a connection of its own locks the
//! customer tables, sets their secondary indexes, their primary keys, UNIQUE constraints and
//! foreign keys (and the foreign keys that refer to them) aside (definitions read back from
//! the catalog, so whatever later migrations add is rebuilt too), streams the rows in with
//! `COPY` (no index to maintain, not even the keys' — a third of the server's COPY time at
//! 1 M rows went to appending to the primary-key indexes; no per-row reference trigger, no
//! statistics refresh per batch), then `finish` re-creates every index with a sorted build in
//! a large `maintenance_work_mem`, re-adds the constraints (keys by a sorted build, foreign
//! keys each validated by a single join), analyzes the tables once and commits.
//!
//! A crash, a failed batch or a dropped load rolls everything back, the dropped indexes
//! included: DDL is transactional, so no store is ever left without its indexes. The
//! connection is closed, not returned to the pool, when the load ends.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::CustomerId;
use kefu_store::{Actor, InitialLoad, StoreError};
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use crate::audit::append_in;
use crate::customer_copy::copy_rows;
use crate::customer_insert::{UNKNOWN_UNIT, duplicate_account};
use crate::{PgStore, db, is_unique_violation};

/// The tables an initial load fills. The customers' creation goes to
/// `customer_batch_creations`, one row per batch, not to `customer_events`.
const TABLES: &str = "customers, customer_phones, customer_tags, customer_special_dates";
const TABLE_ARRAY: &str = "ARRAY['customers', 'customer_phones', 'customer_tags', \
                           'customer_special_dates']::regclass[]";

/// What was set aside, to be put back in this order.
struct SetAside {
    /// `CREATE INDEX …` of plain indexes.
    indexes: Vec<String>,
    /// `(table, name, definition)` of UNIQUE constraints, then of foreign keys.
    constraints: Vec<(String, String, String)>,
}

pub(crate) struct PgInitialLoad {
    conn: PoolConnection<Postgres>,
    aside: SetAside,
    units: HashMap<i64, String>,
    /// The next customer id. The load hands ids out itself (the tables are locked) and moves
    /// the identity sequence past them at the end: no `nextval` per row.
    next_customer: i64,
    stored: u64,
}

/// The first id free in `table`, by its identity sequence and its rows, taking one value of
/// the sequence (sequences are not transactional: a rolled-back load leaves a gap, no clash).
async fn first_free(conn: &mut PoolConnection<Postgres>, table: &str) -> Result<i64, StoreError> {
    // Safe: the table name is one of ours.
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT GREATEST(nextval(pg_get_serial_sequence('{table}', 'id')), \
         (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}))"
    )))
    .fetch_one(&mut **conn)
    .await
    .map_err(db)
}

async fn exec(conn: &mut PoolConnection<Postgres>, sql: &str) -> Result<(), StoreError> {
    // Safe: every statement here is ours or read back from the catalog.
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut **conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Reads the definitions of what the load sets aside.
async fn set_aside(conn: &mut PoolConnection<Postgres>) -> Result<SetAside, StoreError> {
    // Plain indexes: not a primary key, not owned by a constraint.
    let indexes: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
         WHERE i.indrelid = ANY({TABLE_ARRAY}) AND NOT i.indisprimary \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) \
         ORDER BY 1"
    )))
    .fetch_all(&mut **conn)
    .await
    .map_err(db)?;
    // The tables' own keys and foreign keys, and the foreign keys that refer to them (a
    // primary key cannot be dropped while one refers to it). UNIQUE and PRIMARY KEY before
    // FOREIGN KEY ('u' > 'p' > 'f', hence DESC), so that keys exist when checked.
    let constraints: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) \
         FROM pg_constraint WHERE (conrelid = ANY({TABLE_ARRAY}) AND contype IN ('p', 'u', 'f')) \
         OR (confrelid = ANY({TABLE_ARRAY}) AND contype = 'f') \
         ORDER BY contype DESC, conrelid::regclass::text, conname"
    )))
    .fetch_all(&mut **conn)
    .await
    .map_err(db)?;
    // Foreign keys first: a UNIQUE constraint may be what one refers to.
    for (table, name, _) in constraints.iter().rev() {
        exec(
            conn,
            &format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\""),
        )
        .await?;
    }
    for (name, _) in &indexes {
        exec(conn, &format!("DROP INDEX {name}")).await?;
    }
    Ok(SetAside {
        indexes: indexes.into_iter().map(|(_, def)| def).collect(),
        constraints,
    })
}

/// Starts the load if no customer is stored; `None` (and nothing changed) otherwise.
pub(crate) async fn begin(store: &PgStore) -> Result<Option<Box<dyn InitialLoad>>, StoreError> {
    let mut conn = store.pool.acquire().await.map_err(db)?;
    // From here on any early return closes the connection: the server rolls back.
    conn.close_on_drop();
    exec(&mut conn, "BEGIN").await?;
    // Fail rather than queue behind (and in front of) a long reader of the tables.
    exec(&mut conn, "SET LOCAL lock_timeout = '10s'").await?;
    // Index builds sort, and the foreign keys are validated by joins, in memory: at 10 M
    // customers the largest sort and hash hold ~1 GB.
    exec(&mut conn, "SET LOCAL maintenance_work_mem = '1GB'").await?;
    exec(&mut conn, "SET LOCAL work_mem = '1GB'").await?;
    exec(
        &mut conn,
        &format!("LOCK TABLE {TABLES} IN ACCESS EXCLUSIVE MODE"),
    )
    .await?;
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
    let aside = set_aside(&mut conn).await?;
    let units: Vec<(i64, String)> = sqlx::query_as("SELECT id, path FROM org_units")
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let next_customer = first_free(&mut conn, "customers").await?;
    Ok(Some(Box::new(PgInitialLoad {
        conn,
        aside,
        units: units.into_iter().collect(),
        next_customer,
        stored: 0,
    })))
}

#[async_trait]
impl InitialLoad for PgInitialLoad {
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
        let n = i64::try_from(records.len()).unwrap_or(i64::MAX);
        let ids: Vec<i64> = (self.next_customer..).take(records.len()).collect();
        copy_rows(&mut self.conn, &records, &ids, &self.units, now).await?;
        if let Some(last) = ids.last() {
            // One history row for the batch: the customers' `Created` event, values derived
            // when read (`kefu_store::customer_snapshot`).
            sqlx::query(
                "INSERT INTO customer_batch_creations \
                 (first_customer_id, last_customer_id, at, staff_id, actor) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(self.next_customer)
            .bind(last)
            .bind(now)
            .bind(actor.staff_id().map(|s| s.0))
            .bind(actor.label())
            .execute(&mut *self.conn)
            .await
            .map_err(db)?;
        }
        self.next_customer += n;
        self.stored += ids.len() as u64;
        Ok(ids.into_iter().map(CustomerId).collect())
    }

    async fn finish(
        mut self: Box<Self>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        for def in std::mem::take(&mut self.aside.indexes) {
            exec(&mut self.conn, &def).await?;
        }
        // UNIQUE first (a duplicate account number fails here and rolls the load back), then
        // the foreign keys, each validated by one join over the whole table.
        for (table, name, def) in std::mem::take(&mut self.aside.constraints) {
            // Safe: table, name and definition were read back from the catalog.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}"
            )))
            .execute(&mut *self.conn)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    duplicate_account("")
                } else {
                    db(e)
                }
            })?;
        }
        if self.stored > 0 {
            // `setval(s, n)`: the next value is n + 1.
            sqlx::query("SELECT setval(pg_get_serial_sequence('customers', 'id'), $1)")
                .bind(self.next_customer - 1)
                .execute(&mut *self.conn)
                .await
                .map_err(db)?;
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
        // Statistics once, for the filled tables (autovacuum may be off).
        exec(&mut self.conn, &format!("ANALYZE {TABLES}")).await?;
        exec(&mut self.conn, "COMMIT").await?;
        Ok(self.stored)
    }

    async fn abort(mut self: Box<Self>) -> Result<(), StoreError> {
        exec(&mut self.conn, "ROLLBACK").await
    }
}
