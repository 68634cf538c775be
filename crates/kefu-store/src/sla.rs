//! Deadlines kept beside each work order, and the sweep that raises their alerts (issue 5).
//!
//! At every intake and transition the store runs `kefu_domain::sla::schedule` on the new order
//! ([`sla_columns`]), carries over the alerts already raised, and writes, in the same
//! transaction as the order row:
//! - `sla`: the running deadlines as JSON ([`encode_tracked`]), read back into
//!   `StoredOrder::sla` for the API (`contact_due_at`, `reply_due_at`, …);
//! - `due_at` / `warn_at`: the earliest deadline and warning, for the `overdue` filter;
//! - `sla_check_at`: when the sweep next has something to raise (indexed, partial), so a sweep
//!   reads only the orders that need it and never needs the calendar.
//!
//! [`SlaStore::sweep`] takes the orders with `sla_check_at <= now` (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`, so several server processes share the work without doing any order twice), runs
//! `kefu_domain::sla::raise`, writes each alert once (a unique key on order, limit, round and
//! level backs the idempotence) naming the unit and supervisors it goes to, and moves
//! `sla_check_at` on. Alerts do not change the order's version: a sweep never makes a person's
//! next action on the order fail as stale.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::calendar::{DeadlineError, Limit, LimitKind};
use kefu_domain::ids::StaffId;
use kefu_domain::org::OrgPath;
use kefu_domain::sla::{
    AlertLevel, Tracked, carry_over, earliest_due, earliest_warning, next_check, schedule,
};
use kefu_domain::workorder::{Order, OrderNumber};
use serde_json::{Value, json};

use crate::{StoreError, TimeRules};

/// The SLA columns of an order row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaColumns {
    /// The running deadlines (JSON).
    pub sla: String,
    /// The earliest running deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// The earliest running warning.
    pub warn_at: Option<DateTime<Utc>>,
    /// When the sweep next has something to raise.
    pub check_at: Option<DateTime<Utc>>,
}

impl SlaColumns {
    /// The columns of these deadlines.
    pub fn of(tracked: &[Tracked]) -> Self {
        Self {
            sla: encode_tracked(tracked),
            due_at: earliest_due(tracked),
            warn_at: earliest_warning(tracked),
            check_at: next_check(tracked),
        }
    }
}

/// The deadlines of `order` under `rules`, keeping what was raised for the same deadlines in
/// `previous`, and the row's columns for them.
pub fn sla_columns(
    order: &Order,
    previous: &[Tracked],
    rules: &TimeRules,
) -> Result<(Vec<Tracked>, SlaColumns), StoreError> {
    let fresh = schedule(order, &rules.calendar, &rules.limits, rules.policy)
        .map_err(|e| deadline(order, e))?;
    let tracked = carry_over(previous, fresh);
    let columns = SlaColumns::of(&tracked);
    Ok((tracked, columns))
}

fn deadline(order: &Order, e: DeadlineError) -> StoreError {
    StoreError::InvalidState(format!(
        "the deadlines of order {} cannot be computed ({e}); check the working calendar and the \
         time limits",
        order.number
    ))
}

/// The stored JSON of running deadlines.
pub fn encode_tracked(tracked: &[Tracked]) -> String {
    let ms = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_millis());
    Value::Array(
        tracked
            .iter()
            .map(|t| {
                // Unset instants and levels are left out: `decode_tracked` reads them as unset.
                crate::workorder_codec::compact(json!({
                    "kind": t.kind.code(),
                    "limit": t.limit.code(),
                    "start": t.start.timestamp_millis(),
                    "warn_at": ms(t.warn_at),
                    "due_at": ms(t.due_at),
                    "escalate_at": ms(t.escalate_at),
                    "raised": t.raised.map(|r| r.code()),
                }))
            })
            .collect(),
    )
    .to_string()
}

/// Reads [`encode_tracked`] back; a missing column (rows older than the SLA) is no deadline.
pub fn decode_tracked(raw: Option<&str>) -> Result<Vec<Tracked>, String> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let v: Value = serde_json::from_str(raw).map_err(|e| format!("sla is not JSON: {e}"))?;
    let items = v.as_array().ok_or("sla is not a list")?;
    let instant = |x: &Value, key: &str| -> Result<Option<DateTime<Utc>>, String> {
        match x.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(n) => n
                .as_i64()
                .and_then(DateTime::from_timestamp_millis)
                .map(Some)
                .ok_or_else(|| format!("sla {key} is not an instant")),
        }
    };
    let text = |x: &Value, key: &str| -> Result<String, String> {
        x.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("sla {key} is missing"))
    };
    items
        .iter()
        .map(|x| {
            let kind = text(x, "kind")?;
            Ok(Tracked {
                kind: LimitKind::from_code(&kind).ok_or_else(|| format!("sla kind '{kind}'"))?,
                limit: Limit::parse_code("limit", &text(x, "limit")?).map_err(|e| e.to_string())?,
                start: instant(x, "start")?.ok_or("sla start is missing")?,
                warn_at: instant(x, "warn_at")?,
                due_at: instant(x, "due_at")?,
                escalate_at: instant(x, "escalate_at")?,
                raised: match x.get("raised") {
                    None | Some(Value::Null) => None,
                    Some(r) => Some(
                        r.as_str()
                            .and_then(AlertLevel::from_code)
                            .ok_or("sla raised is not a level")?,
                    ),
                },
            })
        })
        .collect()
}

