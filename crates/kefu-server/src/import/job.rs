//! Running an upload job in the background: a blocking task reads and checks the rows (the
//! `kefu-import` crate, as `kefu import customers` does) and hands batches to this task, which
//! stores the good rows (`upsert_customers`, one transaction and one audit entry per batch,
//! acting as the uploader) and records the job's counts and bad rows after each batch, so the
//! page and `GET /api/v1/imports/{id}` follow it.
//!
//! All-or-nothing jobs read the file twice: a first pass checks every row and stores nothing;
//! only when no row is bad does a second pass store all rows in one store transaction, so a
//! refusal half-way stores nothing either.

use std::path::PathBuf;

use chrono::Utc;
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::import_job::{ImportJobState, MAX_REPORTED_PROBLEMS};
use kefu_domain::org::OrgPath;
use kefu_import::{
    Checked, Checker, Columns, EncodingChoice, Format, ImportError, Rows, Source, Units,
};
use kefu_store::{
    Actor, ImportJobCounts, ImportProblem, ImportProgress, Store, StoreError, UpsertOutcome,
};
use tokio::sync::mpsc;

use crate::AppState;

/// Rows per store transaction and per progress update: small enough that a file of a few
/// hundred thousand rows shows progress every second or so.
const BATCH_ROWS: usize = 2_000;

/// What the reader sends after each batch of rows.
struct Batch {
    good: Vec<(i64, CustomerRecord, Vec<String>)>,
    bad: Vec<ImportProblem>,
    /// Rows read so far (bad ones included).
    rows_read: i64,
}

/// What the uploader gave and where the file waits.
pub struct JobInput {
    pub id: i64,
    pub rows: Rows,
    pub columns: Columns,
    pub headers: Vec<String>,
    pub scope: OrgPath,
    pub actor: Actor,
    /// The uploaded file, removed when the job ends.
    pub path: PathBuf,
    /// How to read the file again (the second pass of an all-or-nothing job).
    pub format: Format,
    pub encoding: EncodingChoice,
    /// Store nothing unless every row is good.
    pub all_or_nothing: bool,
}

/// What the writer does with the good rows of a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Stores each batch as it comes (one transaction per batch).
    Store,
    /// Stores nothing: the first pass of an all-or-nothing job.
    Check,
    /// Gathers every good row and stores them in one transaction at the end.
    StoreAtOnce,
}

/// Runs a job to its end; every outcome, failure included, is recorded on the job.
pub async fn run(state: AppState, input: JobInput) {
    let id = input.id;
    let path = input.path.clone();
    let mut counts = ImportJobCounts::default();
    if let Err(reason) = run_inner(&state, input, &mut counts).await {
        tracing::warn!(job = id, %reason, "import job failed");
        let failed = ImportProgress {
            state: ImportJobState::Failed,
            counts,
            headers: None,
            problems: Vec::new(),
            error: Some(reason),
        };
        if let Err(e) = state
            .store
            .record_import_progress(id, failed, Utc::now())
            .await
        {
            tracing::error!(job = id, error = %e, "could not record the failure of an import job");
        }
    }
    super::discard(&path);
}

/// Every org unit (names are keys too), and the ids inside `scope`.
async fn units(store: &dyn Store, scope: &OrgPath) -> Result<(Units, Vec<i64>), StoreError> {
    let Some(first) = store.get_org_unit(OrgUnitId(1)).await? else {
        return Ok((Units::default(), Vec::new()));
    };
    let root = first.path.ids().first().copied().unwrap_or(first.id);
    let all = store.list_org_units(&OrgPath::root(root)).await?;
    let inside = all
        .iter()
        .filter(|u| scope.contains(&u.path))
        .map(|u| u.id.0)
        .collect();
    let units = Units::new(
        all.into_iter()
            .map(|u| (u.id.0, u.code.as_str().to_owned(), u.name)),
    );
    Ok((units, inside))
}

