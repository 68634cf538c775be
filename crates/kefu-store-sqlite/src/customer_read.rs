//! Reading customers on SQLite: rows first, then the phones, tags and special dates of all those
//! rows in one query each (never one query per customer).

use std::collections::HashMap;

use chrono::NaiveDate;
use kefu_domain::customer::{FieldChange, window_keys};
use kefu_domain::ids::{CustomerId, StaffId};
use kefu_domain::org::OrgPath;
use kefu_store::customer_snapshot::{
    BATCH_CREATED_EVENT_ID, BatchCreation, created_from, decode_created, needs_batch_creation,
};
use kefu_store::{
    Customer, CustomerEvent, CustomerEventKind, CustomerLookup, Page, PageRequest, SpecialDateHit,
    StoreError,
};
use sqlx::SqliteConnection;

use crate::rows::{ChildRow, CustomerRow, SpecialDateRow, code, customer_columns};
use crate::{db, from_ms, prefix_upper, scope_range};

/// A JSON array of ids, for `json_each(?)` (one bound parameter, any number of ids).
pub(crate) fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let parts: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    format!("[{}]", parts.join(","))
}

/// Completes customer rows with their child rows — phones, tags and special dates of all the
/// rows in one statement (every statement is a round trip to the connection's thread, and the
/// screen-pop runs this on every call), keeping row order.
pub(crate) async fn complete(
    conn: &mut SqliteConnection,
    rows: Vec<CustomerRow>,
) -> Result<Vec<Customer>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids = id_list(rows.iter().map(|r| r.id));
    // `src` 0 = phone, 1 = tag, 2 = special date; tags sort by their text (ord 0 for all).
    let children: Vec<ChildRow> = sqlx::query_as(
        "SELECT customer_id, 0 AS src, position AS ord, phone AS text, NULL AS month, \
         NULL AS day, NULL AS year, NULL AS label FROM customer_phones \
         WHERE customer_id IN (SELECT value FROM json_each(?1)) \
         UNION ALL SELECT customer_id, 1, 0, tag, NULL, NULL, NULL, NULL FROM customer_tags \
         WHERE customer_id IN (SELECT value FROM json_each(?1)) \
         UNION ALL SELECT customer_id, 2, position, kind, month, day, year, label \
         FROM customer_special_dates WHERE customer_id IN (SELECT value FROM json_each(?1)) \
         ORDER BY 1, 2, 3, 4",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut phones: HashMap<i64, Vec<String>> = HashMap::new();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    let mut dates: HashMap<i64, Vec<kefu_domain::customer::SpecialDate>> = HashMap::new();
    for c in children {
        let id = c.customer_id;
        match c.src {
            0 => phones.entry(id).or_default().push(c.text),
            1 => tags.entry(id).or_default().push(c.text),
            _ => dates.entry(id).or_default().push(c.into_special_date()?),
        }
    }
    rows.into_iter()
        .map(|r| {
            let id = r.id;
            r.into_domain(
                phones.remove(&id).unwrap_or_default(),
                tags.remove(&id).unwrap_or_default(),
                dates.remove(&id).unwrap_or_default(),
            )
        })
        .collect()
}

