//! The SLA sweep on SQLite: one `BEGIN IMMEDIATE` transaction per batch of due orders (SQLite
//! has one writer, so no two sweeps can take the same order), alerts inserted once each.

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
use sqlx::SqliteConnection;

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
        for (id, home, raw) in due {
            let mut tracked = decode_tracked(raw.as_deref()).map_err(|e| corrupt(id, e))?;
            let holding = OrgPath::from_stored(&home)
                .ok_or_else(|| corrupt(id, format!("home unit path '{home}'")))?;
            for alert in raise(&mut tracked, now) {
                let (unit, staff) = people.for_unit(&alert_unit(alert.level, &holding));
                let written = sqlx::query(
                    "INSERT INTO work_order_alerts (order_id, limit_kind, round_start, level, \
                     due_at, reached_at, raised_at, unit_path, supervisors) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (order_id, limit_kind, round_start, level) DO NOTHING",
                )
                .bind(id)
                .bind(alert.kind.code())
                .bind(ms(alert.start))
                .bind(alert.level.code())
                .bind(alert.due_at.map(ms))
                .bind(ms(alert.reached_at))
                .bind(ms(now))
                .bind(unit.as_str())
                .bind(encode_staff_ids(&staff))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                done.alerts += u32::try_from(written.rows_affected()).unwrap_or(0);
            }
            let columns = SlaColumns::of(&tracked);
            sqlx::query("UPDATE work_orders SET sla = ?, sla_check_at = ? WHERE id = ?")
                .bind(&columns.sla)
                .bind(columns.check_at.map(ms))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            done.orders += 1;
        }
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