async fn run_inner(
    state: &AppState,
    input: JobInput,
    counts: &mut ImportJobCounts,
) -> Result<(), String> {
    let store = state.store.as_ref();
    let id = input.id;
    store
        .record_import_progress(
            id,
            ImportProgress {
                state: ImportJobState::Running,
                counts: *counts,
                headers: Some(input.headers),
                problems: Vec::new(),
                error: None,
            },
            Utc::now(),
        )
        .await
        .map_err(|e| e.to_string())?;
    let (units, inside) = units(store, &input.scope)
        .await
        .map_err(|e| e.to_string())?;
    let today = Utc::now()
        .with_timezone(&state.config.utc_offset)
        .date_naive();
    let checker =
        || Checker::new(input.columns.clone(), units.clone(), today).with_scope(inside.clone());
    let mut writer = Writer {
        store,
        id,
        actor: &input.actor,
        reported: 0,
        stored_any: false,
    };
    if input.all_or_nothing {
        writer
            .pass(input.rows, checker(), Pass::Check, counts)
            .await?;
        if counts.rows_bad > 0 {
            return Err(format!(
                "全部或全不：{} 行有错，未存储任何行 all-or-nothing: {} bad rows, nothing was \
                 stored. Correct them (see the report) and upload the file again",
                counts.rows_bad, counts.rows_bad
            ));
        }
        let path = input.path.clone();
        let (format, encoding) = (input.format, input.encoding);
        let again = tokio::task::spawn_blocking(move || Source::open(&path, format, encoding))
            .await
            .map_err(|_| ImportError::ReaderPanicked.to_string())?
            .map_err(|e| e.to_string())?;
        writer
            .pass(again.rows, checker(), Pass::StoreAtOnce, counts)
            .await?;
    } else {
        writer
            .pass(input.rows, checker(), Pass::Store, counts)
            .await?;
    }
    if writer.stored_any {
        store.after_import().await.map_err(|e| e.to_string())?;
    }
    store
        .record_import_progress(
            id,
            ImportProgress {
                state: ImportJobState::Done,
                counts: *counts,
                headers: None,
                problems: Vec::new(),
                error: None,
            },
            Utc::now(),
        )
        .await
        .map_err(|e| e.to_string())
}

/// The job's side of a pass: stores (or not) what the reader sends and records the progress.
struct Writer<'a> {
    store: &'a dyn Store,
    id: i64,
    actor: &'a Actor,
    /// Problems recorded so far (the report keeps the first `MAX_REPORTED_PROBLEMS`).
    reported: u64,
    stored_any: bool,
}

