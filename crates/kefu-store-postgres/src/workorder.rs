//! Writing work orders on PostgreSQL. A change locks the order row (`FOR UPDATE`) before its
//! version check, so of two dispatchers from one version the second waits, then conflicts. The
//! day's counter row is taken with an upsert, which locks it until commit: numbers are
//! allocated one at a time, gap-free among committed intakes. Two intakes with one idempotency
//! key race on the key's unique index: the loser rolls back and returns the winner's order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{
    ActorCtx, Command, Event, IdempotencyKey, Intake, Order, OrderNumber, apply, evolve, open,
    replay,
};
use kefu_store::TimeRules;
use kefu_store::sla::{SlaColumns, sla_columns};
use kefu_store::workorder::{
    allocate_number, in_scope, order_not_found, rebuild, repeat_window_start, repeats_among,
    replay_or_refuse, version_conflict,
};
use kefu_store::workorder_codec::{encode_event, encode_order, intake_fingerprint};
use kefu_store::{
    IntakeOptions, IntakeOutcome, OrderColumns, OrderFilter, Page, PageRequest, RepeatCandidate,
    StoreError, StoredEvent, StoredOrder, WorkOrderStore, WorkOrderStoreError, centre_date,
};
use sqlx::PgConnection;

use crate::workorder_read::{
    self, assists_in_scope, locate_in_scope, order_by_id, replace_assists, timelines,
};
use crate::{PgStore, db, is_unique_violation};

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

/// The next sequence number of the centre's `day` (the row stays locked until commit).
async fn next_seq(conn: &mut PgConnection, day: &str) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO work_order_counters (day, last_seq) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET last_seq = work_order_counters.last_seq + 1 \
         RETURNING last_seq",
    )
    .bind(day)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}

