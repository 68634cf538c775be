//! The editable settings of the work-order desk over HTTP (issue 4 items 2 and 3): the
//! sub-category catalogue and the major-appeal rules. Any signed-in staff member may read
//! them (agents pick sub-categories from the catalogue); administrators replace them as a
//! whole, carrying the version they read (a stale one is 409 `version_conflict`). The domain
//! validates the value (`Catalogue::new`, `MajorRules::new`: 400 naming each field as sent,
//! e.g. `sub_categories[3].code`); the store refuses dangling references (409
//! `invalid_state` naming the codes) and keeps every saved version in the history.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use kefu_domain::FieldError;
use kefu_domain::auth::Permission;
use kefu_domain::org::DepartmentKind;
use kefu_domain::workorder::{
    AppealType, Catalogue, Gravity, MajorRules, SubCategory, SubCategoryCode,
};
use kefu_store::{Cursor, Page, Saved, Versioned};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, Query};
use crate::staff::PageParams;

/// The permission that lets a caller replace the catalogue or the major rules.
///
/// Decision: `OrgManage`. `Role::grants` gives `OrgManage` and `StaffManage` to administrators
/// only, and the role's own description is "org tree, staff, catalogues". Of the two,
/// `OrgManage` fits: each sub-category names the department in charge (谁主管、谁处理), so the
/// catalogue is part of how the organisation divides its work, not a staff matter.
pub const SETTINGS_WRITE: Permission = Permission::OrgManage;

/// One sub-category of the catalogue, as read and as submitted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubCategoryDto {
    /// `<appeal type>.<name>` in lower-case ASCII, e.g. `complaint.outage`.
    pub code: String,
    /// The appeal type the code starts with: complaint, fault_repair, consultation, …
    pub appeal_type: String,
    /// zh-CN name shown to agents (1–40 characters).
    pub name_zh: String,
    /// English name (1–40 characters).
    pub name_en: String,
    /// The department in charge: voice_service, large_customers, customer_relations,
    /// marketing, operations, dispatch, office.
    pub department: String,
    /// `ordinary`, or `always_major` when every appeal of it is a major appeal.
    pub gravity: String,
}

const ORDINARY: &str = "ordinary";
const ALWAYS_MAJOR: &str = "always_major";

fn gravity_code(g: Gravity) -> &'static str {
    match g {
        Gravity::Ordinary => ORDINARY,
        Gravity::AlwaysMajor => ALWAYS_MAJOR,
    }
}

fn parse_gravity(field: String, raw: &str) -> Result<Gravity, FieldError> {
    match raw.trim() {
        ORDINARY => Ok(Gravity::Ordinary),
        ALWAYS_MAJOR => Ok(Gravity::AlwaysMajor),
        other => Err(FieldError::new(
            field,
            format!("'{other}' is not a gravity; use {ORDINARY} or {ALWAYS_MAJOR}"),
        )),
    }
}

impl From<&SubCategory> for SubCategoryDto {
    fn from(s: &SubCategory) -> Self {
        Self {
            code: s.code.as_str().to_owned(),
            appeal_type: s.appeal_type.code().to_owned(),
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            department: s.department.code().to_owned(),
            gravity: gravity_code(s.gravity).to_owned(),
        }
    }
}

/// A version of the catalogue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogueDto {
    /// 0 for the built-in defaults, then 1, 2, … per save; send it back with a change.
    pub version: i64,
    /// Who saved it (`staff:12`); absent for the defaults.
    pub saved_by: Option<String>,
    /// The staff id of who saved it, when a person did.
    pub saved_by_id: Option<i64>,
    /// When it was saved; absent for the defaults.
    pub saved_at: Option<DateTime<Utc>>,
    /// Every sub-category, in catalogue order.
    pub sub_categories: Vec<SubCategoryDto>,
}

