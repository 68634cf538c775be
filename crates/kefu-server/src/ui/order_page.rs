//! The order page (issue 8 items 3–5): all fields, the deadlines, the whole timeline and one
//! form per action the viewer's roles allow in the state. Every action goes through the JSON
//! API's handler of the same name; a refused action re-renders the page with the server's
//! message next to the field and keeps what was typed.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kefu_domain::org::DepartmentKind;
use kefu_domain::workorder::{
    Action, ContactResult, FaultFinding, ReturnReason, Satisfaction, SuspendReason,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::order_text::OrderText;
use super::order_view::{Choice, OrderView, actions_for, choices, sub_category_choices};
use super::orders::nonempty;
use super::pages::{catalogue, staff_names, unit_names};
use super::view::{TopBar, error_message, render, url_encode};
use super::{Lang, Text, Viewer};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::JsonBody;
use crate::workorder::{self};

/// The fields of every action form (each form sends the ones it has).
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    csrf: String,
    version: Option<String>,
    unit_id: Option<String>,
    department: Option<String>,
    override_reason: Option<String>,
    sub_category: Option<String>,
    reason: Option<String>,
    text: Option<String>,
    note: Option<String>,
    handled_at: Option<String>,
    handler: Option<String>,
    actions_taken: Option<String>,
    result_and_feedback: Option<String>,
    fault: Option<String>,
    responsible_unit: Option<String>,
    responsible_person: Option<String>,
    compensation_yuan: Option<String>,
    compensation_cause: Option<String>,
    decision: Option<String>,
    contact: Option<String>,
    satisfaction: Option<String>,
    comment: Option<String>,
}

impl ActionForm {
    /// What the person typed, by field name (to fill the form again after a refusal).
    fn typed(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for (k, v) in [
            ("unit_id", &self.unit_id),
            ("department", &self.department),
            ("override_reason", &self.override_reason),
            ("sub_category", &self.sub_category),
            ("reason", &self.reason),
            ("text", &self.text),
            ("note", &self.note),
            ("handled_at", &self.handled_at),
            ("handler", &self.handler),
            ("actions_taken", &self.actions_taken),
            ("result_and_feedback", &self.result_and_feedback),
            ("fault", &self.fault),
            ("responsible_unit", &self.responsible_unit),
            ("responsible_person", &self.responsible_person),
            ("compensation_yuan", &self.compensation_yuan),
            ("compensation_cause", &self.compensation_cause),
            ("decision", &self.decision),
            ("contact", &self.contact),
            ("satisfaction", &self.satisfaction),
            ("comment", &self.comment),
        ] {
            if let Some(v) = v {
                m.insert(k.to_owned(), v.clone());
            }
        }
        m
    }
}

/// A field error in the API's shape, for a form value that cannot even be sent.
fn field(name: &str, reason: &str) -> ApiError {
    ApiError::field(name, reason)
}

fn put_text(body: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = nonempty(v) {
        body.insert(key.to_owned(), Value::String(v));
    }
}

fn put_int(body: &mut Map<String, Value>, key: &str, v: &Option<String>) -> Result<(), ApiError> {
    if let Some(v) = nonempty(v) {
        let n: i64 = v.parse().map_err(|_| field(key, "enter a whole number"))?;
        body.insert(key.to_owned(), json!(n));
    }
    Ok(())
}

/// `2026-02-13T16:00` typed in the centre's offset, as RFC 3339.
fn local_input(raw: &str, offset: chrono::FixedOffset) -> Result<String, ApiError> {
    chrono::NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| t.and_local_timezone(offset).single())
        .map(|t| t.to_rfc3339())
        .ok_or_else(|| field("handled_at", "enter a date and time, e.g. 2026-02-13 16:00"))
}

/// Yuan with at most two decimals, as fen.
fn yuan_to_fen(raw: &str) -> Result<i64, ApiError> {
    let bad = || {
        field(
            "compensation_amount_fen",
            "enter an amount in yuan, e.g. 120.50",
        )
    };
    let (whole, frac) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
    // Digits only: a sign or a stray character is a typing error, never a silent amount.
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if frac.len() > 2 || whole.is_empty() || !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)
}

