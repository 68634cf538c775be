//! The customer self-service pages (issue 8 item 8), public: no staff login. `/self` asks for
//! a one-time code, takes the appeal once the code is right, looks an order up by number and
//! phone (its state and the steps in the customer's words, nothing about the staff) and takes
//! the customer's rating once the answer is approved. Plain forms, no script; the CSRF token is
//! a double-submit cookie (`kefu_self_csrf`, `SameSite=Strict`) echoed in a hidden field; every
//! POST counts against a per-address limit.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kefu_domain::customer::{MAX_ADDRESS_LEN, MAX_NAME_LEN, Phone};
use kefu_domain::selfservice::{CodeVerdict, OneTimeCode};
use kefu_domain::workorder::{
    Action, Channel, Command, MAX_CONTENT_LEN, MAX_NOTE_LEN, OrderNumber, Satisfaction,
    allowed_actions, answer_is_final, customer_status, customer_steps,
};
use serde::Deserialize;

use super::selfservice_page::{Ctx, SelfPage, TrackView, blank, broken, respond};
use super::selfservice_text::SelfText;
use super::view::{shanghai_time, url_encode};
use super::{LANG_COOKIE, Lang};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ClientIp, JsonBody};
use crate::selfservice::notify::Delivery;
use crate::selfservice::{self as portal, CodeRequest, Traffic};
use crate::workorder::dto::{CallerInput, IntakeRequest};
use crate::workorder::{self, IDEMPOTENCY_KEY_HEADER};

/// The appeal form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppealForm {
    csrf: String,
    key: String,
    phone: String,
    code: String,
    name: String,
    address: String,
    area: String,
    sub_category: String,
    content: String,
}

/// The look-up and rating form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TrackForm {
    csrf: String,
    number: String,
    phone: String,
    satisfaction: String,
    comment: String,
}

/// `?submitted=` after an appeal was taken.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SelfQuery {
    submitted: String,
}

/// GET /self
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SelfQuery>,
) -> Response {
    let ctx = Ctx::of(&headers);
    let mut page = match blank(&state, &ctx).await {
        Ok(p) => p,
        Err(e) => return broken(e),
    };
    if let Ok(n) = OrderNumber::parse(q.submitted.trim()) {
        page.submitted = n.to_string();
        page.track_number = n.to_string();
    }
    respond(&state, &ctx, StatusCode::OK, &page)
}

/// GET /self/lang/{code}: remembers the language and returns to the portal.
pub async fn switch_language(axum::extract::Path(code): axum::extract::Path<String>) -> Response {
    let lang = if code == "en" { Lang::En } else { Lang::Zh };
    let c = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    match HeaderValue::from_str(&c) {
        Ok(v) => ([(header::SET_COOKIE, v)], Redirect::to("/self")).into_response(),
        Err(_) => Redirect::to("/self").into_response(),
    }
}

/// Why a POST is not even looked at: a stale form or too many requests from the address.
fn gate(
    state: &AppState,
    ctx: &Ctx,
    ip: ClientIp,
    traffic: Traffic,
    sent: &str,
) -> Result<(), String> {
    if let Err(e) = state.portal.admit(ip.0, traffic) {
        return Err(match e.code() {
            ErrorCode::RateLimited => ctx.s().rate_limited.to_owned(),
            _ => e.to_string(),
        });
    }
    if !ctx.csrf.matches(sent) {
        return Err(ctx.s().expired_form.to_owned());
    }
    Ok(())
}

fn status_of(message: &str, s: &SelfText) -> StatusCode {
    if message == s.rate_limited {
        StatusCode::TOO_MANY_REQUESTS
    } else if message == s.expired_form {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    }
}