/// A version of the major-appeal rules.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MajorRulesDto {
    /// 0 for the built-in defaults, then 1, 2, … per save; send it back with a change.
    pub version: i64,
    /// Who saved it (`staff:12`); absent for the defaults.
    pub saved_by: Option<String>,
    /// The staff id of who saved it, when a person did.
    pub saved_by_id: Option<i64>,
    /// When it was saved; absent for the defaults.
    pub saved_at: Option<DateTime<Utc>>,
    /// Text fragments that make an appeal major (case-insensitive for ASCII).
    pub keywords: Vec<String>,
    /// Sub-category codes whose appeals are always major, on top of the catalogue's own.
    pub sub_categories: Vec<String>,
}

/// Who saved a version and when, as the three DTO members.
fn saved_parts(saved: Option<&Saved>) -> (Option<String>, Option<i64>, Option<DateTime<Utc>>) {
    match saved {
        Some(s) => (Some(s.actor.clone()), s.staff_id.map(|i| i.0), Some(s.at)),
        None => (None, None, None),
    }
}

impl From<&Versioned<Catalogue>> for CatalogueDto {
    fn from(v: &Versioned<Catalogue>) -> Self {
        let (saved_by, saved_by_id, saved_at) = saved_parts(v.saved.as_ref());
        Self {
            version: v.version,
            saved_by,
            saved_by_id,
            saved_at,
            sub_categories: v.value.entries().iter().map(SubCategoryDto::from).collect(),
        }
    }
}

impl From<&Versioned<MajorRules>> for MajorRulesDto {
    fn from(v: &Versioned<MajorRules>) -> Self {
        let (saved_by, saved_by_id, saved_at) = saved_parts(v.saved.as_ref());
        Self {
            version: v.version,
            saved_by,
            saved_by_id,
            saved_at,
            keywords: v.value.keywords.clone(),
            sub_categories: v
                .value
                .sub_categories
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
        }
    }
}

/// A page of saved catalogue versions, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CatalogueHistoryPage {
    pub items: Vec<CatalogueDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A page of saved major-rules versions, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MajorRulesHistoryPage {
    pub items: Vec<MajorRulesDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A whole new catalogue, based on the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveCatalogue {
    /// The version this change is based on (the `version` last read).
    pub version: i64,
    /// Every sub-category; each appeal type needs at least one, codes are unique, and a code
    /// that stored work orders or the major rules use cannot be dropped.
    pub sub_categories: Vec<SubCategoryDto>,
}

/// Whole new major-appeal rules, based on the version read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveMajorRules {
    /// The version this change is based on (the `version` last read).
    pub version: i64,
    /// 1–20-character keywords, no duplicates, at most 200.
    pub keywords: Vec<String>,
    /// Sub-category codes of the current catalogue whose appeals are always major.
    pub sub_categories: Vec<String>,
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

/// Renames a domain field (`entries[3].code`, `entries`) to the one sent
/// (`sub_categories[7].code`, `sub_categories`), through `index` (domain → request position).
fn request_field(field: &str, index: &[usize]) -> String {
    let Some(rest) = field.strip_prefix("entries") else {
        return field.to_owned();
    };
    let mapped = rest
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(n, tail)| {
            let i = n.parse::<usize>().ok()?;
            Some(format!("[{}]{tail}", index.get(i).copied().unwrap_or(i)))
        });
    format!(
        "sub_categories{}",
        mapped.unwrap_or_else(|| rest.to_owned())
    )
}

