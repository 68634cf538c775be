//! Customer import from the browser or an integration (issue 6): a file of moderate size
//! (at most `MAX_UPLOAD_BYTES`, 20 MiB; bigger files go through `kefu import customers`) is
//! uploaded as the raw request body, its header checked at once (a file without the mandatory
//! columns is a 400 naming them), then read and stored by a background job (`job`) whose state,
//! counts and bad-row report are followed with `GET /api/v1/imports/{id}` and
//! `GET /api/v1/imports/{id}/report.csv`. Only roles that may edit customers upload, rows are
//! stored as the uploader (audited per batch), and rows for supply units outside the uploader's
//! unit are bad rows.

pub mod job;

use std::path::{Path, PathBuf};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use kefu_domain::auth::Permission;
use kefu_domain::import_job::MAX_UPLOAD_BYTES;
use kefu_import::{
    Columns, EncodingChoice, Format, ImportError, MappingFile, REPORT_HEADER, Source,
};
use kefu_store::{ImportJob, NewImportJob};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{PathId, Query};

/// Problems read per page when writing the report.
const REPORT_PAGE: i64 = 5_000;

/// How the upload is to be read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name as the user knows it (shown with the job; its extension tells CSV from
    /// Excel). *Default* `upload.csv`.
    pub file_name: Option<String>,
    /// `csv` or `xlsx` (.xlsx/.xls); *default* from the name, else an Excel file is recognised
    /// by its content.
    pub format: Option<String>,
    /// Encoding of a CSV file: `utf-8`, `gbk` or `auto` (*default*: a BOM or valid UTF-8 is
    /// UTF-8, anything else GB18030).
    pub encoding: Option<String>,
    /// Column mapping for a file whose headers are not the template's: the text of a mapping
    /// file (TOML, `[columns]` then `"header" = "field"` lines, as `kefu import --mapping`), at
    /// most 8 KiB.
    pub mapping: Option<String>,
    /// `true`: store nothing unless every row is good (the file is checked first; a job with bad
    /// rows fails and its report lists them). *Default* `false`: good rows are stored, bad rows
    /// reported. A customer found retired while storing is still reported and left as it is.
    pub all_or_nothing: Option<bool>,
}

/// Longest mapping text accepted in the query.
const MAX_MAPPING_BYTES: usize = 8 * 1024;

fn mapping(raw: Option<&str>) -> Result<MappingFile, ApiError> {
    let Some(text) = raw.filter(|t| !t.trim().is_empty()) else {
        return Ok(MappingFile::default());
    };
    if text.len() > MAX_MAPPING_BYTES {
        return Err(ApiError::field(
            "mapping",
            format!(
                "the mapping has {} bytes; at most {MAX_MAPPING_BYTES} are accepted",
                text.len()
            ),
        ));
    }
    MappingFile::parse(text).map_err(|e| {
        ApiError::field(
            "mapping",
            format!(
                "映射有误 the mapping is wrong: {e}. Write [columns] then one \
                 \"表头\" = \"field\" line per column"
            ),
        )
    })
}

