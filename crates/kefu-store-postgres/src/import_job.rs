//! Upload jobs of the customer import on PostgreSQL (migration 0011): progress and its problems
//! are written in one transaction holding the job's row lock, after checking the move against
//! the stored state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::ids::StaffId;
use kefu_domain::import_job::ImportJobState;
use kefu_domain::org::OrgPath;
use kefu_store::import_job::{check_move, decode_cells, decode_state, encode_cells};
use kefu_store::{
    ImportJob, ImportJobCounts, ImportJobStore, ImportProblem, ImportProgress, NewImportJob,
    StoreError,
};

use crate::{PgStore, db};

type JobRow = (
    i64,
    String,
    i64,
    i64,
    String,
    String,
    i64,
    i64,
    i64,
    String,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

// Formatted into queries: a constant, never input.
const JOB_COLUMNS: &str = "id, file_name, file_bytes, staff_id, org_path, state, rows_read, \
     rows_stored, rows_bad, headers, error, created_at, updated_at";

fn job(row: JobRow) -> Result<ImportJob, StoreError> {
    let (id, file_name, file_bytes, staff_id, path, state, read, stored, bad, headers, error, c, u) =
        row;
    Ok(ImportJob {
        id,
        file_name,
        file_bytes,
        staff_id: StaffId(staff_id),
        scope: OrgPath::from_stored(&path).ok_or_else(|| StoreError::Corrupt {
            entity: "import_job",
            id: id.to_string(),
            reason: format!("bad org path '{path}'"),
        })?,
        state: decode_state(id, &state)?,
        counts: ImportJobCounts {
            rows_read: read,
            rows_stored: stored,
            rows_bad: bad,
        },
        headers: decode_cells(id, &headers)?,
        error,
        created_at: c,
        updated_at: u,
    })
}

#[async_trait]
impl ImportJobStore for PgStore {
    async fn create_import_job(
        &self,
        new: NewImportJob,
        now: DateTime<Utc>,
    ) -> Result<ImportJob, StoreError> {
        let row: JobRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO import_jobs (file_name, file_bytes, staff_id, org_path, state, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {JOB_COLUMNS}"
        )))
        .bind(&new.file_name)
        .bind(new.file_bytes)
        .bind(new.staff_id.0)
        .bind(new.scope.as_str())
        .bind(ImportJobState::Queued.code())
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        job(row)
    }

    async fn get_import_job(
        &self,
        id: i64,
        scope: &OrgPath,
    ) -> Result<Option<ImportJob>, StoreError> {
        let row: Option<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {JOB_COLUMNS} FROM import_jobs WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let job = row.map(job).transpose()?;
        Ok(job.filter(|j| scope.contains(&j.scope)))
    }

    async fn record_import_progress(
        &self,
        id: i64,
        progress: ImportProgress,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let found: Option<(String, i64)> = sqlx::query_as(
            "SELECT state, (SELECT COUNT(*) FROM import_job_problems WHERE job_id = $1) \
             FROM import_jobs WHERE id = $1 FOR UPDATE",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some((state, problems)) = found else {
            return Err(StoreError::NotFound {
                entity: "import_job",
            });
        };
        check_move(decode_state(id, &state)?, progress.state)?;
        let c = progress.counts;
        sqlx::query(
            "UPDATE import_jobs SET state = $2, rows_read = $3, rows_stored = $4, rows_bad = $5, \
             headers = COALESCE($6, headers), error = COALESCE($7, error), updated_at = $8 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(progress.state.code())
        .bind(c.rows_read)
        .bind(c.rows_stored)
        .bind(c.rows_bad)
        .bind(progress.headers.as_deref().map(encode_cells))
        .bind(progress.error.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        for (seq, p) in (problems + 1..).zip(&progress.problems) {
            sqlx::query(
                "INSERT INTO import_job_problems (job_id, seq, line, field, reason, original) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(seq)
            .bind(p.line)
            .bind(&p.field)
            .bind(&p.reason)
            .bind(encode_cells(&p.original))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn list_import_problems(
        &self,
        id: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ImportProblem>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT line, field, reason, original FROM import_job_problems \
             WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|(line, field, reason, original)| {
                Ok(ImportProblem {
                    line,
                    field,
                    reason,
                    original: decode_cells(id, &original)?,
                })
            })
            .collect()
    }

    async fn interrupt_unfinished_import_jobs(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE import_jobs SET state = $1, updated_at = $2 \
             WHERE state IN ('queued', 'running')",
        )
        .bind(ImportJobState::Interrupted.code())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }
}
