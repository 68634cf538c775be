//! `kefu bench import`: the customer-import benchmark of issue 6 ("import of N customers from
//! CSV vs SQLite's own `sqlite3 .import` / PostgreSQL `COPY` of the same file into a bare table;
//! targets ≥ 200 000 rows/s and ≥ 0.5× the baseline").
//!
//! 1. writes N demo customers as a billing-system CSV (`demo::billing_file`, same seed → same
//!    file) into a scratch directory;
//! 2. **baseline**, same run, same file: SQLite — the `sqlite3` command-line shell's
//!    `.import` into a new table of TEXT columns in a scratch database file; PostgreSQL —
//!    `COPY bare FROM STDIN (FORMAT csv, HEADER)` into an unindexed table of TEXT columns in
//!    the fresh schema. No checks, no indexes, no history: the database's own loading floor;
//! 3. **kefu**: the whole `kefu import customers` path (read, map, convert, validate, upsert
//!    with history, audit, statistics) into a fresh store holding the demo org tree;
//! 4. prints a Markdown row: rows/s of both and kefu's share of the baseline's speed.
//!
//! A run whose import stores fewer rows than the file holds is an error, not a figure.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use kefu_store::{Actor, Store};
use sqlx::Connection;

use super::{Scratch, fresh_store, ratio};
use crate::cli::{Cli, ImportBenchArgs};
use crate::config::DatabaseUrl;
use crate::demo;
use crate::import::{EncodingChoice, Format, ImportOptions, Summary};

/// Rows of `--quick` (cheap enough for CI).
pub const QUICK_CUSTOMERS: usize = 100_000;
/// The most rows a run may generate.
pub const MAX_CUSTOMERS: usize = demo::MAX_CUSTOMERS;

/// What to run.
#[derive(Debug, Clone)]
pub struct ImportBenchOptions {
    /// PostgreSQL server to create a fresh schema in; `None` = a temporary SQLite file.
    pub database_url: Option<DatabaseUrl>,
    /// Customers in the generated file.
    pub customers: usize,
    /// Generator seed.
    pub seed: u64,
    /// Rows per store transaction of the import; `None`: the import's default.
    pub batch: Option<usize>,
}

/// Options from the command line (the database only from `--database-url`).
pub fn options(cli: &Cli, args: &ImportBenchArgs) -> ImportBenchOptions {
    ImportBenchOptions {
        database_url: cli.database_url.clone().map(DatabaseUrl::new),
        customers: if args.quick {
            QUICK_CUSTOMERS
        } else {
            args.customers.clamp(1, MAX_CUSTOMERS)
        },
        seed: args.seed,
        batch: args.batch_size.map(|b| b.clamp(1, 100_000)),
    }
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct ImportBenchReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Data rows in the file.
    pub rows: usize,
    /// Size of the file.
    pub bytes: u64,
    /// Writing the file (not part of either timing).
    pub generate: Duration,
    /// The database's own bulk load of the file.
    pub baseline: Duration,
    /// `kefu import customers` of the file.
    pub import: Summary,
}

fn per_second(n: usize, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

impl ImportBenchReport {
    /// The Markdown table header for `markdown_row`.
    pub const HEADER: &'static str = "| store | rows | file MB | baseline | baseline s | baseline rows/s | kefu import s | kefu rows/s | kefu ÷ baseline |\n|---|---|---|---|---|---|---|---|---|";

    fn baseline_name(&self) -> &'static str {
        match self.backend {
            "postgres" => "COPY",
            _ => "sqlite3 .import",
        }
    }

    /// One row of the results table.
    pub fn markdown_row(&self) -> String {
        let base = per_second(self.rows, self.baseline);
        let kefu = per_second(self.rows, self.import.elapsed);
        format!(
            "| {} | {} | {:.0} | {} | {:.1} | {:.0} | {:.1} | {:.0} | {} |",
            self.backend,
            self.rows,
            self.bytes as f64 / 1_048_576.0,
            self.baseline_name(),
            self.baseline.as_secs_f64(),
            base,
            self.import.elapsed.as_secs_f64(),
            kefu,
            ratio(kefu, base),
        )
    }

    /// Header, row and what the import did, ready for BENCHMARKS.md.
    pub fn markdown(&self) -> String {
        let s = &self.import.stored;
        format!(
            "{}\n{}\n\nfile written in {:.1}s; import: {} created, {} updated, {} unchanged, {} bad",
            Self::HEADER,
            self.markdown_row(),
            self.generate.as_secs_f64(),
            s.created,
            s.updated,
            s.unchanged,
            self.import.bad,
        )
    }
}

/// Runs the benchmark and removes its file, databases and schema afterwards.
pub async fn import(opts: ImportBenchOptions) -> anyhow::Result<ImportBenchReport> {
    let (store, scratch) = fresh_store(opts.database_url.as_ref()).await?;
    let dir = match &scratch {
        Scratch::Sqlite(dir) => dir.clone(),
        Scratch::Postgres(_, schema) => std::env::temp_dir().join(schema),
    };
    let result = run(store, &scratch, &dir, &opts).await;
    if let Scratch::Postgres(..) = scratch
        && let Err(e) = std::fs::remove_dir_all(&dir)
    {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot remove the bench files");
    }
    scratch.remove().await;
    result
}

