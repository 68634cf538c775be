//! Writing new customer rows on PostgreSQL: `UNNEST` inserts of customers, their phones, tags,
//! special dates and history events, with ids reserved from the tables' identity sequences.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerRecord, FieldChange};
use kefu_store::{Actor, CustomerEventKind, StoreError};
use sqlx::PgConnection;

use crate::{db, is_unique_violation};

/// Records per round of checks and inserts in a batch create.
pub(crate) const CHUNK: usize = 5_000;

pub(crate) fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// Reserves `n` ids from a table's identity sequence, ascending.
pub(crate) async fn reserve_ids(
    conn: &mut PgConnection,
    sql: &'static str,
    n: usize,
) -> Result<Vec<i64>, StoreError> {
    let mut ids: Vec<i64> = sqlx::query_scalar(sql)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .fetch_all(conn)
        .await
        .map_err(db)?;
    ids.sort_unstable();
    Ok(ids)
}

pub(crate) const RESERVE_CUSTOMER_IDS: &str =
    "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, $1)";
pub(crate) const RESERVE_EVENT_IDS: &str =
    "SELECT nextval(pg_get_serial_sequence('customer_events', 'id')) FROM generate_series(1, $1)";

/// A customer history event about to be written.
pub(crate) struct NewEvent {
    pub(crate) customer_id: i64,
    pub(crate) kind: CustomerEventKind,
    pub(crate) reason: Option<String>,
    pub(crate) changes: Vec<FieldChange>,
    /// A `Created` event's fields as one text (`kefu_store::customer_snapshot`), instead of
    /// change rows.
    pub(crate) snapshot: Option<String>,
}

