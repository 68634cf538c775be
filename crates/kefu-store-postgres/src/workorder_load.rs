//! Bulk loading of whole work orders on PostgreSQL (`kefu_store::workorder_load`): one
//! `INSERT … SELECT FROM UNNEST(arrays)` per table, so a call of thousands of orders is a handful
//! of statements; row ids are reserved from the identity sequence first, so events and repeat
//! links can name their order without a round trip per row.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::sla::Tracked;
use kefu_domain::workorder::{Order, OrderNumber};
use kefu_store::search::order_index_texts;
use kefu_store::sla::SlaColumns;
use kefu_store::workorder_codec::{encode_event, encode_order};
use kefu_store::workorder_load::{
    LoadedOrder, WorkOrderLoadStore, check_batch, duplicate_number, repeat_links,
};
use kefu_store::{OrderColumns, StoreError};
use sqlx::PgConnection;

use crate::customer_insert::reserve_ids;
use crate::search::put_terms;
use crate::{PgStore, db, is_unique_violation};

pub(crate) const RESERVE_ORDER_IDS: &str =
    "SELECT nextval(pg_get_serial_sequence('work_orders', 'id')) FROM generate_series(1, $1)";

/// The (id, number) of the stored orders among `numbers`.
async fn stored_numbers(
    conn: &mut PgConnection,
    numbers: &[String],
) -> Result<Vec<(i64, String)>, StoreError> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as("SELECT id, number FROM work_orders WHERE number = ANY($1::text[])")
        .bind(numbers)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)
}

/// The order rows as one array per column.
#[derive(Default)]
pub(crate) struct OrderArrays {
    id: Vec<i64>,
    number: Vec<String>,
    state: Vec<&'static str>,
    appeal_type: Vec<&'static str>,
    sub_category: Vec<String>,
    channel: Vec<&'static str>,
    priority: Vec<&'static str>,
    major: Vec<bool>,
    jurisdiction_path: Vec<String>,
    host_unit_id: Vec<Option<i64>>,
    host_unit_path: Vec<Option<String>>,
    home_unit_path: Vec<String>,
    department: Vec<&'static str>,
    host_department: Vec<Option<&'static str>>,
    owner_id: Vec<i64>,
    customer_id: Vec<Option<i64>>,
    caller_phone: Vec<Option<String>>,
    idempotency_key: Vec<Option<String>>,
    repeat: Vec<bool>,
    supervised: Vec<bool>,
    chase_count: Vec<i64>,
    version: Vec<i64>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    snapshot: Vec<String>,
    fingerprint: Vec<Option<String>>,
    sla: Vec<String>,
    due_at: Vec<Option<DateTime<Utc>>>,
    warn_at: Vec<Option<DateTime<Utc>>>,
    check_at: Vec<Option<DateTime<Utc>>>,
}

impl OrderArrays {
    fn push(&mut self, id: i64, o: &LoadedOrder) {
        self.push_order(id, &o.order, &o.sla, o.fingerprint.clone());
    }

    /// Adds one order row: the order, its deadlines and its intake fingerprint.
    pub(crate) fn push_order(
        &mut self,
        id: i64,
        order: &Order,
        sla: &[Tracked],
        fingerprint: Option<String>,
    ) {
        let c = OrderColumns::of(order);
        let s = SlaColumns::of(sla);
        self.id.push(id);
        self.number.push(c.number);
        self.state.push(c.state);
        self.appeal_type.push(c.appeal_type);
        self.sub_category.push(c.sub_category);
        self.channel.push(c.channel);
        self.priority.push(c.priority);
        self.major.push(c.major);
        self.jurisdiction_path.push(c.jurisdiction_path);
        self.host_unit_id.push(c.host_unit_id);
        self.host_unit_path.push(c.host_unit_path);
        self.home_unit_path.push(c.home_unit_path);
        self.department.push(c.department);
        self.host_department.push(c.host_department);
        self.owner_id.push(c.owner_id);
        self.customer_id.push(c.customer_id);
        self.caller_phone.push(c.caller_phone);
        self.idempotency_key.push(c.idempotency_key);
        self.repeat.push(c.repeat);
        self.supervised.push(c.supervised);
        self.chase_count.push(c.chase_count);
        self.version.push(c.version);
        self.created_at.push(c.created_at);
        self.updated_at.push(c.updated_at);
        self.snapshot.push(encode_order(order));
        self.fingerprint.push(fingerprint);
        self.sla.push(s.sla);
        self.due_at.push(s.due_at);
        self.warn_at.push(s.warn_at);
        self.check_at.push(s.check_at);
    }