async fn run(
    store: Arc<dyn Store>,
    scratch: &Scratch,
    dir: &Path,
    opts: &ImportBenchOptions,
) -> anyhow::Result<ImportBenchReport> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = dir.join("customers.csv");
    eprintln!(
        "bench: writing {} demo customers to {}…",
        opts.customers,
        file.display()
    );
    let started = Instant::now();
    let today = Utc::now().date_naive();
    let rows = {
        let out =
            std::fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?;
        demo::billing_file::write_customers(out, opts.seed, opts.customers, today)?
    };
    let generate = started.elapsed();
    let bytes = std::fs::metadata(&file)?.len();
    eprintln!(
        "bench: {rows} rows, {:.0} MB in {:.1}s",
        bytes as f64 / 1_048_576.0,
        generate.as_secs_f64()
    );

    let baseline = match scratch {
        Scratch::Sqlite(_) => sqlite_import(&file, &dir.join("baseline.db")).await?,
        Scratch::Postgres(url, schema) => pg_copy(url, schema, &file).await?,
    };
    eprintln!(
        "bench: baseline {:.1}s ({:.0} rows/s)",
        baseline.as_secs_f64(),
        per_second(rows, baseline)
    );

    demo::create_org(store.as_ref(), &Actor::System("bench")).await?;
    let import_opts = ImportOptions {
        file: file.clone(),
        format: Some(Format::Csv),
        encoding: EncodingChoice::Auto,
        mapping: None,
        all_or_nothing: false,
        dry_run: false,
        report: Some(dir.join("report.csv")),
        batch_size: opts.batch,
        quiet: true,
    };
    eprintln!("bench: kefu import customers…");
    let summary = crate::import::import(
        store.as_ref(),
        &import_opts,
        crate::config::parse_utc_offset(crate::config::DEFAULT_UTC_OFFSET)?,
    )
    .await?;
    let stored = summary.stored.created + summary.stored.updated + summary.stored.unchanged;
    anyhow::ensure!(
        summary.rows == rows as u64 && stored == rows as u64 && summary.bad == 0,
        "the import did not store the whole file ({} rows read, {stored} stored, {} bad): see {}",
        summary.rows,
        summary.bad,
        summary.report.display()
    );
    anyhow::ensure!(
        store.count_customers().await? == rows as u64,
        "the store does not hold every imported customer"
    );
    eprintln!(
        "bench: kefu import {:.1}s ({:.0} rows/s)",
        summary.elapsed.as_secs_f64(),
        summary.rate()
    );
    Ok(ImportBenchReport {
        backend: store.backend(),
        rows,
        bytes,
        generate,
        baseline,
        import: summary,
    })
}

/// `sqlite3 DB` with `.import --csv FILE bare`: the shell creates the table from the header
/// (TEXT columns) and loads the rows in one transaction.
async fn sqlite_import(file: &Path, db: &Path) -> anyhow::Result<Duration> {
    let script = format!(".import --csv '{}' bare\n", file.display());
    let db: PathBuf = db.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Duration> {
        let started = Instant::now();
        let mut child = std::process::Command::new("sqlite3")
            .arg(&db)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context(
                "cannot run the sqlite3 shell for the baseline: install it (apt-get install sqlite3)",
            )?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(script.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        let elapsed = started.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        anyhow::ensure!(
            out.status.success() && err.trim().is_empty(),
            "sqlite3 .import failed: {err}"
        );
        let _ = std::fs::remove_file(&db);
        Ok(elapsed)
    })
    .await?
}

/// `COPY bare FROM STDIN (FORMAT csv, HEADER)` of the file into an unindexed TEXT table.
async fn pg_copy(url: &DatabaseUrl, schema: &str, file: &Path) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        crate::db::is_plain_identifier(schema),
        "refusing schema '{schema}': not a plain identifier"
    );
    let mut conn = sqlx::PgConnection::connect(url.expose())
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    let columns: Vec<String> = (1..=demo::billing_file::HEADER.len())
        .map(|i| format!("c{i} text"))
        .collect();
    // Safe: the schema was checked to be a plain identifier; the columns are ours.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {schema}.bare ({})",
        columns.join(", ")
    )))
    .execute(&mut conn)
    .await?;
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY {schema}.bare FROM STDIN (FORMAT csv, HEADER true)"
        ))
        .await?;
    // Plain blocking reads of 1 MiB: this task is the only work of the benchmark now.
    let mut input = std::fs::File::open(file)?;
    let mut buf = vec![0_u8; 1 << 20];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        copy.send(&buf[..n]).await?;
    }
    let copied = copy.finish().await?;
    let elapsed = started.elapsed();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {schema}.bare")))
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    eprintln!("bench: COPY loaded {copied} rows");
    Ok(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(backend: &'static str, baseline: f64, import: f64) -> ImportBenchReport {
        ImportBenchReport {
            backend,
            rows: 1_000_000,
            bytes: 200 << 20,
            generate: Duration::from_secs(3),
            baseline: Duration::from_secs_f64(baseline),
            import: Summary {
                elapsed: Duration::from_secs_f64(import),
                ..Summary::default()
            },
        }
    }

    #[test]
    fn the_row_gives_both_rates_and_the_share_of_the_baseline() {
        let row = report("sqlite", 2.0, 5.0).markdown_row();
        assert_eq!(
            row,
            "| sqlite | 1000000 | 200 | sqlite3 .import | 2.0 | 500000 | 5.0 | 200000 | 0.40 |"
        );
        assert!(
            report("postgres", 1.0, 1.0)
                .markdown_row()
                .contains("| COPY |")
        );
    }
}
