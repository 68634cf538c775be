//! Bulk loading of the customer archive from the marketing/billing system (issue 6): create or
//! update many customers keyed by account number, so that re-importing a file updates instead of
//! duplicating and every change still leaves its field-by-field history.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::CustomerId;

use crate::{Actor, StoreError};

/// What an upsert did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// A new customer, with its `Created` event.
    Created(CustomerId),
    /// An existing customer whose changed fields were written, with an `Updated` event.
    Updated(CustomerId),
    /// An existing customer already holding exactly this record: nothing written.
    Unchanged(CustomerId),
    /// An existing, retired customer: left untouched (reinstate it first to change it).
    Retired(CustomerId),
}

/// Counts of a batch of outcomes, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub retired: u64,
}

impl UpsertCounts {
    /// Adds one outcome.
    pub fn add(&mut self, outcome: UpsertOutcome) {
        match outcome {
            UpsertOutcome::Created(_) => self.created += 1,
            UpsertOutcome::Updated(_) => self.updated += 1,
            UpsertOutcome::Unchanged(_) => self.unchanged += 1,
            UpsertOutcome::Retired(_) => self.retired += 1,
        }
    }

    /// Counts a batch.
    pub fn of(outcomes: &[UpsertOutcome]) -> Self {
        let mut c = Self::default();
        outcomes.iter().for_each(|o| c.add(*o));
        c
    }
}

/// Bulk customer persistence for imports.
#[async_trait]
pub trait CustomerImportStore {
    /// Creates or updates `records` keyed by account number, all in one transaction (on error
    /// nothing of the batch remains, so an interrupted import is repeated batch by batch without
    /// duplicates). New accounts are created with their `Created` event; existing active ones
    /// get their changed fields and an `Updated` event with old → new per field (nothing when
    /// nothing changed); retired ones are left alone. One audit entry covers the batch. The
    /// existing customers are found with one query per batch, never one per record. Returns one
    /// outcome per record, in input order. Errors: `Duplicate{account_number}` when an account
    /// number appears twice in `records`, `UnknownReference{supply_unit_id}`.
    async fn upsert_customers(
        &self,
        records: Vec<CustomerRecord>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<UpsertOutcome>, StoreError>;

    /// Called once after an import stored rows: brings what the database keeps about its
    /// tables up to date after a bulk change (PostgreSQL: the planner statistics of the
    /// customer tables, which a server with autovacuum off never refreshes by itself, so
    /// look-ups would keep the plans of an empty archive). Nothing to do by default.
    async fn after_import(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Starts an initial load when the customer archive is empty (the province's first
    /// import), else returns `None` and the caller upserts batch by batch. While the load
    /// runs, the secondary indexes (and, where the store can, the foreign keys) of the customer
    /// tables are set aside; `InitialLoad::finish` rebuilds them once with sorted builds and
    /// checks the references. The account-number UNIQUE rule holds throughout, so a re-run
    /// never duplicates. PostgreSQL runs the whole load as one transaction (a failure or a
    /// crash leaves the empty archive, with all its indexes); SQLite commits batch by batch
    /// (a failure keeps the whole batches, with the indexes rebuilt by `abort`; after a crash
    /// the next store open rebuilds them). Either way the same import, run again, completes
    /// the archive without duplicates.
    async fn begin_initial_load(&self) -> Result<Option<Box<dyn InitialLoad>>, StoreError> {
        Ok(None)
    }
}

/// An initial load in progress (see `CustomerImportStore::begin_initial_load`).
#[async_trait]
pub trait InitialLoad: Send {
    /// Stores new customers with their children and one creation row for the batch (their
    /// `Created` event, `customer_snapshot::BatchCreation`); returns their
    /// ids in input order. The caller guarantees that no account number repeats across the
    /// whole load (the import's reader keeps the first); a repeat still fails at `finish`, on
    /// the rebuilt unique index. A store may run the batch while the caller prepares the next
    /// (SQLite does): its errors then surface at the next `insert` or at `finish`. Errors:
    /// `UnknownReference{supply_unit_id}`.
    async fn insert(
        &mut self,
        records: Vec<CustomerRecord>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerId>, StoreError>;

    /// Rebuilds the indexes, checks the references, writes one audit entry for the load,
    /// refreshes what the database keeps about the tables, and commits. Returns the number of
    /// customers stored.
    async fn finish(self: Box<Self>, actor: &Actor, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Ends a load that cannot go on (a batch failed): the store is left consistent, with
    /// every index — holding nothing of the load (PostgreSQL) or its whole batches (SQLite).
    async fn abort(self: Box<Self>) -> Result<(), StoreError>;
}
