//! Writing work orders on PostgreSQL. A change locks the order row (`FOR UPDATE`) before its
//! version check, so of two dispatchers from one version the second waits, then conflicts.
//! Intakes are group-committed by one writer task (`workorder_intake`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{ActorCtx, Command, Event, Intake, Order, OrderNumber, apply, evolve};
use kefu_store::TimeRules;
use kefu_store::search::{order_document, order_index_text};
use kefu_store::search_terms::index_key;
use kefu_store::sla::{SlaColumns, sla_columns};
use kefu_store::workorder::{in_scope, order_not_found, rebuild, version_conflict};
use kefu_store::workorder_batch::PendingIntake;
use kefu_store::workorder_codec::{encode_event, encode_order};
use kefu_store::{
    IntakeOptions, IntakeOutcome, OrderColumns, OrderFilter, Page, PageRequest, StoreError,
    StoredEvent, StoredOrder, WorkOrderStore, WorkOrderStoreError,
};
use sqlx::PgConnection;

use crate::search::put_terms;
use crate::workorder_read::{
    self, assists_in_scope, locate_in_scope, order_by_id, replace_assists, timelines,
};
use crate::{PgStore, db};

/// Appends `events` to the timeline of order `order_id`.
pub(crate) async fn insert_events(
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

#[async_trait]
impl WorkOrderStore for PgStore {
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
        // Cut outside the writer's transaction: the text is the intake's, only the number
        // comes later.
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
            put_terms(&mut tx, &[(id, terms)]).await?;
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
