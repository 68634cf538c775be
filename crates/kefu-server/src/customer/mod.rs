//! Customer archive (客户档案, product §1) over HTTP: look-ups (phone screen-pop, account, ID
//! number, name prefix), create, read, update with optimistic versions, retire/reinstate, the
//! change history and the special-dates window. Every read is scoped to the caller's unit;
//! unmasked personal data is returned only to roles holding `personal_data`, and each such read
//! is audited (`customer.read_personal`; one entry per request, not per row).

pub mod dto;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{Duration, NaiveDate, Utc};
use kefu_domain::FieldError;
use kefu_domain::auth::Permission;
use kefu_domain::customer::{
    AccountNumber, CustomerName, CustomerRecord, MAX_DOCUMENT_LEN, MAX_WINDOW_DAYS, Phone,
};
use kefu_domain::ids::{CustomerId, OrgUnitId};
use kefu_domain::mask::{mask_document_number, mask_phone};
use kefu_store::{Cursor, CustomerLookup, NewAuditEntry};
use serde::Deserialize;
use utoipa::IntoParams;

use self::dto::{
    CreateCustomer, CustomerDto, CustomerPage, HistoryEventDto, HistoryPage, ReinstateCustomer,
    RetireCustomer, SpecialDateHitDto, SpecialDatesResponse, UpdateCustomer,
    event_has_personal_data, has_personal_data,
};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, PathId, Query};
use crate::staff::{PageParams, page_request};

/// The longest retire reason.
pub const MAX_REASON_LEN: usize = 200;
/// The most special-date hits one request returns.
pub const MAX_SPECIAL_DATE_HITS: u32 = 200;
/// The service centre's time zone (Asia/Shanghai, UTC+8 all year, no daylight saving).
const SHANGHAI_OFFSET_HOURS: i64 = 8;

/// Today's date in Asia/Shanghai, the day that validation ("birth date not in the future") and
/// the special-date window use.
pub fn today_shanghai() -> NaiveDate {
    (Utc::now() + Duration::hours(SHANGHAI_OFFSET_HOURS)).date_naive()
}

/// Customer search: at most one of `phone`, `account`, `id_number`, `name` (none = all in scope).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// A phone in any usual notation (`138 0013 8000`, `+86…`): the screen-pop.
    pub phone: Option<String>,
    /// An account number (户号).
    pub account: Option<String>,
    /// A document number.
    pub id_number: Option<String>,
    /// The start of the customer name.
    pub name: Option<String>,
    /// Include retired customers (default false).
    pub include_retired: Option<bool>,
    /// Page size, 1..=200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl CustomerQuery {
    /// The one look-up asked for, checked, and a masked description of it for the audit log.
    fn lookup(&self) -> ApiResult<(CustomerLookup, String)> {
        let given: Vec<&str> = [
            ("phone", &self.phone),
            ("account", &self.account),
            ("id_number", &self.id_number),
            ("name", &self.name),
        ]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| *k)
        .collect();
        if given.len() > 1 {
            return Err(ApiError::validation(
                given
                    .iter()
                    .map(|f| {
                        FieldError::new(*f, "give only one of phone, account, id_number, name")
                    })
                    .collect(),
            ));
        }
        if let Some(p) = &self.phone {
            let phone =
                Phone::parse(p).map_err(|e| ApiError::validation(vec![e.under("phone")]))?;
            let label = format!("phone={}", mask_phone(phone.as_str()));
            return Ok((CustomerLookup::Phone(phone), label));
        }
        if let Some(a) = &self.account {
            let acc = AccountNumber::parse(a)
                .map_err(|e| ApiError::validation(vec![e.under("account")]))?;
            let label = format!("account={}", acc.as_str());
            return Ok((CustomerLookup::Account(acc.as_str().to_owned()), label));
        }
        if let Some(n) = &self.id_number {
            let n = n.trim().to_ascii_uppercase();
            if n.is_empty() || n.chars().count() > MAX_DOCUMENT_LEN {
                return Err(ApiError::field(
                    "id_number",
                    format!("a document number has 1 to {MAX_DOCUMENT_LEN} characters"),
                ));
            }
            let label = format!("id_number={}", mask_document_number(&n));
            return Ok((CustomerLookup::IdNumber(n), label));
        }
        if let Some(n) = &self.name {
            let name =
                CustomerName::parse(n).map_err(|e| ApiError::validation(vec![e.under("name")]))?;
            let label = format!("name={}", name.as_str());
            return Ok((CustomerLookup::NamePrefix(name.as_str().to_owned()), label));
        }
        Ok((CustomerLookup::All, "all".to_owned()))
    }
}

/// Appends `customer.read_personal` for a response that shows personal data unmasked.
async fn audit_personal_read(
    state: &AppState,
    caller: &Caller,
    target: String,
    detail: String,
) -> ApiResult<()> {
    let entry = NewAuditEntry {
        action: "customer.read_personal".into(),
        target,
        detail,
    };
    state.audit.append(entry, caller.actor()).await
}

