//! Work orders (issue 4): intake with order numbers and idempotency, the state machine's events
//! appended to the timeline, and the scoped, filtered lists a service centre works from.
//!
//! A store keeps the events (kind code + JSON payload, see `workorder_codec`) and the order row:
//! the columns lists filter, sort and scope on, plus the whole order as a JSON snapshot, all
//! written in the same transaction as the events (`WHERE version = expected`). The story checks
//! that `replay` of the stored timeline gives the stored order.
//!
//! Scope: an order belongs to its *home unit* (`Order::home_unit`: the host unit once
//! dispatched, else the unit of the territory); reads and writes treat orders whose home unit
//! lies outside `scope` exactly like missing ones — except that an assisting unit (协办) and
//! the units below it may read the order (`get_order`, `timeline`, `alerts`, and lists with
//! `OrderFilter::assisting`) and send it commands, which the domain then judges (a handler of an
//! assisting unit is not the host's).

use async_trait::async_trait;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use kefu_domain::customer::Phone;
use kefu_domain::ids::CustomerId;
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{
    ActorCtx, AppealKey, AppealType, Appellant, Channel, Command, Event, Intake,
    MAX_DAILY_SEQUENCE, Order, OrderNumber, State, SubCategoryCode, WorkOrderError, is_repeat,
    replay,
};

use crate::TimeRules;
use crate::sla::decode_tracked;
use crate::workorder_codec::{EventRow, decode_event, decode_order};
use crate::{Page, PageRequest, StoreError};
use kefu_domain::sla::Tracked;

/// The service centre's clock for order numbers: China Standard Time (UTC+8, no summer time).
pub const CENTRE_UTC_OFFSET_SECS: i32 = 8 * 3600;

/// The centre's local date of an instant: the day an order number belongs to.
pub fn centre_date(at: DateTime<Utc>) -> NaiveDate {
    match FixedOffset::east_opt(CENTRE_UTC_OFFSET_SECS) {
        Some(tz) => at.with_timezone(&tz).date_naive(),
        None => (at + Duration::seconds(i64::from(CENTRE_UTC_OFFSET_SECS))).date_naive(),
    }
}

/// An order as stored: its row id (the list cursor), the order rebuilt from its timeline, and
/// the deadlines running on it (`crate::sla`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// Row id; lists page by it.
    pub id: i64,
    /// The order.
    pub order: Order,
    /// The deadlines running now, with the alerts raised for them.
    pub sla: Vec<Tracked>,
}

/// Whether an intake created the order or found the one an earlier try with the same
/// idempotency key created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// A new order was written (HTTP 201).
    Created,
    /// The key was seen before: this is the first order, unchanged (HTTP 200).
    Replayed,
}

/// One step of the timeline: who, when, from → to, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Row id of the event.
    pub id: i64,
    /// The event.
    pub event: Event,
}

/// What a repeat search looks at: the window before the new appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeOptions {
    /// Days within which the same customer or phone on the same sub-category is a repeat.
    pub repeat_window_days: u32,
}

impl Default for IntakeOptions {
    fn default() -> Self {
        Self {
            repeat_window_days: kefu_domain::workorder::DEFAULT_REPEAT_WINDOW_DAYS,
        }
    }
}

/// Filters of the order list; every one set must hold (AND). Each is served by an index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// Current state.
    pub state: Option<State>,
    /// Appeal type.
    pub appeal_type: Option<AppealType>,
    /// Orders whose home unit lies in this unit's subtree.
    pub unit: Option<OrgPath>,
    /// Major (true) or not major (false).
    pub major: Option<bool>,
    /// Intake channel.
    pub channel: Option<Channel>,
    /// Taken at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Taken before.
    pub created_to: Option<DateTime<Utc>>,
    /// Linked to earlier orders as a repeat (true) or not (false).
    pub repeat: Option<bool>,
    /// Watched by a supervisor (督办) and not archived (true) or not (false).
    pub supervised: Option<bool>,
    /// A running deadline passed (true) or none did (false), as of the instant given.
    pub overdue: Option<Overdue>,
    /// The orders whose assisting units (协办) lie in `scope`, instead of those whose home unit
    /// does: a unit's "assisting" tab.
    pub assisting: bool,
    /// The orders of one customer of the archive.
    pub customer: Option<CustomerId>,
    /// The order of the list (newest first unless asked otherwise).
    pub sort: OrderSort,
}

