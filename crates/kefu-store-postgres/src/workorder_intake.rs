//! Work-order intake on PostgreSQL, group-committed (`kefu_store::workorder_batch`): the writer
//! task writes each batch in one transaction on one connection. The day's counter row is locked
//! by an upsert before the first intake and until commit, read once and written back once
//! (`BatchCounters`): numbers are allocated one batch at a time, gap-free among committed
//! intakes (a refused intake takes no number). Within a batch a later intake sees the earlier
//! ones' rows (same key → replay, repeat links).
//!
//! Each statement is a network round trip on the writer's one connection, so a batch is written
//! the cheapest way its intakes allow: when no key of the batch is stored already or given twice
//! (the usual case), every intake is decided in memory and all order rows go in with one
//! statement (`intake_set`); otherwise each intake inserts its row `ON CONFLICT
//! (idempotency_key) DO NOTHING` (a key seen before inserts nothing and answers with the first
//! order — also another process's, met on the key's unique index). Only when a statement fails
//! (another process took a key meanwhile, the database refused a row) is the batch rolled back
//! and written again with one savepoint per intake, so that intake fails alone. The batch
//! searches the repeat candidates of all its intakes with one query (`RepeatProbe`) and appends
//! the events, repeat links and search rows with one statement each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
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
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use crate::customer_insert::reserve_ids;
use crate::db;
use crate::search::put_terms;
use crate::workorder_load::{OrderArrays, RESERVE_ORDER_IDS};
use crate::workorder_read::order_by_id;

/// The intake writer of a PostgreSQL store: the pool it takes its batch connection from.
#[derive(Clone)]
pub(crate) struct PgIntakeWriter {
    pub(crate) pool: PgPool,
}

