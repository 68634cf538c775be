//! Work-order intake on SQLite, group-committed (`kefu_store::workorder_batch`): the writer
//! task takes the write lock once per batch (`BEGIN IMMEDIATE`) and writes the intakes in
//! order, so the idempotency check, the repeat search and the order row of one intake see every
//! earlier intake of the batch, and a refused intake leaves nothing behind (see `write_batch`
//! for why no savepoint is needed). The day's counter is read once per batch and written back
//! once before COMMIT (`BatchCounters`); a refused intake takes no number, so numbers stay
//! gap-free. Every statement is a round trip to the connection's own thread, which is what an
//! intake costs here, so each intake has two (repeat search, order row) and the batch appends
//! the events and repeat links with one statement each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::workorder::{Event, IdempotencyKey, Intake, Order, OrderNumber, open, replay};
use kefu_store::workorder::{repeat_window_start, repeats_among, replay_or_refuse};
use kefu_store::workorder_batch::{BatchCounters, IntakeBatch, IntakeResult, PendingIntake};
use kefu_store::workorder_codec::{encode_event, encode_order, intake_fingerprint};
use kefu_store::{
    IntakeOutcome, OrderColumns, RepeatCandidate, StoreError, StoredOrder, WorkOrderStoreError,
    centre_date,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

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
    events: Vec<(i64, Event)>,
    repeats: Vec<(i64, i64)>,
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
    let mut tail = Tail::default();
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

/// Inserts the first events and the repeat links of the batch's orders (a batch holds at most
/// `MAX_INTAKE_BATCH` orders: 8 × 128 bound values, far below SQLite's limit).
async fn insert_tail(conn: &mut SqliteConnection, tail: Tail) -> Result<(), StoreError> {
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
    Ok(())
}

/// The answer for a key seen before (committed, or earlier in this batch): its first order,
/// replayed when `fingerprint` matches the stored one, else refused; `None` for a fresh key.
async fn seen_key(
    conn: &mut SqliteConnection,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
) -> Result<Option<(StoredOrder, IntakeOutcome)>, WorkOrderStoreError> {
    let Some(key) = key else { return Ok(None) };
    let first: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, intake_fingerprint FROM work_orders WHERE idempotency_key = ?")
            .bind(key.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
    let Some((id, stored)) = first else {
        return Ok(None);
    };
    let order = order_by_id(conn, id).await?;
    replay_or_refuse(order, stored.as_deref(), fingerprint).map(Some)
}

/// One intake, inside the batch's transaction (the write lock is held). The order row is
/// inserted `ON CONFLICT (idempotency_key) DO NOTHING`, so a fresh key (the usual case) costs
/// no look-up; a key seen before inserts nothing and replays or is refused — also when the new
/// intake would have been refused otherwise, as when the key was checked first. The number is
/// only taken (`counters.advance`) once the order is written.
async fn intake_one(
    conn: &mut SqliteConnection,
    counters: &mut BatchCounters,
    tail: &mut Tail,
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
    let Some(id) = insert_order(conn, &order, stored_fingerprint).await? else {
        return match seen_key(conn, key.as_ref(), &fingerprint).await? {
            Some(answer) => Ok(answer),
            None => Err(StoreError::InvalidState(
                "the order row was not inserted and no order holds its key".into(),
            )
            .into()),
        };
    };
    tail.repeats
        .extend(repeats.iter().map(|(earlier, _)| (id, *earlier)));
    tail.events.push((id, event));
    counters.advance(day, seq);
    Ok((StoredOrder { id, order }, IntakeOutcome::Created))
}

/// The order an intake would write: its number (not yet taken), the repeat links, the
/// domain's `open` (which checks the actor may take appeals) and the order it starts.
async fn prepare(
    conn: &mut SqliteConnection,
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
    created_at: i64,
}

/// The earlier orders of the same customer or phone on the same sub-category in the window.
async fn repeat_candidates(
    conn: &mut SqliteConnection,
    intake: &Intake,
    since: DateTime<Utc>,
) -> Result<Vec<RepeatCandidate>, StoreError> {
    let who = intake.caller.appellant();
    let rows: Vec<CandidateRow> = sqlx::query_as(
        "SELECT id, number, customer_id, caller_phone, sub_category, created_at FROM work_orders \
         WHERE customer_id = ?1 AND sub_category = ?3 AND created_at >= ?4 \
         UNION \
         SELECT id, number, customer_id, caller_phone, sub_category, created_at FROM work_orders \
         WHERE caller_phone = ?2 AND sub_category = ?3 AND created_at >= ?4",
    )
    .bind(who.customer.map(|c| c.0))
    .bind(who.phone.as_ref().map(|p| p.as_str().to_owned()))
    .bind(intake.sub_category.as_str())
    .bind(ms(since))
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

/// Inserts the order row; `None` when its idempotency key is already taken.
async fn insert_order(
    conn: &mut SqliteConnection,
    order: &Order,
    fingerprint: Option<&str>,
) -> Result<Option<i64>, StoreError> {
    let c = &OrderColumns::of(order);
    let snapshot = encode_order(order);
    sqlx::query_scalar(
        "INSERT INTO work_orders (number, state, appeal_type, sub_category, channel, priority, \
         major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, department, \
         host_department, owner_id, customer_id, caller_phone, idempotency_key, is_repeat, \
         supervised, chase_count, version, created_at, updated_at, snapshot, intake_fingerprint) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
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
    .bind(ms(c.created_at))
    .bind(ms(c.updated_at))
    .bind(snapshot)
    .bind(fingerprint)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)
}
