//! Reading customers on PostgreSQL: rows first, then the phones, tags and special dates of all
//! those rows in one query each (never one query per customer).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::customer::{FieldChange, SpecialDate, window_keys};
use kefu_domain::ids::{CustomerId, StaffId};
use kefu_domain::org::OrgPath;
use kefu_store::customer_snapshot::{
    BATCH_CREATED_EVENT_ID, BatchCreation, created_from, decode_created, needs_batch_creation,
};
use kefu_store::{
    Customer, CustomerEvent, CustomerEventKind, CustomerLookup, Page, PageRequest, SpecialDateHit,
    StoreError,
};
use sqlx::PgConnection;

use crate::rows::{ChildRow, CustomerRow, SpecialDateRow, code, customer_columns};
use crate::{db, prefix_upper, scope_range};

/// Completes customer rows with their child rows — phones, tags and special dates of all the
/// rows in one statement (the screen-pop runs this on every call), keeping row order.
pub(crate) async fn complete(
    conn: &mut PgConnection,
    rows: Vec<CustomerRow>,
) -> Result<Vec<Customer>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    // `src` 0 = phone, 1 = tag, 2 = special date; tags sort by their text (ord 0 for all),
    // bytewise as on SQLite (the explicit collation of the first branch holds for the union).
    let children: Vec<ChildRow> = sqlx::query_as(
        "SELECT customer_id, 0 AS src, position AS ord, phone COLLATE \"C\" AS text, NULL::int AS month, \
         NULL::int AS day, NULL::int AS year, NULL::text AS label FROM customer_phones \
         WHERE customer_id = ANY($1) \
         UNION ALL SELECT customer_id, 1, 0, tag, NULL, NULL, NULL, NULL FROM customer_tags \
         WHERE customer_id = ANY($1) \
         UNION ALL SELECT customer_id, 2, position, kind, month, day, year, label \
         FROM customer_special_dates WHERE customer_id = ANY($1) \
         ORDER BY 1, 2, 3, 4",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut phones: HashMap<i64, Vec<String>> = HashMap::new();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    let mut dates: HashMap<i64, Vec<SpecialDate>> = HashMap::new();
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
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<Customer>, StoreError> {
    let row: Option<CustomerRow> = sqlx::query_as(concat!(
        "SELECT ",
        customer_columns!(),
        " FROM customers WHERE id = $1"
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
    conn: &mut PgConnection,
    id: CustomerId,
    scope: &OrgPath,
) -> Result<Option<Customer>, StoreError> {
    Ok(customer_by_id(conn, id.0)
        .await?
        .filter(|c| scope.contains(&c.supply_unit_path)))
}

/// A look-up query: the scope, status and page parameters come first ($1–$5), the criterion's
/// own parameters after them ($6…).
macro_rules! find_sql {
    ($criterion:literal) => {
        concat!(
            "SELECT ",
            customer_columns!(),
            " FROM customers WHERE supply_unit_path >= $1 AND supply_unit_path < $2 \
             AND ($3 OR status = 'active') AND id > $4 AND ",
            $criterion,
            " ORDER BY id LIMIT $5"
        )
    };
}

/// A look-up query with each found customer's phones, tags and special dates aggregated in
/// the same statement: the screen-pop is one round trip to the server, not two (it runs on
/// every call, under a p99 target of 5 ms).
macro_rules! find_with_children_sql {
    ($criterion:literal) => {
        concat!(
            "SELECT f.*, \
             ARRAY(SELECT phone FROM customer_phones p WHERE p.customer_id = f.id \
                   ORDER BY position, phone COLLATE \"C\") AS phones, \
             ARRAY(SELECT tag FROM customer_tags t WHERE t.customer_id = f.id \
                   ORDER BY tag COLLATE \"C\") AS tags, \
             (SELECT json_agg(json_build_array(kind, month, day, year, label) \
                     ORDER BY position, kind COLLATE \"C\")::text \
              FROM customer_special_dates d WHERE d.customer_id = f.id) AS dates \
             FROM (",
            find_sql!($criterion),
            ") f ORDER BY f.id"
        )
    };
}

/// One special date as `find_with_children_sql` aggregates it: kind, month, day, year, label.
type DateTuple = (String, i32, i32, Option<i32>, Option<String>);

/// A found customer row with its children (`find_with_children_sql`).
#[derive(sqlx::FromRow)]
struct FoundRow {
    #[sqlx(flatten)]
    customer: CustomerRow,
    phones: Vec<String>,
    tags: Vec<String>,
    /// `[[kind, month, day, year, label], …]`, none when the customer has no special date.
    dates: Option<String>,
}

impl FoundRow {
    fn into_domain(self) -> Result<Customer, StoreError> {
        let id = self.customer.id;
        let dates: Vec<DateTuple> = match &self.dates {
            Some(text) => serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
                entity: "customer",
                id: id.to_string(),
                reason: format!("special dates: {e}"),
            })?,
            None => Vec::new(),
        };
        let dates = dates
            .into_iter()
            .map(|(kind, month, day, year, label)| {
                SpecialDateRow {
                    customer_id: id,
                    kind,
                    month,
                    day,
                    year,
                    label,
                }
                .into_domain()
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.customer.into_domain(self.phones, self.tags, dates)
    }
}

pub(crate) async fn find(
    conn: &mut PgConnection,
    lookup: &CustomerLookup,
    scope: &OrgPath,
    include_retired: bool,
    page: PageRequest,
) -> Result<Page<Customer>, StoreError> {
    let (low, high) = scope_range(scope);
    let query = match lookup {
        CustomerLookup::All => sqlx::query_as::<_, FoundRow>(find_with_children_sql!("TRUE")),
        CustomerLookup::Phone(_) => sqlx::query_as(find_with_children_sql!(
            "id IN (SELECT customer_id FROM customer_phones WHERE phone = $6)"
        )),
        CustomerLookup::Account(_) => {
            sqlx::query_as(find_with_children_sql!("account_number = $6"))
        }
        CustomerLookup::IdNumber(_) => sqlx::query_as(find_with_children_sql!("id_number = $6")),
        CustomerLookup::NamePrefix(p) => match prefix_upper(p) {
            Some(_) => sqlx::query_as(find_with_children_sql!("name >= $6 AND name < $7")),
            None => sqlx::query_as(find_with_children_sql!("name >= $6")),
        },
    }
    .bind(low)
    .bind(high)
    .bind(include_retired)
    .bind(page.after_id())
    .bind(page.fetch_limit());
    let query = match lookup {
        CustomerLookup::All => query,
        CustomerLookup::Phone(p) => query.bind(p.as_str().to_owned()),
        CustomerLookup::Account(a) => query.bind(a.trim().to_owned()),
        CustomerLookup::IdNumber(n) => query.bind(n.trim().to_owned()),
        CustomerLookup::NamePrefix(p) => match prefix_upper(p) {
            Some(upper) => query.bind(p.clone()).bind(upper),
            None => query.bind(p.clone()),
        },
    };
    let rows = query.fetch_all(&mut *conn).await.map_err(db)?;
    let customers = rows
        .into_iter()
        .map(FoundRow::into_domain)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_fetched(customers, page, |c| c.id.0))
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    customer_id: i64,
    at: DateTime<Utc>,
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
    conn: &mut PgConnection,
    id: CustomerId,
    scope: &OrgPath,
    page: PageRequest,
) -> Result<Page<CustomerEvent>, StoreError> {
    let path: Option<String> =
        sqlx::query_scalar("SELECT supply_unit_path FROM customers WHERE id = $1")
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
         FROM customer_events WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(id.0)
    .bind(page.after_id())
    .bind(page.fetch_limit())
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut changes: HashMap<i64, Vec<FieldChange>> = HashMap::new();
    // Creation snapshots carry their own fields; only other events have change rows.
    let event_ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.snapshot.is_none())
        .map(|r| r.id)
        .collect();
    if !event_ids.is_empty() {
        let change_rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT event_id, field, old_value, new_value FROM customer_event_changes \
             WHERE event_id = ANY($1) ORDER BY event_id, position",
        )
        .bind(&event_ids)
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
                at: r.at,
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
    at: DateTime<Utc>,
    staff_id: Option<i64>,
    actor: String,
}

/// The initial-load batch that stored customer `id`, if one did.
async fn batch_creation(
    conn: &mut PgConnection,
    id: CustomerId,
) -> Result<Option<BatchCreation>, StoreError> {
    // The batch starting last at or before the id, if its range reaches the id: one probe.
    let row: Option<BatchCreationRow> = sqlx::query_as(
        "SELECT at, staff_id, actor FROM (SELECT * FROM customer_batch_creations \
         WHERE first_customer_id <= $1 ORDER BY first_customer_id DESC LIMIT 1) b \
         WHERE last_customer_id >= $1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    Ok(row.map(|r| BatchCreation {
        at: r.at,
        staff_id: r.staff_id.map(StaffId),
        actor: r.actor,
    }))
}

