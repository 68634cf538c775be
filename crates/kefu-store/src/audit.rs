//! The audit log: every change, and every read of unmasked personal data, by whom and when.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::ids::StaffId;

use crate::{Actor, Page, PageRequest, StoreError};

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// What happened: `customer.create`, `staff.password`, `customer.read_personal`…
    pub action: String,
    /// What it happened to: `customer:42`, `staff:7`.
    pub target: String,
    /// Free detail (never a secret).
    pub detail: String,
}

/// An entry to append with its actor and the time it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedAuditEntry {
    pub entry: NewAuditEntry,
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub staff_id: Option<StaffId>,
    /// `staff:12` or `system:demo`.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Audit-log persistence. Store write methods append their own entries in their transaction;
/// this trait is for events the server observes (logins, reads of personal data).
#[async_trait]
pub trait AuditStore {
    /// Appends one entry at `now`.
    async fn append_audit(
        &self,
        entry: NewAuditEntry,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Appends several entries (each with its own actor and time) in one transaction: all are
    /// stored or none is. The server's audit writer uses it to commit concurrent requests'
    /// entries together.
    async fn append_audits(&self, entries: Vec<TimedAuditEntry>) -> Result<(), StoreError>;

    /// Entries newest first (the cursor walks towards older ids), optionally for one target.
    async fn list_audit(
        &self,
        target: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError>;
}
