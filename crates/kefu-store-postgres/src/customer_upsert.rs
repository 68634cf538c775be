//! Bulk create-or-update of customers keyed by account number on PostgreSQL (imports, issue 6).
//! The batch's existing customers are locked and read with one query, new ones go through the
//! same `UNNEST` inserts as `create_customers`, and the changed ones are rewritten with one
//! `UPDATE … FROM UNNEST` and one `DELETE` per child table: a batch costs a fixed number of round
//! trips whatever its size.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerRecord, CustomerStatus, FieldChange, diff};
use kefu_domain::ids::CustomerId;
use kefu_store::{
    Actor, Customer, CustomerEventKind, CustomerImportStore, StoreError, UpsertCounts,
    UpsertOutcome,
};
use sqlx::PgConnection;

use crate::audit::append_in;
use crate::customer::refresh_statistics;
use crate::customer_copy::copy_new;
use crate::customer_insert::{
    CHUNK, NewEvent, UNKNOWN_UNIT, duplicate_account, insert_children, insert_events, unit_paths,
};
use crate::customer_read::complete;
use crate::rows::{CustomerRow, customer_columns};
use crate::{PgStore, db};

/// The stored customers holding any of the batch's account numbers, locked for this
/// transaction, by account number.
async fn existing(
    conn: &mut PgConnection,
    records: &[CustomerRecord],
) -> Result<HashMap<String, Customer>, StoreError> {
    let accounts: Vec<&str> = records.iter().map(|r| r.account_number.as_str()).collect();
    let rows: Vec<CustomerRow> = sqlx::query_as(concat!(
        "SELECT ",
        customer_columns!(),
        " FROM customers WHERE account_number = ANY($1) ORDER BY id FOR UPDATE"
    ))
    .bind(accounts)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(complete(conn, rows)
        .await?
        .into_iter()
        .map(|c| (c.record.account_number.as_str().to_owned(), c))
        .collect())
}

