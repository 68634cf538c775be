//! Writing customers on SQLite. Every write holds the write lock from its first statement
//! (`BEGIN IMMEDIATE`), so existence, duplicate and version checks made inside the transaction
//! stay true until it commits, and new ids can be handed out as `MAX(id) + 1`.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::customer::{CustomerRecord, CustomerStatus, FieldChange, diff};
use kefu_domain::ids::CustomerId;
use kefu_domain::org::OrgPath;
use kefu_store::{
    Actor, Customer, CustomerEvent, CustomerEventKind, CustomerLookup, CustomerStore, Page,
    PageRequest, SpecialDateHit, StoreError,
};
use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::audit::append_in;
use crate::customer_read::{self, customer_by_id, customer_in_scope, id_list};
use crate::{SqliteStore, db, is_unique_violation, ms};

/// Bound parameters per multi-row INSERT (SQLite allows 32 766).
const MAX_PARAMS: usize = 16_000;

/// Inserts `rows` with multi-row `VALUES` lists, as few statements as the parameter limit allows.
async fn bulk_insert<T>(
    conn: &mut SqliteConnection,
    head: &'static str,
    columns: usize,
    rows: &[T],
    push: impl Fn(&mut Separated<'_, Sqlite, &'static str>, &T),
) -> Result<(), sqlx::Error> {
    let per = (MAX_PARAMS / columns).max(1);
    for chunk in rows.chunks(per) {
        let mut qb = QueryBuilder::<Sqlite>::new(head);
        qb.push_values(chunk, |mut b, row| push(&mut b, row));
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The next free id of a table (the caller holds the write lock).
async fn next_customer_id(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM customers")
        .fetch_one(conn)
        .await
        .map_err(db)?;
    Ok(max + 1)
}

async fn next_event_id(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM customer_events")
        .fetch_one(conn)
        .await
        .map_err(db)?;
    Ok(max + 1)
}

/// A customer history event about to be written.
struct NewEvent {
    id: i64,
    customer_id: i64,
    kind: CustomerEventKind,
    reason: Option<String>,
    changes: Vec<FieldChange>,
}

async fn insert_events(
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
        "INSERT INTO customer_events (id, customer_id, at, staff_id, actor, kind, reason) ",
        7,
        events,
        |b, e| {
            b.push_bind(e.id)
                .push_bind(e.customer_id)
                .push_bind(at)
                .push_bind(staff_id)
                .push_bind(label.clone())
                .push_bind(e.kind.code())
                .push_bind(e.reason.clone());
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
async fn insert_children(
    conn: &mut SqliteConnection,
    customers: &[(i64, &CustomerRecord)],
) -> Result<(), StoreError> {
    let phones: Vec<(i64, i64, &str)> = customers
        .iter()
        .flat_map(|(id, r)| {
            r.phones
                .iter()
                .zip(0_i64..)
                .map(|(p, i)| (*id, i, p.as_str()))
        })
        .collect();
    bulk_insert(
        conn,
        "INSERT INTO customer_phones (customer_id, position, phone) ",
        3,
        &phones,
        |b, (id, pos, phone)| {
            b.push_bind(*id)
                .push_bind(*pos)
                .push_bind(phone.to_string());
        },
    )
    .await
    .map_err(db)?;
    let tags: Vec<(i64, &str)> = customers
        .iter()
        .flat_map(|(id, r)| r.tags.iter().map(|t| (*id, t.as_str())))
        .collect();
    bulk_insert(
        conn,
        "INSERT INTO customer_tags (customer_id, tag) ",
        2,
        &tags,
        |b, (id, tag)| {
            b.push_bind(*id).push_bind(tag.to_string());
        },
    )
    .await
    .map_err(db)?;
    let dates: Vec<(i64, i64, &kefu_domain::customer::SpecialDate)> = customers
        .iter()
        .flat_map(|(id, r)| {
            r.special_dates
                .iter()
                .zip(0_i64..)
                .map(|(d, i)| (*id, i, d))
        })
        .collect();
    bulk_insert(
        conn,
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
    )
    .await
    .map_err(db)
}

async fn delete_children(conn: &mut SqliteConnection, id: i64) -> Result<(), StoreError> {
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

/// The `Created` event's changes: every non-empty field, from "".
fn created_changes(record: &CustomerRecord) -> Vec<FieldChange> {
    record
        .field_texts()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(field, new)| FieldChange {
            field: field.to_owned(),
            old: String::new(),
            new,
        })
        .collect()
}

/// Paths of the given units that exist (one query).
async fn unit_paths(
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
async fn taken_accounts(
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

fn duplicate_account(value: &str) -> StoreError {
    StoreError::Duplicate {
        field: "account_number",
        value: value.to_owned(),
    }
}

const UNKNOWN_UNIT: StoreError = StoreError::UnknownReference {
    field: "supply_unit_id",
    entity: "org_unit",
};

/// Inserts new customers with their children and `Created` events; returns their ids in order.
/// Checks, in input order, that every supply unit exists and every account number is free.
async fn insert_new(
    conn: &mut SqliteConnection,
    records: &[CustomerRecord],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let units = unit_paths(conn, records.iter().map(|r| r.supply_unit_id.0)).await?;
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
    let first = next_customer_id(conn).await?;
    let ids: Vec<i64> = (first..).take(records.len()).collect();
    let at = ms(now);
    let rows: Vec<(i64, &CustomerRecord)> = ids.iter().copied().zip(records).collect();
    let inserted = bulk_insert(
        conn,
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
    )
    .await;
    match inserted {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Duplicate {
                field: "account_number",
                value: String::new(),
            });
        }
        Err(e) => return Err(db(e)),
    }
    insert_children(conn, &rows).await?;
    let first_event = next_event_id(conn).await?;
    let events: Vec<NewEvent> = rows
        .iter()
        .zip(first_event..)
        .map(|((id, r), event_id)| NewEvent {
            id: event_id,
            customer_id: *id,
            kind: CustomerEventKind::Created,
            reason: None,
            changes: created_changes(r),
        })
        .collect();
    insert_events(conn, &events, actor, now).await?;
    Ok(ids)
}

/// Loads a customer for a change: in scope, at the expected version.
async fn load_for_change(
    conn: &mut SqliteConnection,
    id: CustomerId,
    expected_version: i64,
    scope: &OrgPath,
) -> Result<Customer, StoreError> {
    let current = customer_in_scope(conn, id, scope)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    if current.version != expected_version {
        return Err(StoreError::VersionConflict {
            entity: "customer",
            current: current.version,
        });
    }
    Ok(current)
}

async fn reload(conn: &mut SqliteConnection, id: i64) -> Result<Customer, StoreError> {
    customer_by_id(conn, id)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })
}

#[async_trait]
impl CustomerStore for SqliteStore {
    async fn create_customer(
        &self,
        record: CustomerRecord,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.write_tx().await?;
        let records = [record];
        let ids = insert_new(&mut tx, &records, actor, now).await?;
        let id = ids.first().copied().unwrap_or_default();
        append_in(
            &mut tx,
            actor,
            now,
            "customer.create",
            &format!("customer:{id}"),
            records[0].account_number.as_str(),
        )
        .await?;
        let created = reload(&mut tx, id).await?;
        tx.commit().await.map_err(db)?;
        Ok(created)
    }

    async fn create_customers(
        &self,
        records: Vec<CustomerRecord>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerId>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let ids = insert_new(&mut tx, &records, actor, now).await?;
        let (first, last) = (ids.first().copied(), ids.last().copied());
        append_in(
            &mut tx,
            actor,
            now,
            "customer.create_batch",
            "customer:*",
            &format!(
                "{} customers, ids {}..={}",
                ids.len(),
                first.unwrap_or_default(),
                last.unwrap_or_default()
            ),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(ids.into_iter().map(CustomerId).collect())
    }

    async fn get_customer(
        &self,
        id: CustomerId,
        scope: &OrgPath,
    ) -> Result<Option<Customer>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        customer_in_scope(&mut conn, id, scope).await
    }

    async fn update_customer(
        &self,
        id: CustomerId,
        expected_version: i64,
        record: CustomerRecord,
        scope: &OrgPath,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.write_tx().await?;
        let current = load_for_change(&mut tx, id, expected_version, scope).await?;
        if current.status == CustomerStatus::Retired {
            return Err(StoreError::InvalidState(format!(
                "customer {id} is retired; reinstate it before editing"
            )));
        }
        let changes = diff(&current.record, &record);
        if changes.is_empty() {
            return Ok(current);
        }
        let mut path = current.supply_unit_path.as_str().to_owned();
        if record.supply_unit_id != current.record.supply_unit_id {
            let units = unit_paths(&mut tx, [record.supply_unit_id.0]).await?;
            // A unit outside the caller's scope is as unknown to them as a missing one.
            path = units
                .get(&record.supply_unit_id.0)
                .filter(|p| OrgPath::from_stored(p).is_some_and(|p| scope.contains(&p)))
                .cloned()
                .ok_or(UNKNOWN_UNIT)?;
        }
        if record.account_number != current.record.account_number {
            let taken = taken_accounts(&mut tx, &[record.account_number.as_str()]).await?;
            if !taken.is_empty() {
                return Err(duplicate_account(record.account_number.as_str()));
            }
        }
        let doc = record.id_document.as_ref();
        sqlx::query(
            "UPDATE customers SET account_number = ?, name = ?, id_kind = ?, id_number = ?, \
             address = ?, supply_unit_id = ?, supply_unit_path = ?, grid = ?, \
             usage_category = ?, voltage = ?, contract_capacity_kva = ?, industry = ?, \
             business_format = ?, scale = ?, value_tier = ?, service_grade = ?, \
             version = version + 1, updated_at = ? WHERE id = ?",
        )
        .bind(record.account_number.as_str())
        .bind(record.name.as_str())
        .bind(doc.map(|d| d.kind().code()))
        .bind(doc.map(|d| d.number()))
        .bind(&record.address)
        .bind(record.supply_unit_id.0)
        .bind(&path)
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
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                duplicate_account(record.account_number.as_str())
            } else {
                db(e)
            }
        })?;
        delete_children(&mut tx, id.0).await?;
        insert_children(&mut tx, &[(id.0, &record)]).await?;
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        let detail = format!("changed: {}", fields.join(", "));
        let event = NewEvent {
            id: next_event_id(&mut tx).await?,
            customer_id: id.0,
            kind: CustomerEventKind::Updated,
            reason: None,
            changes,
        };
        insert_events(&mut tx, &[event], actor, now).await?;
        append_in(
            &mut tx,
            actor,
            now,
            "customer.update",
            &format!("customer:{id}"),
            &detail,
        )
        .await?;
        let updated = reload(&mut tx, id.0).await?;
        tx.commit().await.map_err(db)?;
        Ok(updated)
    }

    async fn set_customer_status(
        &self,
        id: CustomerId,
        expected_version: i64,
        retire_reason: Option<String>,
        scope: &OrgPath,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.write_tx().await?;
        let current = load_for_change(&mut tx, id, expected_version, scope).await?;
        let (status, kind, action) = match (&retire_reason, current.status) {
            (Some(_), CustomerStatus::Retired) => {
                return Err(StoreError::InvalidState(format!(
                    "customer {id} is already retired"
                )));
            }
            (None, CustomerStatus::Active) => {
                return Err(StoreError::InvalidState(format!(
                    "customer {id} is not retired, so it cannot be reinstated"
                )));
            }
            (Some(_), CustomerStatus::Active) => (
                CustomerStatus::Retired,
                CustomerEventKind::Retired,
                "customer.retire",
            ),
            (None, CustomerStatus::Retired) => (
                CustomerStatus::Active,
                CustomerEventKind::Reinstated,
                "customer.reinstate",
            ),
        };
        sqlx::query(
            "UPDATE customers SET status = ?, retired_reason = ?, version = version + 1, \
             updated_at = ? WHERE id = ?",
        )
        .bind(status.code())
        .bind(retire_reason.as_deref())
        .bind(ms(now))
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let event = NewEvent {
            id: next_event_id(&mut tx).await?,
            customer_id: id.0,
            kind,
            reason: retire_reason.clone(),
            changes: vec![FieldChange {
                field: "status".to_owned(),
                old: current.status.code().to_owned(),
                new: status.code().to_owned(),
            }],
        };
        insert_events(&mut tx, &[event], actor, now).await?;
        append_in(
            &mut tx,
            actor,
            now,
            action,
            &format!("customer:{id}"),
            retire_reason.as_deref().unwrap_or(""),
        )
        .await?;
        let updated = reload(&mut tx, id.0).await?;
        tx.commit().await.map_err(db)?;
        Ok(updated)
    }

    async fn find_customers(
        &self,
        lookup: &CustomerLookup,
        scope: &OrgPath,
        include_retired: bool,
        page: PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        customer_read::find(&mut conn, lookup, scope, include_retired, page).await
    }

    async fn customer_history(
        &self,
        id: CustomerId,
        scope: &OrgPath,
        page: PageRequest,
    ) -> Result<Page<CustomerEvent>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        customer_read::history(&mut conn, id, scope, page).await
    }

    async fn special_dates_between(
        &self,
        scope: &OrgPath,
        from: NaiveDate,
        days: u32,
        limit: u32,
    ) -> Result<Vec<SpecialDateHit>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        customer_read::special_dates(&mut conn, scope, from, days, limit).await
    }

    async fn count_customers(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
