//! `/healthz`: whether this node can reach its store (for load balancers and `kefu serve` checks).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};

/// A healthy node.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` (failures answer 503 with a problem document).
    pub status: String,
    /// `sqlite` or `postgres`.
    pub store: String,
    /// Whether the server runs with demo data.
    pub demo: bool,
}

/// Liveness and store reachability.
#[utoipa::path(
    get, path = "/healthz", tag = "ops", security(()),
    responses(
        (status = 200, body = Health),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(Health {
            status: "ok".into(),
            store: state.store.backend().into(),
            demo: state.config.demo,
        })),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unreachable");
            Err(ApiError::new(
                ErrorCode::Unavailable,
                format!("the {} store does not answer", state.store.backend()),
            ))
        }
    }
}
