//! Writing work orders on SQLite. Every write holds the write lock from its first statement
//! (`BEGIN IMMEDIATE`), so the idempotency check, the day's counter, the version check and the
//! writes that follow cannot interleave with another writer: of two intakes with one key the
//! second finds the first order, and of two dispatchers from one version the second conflicts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{
    ActorCtx, Command, Event, Intake, Order, OrderNumber, apply, evolve, open, replay,
};
use kefu_store::TimeRules;
use kefu_store::sla::{SlaColumns, sla_columns};
use kefu_store::workorder::{
    allocate_number, rebuild, repeat_window_start, repeats_among, replay_or_refuse,
    version_conflict,
};
use kefu_store::workorder_codec::{encode_event, encode_order, intake_fingerprint};
use kefu_store::{
    IntakeOptions, IntakeOutcome, OrderColumns, OrderFilter, Page, PageRequest, RepeatCandidate,
    StoreError, StoredEvent, StoredOrder, WorkOrderStore, WorkOrderStoreError, centre_date,
};
use sqlx::SqliteConnection;

use crate::workorder_read::{self, locate_in_scope, order_by_id, replace_assists, timelines};
use crate::{SqliteStore, db, from_ms, ms};

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

/// The next sequence number of the centre's `day`.
async fn next_seq(conn: &mut SqliteConnection, day: &str) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO work_order_counters (day, last_seq) VALUES (?, 1) \
         ON CONFLICT (day) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
    )
    .bind(day)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}

async fn insert_events(
    conn: &mut SqliteConnection,
    order_id: i64,
    events: &[Event],
) -> Result<(), StoreError> {
    for e in events {
        let enc = encode_event(e);
        sqlx::query(
            "INSERT INTO work_order_events \
             (order_id, version, at, staff_id, from_state, to_state, kind, payload) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(order_id)
        .bind(i64::try_from(e.version).unwrap_or(i64::MAX))
        .bind(ms(e.at))
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
    conn: &mut SqliteConnection,
    order: &Order,
    fingerprint: Option<&str>,
    sla: &SlaColumns,
) -> Result<i64, StoreError> {
    let c = &OrderColumns::of(order);
    let snapshot = encode_order(order);
    sqlx::query_scalar(
        "INSERT INTO work_orders (number, state, appeal_type, sub_category, channel, priority, \
         major, jurisdiction_path, host_unit_id, host_unit_path, home_unit_path, department, \
         host_department, owner_id, customer_id, caller_phone, idempotency_key, is_repeat, \
         supervised, chase_count, version, created_at, updated_at, snapshot, intake_fingerprint, \
         sla, due_at, warn_at, sla_check_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
         ?, ?, ?, ?) RETURNING id",
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
    .fetch_one(&mut *conn)
    .await
    .map_err(db)
}

/// Rewrites the changing columns of row `id`, only if it is still at `expected`.
async fn update_order(
    conn: &mut SqliteConnection,
    id: i64,
    expected: i64,
    order: &Order,
    sla: &SlaColumns,
) -> Result<bool, StoreError> {
    let c = &OrderColumns::of(order);
    let done = sqlx::query(
        "UPDATE work_orders SET state = ?, appeal_type = ?, sub_category = ?, priority = ?, \
         major = ?, host_unit_id = ?, host_unit_path = ?, home_unit_path = ?, department = ?, \
         host_department = ?, supervised = ?, chase_count = ?, version = ?, updated_at = ?, \
         snapshot = ?, sla = ?, due_at = ?, warn_at = ?, sla_check_at = ? \
         WHERE id = ? AND version = ?",
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
    .bind(ms(c.updated_at))
    .bind(encode_order(order))
    .bind(&sla.sla)
    .bind(sla.due_at.map(ms))
    .bind(sla.warn_at.map(ms))
    .bind(sla.check_at.map(ms))
    .bind(id)
    .bind(expected)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() == 1)
}

#[async_trait]
impl WorkOrderStore for SqliteStore {
    async fn intake(
        &self,
        mut intake: Intake,
        options: IntakeOptions,
        actor: &ActorCtx,
        rules: &TimeRules,
        now: DateTime<Utc>,
    ) -> Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError> {
        let fingerprint = intake_fingerprint(&intake);
        // The write lock is held from here: a concurrent intake with the same key waits and then
        // finds this one's row (and its fingerprint).
        let mut tx = self.write_tx().await?;
        if let Some(key) = &intake.idempotency_key {
            let first: Option<(i64, Option<String>)> = sqlx::query_as(
                "SELECT id, intake_fingerprint FROM work_orders WHERE idempotency_key = ?",
            )
            .bind(key.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            if let Some((id, stored)) = first {
                let order = order_by_id(&mut tx, id).await?;
                return replay_or_refuse(order, stored.as_deref(), &fingerprint);
            }
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
        let keyed = order.idempotency_key.is_some();
        let (sla, columns) = sla_columns(&order, &[], rules)?;
        let id = insert_order(
            &mut tx,
            &order,
            keyed.then_some(fingerprint.as_str()),
            &columns,
        )
        .await?;
        for (earlier, _) in &repeats {
            sqlx::query("INSERT INTO work_order_repeats (order_id, earlier_id) VALUES (?, ?)")
                .bind(id)
                .bind(earlier)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
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
        let id = locate_in_scope(&mut tx, number, scope).await?;
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
