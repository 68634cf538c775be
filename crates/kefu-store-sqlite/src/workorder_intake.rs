//! Work-order intake on SQLite, group-committed (`kefu_store::workorder_batch`): the writer
//! task takes the write lock once per batch (`BEGIN IMMEDIATE`) and decides the intakes in
//! order, so the idempotency check, the repeat search and the number of one intake see every
//! earlier intake of the batch, and a refused intake leaves nothing behind and takes no number
//! (numbers stay gap-free). Every statement is a round trip to the connection's own thread —
//! two thread switches, which on two cores is most of what an intake costs here — so a batch
//! costs the same handful of statements however many intakes it holds: the day's counters and
//! the highest row id are read once (rows get ids `MAX(id) + 1…` under the write lock, as
//! `load_orders` does), the stored idempotency keys of the whole batch are looked up with one
//! query, the repeat candidates with another (`RepeatProbe`), then the order rows, their first
//! events and their repeat links are inserted with one statement each, the counters written back
//! and the batch committed. A failure of one of these statements fails the whole batch (every
//! caller gets the error, nothing of the batch remains): they can only fail for reasons that
//! are the batch's, not one appeal's — a full disk, a lost file.

use std::collections::HashMap;

use async_trait::async_trait;
use kefu_domain::sla::Tracked;
use kefu_domain::workorder::{Event, IdempotencyKey, Order, OrderNumber, open, replay};
use kefu_store::search_terms::order_terms;
use kefu_store::sla::SlaColumns;
use kefu_store::workorder::{repeats_among, replay_or_refuse};
use kefu_store::workorder_batch::{
    BatchCounters, IntakeBatch, IntakeResult, PendingIntake, RepeatProbe, written_candidate,
};
use kefu_store::workorder_codec::{encode_event, encode_order, intake_fingerprint};
use kefu_store::{
    IntakeOutcome, OrderColumns, RepeatCandidate, StoreError, StoredOrder, WorkOrderStoreError,
    centre_date,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use crate::search::insert_terms;
use crate::workorder_read::order_by_id;
use crate::{db, from_ms, ms};

/// The intake writer of a SQLite store: the pool it takes its batch connection from.
#[derive(Clone)]
pub(crate) struct SqliteIntakeWriter {
    pub(crate) pool: SqlitePool,
}

#[async_trait]
impl IntakeBatch for SqliteIntakeWriter {
    async fn intake_batch(&self, batch: Vec<PendingIntake>) -> Vec<IntakeResult> {
        let n = batch.len();
        match write_batch(&self.pool, batch).await {
            Ok(results) => results,
            Err(e) => {
                tracing::error!(error = %e, intakes = n, "intake batch failed");
                (0..n)
                    .map(|_| Err(StoreError::Database(e.to_string()).into()))
                    .collect()
            }
        }
    }
}

/// The rows a batch appends after its orders: each written order's first event and its repeat
/// links, inserted with one statement each before COMMIT.
#[derive(Default)]
struct Tail {
    /// The order rows to insert, with their intake fingerprints and deadline columns.
    rows: Vec<OrderRow>,
    events: Vec<(i64, Event)>,
    repeats: Vec<(i64, i64)>,
    /// The search index rows of the written orders (id, terms).
    search: Vec<(i64, String)>,
    /// The repeat candidates of the batch: found by one query before the first intake, plus
    /// every order written since.
    candidates: Vec<RepeatCandidate>,
    /// The batch's idempotency keys already taken: by a stored order (id, fingerprint), or by
    /// an order earlier in this batch (the order and its fingerprint).
    keys: HashMap<String, KeyHolder>,
    /// The next free row id.
    next_id: i64,
}

/// Who holds an idempotency key that an intake of the batch carries.
enum KeyHolder {
    /// A committed order: its row id and stored fingerprint (none before migration 0005).
    Stored(i64, Option<String>),
    /// An order written earlier in this batch, with the fingerprint it was written with.
    Batch(Box<StoredOrder>, String),
}

/// One order row to insert.
struct OrderRow {
    id: i64,
    order: Order,
    fingerprint: Option<String>,
    sla: SlaColumns,
}

/// One transaction for the batch. An error of the batch itself (begin, the counters, the
/// events and links of the tail, commit) fails every intake of it: the transaction is rolled
/// back when `tx` drops, and no caller has been answered yet.
///
/// No savepoint per intake is needed here: an intake writes exactly one statement of its own
/// (its order row), and SQLite undoes a failed statement by itself (statement journal) while
/// the transaction goes on — so a refused or failed intake leaves nothing, as a savepoint
/// rollback would, and costs two round trips to the connection's thread fewer. (An error that
/// does end the transaction, such as a full disk, fails the whole batch at COMMIT.)
async fn write_batch(
    pool: &SqlitePool,
    batch: Vec<PendingIntake>,
) -> Result<Vec<IntakeResult>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db)?;
    let mut counters = BatchCounters::default();
    for day in BatchCounters::days_of(&batch) {
        let stored: Option<i64> =
            sqlx::query_scalar("SELECT last_seq FROM work_order_counters WHERE day = ?")
                .bind(day.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        counters.load(day, stored.unwrap_or(0));
    }
    let next_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM work_orders")
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
    let mut tail = Tail {
        next_id,
        keys: stored_keys(&mut tx, &batch).await?,
        ..Tail::default()
    };
    if let Some(probe) = RepeatProbe::of(&batch) {
        tail.candidates = repeat_candidates(&mut tx, &probe).await?;
    }
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        results.push(intake_one(&mut tx, &mut counters, &mut tail, pending).await);
    }
    insert_tail(&mut tx, tail).await?;
    for (day, last) in counters.changed() {
        sqlx::query(
            "INSERT INTO work_order_counters (day, last_seq) VALUES (?, ?) \
             ON CONFLICT (day) DO UPDATE SET last_seq = excluded.last_seq",
        )
        .bind(day.to_string())
        .bind(last)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(results)
}

