//! Writing new customer rows on SQLite: multi-row `INSERT`s of customers, their phones, tags,
//! special dates and history events, with ids handed out as `MAX(id) + 1` (the caller's
//! `BEGIN IMMEDIATE` transaction holds the write lock).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerRecord, CustomerStatus, FieldChange};
use kefu_store::{Actor, CustomerEventKind, StoreError};
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::customer_read::id_list;
use crate::{db, is_unique_violation, ms};

/// Bound parameters per multi-row INSERT (SQLite allows 32 766).
pub(crate) const MAX_PARAMS: usize = 16_000;

/// Multi-row `VALUES` inserts of `rows`, as few statements as the parameter limit allows;
/// built apart from running them, so a bulk load builds one batch while another runs.
fn insert_statements<T>(
    head: &'static str,
    columns: usize,
    rows: &[T],
    push: impl Fn(&mut Separated<'_, Sqlite, &'static str>, &T),
) -> Vec<QueryBuilder<Sqlite>> {
    let per = (MAX_PARAMS / columns).max(1);
    rows.chunks(per)
        .map(|chunk| {
            let mut qb = QueryBuilder::<Sqlite>::new(head);
            qb.push_values(chunk, |mut b, row| push(&mut b, row));
            qb
        })
        .collect()
}

/// Inserts `rows` with multi-row `VALUES` lists, as few statements as the parameter limit allows.
pub(crate) async fn bulk_insert<T>(
    conn: &mut SqliteConnection,
    head: &'static str,
    columns: usize,
    rows: &[T],
    push: impl Fn(&mut Separated<'_, Sqlite, &'static str>, &T),
) -> Result<(), sqlx::Error> {
    for mut qb in insert_statements(head, columns, rows, push) {
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Runs statements in order; a unique violation (an account number taken meanwhile) is
/// `Duplicate`.
async fn run_statements(
    conn: &mut SqliteConnection,
    statements: Vec<QueryBuilder<Sqlite>>,
) -> Result<(), StoreError> {
    for mut qb in statements {
        match qb.build().execute(&mut *conn).await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    field: "account_number",
                    value: String::new(),
                });
            }
            Err(e) => return Err(db(e)),
        }
    }
    Ok(())
}

/// The next free id of a table (the caller holds the write lock).
pub(crate) async fn next_customer_id(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM customers")
        .fetch_one(conn)
        .await
        .map_err(db)?;
    Ok(max + 1)
}

pub(crate) async fn next_event_id(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM customer_events")
        .fetch_one(conn)
        .await
        .map_err(db)?;
    Ok(max + 1)
}

/// A customer history event about to be written.
pub(crate) struct NewEvent {
    pub(crate) id: i64,
    pub(crate) customer_id: i64,
    pub(crate) kind: CustomerEventKind,
    pub(crate) reason: Option<String>,
    pub(crate) changes: Vec<FieldChange>,
    /// A `Created` event's fields as one text (`kefu_store::customer_snapshot`), instead of
    /// change rows.
    pub(crate) snapshot: Option<String>,
}

pub(crate) async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[NewEvent],
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let staff_id = actor.staff_id().map(|s| s.0);
    let label = actor.label();
    let at = ms(at);
    bulk_insert(
        conn,
        "INSERT INTO customer_events \
         (id, customer_id, at, staff_id, actor, kind, reason, snapshot) ",
        8,
        events,
        |b, e| {
            b.push_bind(e.id)
                .push_bind(e.customer_id)
                .push_bind(at)
                .push_bind(staff_id)
                .push_bind(label.clone())
                .push_bind(e.kind.code())
                .push_bind(e.reason.clone())
                .push_bind(e.snapshot.clone());
        },
    )
    .await
    .map_err(db)?;
    let changes: Vec<(i64, i64, &FieldChange)> = events
        .iter()
        .flat_map(|e| {
            e.changes
                .iter()
                .zip(0_i64..)
                .map(move |(c, pos)| (e.id, pos, c))
        })
        .collect();
    bulk_insert(
        conn,
        "INSERT INTO customer_event_changes (event_id, position, field, old_value, new_value) ",
        5,
        &changes,
        |b, (event, pos, c)| {
            b.push_bind(*event)
                .push_bind(*pos)
                .push_bind(c.field.clone())
                .push_bind(c.old.clone())
                .push_bind(c.new.clone());
        },
    )
    .await
    .map_err(db)
}

