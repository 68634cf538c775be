//! Bulk loading of whole work orders on SQLite (`kefu_store::workorder_load`): multi-row
//! `INSERT`s (the statement text of full chunks repeats, so sqlx prepares it once per
//! connection), row ids handed out as `MAX(id) + 1` under the `BEGIN IMMEDIATE` write lock, and
//! every encoding done before the lock is taken so the writer is held only for the writes.

use std::collections::HashMap;

use async_trait::async_trait;
use kefu_domain::workorder::{Order, OrderNumber};
use kefu_store::search::order_index_texts;
use kefu_store::sla::SlaColumns;
use kefu_store::workorder_codec::{encode_event, encode_order};
use kefu_store::workorder_load::{
    LoadedOrder, WorkOrderLoadStore, check_batch, duplicate_number, repeat_links,
};
use kefu_store::{OrderColumns, StoreError};
use sqlx::SqliteConnection;

use crate::customer_insert::bulk_insert;
use crate::customer_load::{pool_settings, rebuild_each, set_indexes_aside, sort_in_threads};
use crate::customer_upsert::{BULK_CACHE_KIB, set_cache};
use crate::search::insert_terms;
use crate::{SqliteStore, db, is_unique_violation, ms};

/// Batches from this size get `BULK_CACHE_KIB` of page cache for their transaction.
const LARGE_BATCH: usize = 1_000;

/// An order row ready to insert.
struct OrderRow {
    columns: OrderColumns,
    snapshot: String,
    fingerprint: Option<String>,
    sla: SlaColumns,
}

/// An event row ready to insert (`order` = index of its order in the batch).
struct EventRow {
    order: usize,
    version: i64,
    at: i64,
    staff_id: i64,
    from_state: Option<&'static str>,
    to_state: &'static str,
    kind: &'static str,
    payload: String,
}

fn prepare(orders: &[LoadedOrder]) -> (Vec<OrderRow>, Vec<EventRow>) {
    let rows = orders
        .iter()
        .map(|o| OrderRow {
            columns: OrderColumns::of(&o.order),
            snapshot: encode_order(&o.order),
            fingerprint: o.fingerprint.clone(),
            sla: SlaColumns::of(&o.sla),
        })
        .collect();
    let events = orders
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            o.events.iter().map(move |e| {
                let enc = encode_event(e);
                EventRow {
                    order: i,
                    version: i64::try_from(e.version).unwrap_or(i64::MAX),
                    at: ms(e.at),
                    staff_id: e.actor.0,
                    from_state: e.from.map(|s| s.code()),
                    to_state: e.to.code(),
                    kind: enc.kind,
                    payload: enc.payload,
                }
            })
        })
        .collect();
    (rows, events)
}

/// The (id, number) of the stored orders among `numbers` (one statement: a JSON list).
async fn stored_numbers(
    conn: &mut SqliteConnection,
    numbers: &[String],
) -> Result<Vec<(i64, String)>, StoreError> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    // Order numbers are `GD` and digits (they come from `OrderNumber`), so quoting each is a
    // valid JSON list without escaping.
    let list = format!("[\"{}\"]", numbers.join("\",\""));
    sqlx::query_as(
        "SELECT id, number FROM work_orders \
         WHERE number IN (SELECT value FROM json_each(?))",
    )
    .bind(list)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)
}

async fn insert_orders(
    conn: &mut SqliteConnection,
    first_id: i64,
    rows: &[OrderRow],
) -> Result<(), sqlx::Error> {
    let numbered: Vec<(i64, &OrderRow)> = (first_id..).zip(rows).collect();
    bulk_insert(
        conn,
        "INSERT INTO work_orders (id, number, state, appeal_type, sub_category, channel, \
         priority, major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, \
         department, host_department, owner_id, customer_id, caller_phone, idempotency_key, \
         is_repeat, supervised, chase_count, version, created_at, updated_at, snapshot, \
         intake_fingerprint, sla, due_at, warn_at, sla_check_at) ",
        30,
        &numbered,
        |b, (id, r)| {
            let c = &r.columns;
            b.push_bind(*id)
                .push_bind(c.number.clone())
                .push_bind(c.state)
                .push_bind(c.appeal_type)
                .push_bind(c.sub_category.clone())
                .push_bind(c.channel)
                .push_bind(c.priority)
                .push_bind(c.major)
                .push_bind(c.jurisdiction_path.clone())
                .push_bind(c.host_unit_id)
                .push_bind(c.host_unit_path.clone())
                .push_bind(c.home_unit_path.clone())
                .push_bind(c.department)
                .push_bind(c.host_department)
                .push_bind(c.owner_id)
                .push_bind(c.customer_id)
                .push_bind(c.caller_phone.clone())
                .push_bind(c.idempotency_key.clone())
                .push_bind(c.repeat)
                .push_bind(c.supervised)
                .push_bind(c.chase_count)
                .push_bind(c.version)
                .push_bind(ms(c.created_at))
                .push_bind(ms(c.updated_at))
                .push_bind(r.snapshot.clone())
                .push_bind(r.fingerprint.clone())
                .push_bind(r.sla.sla.clone())
                .push_bind(r.sla.due_at.map(ms))
                .push_bind(r.sla.warn_at.map(ms))
                .push_bind(r.sla.check_at.map(ms));
        },
    )
    .await
}

async fn insert_events(
    conn: &mut SqliteConnection,
    first_id: i64,
    events: &[EventRow],
) -> Result<(), sqlx::Error> {
    bulk_insert(
        conn,
        "INSERT INTO work_order_events \
         (order_id, version, at, staff_id, from_state, to_state, kind, payload) ",
        8,
        events,
        |b, e| {
            b.push_bind(first_id + i64::try_from(e.order).unwrap_or(i64::MAX))
                .push_bind(e.version)
                .push_bind(e.at)
                .push_bind(e.staff_id)
                .push_bind(e.from_state)
                .push_bind(e.to_state)
                .push_bind(e.kind)
                .push_bind(e.payload.clone());
        },
    )
    .await
}