/// Inserts the order rows, their first events and their repeat links (a batch holds at most
/// `MAX_INTAKE_BATCH` orders: 29 × 128 bound values, far below SQLite's limit of 32 766).
async fn insert_tail(conn: &mut SqliteConnection, tail: Tail) -> Result<(), StoreError> {
    insert_orders(conn, &tail.rows).await?;
    if !tail.events.is_empty() {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO work_order_events \
             (order_id, version, at, staff_id, from_state, to_state, kind, payload) ",
        );
        qb.push_values(&tail.events, |mut row, (order_id, e)| {
            let enc = encode_event(e);
            row.push_bind(*order_id)
                .push_bind(i64::try_from(e.version).unwrap_or(i64::MAX))
                .push_bind(ms(e.at))
                .push_bind(e.actor.0)
                .push_bind(e.from.map(|s| s.code()))
                .push_bind(e.to.code())
                .push_bind(enc.kind)
                .push_bind(enc.payload);
        });
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    if !tail.repeats.is_empty() {
        let mut qb =
            QueryBuilder::<Sqlite>::new("INSERT INTO work_order_repeats (order_id, earlier_id) ");
        qb.push_values(&tail.repeats, |mut row, (order_id, earlier)| {
            row.push_bind(*order_id).push_bind(*earlier);
        });
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    insert_terms(conn, &tail.search).await?;
    Ok(())
}

/// The idempotency keys of `batch` that stored orders already hold (one query; none when no
/// intake of the batch carries a key).
async fn stored_keys(
    conn: &mut SqliteConnection,
    batch: &[PendingIntake],
) -> Result<HashMap<String, KeyHolder>, StoreError> {
    let keys: Vec<&str> = batch
        .iter()
        .filter_map(|p| {
            p.intake
                .idempotency_key
                .as_ref()
                .map(IdempotencyKey::as_str)
        })
        .collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT idempotency_key, id, intake_fingerprint FROM work_orders WHERE idempotency_key IN (",
    );
    let mut list = qb.separated(", ");
    for k in keys {
        list.push_bind(k);
    }
    qb.push(")");
    let rows: Vec<(String, i64, Option<String>)> = qb
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(key, id, fingerprint)| (key, KeyHolder::Stored(id, fingerprint)))
        .collect())
}