impl AppealForm {
    fn typed(&self) -> HashMap<String, String> {
        [
            ("name", &self.name),
            ("address", &self.address),
            ("area", &self.area),
            ("sub_category", &self.sub_category),
            ("content", &self.content),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect()
    }

    /// The customer's own mistakes, in their language, before any code is spent.
    fn errors(&self, s: &SelfText, known_sub: bool) -> HashMap<String, String> {
        let mut e = HashMap::new();
        let name = self.name.trim().chars().count();
        if name == 0 || name > MAX_NAME_LEN {
            e.insert("name".into(), s.need_name.into());
        }
        let address = self.address.trim().chars().count();
        if address == 0 || address > MAX_ADDRESS_LEN {
            e.insert("address".into(), s.need_address.into());
        }
        if self.area.trim().parse::<i64>().is_err() {
            e.insert("area".into(), s.need_area.into());
        }
        if !known_sub {
            e.insert("sub_category".into(), s.need_sub_category.into());
        }
        let content = self.content.trim().chars().count();
        if content == 0 {
            e.insert("content".into(), s.need_content.into());
        } else if content > MAX_CONTENT_LEN {
            e.insert("content".into(), s.content_too_long.into());
        }
        if OneTimeCode::parse(&self.code).is_err() {
            e.insert("code".into(), s.no_code.into());
        }
        e
    }
}

/// POST /self/code: sends a code to the phone and shows the appeal form.
pub async fn send_code(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<AppealForm>,
) -> Response {
    let ctx = Ctx::of(&headers);
    let s = ctx.s();
    let mut page = match blank(&state, &ctx).await {
        Ok(p) => p,
        Err(e) => return broken(e),
    };
    page.typed = form.typed();
    page.phone = form.phone.trim().to_owned();
    if let Err(m) = gate(&state, &ctx, ip, Traffic::Write, &form.csrf) {
        page.submit_message = m.clone();
        return respond(&state, &ctx, status_of(&m, s), &page);
    }
    let Ok(phone) = Phone::parse(&form.phone) else {
        page.errors.insert("phone".into(), s.bad_phone.into());
        return respond(&state, &ctx, StatusCode::BAD_REQUEST, &page);
    };
    page.phone = phone.as_str().to_owned();
    match portal::request_code(&state, &phone).await {
        Ok(CodeRequest::Sent(d)) => {
            page.stage = 2;
            page.code_sent = true;
            if let Delivery::ShowOnPage(code) = d {
                page.demo_code = code;
            }
            respond(&state, &ctx, StatusCode::OK, &page)
        }
        Ok(CodeRequest::TooMany) => {
            page.errors.insert("phone".into(), s.too_many_codes.into());
            respond(&state, &ctx, StatusCode::TOO_MANY_REQUESTS, &page)
        }
        Ok(CodeRequest::Undeliverable(_)) => {
            page.submit_message = s.no_gateway.into();
            respond(&state, &ctx, StatusCode::SERVICE_UNAVAILABLE, &page)
        }
        Err(e) => broken(e),
    }
}

/// POST /self/appeal: checks the code and takes the appeal through the agents' intake.
pub async fn submit(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<AppealForm>,
) -> Response {
    let ctx = Ctx::of(&headers);
    let s = ctx.s();
    let mut page = match blank(&state, &ctx).await {
        Ok(p) => p,
        Err(e) => return broken(e),
    };
    page.typed = form.typed();
    page.phone = form.phone.trim().to_owned();
    if !form.key.trim().is_empty() {
        page.key = form.key.trim().to_owned();
    }
    if let Err(m) = gate(&state, &ctx, ip, Traffic::Write, &form.csrf) {
        page.stage = 2;
        page.submit_message = m.clone();
        return respond(&state, &ctx, status_of(&m, s), &page);
    }
    let Ok(phone) = Phone::parse(&form.phone) else {
        page.errors.insert("phone".into(), s.bad_phone.into());
        return respond(&state, &ctx, StatusCode::BAD_REQUEST, &page);
    };
    page.phone = phone.as_str().to_owned();
    page.stage = 2;
    let known_sub = page
        .sub_categories
        .iter()
        .any(|c| c.value == form.sub_category);
    page.errors = form.errors(s, known_sub);
    if !page.errors.is_empty() {
        page.submit_message = s.fix_fields.into();
        return respond(&state, &ctx, StatusCode::BAD_REQUEST, &page);
    }
    let verdict = match OneTimeCode::parse(&form.code) {
        Ok(code) => portal::check_code(&state, &phone, &code).await,
        Err(_) => Ok(CodeVerdict::NoLiveCode),
    };
    match verdict {
        Ok(CodeVerdict::Accepted) => {}
        Ok(CodeVerdict::Wrong { attempts_left }) => {
            let m = format!("{} {attempts_left}", s.wrong_code);
            page.errors.insert("code".into(), m);
            return respond(&state, &ctx, StatusCode::BAD_REQUEST, &page);
        }
        Ok(CodeVerdict::NoLiveCode) => {
            page.errors.insert("code".into(), s.no_code.into());
            return respond(&state, &ctx, StatusCode::BAD_REQUEST, &page);
        }
        Err(e) => return broken(e),
    }
    match take(&state, &phone, &form).await {
        Ok(number) => {
            Redirect::to(&format!("/self?submitted={}", url_encode(&number))).into_response()
        }
        Err(e) => {
            let fields: Vec<String> = e
                .problem()
                .errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.reason))
                .collect();
            page.submit_message = if fields.is_empty() {
                format!("{} {}", s.failed, e.problem().detail)
            } else {
                format!("{} {}", s.failed, fields.join("; "))
            };
            let status = e.code().status();
            respond(&state, &ctx, status, &page)
        }
    }
}

