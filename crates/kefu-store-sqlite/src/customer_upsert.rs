//! Bulk create-or-update of customers keyed by account number on SQLite (imports, issue 6).
//! The batch's existing customers are found with one query, new ones go through the same
//! multi-row inserts as `create_customers`, changed ones are rewritten row by row (SQLite
//! statements are in-process calls, so a row-wise `UPDATE` costs no round trip) and their
//! children replaced with one `DELETE` per child table.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerRecord, CustomerStatus, diff};
use kefu_domain::ids::CustomerId;
use kefu_store::{
    Actor, Customer, CustomerEventKind, CustomerImportStore, StoreError, UpsertCounts,
    UpsertOutcome,
};
use sqlx::SqliteConnection;

use crate::audit::append_in;
use crate::customer_insert::{
    NewEvent, UNKNOWN_UNIT, duplicate_account, insert_children, insert_events, insert_unchecked,
    next_event_id, unit_paths,
};
use crate::customer_read::{complete, id_list};
use crate::rows::{CustomerRow, customer_columns};
use crate::{SqliteStore, db, ms};

/// Batches from this size get `BULK_CACHE_KIB` of page cache for their transaction.
const LARGE_BATCH: usize = 10_000;
/// Page cache of a large batch: the customer indexes take inserts in random key order, and a
/// transaction whose dirty pages outgrow the cache spills them to the WAL and writes them again
/// later, which halved import speed at 50 000 rows per batch.
pub(crate) const BULK_CACHE_KIB: u32 = 512 * 1024;

