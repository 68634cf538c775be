//! Running an import: a reader thread (file → rows → validated records, bad rows to the
//! report) feeding batches through a bounded channel to the store writer on the async runtime,
//! so parsing and the database work overlap and memory stays at a few batches.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{FixedOffset, NaiveDate, Utc};
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::org::OrgPath;
use kefu_store::{Actor, Store, UpsertCounts, UpsertOutcome};
use tokio::sync::mpsc;

use kefu_import::{
    Checked, Checker, Columns, Format, ImportError, MappingFile, Report, Rows, Source, Units,
};

use super::progress::Progress;
use super::{ImportOptions, Summary};
use crate::cli::ImportCustomersArgs;
use crate::config::Config;
use crate::db;

/// Batches waiting for the writer: the reader stays at most this far ahead.
const QUEUE: usize = 2;

/// One valid row on its way to the store.
struct Good {
    line: u64,
    record: CustomerRecord,
    original: Vec<String>,
}

/// What the reader thread counted.
#[derive(Default)]
struct ReadStats {
    rows: u64,
    valid: u64,
    bad: u64,
    duplicates: u64,
}

type SharedReport = Arc<Mutex<Report>>;

fn report_row(
    report: &SharedReport,
    line: u64,
    problems: &[(String, String)],
    original: &[String],
) -> Result<(), ImportError> {
    let mut r = report.lock().map_err(|_| ImportError::ReaderPanicked)?;
    for (field, reason) in problems {
        r.add(line, field, reason, original)?;
    }
    Ok(())
}