/// The order of a work-order list. Every one is a keyset page: the cursor is the last row's
/// id, and the next page starts after that row's sort key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OrderSort {
    /// Newest first (descending ids).
    #[default]
    Newest,
    /// Oldest first (ascending ids).
    Oldest,
    /// The nearest running deadline first (`due_at` ascending, orders without one last, then
    /// by id). A deadline moves when the order does, so a row may move between two page loads.
    DueSoonest,
}

/// The `overdue` filter: whether an order has a running deadline at or before `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overdue {
    /// Overdue (true) or not (false).
    pub yes: bool,
    /// As of when.
    pub at: DateTime<Utc>,
}

/// Why a work-order call failed: the domain refused the command (typed, for 400/403/409), or
/// the store did (not found, version conflict, database).
#[derive(Debug, thiserror::Error)]
pub enum WorkOrderStoreError {
    /// The state machine refused; nothing was written.
    #[error(transparent)]
    Rule(#[from] WorkOrderError),
    /// The store refused or failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The idempotency key was already used for an appeal with different content (order
    /// `first`); nothing was written. A retry must send the same content, a new appeal a new key.
    #[error("the idempotency key was already used for a different appeal (order {first})")]
    IdempotencyKeyReused {
        /// The order the key created first.
        first: OrderNumber,
    },
}

/// Persistence of work orders.
#[async_trait]
pub trait WorkOrderStore: Send + Sync {
    /// Takes an appeal. In one transaction: finds a previous order with the intake's
    /// idempotency key (→ `Replayed` when its stored `intake_fingerprint` matches, else
    /// `IdempotencyKeyReused`; nothing written either way), else allocates the next number of the
    /// centre's day (a per-day counter row), links the earlier orders of the same customer or
    /// phone that `is_repeat` accepts, checks the actor may take appeals (`open`), and writes the
    /// order row (with its deadlines under `sla`) and its first event. `intake.number` and
    /// `intake.repeat_of` are placeholders the store replaces; `intake.idempotency_key` is the
    /// key (unique across orders). Concurrent intakes may share the transaction (group commit,
    /// `workorder_batch`): each is still all-or-nothing on its own, sees the intakes queued
    /// before it, and returns only once the transaction is committed.
    async fn intake(
        &self,
        intake: Intake,
        options: IntakeOptions,
        actor: &ActorCtx,
        sla: &TimeRules,
        now: DateTime<Utc>,
    ) -> Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError>;

    /// Applies a command to the order read at `expected_version`. In one transaction: loads the
    /// order in `scope` (else NotFound), checks the version (else `VersionConflict`), runs the
    /// domain's `apply`, appends its events and updates the row `WHERE version = expected`,
    /// with the deadlines recomputed under `sla` (alerts already raised carried over).
    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        number: &OrderNumber,
        expected_version: i64,
        command: Command,
        actor: &ActorCtx,
        scope: &OrgPath,
        sla: &TimeRules,
        now: DateTime<Utc>,
    ) -> Result<(StoredOrder, Vec<Event>), WorkOrderStoreError>;

    /// One order, if it exists in `scope`.
    async fn get_order(
        &self,
        number: &OrderNumber,
        scope: &OrgPath,
    ) -> Result<Option<StoredOrder>, StoreError>;