/// The request position a field names (`sub_categories[12].code` → 12), for ordering errors;
/// whole-catalogue fields come last.
fn position(field: &str) -> usize {
    field
        .strip_prefix("sub_categories[")
        .and_then(|r| r.split_once(']'))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// Parses and validates a submitted catalogue, naming every bad field as sent.
pub fn parse_catalogue(subs: &[SubCategoryDto]) -> Result<Catalogue, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut entries = Vec::with_capacity(subs.len());
    let mut index = Vec::with_capacity(subs.len());
    for (i, s) in subs.iter().enumerate() {
        let at = |f: &str| format!("sub_categories[{i}].{f}");
        let code = SubCategoryCode::parse(&s.code)
            .map_err(|e| errors.push(FieldError::new(at("code"), e.reason)))
            .ok();
        let appeal_type = AppealType::parse_code(&at("appeal_type"), s.appeal_type.trim())
            .map_err(|e| errors.push(e))
            .ok();
        let department = DepartmentKind::parse_code(&at("department"), s.department.trim())
            .map_err(|e| errors.push(e))
            .ok();
        let gravity = parse_gravity(at("gravity"), &s.gravity)
            .map_err(|e| errors.push(e))
            .ok();
        if let (Some(code), Some(appeal_type), Some(department), Some(gravity)) =
            (code, appeal_type, department, gravity)
        {
            entries.push(SubCategory {
                code,
                appeal_type,
                name_zh: s.name_zh.trim().to_owned(),
                name_en: s.name_en.trim().to_owned(),
                department,
                gravity,
            });
            index.push(i);
        }
    }
    let all_parsed = errors.is_empty();
    match Catalogue::new(entries) {
        Ok(c) if all_parsed => Ok(c),
        Ok(_) => Err(errors),
        Err(domain) => {
            // Whole-catalogue checks (every type covered) only mean something once every
            // entry parsed; before that they would blame the entries already refused.
            errors.extend(
                domain
                    .into_iter()
                    .filter(|e| all_parsed || e.field.starts_with("entries["))
                    .map(|e| FieldError::new(request_field(&e.field, &index), e.reason)),
            );
            errors.sort_by_key(|e| (position(&e.field), e.field.clone()));
            Err(errors)
        }
    }
}

/// Parses and validates submitted major rules, naming every bad field as sent.
pub fn parse_major_rules(body: SaveMajorRules) -> Result<MajorRules, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut codes = Vec::with_capacity(body.sub_categories.len());
    for (i, raw) in body.sub_categories.iter().enumerate() {
        match SubCategoryCode::parse(raw) {
            Ok(c) if codes.contains(&c) => errors.push(FieldError::new(
                format!("sub_categories[{i}]"),
                format!("'{c}' is listed twice"),
            )),
            Ok(c) => codes.push(c),
            Err(e) => errors.push(FieldError::new(format!("sub_categories[{i}]"), e.reason)),
        }
    }
    match MajorRules::new(body.keywords, codes) {
        Ok(rules) if errors.is_empty() => Ok(rules),
        Ok(_) => Err(errors),
        Err(domain) => {
            errors.extend(domain);
            Err(errors)
        }
    }
}

fn next_cursor<T>(page: &Page<T>) -> Option<String> {
    page.next.map(Cursor::encode)
}