/// The API body of `action` from the form.
fn body_of(action: Action, f: &ActionForm, offset: chrono::FixedOffset) -> Result<Value, ApiError> {
    let mut b = Map::new();
    let version: i64 = f
        .version
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| field("version", "reload the order and try again"))?;
    b.insert("version".into(), json!(version));
    match action {
        Action::Dispatch => {
            put_int(&mut b, "unit_id", &f.unit_id)?;
            put_text(&mut b, "department", &f.department);
            put_text(&mut b, "override_reason", &f.override_reason);
        }
        Action::Reclassify => put_text(&mut b, "sub_category", &f.sub_category),
        Action::Return | Action::Suspend => {
            put_text(&mut b, "reason", &f.reason);
            put_text(&mut b, "text", &f.text);
        }
        Action::Chase | Action::Contact | Action::Arrive | Action::Resume => {
            put_text(&mut b, "note", &f.note);
        }
        Action::Supervise | Action::Reopen | Action::FlagMajor => {
            put_text(&mut b, "reason", &f.reason);
        }
        Action::Reply => {
            if let Some(t) = nonempty(&f.handled_at) {
                b.insert("handled_at".into(), json!(local_input(&t, offset)?));
            }
            put_text(&mut b, "handler", &f.handler);
            put_text(&mut b, "actions_taken", &f.actions_taken);
            put_text(&mut b, "result_and_feedback", &f.result_and_feedback);
            put_text(&mut b, "fault", &f.fault);
            put_int(&mut b, "responsible_unit", &f.responsible_unit)?;
            put_text(&mut b, "responsible_person", &f.responsible_person);
            if let Some(y) = nonempty(&f.compensation_yuan) {
                b.insert("compensation_amount_fen".into(), json!(yuan_to_fen(&y)?));
            }
            put_text(&mut b, "compensation_cause", &f.compensation_cause);
        }
        Action::Review => {
            put_text(&mut b, "decision", &f.decision);
            put_text(&mut b, "reason", &f.reason);
        }
        Action::Visit => {
            put_text(&mut b, "contact", &f.contact);
            put_int(&mut b, "satisfaction", &f.satisfaction)?;
            put_text(&mut b, "comment", &f.comment);
        }
        Action::AddAssist => put_int(&mut b, "unit_id", &f.unit_id)?,
        Action::Accept | Action::Archive | Action::Intake | Action::CustomerRate => {}
    }
    Ok(Value::Object(b))
}

pub(super) fn parse_body<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| field("body", &e.to_string()))
}