async fn insert_events(
    conn: &mut PgConnection,
    order_id: i64,
    events: &[Event],
) -> Result<(), StoreError> {
    for e in events {
        let enc = encode_event(e);
        sqlx::query(
            "INSERT INTO work_order_events \
             (order_id, version, at, staff_id, from_state, to_state, kind, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
        )
        .bind(order_id)
        .bind(i64::try_from(e.version).unwrap_or(i64::MAX))
        .bind(e.at)
        .bind(e.actor.0)
        .bind(e.from.map(|s| s.code()))
        .bind(e.to.code())
        .bind(enc.kind)
        .bind(enc.payload)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn insert_order(
    conn: &mut PgConnection,
    order: &Order,
    fingerprint: Option<&str>,
    sla: &SlaColumns,
) -> Result<i64, sqlx::Error> {
    let c = &OrderColumns::of(order);
    let snapshot = encode_order(order);
    sqlx::query_scalar(
        "INSERT INTO work_orders (number, state, appeal_type, sub_category, channel, priority, \
         major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, department, \
         host_department, owner_id, customer_id, caller_phone, idempotency_key, is_repeat, \
         supervised, chase_count, version, created_at, updated_at, snapshot, intake_fingerprint, \
         sla, due_at, warn_at, sla_check_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24::jsonb, $25, $26, $27, $28, $29) RETURNING id",
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
    .fetch_one(&mut *conn)
    .await
}

/// Rewrites the changing columns of row `id`, only if it is still at `expected`.
async fn update_order(
    conn: &mut PgConnection,
    id: i64,
    expected: i64,
    order: &Order,
    sla: &SlaColumns,
) -> Result<bool, StoreError> {
    let c = &OrderColumns::of(order);
    let done = sqlx::query(
        "UPDATE work_orders SET state = $1, appeal_type = $2, sub_category = $3, priority = $4, \
         major = $5, host_unit_id = $6, host_unit_path = $7, home_unit_path = $8, \
         department = $9, host_department = $10, supervised = $11, chase_count = $12, \
         version = $13, updated_at = $14, snapshot = $15::jsonb, sla = $16, due_at = $17, \
         warn_at = $18, sla_check_at = $19 WHERE id = $20 AND version = $21",
    )
    .bind(c.state)
    .bind(c.appeal_type)
    .bind(&c.sub_category)
    .bind(c.priority)
    .bind(c.major)
    .bind(c.host_unit_id)
    .bind(&c.host_unit_path)
    .bind(&c.home_unit_path)
    .bind(c.department)
    .bind(c.host_department)
    .bind(c.supervised)
    .bind(c.chase_count)
    .bind(c.version)
    .bind(c.updated_at)
    .bind(encode_order(order))
    .bind(&sla.sla)
    .bind(sla.due_at)
    .bind(sla.warn_at)
    .bind(sla.check_at)
    .bind(id)
    .bind(expected)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
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

#[async_trait]
impl WorkOrderStore for PgStore {
    async fn intake(
        &self,
        mut intake: Intake,
        options: IntakeOptions,
        actor: &ActorCtx,
        rules: &TimeRules,
        now: DateTime<Utc>,
    ) -> Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError> {
        let key = intake.idempotency_key.clone();
        let fingerprint = intake_fingerprint(&intake);
        let mut tx = self.write_tx().await?;
        if let Some((first, stored)) = match &key {
            Some(k) => by_key(&mut tx, k).await?,
            None => None,
        } {
            return replay_or_refuse(first, stored.as_deref(), &fingerprint);
        }
        let day = centre_date(now);
        let seq = next_seq(&mut tx, &day.to_string()).await?;
        intake.number = allocate_number(day, seq)?;
        let candidates =
            repeat_candidates(&mut tx, &intake, repeat_window_start(now, options)).await?;
        let repeats = repeats_among(&intake, now, options, candidates)?;
        intake.repeat_of = repeats.iter().map(|(_, n)| *n).collect();
        let event = open(intake, actor, now)?;
        let order = replay(std::slice::from_ref(&event)).map_err(|e| {
            StoreError::InvalidState(format!("the intake event does not start an order: {e}"))
        })?;
        let stored_fingerprint = key.as_ref().map(|_| fingerprint.as_str());
        let (sla, columns) = sla_columns(&order, &[], rules)?;
        let id = match insert_order(&mut tx, &order, stored_fingerprint, &columns).await {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) && key.is_some() => {
                // Another intake with the same key committed first: return its order if the
                // content is the same, else refuse (this transaction is rolled back).
                drop(tx);
                let mut conn = self.pool.acquire().await.map_err(db)?;
                return match &key {
                    Some(k) => match by_key(&mut conn, k).await? {
                        Some((first, stored)) => {
                            replay_or_refuse(first, stored.as_deref(), &fingerprint)
                        }
                        None => Err(db(e).into()),
                    },
                    None => Err(db(e).into()),
                };
            }
            Err(e) => return Err(db(e).into()),
        };
        let earlier: Vec<i64> = repeats.iter().map(|(id, _)| *id).collect();
        sqlx::query(
            "INSERT INTO work_order_repeats (order_id, earlier_id) SELECT $1, UNNEST($2::bigint[])",
        )
        .bind(id)
        .bind(&earlier)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        insert_events(&mut tx, id, std::slice::from_ref(&event)).await?;
        tx.commit().await.map_err(db)?;
        Ok((StoredOrder { id, order, sla }, IntakeOutcome::Created))
    }

    async fn apply(
        &self,
        number: &OrderNumber,
        expected_version: i64,
        command: Command,
        actor: &ActorCtx,
        scope: &OrgPath,
        rules: &TimeRules,
        now: DateTime<Utc>,
    ) -> Result<(StoredOrder, Vec<Event>), WorkOrderStoreError> {
        let mut tx = self.write_tx().await?;
        // Lock first, then check the scope on the locked row: a concurrent re-dispatch cannot
        // move the order between the check and the change.
        let locked: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, home_unit_path FROM work_orders WHERE number = $1 FOR UPDATE",
        )
        .bind(number.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let id = match locked {
            Some((id, home)) if in_scope(scope, &home) => id,
            Some((id, _)) if assists_in_scope(&mut tx, id, scope).await? => id,
            _ => return Err(order_not_found().into()),
        };
        let current = order_by_id(&mut tx, id).await?;
        let version = i64::try_from(current.order.version).unwrap_or(i64::MAX);
        if version != expected_version {
            return Err(version_conflict(version));
        }
        let events = apply(&current.order, command, actor, now)?;
        let assisting_before = current.order.assisting.clone();
        let order = events.iter().fold(current.order, |o, e| evolve(&o, e));
        let (sla, columns) = sla_columns(&order, &current.sla, rules)?;
        if order.assisting != assisting_before {
            replace_assists(&mut tx, id, &order.assisting).await?;
        }
        if !update_order(&mut tx, id, expected_version, &order, &columns).await? {
            return Err(version_conflict(version));
        }
        insert_events(&mut tx, id, &events).await?;
        tx.commit().await.map_err(db)?;
        Ok((StoredOrder { id, order, sla }, events))
    }

    async fn get_order(
        &self,
        number: &OrderNumber,
        scope: &OrgPath,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        match locate_in_scope(&mut conn, number, scope).await {
            Ok(id) => order_by_id(&mut conn, id).await.map(Some),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn timeline(
        &self,
        number: &OrderNumber,
        scope: &OrgPath,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let id = locate_in_scope(&mut conn, number, scope).await?;
        let events = timelines(&mut conn, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        // A timeline that does not replay is reported, never shown half.
        rebuild(id, &events, None)?;
        Ok(events)
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        scope: &OrgPath,
        page: PageRequest,
    ) -> Result<Page<StoredOrder>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        workorder_read::list(&mut conn, filter, scope, page).await
    }
}
