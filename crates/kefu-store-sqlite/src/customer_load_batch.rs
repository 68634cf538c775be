//! The batches of a SQLite initial load (`customer_load`), written through a connection of
//! their own with prepared statements: one `INSERT` per row, bound from the records in place.
//! Through sqlx a batch was multi-row statements of ~16 000 owned values each, built on the
//! async side and handed to sqlx's connection thread, whose binding and copying cost nearly
//! as much as SQLite's own inserts (BENCHMARKS.md, customer import). The connection runs on
//! a blocking thread, one batch at a time; the load's sqlx connection keeps everything else
//! (setting indexes aside, rebuilding them, the audit entry).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use kefu_domain::customer::{CustomerRecord, CustomerStatus};
use kefu_store::StoreError;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use crate::rows::customer_columns;

/// One batch of new customers and the ids they take.
pub(crate) struct Batch {
    pub records: Vec<CustomerRecord>,
    /// Id of the first customer; the others follow in order.
    pub first: i64,
    /// Milliseconds since the epoch, as stored.
    pub at: i64,
    pub staff_id: Option<i64>,
    pub actor: String,
}

impl Batch {
    /// Id of the last customer, `None` for an empty batch.
    fn last(&self) -> Option<i64> {
        let count = i64::try_from(self.records.len()).ok()?;
        (count > 0).then(|| self.first + count - 1)
    }
}

/// The load's writing connection.
pub(crate) struct BatchWriter {
    conn: Connection,
}

/// How long a batch waits for another writer's lock (as the pool's connections do).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn failed(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    {
        return StoreError::Duplicate {
            field: "account_number",
            value: String::new(),
        };
    }
    StoreError::Database(e.to_string())
}

impl BatchWriter {
    /// Opens the store's database file for the load's batches (blocking).
    pub(crate) fn open(path: &Path, cache_kib: u32) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(failed)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        // As the sqlx load connection: no per-row reference checks (checked by range at the
        // end), batch commits not waited for on disk (the closing commit is FULL), and a
        // cache that holds the unique account-number index, which takes random inserts. The
        // WAL is checkpointed every 64 MiB instead of 4: the pages every batch touches (the
        // tables' last pages, the account-number index's) are copied to the database file, and
        // synced, a sixteenth as often (10 M rows: 51.7 → 48.7 s, BENCHMARKS.md).
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; \
             PRAGMA cache_size = -{cache_kib}; PRAGMA wal_autocheckpoint = 16384;"
        ))
        .map_err(failed)?;
        Ok(Self { conn })
    }

    /// Writes one batch in its own transaction (blocking), first checking that no other
    /// writer has taken its ids since they were handed out.
    pub(crate) fn write(
        &mut self,
        batch: &Batch,
        units: &HashMap<i64, String>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let customers: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM customers", [], |r| {
                r.get(0)
            })
            .map_err(failed)?;
        if customers >= batch.first {
            return Err(StoreError::Database(
                "another writer stored customers while the initial load ran (ids taken); the \
                 load stopped with its earlier batches stored: run the import again to store \
                 the rest"
                    .to_owned(),
            ));
        }
        insert_rows(&tx, batch, units).map_err(failed)?;
        tx.commit().map_err(failed)
    }
}

fn insert_rows(
    tx: &rusqlite::Transaction<'_>,
    batch: &Batch,
    units: &HashMap<i64, String>,
) -> Result<(), rusqlite::Error> {
    let mut customer = tx.prepare(concat!(
        "INSERT INTO customers (",
        customer_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
         ?17, ?18, NULL, 1, ?19, ?19)"
    ))?;
    let mut phone = tx.prepare(
        "INSERT INTO customer_phones (customer_id, position, phone) VALUES (?1, ?2, ?3)",
    )?;
    let mut tag = tx.prepare("INSERT INTO customer_tags (customer_id, tag) VALUES (?1, ?2)")?;
    let mut date = tx.prepare(
        "INSERT INTO customer_special_dates (customer_id, position, kind, month, day, year, \
         label) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let active = CustomerStatus::Active.code();
    for (r, id) in batch.records.iter().zip(batch.first..) {
        let doc = r.id_document.as_ref();
        let unit = r.supply_unit_id.0;
        customer.execute(params![
            id,
            r.account_number.as_str(),
            r.name.as_str(),
            doc.map(|d| d.kind().code()),
            doc.map(|d| d.number()),
            r.address,
            unit,
            units.get(&unit).map_or("", String::as_str),
            r.grid.code(),
            r.usage_category.code(),
            r.voltage.code(),
            r.contract_capacity_kva,
            r.industry,
            r.business_format.map(|x| x.code()),
            r.scale.map(|x| x.code()),
            r.value_tier.map(|x| x.code()),
            r.service_grade.map(|x| x.code()),
            active,
            batch.at,
        ])?;
        for (p, position) in r.phones.iter().zip(0_i64..) {
            phone.execute(params![id, position, p.as_str()])?;
        }
        for t in &r.tags {
            tag.execute(params![id, t])?;
        }
        for (d, position) in r.special_dates.iter().zip(0_i64..) {
            date.execute(params![
                id,
                position,
                d.kind.code(),
                i64::from(d.month),
                i64::from(d.day),
                d.year.map(i64::from),
                d.label,
            ])?;
        }
    }
    // One history row for the batch: the customers' `Created` event, values derived when read
    // (`kefu_store::customer_snapshot`).
    if let Some(last) = batch.last() {
        tx.execute(
            "INSERT INTO customer_batch_creations (first_customer_id, last_customer_id, at, \
             staff_id, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![batch.first, last, batch.at, batch.staff_id, batch.actor],
        )?;
    }
    Ok(())
}