pub(crate) async fn insert_events(
    conn: &mut PgConnection,
    events: &[NewEvent],
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let ids = reserve_ids(conn, RESERVE_EVENT_IDS, events.len()).await?;
    sqlx::query(
        "INSERT INTO customer_events \
         (id, customer_id, at, staff_id, actor, kind, reason, snapshot) \
         SELECT id, customer_id, $5, $6, $7, kind, reason, snapshot \
         FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $8::text[]) \
              AS u(id, customer_id, kind, reason, snapshot)",
    )
    .bind(&ids)
    .bind(events.iter().map(|e| e.customer_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.kind.code()).collect::<Vec<_>>())
    .bind(
        events
            .iter()
            .map(|e| e.reason.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(at)
    .bind(actor.staff_id().map(|s| s.0))
    .bind(actor.label())
    .bind(
        events
            .iter()
            .map(|e| e.snapshot.as_deref())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let mut event_ids = Vec::new();
    let mut positions = Vec::new();
    let mut fields = Vec::new();
    let mut olds = Vec::new();
    let mut news = Vec::new();
    for (id, e) in ids.iter().zip(events) {
        for (i, c) in e.changes.iter().enumerate() {
            event_ids.push(*id);
            positions.push(position(i));
            fields.push(c.field.as_str());
            olds.push(c.old.as_str());
            news.push(c.new.as_str());
        }
    }
    if event_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO customer_event_changes (event_id, position, field, old_value, new_value) \
         SELECT * FROM UNNEST($1::int8[], $2::int4[], $3::text[], $4::text[], $5::text[])",
    )
    .bind(event_ids)
    .bind(positions)
    .bind(fields)
    .bind(olds)
    .bind(news)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

/// Writes the phones, tags and special dates of the given customers.
pub(crate) async fn insert_children(
    conn: &mut PgConnection,
    customers: &[(i64, &CustomerRecord)],
) -> Result<(), StoreError> {
    let (mut ids, mut positions, mut phones) = (Vec::new(), Vec::new(), Vec::new());
    for (id, r) in customers {
        for (i, p) in r.phones.iter().enumerate() {
            ids.push(*id);
            positions.push(position(i));
            phones.push(p.as_str());
        }
    }
    if !ids.is_empty() {
        sqlx::query(
            "INSERT INTO customer_phones (customer_id, position, phone) \
             SELECT * FROM UNNEST($1::int8[], $2::int4[], $3::text[])",
        )
        .bind(ids)
        .bind(positions)
        .bind(phones)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    let (mut ids, mut tags) = (Vec::new(), Vec::new());
    for (id, r) in customers {
        for t in &r.tags {
            ids.push(*id);
            tags.push(t.as_str());
        }
    }
    if !ids.is_empty() {
        sqlx::query(
            "INSERT INTO customer_tags (customer_id, tag) \
             SELECT * FROM UNNEST($1::int8[], $2::text[])",
        )
        .bind(ids)
        .bind(tags)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    let mut ids = Vec::new();
    let mut positions = Vec::new();
    let mut kinds = Vec::new();
    let mut months = Vec::new();
    let mut days = Vec::new();
    let mut years = Vec::new();
    let mut labels = Vec::new();
    for (id, r) in customers {
        for (i, d) in r.special_dates.iter().enumerate() {
            ids.push(*id);
            positions.push(position(i));
            kinds.push(d.kind.code());
            months.push(i32::try_from(d.month).unwrap_or(0));
            days.push(i32::try_from(d.day).unwrap_or(0));
            years.push(d.year);
            labels.push(d.label.as_deref());
        }
    }
    if !ids.is_empty() {
        sqlx::query(
            "INSERT INTO customer_special_dates \
             (customer_id, position, kind, month, day, year, label) \
             SELECT * FROM UNNEST($1::int8[], $2::int4[], $3::text[], $4::int4[], $5::int4[], \
                                  $6::int4[], $7::text[])",
        )
        .bind(ids)
        .bind(positions)
        .bind(kinds)
        .bind(months)
        .bind(days)
        .bind(years)
        .bind(labels)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

pub(crate) async fn delete_children(conn: &mut PgConnection, id: i64) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM customer_phones WHERE customer_id = $1",
        "DELETE FROM customer_tags WHERE customer_id = $1",
        "DELETE FROM customer_special_dates WHERE customer_id = $1",
    ] {
        sqlx::query(sql)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// Paths of the given units that exist (one query).
pub(crate) async fn unit_paths(
    conn: &mut PgConnection,
    ids: Vec<i64>,
) -> Result<HashMap<i64, String>, StoreError> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, path FROM org_units WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(conn)
            .await
            .map_err(db)?;
    Ok(rows.into_iter().collect())
}

/// Which of `accounts` are already taken (one query).
pub(crate) async fn taken_accounts(
    conn: &mut PgConnection,
    accounts: Vec<&str>,
) -> Result<HashSet<String>, StoreError> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT account_number FROM customers WHERE account_number = ANY($1)")
            .bind(accounts)
            .fetch_all(conn)
            .await
            .map_err(db)?;
    Ok(rows.into_iter().collect())
}

pub(crate) fn duplicate_account(value: &str) -> StoreError {
    StoreError::Duplicate {
        field: "account_number",
        value: value.to_owned(),
    }
}

pub(crate) const UNKNOWN_UNIT: StoreError = StoreError::UnknownReference {
    field: "supply_unit_id",
    entity: "org_unit",
};

/// Inserts new customers with their children and `Created` events; returns their ids in order.
/// Checks, in input order, that every supply unit exists and every account number is free
/// (`seen` carries the account numbers of earlier chunks of the same batch).
pub(crate) async fn insert_new(
    conn: &mut PgConnection,
    records: &[CustomerRecord],
    seen: &mut HashSet<String>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let mut unit_ids: Vec<i64> = records.iter().map(|r| r.supply_unit_id.0).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let units = unit_paths(conn, unit_ids).await?;
    let accounts: Vec<&str> = records.iter().map(|r| r.account_number.as_str()).collect();
    let taken = taken_accounts(conn, accounts).await?;
    for r in records {
        if !units.contains_key(&r.supply_unit_id.0) {
            return Err(UNKNOWN_UNIT);
        }
        let account = r.account_number.as_str();
        if taken.contains(account) || !seen.insert(account.to_owned()) {
            return Err(duplicate_account(account));
        }
    }
    let ids = reserve_ids(conn, RESERVE_CUSTOMER_IDS, records.len()).await?;
    let inserted = sqlx::query(
        "INSERT INTO customers (id, account_number, name, id_kind, id_number, address, \
         supply_unit_id, supply_unit_path, grid, usage_category, voltage, \
         contract_capacity_kva, industry, business_format, scale, value_tier, service_grade, \
         status, retired_reason, version, created_at, updated_at) \
         SELECT u.*, 'active', NULL, 1, $18, $18 FROM UNNEST($1::int8[], $2::text[], \
         $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::text[], $9::text[], \
         $10::text[], $11::text[], $12::int8[], $13::text[], $14::text[], $15::text[], \
         $16::text[], $17::text[]) AS u",
    )
    .bind(&ids)
    .bind(
        records
            .iter()
            .map(|r| r.account_number.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(records.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())
    .bind(
        records
            .iter()
            .map(|r| r.id_document.as_ref().map(|d| d.kind().code()))
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.id_document.as_ref().map(|d| d.number()))
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.address.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.supply_unit_id.0)
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| units.get(&r.supply_unit_id.0).map_or("", String::as_str))
            .collect::<Vec<_>>(),
    )
    .bind(records.iter().map(|r| r.grid.code()).collect::<Vec<_>>())
    .bind(
        records
            .iter()
            .map(|r| r.usage_category.code())
            .collect::<Vec<_>>(),
    )
    .bind(records.iter().map(|r| r.voltage.code()).collect::<Vec<_>>())
    .bind(
        records
            .iter()
            .map(|r| r.contract_capacity_kva)
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.industry.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.business_format.map(|x| x.code()))
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.scale.map(|x| x.code()))
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.value_tier.map(|x| x.code()))
            .collect::<Vec<_>>(),
    )
    .bind(
        records
            .iter()
            .map(|r| r.service_grade.map(|x| x.code()))
            .collect::<Vec<_>>(),
    )
    .bind(now)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => {}
        // Another transaction took a number between our check and our insert.
        Err(e) if is_unique_violation(&e) => return Err(duplicate_account("")),
        Err(e) => return Err(db(e)),
    }
    let rows: Vec<(i64, &CustomerRecord)> = ids.iter().copied().zip(records).collect();
    insert_children(conn, &rows).await?;
    let events: Vec<NewEvent> = rows
        .iter()
        .map(|(id, _)| NewEvent {
            customer_id: *id,
            kind: CustomerEventKind::Created,
            reason: None,
            changes: Vec::new(),
            // The creation values are derived when read (`customer_snapshot`).
            snapshot: None,
        })
        .collect();
    insert_events(conn, &events, actor, now).await?;
    Ok(ids)
}
