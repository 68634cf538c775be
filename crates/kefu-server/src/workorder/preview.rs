//! `POST /api/v1/work-orders/preview`: what intake would decide about an appeal being typed —
//! the major-appeal flag (the current major rules over the sub-category and the text) and the
//! earlier orders it would repeat — without writing anything. The new-order form calls it as
//! the agent types (`ui/assets/intake-hints.js`); the intake itself decides again.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use kefu_domain::FieldError;
use kefu_domain::ids::CustomerId;
use kefu_domain::workorder::{
    Action, AppealKey, Appellant, MAX_MAJOR_REASON_LEN, MajorReason, assess_major, is_repeat,
};
use kefu_store::{IntakeOptions, OrderFilter, PageRequest, workorder::repeat_window_start};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{MajorDto, major_dto};
use super::require_role;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::JsonBody;

/// The most earlier orders of one customer a preview looks at (newest first).
const PREVIEW_CANDIDATES: u32 = 200;

/// The parts of an intake the hints depend on.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The customer of the archive, when the appeal is theirs.
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// A catalogue code, e.g. `complaint.outage`.
    pub sub_category: String,
    /// The appeal text typed so far.
    #[serde(default)]
    pub content: String,
    /// A reason typed to flag the appeal major by hand.
    #[serde(default)]
    pub major_reason: Option<String>,
}

/// What intake would decide.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewResponse {
    /// Why the appeal would be major (none: it would not be).
    pub major: Option<MajorDto>,
    /// The customer's earlier orders it would repeat (same sub-category within the window).
    pub repeat_of: Vec<String>,
    /// The department in charge of the sub-category.
    pub department: String,
}

/// Preview an intake: the major flag and the repeat warning, nothing written.
#[utoipa::path(
    post, path = "/api/v1/work-orders/preview", tag = "work-order", request_body = PreviewRequest,
    responses(
        (status = 200, description = "What intake would decide", body = PreviewResponse),
        (status = 400, description = "Unknown sub-category or customer; `errors` names the field",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller may not take appeals",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PreviewRequest>,
) -> ApiResult<Json<PreviewResponse>> {
    require_role(&caller, Action::Intake)?;
    let settings = state.intake_settings().await?;
    let sub = settings
        .catalogue
        .lookup("sub_category", body.sub_category.trim())
        .map_err(|e| ApiError::validation(vec![e]))?;
    let manual = body.major_reason.as_deref().map(str::trim).unwrap_or("");
    let major = if manual.is_empty() {
        assess_major(&settings.major_rules, sub, body.content.trim())
    } else {
        Some(MajorReason::Manual(
            manual.chars().take(MAX_MAJOR_REASON_LEN).collect(),
        ))
    };
    let repeat_of = match body.customer_id {
        None => Vec::new(),
        Some(id) => {
            let customer = CustomerId(id);
            if state
                .store
                .customer_for_intake(customer, &caller.scope)
                .await?
                .is_none()
            {
                return Err(ApiError::validation(vec![FieldError::new(
                    "customer_id",
                    "no such customer in your scope",
                )]));
            }
            let now = Utc::now();
            let filter = OrderFilter {
                customer: Some(customer),
                created_from: Some(repeat_window_start(now, IntakeOptions::default())),
                ..OrderFilter::default()
            };
            let page = PageRequest::new(None, Some(PREVIEW_CANDIDATES));
            let earlier: Vec<_> = state
                .store
                .list_orders(&filter, &caller.scope, page)
                .await?
                .items
                .into_iter()
                .map(|s| {
                    let key = AppealKey {
                        appellant: s.order.caller.appellant(),
                        sub_category: s.order.sub_category.clone(),
                        at: s.order.opened_at,
                    };
                    (s.order.number, key)
                })
                .collect();
            let new = AppealKey {
                appellant: Appellant {
                    customer: Some(customer),
                    phone: None,
                },
                sub_category: sub.code.clone(),
                at: now,
            };
            is_repeat(&new, &earlier, IntakeOptions::default().repeat_window_days)
                .into_iter()
                .map(|n| n.to_string())
                .collect()
        }
    };
    Ok(Json(PreviewResponse {
        major: major.as_ref().map(major_dto),
        repeat_of,
        department: sub.department.code().to_owned(),
    }))
}
