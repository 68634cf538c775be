//! One `POST /api/v1/work-orders/{number}/<action>` per action: the body's fields become the
//! domain's `Command`, checked against the caller's role first (403 before any 400).

use axum::Json;
use axum::extract::{Path, State};
use kefu_domain::FieldError;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::org::DepartmentKind;
use kefu_domain::workorder::{
    Action, Command, ContactResult, FaultFinding, Order, ReplyInput, ReturnReason, ReviewDecision,
    Satisfaction, SuspendReason, assess_major,
};

use super::dto::{
    AssistBody, ChaseBody, DispatchBody, NoteBody, OrderDto, ReasonBody, ReclassifyBody, ReplyBody,
    ReturnBody, ReviewBody, SuspendBody, VersionBody, VisitBody,
};
use super::{act, code, parse_number, require_role, text, unit_in_scope};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::JsonBody;

/// A single field error as a 400.
fn bad<T>(r: Result<T, FieldError>) -> ApiResult<T> {
    r.map_err(|e| ApiError::validation(vec![e]))
}

/// The order as the caller sees it (404 when missing or out of scope).
async fn current(state: &AppState, caller: &Caller, number: &str) -> ApiResult<Order> {
    let number = parse_number(number)?;
    state
        .store
        .get_order(&number, &caller.scope)
        .await?
        .map(|s| s.order)
        .ok_or_else(|| ApiError::not_found("work order"))
}

/// Declares one action endpoint: role check, body → command, `act`.
macro_rules! action {
    (
        $(#[$doc:meta])*
        $name:ident, $path:tt, $action:expr, $body:ident,
        |$st:ident, $caller:ident, $number:ident, $b:ident| $make:block
    ) => {
        $(#[$doc])*
        #[utoipa::path(
            post, path = $path, tag = "work-order", request_body = $body,
            params(("number" = String, Path, description = "Order number, e.g. GD20261122000123")),
            responses(
                (status = 200, description = "The order after the action", body = OrderDto),
                (status = 400, description = "A field is missing or wrong; `errors` names each",
                    body = Problem, content_type = "application/problem+json"),
                (status = 401, body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The caller's role (or unit, department) may not do this",
                    body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such order in the caller's unit",
                    body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "`illegal_transition` (with `state` and \
                    `allowed_actions`), `version_conflict` or `invalid_state`",
                    body = Problem, content_type = "application/problem+json"),
            )
        )]
        pub async fn $name(
            State($st): State<AppState>,
            $caller: Caller,
            Path($number): Path<String>,
            JsonBody($b): JsonBody<$body>,
        ) -> ApiResult<Json<OrderDto>> {
            require_role(&$caller, $action)?;
            let version = $b.version;
            let command: Command = $make;
            act(&$st, &$caller, &$number, version, command).await
        }
    };
}

action!(
    /// 派单 / 改派: to `unit_id` and `department`, by default the five-principles suggestion
    /// (the customer's or the address's unit, the sub-category's department).
    dispatch, "/api/v1/work-orders/{number}/dispatch", Action::Dispatch, DispatchBody,
    |state, caller, number, b| {
        let order = current(&state, &caller, &number).await?;
        let mut errors = Vec::new();
        let unit = match b.unit_id {
            Some(id) => unit_in_scope(&state, &caller, "unit_id", id)
                .await?
                .map_err(|e| errors.push(e))
                .ok(),
            None => Some(order.jurisdiction().clone()),
        };
        let department = match b.department.as_deref() {
            Some(d) => DepartmentKind::parse_code("department", d.trim())
                .map_err(|e| errors.push(e))
                .ok(),
            None => Some(order.department),
        };
        let (Some(unit), Some(department)) = (unit, department) else {
            return Err(ApiError::validation(errors));
        };
        // A unit with departments must have the one named; a unit without any (a station, or
        // one whose departments are not set up) handles the order as a whole.
        let id = unit.unit().map_or(0, |u| u.0);
        let kinds: Vec<DepartmentKind> = state
            .store
            .list_departments(&unit)
            .await?
            .into_iter()
            .filter(|d| d.unit_id == OrgUnitId(id))
            .map(|d| d.kind)
            .collect();
        if !kinds.is_empty() && !kinds.contains(&department) {
            return Err(ApiError::field(
                "department",
                format!("unit {id} has no {} department", department.code()),
            ));
        }
        Command::Dispatch {
            unit,
            department,
            override_reason: text(b.override_reason),
        }
    }
);

action!(
    /// 改类: correct the sub-category before dispatch (the major rules are applied again).
    reclassify, "/api/v1/work-orders/{number}/reclassify", Action::Reclassify, ReclassifyBody,
    |state, caller, number, b| {
        let order = current(&state, &caller, &number).await?;
        let settings = state.intake_settings().await?;
        let (catalogue, rules) = (&settings.catalogue, &settings.major_rules);
        let raw = b.sub_category.unwrap_or_default();
        let sub = bad(catalogue.lookup("sub_category", raw.trim()))?;
        let major = assess_major(rules, sub, &order.content);
        Command::Reclassify {
            sub_category: sub.clone(),
            major,
        }
    }
);

action!(
    /// 接单: the host unit takes the order.
    accept, "/api/v1/work-orders/{number}/accept", Action::Accept, VersionBody,
    |state, caller, number, b| { Command::Accept }
);

action!(
    /// 回退: the host unit sends the order back to the dispatcher, with a reason from the list.
    return_order, "/api/v1/work-orders/{number}/return", Action::Return, ReturnBody,
    |state, caller, number, b| {
        Command::Return {
            reason: bad(code("reason", b.reason.as_deref(), ReturnReason::parse_code))?,
            text: text(b.text),
        }
    }
);

