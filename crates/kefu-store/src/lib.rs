//! kefu's persistence interface: one `Store` trait (split by aggregate into sub-traits) and the
//! plain types that cross it. `kefu-store-sqlite` and `kefu-store-postgres` implement it;
//! `kefu-store-tests` holds the one test story both must pass.
//!
//! Invariants every implementation keeps:
//! - each write method is one transaction: on error nothing of it remains;
//! - every customer change appends its history event in the same transaction;
//! - every work-order change appends its timeline events in the same transaction;
//! - every save of a setting (catalogue, major rules, calendar year, time limits) appends a
//!   version and an audit entry;
//! - reads that take a `scope` return only rows whose supply unit lies inside it.

pub mod audit;
pub mod board;
pub mod calendar;
pub mod calendar_codec;
pub mod catalogue;
pub mod catalogue_codec;
pub mod customer;
pub mod customer_import;
pub mod customer_snapshot;
pub mod decode;
pub mod error;
pub mod import_job;
pub mod knowledge;
pub mod org;
pub mod page;
pub mod search;
pub mod search_terms;
pub mod selfservice;
pub mod sla;
pub mod staff;
pub mod token_cache;
pub mod workorder;
pub mod workorder_batch;
pub mod workorder_codec;
pub mod workorder_load;

pub use audit::{AuditEntry, AuditStore, NewAuditEntry, TimedAuditEntry};
pub use board::{BoardStore, OpenCounts, UnitCounts, UnitRow, roll_up};
pub use calendar::{
    CalendarStore, TimeRules, VersionedTimeLimits, VersionedYear, effective_calendar,
    load_time_rules,
};
pub use catalogue::{
    CatalogueStore, Saved, Setting, Versioned, VersionedCatalogue, VersionedMajorRules,
};
pub use customer::{
    Customer, CustomerEvent, CustomerEventKind, CustomerLookup, CustomerStore, IntakeCustomer,
    SpecialDateHit, intake_customer,
};
pub use customer_import::{CustomerImportStore, InitialLoad, UpsertCounts, UpsertOutcome};
pub use error::StoreError;
pub use import_job::{
    ImportJob, ImportJobCounts, ImportJobStore, ImportProblem, ImportProgress, NewImportJob,
};
pub use knowledge::{Article, ArticleFilter, ArticleHit, ArticleVersion, KnowledgeStore};
pub use org::{Department, NewDepartment, NewOrgUnit, OrgStore, OrgUnit};
pub use page::{Cursor, MAX_PAGE_SIZE, Page, PageRequest};
pub use search::{
    OrderHit, ReindexStep, SearchBound, SearchPage, SearchPageRequest, SearchStore, SearchWindow,
    VersionedDictionary,
};
pub use selfservice::{CodeIssue, SelfServiceStore, portal_account};
pub use sla::{SlaStore, StoredAlert, SweepBatch};
pub use staff::{ApiToken, NewStaff, Session, Staff, StaffStore, TOKEN_USE_RESOLUTION_SECS};
pub use token_cache::TokenCache;
pub use workorder::{
    IntakeOptions, IntakeOutcome, OrderColumns, OrderFilter, OrderSort, Overdue, RepeatCandidate,
    StoredEvent, StoredOrder, WorkOrderStore, WorkOrderStoreError, centre_date,
};
pub use workorder_load::{LoadedOrder, WorkOrderLoadStore};

use async_trait::async_trait;

/// A whole store: every aggregate, plus health and schema facts.
#[async_trait]
pub trait Store:
    OrgStore
    + StaffStore
    + CustomerStore
    + CustomerImportStore
    + AuditStore
    + WorkOrderStore
    + WorkOrderLoadStore
    + CatalogueStore
    + SlaStore
    + BoardStore
    + CalendarStore
    + SelfServiceStore
    + SearchStore
    + KnowledgeStore
    + ImportJobStore
    + Send
    + Sync
    + 'static
{
    /// Checks that the database answers (for `/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Applies pending migrations (append-only, versioned, one folder per database) after
    /// refusing a database whose schema is newer than this binary (`SchemaTooNew`).
    async fn migrate(&self) -> Result<MigrationReport, StoreError>;

    /// The highest migration version applied to the database (0 when none).
    async fn schema_version(&self) -> Result<i64, StoreError>;

    /// `"sqlite"` or `"postgres"`, for logs and metrics.
    fn backend(&self) -> &'static str;
}

/// What `Store::migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// The versions applied by this call, in order (empty when already current).
    pub applied: Vec<i64>,
    /// The schema version now in the database.
    pub version: i64,
    /// The highest version this binary knows.
    pub supported: i64,
}

/// The actor of a write, recorded in history and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in staff member (via session or API token).
    Staff(kefu_domain::ids::StaffId),
    /// The system itself: migrations, the demo generator, imports run from the command line.
    System(&'static str),
}

impl Actor {
    /// The staff id, when a person acted.
    pub fn staff_id(&self) -> Option<kefu_domain::ids::StaffId> {
        match self {
            Actor::Staff(id) => Some(*id),
            Actor::System(_) => None,
        }
    }

    /// A label for the log: `staff:12` or `system:demo`.
    pub fn label(&self) -> String {
        match self {
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::System(what) => format!("system:{what}"),
        }
    }
}