/// One intake, decided inside the batch's transaction (the write lock is held). A key seen
/// before — stored, or earlier in this batch — writes nothing and replays or is refused, also
/// when the new intake would have been refused otherwise. Otherwise the domain decides, and an
/// accepted intake gets the next row id and number (`counters.advance`) and joins the rows the
/// batch inserts before COMMIT; its caller is answered only after that COMMIT.
async fn intake_one(
    conn: &mut SqliteConnection,
    counters: &mut BatchCounters,
    tail: &mut Tail,
    mut pending: PendingIntake,
) -> Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError> {
    let fingerprint = intake_fingerprint(&pending.intake);
    let key = pending
        .intake
        .idempotency_key
        .as_ref()
        .map(|k| k.as_str().to_owned());
    match key.as_ref().and_then(|k| tail.keys.get(k)) {
        Some(KeyHolder::Stored(id, stored)) => {
            let first = order_by_id(conn, *id).await?;
            return replay_or_refuse(first, stored.as_deref(), &fingerprint);
        }
        Some(KeyHolder::Batch(first, stored)) => {
            return replay_or_refuse((**first).clone(), Some(stored), &fingerprint);
        }
        None => {}
    }
    let index_text = std::mem::take(&mut pending.index_text);
    let day = centre_date(pending.now);
    let Prepared {
        seq,
        order,
        event,
        repeats,
        sla,
    } = prepare(counters, &tail.candidates, pending)?;
    let id = tail.next_id;
    tail.next_id += 1;
    tail.repeats
        .extend(repeats.iter().map(|(earlier, _)| (id, *earlier)));
    tail.events.push((id, event));
    tail.search.push((id, order_terms(&order, &index_text)));
    tail.candidates.push(written_candidate(id, &order));
    counters.advance(day, seq);
    let stored = StoredOrder { id, order, sla };
    tail.rows.push(OrderRow {
        id,
        order: stored.order.clone(),
        fingerprint: key.as_ref().map(|_| fingerprint.clone()),
        sla: SlaColumns::of(&stored.sla),
    });
    if let Some(key) = key {
        tail.keys
            .insert(key, KeyHolder::Batch(Box::new(stored.clone()), fingerprint));
    }
    Ok((stored, IntakeOutcome::Created))
}

/// The order an intake would write: its number (not yet taken), the repeat links, the
/// domain's `open` (which checks the actor may take appeals) and the order it starts.
fn prepare(
    counters: &BatchCounters,
    candidates: &[RepeatCandidate],
    pending: PendingIntake,
) -> Result<Prepared, WorkOrderStoreError> {
    let PendingIntake {
        mut intake,
        options,
        actor,
        now,
        sla,
        index_text: _,
    } = pending;
    let (seq, number) = counters.next(centre_date(now))?;
    intake.number = number;
    let repeats = repeats_among(&intake, now, options, candidates.to_vec())?;
    intake.repeat_of = repeats.iter().map(|(_, n)| *n).collect();
    let event = open(intake, &actor, now)?;
    let order = replay(std::slice::from_ref(&event)).map_err(|e| {
        StoreError::InvalidState(format!("the intake event does not start an order: {e}"))
    })?;
    Ok(Prepared {
        seq,
        order,
        event,
        repeats,
        sla,
    })
}

/// An intake ready to write: its sequence number (not yet taken), order, first event and the
/// earlier orders it repeats (row id, number), and its deadlines.
struct Prepared {
    seq: i64,
    order: Order,
    event: Event,
    repeats: Vec<(i64, OrderNumber)>,
    sla: Vec<Tracked>,
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    id: i64,
    number: String,
    customer_id: Option<i64>,
    caller_phone: Option<String>,
    sub_category: String,
    created_at: i64,
}