/// An upload job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportJobDto {
    pub id: i64,
    pub file_name: String,
    pub file_bytes: i64,
    /// queued, running, done, failed, interrupted.
    pub state: String,
    /// The state in Chinese, then English.
    pub state_label: String,
    /// Whether the job will change no more.
    pub finished: bool,
    /// Data rows read so far.
    pub rows_read: i64,
    /// Rows stored (created, updated or unchanged).
    pub rows_stored: i64,
    /// Rows refused; each is in the report.
    pub rows_bad: i64,
    /// Why a failed job failed.
    pub error: Option<String>,
    /// The bad-row report (CSV, UTF-8 with BOM).
    pub report_url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ImportJobDto {
    fn new(j: &ImportJob) -> Self {
        Self {
            id: j.id,
            file_name: j.file_name.clone(),
            file_bytes: j.file_bytes,
            state: j.state.code().to_owned(),
            state_label: format!("{} {}", j.state.label_zh(), j.state.label_en()),
            finished: j.state.is_finished(),
            rows_read: j.counts.rows_read,
            rows_stored: j.counts.rows_stored,
            rows_bad: j.counts.rows_bad,
            error: j.error.clone(),
            report_url: format!("/api/v1/imports/{}/report.csv", j.id),
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

fn encoding(raw: Option<&str>) -> Result<EncodingChoice, ApiError> {
    match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("auto") | Some("") => Ok(EncodingChoice::Auto),
        Some("utf-8" | "utf8") => Ok(EncodingChoice::Utf8),
        Some("gbk" | "gb18030") => Ok(EncodingChoice::Gbk),
        Some(other) => Err(ApiError::field(
            "encoding",
            format!("'{other}' is not an encoding here: give utf-8, gbk or auto"),
        )),
    }
}

/// The format asked for, else the name's, else the content's (an .xlsx file is a zip archive).
fn format(raw: Option<&str>, file_name: &str, head: &[u8]) -> Result<Format, ApiError> {
    match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("xlsx" | "xls" | "excel") => Ok(Format::Xlsx),
        Some(other) => Err(ApiError::field(
            "format",
            format!("'{other}' is not a format here: give csv or xlsx"),
        )),
        None => Ok(Format::from_path(Path::new(file_name)).unwrap_or(
            if head.starts_with(b"PK\x03\x04") || head.starts_with(b"\xD0\xCF\x11\xE0") {
                Format::Xlsx
            } else {
                Format::Csv
            },
        )),
    }
}

/// Where the upload waits for its job: the extension tells calamine the workbook kind.
fn upload_path(format: Format, file_name: &str) -> PathBuf {
    let ext = match format {
        Format::Csv => "csv".to_owned(),
        Format::Xlsx => Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .filter(|e| matches!(e.as_str(), "xlsx" | "xls" | "xlsm" | "xlsb" | "ods"))
            .unwrap_or_else(|| "xlsx".to_owned()),
    };
    let nonce: u64 = rand::random();
    std::env::temp_dir().join(format!("kefu-upload-{nonce:016x}.{ext}"))
}

/// A file that cannot be imported at all, as a 400 naming `file` (the messages of the command
/// line name its flags; here the user fixes the file).
fn file_error(e: ImportError) -> ApiError {
    let reason = match e {
        ImportError::MissingColumns { missing, found } => format!(
            "缺少必需列 missing mandatory columns: {missing}. The header has: {found}. Rename \
             the columns to the names of the import template"
        ),
        ImportError::DuplicateColumn {
            field,
            first,
            second,
        } => format!("列重复 columns '{first}' and '{second}' both map to {field}: keep one"),
        ImportError::HeaderEncoding { encoding, .. } => format!(
            "表头编码错误 the header is not valid {encoding}: upload again with encoding=gbk or \
             encoding=utf-8"
        ),
        ImportError::Empty(_) => {
            "文件为空 the file is empty: it needs a header row, then one row per customer".into()
        }
        ImportError::Excel { reason, .. } => format!(
            "无法读取 Excel 文件 cannot read the workbook: {reason}. Open and re-save it in Excel, \
             or export it as CSV"
        ),
        other => other.to_string(),
    };
    ApiError::field("file", reason)
}

/// Removes an upload that will not be read (an unlink: too short to be worth a blocking task).
pub(crate) fn discard(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(error = %e, "could not remove an uploaded file");
    }
}

async fn read_body(body: Body) -> Result<Vec<u8>, ApiError> {
    match axum::body::to_bytes(body, MAX_UPLOAD_BYTES).await {
        Ok(b) => Ok(b.to_vec()),
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                Err(ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!(
                        "文件过大 an uploaded file may have at most {} MiB: split it, or import \
                         it on the server with `kefu import customers FILE`",
                        MAX_UPLOAD_BYTES / (1024 * 1024)
                    ),
                ))
            } else {
                Err(ApiError::field(
                    "body",
                    "the uploaded file could not be read",
                ))
            }
        }
    }
}

