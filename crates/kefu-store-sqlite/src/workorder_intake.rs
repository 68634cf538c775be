//! Work-order intake on SQLite, group-committed (`kefu_store::workorder_batch`): the writer
//! task takes the write lock once per batch (`BEGIN IMMEDIATE`) and writes the intakes in
//! order, so the idempotency check, the repeat search and the order row of one intake see every
//! earlier intake of the batch, and a refused intake leaves nothing behind (see `write_batch`
//! for why no savepoint is needed). The day's counter is read once per batch and written back
//! once before COMMIT (`BatchCounters`); a refused intake takes no number, so numbers stay
//! gap-free. Every statement is a round trip to the connection's own thread, which is what an
//! intake costs here, so each intake has one (its order row); the batch searches the repeat
//! candidates of all its intakes with one query (`RepeatProbe`) and appends the events and
//! repeat links with one statement each.

use async_trait::async_trait;
use kefu_domain::sla::Tracked;
use kefu_domain::workorder::{Event, IdempotencyKey, Order, OrderNumber, open, replay};
use kefu_store::search::with_number;
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
    events: Vec<(i64, Event)>,
    repeats: Vec<(i64, i64)>,
    /// The search index rows of the written orders (id, terms).
    search: Vec<(i64, String)>,
    /// The repeat candidates of the batch: found by one query before the first intake, plus
    /// every order written since.
    candidates: Vec<RepeatCandidate>,
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
    insert_terms(conn, &tail.search).await?;
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
    let Some(id) = insert_order(conn, &order, stored_fingerprint, &columns).await? else {
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
    tail.search
        .push((id, with_number(&order.number, &index_text)));
    tail.candidates.push(written_candidate(id, &order));
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

/// Inserts the order row; `None` when its idempotency key is already taken.
async fn insert_order(
    conn: &mut SqliteConnection,
    order: &Order,
    fingerprint: Option<&str>,
    sla: &SlaColumns,
) -> Result<Option<i64>, StoreError> {
    let c = &OrderColumns::of(order);
    let snapshot = encode_order(order);
    sqlx::query_scalar(
        "INSERT INTO work_orders (number, state, appeal_type, sub_category, channel, priority, \
         major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, department, \
         host_department, owner_id, customer_id, caller_phone, idempotency_key, is_repeat, \
         supervised, chase_count, version, created_at, updated_at, snapshot, intake_fingerprint, \
         sla, due_at, warn_at, sla_check_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
         ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
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
    .bind(&sla.sla)
    .bind(sla.due_at.map(ms))
    .bind(sla.warn_at.map(ms))
    .bind(sla.check_at.map(ms))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)
}
