//! The one edge error of the HTTP API and its RFC 9457 `application/problem+json` rendering.
//!
//! Status policy (every handler follows it; the codes are stable and documented in OpenAPI):
//! - 400 `validation_failed`: the request is malformed or breaks a rule; `errors` names each field;
//! - 401 `unauthenticated`: no valid session or token, or a failed login (never says which part);
//! - 403 `forbidden` (the role lacks the permission) or `csrf` (cookie request without the token);
//! - 404 `not_found`: missing, **or outside the caller's unit** (existence is never leaked);
//! - 409 `duplicate`, `version_conflict`, `invalid_state`, `illegal_transition` (a work order's
//!   state does not allow the action; the members `state` and `allowed_actions` say what does);
//! - 422 `idempotency_key_reused`: an `Idempotency-Key` already used for a different appeal;
//! - 413 `payload_too_large`, 415 `unsupported_media_type`, 429 `rate_limited` (with Retry-After);
//! - 500 `internal`: a bug or a database failure; the detail is logged, never sent;
//! - 503 `unavailable` / `schema_too_new`: the store cannot serve.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_domain::FieldError;
use kefu_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A stable, machine-readable error code; clients switch on it, never on the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ValidationFailed,
    Unauthenticated,
    Forbidden,
    Csrf,
    NotFound,
    NoRoute,
    MethodNotAllowed,
    Duplicate,
    VersionConflict,
    InvalidState,
    IllegalTransition,
    IdempotencyKeyReused,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    Unavailable,
    SchemaTooNew,
}

impl ErrorCode {
    /// The code as sent in `code` and used in `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ValidationFailed => "validation_failed",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf",
            Self::NotFound => "not_found",
            Self::NoRoute => "no_route",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Duplicate => "duplicate",
            Self::VersionConflict => "version_conflict",
            Self::InvalidState => "invalid_state",
            Self::IllegalTransition => "illegal_transition",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::SchemaTooNew => "schema_too_new",
        }
    }

    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::ValidationFailed => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Duplicate
            | Self::VersionConflict
            | Self::InvalidState
            | Self::IllegalTransition => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable | Self::SchemaTooNew => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A short human title, the same for every occurrence of the code.
    pub fn title(self) -> &'static str {
        match self {
            Self::ValidationFailed => "The request is not valid",
            Self::Unauthenticated => "Sign-in required",
            Self::Forbidden => "Your role does not allow this",
            Self::Csrf => "Missing or wrong CSRF token",
            Self::NotFound => "Not found",
            Self::NoRoute => "No such endpoint",
            Self::MethodNotAllowed => "Method not allowed on this endpoint",
            Self::Duplicate => "Already exists",
            Self::VersionConflict => "Changed by someone else",
            Self::InvalidState => "Not allowed in the current state",
            Self::IllegalTransition => "Not possible in the order's current state",
            Self::IdempotencyKeyReused => "Idempotency key already used for a different request",
            Self::PayloadTooLarge => "Request body too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::RateLimited => "Too many attempts",
            Self::Internal => "Internal error",
            Self::Unavailable => "Service unavailable",
            Self::SchemaTooNew => "Database schema is newer than this server",
        }
    }
}

/// One refused field, as sent in `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// Dotted path of the field (`id_document.number`, `phones[1]`, `supply_unit_id`).
    pub field: String,
    /// Why it was refused and what a valid value looks like.
    pub reason: String,
}

/// The RFC 9457 problem document every error response carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:kefu:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary, the same for every occurrence of the code.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this request.
    pub detail: String,
    /// Stable machine code (`validation_failed`, `not_found`, `duplicate`, …).
    pub code: String,
    /// The refused fields (validation, duplicates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// `illegal_transition` only: the work order's current state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `illegal_transition` only: the actions possible in that state (empty once archived).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<String>>,
}

/// The edge error: a code, a detail for the client and, for 500s, an internal message for the log.
#[derive(Debug, thiserror::Error)]
#[error("{}: {detail}", code.as_str())]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    errors: Vec<FieldProblem>,
    retry_after_secs: Option<u64>,
    internal: Option<String>,
    /// Boxed: a rare member, and the error stays small on every `Result`.
    transition: Option<Box<(String, Vec<String>)>>,
}