/// Upload a customer file (CSV in UTF-8 or GBK, or an Excel workbook) as the raw request body,
/// at most 20 MiB. The header is checked at once; the rows are then read and stored by a
/// background job (202 with the job): good rows are created or updated by account number as
/// the caller, bad rows (and rows for supply units outside the caller's unit) go to the report.
#[utoipa::path(
    post, path = "/api/v1/imports/customers", tag = "customer", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file itself (text/csv or an Excel workbook are accepted too)"),
    responses(
        (status = 202, description = "The job, queued", body = ImportJobDto),
        (status = 400, description = "validation_failed: `file` (no mandatory columns, empty, \
            unreadable), `format` or `encoding`", body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload_too_large: over 20 MiB", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn upload_customers(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<UploadParams>,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    caller.require(Permission::CustomerWrite)?;
    let encoding = encoding(params.encoding.as_deref())?;
    let mapping = mapping(params.mapping.as_deref())?;
    let file_name = params
        .file_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("upload.csv")
        .chars()
        .take(200)
        .collect::<String>();
    let bytes = read_body(body).await?;
    if bytes.is_empty() {
        return Err(ApiError::field(
            "file",
            "文件为空 the body is empty: send the file itself as the request body",
        ));
    }
    let format = format(params.format.as_deref(), &file_name, &bytes)?;
    let path = upload_path(format, &file_name);
    let file_bytes = bytes.len() as i64;
    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || -> Result<(Source, Columns), ImportError> {
            std::fs::write(&path, &bytes).map_err(|e| ImportError::Read {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let source = Source::open(&path, format, encoding)?;
            let columns = Columns::resolve(source.headers.clone(), &mapping)?;
            Ok((source, columns))
        })
        .await
        .map_err(|e| ApiError::internal(format!("upload reader stopped: {e}")))?
    };
    let (source, columns) = match opened {
        Ok(ok) => ok,
        Err(e) => {
            discard(&path);
            return Err(match e {
                ImportError::Read { reason, .. } => {
                    ApiError::internal(format!("cannot keep the upload: {reason}"))
                }
                other => file_error(other),
            });
        }
    };
    let created = state
        .store
        .create_import_job(
            NewImportJob {
                file_name,
                file_bytes,
                staff_id: caller.staff.id,
                scope: caller.scope.clone(),
            },
            Utc::now(),
        )
        .await;
    let created = match created {
        Ok(j) => j,
        Err(e) => {
            discard(&path);
            return Err(e.into());
        }
    };
    tokio::spawn(job::run(
        state.clone(),
        job::JobInput {
            id: created.id,
            headers: source.headers,
            rows: source.rows,
            columns,
            scope: caller.scope.clone(),
            actor: caller.actor(),
            path,
            format,
            encoding,
            all_or_nothing: params.all_or_nothing.unwrap_or(false),
        },
    ));
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/imports/{}", created.id))],
        Json(ImportJobDto::new(&created)),
    ))
}

async fn job_in_scope(state: &AppState, caller: &Caller, id: i64) -> ApiResult<ImportJob> {
    caller.require(Permission::CustomerWrite)?;
    state
        .store
        .get_import_job(id, &caller.scope)
        .await?
        .ok_or_else(|| ApiError::not_found("import_job"))
}

/// An upload job: its state and counts (404 when missing or uploaded outside the caller's unit).
#[utoipa::path(
    get, path = "/api/v1/imports/{id}", tag = "customer",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, body = ImportJobDto),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_import(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<ImportJobDto>> {
    let job = job_in_scope(&state, &caller, id).await?;
    Ok(Json(ImportJobDto::new(&job)))
}

/// The bad-row report of a job as CSV (UTF-8 with a BOM, so Excel keeps the Chinese): line,
/// field, reason, then the row's cells under the file's own header. The rows so far while the
/// job runs.
#[utoipa::path(
    get, path = "/api/v1/imports/{id}/report.csv", tag = "customer",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import_report(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<impl IntoResponse> {
    let job = job_in_scope(&state, &caller, id).await?;
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer("\u{feff}".as_bytes().to_vec());
    let mut head: Vec<String> = REPORT_HEADER.iter().map(|h| (*h).to_owned()).collect();
    head.extend(job.headers.iter().cloned());
    let csv_error = |e: csv::Error| ApiError::internal(format!("report: {e}"));
    out.write_record(&head).map_err(csv_error)?;
    let mut after = 0;
    loop {
        let page = state
            .store
            .list_import_problems(id, after, REPORT_PAGE)
            .await?;
        for p in &page {
            let mut rec = vec![p.line.to_string(), p.field.clone(), p.reason.clone()];
            rec.extend(p.original.iter().cloned());
            out.write_record(&rec).map_err(csv_error)?;
        }
        if (page.len() as i64) < REPORT_PAGE {
            break;
        }
        after += REPORT_PAGE;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::internal(format!("report: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import-{id}-report.csv\""),
            ),
        ],
        bytes,
    ))
}