/// The reader thread's body: every row of `rows`, checked, good ones sent in batches.
#[allow(clippy::too_many_arguments)]
fn read_all(
    mut rows: Rows,
    columns: Columns,
    units: Units,
    today: NaiveDate,
    batch_size: usize,
    keep_original: bool,
    report: SharedReport,
    tx: mpsc::Sender<Vec<Good>>,
    mut progress: Progress,
) -> Result<ReadStats, ImportError> {
    let mut stats = ReadStats::default();
    let mut checker = Checker::new(columns, units, today);
    let mut batch = Vec::with_capacity(batch_size);
    while let Some(row) = rows.next() {
        let row = row?;
        stats.rows += 1;
        if stats.rows.is_multiple_of(1_000) {
            progress.update(stats.rows, rows.position().unwrap_or(stats.rows));
        }
        let record = match checker.check(&row) {
            Checked::Good(record) => record,
            Checked::Bad {
                problems,
                duplicate,
            } => {
                stats.bad += 1;
                stats.duplicates += u64::from(duplicate);
                let problems: Vec<(String, String)> =
                    problems.into_iter().map(|p| (p.field, p.reason)).collect();
                report_row(&report, row.line, &problems, &row.cells)?;
                continue;
            }
        };
        stats.valid += 1;
        batch.push(Good {
            line: row.line,
            record: *record,
            original: if keep_original { row.cells } else { Vec::new() },
        });
        if batch.len() >= batch_size {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            if tx.blocking_send(full).is_err() {
                // The writer stopped (store error or Ctrl-C): stop reading too.
                return Ok(stats);
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(batch);
    }
    progress.update(stats.rows, rows.position().unwrap_or(stats.rows));
    progress.finish();
    Ok(stats)
}

/// Every org unit, as the keys an import may use for 供电单位.
async fn load_units(store: &dyn Store) -> Result<Units, ImportError> {
    let first = store
        .get_org_unit(OrgUnitId(1))
        .await?
        .ok_or(ImportError::NoOrgTree)?;
    let root = first.path.ids().first().copied().unwrap_or(first.id);
    let units = store.list_org_units(&OrgPath::root(root)).await?;
    Ok(Units::new(
        units
            .into_iter()
            .map(|u| (u.id.0, u.code.as_str().to_owned(), u.name)),
    ))
}

/// One pass over the file: validate, and store when `write`.
async fn pass(
    store: &dyn Store,
    opts: &ImportOptions,
    units: Units,
    today: NaiveDate,
    write: bool,
) -> Result<Summary, ImportError> {
    let started = Instant::now();
    let format = match opts.format {
        Some(f) => f,
        None => Format::from_path(&opts.file)
            .ok_or_else(|| ImportError::UnknownFormat(opts.file.clone()))?,
    };
    let mapping = match &opts.mapping {
        Some(path) => MappingFile::load(path)?,
        None => MappingFile::default(),
    };
    let source = Source::open(&opts.file, format, opts.encoding)?;
    let columns = Columns::resolve(source.headers.clone(), &mapping)?;
    if !columns.ignored.is_empty() && !opts.quiet {
        eprintln!(
            "忽略的列 ignored columns (no field; map them with --mapping): {}",
            columns.ignored.join(", ")
        );
    }
    let report_path = opts.report_path();
    let report = Arc::new(Mutex::new(Report::create(&report_path, &source.headers)?));
    let unit = if matches!(source.rows, Rows::Csv { .. }) {
        "bytes"
    } else {
        "rows"
    };
    let progress = Progress::new(source.total, unit, opts.quiet);
    let encoding = source.encoding_name;
    let actor = Actor::System("import");
    // An empty archive is loaded with its indexes rebuilt at the end.
    let mut load = if write {
        store.begin_initial_load().await?
    } else {
        None
    };
    let initial_load = load.is_some();
    let (tx, mut rx) = mpsc::channel::<Vec<Good>>(QUEUE);
    let reader = {
        // Only upserts report rows after the reader (retired customers): an initial load
        // needs no original cells, so they are freed where they were made.
        let keep_original = !initial_load;
        let report = report.clone();
        let batch = opts
            .batch_size
            .unwrap_or(if initial_load {
                super::INITIAL_LOAD_BATCH
            } else {
                super::DEFAULT_BATCH
            })
            .max(1);
        let rows = source.rows;
        std::thread::Builder::new()
            .name("kefu-import-reader".to_owned())
            .spawn(move || {
                read_all(
                    rows,
                    columns,
                    units,
                    today,
                    batch,
                    keep_original,
                    report,
                    tx,
                    progress,
                )
            })
            .map_err(|e| ImportError::Read {
                path: opts.file.clone(),
                reason: format!("cannot start the reader thread: {e}"),
            })?
    };

    let mut stored = UpsertCounts::default();
    let mut failure = None;
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let batch = tokio::select! {
            biased;
            _ = &mut ctrl_c => { interrupted = true; break; }
            b = rx.recv() => b,
        };
        let Some(batch) = batch else { break };
        if !write {
            continue;
        }
        if let Some(load) = load.as_mut() {
            let records: Vec<CustomerRecord> = batch.into_iter().map(|g| g.record).collect();
            // Not raced against Ctrl-C either: a batch that started goes in whole.
            match load.insert(records, &actor, Utc::now()).await {
                Ok(ids) => stored.created += ids.len() as u64,
                Err(e) => {
                    failure = Some(ImportError::InitialLoad(e));
                    break;
                }
            }
            continue;
        }
        let (records, rest): (Vec<CustomerRecord>, Vec<(u64, Vec<String>)>) = batch
            .into_iter()
            .map(|g| (g.record, (g.line, g.original)))
            .unzip();
        // Not raced against Ctrl-C: a batch that started commits whole.
        match store.upsert_customers(records, &actor, Utc::now()).await {
            Ok(outcomes) => {
                for (outcome, (line, original)) in outcomes.iter().zip(&rest) {
                    stored.add(*outcome);
                    if let UpsertOutcome::Retired(id) = outcome {
                        let reason = format!(
                            "已退出 customer {id} is retired and was not updated: reinstate it first"
                        );
                        report_row(&report, *line, &[("status".to_owned(), reason)], original)?;
                    }
                }
            }
            Err(e) => {
                failure = Some(ImportError::Store(e));
                break;
            }
        }
    }
    drop(rx);
    let stats = reader.join().map_err(|_| ImportError::ReaderPanicked)??;
    report
        .lock()
        .map_err(|_| ImportError::ReaderPanicked)?
        .finish()?;
    if let Some(e) = failure {
        if let Some(load) = load
            && let Err(abort) = load.abort().await
        {
            // The store repairs itself at the next open; the first error is the one to fix.
            tracing::warn!(error = %abort, "could not end the failed initial load cleanly");
        }
        return Err(e);
    }
    if let Some(load) = load {
        // Also after Ctrl-C: the whole batches read so far are committed, with their indexes.
        if !opts.quiet {
            eprintln!("正在重建索引 rebuilding the indexes of the customer tables…");
        }
        load.finish(&actor, Utc::now())
            .await
            .map_err(ImportError::InitialLoad)?;
    } else if stored.created + stored.updated > 0 {
        store.after_import().await?;
    }
    Ok(Summary {
        rows: stats.rows,
        valid: stats.valid,
        stored,
        bad: stats.bad,
        duplicates: stats.duplicates,
        elapsed: started.elapsed(),
        encoding,
        report: report_path,
        dry_run: !write,
        interrupted,
        initial_load,
    })
}

/// Imports a file into `store`. With `all_or_nothing`, a first pass validates the whole file and
/// nothing is stored if any row is bad.
pub async fn import(
    store: &dyn Store,
    opts: &ImportOptions,
    offset: FixedOffset,
) -> Result<Summary, ImportError> {
    let today = Utc::now().with_timezone(&offset).date_naive();
    let units = load_units(store).await?;
    if opts.all_or_nothing && !opts.dry_run {
        let started = Instant::now();
        let check = pass(store, opts, units.clone(), today, false).await?;
        if check.interrupted {
            // Stopped while checking: nothing was stored, and nothing will be.
            return Ok(check);
        }
        if check.bad > 0 {
            return Err(ImportError::AllOrNothing {
                bad: check.bad,
                report: check.report,
            });
        }
        let mut done = pass(store, opts, units, today, true).await?;
        done.elapsed = started.elapsed();
        return Ok(done);
    }
    pass(store, opts, units, today, !opts.dry_run).await
}

/// `kefu import customers`: opens the configured store, imports, prints the summary.
pub async fn command(config: &Config, args: &ImportCustomersArgs) -> anyhow::Result<()> {
    let opts = ImportOptions {
        file: args.file.clone(),
        format: args.format,
        encoding: args.encoding,
        mapping: args.mapping.clone(),
        all_or_nothing: args.all_or_nothing,
        dry_run: args.dry_run,
        report: args.report.clone(),
        batch_size: args.batch_size,
        quiet: false,
    };
    let store = db::open_migrated(&config.database).await?;
    let summary = import(store.as_ref(), &opts, config.utc_offset).await?;
    print!("{}", summary.text());
    if summary.interrupted {
        anyhow::bail!(
            "导入已中断 the import was interrupted; run the same command again to finish"
        );
    }
    Ok(())
}