/// Links each order to the earlier orders it repeats that exist (in the batch or stored).
async fn insert_repeats(
    conn: &mut SqliteConnection,
    orders: &[LoadedOrder],
    ids: &[i64],
) -> Result<(), StoreError> {
    let links = repeat_links(orders);
    if links.is_empty() {
        return Ok(());
    }
    let mut known: HashMap<String, i64> = orders
        .iter()
        .zip(ids)
        .map(|(o, id)| (o.order.number.to_string(), *id))
        .collect();
    let outside: Vec<String> = links
        .iter()
        .filter(|(_, n)| !known.contains_key(n))
        .map(|(_, n)| n.clone())
        .collect();
    known.extend(
        stored_numbers(conn, &outside)
            .await?
            .into_iter()
            .map(|(id, n)| (n, id)),
    );
    let mut pairs: Vec<(i64, i64)> = links
        .iter()
        .filter_map(|(i, n)| Some((*ids.get(*i)?, *known.get(n)?)))
        .filter(|(order, earlier)| order != earlier)
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    bulk_insert(
        conn,
        "INSERT INTO work_order_repeats (order_id, earlier_id) ",
        2,
        &pairs,
        |b, (order, earlier)| {
            b.push_bind(*order).push_bind(*earlier);
        },
    )
    .await
    .map_err(db)
}

#[async_trait]
impl WorkOrderLoadStore for SqliteStore {
    async fn load_orders(&self, orders: &[LoadedOrder]) -> Result<Vec<i64>, StoreError> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let days = check_batch(orders)?;
        let (rows, events) = prepare(orders);
        let segmenter = self.text.current();
        let refs: Vec<&Order> = orders.iter().map(|o| &o.order).collect();
        let terms = order_index_texts(&segmenter, &refs);
        let numbers: Vec<String> = rows.iter().map(|r| r.columns.number.clone()).collect();
        // A batch's random index inserts outgrow the default page cache, which then spills dirty
        // pages to the WAL mid-transaction (a quarter of the load's time at 5 000 orders).
        let large = orders.len() >= LARGE_BATCH;
        let _turn = self.loads.lock().await;
        let mut conn = self.pool.acquire().await.map_err(db)?;
        if large {
            set_cache(&mut conn, BULK_CACHE_KIB).await?;
        }
        let result = write(&mut conn, orders, &rows, &events, terms, &numbers, &days).await;
        if large {
            // Give the memory back: the connection returns to the pool. A failed batch reports
            // its own error, not this one.
            let reset = set_cache(&mut conn, crate::CACHE_KIB).await;
            if result.is_ok() {
                reset?;
            }
        }
        result
    }

    async fn begin_bulk_orders(&self) -> Result<bool, StoreError> {
        let _turn = self.loads.lock().await;
        let mut tx = self.write_tx().await?;
        let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM work_orders)")
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if !empty {
            return Ok(false);
        }
        // Non-unique ones: the number and idempotency-key constraints stay.
        let aside = set_indexes_aside(
            &mut tx,
            "tbl_name = 'work_orders' AND sql NOT LIKE 'CREATE UNIQUE%'",
        )
        .await?;
        // A second call before `finish_bulk_orders` finds the indexes aside already: it must
        // still answer that they are, or the caller would never rebuild them.
        let pending: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM load_pending_indexes)")
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(aside > 0 || pending)
    }

    async fn finish_bulk_orders(&self) -> Result<(), StoreError> {
        let _turn = self.loads.lock().await;
        let mut conn = self.pool.acquire().await.map_err(db)?;
        sort_in_threads(&mut conn).await?;
        let result = rebuild_each(&mut conn).await;
        let reset = pool_settings(&mut conn).await;
        result.and(reset).map(|_| ())
    }
}

/// The writes of one `load_orders` call, in one transaction.
async fn write(
    conn: &mut SqliteConnection,
    orders: &[LoadedOrder],
    rows: &[OrderRow],
    events: &[EventRow],
    terms: Vec<String>,
    numbers: &[String],
    days: &std::collections::BTreeMap<String, i64>,
) -> Result<Vec<i64>, StoreError> {
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
        .await
        .map_err(db)?;
    if let Some((_, taken)) = stored_numbers(&mut tx, numbers).await?.first() {
        let number = OrderNumber::parse(taken)
            .map_err(|e| StoreError::InvalidState(format!("stored order number '{taken}': {e}")))?;
        return Err(duplicate_number(&number));
    }
    let max: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM work_orders")
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    let first_id = max + 1;
    let ids: Vec<i64> = (first_id..).take(rows.len()).collect();
    insert_orders(&mut tx, first_id, rows).await.map_err(|e| {
        if is_unique_violation(&e) {
            // The numbers were checked: only an idempotency key can collide.
            StoreError::Duplicate {
                field: "idempotency_key",
                value: e.to_string(),
            }
        } else {
            db(e)
        }
    })?;
    insert_events(&mut tx, first_id, events).await.map_err(db)?;
    insert_repeats(&mut tx, orders, &ids).await?;
    let search: Vec<(i64, String)> = ids.iter().copied().zip(terms).collect();
    insert_terms(&mut tx, &search).await?;
    for (day, seq) in days {
        // Never lowers a counter: intakes of that day may already be past the loaded ones.
        sqlx::query(
            "INSERT INTO work_order_counters (day, last_seq) VALUES (?, ?) \
                 ON CONFLICT (day) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)",
        )
        .bind(day)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(ids)
}