    /// The whole timeline of an order in `scope`, oldest first (NotFound when out of scope).
    async fn timeline(
        &self,
        number: &OrderNumber,
        scope: &OrgPath,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// Orders in `scope` matching `filter`, newest first; the cursor is the last id seen.
    async fn list_orders(
        &self,
        filter: &OrderFilter,
        scope: &OrgPath,
        page: PageRequest,
    ) -> Result<Page<StoredOrder>, StoreError>;
}

/// The columns of the order row, derived from the order (both stores write exactly these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderColumns {
    pub number: String,
    pub day: NaiveDate,
    pub state: &'static str,
    pub appeal_type: &'static str,
    pub sub_category: String,
    pub channel: &'static str,
    pub priority: &'static str,
    pub major: bool,
    pub jurisdiction_path: String,
    pub host_unit_id: Option<i64>,
    pub host_unit_path: Option<String>,
    pub home_unit_path: String,
    pub department: &'static str,
    pub host_department: Option<&'static str>,
    pub owner_id: i64,
    pub customer_id: Option<i64>,
    pub caller_phone: Option<String>,
    pub idempotency_key: Option<String>,
    pub repeat: bool,
    pub supervised: bool,
    pub chase_count: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderColumns {
    /// The row of `order`.
    pub fn of(order: &Order) -> Self {
        use kefu_domain::workorder::Caller;
        let (customer_id, caller_phone) = match &order.caller {
            Caller::Customer { id, phone, .. } => {
                (Some(id.0), phone.as_ref().map(|p| p.as_str().to_owned()))
            }
            Caller::Unidentified { phone, .. } => (None, Some(phone.as_str().to_owned())),
        };
        Self {
            number: order.number.to_string(),
            day: order.number.date(),
            state: order.state.code(),
            appeal_type: order.appeal_type.code(),
            sub_category: order.sub_category.as_str().to_owned(),
            channel: order.channel.code(),
            priority: order.priority.code(),
            major: order.major.is_some(),
            jurisdiction_path: order.jurisdiction().as_str().to_owned(),
            host_unit_id: order.host.as_ref().and_then(|h| h.unit.unit()).map(|u| u.0),
            host_unit_path: order.host.as_ref().map(|h| h.unit.as_str().to_owned()),
            home_unit_path: order.home_unit().as_str().to_owned(),
            department: order.department.code(),
            host_department: order.host.as_ref().map(|h| h.department.code()),
            owner_id: order.owner.0,
            customer_id,
            caller_phone,
            idempotency_key: order
                .idempotency_key
                .as_ref()
                .map(|k| k.as_str().to_owned()),
            repeat: !order.repeat_of.is_empty(),
            supervised: order.is_supervised(),
            chase_count: i64::from(order.chase_count),
            version: i64::try_from(order.version).unwrap_or(i64::MAX),
            created_at: order.opened_at,
            updated_at: order.updated_at,
        }
    }
}

/// The order number for the `seq`-th order of `day`, or why the day is full.
pub fn allocate_number(day: NaiveDate, seq: i64) -> Result<OrderNumber, StoreError> {
    u32::try_from(seq)
        .ok()
        .and_then(|s| OrderNumber::new(day, s).ok())
        .ok_or_else(|| {
            StoreError::InvalidState(format!(
                "all {MAX_DAILY_SEQUENCE} order numbers of {day} are used; no more appeals can be \
                 taken today (raise the limit with the developers)"
            ))
        })
}

/// One earlier order as the repeat search finds it: row id, number, appellant, matter, time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatCandidate {
    /// Row id.
    pub id: i64,
    /// Order number as stored.
    pub number: String,
    /// Customer id column.
    pub customer_id: Option<i64>,
    /// Caller phone column.
    pub caller_phone: Option<String>,
    /// Sub-category column.
    pub sub_category: String,
    /// When it was taken.
    pub created_at: DateTime<Utc>,
}

/// The earliest instant an earlier order may have to count as a repeat of one taken at `now`.
pub fn repeat_window_start(now: DateTime<Utc>, options: IntakeOptions) -> DateTime<Utc> {
    let days = options
        .repeat_window_days
        .min(kefu_domain::workorder::MAX_REPEAT_WINDOW_DAYS);
    now - Duration::days(i64::from(days))
}