/// Runs `action` through the API handler of the same name.
async fn run_action(
    state: &AppState,
    viewer: &Viewer,
    number: &str,
    action: Action,
    body: Value,
) -> Result<(), ApiError> {
    let st = || State(state.clone());
    let c = || viewer.caller.clone();
    let p = || Path(number.to_owned());
    use workorder as w;
    // The page reloads the order after the redirect, so the answer itself is not needed.
    let _after = match action {
        Action::Dispatch => w::dispatch(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Reclassify => w::reclassify(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Accept => w::accept(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Return => w::return_order(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Chase => w::chase(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Supervise => w::supervise(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Reply => w::reply(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Review => w::review(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Visit => w::visit(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Reopen => w::reopen(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Archive => w::archive(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::AddAssist => w::assist(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::FlagMajor => w::flag_major(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Contact => w::contact(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Arrive => w::arrive(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Suspend => w::suspend(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        Action::Resume => w::resume(st(), c(), p(), JsonBody(parse_body(body)?)).await?,
        // Customers rate on the self-service portal, not through a staff page.
        Action::Intake | Action::CustomerRate => return Err(ApiError::not_found("action")),
    };
    Ok(())
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    t: &'static Text,
    o: &'static OrderText,
    lang: &'static str,
    title: String,
    top: TopBar,
    v: OrderView,
    actions: Vec<Action>,
    units: Vec<Choice>,
    departments: Vec<Choice>,
    return_reasons: Vec<Choice>,
    suspend_reasons: Vec<Choice>,
    faults: Vec<Choice>,
    contacts: Vec<Choice>,
    scores: Vec<Choice>,
    sub_categories: Vec<Choice>,
    suggested_unit: String,
    suggested_department: String,
    /// Why the suggestion is what it is (the five principles, in the viewer's language).
    suggestion_basis: String,
    now_local: String,
    simple_forms: Vec<SimpleForm>,
    l: Lang,
    message: String,
    failed: String,
    typed: HashMap<String, String>,
    errors: HashMap<String, String>,
}

/// An action whose form is one text field (note or reason).
struct SimpleForm {
    code: &'static str,
    label: String,
    field: &'static str,
    field_label: &'static str,
}

impl OrderPage {
    fn has(&self, code: &str) -> bool {
        self.actions.iter().any(|a| a.code() == code)
    }

    /// The action's name in the page language.
    fn label(&self, code: &str) -> String {
        Action::from_code(code).map_or_else(
            || code.to_owned(),
            |a| self.l.pick(a.label_zh(), a.label_en()).to_owned(),
        )
    }

    /// What was typed into `field` of the refused form (empty otherwise).
    fn typed(&self, action: &str, field: &str) -> String {
        if self.failed == action {
            self.typed.get(field).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }

    /// The server's reason for refusing `field` of the refused form (empty otherwise).
    fn err(&self, action: &str, field: &str) -> String {
        if self.failed == action {
            self.errors.get(field).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }

    fn chosen(&self, action: &str, field: &str, value: &str, default: &str) -> bool {
        let typed = self.typed(action, field);
        if typed.is_empty() {
            value == default
        } else {
            typed == value
        }
    }
}

/// Renders the order page; `refusal` carries a refused action's error and what was typed.
async fn order_page(
    state: &AppState,
    viewer: &Viewer,
    number: &str,
    refusal: Option<(Action, ApiError, &ActionForm)>,
) -> Response {
    let lang = viewer.lang;
    let (t, o) = (lang.t(), lang.o());
    let detail = match workorder::get_order(
        State(state.clone()),
        viewer.caller.clone(),
        Path(number.to_owned()),
    )
    .await
    {
        Ok(d) => d.0,
        Err(e) => return super::pages::api_error_page(viewer, &e),
    };
    let units = unit_names(state, &viewer.caller).await.unwrap_or_default();
    let staff = staff_names(state, &viewer.caller).await;
    let cat = catalogue(state).await;
    let here = format!("/ui/orders/{number}");
    let mut unit_choices: Vec<Choice> = units
        .iter()
        .map(|(id, name)| Choice {
            value: id.to_string(),
            label: name.clone(),
        })
        .collect();
    unit_choices.sort_by(|a, b| {
        a.value
            .len()
            .cmp(&b.value.len())
            .then(a.value.cmp(&b.value))
    });
    let d = &detail.order;
    let actions = actions_for(d, &viewer.caller);
    // Names are not personal data: the caller's customer is named from the archive.
    let customer_name = match d.caller.customer_id {
        Some(id) => state
            .store
            .get_customer(kefu_domain::ids::CustomerId(id), &viewer.caller.scope)
            .await
            .ok()
            .flatten()
            .map(|c| c.record.name.as_str().to_owned()),
        None => None,
    };
    let simple_forms = [
        (Action::Resume, "note"),
        (Action::Arrive, "note"),
        (Action::Chase, "note"),
        (Action::Supervise, "reason"),
        (Action::Reopen, "reason"),
        (Action::FlagMajor, "reason"),
    ]
    .into_iter()
    .filter(|(a, _)| actions.contains(a))
    .map(|(a, field)| SimpleForm {
        code: a.code(),
        label: lang.pick(a.label_zh(), a.label_en()).to_owned(),
        field,
        field_label: if field == "reason" { o.reason } else { o.note },
    })
    .collect();
    let mut page = OrderPage {
        t,
        o,
        lang: lang.html_code(),
        title: format!("{} · {}", d.number, o.orders),
        top: TopBar::new(viewer, &units, &here),
        v: {
            let mut v = OrderView::new(d, &detail.timeline, lang, &units, &staff, &cat);
            if let Some(name) = customer_name {
                v.caller = name;
            }
            v
        },
        actions,
        simple_forms,
        l: lang,
        units: unit_choices,
        departments: choices(
            lang,
            DepartmentKind::ALL,
            DepartmentKind::code,
            DepartmentKind::label_zh,
            DepartmentKind::label_en,
        ),
        return_reasons: choices(
            lang,
            ReturnReason::ALL,
            ReturnReason::code,
            ReturnReason::label_zh,
            ReturnReason::label_en,
        ),
        suspend_reasons: choices(
            lang,
            SuspendReason::ALL,
            SuspendReason::code,
            SuspendReason::label_zh,
            SuspendReason::label_en,
        ),
        faults: choices(
            lang,
            FaultFinding::ALL,
            FaultFinding::code,
            FaultFinding::label_zh,
            FaultFinding::label_en,
        ),
        contacts: choices(
            lang,
            ContactResult::ALL,
            ContactResult::code,
            ContactResult::label_zh,
            ContactResult::label_en,
        ),
        scores: Satisfaction::ALL
            .iter()
            .map(|s| Choice {
                value: s.score().to_string(),
                label: format!("{} {}", s.score(), lang.pick(s.label_zh(), s.label_en())),
            })
            .collect(),
        sub_categories: sub_category_choices(lang, &cat),
        suggested_unit: d
            .caller
            .territory_unit_id
            .map(|u| u.to_string())
            .unwrap_or_default(),
        suggested_department: d.department.clone(),
        suggestion_basis: suggestion_basis(lang, d, &units, &cat),
        now_local: chrono::Utc::now()
            .with_timezone(&state.config.utc_offset)
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        message: String::new(),
        failed: String::new(),
        typed: HashMap::new(),
        errors: HashMap::new(),
    };
    let mut status = StatusCode::OK;
    if let Some((action, e, form)) = refusal {
        status = e.code().status();
        page.failed = action.code().to_owned();
        page.typed = form.typed();
        page.message = if e.code() == ErrorCode::VersionConflict {
            o.changed_meanwhile.to_owned()
        } else {
            error_message(t, &e)
        };
        for f in &e.problem().errors {
            // The API names compensation in fen; the form asks for yuan.
            let name = match f.field.as_str() {
                "compensation_amount_fen" => "compensation_yuan",
                other => other,
            };
            page.errors.insert(name.to_owned(), f.reason.clone());
        }
    }
    render(status, &page)
}

/// GET /ui/orders/{number}
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Response {
    order_page(&state, &viewer, &number, None).await
}

/// POST /ui/orders/{number}/{action}: runs the action, then shows the order again (303 after
/// success, so a reload does not resend the form).
pub async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((number, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    if !viewer.caller.csrf_matches(&form.csrf) {
        return super::pages::forbidden_page(&viewer);
    }
    let Some(action) = Action::from_code(&action.replace('-', "_")) else {
        return super::pages::api_error_page(&viewer, &ApiError::not_found("action"));
    };
    let result = match body_of(action, &form, state.config.utc_offset) {
        Ok(body) => run_action(&state, &viewer, &number, action, body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/ui/orders/{}", url_encode(&number))).into_response(),
        Err(e) => order_page(&state, &viewer, &number, Some((action, e, &form))).await,
    }
}

/// The five principles behind the dispatch suggestion, as the dispatcher reads them: which unit
/// hosts by territory and why, and which department the sub-category names.
fn suggestion_basis(
    lang: Lang,
    d: &workorder::dto::OrderDto,
    units: &HashMap<i64, String>,
    cat: &kefu_domain::workorder::Catalogue,
) -> String {
    let unit = d
        .caller
        .territory_unit_id
        .and_then(|id| units.get(&id).cloned())
        .unwrap_or_else(|| "—".to_owned());
    let identified = d.caller.customer_id.is_some();
    let sub = kefu_domain::workorder::SubCategoryCode::parse(&d.sub_category)
        .ok()
        .and_then(|code| cat.get(&code).cloned());
    let department = DepartmentKind::ALL
        .iter()
        .find(|k| k.code() == d.department);
    match lang {
        Lang::Zh => format!(
            "依据五项原则：属地管理——{unit}（{}）承办；谁主管、谁处理——“{}”由{}处理。",
            if identified {
                "客户的供电单位"
            } else {
                "来电地址所属单位"
            },
            sub.as_ref()
                .map_or(d.sub_category.as_str(), |s| s.name_zh.as_str()),
            department.map_or(d.department.as_str(), |k| k.label_zh()),
        ),
        Lang::En => format!(
            "Five principles: by territory, {unit} ({}) hosts; whoever is in charge handles: \
             \u{201c}{}\u{201d} goes to {}.",
            if identified {
                "the customer's supply unit"
            } else {
                "the unit owning the caller's address"
            },
            sub.as_ref()
                .map_or(d.sub_category.as_str(), |s| s.name_en.as_str()),
            department.map_or(d.department.as_str(), |k| k.label_en()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensation_in_yuan_becomes_fen_and_anything_else_is_refused() {
        assert_eq!(yuan_to_fen("120.5").ok(), Some(12_050));
        assert_eq!(yuan_to_fen(" 7 ").ok(), Some(700));
        assert_eq!(yuan_to_fen("0.05").ok(), Some(5));
        for bad in ["", "-5", "1.-5", "1.234", "12a", ".5", "1e3", "+3"] {
            assert!(yuan_to_fen(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_typed_handling_time_is_read_in_the_centres_offset() {
        let bj = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
        assert_eq!(
            local_input("2026-02-13T16:00", bj).ok().as_deref(),
            Some("2026-02-13T16:00:00+08:00")
        );
        assert!(local_input("13/02/2026", bj).is_err());
    }
}