/// The values a customer was created with: its record now, with the changes of every event
/// after `created` undone (`customer_snapshot::created_from`).
async fn creation_changes(
    conn: &mut PgConnection,
    id: CustomerId,
    created: i64,
) -> Result<Vec<FieldChange>, StoreError> {
    let current = customer_by_id(conn, id.0)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    let later: Vec<ChangeRow> = sqlx::query_as(
        "SELECT c.event_id, c.field, c.old_value, c.new_value \
         FROM customer_events e JOIN customer_event_changes c ON c.event_id = e.id \
         WHERE e.customer_id = $1 AND e.id > $2 ORDER BY c.event_id, c.position",
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
    ord: i32,
    #[sqlx(flatten)]
    date: SpecialDateRow,
}

pub(crate) async fn special_dates(
    conn: &mut PgConnection,
    scope: &OrgPath,
    from: NaiveDate,
    days: u32,
    limit: u32,
) -> Result<Vec<SpecialDateHit>, StoreError> {
    let keys = window_keys(from, days);
    if keys.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // Each key carries the day it falls on, counted from `from`, so the database orders the
    // hits by that day, then customer, and stops at `limit`.
    let mut ords = Vec::with_capacity(keys.len());
    let mut months = Vec::with_capacity(keys.len());
    let mut days_of_month = Vec::with_capacity(keys.len());
    for ((m, d), on) in &keys {
        ords.push(i32::try_from((*on - from).num_days()).unwrap_or(i32::MAX));
        months.push(i32::try_from(*m).unwrap_or(0));
        days_of_month.push(i32::try_from(*d).unwrap_or(0));
    }
    let (low, high) = scope_range(scope);
    let rows: Vec<DateHitRow> = sqlx::query_as(
        "SELECT k.ord, sd.customer_id, sd.kind, sd.month, sd.day, sd.year, sd.label \
         FROM unnest($1::int4[], $2::int4[], $3::int4[]) AS k(ord, m, d) \
         JOIN customer_special_dates sd ON sd.month = k.m AND sd.day = k.d \
         JOIN customers c ON c.id = sd.customer_id \
         WHERE c.status = 'active' AND c.supply_unit_path >= $4 AND c.supply_unit_path < $5 \
         ORDER BY k.ord, sd.customer_id, sd.position LIMIT $6",
    )
    .bind(ords)
    .bind(months)
    .bind(days_of_month)
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
        " FROM customers WHERE id = ANY($1) ORDER BY id"
    ))
    .bind(&ids)
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