    /// No row yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.id.is_empty()
    }

    pub(crate) async fn insert(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO work_orders (id, number, state, appeal_type, sub_category, channel, \
             priority, major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, \
             department, host_department, owner_id, customer_id, caller_phone, idempotency_key, \
             is_repeat, supervised, chase_count, version, created_at, updated_at, snapshot, \
             intake_fingerprint, sla, due_at, warn_at, sla_check_at) \
             SELECT id, number, state, appeal_type, sub_category, channel, priority, major, \
             jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, department, \
             host_department, owner_id, customer_id, caller_phone, idempotency_key, is_repeat, \
             supervised, chase_count, version, created_at, updated_at, snapshot::jsonb, \
             intake_fingerprint, sla, due_at, warn_at, sla_check_at \
             FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::bool[], $9::text[], $10::int8[], $11::text[], \
             $12::text[], $13::text[], $14::text[], $15::int8[], $16::int8[], $17::text[], \
             $18::text[], $19::bool[], $20::bool[], $21::int8[], $22::int8[], \
             $23::timestamptz[], $24::timestamptz[], $25::text[], $26::text[], $27::text[], \
             $28::timestamptz[], $29::timestamptz[], $30::timestamptz[]) \
             AS u(id, number, state, appeal_type, sub_category, channel, priority, major, \
             jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, department, \
             host_department, owner_id, customer_id, caller_phone, idempotency_key, is_repeat, \
             supervised, chase_count, version, created_at, updated_at, snapshot, \
             intake_fingerprint, sla, due_at, warn_at, sla_check_at)",
        )
        .bind(self.id)
        .bind(self.number)
        .bind(self.state)
        .bind(self.appeal_type)
        .bind(self.sub_category)
        .bind(self.channel)
        .bind(self.priority)
        .bind(self.major)
        .bind(self.jurisdiction_path)
        .bind(self.host_unit_id)
        .bind(self.host_unit_path)
        .bind(self.home_unit_path)
        .bind(self.department)
        .bind(self.host_department)
        .bind(self.owner_id)
        .bind(self.customer_id)
        .bind(self.caller_phone)
        .bind(self.idempotency_key)
        .bind(self.repeat)
        .bind(self.supervised)
        .bind(self.chase_count)
        .bind(self.version)
        .bind(self.created_at)
        .bind(self.updated_at)
        .bind(self.snapshot)
        .bind(self.fingerprint)
        .bind(self.sla)
        .bind(self.due_at)
        .bind(self.warn_at)
        .bind(self.check_at)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    }
}

/// The timelines of the batch as one array per column.
#[derive(Default)]
struct EventArrays {
    order_id: Vec<i64>,
    version: Vec<i64>,
    at: Vec<DateTime<Utc>>,
    staff_id: Vec<i64>,
    from_state: Vec<Option<&'static str>>,
    to_state: Vec<&'static str>,
    kind: Vec<&'static str>,
    payload: Vec<String>,
}

impl EventArrays {
    fn of(orders: &[LoadedOrder], ids: &[i64]) -> Self {
        let mut a = EventArrays::default();
        for (o, id) in orders.iter().zip(ids) {
            for e in &o.events {
                let enc = encode_event(e);
                a.order_id.push(*id);
                a.version.push(i64::try_from(e.version).unwrap_or(i64::MAX));
                a.at.push(e.at);
                a.staff_id.push(e.actor.0);
                a.from_state.push(e.from.map(|s| s.code()));
                a.to_state.push(e.to.code());
                a.kind.push(enc.kind);
                a.payload.push(enc.payload);
            }
        }
        a
    }

    async fn insert(self, conn: &mut PgConnection) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO work_order_events \
             (order_id, version, at, staff_id, from_state, to_state, kind, payload) \
             SELECT order_id, version, at, staff_id, from_state, to_state, kind, payload::jsonb \
             FROM UNNEST($1::int8[], $2::int8[], $3::timestamptz[], $4::int8[], $5::text[], \
             $6::text[], $7::text[], $8::text[]) \
             AS u(order_id, version, at, staff_id, from_state, to_state, kind, payload)",
        )
        .bind(self.order_id)
        .bind(self.version)
        .bind(self.at)
        .bind(self.staff_id)
        .bind(self.from_state)
        .bind(self.to_state)
        .bind(self.kind)
        .bind(self.payload)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(db)
    }
}