/// The candidates the domain's `is_repeat` accepts as repeated by `intake` taken at `now`, as
/// (row id, number), oldest first.
pub fn repeats_among(
    intake: &Intake,
    now: DateTime<Utc>,
    options: IntakeOptions,
    mut candidates: Vec<RepeatCandidate>,
) -> Result<Vec<(i64, OrderNumber)>, StoreError> {
    candidates.sort_by_key(|c| c.id);
    let new = AppealKey {
        appellant: intake.caller.appellant(),
        sub_category: intake.sub_category.clone(),
        at: now,
    };
    let mut earlier = Vec::with_capacity(candidates.len());
    let mut ids = std::collections::HashMap::new();
    for c in candidates {
        let corrupt = |reason: String| StoreError::Corrupt {
            entity: "work_order",
            id: c.id.to_string(),
            reason,
        };
        let number = OrderNumber::parse(&c.number).map_err(|e| corrupt(e.to_string()))?;
        let key = AppealKey {
            appellant: Appellant {
                customer: c.customer_id.map(CustomerId),
                phone: c
                    .caller_phone
                    .as_deref()
                    .map(Phone::parse)
                    .transpose()
                    .map_err(|e| corrupt(e.to_string()))?,
            },
            sub_category: SubCategoryCode::parse(&c.sub_category)
                .map_err(|e| corrupt(e.to_string()))?,
            at: c.created_at,
        };
        ids.insert(number, c.id);
        earlier.push((number, key));
    }
    Ok(is_repeat(&new, &earlier, options.repeat_window_days)
        .into_iter()
        .filter_map(|n| ids.get(&n).map(|id| (*id, n)))
        .collect())
}

/// Decodes one stored timeline row of order `order_id`.
pub fn decode_stored_event(
    id: i64,
    order_id: i64,
    row: EventRow<'_>,
) -> Result<StoredEvent, StoreError> {
    decode_event(row)
        .map(|event| StoredEvent { id, event })
        .map_err(|reason| StoreError::Corrupt {
            entity: "work_order",
            id: order_id.to_string(),
            reason: format!("event {id}: {reason}"),
        })
}

/// Reads the order of row `id` from its snapshot column and its deadlines from the `sla`
/// column.
pub fn order_from_snapshot(
    id: i64,
    raw: &str,
    sla: Option<&str>,
) -> Result<StoredOrder, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        entity: "work_order",
        id: id.to_string(),
        reason,
    };
    let order = decode_order(raw).map_err(corrupt)?;
    let sla = decode_tracked(sla).map_err(corrupt)?;
    Ok(StoredOrder { id, order, sla })
}

/// Rebuilds the order of row `id` from its whole timeline (oldest first), with the deadlines
/// of the `sla` column.
pub fn rebuild(
    id: i64,
    events: &[StoredEvent],
    sla: Option<&str>,
) -> Result<StoredOrder, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        entity: "work_order",
        id: id.to_string(),
        reason,
    };
    let events: Vec<Event> = events.iter().map(|e| e.event.clone()).collect();
    let order = replay(&events).map_err(|e| corrupt(e.to_string()))?;
    let sla = decode_tracked(sla).map_err(corrupt)?;
    Ok(StoredOrder { id, order, sla })
}

/// What a key hit answers: the first order (`Replayed`) when the new intake's fingerprint equals
/// the one stored with the key, else `IdempotencyKeyReused` naming the first order. Orders
/// written before migration 0005 have no stored fingerprint: they count as the same content and
/// replay, as every retry did before (refusing them would break retries in flight at upgrade).
pub fn replay_or_refuse(
    first: StoredOrder,
    stored_fingerprint: Option<&str>,
    fingerprint: &str,
) -> Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError> {
    match stored_fingerprint {
        Some(stored) if stored != fingerprint => Err(WorkOrderStoreError::IdempotencyKeyReused {
            first: first.order.number,
        }),
        _ => Ok((first, IntakeOutcome::Replayed)),
    }
}

/// The error of a stale `expected_version`.
pub fn version_conflict(current: i64) -> WorkOrderStoreError {
    WorkOrderStoreError::Store(StoreError::VersionConflict {
        entity: "work_order",
        current,
    })
}

/// The error of a missing or out-of-scope order.
pub fn order_not_found() -> StoreError {
    StoreError::NotFound {
        entity: "work_order",
    }
}

/// Whether a stored home-unit path lies in `scope` (an unreadable path never does).
pub fn in_scope(scope: &OrgPath, home_unit_path: &str) -> bool {
    OrgPath::from_stored(home_unit_path).is_some_and(|p| scope.contains(&p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_centre_date_turns_at_midnight_beijing_time() {
        let before = Utc.with_ymd_and_hms(2026, 11, 22, 15, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 11, 22, 16, 0, 0).unwrap();
        assert_eq!(centre_date(before).to_string(), "2026-11-22");
        assert_eq!(centre_date(after).to_string(), "2026-11-23");
    }
}
