//! The SLA sweep on PostgreSQL. Each batch locks its due orders with `FOR UPDATE SKIP LOCKED`,
//! so several server processes sweeping at once share the work and never take the same order;
//! a transition on an order (which locks its row too) waits for the sweep's batch or is waited
//! for, so neither loses the other's alerts. The unique key on alerts backs the idempotence.

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
use sqlx::PgConnection;

use crate::workorder_read::locate_in_scope;
use crate::{PgStore, db};

/// Active supervisors by the path of their unit.
async fn supervisors(conn: &mut PgConnection) -> Result<Supervisors, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT s.id, u.path FROM staff s \
         JOIN staff_roles r ON r.staff_id = s.id AND r.role = 'supervisor' \
         JOIN org_units u ON u.id = s.org_unit_id WHERE s.active",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    Ok(Supervisors::from_rows(rows))
}

/// The alerts of one batch, column by column (for one `UNNEST` insert).
#[derive(Default)]
struct AlertColumns {
    order_id: Vec<i64>,
    kind: Vec<String>,
    start: Vec<DateTime<Utc>>,
    level: Vec<String>,
    due_at: Vec<Option<DateTime<Utc>>>,
    reached_at: Vec<DateTime<Utc>>,
    unit: Vec<String>,
    staff: Vec<String>,
}

fn corrupt(id: i64, reason: String) -> StoreError {
    StoreError::Corrupt {
        entity: "work_order",
        id: id.to_string(),
        reason,
    }
}

#[async_trait]
impl SlaStore for PgStore {
    async fn sweep(&self, now: DateTime<Utc>, batch: u32) -> Result<SweepBatch, StoreError> {
        let mut tx = self.write_tx().await?;
        let due: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, home_unit_path, sla FROM work_orders \
             WHERE sla_check_at <= $1 ORDER BY sla_check_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(i64::from(batch))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut done = SweepBatch::default();
        if due.is_empty() {
            return Ok(done);
        }
        let people = supervisors(&mut tx).await?;
        let mut ids = Vec::with_capacity(due.len());
        let mut slas = Vec::with_capacity(due.len());
        let mut checks = Vec::with_capacity(due.len());
        let mut a = AlertColumns::default();
        for (id, home, raw) in due {
            let mut tracked = decode_tracked(raw.as_deref()).map_err(|e| corrupt(id, e))?;
            let holding = OrgPath::from_stored(&home)
                .ok_or_else(|| corrupt(id, format!("home unit path '{home}'")))?;
            for alert in raise(&mut tracked, now) {
                let (unit, staff) = people.for_unit(&alert_unit(alert.level, &holding));
                a.order_id.push(id);
                a.kind.push(alert.kind.code().to_owned());
                a.start.push(alert.start);
                a.level.push(alert.level.code().to_owned());
                a.due_at.push(alert.due_at);
                a.reached_at.push(alert.reached_at);
                a.unit.push(unit.as_str().to_owned());
                a.staff.push(encode_staff_ids(&staff));
            }
            let columns = SlaColumns::of(&tracked);
            ids.push(id);
            slas.push(columns.sla);
            checks.push(columns.check_at);
            done.orders += 1;
        }
        if !a.order_id.is_empty() {
            // One statement for every alert of the batch; the unique key drops any written
            // already, so the count is of new alerts.
            let written = sqlx::query(
                "INSERT INTO work_order_alerts (order_id, limit_kind, round_start, level, \
                 due_at, reached_at, raised_at, unit_path, supervisors) \
                 SELECT o, k, s, l, d, r, $7, u, p FROM UNNEST($1::bigint[], $2::text[], \
                 $3::timestamptz[], $4::text[], $5::timestamptz[], $6::timestamptz[], \
                 $8::text[], $9::text[]) AS a(o, k, s, l, d, r, u, p) \
                 ON CONFLICT (order_id, limit_kind, round_start, level) DO NOTHING",
            )
            .bind(&a.order_id)
            .bind(&a.kind)
            .bind(&a.start)
            .bind(&a.level)
            .bind(&a.due_at)
            .bind(&a.reached_at)
            .bind(now)
            .bind(&a.unit)
            .bind(&a.staff)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            done.alerts = u32::try_from(written.rows_affected()).unwrap_or(u32::MAX);
        }
        // One statement for the whole batch: the rows are locked already.
        sqlx::query(
            "UPDATE work_orders w SET sla = u.sla, sla_check_at = u.check_at \
             FROM UNNEST($1::bigint[], $2::text[], $3::timestamptz[]) AS u(id, sla, check_at) \
             WHERE w.id = u.id",
        )
        .bind(&ids)
        .bind(&slas)
        .bind(&checks)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
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
            DateTime<Utc>,
            String,
            Option<DateTime<Utc>>,
            DateTime<Utc>,
            DateTime<Utc>,
            String,
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, limit_kind, round_start, level, due_at, reached_at, raised_at, \
             unit_path, supervisors FROM work_order_alerts WHERE order_id = $1 ORDER BY id",
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
                        round_start: start,
                        level: AlertLevel::from_code(&level).ok_or_else(|| bad("level"))?,
                        due_at: due,
                        reached_at: reached,
                        raised_at: raised,
                        unit: OrgPath::from_stored(&unit).ok_or_else(|| bad("unit path"))?,
                        supervisors: decode_staff_ids(&staff).map_err(|e| bad(&e))?,
                    })
                },
            )
            .collect()
    }
}
