//! Work orders (工单, issue 4) over HTTP: intake (with `Idempotency-Key`), the scoped filtered
//! list, one order with its whole timeline, and one `POST` per action, each carrying the
//! `version` it was based on. Handlers parse input into domain commands, look up the units and
//! customers they name (in the caller's scope: an unknown or out-of-scope one is the same 400
//! naming the field; the catalogue and the major rules are the store's current versions), and
//! leave the rules to `kefu_domain::workorder::apply` inside the store's
//! transaction.
//!
//! Refusals of the state machine map as follows: `IllegalTransition` → 409
//! `illegal_transition` with `state` and `allowed_actions`; `StaleVersion` (and the store's
//! version check) → 409 `version_conflict`; `AlreadyMajor`, `AlreadySupervised`,
//! `AlreadySuspended`, `NotSuspended`, `AlreadyArrived`, `NotFaultRepair`, `LimitReached` →
//! 409 `invalid_state`; `RoleNotAllowed`, `NotHostUnit`, `WrongDepartment`,
//! `OwnReply`, `NotDissatisfied` (only a supervisor may reopen) → 403 `forbidden`;
//! `OutOfScope` → 404 (existence is never leaked); `Invalid` → 400 naming every field.

pub mod dto;
pub mod preview;
pub mod sla_dto;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, SubsecRound, Utc};
use kefu_domain::FieldError;
use kefu_domain::customer::{CustomerName, Phone};
use kefu_domain::ids::{CustomerId, OrgUnitId};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{
    Action, ActorCtx, AppealType, Caller as OrderCaller, Channel, Command, IdempotencyKey, Intake,
    IntakeInput, OrderNumber, Priority, State as OrderState, WorkOrderError, roles_for,
};
use kefu_store::{
    Cursor, IntakeOptions, IntakeOutcome, NewAuditEntry, OrderFilter, OrderSort, Overdue,
    StoredAlert, StoredEvent, StoredOrder, WorkOrderStoreError,
};
use serde::Deserialize;
use utoipa::IntoParams;

use self::dto::{EventDto, IntakeRequest, OrderDetail, OrderDto, OrderPage, has_personal_data};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{JsonBody, Query};
use crate::staff::page_request;

/// The header that makes a retried intake return the first order.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The 4xx of a refused command (see the module documentation for the table).
pub fn rule_error(e: WorkOrderError) -> ApiError {
    let detail = e.to_string();
    match e {
        WorkOrderError::IllegalTransition { state, allowed, .. } => ApiError::illegal_transition(
            detail,
            state.code(),
            allowed.iter().map(|a| a.code().to_owned()).collect(),
        ),
        WorkOrderError::StaleVersion { .. } => ApiError::new(ErrorCode::VersionConflict, detail),
        WorkOrderError::AlreadyMajor
        | WorkOrderError::AlreadySupervised
        | WorkOrderError::AlreadySuspended
        | WorkOrderError::NotSuspended
        | WorkOrderError::AlreadyArrived
        | WorkOrderError::AlreadyRated
        | WorkOrderError::NotFaultRepair
        | WorkOrderError::LimitReached { .. } => ApiError::new(ErrorCode::InvalidState, detail),
        WorkOrderError::RoleNotAllowed { .. }
        | WorkOrderError::NotHostUnit { .. }
        | WorkOrderError::WrongDepartment { .. }
        | WorkOrderError::OwnReply
        | WorkOrderError::NotDissatisfied => ApiError::new(ErrorCode::Forbidden, detail),
        WorkOrderError::OutOfScope { .. } => ApiError::not_found("work order"),
        WorkOrderError::Invalid(fields) => ApiError::validation(fields),
    }
}

impl From<WorkOrderStoreError> for ApiError {
    fn from(e: WorkOrderStoreError) -> Self {
        match e {
            WorkOrderStoreError::Rule(r) => rule_error(r),
            WorkOrderStoreError::Store(s) => s.into(),
            WorkOrderStoreError::IdempotencyKeyReused { first } => {
                let reason = format!(
                    "this key was already used for a different appeal (order {first}); \
                     send a retry with the same content, a new appeal with a new key"
                );
                ApiError::field_with_code(
                    ErrorCode::IdempotencyKeyReused,
                    "Idempotency-Key",
                    reason,
                )
            }
        }
    }
}