/// Takes the appeal as the portal's account: the archived customer of the phone when there is
/// exactly one, else an unidentified caller at the chosen area. Returns the order number.
async fn take(state: &AppState, phone: &Phone, form: &AppealForm) -> Result<String, ApiError> {
    let caller: Caller = portal::caller(state).await?;
    let customer_id = portal::customer_of(state, &caller, phone).await?;
    let sub = form.sub_category.trim().to_owned();
    let appeal_type = sub
        .split_once('.')
        .map(|(t, _)| t.to_owned())
        .unwrap_or_default();
    let request = IntakeRequest {
        channel: Channel::Web.code().to_owned(),
        caller: CallerInput {
            customer_id,
            phone: Some(phone.as_str().to_owned()),
            name: customer_id.is_none().then(|| form.name.trim().to_owned()),
            address: customer_id
                .is_none()
                .then(|| form.address.trim().to_owned()),
            address_unit_id: customer_id
                .is_none()
                .then(|| form.area.trim().parse::<i64>().ok())
                .flatten(),
        },
        appeal_type,
        sub_category: sub,
        content: form.content.trim().to_owned(),
        priority: None,
        major_reason: None,
    };
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(form.key.trim()) {
        headers.insert(IDEMPOTENCY_KEY_HEADER, v);
    }
    let resp = workorder::intake(State(state.clone()), caller, headers, JsonBody(request))
        .await?
        .into_response();
    resp.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.rsplit('/').next())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::internal("intake answered without a Location"))
}

/// The order of `number` for `phone`, as its customer sees it; `Err` carries the message.
async fn look_up(
    state: &AppState,
    s: &SelfText,
    lang: Lang,
    form: &TrackForm,
) -> Result<Result<(TrackView, i64), String>, ApiError> {
    let Ok(number) = OrderNumber::parse(form.number.trim()) else {
        return Ok(Err(s.bad_number.to_owned()));
    };
    let Ok(phone) = Phone::parse(&form.phone) else {
        return Ok(Err(s.bad_phone.to_owned()));
    };
    let caller = portal::caller(state).await?;
    let Some(stored) = portal::own_order(state, &caller, &number, &phone).await? else {
        return Ok(Err(s.not_found.to_owned()));
    };
    let o = &stored.order;
    let timeline = state.store.timeline(&number, &caller.scope).await?;
    let events: Vec<_> = timeline.into_iter().map(|e| e.event).collect();
    let status = customer_status(o.state);
    let settings = state.intake_settings().await?;
    let about = settings
        .catalogue
        .get(&o.sub_category)
        .map(|sub| match lang {
            Lang::Zh => sub.name_zh.clone(),
            Lang::En => sub.name_en.clone(),
        })
        .unwrap_or_else(|| o.sub_category.as_str().to_owned());
    let answer = match (&o.reply, answer_is_final(o.state)) {
        (Some(r), true) => vec![
            (s.actions_taken.to_owned(), r.actions_taken.clone()),
            (s.result.to_owned(), r.result_and_feedback.clone()),
        ],
        _ => Vec::new(),
    };
    let rating = o
        .customer_rating
        .as_ref()
        .map(|r| {
            let label = lang.pick(r.satisfaction.label_zh(), r.satisfaction.label_en());
            match &r.comment {
                Some(c) => format!("{label} · {c}"),
                None => label.to_owned(),
            }
        })
        .unwrap_or_default();
    let view = TrackView {
        number: o.number.to_string(),
        status: lang.pick(status.label_zh(), status.label_en()).to_owned(),
        status_class: status.code(),
        taken_at: shanghai_time(o.opened_at),
        about,
        content: o.content.clone(),
        steps: customer_steps(&events)
            .into_iter()
            .map(|(at, step)| {
                (
                    shanghai_time(at),
                    lang.pick(step.label_zh(), step.label_en()).to_owned(),
                )
            })
            .collect(),
        answer,
        can_rate: o.customer_rating.is_none()
            && allowed_actions(o.state).contains(&Action::CustomerRate),
        rating,
        thanks: false,
        rate_error: String::new(),
    };
    let version = i64::try_from(o.version).unwrap_or(i64::MAX);
    Ok(Ok((view, version)))
}

