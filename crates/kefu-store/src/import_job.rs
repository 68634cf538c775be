//! Upload jobs of the customer import (issue 6, migration 0011): one row per uploaded file with
//! its state and counts, and its bad rows (line, field, reason, original cells) for the report.
//! Jobs are stored so that a restart shows an unfinished job as interrupted instead of losing it.
//! A job belongs to its uploader's unit: it is read in scope like any other row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::ids::StaffId;
use kefu_domain::import_job::ImportJobState;
use kefu_domain::org::OrgPath;

use crate::StoreError;

/// A job to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImportJob {
    /// The uploaded file's name, as the user gave it.
    pub file_name: String,
    /// Its size in bytes.
    pub file_bytes: i64,
    /// Who uploaded it.
    pub staff_id: StaffId,
    /// The uploader's unit path: the job is seen from there and above.
    pub scope: OrgPath,
}

/// Counts of a job so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportJobCounts {
    /// Data rows read.
    pub rows_read: i64,
    /// Rows stored (created, updated or unchanged).
    pub rows_stored: i64,
    /// Rows refused (each in the report).
    pub rows_bad: i64,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: i64,
    pub file_name: String,
    pub file_bytes: i64,
    pub staff_id: StaffId,
    pub scope: OrgPath,
    pub state: ImportJobState,
    pub counts: ImportJobCounts,
    /// The file's header row, once read (the report repeats it after line, field and reason).
    pub headers: Vec<String>,
    /// Why a failed job failed.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One problem of a bad row, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    /// The row's line in the file.
    pub line: i64,
    pub field: String,
    pub reason: String,
    /// The row's cells as read.
    pub original: Vec<String>,
}

/// What changed since the last progress call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    pub state: ImportJobState,
    /// The counts now (not increments).
    pub counts: ImportJobCounts,
    /// The header row, when first known.
    pub headers: Option<Vec<String>>,
    /// New problems, appended after the earlier ones.
    pub problems: Vec<ImportProblem>,
    /// Why the job failed, with `state = Failed`.
    pub error: Option<String>,
}

/// Persistence of upload jobs.
#[async_trait]
pub trait ImportJobStore: Send + Sync {
    /// Stores a queued job.
    async fn create_import_job(
        &self,
        job: NewImportJob,
        now: DateTime<Utc>,
    ) -> Result<ImportJob, StoreError>;

    /// A job whose uploader's unit is `scope` or below it; `None` otherwise, as if missing.
    async fn get_import_job(
        &self,
        id: i64,
        scope: &OrgPath,
    ) -> Result<Option<ImportJob>, StoreError>;

    /// Writes the state, counts, header and new problems in one transaction. A move the domain's
    /// `may_become` refuses (e.g. anything after a finished state) is `InvalidState`, writing
    /// nothing; an unknown job is `NotFound`.
    async fn record_import_progress(
        &self,
        id: i64,
        progress: ImportProgress,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// A page of a job's problems in report order, after the `after`-th one (0 = from the first).
    async fn list_import_problems(
        &self,
        id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ImportProblem>, StoreError>;

    /// Marks every queued or running job interrupted (at server start); returns how many.
    async fn interrupt_unfinished_import_jobs(&self, now: DateTime<Utc>)
    -> Result<u64, StoreError>;
}

/// The stored text of a row's cells or a header (a JSON array of strings), written once here
/// for both stores.
pub fn encode_cells(cells: &[String]) -> String {
    serde_json::Value::from(cells.to_vec()).to_string()
}

/// Reads cells written by [`encode_cells`]; anything else is `Corrupt`.
pub fn decode_cells(id: i64, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        entity: "import_job",
        id: id.to_string(),
        reason: e.to_string(),
    })
}

/// The state stored as `code`, else `Corrupt`.
pub fn decode_state(id: i64, code: &str) -> Result<ImportJobState, StoreError> {
    ImportJobState::from_code(code).ok_or_else(|| StoreError::Corrupt {
        entity: "import_job",
        id: id.to_string(),
        reason: format!("unknown state '{code}'"),
    })
}

/// Refuses a move the domain does not allow, naming both states.
pub fn check_move(from: ImportJobState, to: ImportJobState) -> Result<(), StoreError> {
    if from.may_become(to) {
        Ok(())
    } else {
        Err(StoreError::InvalidState(format!(
            "an import job that is {} cannot become {}",
            from.code(),
            to.code()
        )))
    }
}
