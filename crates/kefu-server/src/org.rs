//! Organisation (product §11): the units the caller can see, with their departments inline,
//! and creating units and departments (administrators).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use kefu_domain::FieldError;
use kefu_domain::auth::Permission;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::org::{DepartmentKind, OrgCode, OrgLevel};
use kefu_store::{Department, NewDepartment, NewOrgUnit, OrgUnit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, PathId};

/// The longest unit or department name.
pub const MAX_ORG_NAME_LEN: usize = 100;

/// A department of a unit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentDto {
    pub id: i64,
    pub unit_id: i64,
    /// voice_service, large_customers, customer_relations, marketing, operations, dispatch, office.
    pub kind: String,
    pub name: String,
}

impl From<&Department> for DepartmentDto {
    fn from(d: &Department) -> Self {
        Self {
            id: d.id.0,
            unit_id: d.unit_id.0,
            kind: d.kind.code().to_owned(),
            name: d.name.clone(),
        }
    }
}

/// A unit of the org tree.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgUnitDto {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    /// hq, province, city, county, station.
    pub level: String,
    /// Root-to-self ids, `/1/4/17/`.
    pub path: String,
    pub created_at: DateTime<Utc>,
    pub departments: Vec<DepartmentDto>,
}

impl OrgUnitDto {
    fn new(u: &OrgUnit, departments: Vec<DepartmentDto>) -> Self {
        Self {
            id: u.id.0,
            parent_id: u.parent_id.map(|p| p.0),
            code: u.code.as_str().to_owned(),
            name: u.name.clone(),
            level: u.level.code().to_owned(),
            path: u.path.as_str().to_owned(),
            created_at: u.created_at,
            departments,
        }
    }
}

/// A unit to create under a parent in the caller's scope.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgUnit {
    pub parent_id: i64,
    pub code: String,
    pub name: String,
    /// One level below the parent's.
    pub level: String,
}

/// A department to create in a unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartment {
    pub kind: String,
    pub name: String,
}

fn check_name(name: &str, errors: &mut Vec<FieldError>) -> String {
    let n = name.trim().to_owned();
    if n.is_empty() || n.chars().count() > MAX_ORG_NAME_LEN || n.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            format!("use 1 to {MAX_ORG_NAME_LEN} characters"),
        ));
    }
    n
}

/// Every unit in the caller's scope (their own and all below), ordered by path.
#[utoipa::path(
    get, path = "/api/v1/orgs", tag = "org",
    responses(
        (status = 200, body = Vec<OrgUnitDto>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_orgs(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<OrgUnitDto>>> {
    caller.require(Permission::OrgRead)?;
    let units = state.store.list_org_units(&caller.scope).await?;
    let departments = state.store.list_departments(&caller.scope).await?;
    Ok(Json(
        units
            .iter()
            .map(|u| {
                let deps = departments
                    .iter()
                    .filter(|d| d.unit_id == u.id)
                    .map(DepartmentDto::from)
                    .collect();
                OrgUnitDto::new(u, deps)
            })
            .collect(),
    ))
}

/// Create a unit below one in the caller's scope (administrators).
#[utoipa::path(
    post, path = "/api/v1/orgs", tag = "org", request_body = CreateOrgUnit,
    responses(
        (status = 201, body = OrgUnitDto, headers(("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateOrgUnit>,
) -> ApiResult<impl IntoResponse> {
    caller.require(Permission::OrgManage)?;
    let mut errors = Vec::new();
    let code = OrgCode::parse(&body.code).map_err(|e| errors.push(e)).ok();
    let name = check_name(&body.name, &mut errors);
    let level = OrgLevel::parse_code("level", body.level.trim())
        .map_err(|e| errors.push(e))
        .ok();
    // A parent outside the caller's scope is refused like an unknown one (no existence leak).
    let parent = state
        .store
        .get_org_unit(OrgUnitId(body.parent_id))
        .await?
        .filter(|p| caller.scope.contains(&p.path));
    match (&parent, level) {
        (None, _) => errors.push(FieldError::new("parent_id", "no such unit in your scope")),
        (Some(p), Some(l)) => {
            if let Err(e) = l.check_parent(Some(p.level)) {
                errors.push(e);
            }
        }
        (Some(_), None) => {}
    }
    let (Some(code), Some(level), true) = (code, level, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let unit = state
        .store
        .create_org_unit(
            NewOrgUnit {
                parent_id: Some(OrgUnitId(body.parent_id)),
                code,
                name,
                level,
            },
            &caller.actor(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, "/api/v1/orgs".to_owned())],
        Json(OrgUnitDto::new(&unit, Vec::new())),
    ))
}

/// Add a department to a unit in the caller's scope (administrators).
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/departments", tag = "org", request_body = CreateDepartment,
    params(("id" = i64, Path, description = "Org unit id")),
    responses(
        (status = 201, body = DepartmentDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_department(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    JsonBody(body): JsonBody<CreateDepartment>,
) -> ApiResult<impl IntoResponse> {
    caller.require(Permission::OrgManage)?;
    let unit = state.store.get_org_unit(OrgUnitId(id)).await?;
    if !unit.is_some_and(|u| caller.scope.contains(&u.path)) {
        return Err(ApiError::not_found("org_unit"));
    }
    let mut errors = Vec::new();
    let kind = DepartmentKind::parse_code("kind", body.kind.trim())
        .map_err(|e| errors.push(e))
        .ok();
    let name = check_name(&body.name, &mut errors);
    let (Some(kind), true) = (kind, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let dept = state
        .store
        .create_department(
            NewDepartment {
                unit_id: OrgUnitId(id),
                kind,
                name,
            },
            &caller.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(DepartmentDto::from(&dept))))
}
