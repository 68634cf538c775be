//! Staff (product §11): listing the people of the caller's units and creating accounts.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use kefu_domain::FieldError;
use kefu_domain::auth::{Permission, Roles, Username, check_new_password};
use kefu_domain::ids::{DepartmentId, OrgUnitId, StaffId};
use kefu_store::{Cursor, NewStaff, PageRequest, Staff};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, PathId, Query};
use crate::password::hash_password;

/// The longest display name.
pub const MAX_DISPLAY_NAME_LEN: usize = 50;

/// A staff member as the API shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffDto {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_unit_id: i64,
    /// The unit's path, `/1/4/17/`.
    pub org_path: String,
    pub department_id: Option<i64>,
    /// Role codes: agent, dispatcher, handler, customer_manager, supervisor, analyst, admin.
    pub roles: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Staff> for StaffDto {
    fn from(s: &Staff) -> Self {
        Self {
            id: s.id.0,
            username: s.username.as_str().to_owned(),
            display_name: s.display_name.clone(),
            org_unit_id: s.org_unit_id.0,
            org_path: s.org_path.as_str().to_owned(),
            department_id: s.department_id.map(|d| d.0),
            roles: s
                .roles
                .as_slice()
                .iter()
                .map(|r| r.code().to_owned())
                .collect(),
            active: s.active,
            created_at: s.created_at,
        }
    }
}

/// One page of staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffPage {
    pub items: Vec<StaffDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1..=200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    /// The store's page request, or a 400 naming `limit` or `cursor`.
    pub fn to_request(&self) -> ApiResult<PageRequest> {
        page_request(self.limit, self.cursor.as_deref())
    }
}

/// Checks a page size and cursor.
pub fn page_request(limit: Option<u32>, cursor: Option<&str>) -> ApiResult<PageRequest> {
    if let Some(l) = limit
        && !(1..=kefu_store::MAX_PAGE_SIZE).contains(&l)
    {
        return Err(ApiError::field(
            "limit",
            format!("use 1 to {}", kefu_store::MAX_PAGE_SIZE),
        ));
    }
    let after = match cursor {
        Some(c) => Some(Cursor::decode(c).ok_or_else(|| {
            ApiError::field("cursor", "not a cursor from a previous page's next_cursor")
        })?),
        None => None,
    };
    Ok(PageRequest::new(after, limit))
}

/// A new staff member (no `Debug`: it holds a password).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    /// 3–32 lower-case letters, digits, `.`, `_` or `-`.
    pub username: String,
    pub display_name: String,
    /// Must be the caller's unit or below it.
    pub org_unit_id: i64,
    pub department_id: Option<i64>,
    pub roles: Vec<String>,
    /// First password: 10–128 characters with a letter and a digit.
    #[schema(format = Password)]
    pub password: String,
}

/// List the staff of the caller's unit and those below.
#[utoipa::path(
    get, path = "/api/v1/staff", tag = "staff", params(PageParams),
    responses(
        (status = 200, body = StaffPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_staff(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<StaffPage>> {
    caller.require(Permission::StaffRead)?;
    let page = state
        .store
        .list_staff(&caller.scope, params.to_request()?)
        .await?;
    Ok(Json(StaffPage {
        items: page.items.iter().map(StaffDto::from).collect(),
        next_cursor: page.next.map(Cursor::encode),
    }))
}

/// One staff member of the caller's units.
#[utoipa::path(
    get, path = "/api/v1/staff/{id}", tag = "staff",
    params(("id" = i64, Path, description = "Staff id")),
    responses(
        (status = 200, body = StaffDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_staff(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<StaffDto>> {
    caller.require(Permission::StaffRead)?;
    match state.store.get_staff(StaffId(id)).await? {
        Some(s) if caller.scope.contains(&s.org_path) => Ok(Json(StaffDto::from(&s))),
        _ => Err(ApiError::not_found("staff")),
    }
}

/// Create a staff member in the caller's unit or below (administrators).
#[utoipa::path(
    post, path = "/api/v1/staff", tag = "staff", request_body = CreateStaff,
    responses(
        (status = 201, body = StaffDto, headers(("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_staff(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateStaff>,
) -> ApiResult<impl IntoResponse> {
    caller.require(Permission::StaffManage)?;
    let mut errors = Vec::new();
    let username = Username::parse(&body.username)
        .map_err(|e| errors.push(e))
        .ok();
    let display_name = body.display_name.trim().to_owned();
    if display_name.is_empty()
        || display_name.chars().count() > MAX_DISPLAY_NAME_LEN
        || display_name.chars().any(char::is_control)
    {
        errors.push(FieldError::new(
            "display_name",
            format!("use 1 to {MAX_DISPLAY_NAME_LEN} characters"),
        ));
    }
    let roles = Roles::parse(&body.roles)
        .and_then(
            |r| match r.as_slice().iter().find(|x| !x.assignable_to_staff()) {
                Some(x) => Err(FieldError::new(
                    "roles",
                    format!(
                        "'{x}' belongs to the self-service portal's own account; give a staff role"
                    ),
                )),
                None => Ok(r),
            },
        )
        .map_err(|e| errors.push(e))
        .ok();
    if let Err(e) = check_new_password(&body.password, body.username.trim()) {
        errors.push(FieldError::new("password", e.reason));
    }
    // An org unit outside the caller's scope is refused exactly like an unknown one (400 naming
    // the field), so the answer does not reveal which units exist elsewhere.
    let unit = state
        .store
        .get_org_unit(OrgUnitId(body.org_unit_id))
        .await?;
    if !unit.is_some_and(|u| caller.scope.contains(&u.path)) {
        errors.push(FieldError::new("org_unit_id", "no such unit in your scope"));
    }
    let (Some(username), Some(roles), true) = (username, roles, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let password = body.password;
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(format!("hashing task failed: {e}")))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let staff = state
        .store
        .create_staff(
            NewStaff {
                username,
                display_name,
                org_unit_id: OrgUnitId(body.org_unit_id),
                department_id: body.department_id.map(DepartmentId),
                roles,
                password_hash,
            },
            &caller.actor(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/staff/{}", staff.id))],
        Json(StaffDto::from(&staff)),
    ))
}