/// Rewrites the given customers' rows (id, new record, supply-unit path) in one statement.
async fn update_rows(
    conn: &mut PgConnection,
    rows: &[(i64, &CustomerRecord, String)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let col = |f: fn(&CustomerRecord) -> Option<&str>| -> Vec<Option<&str>> {
        rows.iter().map(|(_, r, _)| f(r)).collect()
    };
    sqlx::query(
        "UPDATE customers AS c SET name = u.name, id_kind = u.id_kind, id_number = u.id_number, \
         address = u.address, supply_unit_id = u.supply_unit_id, \
         supply_unit_path = u.supply_unit_path, grid = u.grid, \
         usage_category = u.usage_category, voltage = u.voltage, \
         contract_capacity_kva = u.contract_capacity_kva, industry = u.industry, \
         business_format = u.business_format, scale = u.scale, value_tier = u.value_tier, \
         service_grade = u.service_grade, version = c.version + 1, updated_at = $17 \
         FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[], \
         $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::text[], \
         $13::text[], $14::text[], $15::text[], $16::text[]) \
         AS u(id, name, id_kind, id_number, address, supply_unit_id, supply_unit_path, grid, \
         usage_category, voltage, contract_capacity_kva, industry, business_format, scale, \
         value_tier, service_grade) WHERE c.id = u.id",
    )
    .bind(rows.iter().map(|(id, _, _)| *id).collect::<Vec<_>>())
    .bind(col(|r| Some(r.name.as_str())))
    .bind(col(|r| r.id_document.as_ref().map(|d| d.kind().code())))
    .bind(col(|r| r.id_document.as_ref().map(|d| d.number())))
    .bind(col(|r| Some(r.address.as_str())))
    .bind(
        rows.iter()
            .map(|(_, r, _)| r.supply_unit_id.0)
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|(_, _, p)| p.as_str()).collect::<Vec<_>>())
    .bind(col(|r| Some(r.grid.code())))
    .bind(col(|r| Some(r.usage_category.code())))
    .bind(col(|r| Some(r.voltage.code())))
    .bind(
        rows.iter()
            .map(|(_, r, _)| r.contract_capacity_kva)
            .collect::<Vec<_>>(),
    )
    .bind(col(|r| r.industry.as_deref()))
    .bind(col(|r| r.business_format.map(|x| x.code())))
    .bind(col(|r| r.scale.map(|x| x.code())))
    .bind(col(|r| r.value_tier.map(|x| x.code())))
    .bind(col(|r| r.service_grade.map(|x| x.code())))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// The whole upsert inside the caller's transaction.
async fn upsert_in(
    conn: &mut PgConnection,
    records: &[CustomerRecord],
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
    let mut outcomes: Vec<Option<UpsertOutcome>> = vec![None; records.len()];
    for (offset, chunk) in records
        .chunks(CHUNK)
        .enumerate()
        .map(|(n, c)| (n * CHUNK, c))
    {
        let current = existing(conn, chunk).await?;
        let mut fresh: Vec<usize> = Vec::new();
        let mut changed: Vec<(usize, &Customer, Vec<FieldChange>)> = Vec::new();
        for (i, r) in chunk.iter().enumerate() {
            match current.get(r.account_number.as_str()) {
                None => fresh.push(i),
                Some(c) if c.status == CustomerStatus::Retired => {
                    outcomes[offset + i] = Some(UpsertOutcome::Retired(c.id));
                }
                Some(c) => {
                    let changes = diff(&c.record, r);
                    if changes.is_empty() {
                        outcomes[offset + i] = Some(UpsertOutcome::Unchanged(c.id));
                    } else {
                        changed.push((i, c, changes));
                    }
                }
            }
        }
        if !fresh.is_empty() {
            let new_records: Vec<CustomerRecord> =
                fresh.iter().map(|i| chunk[*i].clone()).collect();
            let ids = copy_new(conn, &new_records, actor, now).await?;
            for (i, id) in fresh.iter().zip(ids) {
                outcomes[offset + i] = Some(UpsertOutcome::Created(CustomerId(id)));
            }
        }
        if changed.is_empty() {
            continue;
        }
        let moved: Vec<i64> = changed
            .iter()
            .filter(|(i, c, _)| chunk[*i].supply_unit_id != c.record.supply_unit_id)
            .map(|(i, _, _)| chunk[*i].supply_unit_id.0)
            .collect();
        let units = unit_paths(conn, moved).await?;
        let mut rows = Vec::with_capacity(changed.len());
        for (i, c, _) in &changed {
            let r = &chunk[*i];
            let path = if r.supply_unit_id == c.record.supply_unit_id {
                c.supply_unit_path.as_str().to_owned()
            } else {
                units
                    .get(&r.supply_unit_id.0)
                    .cloned()
                    .ok_or(UNKNOWN_UNIT)?
            };
            rows.push((c.id.0, r, path));
        }
        update_rows(conn, &rows, now).await?;
        let ids: Vec<i64> = rows.iter().map(|(id, _, _)| *id).collect();
        for sql in [
            "DELETE FROM customer_phones WHERE customer_id = ANY($1)",
            "DELETE FROM customer_tags WHERE customer_id = ANY($1)",
            "DELETE FROM customer_special_dates WHERE customer_id = ANY($1)",
        ] {
            sqlx::query(sql)
                .bind(&ids)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
        }
        let children: Vec<(i64, &CustomerRecord)> =
            rows.iter().map(|(id, r, _)| (*id, *r)).collect();
        insert_children(conn, &children).await?;
        let mut events = Vec::with_capacity(changed.len());
        for (i, c, changes) in changed {
            outcomes[offset + i] = Some(UpsertOutcome::Updated(c.id));
            events.push(NewEvent {
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
impl CustomerImportStore for PgStore {
    async fn upsert_customers(
        &self,
        records: Vec<CustomerRecord>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let outcomes = upsert_in(&mut tx, &records, actor, now).await?;
        tx.commit().await.map_err(db)?;
        refresh_statistics(self, UpsertCounts::of(&outcomes).created as usize).await;
        Ok(outcomes)
    }

    async fn begin_initial_load(
        &self,
    ) -> Result<Option<Box<dyn kefu_store::InitialLoad>>, StoreError> {
        crate::customer_load::begin(self).await
    }

    async fn after_import(&self) -> Result<(), StoreError> {
        sqlx::query(
            "ANALYZE customers, customer_phones, customer_tags, customer_special_dates, \
             customer_events",
        )
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}
