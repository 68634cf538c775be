//! Running an import: a reader thread (file → rows → validated records, bad rows to the
//! report) feeding batches through a bounded channel to the store writer on the async runtime,
//! so parsing and the database work overlap and memory stays at a few batches.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{FixedOffset, NaiveDate, Utc};
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::org::OrgPath;
use kefu_store::{Actor, Store, UpsertCounts, UpsertOutcome};
use tokio::sync::mpsc;

use super::convert::{Units, to_input};
use super::mapping::{Columns, Field, MappingFile};
use super::progress::Progress;
use super::report::Report;
use super::source::{Format, Rows, Source};
use super::{ImportError, ImportOptions, Summary};
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

/// The column header a field error belongs to, shown before the API field name.
fn field_label(columns: &Columns, field: &str) -> String {
    let root = field.split(['.', '[']).next().unwrap_or(field);
    let f = match root {
        "account_number" => Some(Field::AccountNumber),
        "name" => Some(Field::Name),
        "id_document" => Some(Field::IdNumber),
        "phones" => Some(Field::Phones),
        "address" => Some(Field::Address),
        "supply_unit_id" => Some(Field::SupplyUnit),
        "grid" => Some(Field::Grid),
        "usage_category" => Some(Field::UsageCategory),
        "voltage" => Some(Field::Voltage),
        "contract_capacity_kva" => Some(Field::ContractCapacity),
        "industry" => Some(Field::Industry),
        "business_format" => Some(Field::BusinessFormat),
        "scale" => Some(Field::Scale),
        "value_tier" => Some(Field::ValueTier),
        "service_grade" => Some(Field::ServiceGrade),
        "tags" => Some(Field::Tags),
        _ => None,
    };
    let f = f.or_else(|| {
        // `special_dates.birthday` (named by the converter or by `date_field`).
        let key = field.strip_prefix("special_dates.")?;
        let key = key.split('.').next().unwrap_or(key);
        [
            Field::Birthday,
            Field::FoundingDate,
            Field::ContractDate,
            Field::OtherDate,
        ]
        .into_iter()
        .find(|f| f.key() == key)
    });
    match f.and_then(|f| columns.header_of(f)) {
        Some(h) => format!("{h} {field}"),
        None => field.to_owned(),
    }
}

/// The domain names a special date by position (`special_dates[0].date`); the file names it by
/// column, so the position becomes the column's field (`special_dates.birthday.date`).
fn date_field(input: &kefu_domain::customer::CustomerInput, field: &str) -> String {
    let Some(rest) = field.strip_prefix("special_dates[") else {
        return field.to_owned();
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return field.to_owned();
    };
    let key = index
        .parse::<usize>()
        .ok()
        .and_then(|i| input.special_dates.get(i))
        .map(|d| match d.kind.as_str() {
            "founding" => "founding_date",
            "contract" => "contract_date",
            "other" => "other_date",
            _ => "birthday",
        });
    match key {
        Some(key) => format!("special_dates.{key}{tail}"),
        None => field.to_owned(),
    }
}

/// The reader thread's body: every row of `rows`, checked, good ones sent in batches.
#[allow(clippy::too_many_arguments)]
fn read_all(
    mut rows: Rows,
    columns: Columns,
    units: Units,
    today: NaiveDate,
    batch_size: usize,
    report: SharedReport,
    tx: mpsc::Sender<Vec<Good>>,
    mut progress: Progress,
) -> Result<ReadStats, ImportError> {
    let mut stats = ReadStats::default();
    // Account numbers seen, as 64-bit hashes with their line: constant size per row, so a
    // 10-million-row file costs ~200 MB here rather than the numbers themselves.
    let hasher = RandomState::new();
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut batch = Vec::with_capacity(batch_size);
    while let Some(row) = rows.next() {
        let row = row?;
        stats.rows += 1;
        if stats.rows.is_multiple_of(1_000) {
            progress.update(stats.rows, rows.position().unwrap_or(stats.rows));
        }
        if let Some(reason) = row.problem {
            stats.bad += 1;
            report_row(&report, row.line, &[(String::new(), reason)], &row.cells)?;
            continue;
        }
        let cells = row.cells;
        let (input, mut errors) = to_input(&cells, &columns, &units);
        let record = match CustomerRecord::validate(&input, today) {
            Ok(r) if errors.is_empty() => Some(r),
            Ok(_) => None,
            Err(more) => {
                // A unit the converter could not find is already reported by name.
                let known: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                errors.extend(more.into_iter().filter(|e| !known.contains(&e.field)));
                None
            }
        };
        let Some(record) = record else {
            stats.bad += 1;
            let problems: Vec<(String, String)> = errors
                .into_iter()
                .map(|e| {
                    let field = date_field(&input, &e.field);
                    (field_label(&columns, &field), e.reason)
                })
                .collect();
            report_row(&report, row.line, &problems, &cells)?;
            continue;
        };
        let key = hasher.hash_one(record.account_number.as_str());
        if let Some(first) = seen.get(&key) {
            stats.bad += 1;
            stats.duplicates += 1;
            let reason = format!(
                "户号重复 account number {} already on line {first}; the first row is kept",
                record.account_number.as_str()
            );
            report_row(
                &report,
                row.line,
                &[(field_label(&columns, "account_number"), reason)],
                &cells,
            )?;
            continue;
        }
        seen.insert(key, row.line);
        stats.valid += 1;
        batch.push(Good {
            line: row.line,
            record,
            original: cells,
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
    let (tx, mut rx) = mpsc::channel::<Vec<Good>>(QUEUE);
    let reader = {
        let report = report.clone();
        let batch = opts.batch_size.max(1);
        let rows = source.rows;
        std::thread::spawn(move || {
            read_all(rows, columns, units, today, batch, report, tx, progress)
        })
    };

    let actor = Actor::System("import");
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
        return Err(e);
    }
    if stored.created + stored.updated > 0 {
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
