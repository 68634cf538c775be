//! Writing work orders on SQLite. Every write holds the write lock from its first statement
//! (`BEGIN IMMEDIATE`), so the idempotency check, the day's counter, the version check and the
//! writes that follow cannot interleave with another writer: of two intakes with one key the
//! second finds the first order, and of two dispatchers from one version the second conflicts.
//! Intakes are group-committed by one writer task (`workorder_intake`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{ActorCtx, Command, Event, Intake, Order, OrderNumber, apply, evolve};
use kefu_store::TimeRules;
use kefu_store::search::{order_document, order_index_text};
use kefu_store::search_terms::index_key;
use kefu_store::sla::{SlaColumns, sla_columns};
use kefu_store::workorder::{rebuild, version_conflict};
use kefu_store::workorder_batch::PendingIntake;
use kefu_store::workorder_codec::{encode_event, encode_order};
use kefu_store::{
    IntakeOptions, IntakeOutcome, OrderColumns, OrderFilter, Page, PageRequest, StoreError,
    StoredEvent, StoredOrder, WorkOrderStore, WorkOrderStoreError,
};
use sqlx::SqliteConnection;

use crate::search::put_terms;
use crate::workorder_read::{self, locate_in_scope, order_by_id, replace_assists, timelines};
use crate::{SqliteStore, db, ms};

/// Appends `events` to the timeline of order `order_id`.
pub(crate) async fn insert_events(
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
        intake: Intake,
        options: IntakeOptions,
        actor: &ActorCtx,
        rules: &TimeRules,
        now: DateTime<Utc>,
    ) -> Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError> {
        // Deadlines depend on the appeal and its intake time only (not on the number or the
        // repeat links the writer assigns), so they are computed here, outside the batch.
        let provisional = Order::from_intake(&intake, actor.staff, now);
        let (sla, _) = sla_columns(&provisional, &[], rules)?;
        // Cut outside the writer's lock: the text is the intake's, only the number comes later.
        let index_text = self
            .text
            .current()
            .index_text(&order_document(&provisional));
        // Group commit: the writer task writes this intake with whatever else is queued.
        let pending = PendingIntake {
            intake,
            options,
            actor: actor.clone(),
            now,
            sla,
            index_text,
        };
        self.intakes.submit(pending).await
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
        let index_before = index_key(&current.order);
        let order = events.iter().fold(current.order, |o, e| evolve(&o, e));
        let (sla, columns) = sla_columns(&order, &current.sla, rules)?;
        if order.assisting != assisting_before {
            replace_assists(&mut tx, id, &order.assisting).await?;
        }
        if !update_order(&mut tx, id, expected_version, &order, &columns).await? {
            return Err(version_conflict(version));
        }
        insert_events(&mut tx, id, &events).await?;
        if index_key(&order) != index_before {
            let terms = order_index_text(&self.text.current(), &order);
            put_terms(&mut tx, id, &terms).await?;
        }
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