/// An alert as stored: which deadline reached which level, and whom it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlert {
    /// Row id.
    pub id: i64,
    /// The order.
    pub number: OrderNumber,
    /// What is timed.
    pub kind: LimitKind,
    /// The deadline's round start.
    pub round_start: DateTime<Utc>,
    /// The level reached.
    pub level: AlertLevel,
    /// The deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// When the level was reached.
    pub reached_at: DateTime<Utc>,
    /// When the sweep wrote it.
    pub raised_at: DateTime<Utc>,
    /// The unit alerted (the holding unit, or the one above it).
    pub unit: OrgPath,
    /// The supervisors it went to (none when no unit at or above has one).
    pub supervisors: Vec<StaffId>,
}

/// What one sweep transaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepBatch {
    /// Orders examined (each had something due).
    pub orders: u32,
    /// Alerts written.
    pub alerts: u32,
}

/// Active supervisors by unit path, to address escalations.
#[derive(Debug, Clone, Default)]
pub struct Supervisors(HashMap<String, Vec<StaffId>>);

impl Supervisors {
    /// From (staff id, unit path) rows.
    pub fn from_rows(rows: impl IntoIterator<Item = (i64, String)>) -> Self {
        let mut map: HashMap<String, Vec<StaffId>> = HashMap::new();
        for (id, path) in rows {
            map.entry(path).or_default().push(StaffId(id));
        }
        for v in map.values_mut() {
            v.sort();
        }
        Self(map)
    }

    /// The nearest unit at or above `unit` that has supervisors, and them; `unit` itself with
    /// nobody when none has.
    pub fn for_unit(&self, unit: &OrgPath) -> (OrgPath, Vec<StaffId>) {
        unit.self_and_ancestors()
            .into_iter()
            .find_map(|p| self.0.get(p.as_str()).map(|s| (p.clone(), s.clone())))
            .unwrap_or_else(|| (unit.clone(), Vec::new()))
    }
}

/// The stored text of a supervisor list.
pub fn encode_staff_ids(ids: &[StaffId]) -> String {
    Value::Array(ids.iter().map(|s| json!(s.0)).collect()).to_string()
}

/// Reads [`encode_staff_ids`] back.
pub fn decode_staff_ids(raw: &str) -> Result<Vec<StaffId>, String> {
    let v: Value = serde_json::from_str(raw).map_err(|e| format!("supervisors: {e}"))?;
    v.as_array()
        .ok_or("supervisors is not a list")?
        .iter()
        .map(|x| {
            x.as_i64()
                .map(StaffId)
                .ok_or_else(|| "supervisor id".to_owned())
        })
        .collect()
}

/// The most orders one sweep transaction handles (short transactions keep intakes flowing).
pub const SWEEP_BATCH: u32 = 500;

/// The sweep and the alerts it wrote.
#[async_trait]
pub trait SlaStore: Send + Sync {
    /// One sweep transaction at `now`: up to `batch` orders whose next SLA check is due, their
    /// alerts written once each and their next check moved on. Call until `orders < batch`.
    async fn sweep(&self, now: DateTime<Utc>, batch: u32) -> Result<SweepBatch, StoreError>;

    /// The alerts of an order in `scope`, oldest first (NotFound when out of scope).
    async fn alerts(
        &self,
        number: &OrderNumber,
        scope: &OrgPath,
    ) -> Result<Vec<StoredAlert>, StoreError>;
}

/// Sweeps at `now` until nothing is due; the total done.
pub async fn sweep_all<S: SlaStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
) -> Result<SweepBatch, StoreError> {
    let mut total = SweepBatch::default();
    loop {
        let b = store.sweep(now, SWEEP_BATCH).await?;
        total.orders += b.orders;
        total.alerts += b.alerts;
        if b.orders < SWEEP_BATCH {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tracked_deadlines_round_trip_through_json() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 2, 1, 0, 0)
            .single()
            .expect("instant");
        let tracked = vec![Tracked {
            kind: LimitKind::Reply,
            limit: Limit::WorkingDays(7),
            start: t,
            warn_at: Some(t + chrono::Duration::hours(30)),
            due_at: Some(t + chrono::Duration::hours(40)),
            escalate_at: None,
            raised: Some(AlertLevel::Warning),
        }];
        let raw = encode_tracked(&tracked);
        assert_eq!(decode_tracked(Some(&raw)), Ok(tracked));
        assert_eq!(decode_tracked(None), Ok(Vec::new()));
        assert!(decode_tracked(Some("{}")).is_err());
    }

    #[test]
    fn escalations_go_to_the_nearest_unit_with_supervisors() {
        let s = Supervisors::from_rows([(7, "/1/2/".to_owned()), (9, "/1/2/3/".to_owned())]);
        let county = OrgPath::from_stored("/1/2/3/4/").expect("path");
        assert_eq!(
            s.for_unit(&county),
            (
                OrgPath::from_stored("/1/2/3/").expect("path"),
                vec![StaffId(9)]
            )
        );
        let other = OrgPath::from_stored("/1/5/").expect("path");
        assert_eq!(s.for_unit(&other), (other.clone(), vec![]));
    }
}