/// Now, to the millisecond the stores keep, so an answer equals a later read of the same order.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn parse_number(raw: &str) -> ApiResult<OrderNumber> {
    OrderNumber::parse(raw).map_err(|e| ApiError::validation(vec![e]))
}

/// The caller as the state machine sees them (the department is looked up by id).
async fn actor(state: &AppState, caller: &Caller) -> ApiResult<ActorCtx> {
    let department = match caller.staff.department_id {
        Some(id) => state.department_kind(id, &caller.scope).await?,
        None => None,
    };
    Ok(ActorCtx {
        staff: caller.staff.id,
        roles: caller.roles.clone(),
        unit: caller.scope.clone(),
        department,
    })
}

/// The path of unit `id` if it lies in the caller's scope; else an error naming `field`.
async fn unit_in_scope(
    state: &AppState,
    caller: &Caller,
    field: &str,
    id: i64,
) -> ApiResult<Result<OrgPath, FieldError>> {
    let unit = if id > 0 {
        state.store.get_org_unit(OrgUnitId(id)).await?
    } else {
        None
    };
    Ok(match unit {
        Some(u) if caller.scope.contains(&u.path) => Ok(u.path),
        _ => Err(FieldError::new(field, "no such unit in your scope")),
    })
}

/// Refuses a caller whose roles cannot do `action` before any input is looked at.
fn require_role(caller: &Caller, action: Action) -> ApiResult<()> {
    let roles = roles_for(action);
    if roles.iter().any(|r| caller.roles.has(*r)) {
        return Ok(());
    }
    let e = WorkOrderError::RoleNotAllowed {
        action,
        needs: roles.to_vec(),
    };
    Err(rule_error(e))
}

/// Appends `work_order.read_personal` when a response shows a caller's phone unmasked; the
/// answer waits for the entry (and fails with it), as for customer reads.
pub(crate) async fn audit_read(
    state: &AppState,
    caller: &Caller,
    target: String,
    orders: &[&StoredOrder],
) -> ApiResult<()> {
    if !caller.sees_personal_data() || !orders.iter().any(|o| has_personal_data(&o.order)) {
        return Ok(());
    }
    let entry = NewAuditEntry {
        action: "work_order.read_personal".into(),
        target,
        detail: format!("{} orders", orders.len()),
    };
    state.audit.append(entry, caller.actor()).await
}

async fn build_caller(
    state: &AppState,
    caller: &Caller,
    input: &dto::CallerInput,
    errors: &mut Vec<FieldError>,
) -> ApiResult<Option<OrderCaller>> {
    let phone = match input.phone.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => match Phone::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(e.under("caller.phone"));
                None
            }
        },
        _ => None,
    };
    if let Some(id) = input.customer_id {
        let customer = if id > 0 {
            state
                .store
                .customer_for_intake(CustomerId(id), &caller.scope)
                .await?
        } else {
            None
        };
        let Some(c) = customer else {
            errors.push(FieldError::new(
                "caller.customer_id",
                "no such customer in your scope",
            ));
            return Ok(None);
        };
        return Ok(Some(OrderCaller::Customer {
            id: c.id,
            supply_unit: c.supply_unit_path,
            phone,
            grid: Some(c.grid),
            grade: c.service_grade,
        }));
    }
    let missing = |f: &str, errors: &mut Vec<FieldError>| {
        errors.push(FieldError::new(
            format!("caller.{f}"),
            "an unidentified caller (no customer_id) needs phone, name, address and address_unit_id",
        ));
    };
    if input.phone.is_none() {
        missing("phone", errors);
    }
    let name = match input.name.as_deref() {
        Some(n) => CustomerName::parse(n)
            .map_err(|e| errors.push(e.under("caller.name")))
            .ok(),
        None => {
            missing("name", errors);
            None
        }
    };
    let address = input.address.clone().unwrap_or_default();
    if address.trim().is_empty() {
        missing("address", errors);
    }
    let unit = match input.address_unit_id {
        Some(id) => unit_in_scope(state, caller, "caller.address_unit_id", id)
            .await?
            .map_err(|e| errors.push(e))
            .ok(),
        None => {
            missing("address_unit_id", errors);
            None
        }
    };
    Ok(match (phone, name, unit) {
        (Some(phone), Some(name), Some(address_unit)) => Some(OrderCaller::Unidentified {
            phone,
            name,
            address,
            address_unit,
        }),
        _ => None,
    })
}