action!(
    /// 催办: hurry whoever holds the order (counted).
    chase, "/api/v1/work-orders/{number}/chase", Action::Chase, ChaseBody,
    |state, caller, number, b| { Command::Chase { note: text(b.note) } }
);

action!(
    /// 督办: keep the order on the supervisor's list until archived.
    supervise, "/api/v1/work-orders/{number}/supervise", Action::Supervise, ReasonBody,
    |state, caller, number, b| { Command::Supervise { reason: text(b.reason) } }
);

action!(
    /// 回复: the reply with its five fields; every missing one is named in one 400.
    reply, "/api/v1/work-orders/{number}/reply", Action::Reply, ReplyBody,
    |state, caller, number, b| {
        let fault = match b.fault.as_deref().map(str::trim) {
            Some(f) if !f.is_empty() => Some(bad(FaultFinding::parse_code("fault", f))?),
            _ => None,
        };
        let responsible_unit = match b.responsible_unit {
            Some(id) => {
                let unit = if id > 0 {
                    state.store.get_org_unit(OrgUnitId(id)).await?
                } else {
                    None
                };
                let unit = unit.ok_or_else(|| {
                    ApiError::field("responsible_unit", "no such unit")
                })?;
                Some(unit.id)
            }
            None => None,
        };
        Command::Reply(ReplyInput {
            handled_at: b.handled_at,
            handler: text(b.handler),
            actions_taken: text(b.actions_taken),
            result_and_feedback: text(b.result_and_feedback),
            fault,
            responsible_unit,
            responsible_person: text(b.responsible_person),
            compensation_amount_fen: b.compensation_amount_fen,
            compensation_cause: text(b.compensation_cause),
        })
    }
);

action!(
    /// 审核: `approve`, or `send_back` to the host unit with a `reason`.
    review, "/api/v1/work-orders/{number}/review", Action::Review, ReviewBody,
    |state, caller, number, b| {
        let decision = match b.decision.as_deref().map(str::trim) {
            Some("approve") => ReviewDecision::Approve,
            Some("send_back") => ReviewDecision::SendBack {
                reason: text(b.reason),
            },
            _ => {
                return Err(ApiError::field(
                    "decision",
                    "one of: approve, send_back (with a reason)",
                ));
            }
        };
        Command::Review(decision)
    }
);

action!(
    /// 回访: one follow-up call; `satisfaction` 1–5 when the customer was reached.
    visit, "/api/v1/work-orders/{number}/visit", Action::Visit, VisitBody,
    |state, caller, number, b| {
        let contact = bad(code("contact", b.contact.as_deref(), ContactResult::parse_code))?;
        let satisfaction = match b.satisfaction {
            Some(s) => Some(bad(Satisfaction::from_score(s).ok_or_else(|| {
                FieldError::new("satisfaction", "a rating from 1 (很不满意) to 5 (很满意)")
            }))?),
            None => None,
        };
        Command::Visit {
            contact,
            satisfaction,
            comment: text(b.comment),
        }
    }
);

action!(
    /// 重新打开: after a dissatisfied visit (any supervisor may reopen any visited order).
    reopen, "/api/v1/work-orders/{number}/reopen", Action::Reopen, ReasonBody,
    |state, caller, number, b| { Command::Reopen { reason: text(b.reason) } }
);

action!(
    /// 归档: close the order for good (read-only afterwards).
    archive, "/api/v1/work-orders/{number}/archive", Action::Archive, VersionBody,
    |state, caller, number, b| { Command::Archive }
);

action!(
    /// 协办: add an assisting unit.
    assist, "/api/v1/work-orders/{number}/assist", Action::AddAssist, AssistBody,
    |state, caller, number, b| {
        let unit = match b.unit_id {
            Some(id) => bad(unit_in_scope(&state, &caller, "unit_id", id).await?)?,
            None => return Err(ApiError::field("unit_id", "name the assisting unit")),
        };
        Command::AddAssist { unit }
    }
);

action!(
    /// 标记重大: flag the order as a major appeal by hand, with a reason.
    flag_major, "/api/v1/work-orders/{number}/flag-major", Action::FlagMajor, ReasonBody,
    |state, caller, number, b| { Command::FlagMajor { reason: text(b.reason) } }
);

action!(
    /// 联系客户: the host unit reached the customer (meets the contact limit).
    contact, "/api/v1/work-orders/{number}/contact", Action::Contact, NoteBody,
    |state, caller, number, b| { Command::Contact { note: text(b.note) } }
);

action!(
    /// 到达现场: the repair crew arrived (fault repair; the restore limit starts).
    arrive, "/api/v1/work-orders/{number}/arrive", Action::Arrive, NoteBody,
    |state, caller, number, b| { Command::Arrive { note: text(b.note) } }
);

action!(
    /// 挂起: stop the clocks while the customer cannot be reached or is awaited.
    suspend, "/api/v1/work-orders/{number}/suspend", Action::Suspend, SuspendBody,
    |state, caller, number, b| {
        Command::Suspend {
            reason: bad(code("reason", b.reason.as_deref(), SuspendReason::parse_code))?,
            text: text(b.text),
        }
    }
);

action!(
    /// 解除挂起: start the clocks again.
    resume, "/api/v1/work-orders/{number}/resume", Action::Resume, NoteBody,
    |state, caller, number, b| { Command::Resume { note: text(b.note) } }
);
