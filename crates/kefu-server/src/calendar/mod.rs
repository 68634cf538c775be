//! The working calendar and the time limits over HTTP (issue 5): one calendar year at a time
//! (`GET|PUT /api/v1/calendars/{year}`), a year imported as a year file
//! (`POST /api/v1/calendars/import`, `text/plain`), and the time-limit table
//! (`GET|PUT /api/v1/time-limits`). Any signed-in staff member reads; a change needs
//! [`SETTINGS_WRITE`] (administrators), carries the version read (stale → 409
//! `version_conflict`), is validated by the domain (400 naming each field as sent, or each bad
//! line of an imported file as `line N`) and is stored as a new version with an audit entry.
//! After a save the server's cached [`kefu_store::TimeRules`] are reloaded at once, so the
//! next deadline computed by this process uses the change.

pub mod dto;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header;
use chrono::Utc;
use kefu_domain::FieldError;
use kefu_domain::calendar::{CalendarError, WeekPattern, YearSchedule, parse_year_file_all};
use kefu_store::calendar::{MAX_YEAR, MIN_YEAR};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Caller;
use crate::catalogue::SETTINGS_WRITE;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{JsonBody, MAX_BODY_BYTES, Query};
use dto::{
    CalendarYearDto, SaveCalendarYear, SaveTimeLimits, TimeLimitsDto, parse_time_limits,
    parse_year, time_limits_dto, year_dto,
};

/// The week every calendar year is checked against and shown with (not a setting yet).
fn week() -> WeekPattern {
    WeekPattern::china_default()
}

/// The year of the path, within what a calendar may hold; else 400 naming `year`.
fn parse_year_param(raw: &str) -> ApiResult<i32> {
    match raw.trim().parse::<i32>() {
        Ok(y) if (MIN_YEAR..=MAX_YEAR).contains(&y) => Ok(y),
        _ => Err(ApiError::field(
            "year",
            format!("'{raw}' is not a year; give four digits between {MIN_YEAR} and {MAX_YEAR}"),
        )),
    }
}

fn check_version(version: i64) -> ApiResult<()> {
    if version < 0 {
        return Err(ApiError::field(
            "version",
            "give the version last read (0 or more)",
        ));
    }
    Ok(())
}

/// Reloads the cached time rules after a save; a failure is logged and the cache dropped, so
/// the save still answers and the next reader loads afresh.
async fn refresh_rules(state: &AppState) {
    if let Err(e) = state.reload_time_rules().await {
        tracing::warn!(error = %e, "cannot reload the time rules after a save");
    }
}

/// One calendar year: the weekly hours, the year's public holidays and make-up working days,
/// its version and whether it is the shipped default or stored.
#[utoipa::path(
    get, path = "/api/v1/calendars/{year}", tag = "settings",
    params(("year" = i32, Path, description = "The calendar year, e.g. 2026")),
    responses(
        (status = 200, body = CalendarYearDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_calendar(
    State(state): State<AppState>,
    _caller: Caller,
    Path(year): Path<String>,
) -> ApiResult<Json<CalendarYearDto>> {
    let year = parse_year_param(&year)?;
    let current = state.store.current_calendar_year(year).await?;
    Ok(Json(year_dto(&current, &week(), state.config.utc_offset)))
}

/// Replace one calendar year (administrators): every holiday and make-up working day of the
/// year, with the version it is based on. Saving an unchanged year returns it as it is.
#[utoipa::path(
    put, path = "/api/v1/calendars/{year}", tag = "settings", request_body = SaveCalendarYear,
    params(("year" = i32, Path, description = "The calendar year, e.g. 2026")),
    responses(
        (status = 200, description = "The saved version", body = CalendarYearDto),
        (status = 400, description = "validation_failed, naming each field (`days[3].like`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict: someone saved the year since it was read",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn save_calendar(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<String>,
    JsonBody(body): JsonBody<SaveCalendarYear>,
) -> ApiResult<Json<CalendarYearDto>> {
    caller.require(SETTINGS_WRITE)?;
    let year = parse_year_param(&year)?;
    check_version(body.version)?;
    let schedule = parse_year(year, &body.days, &week()).map_err(ApiError::validation)?;
    let saved = save_year(&state, &caller, schedule, body.version).await?;
    Ok(Json(saved))
}

async fn save_year(
    state: &AppState,
    caller: &Caller,
    schedule: YearSchedule,
    version: i64,
) -> ApiResult<CalendarYearDto> {
    let saved = state
        .store
        .save_calendar_year(schedule, version, &caller.actor(), Utc::now())
        .await?;
    refresh_rules(state).await;
    Ok(year_dto(&saved, &week(), state.config.utc_offset))
}

/// A `text/plain` body in UTF-8 (a year file); 415 for another type, 400 naming `body` when it
/// is not UTF-8, 413 beyond the body limit.
#[derive(Debug)]
pub struct TextBody(pub String);

impl<S: Send + Sync> FromRequest<S> for TextBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_text = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mt| mt.trim().eq_ignore_ascii_case("text/plain"));
        if !is_text {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the year file as text with 'Content-Type: text/plain; charset=utf-8'",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("a request body may have at most {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::field("body", "the request body could not be read")
            }
        })?;
        String::from_utf8(bytes.to_vec())
            .map(TextBody)
            .map_err(|_| ApiError::field("body", "the year file must be UTF-8 text"))
    }
}