pub(crate) async fn set_cache(conn: &mut SqliteConnection, kib: u32) -> Result<(), StoreError> {
    // Safe: the value is a number of ours.
    sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA cache_size = -{kib}")))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// A JSON array of account numbers for `json_each(?)`. Account numbers are letters, digits and
/// dashes only (`AccountNumber::parse`), so no escaping is needed.
fn account_list(records: &[CustomerRecord]) -> String {
    let parts: Vec<String> = records
        .iter()
        .map(|r| format!("\"{}\"", r.account_number.as_str()))
        .collect();
    format!("[{}]", parts.join(","))
}

/// The stored customers holding any of the batch's account numbers, by account number.
async fn existing(
    conn: &mut SqliteConnection,
    records: &[CustomerRecord],
) -> Result<HashMap<String, Customer>, StoreError> {
    let rows: Vec<CustomerRow> = sqlx::query_as(concat!(
        "SELECT ",
        customer_columns!(),
        " FROM customers WHERE account_number IN (SELECT value FROM json_each(?))"
    ))
    .bind(account_list(records))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(complete(conn, rows)
        .await?
        .into_iter()
        .map(|c| (c.record.account_number.as_str().to_owned(), c))
        .collect())
}

async fn update_row(
    conn: &mut SqliteConnection,
    id: i64,
    record: &CustomerRecord,
    path: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let doc = record.id_document.as_ref();
    sqlx::query(
        "UPDATE customers SET name = ?, id_kind = ?, id_number = ?, \
         address = ?, supply_unit_id = ?, supply_unit_path = ?, grid = ?, \
         usage_category = ?, voltage = ?, contract_capacity_kva = ?, industry = ?, \
         business_format = ?, scale = ?, value_tier = ?, service_grade = ?, \
         version = version + 1, updated_at = ? WHERE id = ?",
    )
    .bind(record.name.as_str())
    .bind(doc.map(|d| d.kind().code()))
    .bind(doc.map(|d| d.number()))
    .bind(&record.address)
    .bind(record.supply_unit_id.0)
    .bind(path)
    .bind(record.grid.code())
    .bind(record.usage_category.code())
    .bind(record.voltage.code())
    .bind(record.contract_capacity_kva)
    .bind(record.industry.as_deref())
    .bind(record.business_format.map(|x| x.code()))
    .bind(record.scale.map(|x| x.code()))
    .bind(record.value_tier.map(|x| x.code()))
    .bind(record.service_grade.map(|x| x.code()))
    .bind(ms(now))
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// The whole upsert inside the caller's write transaction.
async fn upsert_in(
    conn: &mut SqliteConnection,
    records: Vec<CustomerRecord>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<UpsertOutcome>, StoreError> {
    let mut seen = HashSet::with_capacity(records.len());
    if let Some(dup) = records
        .iter()
        .find(|r| !seen.insert(r.account_number.as_str()))
    {
        return Err(duplicate_account(dup.account_number.as_str()));
    }
    let current = existing(conn, &records).await?;
    let mut outcomes: Vec<Option<UpsertOutcome>> = vec![None; records.len()];
    let mut fresh: Vec<usize> = Vec::new();
    let mut changed: Vec<(usize, &Customer, Vec<kefu_domain::customer::FieldChange>)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match current.get(r.account_number.as_str()) {
            None => fresh.push(i),
            Some(c) if c.status == CustomerStatus::Retired => {
                outcomes[i] = Some(UpsertOutcome::Retired(c.id));
            }
            Some(c) => {
                let changes = diff(&c.record, r);
                if changes.is_empty() {
                    outcomes[i] = Some(UpsertOutcome::Unchanged(c.id));
                } else {
                    changed.push((i, c, changes));
                }
            }
        }
    }
    let new_records: Vec<&CustomerRecord> = fresh.iter().map(|i| &records[*i]).collect();
    if !new_records.is_empty() {
        let mut unit_ids: Vec<i64> = new_records.iter().map(|r| r.supply_unit_id.0).collect();
        unit_ids.sort_unstable();
        unit_ids.dedup();
        let units = unit_paths(conn, unit_ids).await?;
        if new_records
            .iter()
            .any(|r| !units.contains_key(&r.supply_unit_id.0))
        {
            return Err(UNKNOWN_UNIT);
        }
        // `existing` found every stored account of the batch: these are free.
        let ids = insert_unchecked(conn, &new_records, &units, actor, now).await?;
        for (i, id) in fresh.iter().zip(ids) {
            outcomes[*i] = Some(UpsertOutcome::Created(CustomerId(id)));
        }
    }
    if !changed.is_empty() {
        let moved: Vec<i64> = changed
            .iter()
            .filter(|(i, c, _)| records[*i].supply_unit_id != c.record.supply_unit_id)
            .map(|(i, _, _)| records[*i].supply_unit_id.0)
            .collect();
        let units = unit_paths(conn, moved).await?;
        for (i, c, _) in &changed {
            let r = &records[*i];
            let path = if r.supply_unit_id == c.record.supply_unit_id {
                c.supply_unit_path.as_str().to_owned()
            } else {
                units
                    .get(&r.supply_unit_id.0)
                    .cloned()
                    .ok_or(UNKNOWN_UNIT)?
            };
            update_row(conn, c.id.0, r, &path, now).await?;
        }
        let ids = id_list(changed.iter().map(|(_, c, _)| c.id.0));
        for sql in [
            "DELETE FROM customer_phones WHERE customer_id IN (SELECT value FROM json_each(?))",
            "DELETE FROM customer_tags WHERE customer_id IN (SELECT value FROM json_each(?))",
            "DELETE FROM customer_special_dates \
             WHERE customer_id IN (SELECT value FROM json_each(?))",
        ] {
            sqlx::query(sql)
                .bind(&ids)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
        }
        let children: Vec<(i64, &CustomerRecord)> = changed
            .iter()
            .map(|(i, c, _)| (c.id.0, &records[*i]))
            .collect();
        insert_children(conn, &children).await?;
        let first_event = next_event_id(conn).await?;
        let mut events = Vec::with_capacity(changed.len());
        for ((i, c, changes), event_id) in changed.into_iter().zip(first_event..) {
            outcomes[i] = Some(UpsertOutcome::Updated(c.id));
            events.push(NewEvent {
                id: event_id,
                customer_id: c.id.0,
                kind: CustomerEventKind::Updated,
                reason: None,
                changes,
                snapshot: None,
            });
        }
        insert_events(conn, &events, actor, now).await?;
    }
    // Every slot was filled above: each record is new, retired, unchanged or changed.
    let outcomes: Vec<UpsertOutcome> = outcomes.into_iter().flatten().collect();
    let counts = UpsertCounts::of(&outcomes);
    append_in(
        conn,
        actor,
        now,
        "customer.import_batch",
        "customer:*",
        &format!(
            "{} records: {} created, {} updated, {} unchanged, {} retired left alone",
            outcomes.len(),
            counts.created,
            counts.updated,
            counts.unchanged,
            counts.retired
        ),
    )
    .await?;
    Ok(outcomes)
}

#[async_trait]
impl CustomerImportStore for SqliteStore {
    async fn upsert_customers(
        &self,
        records: Vec<CustomerRecord>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let large = records.len() >= LARGE_BATCH;
        let mut conn = self.pool.acquire().await.map_err(db)?;
        if large {
            set_cache(&mut conn, BULK_CACHE_KIB).await?;
        }
        let result = async {
            let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
                .await
                .map_err(db)?;
            let outcomes = upsert_in(&mut tx, records, actor, now).await?;
            tx.commit().await.map_err(db)?;
            Ok(outcomes)
        }
        .await;
        if large {
            // Give the memory back: the connection returns to the pool of a possibly long-lived
            // process. A failed batch reports its own error, not this one.
            let reset = set_cache(&mut conn, crate::CACHE_KIB).await;
            if result.is_ok() {
                reset?;
            }
        }
        result
    }

    async fn begin_initial_load(
        &self,
    ) -> Result<Option<Box<dyn kefu_store::InitialLoad>>, StoreError> {
        crate::customer_load::begin(self).await
    }
}
