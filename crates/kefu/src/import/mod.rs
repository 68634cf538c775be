//! `kefu import customers FILE` (issue 6): the customer archive from the marketing/billing
//! system's files. A reader thread streams the file (CSV in UTF-8 or GBK, or an Excel sheet),
//! maps its header to fields (`mapping`), converts each row (`convert`) and validates it with
//! the domain's `CustomerRecord::validate`, exactly as the API does; good rows travel in batches
//! to the store's `upsert_customers` (one transaction per batch, keyed by account number, so a
//! re-run after a crash or Ctrl-C updates instead of duplicating), bad rows go to the report.
//! Reading, mapping, converting and checking live in the `kefu-import` crate (the server's
//! upload jobs use them too); this module runs them against the store with a progress display.

pub(crate) mod progress;
mod run;

use std::path::PathBuf;
use std::time::Duration;

use kefu_store::UpsertCounts;

pub use kefu_import::{
    Columns, EncodingChoice, Field, Format, ImportError, MappingFile, Units, half_width,
    normalise_date,
};
pub use run::{command, import};

/// Rows per store transaction of an import that upserts (the archive already holds customers),
/// unless `--batch-size` says otherwise: other writers wait for each of them.
pub const DEFAULT_BATCH: usize = 20_000;
/// Rows per batch of an initial load into an empty archive, unless `--batch-size` says
/// otherwise: each is a commit on SQLite and the indexes are built at the end, so bigger
/// batches cost memory only (10 M rows on SQLite: 55.0 s with 20 000, 51.7 s with 50 000).
pub const INITIAL_LOAD_BATCH: usize = 50_000;

/// What `kefu import customers` was asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub file: PathBuf,
    pub format: Option<Format>,
    pub encoding: EncodingChoice,
    pub mapping: Option<PathBuf>,
    pub all_or_nothing: bool,
    pub dry_run: bool,
    /// Where bad rows go; default `FILE.report.csv` beside the file.
    pub report: Option<PathBuf>,
    /// Rows per store transaction; `None`: `INITIAL_LOAD_BATCH` for an initial load,
    /// `DEFAULT_BATCH` otherwise.
    pub batch_size: Option<usize>,
    /// No progress display at all (tests, benchmarks).
    pub quiet: bool,
}

impl ImportOptions {
    /// The report path: `--report`, else the file's name + `.report.csv`.
    pub fn report_path(&self) -> PathBuf {
        self.report.clone().unwrap_or_else(|| {
            let mut name = self.file.clone().into_os_string();
            name.push(".report.csv");
            PathBuf::from(name)
        })
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Data rows read (blank lines not counted).
    pub rows: u64,
    /// Rows that passed every check (stored, or would be on a dry run).
    pub valid: u64,
    /// What the store did with them (all zero on a dry run).
    pub stored: UpsertCounts,
    /// Rows refused, each listed in the report (duplicates included).
    pub bad: u64,
    /// Of those, rows repeating an account number seen earlier in the file.
    pub duplicates: u64,
    pub elapsed: Duration,
    pub encoding: &'static str,
    pub report: PathBuf,
    pub dry_run: bool,
    /// Stopped by Ctrl-C after the last whole batch.
    pub interrupted: bool,
    /// The archive was empty: loaded with its indexes set aside and rebuilt at the end.
    pub initial_load: bool,
}

impl Summary {
    /// Rows per second over the whole run.
    pub fn rate(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// The lines printed at the end (zh-CN first, then English).
    pub fn text(&self) -> String {
        let s = &self.stored;
        let mut out = format!("读取 read: {} 行 rows ({})\n", self.rows, self.encoding);
        if self.dry_run {
            out.push_str(&format!(
                "试运行 dry run: {} 行有效 valid rows, 未存储 nothing stored\n",
                self.valid
            ));
        } else {
            out.push_str(&format!(
                "存储 stored: {} (新建 created {}, 更新 updated {}, 未变 unchanged {})\n",
                s.created + s.updated + s.unchanged,
                s.created,
                s.updated,
                s.unchanged
            ));
            if self.initial_load {
                out.push_str(
                    "首次导入 initial load into an empty archive: indexes set aside, rebuilt once \
                     at the end\n",
                );
            }
            if s.retired > 0 {
                out.push_str(&format!(
                    "跳过 skipped: {} 个已退出客户 retired customers (reinstate them to update)\n",
                    s.retired
                ));
            }
        }
        out.push_str(&format!(
            "错误 bad: {} 行 rows ({} 重复户号 duplicated account numbers) → {}\n",
            self.bad,
            self.duplicates,
            self.report.display()
        ));
        out.push_str(&format!(
            "用时 time: {:.1} s, {:.0} 行/秒 rows/s\n",
            self.elapsed.as_secs_f64(),
            self.rate()
        ));
        if self.interrupted {
            out.push_str(
                "已中断 interrupted: whole batches are stored; run the same command again to \
                 finish (stored rows are updated, not duplicated)\n",
            );
        }
        out
    }
}