/// Checks an intake form: every field error at once.
async fn validate_intake(
    state: &AppState,
    caller: &Caller,
    body: IntakeRequest,
    key: Option<IdempotencyKey>,
) -> ApiResult<Intake> {
    let mut errors = Vec::new();
    let channel = Channel::parse_code("channel", body.channel.trim())
        .map_err(|e| errors.push(e))
        .ok();
    let appeal_type = AppealType::parse_code("appeal_type", body.appeal_type.trim())
        .map_err(|e| errors.push(e))
        .ok();
    let priority = Priority::parse_code(
        "priority",
        body.priority.as_deref().unwrap_or("normal").trim(),
    )
    .map_err(|e| errors.push(e))
    .ok();
    let who = build_caller(state, caller, &body.caller, &mut errors).await?;
    let (Some(channel), Some(appeal_type), Some(priority), Some(who)) =
        (channel, appeal_type, priority, who)
    else {
        return Err(ApiError::validation(errors));
    };
    let input = IntakeInput {
        // A placeholder: the store allocates the number.
        number: OrderNumber::parse("GD20000101000001").map_err(|e| ApiError::internal(e.reason))?,
        channel,
        caller: who,
        appeal_type,
        sub_category: body.sub_category,
        content: body.content,
        priority,
        major_reason: body.major_reason.unwrap_or_default(),
        repeat_of: Vec::new(),
        idempotency_key: key,
    };
    let settings = state.intake_settings().await?;
    let (catalogue, rules) = (&settings.catalogue, &settings.major_rules);
    match Intake::validate(input, catalogue, rules) {
        Ok(intake) if errors.is_empty() => Ok(intake),
        Ok(_) => Err(ApiError::validation(errors)),
        Err(more) => {
            errors.extend(more);
            Err(ApiError::validation(errors))
        }
    }
}

/// Take an appeal (受理): the caller becomes its owner. With `Idempotency-Key`, a retry with the
/// same content returns the first order with 200 instead of 201; the same key with different
/// content is refused with 422 `idempotency_key_reused` and nothing is written.
#[utoipa::path(
    post, path = "/api/v1/work-orders", tag = "work-order", request_body = IntakeRequest,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "1–128 visible ASCII characters; a retry with the same key and content returns the first order")),
    responses(
        (status = 201, body = OrderDto, headers(("Location" = String))),
        (status = 200, description = "A retry: the order the key created first", body = OrderDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`idempotency_key_reused`: the key was already used for a different appeal",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn intake(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<IntakeRequest>,
) -> ApiResult<impl IntoResponse> {
    require_role(&caller, Action::Intake)?;
    let key = match headers.get(IDEMPOTENCY_KEY_HEADER) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| FieldError::new("Idempotency-Key", "use visible ASCII characters"))
                .and_then(IdempotencyKey::parse)
                .map_err(|e| ApiError::field("Idempotency-Key", e.reason))?,
        ),
    };
    let intake = validate_intake(&state, &caller, body, key).await?;
    let actor = actor(&state, &caller).await?;
    let rules = state.time_rules().await?;
    let (stored, outcome) = state
        .store
        .intake(intake, IntakeOptions::default(), &actor, &rules, now())
        .await?;
    let status = match outcome {
        IntakeOutcome::Created => StatusCode::CREATED,
        IntakeOutcome::Replayed => StatusCode::OK,
    };
    Ok((
        status,
        [(
            header::LOCATION,
            format!("/api/v1/work-orders/{}", stored.order.number),
        )],
        Json(order_dto(&state, &stored, caller.sees_personal_data())),
    ))
}

