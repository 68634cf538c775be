//! Work-order intake on PostgreSQL, group-committed (`kefu_store::workorder_batch`): the writer
//! task writes each batch in one transaction on one connection, each intake in its own
//! savepoint. The day's counter row is locked by an upsert before the first intake and until
//! commit, read once and written back once (`BatchCounters`): numbers are allocated one batch
//! at a time, gap-free among committed intakes (a refused intake takes no number). Within a
//! batch a later intake sees the earlier ones' rows (same key → replay, repeat links). Another
//! process's intake with the same key meets this one on the key's unique index: the later
//! insert does nothing and answers with the first order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::workorder::{Event, IdempotencyKey, Intake, Order, OrderNumber, open, replay};
use kefu_store::workorder::{repeat_window_start, repeats_among, replay_or_refuse};
use kefu_store::workorder_batch::{BatchCounters, IntakeBatch, IntakeResult, PendingIntake};
use kefu_store::workorder_codec::{encode_order, intake_fingerprint};
use kefu_store::{
    IntakeOutcome, OrderColumns, RepeatCandidate, StoreError, StoredOrder, WorkOrderStoreError,
    centre_date,
};
use sqlx::{PgConnection, PgPool};

use crate::db;
use crate::workorder::insert_events;
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

/// One transaction for the batch. An error of the batch itself (begin, the counters, a
/// savepoint statement, commit) fails every intake of it: the transaction is rolled back when
/// `tx` drops.
async fn write_batch(
    pool: &PgPool,
    batch: Vec<PendingIntake>,
) -> Result<Vec<IntakeResult>, StoreError> {
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
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        exec(&mut tx, "SAVEPOINT intake").await?;
        let result = intake_one(&mut tx, &mut counters, pending).await;
        if result.is_err() {
            // Undo whatever this intake wrote; the others of the batch stay.
            exec(&mut tx, "ROLLBACK TO SAVEPOINT intake").await?;
        }
        exec(&mut tx, "RELEASE SAVEPOINT intake").await?;
        results.push(result);
    }
    for (day, last) in counters.changed() {
        sqlx::query("UPDATE work_order_counters SET last_seq = $2 WHERE day = $1")
            .bind(day.to_string())
            .bind(last)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(results)
}

async fn exec(conn: &mut PgConnection, sql: &'static str) -> Result<(), StoreError> {
    sqlx::query(sql)
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
    pending: PendingIntake,
) -> Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError> {
    let fingerprint = intake_fingerprint(&pending.intake);
    let key = pending.intake.idempotency_key.clone();
    let day = centre_date(pending.now);
    let (seq, order, event, repeats) = match prepare(conn, counters, pending).await {
        Ok(prepared) => prepared,
        Err(e) => {
            return match seen_key(conn, key.as_ref(), &fingerprint).await? {
                Some(answer) => Ok(answer),
                None => Err(e),
            };
        }
    };
    let stored_fingerprint = key.as_ref().map(|_| fingerprint.as_str());
    let Some(id) = insert_order(conn, &order, stored_fingerprint)
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
    if !repeats.is_empty() {
        let earlier: Vec<i64> = repeats.iter().map(|(id, _)| *id).collect();
        sqlx::query(
            "INSERT INTO work_order_repeats (order_id, earlier_id) SELECT $1, UNNEST($2::bigint[])",
        )
        .bind(id)
        .bind(&earlier)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    insert_events(conn, id, std::slice::from_ref(&event)).await?;
    counters.advance(day, seq);
    Ok((StoredOrder { id, order }, IntakeOutcome::Created))
}

/// The order an intake would write: its number (not yet taken), the repeat links, the
/// domain's `open` (which checks the actor may take appeals) and the order it starts.
async fn prepare(
    conn: &mut PgConnection,
    counters: &BatchCounters,
    pending: PendingIntake,
) -> Result<(i64, Order, Event, Vec<(i64, OrderNumber)>), WorkOrderStoreError> {
    let PendingIntake {
        mut intake,
        options,
        actor,
        now,
    } = pending;
    let (seq, number) = counters.next(centre_date(now))?;
    intake.number = number;
    let candidates = repeat_candidates(conn, &intake, repeat_window_start(now, options)).await?;
    let repeats = repeats_among(&intake, now, options, candidates)?;
    intake.repeat_of = repeats.iter().map(|(_, n)| *n).collect();
    let event = open(intake, &actor, now)?;
    let order = replay(std::slice::from_ref(&event)).map_err(|e| {
        StoreError::InvalidState(format!("the intake event does not start an order: {e}"))
    })?;
    Ok((seq, order, event, repeats))
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

/// The earlier orders of the same customer or phone on the same sub-category in the window.
async fn repeat_candidates(
    conn: &mut PgConnection,
    intake: &Intake,
    since: DateTime<Utc>,
) -> Result<Vec<RepeatCandidate>, StoreError> {
    let who = intake.caller.appellant();
    let rows: Vec<CandidateRow> = sqlx::query_as(
        "SELECT id, number, customer_id, caller_phone, sub_category, created_at \
             FROM work_orders WHERE customer_id = $1 AND sub_category = $3 AND created_at >= $4 \
             UNION \
             SELECT id, number, customer_id, caller_phone, sub_category, created_at \
             FROM work_orders WHERE caller_phone = $2 AND sub_category = $3 AND created_at >= $4",
    )
    .bind(who.customer.map(|c| c.0))
    .bind(who.phone.as_ref().map(|p| p.as_str().to_owned()))
    .bind(intake.sub_category.as_str())
    .bind(since)
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

/// Inserts the order row; `None` when its idempotency key is already taken.
async fn insert_order(
    conn: &mut PgConnection,
    order: &Order,
    fingerprint: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    let c = &OrderColumns::of(order);
    let snapshot = encode_order(order);
    sqlx::query_scalar(
        "INSERT INTO work_orders (number, state, appeal_type, sub_category, channel, priority, \
         major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, department, \
         host_department, owner_id, customer_id, caller_phone, idempotency_key, is_repeat, \
         supervised, chase_count, version, created_at, updated_at, snapshot, intake_fingerprint) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24::jsonb, $25) \
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