/// Links each order to the earlier orders it repeats that exist (in the batch or stored).
async fn insert_repeats(
    conn: &mut PgConnection,
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
    let (order_ids, earlier_ids): (Vec<i64>, Vec<i64>) = pairs.into_iter().unzip();
    sqlx::query(
        "INSERT INTO work_order_repeats (order_id, earlier_id) \
         SELECT * FROM UNNEST($1::int8[], $2::int8[])",
    )
    .bind(order_ids)
    .bind(earlier_ids)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    .map_err(db)
}

#[async_trait]
impl WorkOrderLoadStore for PgStore {
    async fn begin_bulk_orders(&self) -> Result<bool, StoreError> {
        // Nothing set aside: a PostgreSQL load spans many transactions, and indexes dropped
        // in one would stay dropped after a crash (no marker and repair as on SQLite); its
        // loads are server-bound at ~4 400 orders/s either way (BENCHMARKS.md).
        Ok(false)
    }

    async fn finish_bulk_orders(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn load_orders(&self, orders: &[LoadedOrder]) -> Result<Vec<i64>, StoreError> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let days = check_batch(orders)?;
        let numbers: Vec<String> = orders.iter().map(|o| o.order.number.to_string()).collect();
        let segmenter = self.text.current();
        let refs: Vec<&Order> = orders.iter().map(|o| &o.order).collect();
        let terms = order_index_texts(&segmenter, &refs);
        let mut tx = self.write_tx().await?;
        if let Some((_, taken)) = stored_numbers(&mut tx, &numbers).await?.first() {
            let number = OrderNumber::parse(taken).map_err(|e| {
                StoreError::InvalidState(format!("stored order number '{taken}': {e}"))
            })?;
            return Err(duplicate_number(&number));
        }
        let ids = reserve_ids(&mut tx, RESERVE_ORDER_IDS, orders.len()).await?;
        let mut rows = OrderArrays::default();
        for (o, id) in orders.iter().zip(&ids) {
            rows.push(*id, o);
        }
        rows.insert(&mut tx).await.map_err(|e| {
            if is_unique_violation(&e) {
                // The numbers were checked (a concurrent load may still win the race on one).
                StoreError::Duplicate {
                    field: "number or idempotency_key",
                    value: e.to_string(),
                }
            } else {
                db(e)
            }
        })?;
        EventArrays::of(orders, &ids).insert(&mut tx).await?;
        insert_repeats(&mut tx, orders, &ids).await?;
        let search: Vec<(i64, String)> = ids.iter().copied().zip(terms).collect();
        put_terms(&mut tx, &search).await?;
        let (day, seq): (Vec<String>, Vec<i64>) = days.into_iter().unzip();
        // Never lowers a counter: intakes of that day may already be past the loaded ones.
        sqlx::query(
            "INSERT INTO work_order_counters (day, last_seq) \
             SELECT * FROM UNNEST($1::text[], $2::int8[]) \
             ON CONFLICT (day) DO UPDATE \
             SET last_seq = GREATEST(work_order_counters.last_seq, EXCLUDED.last_seq)",
        )
        .bind(day)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        refresh_order_statistics(self, ids.len()).await;
        Ok(ids)
    }
}

/// After a large batch, refreshes the planner statistics of the order and search tables when
/// the batch is more than a tenth of what the planner believes `work_order_search` holds (as
/// `customer::refresh_statistics` does for customers). Without them a freshly loaded store
/// plans a search for a word in every order as if it matched 0.5 % of them: a GIN bitmap over
/// all its matches and a sort, instead of walking the newest orders and stopping at the
/// window. The estimate grows with each refresh, so a long load analyzes O(log n) times.
async fn refresh_order_statistics(store: &PgStore, batch: usize) {
    if batch < 1_000 {
        return;
    }
    let believed: Result<Option<f32>, _> = sqlx::query_scalar(
        "SELECT reltuples FROM pg_class WHERE oid = to_regclass('work_order_search')",
    )
    .fetch_optional(&store.pool)
    .await;
    let stale = match believed {
        Ok(Some(rows)) => rows < 0.0 || (batch as f64) * 10.0 > f64::from(rows),
        Ok(None) => false,
        Err(_) => true,
    };
    if stale {
        let analyzed = sqlx::query("ANALYZE work_orders, work_order_search")
            .execute(&store.pool)
            .await;
        if let Err(e) = analyzed {
            tracing::warn!(error = %e, "could not refresh planner statistics after a load");
        }
    }
}