fn track_page(page: &mut SelfPage, form: &TrackForm) {
    page.track_number = form.number.trim().to_owned();
    page.track_phone = form.phone.trim().to_owned();
}

/// POST /self/track: the order's state and steps for its customer.
pub async fn track(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<TrackForm>,
) -> Response {
    let ctx = Ctx::of(&headers);
    let s = ctx.s();
    let mut page = match blank(&state, &ctx).await {
        Ok(p) => p,
        Err(e) => return broken(e),
    };
    track_page(&mut page, &form);
    if let Err(m) = gate(&state, &ctx, ip, Traffic::Read, &form.csrf) {
        page.track_message = m.clone();
        return respond(&state, &ctx, status_of(&m, s), &page);
    }
    match look_up(&state, s, ctx.lang, &form).await {
        Ok(Ok((view, _))) => {
            page.found = Some(view);
            respond(&state, &ctx, StatusCode::OK, &page)
        }
        Ok(Err(m)) => {
            page.track_message = m;
            respond(&state, &ctx, StatusCode::NOT_FOUND, &page)
        }
        Err(e) => broken(e),
    }
}

/// POST /self/rate: the customer's rating of the approved answer (`customer_rate`).
pub async fn rate(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<TrackForm>,
) -> Response {
    let ctx = Ctx::of(&headers);
    let s = ctx.s();
    let mut page = match blank(&state, &ctx).await {
        Ok(p) => p,
        Err(e) => return broken(e),
    };
    track_page(&mut page, &form);
    if let Err(m) = gate(&state, &ctx, ip, Traffic::Read, &form.csrf) {
        page.track_message = m.clone();
        return respond(&state, &ctx, status_of(&m, s), &page);
    }
    let (mut view, version) = match look_up(&state, s, ctx.lang, &form).await {
        Ok(Ok(found)) => found,
        Ok(Err(m)) => {
            page.track_message = m;
            return respond(&state, &ctx, StatusCode::NOT_FOUND, &page);
        }
        Err(e) => return broken(e),
    };
    let score = form
        .satisfaction
        .trim()
        .parse::<u8>()
        .ok()
        .and_then(Satisfaction::from_score);
    let comment: String = form.comment.trim().chars().take(MAX_NOTE_LEN).collect();
    let Some(satisfaction) = score else {
        view.rate_error = s.need_satisfaction.into();
        page.found = Some(view);
        return respond(&state, &ctx, StatusCode::BAD_REQUEST, &page);
    };
    let outcome = match portal::caller(&state).await {
        Ok(caller) => {
            let cmd = Command::CustomerRate {
                satisfaction,
                comment,
            };
            workorder::act(&state, &caller, &view.number, version, cmd).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => match look_up(&state, s, ctx.lang, &form).await {
            Ok(Ok((mut after, _))) => {
                after.thanks = true;
                page.found = Some(after);
                respond(&state, &ctx, StatusCode::OK, &page)
            }
            Ok(Err(m)) => {
                page.track_message = m;
                respond(&state, &ctx, StatusCode::NOT_FOUND, &page)
            }
            Err(e) => broken(e),
        },
        Err(e) => {
            view.rate_error = format!("{} {}", s.failed, e.problem().detail);
            let status = e.code().status();
            page.found = Some(view);
            respond(&state, &ctx, status, &page)
        }
    }
}
