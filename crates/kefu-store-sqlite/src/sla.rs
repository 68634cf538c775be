//! The SLA sweep on SQLite: one `BEGIN IMMEDIATE` transaction per batch of due orders (SQLite
//! has one writer, so no two sweeps can take the same order), alerts inserted once each. A batch
//! is decided in memory and written with one multi-row `INSERT` of its alerts and one
//! `UPDATE … FROM (VALUES …)` of its orders, so its cost does not grow with statement round trips.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::calendar::LimitKind;
use kefu_domain::org::OrgPath;
use kefu_domain::sla::{AlertLevel, alert_unit, raise};
use kefu_domain::workorder::OrderNumber;
use kefu_store::StoreError;
use kefu_store::sla::{
    SlaColumns, SlaStore, StoredAlert, Supervisors, SweepBatch, decode_staff_ids, decode_tracked,
    encode_staff_ids,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::workorder_read::locate_in_scope;
use crate::{SqliteStore, db, from_ms, ms};

/// Active supervisors by the path of their unit.
async fn supervisors(conn: &mut SqliteConnection) -> Result<Supervisors, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT s.id, u.path FROM staff s \
         JOIN staff_roles r ON r.staff_id = s.id AND r.role = 'supervisor' \
         JOIN org_units u ON u.id = s.org_unit_id WHERE s.active = 1",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(Supervisors::from_rows(rows))
}

fn corrupt(id: i64, reason: String) -> StoreError {
    StoreError::Corrupt {
        entity: "work_order",
        id: id.to_string(),
        reason,
    }
}

/// An alert about to be written.
struct AlertRow {
    order_id: i64,
    kind: &'static str,
    round_start: i64,
    level: &'static str,
    due_at: Option<i64>,
    reached_at: i64,
    unit: String,
    supervisors: String,
}

/// Alert rows per `INSERT` (9 parameters each, well under SQLite's limit).
const ALERTS_PER_INSERT: usize = 1_000;

/// Writes `alerts` with multi-row `INSERT`s, each once (the unique key backs the idempotence);
/// how many were new.
async fn insert_alerts(
    conn: &mut SqliteConnection,
    alerts: &[AlertRow],
    now: i64,
) -> Result<u32, StoreError> {
    let mut written = 0_u64;
    for chunk in alerts.chunks(ALERTS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO work_order_alerts (order_id, limit_kind, round_start, level, due_at, \
             reached_at, raised_at, unit_path, supervisors) ",
        );
        qb.push_values(chunk, |mut b, a| {
            b.push_bind(a.order_id)
                .push_bind(a.kind)
                .push_bind(a.round_start)
                .push_bind(a.level)
                .push_bind(a.due_at)
                .push_bind(a.reached_at)
                .push_bind(now)
                .push_bind(a.unit.clone())
                .push_bind(a.supervisors.clone());
        });
        qb.push(" ON CONFLICT (order_id, limit_kind, round_start, level) DO NOTHING");
        written += qb
            .build()
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected();
    }
    Ok(u32::try_from(written).unwrap_or(u32::MAX))
}

/// Moves the SLA state of the swept orders on: one `UPDATE … FROM (VALUES …)` per chunk.
async fn update_orders(
    conn: &mut SqliteConnection,
    rows: &[(i64, String, Option<i64>)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(ALERTS_PER_INSERT) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "UPDATE work_orders SET sla = u.column2, sla_check_at = u.column3 FROM (",
        );
        qb.push_values(chunk, |mut b, (id, sla, check)| {
            b.push_bind(*id).push_bind(sla.clone()).push_bind(*check);
        });
        qb.push(") AS u WHERE work_orders.id = u.column1");
        qb.build().execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl SlaStore for SqliteStore {
    async fn sweep(&self, now: DateTime<Utc>, batch: u32) -> Result<SweepBatch, StoreError> {
        let mut tx = self.write_tx().await?;
        let due: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, home_unit_path, sla FROM work_orders \
             WHERE sla_check_at <= ? ORDER BY sla_check_at LIMIT ?",
        )
        .bind(ms(now))
        .bind(i64::from(batch))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut done = SweepBatch::default();
        if due.is_empty() {
            return Ok(done);
        }
        let people = supervisors(&mut tx).await?;
        // Decide in memory, then write the batch in a few statements: a statement round trip
        // per alert and per order was most of a sweep's time.
        let mut alerts = Vec::new();
        let mut updates = Vec::with_capacity(due.len());
        for (id, home, raw) in due {
            let mut tracked = decode_tracked(raw.as_deref()).map_err(|e| corrupt(id, e))?;
            let holding = OrgPath::from_stored(&home)
                .ok_or_else(|| corrupt(id, format!("home unit path '{home}'")))?;
            for alert in raise(&mut tracked, now) {
                let (unit, staff) = people.for_unit(&alert_unit(alert.level, &holding));
                alerts.push(AlertRow {
                    order_id: id,
                    kind: alert.kind.code(),
                    round_start: ms(alert.start),
                    level: alert.level.code(),
                    due_at: alert.due_at.map(ms),
                    reached_at: ms(alert.reached_at),
                    unit: unit.as_str().to_owned(),
                    supervisors: encode_staff_ids(&staff),
                });
            }
            let columns = SlaColumns::of(&tracked);
            updates.push((id, columns.sla, columns.check_at.map(ms)));
            done.orders += 1;
        }
        done.alerts = insert_alerts(&mut tx, &alerts, ms(now)).await?;
        update_orders(&mut tx, &updates).await?;
        tx.commit().await.map_err(db)?;
        Ok(done)
    }

    async fn alerts(
        &self,
        number: &OrderNumber,
        scope: &OrgPath,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let id = locate_in_scope(&mut conn, number, scope).await?;
        type Row = (
            i64,
            String,
            i64,
            String,
            Option<i64>,
            i64,
            i64,
            String,
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, limit_kind, round_start, level, due_at, reached_at, raised_at, \
             unit_path, supervisors FROM work_order_alerts WHERE order_id = ? ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(
                |(aid, kind, start, level, due, reached, raised, unit, staff)| {
                    let bad = |what: &str| corrupt(id, format!("alert {aid}: {what}"));
                    Ok(StoredAlert {
                        id: aid,
                        number: *number,
                        kind: LimitKind::from_code(&kind).ok_or_else(|| bad("limit kind"))?,
                        round_start: from_ms("work_order", id, start)?,
                        level: AlertLevel::from_code(&level).ok_or_else(|| bad("level"))?,
                        due_at: due.map(|d| from_ms("work_order", id, d)).transpose()?,
                        reached_at: from_ms("work_order", id, reached)?,
                        raised_at: from_ms("work_order", id, raised)?,
                        unit: OrgPath::from_stored(&unit).ok_or_else(|| bad("unit path"))?,
                        supervisors: decode_staff_ids(&staff).map_err(|e| bad(&e))?,
                    })
                },
            )
            .collect()
    }
}