#[async_trait]
impl IntakeBatch for PgIntakeWriter {
    async fn intake_batch(&self, batch: Vec<PendingIntake>) -> Vec<IntakeResult> {
        let n = batch.len();
        // Optimistic first: no savepoints. Only a failing statement of one intake (none is
        // expected: the order row has no reference to break and a key conflict does nothing)
        // makes the batch run again with one savepoint per intake.
        let written = match write_batch(&self.pool, batch.clone(), false).await {
            Ok(Some(results)) => Ok(results),
            Ok(None) => write_batch(&self.pool, batch, true)
                .await
                .map(Option::unwrap_or_default),
            Err(e) => Err(e),
        };
        match written {
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

/// One transaction for the batch. An error of the batch itself (begin, the counters, a
/// savepoint statement, commit) fails every intake of it: the transaction is rolled back when
/// `tx` drops. With `isolate`, each intake runs in its own savepoint, so a store error of one
/// leaves the others; without, such an error ends the attempt with `None` (nothing written),
/// and the caller runs the batch again isolated. A refusal by the rules writes nothing and
/// needs no savepoint either way.
async fn write_batch(
    pool: &PgPool,
    batch: Vec<PendingIntake>,
    isolate: bool,
) -> Result<Option<Vec<IntakeResult>>, StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    let mut counters = BatchCounters::default();
    // Outside any savepoint, so the row lock lasts until commit: another process's intakes of
    // the same day wait for this batch, and numbers are allocated one batch at a time.
    for day in BatchCounters::days_of(&batch) {
        let stored: i64 = sqlx::query_scalar(
            "INSERT INTO work_order_counters (day, last_seq) VALUES ($1, 0) \
             ON CONFLICT (day) DO UPDATE SET last_seq = work_order_counters.last_seq \
             RETURNING last_seq",
        )
        .bind(day.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        counters.load(day, stored);
    }
    let mut tail = Tail::default();
    if let Some(probe) = RepeatProbe::of(&batch) {
        tail.candidates = repeat_candidates(&mut tx, &probe).await?;
    }
    let results = if !isolate && all_keys_fresh(&mut tx, &batch).await? {
        match intake_set(&mut tx, &mut counters, &mut tail, batch).await? {
            Some(results) => results,
            None => return Ok(None),
        }
    } else {
        let mut results = Vec::with_capacity(batch.len());
        let mut open_savepoint = false;
        for pending in batch {
            if isolate {
                // One round trip: release the previous intake's savepoint and open this one's.
                let sql = if open_savepoint {
                    "RELEASE SAVEPOINT intake; SAVEPOINT intake"
                } else {
                    "SAVEPOINT intake"
                };
                exec(&mut tx, sql).await?;
                open_savepoint = true;
            }
            let result = intake_one(&mut tx, &mut counters, &mut tail, pending).await;
            match &result {
                Err(WorkOrderStoreError::Store(_)) if !isolate => return Ok(None),
                // Undo whatever this intake wrote; the others of the batch stay.
                Err(_) if isolate => exec(&mut tx, "ROLLBACK TO SAVEPOINT intake").await?,
                _ => {}
            }
            results.push(result);
        }
        if open_savepoint {
            exec(&mut tx, "RELEASE SAVEPOINT intake").await?;
        }
        results
    };
    insert_tail(&mut tx, tail).await?;
    for (day, last) in counters.changed() {
        sqlx::query("UPDATE work_order_counters SET last_seq = $2 WHERE day = $1")
            .bind(day.to_string())
            .bind(last)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(Some(results))
}

/// Whether no intake of the batch carries a key that is stored already or given twice in the
/// batch (then every intake is new or refused by the rules, and `intake_set` can write them
/// all with one statement). One query when any intake has a key.
async fn all_keys_fresh(
    conn: &mut PgConnection,
    batch: &[PendingIntake],
) -> Result<bool, StoreError> {
    let keys: Vec<String> = batch
        .iter()
        .filter_map(|p| p.intake.idempotency_key.as_ref())
        .map(|k| k.as_str().to_owned())
        .collect();
    if keys.is_empty() {
        return Ok(true);
    }
    let distinct: std::collections::HashSet<&String> = keys.iter().collect();
    if distinct.len() < keys.len() {
        return Ok(false);
    }
    let seen: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM work_orders WHERE idempotency_key = ANY($1::text[]))",
    )
    .bind(&keys)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    Ok(!seen)
}

/// Every intake of a batch whose keys are all fresh (`all_keys_fresh`): decided in memory in
/// order (numbers, repeat links to earlier orders of the batch), their row ids reserved with one
/// query and their order rows written with one statement, so the batch costs the same few
/// round trips whatever its size. `None` when the statement fails (another process wrote one
/// of the keys meanwhile, or the database refused a row): the caller writes the batch again
/// with one savepoint per intake.
async fn intake_set(
    conn: &mut PgConnection,
    counters: &mut BatchCounters,
    tail: &mut Tail,
    batch: Vec<PendingIntake>,
) -> Result<Option<Vec<IntakeResult>>, StoreError> {
    let ids = reserve_ids(conn, RESERVE_ORDER_IDS, batch.len()).await?;
    let mut rows = OrderArrays::default();
    let mut results = Vec::with_capacity(batch.len());
    for (mut pending, id) in batch.into_iter().zip(ids) {
        let fingerprint = pending
            .intake
            .idempotency_key
            .is_some()
            .then(|| intake_fingerprint(&pending.intake));
        let index_text = std::mem::take(&mut pending.index_text);
        let day = centre_date(pending.now);
        let Prepared {
            seq,
            order,
            event,
            repeats,
            sla,
        } = match prepare(counters, &tail.candidates, pending) {
            Ok(prepared) => prepared,
            Err(refused) => {
                results.push(Err(refused));
                continue;
            }
        };
        rows.push_order(id, &order, &sla, fingerprint);
        tail.written(id, &order, event, &repeats, &index_text);
        counters.advance(day, seq);
        results.push(Ok((StoredOrder { id, order, sla }, IntakeOutcome::Created)));
    }
    if !rows.is_empty() && rows.insert(conn).await.is_err() {
        return Ok(None);
    }
    Ok(Some(results))
}

/// Runs fixed statements without parameters (the simple protocol, so several may share one
/// round trip).
async fn exec(conn: &mut PgConnection, sql: &'static str) -> Result<(), StoreError> {
    sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(db)
}

/// The answer for a key seen before (committed — by this process or another — or earlier in
/// this batch): its first order, replayed when `fingerprint` matches the stored one, else
/// refused; `None` for a fresh key.
async fn seen_key(
    conn: &mut PgConnection,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
) -> Result<Option<(StoredOrder, IntakeOutcome)>, WorkOrderStoreError> {
    let Some(key) = key else { return Ok(None) };
    match by_key(conn, key).await? {
        Some((first, stored)) => replay_or_refuse(first, stored.as_deref(), fingerprint).map(Some),
        None => Ok(None),
    }
}

/// One intake, inside the batch's transaction. The order row is inserted `ON CONFLICT
/// (idempotency_key) DO NOTHING`, so a fresh key (the usual case) costs no look-up; a key seen
/// before inserts nothing and replays or is refused — also when the new intake would have been
/// refused otherwise, as when the key was checked first. A concurrent insert of the same key by
/// another process makes this insert wait for it, then do nothing once it commits; the look-up
/// that follows (a new statement) sees its row. The number is only taken
/// (`counters.advance`) once the order is written.
async fn intake_one(
    conn: &mut PgConnection,
    counters: &mut BatchCounters,
    tail: &mut Tail,
    mut pending: PendingIntake,
) -> Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError> {
    let fingerprint = intake_fingerprint(&pending.intake);
    let key = pending.intake.idempotency_key.clone();
    let index_text = std::mem::take(&mut pending.index_text);
    let day = centre_date(pending.now);
    let Prepared {
        seq,
        order,
        event,
        repeats,
        sla,
    } = match prepare(counters, &tail.candidates, pending) {
        Ok(prepared) => prepared,
        Err(e) => {
            return match seen_key(conn, key.as_ref(), &fingerprint).await? {
                Some(answer) => Ok(answer),
                None => Err(e),
            };
        }
    };
    let stored_fingerprint = key.as_ref().map(|_| fingerprint.as_str());
    let columns = SlaColumns::of(&sla);
    let Some(id) = insert_order(conn, &order, stored_fingerprint, &columns)
        .await
        .map_err(db)?
    else {
        return match seen_key(conn, key.as_ref(), &fingerprint).await? {
            Some(answer) => Ok(answer),
            None => Err(StoreError::InvalidState(
                "the order row was not inserted and no order holds its key".into(),
            )
            .into()),
        };
    };
    tail.written(id, &order, event, &repeats, &index_text);
    counters.advance(day, seq);
    Ok((StoredOrder { id, order, sla }, IntakeOutcome::Created))
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
    created_at: DateTime<Utc>,
}

/// The earlier orders of any of the batch's customers or phones on any of its sub-categories
/// since the earliest window start (each half probes its `(customer_id | caller_phone,
/// sub_category, created_at)` index with array keys).
async fn repeat_candidates(
    conn: &mut PgConnection,
    probe: &RepeatProbe,
) -> Result<Vec<RepeatCandidate>, StoreError> {
    let rows: Vec<CandidateRow> = sqlx::query_as(
        "SELECT id, number, customer_id, caller_phone, sub_category, created_at \
             FROM work_orders WHERE customer_id = ANY($1) AND sub_category = ANY($3) \
             AND created_at >= $4 \
             UNION \
             SELECT id, number, customer_id, caller_phone, sub_category, created_at \
             FROM work_orders WHERE caller_phone = ANY($2) AND sub_category = ANY($3) \
             AND created_at >= $4",
    )
    .bind(&probe.customers)
    .bind(&probe.phones)
    .bind(&probe.sub_categories)
    .bind(probe.since)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|r| RepeatCandidate {
            id: r.id,
            number: r.number,
            customer_id: r.customer_id,
            caller_phone: r.caller_phone,
            sub_category: r.sub_category,
            created_at: r.created_at,
        })
        .collect())
}