impl ApiError {
    /// An error with a code and a client-facing detail.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
            internal: None,
            transition: None,
        }
    }

    /// 409 `illegal_transition`: the action is not possible in `state`; `allowed` is.
    pub fn illegal_transition(
        detail: impl Into<String>,
        state: impl Into<String>,
        allowed: Vec<String>,
    ) -> Self {
        Self {
            transition: Some(Box::new((state.into(), allowed))),
            ..Self::new(ErrorCode::IllegalTransition, detail)
        }
    }

    /// 400 naming the refused fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.reason),
            many => format!("{} fields are not valid", many.len()),
        };
        Self {
            errors: errors
                .into_iter()
                .map(|e| FieldProblem {
                    field: e.field,
                    reason: e.reason,
                })
                .collect(),
            ..Self::new(ErrorCode::ValidationFailed, detail)
        }
    }

    /// 400 naming one field.
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, reason)])
    }

    /// An error with `code` naming one refused field (the detail is `field: reason`).
    pub fn field_with_code(
        code: ErrorCode,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        let (field, reason) = (field.into(), reason.into());
        Self {
            errors: vec![FieldProblem {
                field: field.clone(),
                reason: reason.clone(),
            }],
            ..Self::new(code, format!("{field}: {reason}"))
        }
    }

    /// 404 for an entity that does not exist or lies outside the caller's scope.
    pub fn not_found(entity: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{entity} not found"))
    }

    /// 403 for a role without the permission.
    pub fn forbidden(what: &str) -> Self {
        Self::new(
            ErrorCode::Forbidden,
            format!("your roles do not grant '{what}'"),
        )
    }

    /// 401.
    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, detail)
    }

    /// 429 with a Retry-After in seconds.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("too many failed attempts; try again in {retry_after_secs} seconds"),
            )
        }
    }

    /// Seconds the client should wait before retrying (rate limits).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after_secs
    }

    /// 500 with an internal message that is logged, never sent.
    pub fn internal(internal: impl Into<String>) -> Self {
        Self {
            internal: Some(internal.into()),
            ..Self::new(
                ErrorCode::Internal,
                "an internal error occurred; it has been logged",
            )
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The problem document this error renders as.
    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:kefu:problem:{}", self.code.as_str()),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_owned(),
            errors: self.errors.clone(),
            state: self.transition.as_ref().map(|t| t.0.clone()),
            allowed_actions: self.transition.as_ref().map(|t| t.1.clone()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity } => Self::not_found(entity),
            StoreError::Duplicate { field, value } => Self {
                errors: vec![FieldProblem {
                    field: field.to_owned(),
                    reason: format!("'{value}' is already in use"),
                }],
                ..Self::new(
                    ErrorCode::Duplicate,
                    format!("{field} '{value}' is already in use"),
                )
            },
            StoreError::UnknownReference { field, entity } => {
                Self::field(field, format!("no such {entity} in your scope"))
            }
            e @ StoreError::VersionConflict { .. } => {
                Self::new(ErrorCode::VersionConflict, e.to_string())
            }
            StoreError::InvalidState(s) => Self::new(ErrorCode::InvalidState, s),
            e @ StoreError::SchemaTooNew { .. } => {
                tracing::error!(error = %e, "store refuses to serve");
                Self::new(
                    ErrorCode::SchemaTooNew,
                    "the database schema is newer than this server; upgrade kefu",
                )
            }
            e @ (StoreError::Corrupt { .. } | StoreError::Database(_)) => {
                Self::internal(e.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(internal) = &self.internal {
            tracing::error!(code = self.code.as_str(), error = %internal, "request failed");
        }
        let status = self.code.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut resp = (status, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.code == ErrorCode::Unauthenticated {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kefu\""),
            );
        }
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_text_never_reaches_the_client() {
        let e = ApiError::from(StoreError::Database("password=hunter2 at 10.0.0.1".into()));
        let p = e.problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("hunter2"));
    }

    #[test]
    fn duplicates_name_their_field() {
        let e = ApiError::from(StoreError::Duplicate {
            field: "account_number",
            value: "0001".into(),
        });
        let p = e.problem();
        assert_eq!(p.status, 409);
        assert_eq!(p.errors[0].field, "account_number");
    }
}