/// Writes the phones, tags and special dates of the given customers.
pub(crate) async fn insert_children(
    conn: &mut SqliteConnection,
    customers: &[(i64, &CustomerRecord)],
) -> Result<(), StoreError> {
    for mut qb in children_statements(customers) {
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

/// The inserts of the phones, tags and special dates of the given customers.
fn children_statements(customers: &[(i64, &CustomerRecord)]) -> Vec<QueryBuilder<Sqlite>> {
    let phones: Vec<(i64, i64, &str)> = customers
        .iter()
        .flat_map(|(id, r)| {
            r.phones
                .iter()
                .zip(0_i64..)
                .map(|(p, i)| (*id, i, p.as_str()))
        })
        .collect();
    let mut statements = insert_statements(
        "INSERT INTO customer_phones (customer_id, position, phone) ",
        3,
        &phones,
        |b, (id, pos, phone)| {
            b.push_bind(*id)
                .push_bind(*pos)
                .push_bind(phone.to_string());
        },
    );
    let tags: Vec<(i64, &str)> = customers
        .iter()
        .flat_map(|(id, r)| r.tags.iter().map(|t| (*id, t.as_str())))
        .collect();
    statements.extend(insert_statements(
        "INSERT INTO customer_tags (customer_id, tag) ",
        2,
        &tags,
        |b, (id, tag)| {
            b.push_bind(*id).push_bind(tag.to_string());
        },
    ));
    let dates: Vec<(i64, i64, &kefu_domain::customer::SpecialDate)> = customers
        .iter()
        .flat_map(|(id, r)| {
            r.special_dates
                .iter()
                .zip(0_i64..)
                .map(|(d, i)| (*id, i, d))
        })
        .collect();
    statements.extend(insert_statements(
        "INSERT INTO customer_special_dates (customer_id, position, kind, month, day, year, label) ",
        7,
        &dates,
        |b, (id, pos, d)| {
            b.push_bind(*id)
                .push_bind(*pos)
                .push_bind(d.kind.code())
                .push_bind(i64::from(d.month))
                .push_bind(i64::from(d.day))
                .push_bind(d.year.map(i64::from))
                .push_bind(d.label.clone());
        },
    ));
    statements
}

pub(crate) async fn delete_children(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM customer_phones WHERE customer_id = ?",
        "DELETE FROM customer_tags WHERE customer_id = ?",
        "DELETE FROM customer_special_dates WHERE customer_id = ?",
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
    conn: &mut SqliteConnection,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, path FROM org_units WHERE id IN (SELECT value FROM json_each(?))",
    )
    .bind(id_list(ids))
    .fetch_all(conn)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().collect())
}

