//! The customer archive: records, their change history, and the look-ups a service centre makes
//! all day (screen-pop by phone, account number, ID number, name prefix, special dates).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::customer::{
    CustomerRecord, CustomerStatus, FieldChange, Grid, Phone, ServiceGrade, SpecialDate,
};
use kefu_domain::ids::{CustomerId, StaffId};
use kefu_domain::org::OrgPath;

use crate::{Actor, Page, PageRequest, StoreError};

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub record: CustomerRecord,
    /// Path of the supply unit, for scope checks.
    pub supply_unit_path: OrgPath,
    pub status: CustomerStatus,
    /// Why it was retired, while retired.
    pub retired_reason: Option<String>,
    /// Bumped by every change; updates name the version they were based on.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The part of a customer an intake uses: who, where, and what picks the time limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeCustomer {
    /// The customer.
    pub id: CustomerId,
    /// Its supply unit (it hosts the order).
    pub supply_unit_path: OrgPath,
    /// Urban or rural supply.
    pub grid: Grid,
    /// Its service grade, if set.
    pub service_grade: Option<ServiceGrade>,
}

/// Reads an [`IntakeCustomer`] from its stored columns (`Corrupt` naming the column).
pub fn intake_customer(
    id: i64,
    supply_unit_path: &str,
    grid: &str,
    service_grade: Option<&str>,
) -> Result<IntakeCustomer, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        entity: "customer",
        id: id.to_string(),
        reason,
    };
    Ok(IntakeCustomer {
        id: CustomerId(id),
        supply_unit_path: OrgPath::from_stored(supply_unit_path)
            .ok_or_else(|| corrupt(format!("supply_unit_path '{supply_unit_path}'")))?,
        grid: Grid::from_code(grid).ok_or_else(|| corrupt(format!("grid '{grid}'")))?,
        service_grade: service_grade
            .map(|g| ServiceGrade::from_code(g).ok_or_else(|| corrupt(format!("grade '{g}'"))))
            .transpose()?,
    })
}

/// The single criterion of a customer search; each one is served by an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerLookup {
    /// Every customer in scope, by id.
    All,
    /// Customers with this phone among their phones (the screen-pop).
    Phone(Phone),
    /// The customer with this account number.
    Account(String),
    /// Customers with this document number (normalised as the domain parses it).
    IdNumber(String),
    /// Customers whose name starts with this text.
    NamePrefix(String),
}

/// What happened to a customer in one history event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerEventKind {
    /// The record was created (changes list every non-empty field).
    Created,
    /// Fields changed.
    Updated,
    /// Retired from the archive (record kept).
    Retired,
    /// Brought back into service.
    Reinstated,
}

impl CustomerEventKind {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Retired => "retired",
            Self::Reinstated => "reinstated",
        }
    }

    /// Reads a stored code.
    pub fn from_code(s: &str) -> Option<Self> {
        Some(match s {
            "created" => Self::Created,
            "updated" => Self::Updated,
            "retired" => Self::Retired,
            "reinstated" => Self::Reinstated,
            _ => return None,
        })
    }
}

/// One entry of a customer's history: who, when, what, old → new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerEvent {
    pub id: i64,
    pub customer_id: CustomerId,
    pub at: DateTime<Utc>,
    pub staff_id: Option<StaffId>,
    /// `staff:12` or `system:import`.
    pub actor: String,
    pub kind: CustomerEventKind,
    /// The retire reason, or other free detail.
    pub reason: Option<String>,
    pub changes: Vec<FieldChange>,
}

/// A customer with a special date falling in a queried window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDateHit {
    pub customer: Customer,
    pub special_date: SpecialDate,
    /// The day it is celebrated within the window.
    pub on: NaiveDate,
}

/// Customer archive persistence.
#[async_trait]
pub trait CustomerStore {
    /// Creates a customer and its `Created` history event at `now`. Errors:
    /// `Duplicate{account_number}`, `UnknownReference{supply_unit_id}`.
    async fn create_customer(
        &self,
        record: CustomerRecord,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError>;

    /// Creates many customers in one transaction (demo province, benchmarks, all-or-nothing
    /// imports): all are stored, each with its `Created` event, or none is. Returns their ids in
    /// input order. Errors as `create_customer`, for the first offending record.
    async fn create_customers(
        &self,
        records: Vec<CustomerRecord>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerId>, StoreError>;

    /// What an intake needs of customer `id` if it lies inside `scope` (retired ones
    /// included): one row, none of the lists `get_customer` also reads.
    async fn customer_for_intake(
        &self,
        id: CustomerId,
        scope: &OrgPath,
    ) -> Result<Option<IntakeCustomer>, StoreError>;

    /// One customer by id if it lies inside `scope` (retired ones included).
    async fn get_customer(
        &self,
        id: CustomerId,
        scope: &OrgPath,
    ) -> Result<Option<Customer>, StoreError>;

    /// Replaces the record if the stored version is `expected_version`, recording the changed
    /// fields (no event and no version bump when nothing changed). Errors: `NotFound` (also out
    /// of scope), `VersionConflict`, `Duplicate{account_number}`,
    /// `UnknownReference{supply_unit_id}`, `InvalidState` for a retired customer.
    async fn update_customer(
        &self,
        id: CustomerId,
        expected_version: i64,
        record: CustomerRecord,
        scope: &OrgPath,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError>;

    /// Retires (`reason` = Some) or reinstates (`None`) a customer. Errors: `NotFound`,
    /// `VersionConflict`, `InvalidState` when already in that status.
    async fn set_customer_status(
        &self,
        id: CustomerId,
        expected_version: i64,
        retire_reason: Option<String>,
        scope: &OrgPath,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError>;

    /// Customers inside `scope` matching `lookup`, by id. Retired customers are included only
    /// when `include_retired`.
    async fn find_customers(
        &self,
        lookup: &CustomerLookup,
        scope: &OrgPath,
        include_retired: bool,
        page: PageRequest,
    ) -> Result<Page<Customer>, StoreError>;

    /// A customer's history, oldest first. Errors: `NotFound` when out of scope.
    async fn customer_history(
        &self,
        id: CustomerId,
        scope: &OrgPath,
        page: PageRequest,
    ) -> Result<Page<CustomerEvent>, StoreError>;

    /// Active customers inside `scope` with a special date on `from ..= from + days`, ordered by
    /// the day it falls on, then customer id; at most `limit` hits.
    async fn special_dates_between(
        &self,
        scope: &OrgPath,
        from: NaiveDate,
        days: u32,
        limit: u32,
    ) -> Result<Vec<SpecialDateHit>, StoreError>;

    /// How many customers the store holds (all statuses), for health output and benchmarks.
    async fn count_customers(&self) -> Result<u64, StoreError>;
}