/// The current sub-category catalogue (the built-in defaults at version 0 until first saved).
#[utoipa::path(
    get, path = "/api/v1/catalogue", tag = "settings",
    responses(
        (status = 200, body = CatalogueDto),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_catalogue(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<CatalogueDto>> {
    let current = state.store.current_catalogue().await?;
    Ok(Json(CatalogueDto::from(&current)))
}

/// Replace the catalogue (administrators). The body is the whole new catalogue and the version
/// it is based on; saving an unchanged catalogue returns the current version as it is.
#[utoipa::path(
    put, path = "/api/v1/catalogue", tag = "settings", request_body = SaveCatalogue,
    responses(
        (status = 200, description = "The saved version", body = CatalogueDto),
        (status = 400, description = "validation_failed, naming each field (`sub_categories[3].code`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict (stale version), or invalid_state naming \
            codes still used by work orders or the major rules",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn save_catalogue(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SaveCatalogue>,
) -> ApiResult<Json<CatalogueDto>> {
    caller.require(SETTINGS_WRITE)?;
    check_version(body.version)?;
    let catalogue = parse_catalogue(&body.sub_categories).map_err(ApiError::validation)?;
    let saved = state
        .store
        .save_catalogue(catalogue, body.version, &caller.actor(), Utc::now())
        .await?;
    refresh_settings(&state).await;
    Ok(Json(CatalogueDto::from(&saved)))
}

/// Saved catalogue versions, newest first (the defaults, version 0, are not listed).
#[utoipa::path(
    get, path = "/api/v1/catalogue/history", tag = "settings", params(PageParams),
    responses(
        (status = 200, body = CatalogueHistoryPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn catalogue_history(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<CatalogueHistoryPage>> {
    let page = state.store.catalogue_history(params.to_request()?).await?;
    Ok(Json(CatalogueHistoryPage {
        items: page.items.iter().map(CatalogueDto::from).collect(),
        next_cursor: next_cursor(&page),
    }))
}

/// The current major-appeal rules (the built-in defaults at version 0 until first saved).
#[utoipa::path(
    get, path = "/api/v1/major-rules", tag = "settings",
    responses(
        (status = 200, body = MajorRulesDto),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_major_rules(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<MajorRulesDto>> {
    let current = state.store.current_major_rules().await?;
    Ok(Json(MajorRulesDto::from(&current)))
}

/// Replace the major-appeal rules (administrators); new intakes are assessed with them at once.
#[utoipa::path(
    put, path = "/api/v1/major-rules", tag = "settings", request_body = SaveMajorRules,
    responses(
        (status = 200, description = "The saved version", body = MajorRulesDto),
        (status = 400, description = "validation_failed, naming each field (`keywords[2]`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict (stale version), or invalid_state naming \
            sub-categories missing from the catalogue",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn save_major_rules(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SaveMajorRules>,
) -> ApiResult<Json<MajorRulesDto>> {
    caller.require(SETTINGS_WRITE)?;
    check_version(body.version)?;
    let version = body.version;
    let rules = parse_major_rules(body).map_err(ApiError::validation)?;
    let saved = state
        .store
        .save_major_rules(rules, version, &caller.actor(), Utc::now())
        .await?;
    refresh_settings(&state).await;
    Ok(Json(MajorRulesDto::from(&saved)))
}

/// Reloads the cached catalogue and major rules after a save, so the next intake in this
/// process uses them; a failure is logged and the cache dropped (the next intake reads them).
async fn refresh_settings(state: &AppState) {
    if let Err(e) = state.reload_intake_settings().await {
        tracing::warn!(error = %e, "cannot reload the catalogue and major rules after a save");
    }
}

/// Saved major-rules versions, newest first (the defaults, version 0, are not listed).
#[utoipa::path(
    get, path = "/api/v1/major-rules/history", tag = "settings", params(PageParams),
    responses(
        (status = 200, body = MajorRulesHistoryPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn major_rules_history(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<MajorRulesHistoryPage>> {
    let page = state
        .store
        .major_rules_history(params.to_request()?)
        .await?;
    Ok(Json(MajorRulesHistoryPage {
        items: page.items.iter().map(MajorRulesDto::from).collect(),
        next_cursor: next_cursor(&page),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<SubCategoryDto> {
        Catalogue::defaults()
            .entries()
            .iter()
            .map(SubCategoryDto::from)
            .collect()
    }

    #[test]
    fn the_defaults_round_trip() {
        assert_eq!(parse_catalogue(&defaults()), Ok(Catalogue::defaults()));
    }

    #[test]
    fn errors_name_the_request_positions() {
        let mut subs = defaults();
        subs[1].department = "nowhere".into();
        subs[3].code = subs[2].code.clone();
        subs[4].name_zh = " ".into();
        let errors = parse_catalogue(&subs).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "sub_categories[1].department",
                "sub_categories[3].code",
                "sub_categories[4].name_zh"
            ]
        );
        assert_eq!(request_field("entries", &[]), "sub_categories");
    }

    #[test]
    fn major_rule_codes_are_named() {
        let body = SaveMajorRules {
            version: 0,
            keywords: vec!["雷击".into(), String::new()],
            sub_categories: vec!["complaint.outage".into(), "nope".into()],
        };
        let fields: Vec<String> = parse_major_rules(body)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["sub_categories[1]", "keywords[1]"]);
    }
}