/// Which of `accounts` are already taken (one query per chunk).
pub(crate) async fn taken_accounts(
    conn: &mut SqliteConnection,
    accounts: &[&str],
) -> Result<HashSet<String>, StoreError> {
    let mut taken = HashSet::new();
    for chunk in accounts.chunks(5_000) {
        let list = format!(
            "[{}]",
            chunk
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT account_number FROM customers \
             WHERE account_number IN (SELECT value FROM json_each(?))",
        )
        .bind(list)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        taken.extend(rows);
    }
    Ok(taken)
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
/// Checks, in input order, that every supply unit exists and every account number is free.
pub(crate) async fn insert_new(
    conn: &mut SqliteConnection,
    records: &[CustomerRecord],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let mut unit_ids: Vec<i64> = records.iter().map(|r| r.supply_unit_id.0).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let units = unit_paths(conn, unit_ids).await?;
    let accounts: Vec<&str> = records.iter().map(|r| r.account_number.as_str()).collect();
    let taken = taken_accounts(conn, &accounts).await?;
    let mut seen = HashSet::with_capacity(records.len());
    for r in records {
        if !units.contains_key(&r.supply_unit_id.0) {
            return Err(UNKNOWN_UNIT);
        }
        let account = r.account_number.as_str();
        if taken.contains(account) || !seen.insert(account) {
            return Err(duplicate_account(account));
        }
    }
    let records: Vec<&CustomerRecord> = records.iter().collect();
    insert_unchecked(conn, &records, &units, actor, now).await
}

/// Inserts new customers whose supply units are in `units` and whose account numbers the
/// caller has found free (a taken one still fails on the unique index: `Duplicate`).
pub(crate) async fn insert_unchecked(
    conn: &mut SqliteConnection,
    records: &[&CustomerRecord],
    units: &HashMap<i64, String>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let first = next_customer_id(conn).await?;
    let first_event = next_event_id(conn).await?;
    let statements = new_customer_statements(records, units, actor, now, first, first_event);
    run_statements(conn, statements).await?;
    Ok((first..).take(records.len()).collect())
}

/// The statements that store new customers with ids from `first` on, their phones, tags and
/// special dates, and their `Created` events with ids from `first_event` on (the caller
/// knows both ranges are free). Unit paths come from `units`.
fn new_customer_statements(
    records: &[&CustomerRecord],
    units: &HashMap<i64, String>,
    actor: &Actor,
    now: DateTime<Utc>,
    first: i64,
    first_event: i64,
) -> Vec<QueryBuilder<Sqlite>> {
    if records.is_empty() {
        return Vec::new();
    }
    let at = ms(now);
    let rows: Vec<(i64, &CustomerRecord)> = (first..).zip(records.iter().copied()).collect();
    let mut statements = insert_statements(
        concat!(
            "INSERT INTO customers (",
            crate::rows::customer_columns!(),
            ") "
        ),
        22,
        &rows,
        |b, (id, r)| {
            let doc = r.id_document.as_ref();
            b.push_bind(*id)
                .push_bind(r.account_number.as_str().to_owned())
                .push_bind(r.name.as_str().to_owned())
                .push_bind(doc.map(|d| d.kind().code()))
                .push_bind(doc.map(|d| d.number().to_owned()))
                .push_bind(r.address.clone())
                .push_bind(r.supply_unit_id.0)
                .push_bind(units.get(&r.supply_unit_id.0).cloned().unwrap_or_default())
                .push_bind(r.grid.code())
                .push_bind(r.usage_category.code())
                .push_bind(r.voltage.code())
                .push_bind(r.contract_capacity_kva)
                .push_bind(r.industry.clone())
                .push_bind(r.business_format.map(|x| x.code()))
                .push_bind(r.scale.map(|x| x.code()))
                .push_bind(r.value_tier.map(|x| x.code()))
                .push_bind(r.service_grade.map(|x| x.code()))
                .push_bind(CustomerStatus::Active.code())
                .push_bind(None::<String>)
                .push_bind(1_i64)
                .push_bind(at)
                .push_bind(at);
        },
    );
    statements.extend(children_statements(&rows));
    // One `Created` event per customer, in customer order: consecutive ids on both sides, so
    // one statement counts them out instead of binding eight values per event. The creation
    // values are derived when read (`kefu_store::customer_snapshot`).
    let mut events = QueryBuilder::<Sqlite>::new(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ",
    );
    events
        .push_bind(rows.len() as i64)
        .push(") INSERT INTO customer_events (id, customer_id, at, staff_id, actor, kind) SELECT ")
        .push_bind(first_event)
        .push(" + i, ")
        .push_bind(first)
        .push(" + i, ")
        .push_bind(at)
        .push(", ")
        .push_bind(actor.staff_id().map(|s| s.0))
        .push(", ")
        .push_bind(actor.label())
        .push(", ")
        .push_bind(CustomerEventKind::Created.code())
        .push(" FROM n");
    statements.push(events);
    statements
}