/// Import options.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The version of the year last read; when given, a newer stored version is a 409
    /// instead of being replaced.
    pub version: Option<i64>,
}

/// The domain's refusals of a year file as fields: `line 7` for a line, `body` for the file.
fn import_errors(errors: Vec<CalendarError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| match e {
            CalendarError::Line { line, problem } => {
                FieldError::new(format!("line {line}"), problem.to_string())
            }
            other => FieldError::new("body", other.to_string()),
        })
        .collect()
}

/// Import a year file (administrators): the text format of `data/calendars/2026.txt`
/// (`year 2027`, then `2027-01-01 holiday 元旦`, `2027-02-07 workday like=fri 春节调休`, …). It
/// creates or replaces the year it declares. Every bad line is reported at once, each as a field
/// `line N` (1-based).
#[utoipa::path(
    post, path = "/api/v1/calendars/import", tag = "settings", params(ImportParams),
    request_body(content = String, content_type = "text/plain",
        description = "A year file: `year YYYY`, then one line per day or range"),
    responses(
        (status = 200, description = "The saved version of the year", body = CalendarYearDto),
        (status = 400, description = "validation_failed, one error per bad line (`line 7`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict, when `version` is given and stale",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import_calendar(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    TextBody(text): TextBody,
) -> ApiResult<Json<CalendarYearDto>> {
    caller.require(SETTINGS_WRITE)?;
    if let Some(v) = params.version {
        check_version(v)?;
    }
    let schedule = parse_year_file_all(&text, &week())
        .map_err(|errors| ApiError::validation(import_errors(errors)))?;
    let version = match params.version {
        Some(v) => v,
        None => {
            state
                .store
                .current_calendar_year(schedule.year())
                .await?
                .version
        }
    };
    Ok(Json(save_year(&state, &caller, schedule, version).await?))
}

/// The time-limit table and the warning share (the built-in defaults at version 0 until saved).
#[utoipa::path(
    get, path = "/api/v1/time-limits", tag = "settings",
    responses(
        (status = 200, body = TimeLimitsDto),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_time_limits(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<TimeLimitsDto>> {
    let current = state.store.current_time_limits().await?;
    Ok(Json(time_limits_dto(&current)))
}

/// Replace the time-limit table (administrators): every rule and the warning share, with the
/// version it is based on. Saving an unchanged table returns it as it is.
#[utoipa::path(
    put, path = "/api/v1/time-limits", tag = "settings", request_body = SaveTimeLimits,
    responses(
        (status = 200, description = "The saved version", body = TimeLimitsDto),
        (status = 400, description = "validation_failed, naming each field (`rules[2].limit`, \
            `warning_share`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict (stale version)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn save_time_limits(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SaveTimeLimits>,
) -> ApiResult<Json<TimeLimitsDto>> {
    caller.require(SETTINGS_WRITE)?;
    check_version(body.version)?;
    let limits = parse_time_limits(&body).map_err(ApiError::validation)?;
    let saved = state
        .store
        .save_time_limits(limits, body.version, &caller.actor(), Utc::now())
        .await?;
    refresh_rules(&state).await;
    Ok(Json(time_limits_dto(&saved)))
}