impl Writer<'_> {
    async fn pass(
        &mut self,
        rows: Rows,
        checker: Checker,
        pass: Pass,
        counts: &mut ImportJobCounts,
    ) -> Result<(), String> {
        let (tx, mut rx) = mpsc::channel::<Batch>(2);
        let reader = tokio::task::spawn_blocking(move || read_all(rows, checker, tx));
        let mut gathered: Vec<(i64, CustomerRecord, Vec<String>)> = Vec::new();
        while let Some(batch) = rx.recv().await {
            let mut problems = batch.bad;
            if pass != Pass::StoreAtOnce {
                // The second pass of an all-or-nothing job reads the rows the first one counted.
                counts.rows_read = batch.rows_read;
                counts.rows_bad += problems_rows(&problems);
            }
            match pass {
                Pass::Store => {
                    self.store_rows(batch.good, &mut problems, counts, false)
                        .await?
                }
                Pass::Check => {}
                Pass::StoreAtOnce => gathered.extend(batch.good),
            }
            self.progress(problems, counts).await?;
        }
        reader
            .await
            .map_err(|_| ImportError::ReaderPanicked.to_string())?
            .map_err(|e| e.to_string())?;
        if pass == Pass::StoreAtOnce {
            let mut problems = Vec::new();
            self.store_rows(gathered, &mut problems, counts, true)
                .await?;
            self.progress(problems, counts).await?;
        }
        Ok(())
    }

    async fn store_rows(
        &mut self,
        good: Vec<(i64, CustomerRecord, Vec<String>)>,
        problems: &mut Vec<ImportProblem>,
        counts: &mut ImportJobCounts,
        at_once: bool,
    ) -> Result<(), String> {
        if good.is_empty() {
            return Ok(());
        }
        let (records, rest): (Vec<CustomerRecord>, Vec<(i64, Vec<String>)>) = good
            .into_iter()
            .map(|(line, record, cells)| (record, (line, cells)))
            .unzip();
        let outcomes = self
            .store
            .upsert_customers(records, self.actor, Utc::now())
            .await
            .map_err(|e| {
                if at_once {
                    format!(
                        "存储失败 the store refused the rows: {e}. Nothing was stored; upload \
                         the file again"
                    )
                } else {
                    format!(
                        "存储失败 the store refused a batch: {e}. Earlier batches are stored; \
                         upload the file again: stored rows are updated, never duplicated"
                    )
                }
            })?;
        for (outcome, (line, cells)) in outcomes.iter().zip(rest) {
            match outcome {
                UpsertOutcome::Retired(cid) => {
                    counts.rows_bad += 1;
                    problems.push(ImportProblem {
                        line,
                        field: "status".to_owned(),
                        reason: format!(
                            "已退出 customer {cid} is retired and was not updated: \
                             reinstate it first"
                        ),
                        original: cells,
                    });
                }
                UpsertOutcome::Created(_) | UpsertOutcome::Updated(_) => {
                    self.stored_any = true;
                    counts.rows_stored += 1;
                }
                UpsertOutcome::Unchanged(_) => counts.rows_stored += 1,
            }
        }
        Ok(())
    }

    async fn progress(
        &mut self,
        mut problems: Vec<ImportProblem>,
        counts: &ImportJobCounts,
    ) -> Result<(), String> {
        // The counts go on past the cap; the report keeps the first problems only.
        let room = MAX_REPORTED_PROBLEMS.saturating_sub(self.reported) as usize;
        problems.truncate(room);
        self.reported += problems.len() as u64;
        self.store
            .record_import_progress(
                self.id,
                ImportProgress {
                    state: ImportJobState::Running,
                    counts: *counts,
                    headers: None,
                    problems,
                    error: None,
                },
                Utc::now(),
            )
            .await
            .map_err(|e| e.to_string())
    }
}

/// Bad rows among problems: a row with three bad fields is one bad row.
fn problems_rows(problems: &[ImportProblem]) -> i64 {
    let mut rows = 0;
    let mut last = None;
    for p in problems {
        if last != Some(p.line) {
            rows += 1;
            last = Some(p.line);
        }
    }
    rows
}

/// The blocking reader: rows → checked → batches.
fn read_all(rows: Rows, mut checker: Checker, tx: mpsc::Sender<Batch>) -> Result<(), ImportError> {
    let mut read: i64 = 0;
    let mut batch = Batch {
        good: Vec::with_capacity(BATCH_ROWS),
        bad: Vec::new(),
        rows_read: 0,
    };
    for row in rows {
        let row = row?;
        read += 1;
        match checker.check(&row) {
            Checked::Good(record) => batch.good.push((row.line as i64, *record, row.cells)),
            Checked::Bad { problems, .. } => {
                for p in problems {
                    batch.bad.push(ImportProblem {
                        line: row.line as i64,
                        field: p.field,
                        reason: p.reason,
                        original: row.cells.clone(),
                    });
                }
            }
        }
        if batch.good.len() + batch.bad.len() >= BATCH_ROWS {
            batch.rows_read = read;
            let full = std::mem::replace(
                &mut batch,
                Batch {
                    good: Vec::with_capacity(BATCH_ROWS),
                    bad: Vec::new(),
                    rows_read: 0,
                },
            );
            if tx.blocking_send(full).is_err() {
                // The writer stopped on an error it records itself.
                return Ok(());
            }
        }
    }
    batch.rows_read = read;
    let _ = tx.blocking_send(batch);
    Ok(())
}