/// Adds an error naming `supply_unit_id` unless the unit exists inside the caller's scope.
///
/// Decision: a supply unit outside the caller's scope is refused with the same 400 as an
/// unknown one ("no such supply unit in your scope"), not a 403 — a 403 would confirm that the
/// unit exists, and the body names the field either way.
async fn check_supply_unit(
    state: &AppState,
    caller: &Caller,
    id: i64,
    errors: &mut Vec<FieldError>,
) -> ApiResult<()> {
    if id <= 0 {
        return Ok(()); // the domain reports a missing unit
    }
    let unit = state.store.get_org_unit(OrgUnitId(id)).await?;
    if !unit.is_some_and(|u| caller.scope.contains(&u.path)) {
        errors.push(FieldError::new(
            "supply_unit_id",
            "no such supply unit in your scope",
        ));
    }
    Ok(())
}

/// Validates a submitted record: all field errors and the supply-unit check in one 400.
async fn validated(
    state: &AppState,
    caller: &Caller,
    input: &kefu_domain::customer::CustomerInput,
) -> ApiResult<CustomerRecord> {
    let result = CustomerRecord::validate(input, today_shanghai());
    let mut errors = result.as_ref().err().cloned().unwrap_or_default();
    check_supply_unit(state, caller, input.supply_unit_id, &mut errors).await?;
    match result {
        Ok(record) if errors.is_empty() => Ok(record),
        _ => Err(ApiError::validation(errors)),
    }
}

/// Find customers in the caller's scope by phone, account, ID number or name prefix.
#[utoipa::path(
    get, path = "/api/v1/customers", tag = "customer", params(CustomerQuery),
    responses(
        (status = 200, body = CustomerPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CustomerQuery>,
) -> ApiResult<Json<CustomerPage>> {
    caller.require(Permission::CustomerRead)?;
    let (lookup, label) = q.lookup()?;
    let page = page_request(q.limit, q.cursor.as_deref())?;
    let found = state
        .store
        .find_customers(
            &lookup,
            &caller.scope,
            q.include_retired.unwrap_or(false),
            page,
        )
        .await?;
    let unmasked = caller.sees_personal_data();
    if unmasked && found.items.iter().any(has_personal_data) {
        let ids: Vec<String> = found.items.iter().map(|c| c.id.to_string()).collect();
        audit_personal_read(
            &state,
            &caller,
            "customer_lookup".into(),
            format!("{label}; {} customers: {}", ids.len(), ids.join(",")),
        )
        .await?;
    }
    Ok(Json(CustomerPage {
        items: found
            .items
            .iter()
            .map(|c| CustomerDto::new(c, unmasked))
            .collect(),
        next_cursor: found.next.map(Cursor::encode),
    }))
}

/// Create a customer in a supply unit of the caller's scope.
#[utoipa::path(
    post, path = "/api/v1/customers", tag = "customer", request_body = CreateCustomer,
    responses(
        (status = 201, body = CustomerDto, headers(("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_customer(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateCustomer>,
) -> ApiResult<impl IntoResponse> {
    caller.require(Permission::CustomerWrite)?;
    let record = validated(&state, &caller, &body.to_input()).await?;
    let c = state
        .store
        .create_customer(record, &caller.actor(), Utc::now())
        .await?;
    // The write itself is audited by the store; echoing the caller's own input is not a read.
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/customers/{}", c.id))],
        Json(CustomerDto::new(&c, caller.sees_personal_data())),
    ))
}

/// One customer (404 when missing or outside the caller's scope).
#[utoipa::path(
    get, path = "/api/v1/customers/{id}", tag = "customer",
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, body = CustomerDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<CustomerDto>> {
    caller.require(Permission::CustomerRead)?;
    let c = state
        .store
        .get_customer(CustomerId(id), &caller.scope)
        .await?
        .ok_or_else(|| ApiError::not_found("customer"))?;
    let unmasked = caller.sees_personal_data();
    if unmasked && has_personal_data(&c) {
        audit_personal_read(&state, &caller, format!("customer:{id}"), "record".into()).await?;
    }
    Ok(Json(CustomerDto::new(&c, unmasked)))
}

/// Replace a customer record; `version` must be the current one (409 otherwise).
#[utoipa::path(
    put, path = "/api/v1/customers/{id}", tag = "customer", request_body = UpdateCustomer,
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, body = CustomerDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_customer(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    JsonBody(body): JsonBody<UpdateCustomer>,
) -> ApiResult<Json<CustomerDto>> {
    caller.require(Permission::CustomerWrite)?;
    // Out-of-scope ids are 404 before any validation detail is revealed.
    if state
        .store
        .get_customer(CustomerId(id), &caller.scope)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("customer"));
    }
    let record = validated(&state, &caller, &body.to_input()).await?;
    let c = state
        .store
        .update_customer(
            CustomerId(id),
            body.version,
            record,
            &caller.scope,
            &caller.actor(),
            Utc::now(),
        )
        .await?;
    Ok(Json(CustomerDto::new(&c, caller.sees_personal_data())))
}

