//! Bulk loading of whole work orders (issue 5's sweep benchmark, issue 6's demo generator and
//! imports): orders built elsewhere with the domain's `open`/`apply`, written with their
//! timelines, deadlines and repeat links in one transaction per call, far faster than replaying
//! each step through `WorkOrderStore::apply`.
//!
//! What every implementation does, checked by `kefu-store-tests`:
//! - refuses the whole call when a timeline does not replay to its order (`InvalidState` naming
//!   the number) or when a number appears twice in the call or is already stored (`Duplicate`);
//! - writes the order rows with the same columns as an intake (snapshot via
//!   `workorder_codec::encode_order`, deadlines via `SlaColumns::of`), the events, and the repeat
//!   links whose earlier order exists (in the call or already stored);
//! - raises each day's counter (`work_order_counters`) to at least the highest sequence loaded
//!   for that day, so a later intake never collides with a loaded number;
//! - is all-or-nothing: on any error nothing of the call remains.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use kefu_domain::sla::Tracked;
use kefu_domain::workorder::{Event, Order, OrderNumber, replay};

use crate::StoreError;

/// One whole order to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedOrder {
    /// The order as its timeline leaves it (`replay(&events) == order`).
    pub order: Order,
    /// Its timeline, version 1 (the intake) first.
    pub events: Vec<Event>,
    /// The deadlines running on it (`kefu_domain::sla::schedule`, alerts raised so far).
    pub sla: Vec<Tracked>,
    /// The intake fingerprint stored with an idempotency key, if it has one.
    pub fingerprint: Option<String>,
}

/// Writing many whole orders at once.
#[async_trait]
pub trait WorkOrderLoadStore: Send + Sync {
    /// Loads `orders` in one transaction (see the module doc); their row ids, in input order.
    async fn load_orders(&self, orders: &[LoadedOrder]) -> Result<Vec<i64>, StoreError>;

    /// Before a long series of `load_orders` into an empty order table (the old system's
    /// history, the demo, the search benchmark): sets the table's secondary indexes aside
    /// where the store gains by it, so rows are appended instead of inserted into randomly
    /// keyed indexes; unique indexes stay, so numbers and keys are still checked. Returns
    /// whether it did (never when orders are stored). Lists are slow until
    /// `finish_bulk_orders`; a crash in between is repaired when the store is next opened.
    async fn begin_bulk_orders(&self) -> Result<bool, StoreError>;

    /// Rebuilds what `begin_bulk_orders` set aside (nothing when it set nothing aside).
    async fn finish_bulk_orders(&self) -> Result<(), StoreError>;
}

/// The checks every store makes before writing: each timeline replays to its order and no
/// number appears twice. Returns the highest sequence per centre day (`yyyy-mm-dd`, as the
/// counter table keys it).
pub fn check_batch(orders: &[LoadedOrder]) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut seen: HashSet<OrderNumber> = HashSet::with_capacity(orders.len());
    let mut days: BTreeMap<String, i64> = BTreeMap::new();
    for o in orders {
        let number = o.order.number;
        let replayed = replay(&o.events).map_err(|e| {
            StoreError::InvalidState(format!(
                "order {number}: its timeline does not replay ({e}); nothing was loaded"
            ))
        })?;
        if replayed != o.order {
            return Err(StoreError::InvalidState(format!(
                "order {number}: its timeline replays to a different order; nothing was loaded"
            )));
        }
        if !seen.insert(number) {
            return Err(duplicate_number(&number));
        }
        let seq = i64::from(number.seq());
        let day = days.entry(number.date().to_string()).or_insert(seq);
        *day = (*day).max(seq);
    }
    Ok(days)
}

/// The refusal of a number that is given twice or already stored.
pub fn duplicate_number(number: &OrderNumber) -> StoreError {
    StoreError::Duplicate {
        field: "number",
        value: number.to_string(),
    }
}

/// The repeat links of a batch as (index of the order in the batch, earlier number), for the
/// store to resolve to row ids (links to orders that do not exist are dropped).
pub fn repeat_links(orders: &[LoadedOrder]) -> Vec<(usize, String)> {
    orders
        .iter()
        .enumerate()
        .flat_map(|(i, o)| o.order.repeat_of.iter().map(move |n| (i, n.to_string())))
        .collect()
}
