//! New customers of an import written with `COPY … FROM STDIN` in the binary format
//! (`copy_binary`; issue 6): the rows of a batch
//! stream straight into `customers`, `customer_phones`, `customer_tags`,
//! `customer_special_dates` and `customer_events` inside the batch's transaction. COPY skips
//! the per-statement planning and the array decoding of `UNNEST` inserts, which made the
//! server, not the file, the slow side of an import. A `Created` event is one short history
//! row: its values are derived from the record when read (`kefu_store::customer_snapshot`);
//! an initial load writes one `customer_batch_creations` row per batch instead.
//!
//! The caller has already found (and locked) the batch's existing customers, so every record
//! here is new; a concurrent import taking an account number in between makes COPY fail on the
//! unique index, which aborts the batch like the `UNNEST` path does.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerRecord, CustomerStatus};
use kefu_store::{Actor, CustomerEventKind, StoreError};
use sqlx::PgConnection;

use crate::copy_binary::copy_each;
use crate::customer_insert::{RESERVE_CUSTOMER_IDS, UNKNOWN_UNIT, reserve_ids, unit_paths};

/// Inserts new customers (none of whose account numbers is stored) with their children and one
/// `Created` event each; returns their ids in input order.
pub(crate) async fn copy_new(
    conn: &mut PgConnection,
    records: &[CustomerRecord],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let mut unit_ids: Vec<i64> = records.iter().map(|r| r.supply_unit_id.0).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let units: HashMap<i64, String> = unit_paths(conn, unit_ids).await?;
    if records
        .iter()
        .any(|r| !units.contains_key(&r.supply_unit_id.0))
    {
        return Err(UNKNOWN_UNIT);
    }
    let ids = reserve_ids(conn, RESERVE_CUSTOMER_IDS, records.len()).await?;
    copy_rows(conn, records, &ids, &units, now).await?;
    copy_created_events(conn, &ids, actor, now).await?;
    Ok(ids)
}

/// A day or month number of a validated special date, as an INTEGER.
fn small(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Writes new customers with the given ids (one per record) and their children, without
/// history. The supply units must be in `units`.
pub(crate) async fn copy_rows(
    conn: &mut PgConnection,
    records: &[CustomerRecord],
    ids: &[i64],
    units: &HashMap<i64, String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let customers = ids.iter().zip(records);
    copy_each(
        conn,
        "COPY customers (id, account_number, name, id_kind, id_number, address, \
         supply_unit_id, supply_unit_path, grid, usage_category, voltage, \
         contract_capacity_kva, industry, business_format, scale, value_tier, service_grade, \
         status, retired_reason, version, created_at, updated_at) FROM STDIN (FORMAT binary)",
        customers.clone(),
        |rows, (id, r)| {
            let doc = r.id_document.as_ref();
            rows.int8(*id)
                .text(r.account_number.as_str())
                .text(r.name.as_str())
                .opt_text(doc.map(|d| d.kind().code()))
                .opt_text(doc.map(|d| d.number()))
                .text(&r.address)
                .int8(r.supply_unit_id.0)
                .text(units.get(&r.supply_unit_id.0).map_or("", String::as_str))
                .text(r.grid.code())
                .text(r.usage_category.code())
                .text(r.voltage.code())
                .opt_int8(r.contract_capacity_kva)
                .opt_text(r.industry.as_deref())
                .opt_text(r.business_format.map(|x| x.code()))
                .opt_text(r.scale.map(|x| x.code()))
                .opt_text(r.value_tier.map(|x| x.code()))
                .opt_text(r.service_grade.map(|x| x.code()))
                .text(CustomerStatus::Active.code())
                .null()
                .int8(1)
                .instant(now)
                .instant(now)
                .end_row();
        },
    )
    .await?;
    // Flattened before any await: iterator adapters with closures over references make the
    // future's type too general to be `Send`.
    let phones: Vec<(i64, i32, &str)> = customers
        .clone()
        .flat_map(|(id, r)| {
            (0_i32..)
                .zip(&r.phones)
                .map(move |(pos, p)| (*id, pos, p.as_str()))
        })
        .collect();
    let tags: Vec<(i64, &str)> = customers
        .clone()
        .flat_map(|(id, r)| r.tags.iter().map(move |t| (*id, t.as_str())))
        .collect();
    let dates: Vec<(i64, i32, &kefu_domain::customer::SpecialDate)> = customers
        .clone()
        .flat_map(|(id, r)| {
            (0_i32..)
                .zip(&r.special_dates)
                .map(move |(pos, d)| (*id, pos, d))
        })
        .collect();
    copy_each(
        conn,
        "COPY customer_phones (customer_id, position, phone) FROM STDIN (FORMAT binary)",
        phones,
        |rows, (id, pos, p)| rows.int8(id).int4(pos).text(p).end_row(),
    )
    .await?;
    copy_each(
        conn,
        "COPY customer_tags (customer_id, tag) FROM STDIN (FORMAT binary)",
        tags,
        |rows, (id, t)| rows.int8(id).text(t).end_row(),
    )
    .await?;
    copy_each(
        conn,
        "COPY customer_special_dates (customer_id, position, kind, month, day, year, label) \
         FROM STDIN (FORMAT binary)",
        dates,
        |rows, (id, pos, d)| {
            rows.int8(id)
                .int4(pos)
                .text(d.kind.code())
                .int4(small(d.month))
                .int4(small(d.day))
                .opt_int4(d.year)
                .opt_text(d.label.as_deref())
                .end_row();
        },
    )
    .await
}

/// One `Created` event per customer, ids from the column's identity default (nothing refers
/// to them yet).
async fn copy_created_events(
    conn: &mut PgConnection,
    ids: &[i64],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let staff_id = actor.staff_id().map(|s| s.0);
    let label = actor.label();
    copy_each(
        conn,
        "COPY customer_events (customer_id, at, staff_id, actor, kind) FROM STDIN (FORMAT binary)",
        ids,
        |rows, id| {
            rows.int8(*id)
                .instant(now)
                .opt_int8(staff_id)
                .text(&label)
                .text(CustomerEventKind::Created.code())
                .end_row();
        },
    )
    .await
}
