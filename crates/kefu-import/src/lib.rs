//! Reading a customer file (issue 6) into validated customer records, shared by
//! `kefu import customers` and the server's upload jobs: a CSV (UTF-8 or GBK) or Excel file is
//! read as rows of text cells (`source`), its header mapped to fields (`mapping`), each row
//! converted (`convert`) and checked (`check`) with the domain's `CustomerRecord::validate`,
//! exactly as the API does; bad rows go to the report (`report`) with their line, field, reason
//! and original cells. Running the rows into a store (batches, progress) is the caller's part.

mod check;
mod convert;
mod mapping;
mod report;
mod source;

use std::path::PathBuf;

use kefu_store::StoreError;

pub use check::{Checked, Checker, Problem};
pub use convert::{Units, half_width, normalise_date, to_input};
pub use mapping::{Columns, Field, MappingFile};
pub use report::{REPORT_HEADER, Report};
pub use source::{EncodingChoice, Format, RawRow, Rows, Source};

/// An import that could not run, or stopped. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("无法读取文件 cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("文件为空 {0} is empty: it needs a header row, then one row per customer")]
    Empty(PathBuf),
    #[error(
        "表头编码错误 the header of {path} is not valid {encoding}: give --encoding gbk, \
         --encoding utf-8 or --encoding auto to match the file"
    )]
    HeaderEncoding {
        path: PathBuf,
        encoding: &'static str,
    },
    #[error(
        "无法读取 Excel 文件 cannot read the workbook {path}: {reason}. Is it truncated or \
         damaged? Open and re-save it in Excel, or export it as CSV"
    )]
    Excel { path: PathBuf, reason: String },
    #[error("CSV 读取失败 cannot read the CSV file: {reason}")]
    Csv { reason: String },
    #[error("映射文件错误 mapping file {path}: {reason}")]
    Mapping { path: PathBuf, reason: String },
    #[error(
        "缺少必需列 missing mandatory columns: {missing}. The header has: {found}. Rename the \
         columns or give --mapping FILE with a [columns] table (\"表头\" = \"field\")"
    )]
    MissingColumns { missing: String, found: String },
    #[error(
        "列重复 columns '{first}' and '{second}' both map to {field}: keep one, or map one elsewhere with --mapping"
    )]
    DuplicateColumn {
        field: &'static str,
        first: String,
        second: String,
    },
    #[error("无法写入报告 cannot write the report {path}: {reason}")]
    Report { path: PathBuf, reason: String },
    #[error(
        "无法判断格式 cannot tell the format of {0} from its extension: give --format csv or \
         --format xlsx"
    )]
    UnknownFormat(PathBuf),
    #[error(
        "组织机构为空 the org tree is empty, so no supply unit can be named: create the org \
         units first (`kefu serve --demo` creates a demo province)"
    )]
    NoOrgTree,
    #[error(
        "存储失败 the store refused a batch: {0}. Earlier batches are stored; fix the cause and \
         run the same command again: stored rows are updated, never duplicated"
    )]
    Store(#[from] StoreError),
    #[error(
        "首次导入失败 the initial load into the empty archive failed: {0}. The store is \
         consistent, with all its indexes (PostgreSQL kept nothing of this import, SQLite its \
         whole batches); fix the cause and run the same command again: stored rows are \
         updated, never duplicated"
    )]
    InitialLoad(StoreError),
    #[error(
        "{bad} 行错误，未存储任何数据 {bad} bad rows, so nothing was stored (--all-or-nothing); \
         the problems are listed in {report}"
    )]
    AllOrNothing { bad: u64, report: PathBuf },
    #[error("读取线程失败 the reader thread stopped unexpectedly; run the import again")]
    ReaderPanicked,
}