/// The rows a batch appends after its orders: each written order's first event and its repeat
/// links, inserted with one statement each before COMMIT, and the batch's repeat candidates.
#[derive(Default)]
struct Tail {
    events: Vec<(i64, Event)>,
    repeats: Vec<(i64, i64)>,
    /// The search index rows of the written orders (id, terms).
    search: Vec<(i64, String)>,
    /// Found by one query before the first intake, plus every order written since.
    candidates: Vec<RepeatCandidate>,
}

impl Tail {
    /// Records what follows the order row `id` just written: its first event, its repeat
    /// links, its search row, and itself as a repeat candidate for the rest of the batch.
    fn written(
        &mut self,
        id: i64,
        order: &Order,
        event: Event,
        repeats: &[(i64, OrderNumber)],
        index_text: &str,
    ) {
        self.repeats
            .extend(repeats.iter().map(|(earlier, _)| (id, *earlier)));
        self.events.push((id, event));
        self.search.push((id, order_terms(order, index_text)));
        self.candidates.push(written_candidate(id, order));
    }
}

/// Inserts the first events and the repeat links of the batch's orders (at most
/// `MAX_INTAKE_BATCH` orders: 8 × 128 bound values, far below PostgreSQL's 65 535).
async fn insert_tail(conn: &mut PgConnection, tail: Tail) -> Result<(), StoreError> {
    if !tail.events.is_empty() {
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO work_order_events \
             (order_id, version, at, staff_id, from_state, to_state, kind, payload) ",
        );
        qb.push_values(&tail.events, |mut row, (order_id, e)| {
            let enc = encode_event(e);
            row.push_bind(*order_id)
                .push_bind(i64::try_from(e.version).unwrap_or(i64::MAX))
                .push_bind(e.at)
                .push_bind(e.actor.0)
                .push_bind(e.from.map(|s| s.code()))
                .push_bind(e.to.code())
                .push_bind(enc.kind)
                .push_bind(enc.payload)
                .push_unseparated("::jsonb");
        });
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    if !tail.repeats.is_empty() {
        let (orders, earlier): (Vec<i64>, Vec<i64>) = tail.repeats.into_iter().unzip();
        sqlx::query(
            "INSERT INTO work_order_repeats (order_id, earlier_id) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[])",
        )
        .bind(&orders)
        .bind(&earlier)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    put_terms(conn, &tail.search).await?;
    Ok(())
}

/// Inserts the order row; `None` when its idempotency key is already taken.
async fn insert_order(
    conn: &mut PgConnection,
    order: &Order,
    fingerprint: Option<&str>,
    sla: &SlaColumns,
) -> Result<Option<i64>, sqlx::Error> {
    let c = &OrderColumns::of(order);
    let snapshot = encode_order(order);
    sqlx::query_scalar(
        "INSERT INTO work_orders (number, state, appeal_type, sub_category, channel, priority, \
         major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, department, \
         host_department, owner_id, customer_id, caller_phone, idempotency_key, is_repeat, \
         supervised, chase_count, version, created_at, updated_at, snapshot, intake_fingerprint, \
         sla, due_at, warn_at, sla_check_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24::jsonb, $25, $26, $27, $28, $29) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(&c.number)
    .bind(c.state)
    .bind(c.appeal_type)
    .bind(&c.sub_category)
    .bind(c.channel)
    .bind(c.priority)
    .bind(c.major)
    .bind(&c.jurisdiction_path)
    .bind(c.host_unit_id)
    .bind(&c.host_unit_path)
    .bind(&c.home_unit_path)
    .bind(c.department)
    .bind(c.host_department)
    .bind(c.owner_id)
    .bind(c.customer_id)
    .bind(&c.caller_phone)
    .bind(&c.idempotency_key)
    .bind(c.repeat)
    .bind(c.supervised)
    .bind(c.chase_count)
    .bind(c.version)
    .bind(c.created_at)
    .bind(c.updated_at)
    .bind(snapshot)
    .bind(fingerprint)
    .bind(&sla.sla)
    .bind(sla.due_at)
    .bind(sla.warn_at)
    .bind(sla.check_at)
    .fetch_optional(&mut *conn)
    .await
}

/// The order an earlier intake with `key` created and the fingerprint stored with it, if any.
async fn by_key(
    conn: &mut PgConnection,
    key: &IdempotencyKey,
) -> Result<Option<(StoredOrder, Option<String>)>, StoreError> {
    let first: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, intake_fingerprint FROM work_orders WHERE idempotency_key = $1")
            .bind(key.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
    match first {
        Some((id, stored)) => Ok(Some((order_by_id(conn, id).await?, stored))),
        None => Ok(None),
    }
}