/// One customer by id, whatever its scope (callers check the scope).
pub(crate) async fn customer_by_id(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Customer>, StoreError> {
    let row: Option<CustomerRow> = sqlx::query_as(concat!(
        "SELECT ",
        customer_columns!(),
        " FROM customers WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    match row {
        Some(r) => Ok(complete(conn, vec![r]).await?.pop()),
        None => Ok(None),
    }
}

/// One customer by id, only inside `scope`.
pub(crate) async fn customer_in_scope(
    conn: &mut SqliteConnection,
    id: CustomerId,
    scope: &OrgPath,
) -> Result<Option<Customer>, StoreError> {
    Ok(customer_by_id(conn, id.0)
        .await?
        .filter(|c| scope.contains(&c.supply_unit_path)))
}

/// A look-up query. `$from` may pin an index: SQLite would otherwise walk the primary key for
/// `ORDER BY id LIMIT n` and filter, which is a full scan when the criterion is rare.
macro_rules! find_sql {
    ($criterion:literal) => {
        find_sql!("customers", $criterion)
    };
    ($from:literal, $criterion:literal) => {
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM ",
            $from,
            " WHERE ",
            $criterion,
            " AND supply_unit_path >= ? AND supply_unit_path < ? \
             AND (? OR status = 'active') AND id > ? ORDER BY id LIMIT ?"
        )
    };
}

pub(crate) async fn find(
    conn: &mut SqliteConnection,
    lookup: &CustomerLookup,
    scope: &OrgPath,
    include_retired: bool,
    page: PageRequest,
) -> Result<Page<Customer>, StoreError> {
    let (low, high) = scope_range(scope);
    let query = match lookup {
        CustomerLookup::All => sqlx::query_as::<_, CustomerRow>(find_sql!("1 = 1")),
        CustomerLookup::Phone(p) => sqlx::query_as(find_sql!(
            "id IN (SELECT customer_id FROM customer_phones WHERE phone = ?)"
        ))
        .bind(p.as_str().to_owned()),
        CustomerLookup::Account(a) => {
            sqlx::query_as(find_sql!("account_number = ?")).bind(a.trim().to_owned())
        }
        CustomerLookup::IdNumber(n) => {
            sqlx::query_as(find_sql!("id_number = ?")).bind(n.trim().to_owned())
        }
        CustomerLookup::NamePrefix(p) => match prefix_upper(p) {
            Some(upper) => sqlx::query_as(find_sql!(
                "customers INDEXED BY customers_name",
                "name >= ? AND name < ?"
            ))
            .bind(p.clone())
            .bind(upper),
            None => sqlx::query_as(find_sql!(
                "customers INDEXED BY customers_name",
                "name >= ?"
            ))
            .bind(p.clone()),
        },
    };
    let rows = query
        .bind(low)
        .bind(high)
        .bind(include_retired)
        .bind(page.after_id())
        .bind(page.fetch_limit())
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let customers = complete(conn, rows).await?;
    Ok(Page::from_fetched(customers, page, |c| c.id.0))
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    customer_id: i64,
    at: i64,
    staff_id: Option<i64>,
    actor: String,
    kind: String,
    reason: Option<String>,
    snapshot: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    event_id: i64,
    field: String,
    old_value: String,
    new_value: String,
}

pub(crate) async fn history(
    conn: &mut SqliteConnection,
    id: CustomerId,
    scope: &OrgPath,
    page: PageRequest,
) -> Result<Page<CustomerEvent>, StoreError> {
    let path: Option<String> =
        sqlx::query_scalar("SELECT supply_unit_path FROM customers WHERE id = ?")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
    let in_scope = path
        .and_then(|p| OrgPath::from_stored(&p))
        .is_some_and(|p| scope.contains(&p));
    if !in_scope {
        return Err(StoreError::NotFound { entity: "customer" });
    }
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, customer_id, at, staff_id, actor, kind, reason, snapshot \
         FROM customer_events WHERE customer_id = ? AND id > ? ORDER BY id LIMIT ?",
    )
    .bind(id.0)
    .bind(page.after_id())
    .bind(page.fetch_limit())
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut changes: HashMap<i64, Vec<FieldChange>> = HashMap::new();
    // Creation snapshots carry their own fields; only other events have change rows.
    let with_rows: Vec<i64> = rows
        .iter()
        .filter(|r| r.snapshot.is_none())
        .map(|r| r.id)
        .collect();
    if !with_rows.is_empty() {
        let change_rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT event_id, field, old_value, new_value FROM customer_event_changes \
             WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY event_id, position",
        )
        .bind(id_list(with_rows))
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        for c in change_rows {
            changes.entry(c.event_id).or_default().push(FieldChange {
                field: c.field,
                old: c.old_value,
                new: c.new_value,
            });
        }
    }
    let events = rows
        .into_iter()
        .map(|r| {
            Ok(CustomerEvent {
                id: r.id,
                customer_id: CustomerId(r.customer_id),
                at: from_ms("customer_event", r.id, r.at)?,
                staff_id: r.staff_id.map(StaffId),
                actor: r.actor,
                kind: code(
                    "customer_event",
                    r.id,
                    "kind",
                    &r.kind,
                    CustomerEventKind::from_code,
                )?,
                changes: match &r.snapshot {
                    Some(text) => decode_created(r.id, text)?,
                    None => changes.remove(&r.id).unwrap_or_default(),
                },
                reason: r.reason,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut events = events;
    // A creation event without snapshot or change rows (the form written since the
    // snapshot was dropped) gets its values from the record and the later changes.
    if let Some(created) = events
        .iter_mut()
        .find(|e| e.kind == CustomerEventKind::Created && e.changes.is_empty())
    {
        created.changes = creation_changes(conn, id, created.id).await?;
    }
    if needs_batch_creation(page.after.is_none(), &events)
        && let Some(batch) = batch_creation(conn, id).await?
    {
        let changes = creation_changes(conn, id, BATCH_CREATED_EVENT_ID).await?;
        events.insert(0, batch.event(id, changes));
    }
    Ok(Page::from_fetched(events, page, |e| e.id))
}

#[derive(sqlx::FromRow)]
struct BatchCreationRow {
    first_customer_id: i64,
    at: i64,
    staff_id: Option<i64>,
    actor: String,
}

/// The initial-load batch that stored customer `id`, if one did.
async fn batch_creation(
    conn: &mut SqliteConnection,
    id: CustomerId,
) -> Result<Option<BatchCreation>, StoreError> {
    // The batch starting last at or before the id, if its range reaches the id: one probe.
    let row: Option<BatchCreationRow> = sqlx::query_as(
        "SELECT first_customer_id, at, staff_id, actor FROM (SELECT * FROM \
         customer_batch_creations WHERE first_customer_id <= ?1 \
         ORDER BY first_customer_id DESC LIMIT 1) WHERE last_customer_id >= ?1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    row.map(|r| {
        Ok(BatchCreation {
            at: from_ms("customer_batch_creation", r.first_customer_id, r.at)?,
            staff_id: r.staff_id.map(StaffId),
            actor: r.actor,
        })
    })
    .transpose()
}

/// The values a customer was created with: its record now, with the changes of every event
/// after `created` undone (`customer_snapshot::created_from`).
async fn creation_changes(
    conn: &mut SqliteConnection,
    id: CustomerId,
    created: i64,
) -> Result<Vec<FieldChange>, StoreError> {
    let current = customer_by_id(conn, id.0)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    let later: Vec<ChangeRow> = sqlx::query_as(
        "SELECT c.event_id, c.field, c.old_value, c.new_value \
         FROM customer_events e JOIN customer_event_changes c ON c.event_id = e.id \
         WHERE e.customer_id = ? AND e.id > ? ORDER BY c.event_id, c.position",
    )
    .bind(id.0)
    .bind(created)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let later: Vec<FieldChange> = later
        .into_iter()
        .map(|c| FieldChange {
            field: c.field,
            old: c.old_value,
            new: c.new_value,
        })
        .collect();
    Ok(created_from(&current.record, &later))
}

#[derive(sqlx::FromRow)]
struct DateHitRow {
    ord: i64,
    #[sqlx(flatten)]
    date: SpecialDateRow,
}

pub(crate) async fn special_dates(
    conn: &mut SqliteConnection,
    scope: &OrgPath,
    from: NaiveDate,
    days: u32,
    limit: u32,
) -> Result<Vec<SpecialDateHit>, StoreError> {
    let keys = window_keys(from, days);
    if keys.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // Each key is encoded as offset * 10000 + month * 100 + day, where offset is the day it falls
    // on counted from `from`, so the database orders the hits by that day, then customer, and
    // stops at `limit`.
    let encoded = id_list(keys.iter().map(|((m, d), on)| {
        (*on - from).num_days() * 10_000 + i64::from(*m) * 100 + i64::from(*d)
    }));
    let (low, high) = scope_range(scope);
    let rows: Vec<DateHitRow> = sqlx::query_as(
        "SELECT k.ord, sd.customer_id, sd.kind, sd.month, sd.day, sd.year, sd.label \
         FROM (SELECT value / 10000 AS ord, (value / 100) % 100 AS m, value % 100 AS d \
               FROM json_each(?)) k \
         JOIN customer_special_dates sd ON sd.month = k.m AND sd.day = k.d \
         JOIN customers c ON c.id = sd.customer_id \
         WHERE c.status = 'active' AND c.supply_unit_path >= ? AND c.supply_unit_path < ? \
         ORDER BY k.ord, sd.customer_id, sd.position LIMIT ?",
    )
    .bind(encoded)
    .bind(low)
    .bind(high)
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.date.customer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let customer_rows: Vec<CustomerRow> = sqlx::query_as(concat!(
        "SELECT ",
        customer_columns!(),
        " FROM customers WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id"
    ))
    .bind(id_list(ids))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let customers: HashMap<i64, Customer> = complete(conn, customer_rows)
        .await?
        .into_iter()
        .map(|c| (c.id.0, c))
        .collect();
    rows.into_iter()
        .filter_map(|r| {
            let on = from.checked_add_days(chrono::Days::new(u64::try_from(r.ord).ok()?))?;
            let customer = customers.get(&r.date.customer_id)?.clone();
            Some(r.date.into_domain().map(|special_date| SpecialDateHit {
                customer,
                special_date,
                on,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn plan(sql: &'static str) -> String {
        let store = crate::testing::fresh_store().await;
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(store.pool())
                .await
                .expect("explain");
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
    }

    #[tokio::test]
    async fn phone_lookup_probes_the_phone_index() {
        let plan = plan(find_sql!(
            "id IN (SELECT customer_id FROM customer_phones WHERE phone = ?)"
        ))
        .await;
        assert!(plan.contains("customer_phones_phone"), "{plan}");
        assert!(!plan.contains("SCAN"), "{plan}");
    }

    #[tokio::test]
    async fn name_prefix_uses_the_name_index() {
        let plan = plan(find_sql!(
            "customers INDEXED BY customers_name",
            "name >= ? AND name < ?"
        ))
        .await;
        assert!(plan.contains("customers_name"), "{plan}");
    }
}