/// Filters of the order list (all must hold) and the page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// A state code, e.g. `pending_dispatch`.
    pub state: Option<String>,
    /// An appeal type code, e.g. `complaint`.
    pub appeal_type: Option<String>,
    /// Orders whose unit (host unit, else territory) is this unit or below it.
    pub host_unit_id: Option<i64>,
    /// Major appeals only (true) or none of them (false).
    pub major: Option<bool>,
    /// Repeat appeals only (true) or none of them (false).
    pub repeat: Option<bool>,
    /// A channel code.
    pub channel: Option<String>,
    /// Supervised (督办) and not archived (true) or not (false).
    pub supervised: Option<bool>,
    /// A running deadline has passed (true) or none has (false), as of now.
    pub overdue: Option<bool>,
    /// The orders the caller's unit (or one below it) assists (协办), instead of those it hosts.
    pub assisting: Option<bool>,
    /// The orders of this customer (the customer 360° view).
    pub customer_id: Option<i64>,
    /// Taken at or after (RFC 3339).
    pub created_from: Option<String>,
    /// Taken before (RFC 3339).
    pub created_to: Option<String>,
    /// `newest` (default), `oldest` or `due` (the nearest running deadline first).
    pub sort: Option<String>,
    /// Page size, 1..=200 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn instant(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, FieldError> {
    raw.map(|s| {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| FieldError::new(field, format!("'{s}' is not an RFC 3339 instant")))
    })
    .transpose()
}

impl OrderQuery {
    /// The same filters without the page position.
    pub fn clone_filters(&self) -> OrderQuery {
        OrderQuery {
            state: self.state.clone(),
            appeal_type: self.appeal_type.clone(),
            host_unit_id: self.host_unit_id,
            major: self.major,
            repeat: self.repeat,
            channel: self.channel.clone(),
            supervised: self.supervised,
            overdue: self.overdue,
            assisting: self.assisting,
            customer_id: self.customer_id,
            created_from: self.created_from.clone(),
            created_to: self.created_to.clone(),
            sort: self.sort.clone(),
            limit: self.limit,
            cursor: None,
        }
    }