/// The earlier orders of any of the batch's customers or phones on any of its sub-categories
/// since the earliest window start (each half probes its `(customer_id | caller_phone,
/// sub_category, created_at)` index).
async fn repeat_candidates(
    conn: &mut SqliteConnection,
    probe: &RepeatProbe,
) -> Result<Vec<RepeatCandidate>, StoreError> {
    let mut qb = QueryBuilder::<Sqlite>::new("");
    let halves = [
        ("customer_id", !probe.customers.is_empty()),
        ("caller_phone", !probe.phones.is_empty()),
    ];
    let mut first = true;
    for (column, present) in halves {
        if !present {
            continue;
        }
        if !first {
            qb.push(" UNION ");
        }
        first = false;
        qb.push(
            "SELECT id, number, customer_id, caller_phone, sub_category, created_at \
             FROM work_orders WHERE ",
        );
        qb.push(column);
        qb.push(" IN (");
        let mut list = qb.separated(", ");
        if column == "customer_id" {
            for c in &probe.customers {
                list.push_bind(*c);
            }
        } else {
            for p in &probe.phones {
                list.push_bind(p.clone());
            }
        }
        qb.push(") AND sub_category IN (");
        let mut list = qb.separated(", ");
        for sub in &probe.sub_categories {
            list.push_bind(sub.clone());
        }
        qb.push(") AND created_at >= ");
        qb.push_bind(ms(probe.since));
    }
    if first {
        return Ok(Vec::new());
    }
    let rows: Vec<CandidateRow> = qb
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    rows.into_iter()
        .map(|r| {
            Ok(RepeatCandidate {
                created_at: from_ms("work_order", r.id, r.created_at)?,
                id: r.id,
                number: r.number,
                customer_id: r.customer_id,
                caller_phone: r.caller_phone,
                sub_category: r.sub_category,
            })
        })
        .collect()
}

/// Inserts the batch's order rows with their ids, in one statement. Their keys were checked
/// under the write lock, so none can conflict.
async fn insert_orders(conn: &mut SqliteConnection, rows: &[OrderRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT INTO work_orders (id, number, state, appeal_type, sub_category, channel, \
         priority, major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, \
         department, host_department, owner_id, customer_id, caller_phone, idempotency_key, \
         is_repeat, supervised, chase_count, version, created_at, updated_at, snapshot, \
         intake_fingerprint, sla, due_at, warn_at, sla_check_at) ",
    );
    qb.push_values(rows, |mut b, row| {
        let c = OrderColumns::of(&row.order);
        b.push_bind(row.id)
            .push_bind(c.number)
            .push_bind(c.state)
            .push_bind(c.appeal_type)
            .push_bind(c.sub_category)
            .push_bind(c.channel)
            .push_bind(c.priority)
            .push_bind(c.major)
            .push_bind(c.jurisdiction_path)
            .push_bind(c.host_unit_id)
            .push_bind(c.host_unit_path)
            .push_bind(c.home_unit_path)
            .push_bind(c.department)
            .push_bind(c.host_department)
            .push_bind(c.owner_id)
            .push_bind(c.customer_id)
            .push_bind(c.caller_phone)
            .push_bind(c.idempotency_key)
            .push_bind(c.repeat)
            .push_bind(c.supervised)
            .push_bind(c.chase_count)
            .push_bind(c.version)
            .push_bind(ms(c.created_at))
            .push_bind(ms(c.updated_at))
            .push_bind(encode_order(&row.order))
            .push_bind(row.fingerprint.clone())
            .push_bind(row.sla.sla.clone())
            .push_bind(row.sla.due_at.map(ms))
            .push_bind(row.sla.warn_at.map(ms))
            .push_bind(row.sla.check_at.map(ms));
    });
    qb.build().execute(&mut *conn).await.map_err(db)?;
    Ok(())
}