/// Retire a customer (kept with its history; hidden from look-ups unless `include_retired`).
#[utoipa::path(
    post, path = "/api/v1/customers/{id}/retire", tag = "customer", request_body = RetireCustomer,
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, body = CustomerDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn retire_customer(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    JsonBody(body): JsonBody<RetireCustomer>,
) -> ApiResult<Json<CustomerDto>> {
    caller.require(Permission::CustomerRetire)?;
    let reason = body.reason.trim().to_owned();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_LEN
        || reason.chars().any(char::is_control)
    {
        return Err(ApiError::field(
            "reason",
            format!("give a reason of 1 to {MAX_REASON_LEN} characters"),
        ));
    }
    let c = state
        .store
        .set_customer_status(
            CustomerId(id),
            body.version,
            Some(reason),
            &caller.scope,
            &caller.actor(),
            Utc::now(),
        )
        .await?;
    Ok(Json(CustomerDto::new(&c, caller.sees_personal_data())))
}

/// Bring a retired customer back into service.
#[utoipa::path(
    post, path = "/api/v1/customers/{id}/reinstate", tag = "customer",
    request_body = ReinstateCustomer,
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, body = CustomerDto),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reinstate_customer(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    JsonBody(body): JsonBody<ReinstateCustomer>,
) -> ApiResult<Json<CustomerDto>> {
    caller.require(Permission::CustomerRetire)?;
    let c = state
        .store
        .set_customer_status(
            CustomerId(id),
            body.version,
            None,
            &caller.scope,
            &caller.actor(),
            Utc::now(),
        )
        .await?;
    Ok(Json(CustomerDto::new(&c, caller.sees_personal_data())))
}

/// A customer's change history, oldest first: who, when, what, old → new.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/history", tag = "customer",
    params(("id" = i64, Path, description = "Customer id"), PageParams),
    responses(
        (status = 200, body = HistoryPage),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn customer_history(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Query(params): Query<PageParams>,
) -> ApiResult<Json<HistoryPage>> {
    caller.require(Permission::CustomerRead)?;
    let page = state
        .store
        .customer_history(CustomerId(id), &caller.scope, params.to_request()?)
        .await?;
    let unmasked = caller.sees_personal_data();
    if unmasked && page.items.iter().any(event_has_personal_data) {
        audit_personal_read(&state, &caller, format!("customer:{id}"), "history".into()).await?;
    }
    Ok(Json(HistoryPage {
        items: page
            .items
            .iter()
            .map(|e| HistoryEventDto::new(e, unmasked))
            .collect(),
        next_cursor: page.next.map(Cursor::encode),
    }))
}

/// The special-dates window.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SpecialDatesQuery {
    /// First day, `YYYY-MM-DD` (default: today in Asia/Shanghai).
    pub from: Option<String>,
    /// Days after `from` to include, 0..=366 (default 0 = that day only).
    pub days: Option<u32>,
    /// At most this many hits, 1..=200 (default 200).
    pub limit: Option<u32>,
}

/// Active customers with a special date on `from ..= from + days` (personal care).
#[utoipa::path(
    get, path = "/api/v1/customers/special-dates", tag = "customer", params(SpecialDatesQuery),
    responses(
        (status = 200, body = SpecialDatesResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn special_dates(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SpecialDatesQuery>,
) -> ApiResult<Json<SpecialDatesResponse>> {
    caller.require(Permission::CustomerRead)?;
    let from = match q.from.as_deref() {
        Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| ApiError::field("from", format!("'{s}' is not a YYYY-MM-DD date")))?,
        None => today_shanghai(),
    };
    let days = q.days.unwrap_or(0);
    if days > MAX_WINDOW_DAYS {
        return Err(ApiError::field(
            "days",
            format!("use 0 to {MAX_WINDOW_DAYS} days"),
        ));
    }
    let limit = q.limit.unwrap_or(MAX_SPECIAL_DATE_HITS);
    if !(1..=MAX_SPECIAL_DATE_HITS).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("use 1 to {MAX_SPECIAL_DATE_HITS}"),
        ));
    }
    let hits = state
        .store
        .special_dates_between(&caller.scope, from, days, limit)
        .await?;
    let unmasked = caller.sees_personal_data();
    if unmasked && hits.iter().any(|h| has_personal_data(&h.customer)) {
        audit_personal_read(
            &state,
            &caller,
            "customer_lookup".into(),
            format!("special_dates from={from} days={days}; {} hits", hits.len()),
        )
        .await?;
    }
    Ok(Json(SpecialDatesResponse {
        from,
        days,
        items: hits
            .iter()
            .map(|h| SpecialDateHitDto::new(h, unmasked))
            .collect(),
    }))
}