    /// The store's filter, units checked against the caller's scope (400 naming each field).
    pub(crate) async fn filter(&self, state: &AppState, caller: &Caller) -> ApiResult<OrderFilter> {
        let mut errors = Vec::new();
        fn ok<T>(errors: &mut Vec<FieldError>, r: Result<Option<T>, FieldError>) -> Option<T> {
            r.map_err(|e| errors.push(e)).ok().flatten()
        }
        let st = ok(
            &mut errors,
            self.state
                .as_deref()
                .map(|s| OrderState::parse_code("state", s.trim()))
                .transpose(),
        );
        let appeal_type = ok(
            &mut errors,
            self.appeal_type
                .as_deref()
                .map(|s| AppealType::parse_code("appeal_type", s.trim()))
                .transpose(),
        );
        let channel = ok(
            &mut errors,
            self.channel
                .as_deref()
                .map(|s| Channel::parse_code("channel", s.trim()))
                .transpose(),
        );
        let created_from = ok(
            &mut errors,
            instant("created_from", self.created_from.as_deref()),
        );
        let created_to = ok(
            &mut errors,
            instant("created_to", self.created_to.as_deref()),
        );
        let unit = match self.host_unit_id {
            Some(id) => unit_in_scope(state, caller, "host_unit_id", id)
                .await?
                .map_err(|e| errors.push(e))
                .ok(),
            None => None,
        };
        let sort = match self.sort.as_deref().map(str::trim) {
            None | Some("") | Some("newest") => OrderSort::Newest,
            Some("oldest") => OrderSort::Oldest,
            Some("due") => OrderSort::DueSoonest,
            Some(other) => {
                errors.push(FieldError::new(
                    "sort",
                    format!("'{other}' is not a sort order; use newest, oldest or due"),
                ));
                OrderSort::Newest
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(OrderFilter {
            sort,
            state: st,
            appeal_type,
            unit,
            major: self.major,
            channel,
            created_from,
            created_to,
            repeat: self.repeat,
            supervised: self.supervised,
            overdue: self.overdue.map(|yes| Overdue { yes, at: now() }),
            assisting: self.assisting.unwrap_or(false),
            customer: self.customer_id.map(kefu_domain::ids::CustomerId),
        })
    }
}

/// Orders of the caller's unit and below, newest first, filtered.
#[utoipa::path(
    get, path = "/api/v1/work-orders", tag = "work-order", params(OrderQuery),
    responses(
        (status = 200, body = OrderPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OrderQuery>,
) -> ApiResult<Json<OrderPage>> {
    let page = page_request(q.limit, q.cursor.as_deref())?;
    let filter = q.filter(&state, &caller).await?;
    let found = state
        .store
        .list_orders(&filter, &caller.scope, page)
        .await?;
    let refs: Vec<&StoredOrder> = found.items.iter().collect();
    audit_read(&state, &caller, "work_order_list".into(), &refs).await?;
    let unmasked = caller.sees_personal_data();
    Ok(Json(OrderPage {
        items: found
            .items
            .iter()
            .map(|o| order_dto(&state, o, unmasked))
            .collect(),
        next_cursor: found.next.map(Cursor::encode),
    }))
}

/// One order with its whole timeline (404 when missing or outside the caller's unit).
#[utoipa::path(
    get, path = "/api/v1/work-orders/{number}", tag = "work-order",
    params(("number" = String, Path, description = "Order number, e.g. GD20261122000123")),
    responses(
        (status = 200, body = OrderDetail),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> ApiResult<Json<OrderDetail>> {
    let number = parse_number(&number)?;
    let stored = state
        .store
        .get_order(&number, &caller.scope)
        .await?
        .ok_or_else(|| ApiError::not_found("work order"))?;
    let timeline = state.store.timeline(&number, &caller.scope).await?;
    let alerts = state.store.alerts(&number, &caller.scope).await?;
    audit_read(&state, &caller, format!("work_order:{number}"), &[&stored]).await?;
    Ok(Json(OrderDetail {
        order: order_dto(&state, &stored, caller.sees_personal_data()),
        timeline: merged_timeline(&stored, &timeline, &alerts),
    }))
}

/// Runs one command on the order at `version` and answers with the order after it.
pub(crate) async fn act(
    state: &AppState,
    caller: &Caller,
    number: &str,
    version: i64,
    command: Command,
) -> ApiResult<Json<OrderDto>> {
    let number = parse_number(number)?;
    let actor = actor(state, caller).await?;
    let rules = state.time_rules().await?;
    let (stored, _) = state
        .store
        .apply(
            &number,
            version,
            command,
            &actor,
            &caller.scope,
            &rules,
            now(),
        )
        .await?;
    Ok(Json(order_dto(state, &stored, caller.sees_personal_data())))
}

/// The API view of a stored order, its SLA as of now in the centre's offset.
pub(crate) fn order_dto(state: &AppState, stored: &StoredOrder, unmasked: bool) -> OrderDto {
    OrderDto::new(stored, unmasked, now(), state.config.utc_offset)
}

/// The timeline with the sweep's alerts placed by time (the state they show is the one the
/// order was in: alerts only happen between steps).
fn merged_timeline(
    stored: &StoredOrder,
    events: &[StoredEvent],
    alerts: &[StoredAlert],
) -> Vec<EventDto> {
    let mut out: Vec<EventDto> = events.iter().map(EventDto::new).collect();
    for a in alerts {
        let state = events
            .iter()
            .rev()
            .find(|e| e.event.at <= a.raised_at)
            .map_or(stored.order.state, |e| e.event.to);
        out.push(sla_dto::alert_event(a, state.code()));
    }
    // Stable: equal instants keep steps before alerts.
    out.sort_by_key(|e| e.at);
    out
}

fn code<T>(
    field: &str,
    raw: Option<&str>,
    parse: fn(&str, &str) -> Result<T, FieldError>,
) -> Result<T, FieldError> {
    match raw.map(str::trim) {
        Some(s) if !s.is_empty() => parse(field, s),
        _ => Err(FieldError::new(field, "this field is required")),
    }
}

fn text(raw: Option<String>) -> String {
    raw.unwrap_or_default()
}

mod actions;
pub use actions::*;
