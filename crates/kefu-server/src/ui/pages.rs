//! The page handlers. Each one calls the JSON API's handler for the data (so permission checks,
//! scoping, masking and auditing are shared) and renders a template with the result.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kefu_domain::customer::SpecialDateKind;
use serde::Deserialize;

use super::order_intake::{IntakeForm, IntakeFormView};
use super::order_text::OrderText;
use super::order_view::OrderRow;
use super::view::{CustomerView, EventView, TopBar, error_message, render, url_encode};
use super::{LANG_COOKIE, Lang, Text, Viewer, is_local_page};
use crate::AppState;
use crate::auth::handlers::{
    PasswordChange, cleared_session_cookie, replace_password, sign_in, start_session,
};
use crate::auth::{AuthMethod, Caller};
use crate::customer::{self, CustomerQuery, SpecialDatesQuery};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{self, ClientIp};
use crate::staff::PageParams;
use crate::workorder::{self, OrderQuery};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{Action, Catalogue, roles_for};

/// The page a signed-in person lands on.
const HOME: &str = "/ui/workbench";
/// The longest history shown on the customer page (older events: the API pages further).
const HISTORY_ON_PAGE: u32 = 200;
/// The customer's newest orders shown on their page.
const ORDERS_ON_PAGE: u32 = 20;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: &'static Text,
    lang: &'static str,
    switch_href: String,
    next: String,
    username: String,
    message: String,
    demo: bool,
}

impl LoginPage {
    fn new(state: &AppState, lang: Lang, next: &str) -> Self {
        let here = format!("/ui/login?next={}", url_encode(next));
        LoginPage {
            t: lang.t(),
            lang: lang.html_code(),
            switch_href: format!(
                "/ui/lang/{}?next={}",
                lang.other().code(),
                url_encode(&here)
            ),
            next: next.to_owned(),
            username: String::new(),
            message: String::new(),
            demo: state.config.demo,
        }
    }
}

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn safe_next(next: Option<&str>) -> &str {
    next.filter(|n| is_local_page(n)).unwrap_or(HOME)
}

/// GET /ui/login
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let lang = lang_of(&headers);
    render(
        StatusCode::OK,
        &LoginPage::new(&state, lang, safe_next(q.next.as_deref())),
    )
}

/// The sign-in form (no `Debug`: it holds a password).
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Browsers send `Sec-Fetch-Site` / `Origin` on form posts; a post from another site is refused
/// so nobody can sign a visitor into an account of theirs (login CSRF).
fn same_origin(headers: &HeaderMap) -> bool {
    let site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| matches!(v, "same-origin" | "none"));
    let origin_ok = match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or("");
            let host = host.to_str().unwrap_or("");
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        }
        _ => true,
    };
    site_ok && origin_ok
}

/// POST /ui/login
pub async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let next = safe_next(form.next.as_deref()).to_owned();
    let mut page = LoginPage::new(&state, lang, &next);
    page.username = form.username.chars().take(64).collect();
    if !same_origin(&headers) {
        page.message = lang.t().forbidden.to_owned();
        return render(StatusCode::FORBIDDEN, &page);
    }
    let result = match sign_in(&state, ip, &form.username, form.password).await {
        Ok(staff) => start_session(&state, &staff).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((cookie, _)) => ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response(),
        Err(e) => {
            let status = e.code().status();
            page.message = match e.code() {
                ErrorCode::RateLimited => {
                    format!("{}{}", lang.t().rate_limited, e.retry_after().unwrap_or(60))
                }
                _ => error_message(lang.t(), &e),
            };
            render(status, &page)
        }
    }
}

/// A form that only carries the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// POST /ui/logout
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !viewer.caller.csrf_matches(&form.csrf) {
        return forbidden_page(&viewer);
    }
    if let AuthMethod::Session { token_hash, .. } = &viewer.caller.method
        && let Err(e) = state.store.delete_session(token_hash).await
    {
        return ApiError::from(e).into_response();
    }
    match cleared_session_cookie(&state) {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/login")).into_response(),
        Err(e) => e.into_response(),
    }
}

/// GET /ui/lang/{zh|en}?next=…: remembers the language for a year.
pub async fn switch_language(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = if code == "en" { Lang::En } else { Lang::Zh };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    let next = safe_next(q.next.as_deref()).to_owned();
    match HeaderValue::from_str(&cookie) {
        Ok(v) => ([(header::SET_COOKIE, v)], Redirect::to(&next)).into_response(),
        Err(_) => Redirect::to(&next).into_response(),
    }
}

fn lang_of(headers: &HeaderMap) -> Lang {
    let mut req = axum::http::Request::new(());
    *req.headers_mut() = headers.clone();
    let (parts, ()) = req.into_parts();
    Lang::of(&parts)
}

/// Org unit names in the viewer's scope, by id (for the top bar and the supply-unit column).
pub(super) async fn unit_names(
    state: &AppState,
    caller: &Caller,
) -> Result<HashMap<i64, String>, ApiError> {
    let units = state.store.list_org_units(&caller.scope).await?;
    Ok(units.into_iter().map(|u| (u.id.0, u.name)).collect())
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    t: &'static Text,
    lang: &'static str,
    title: String,
    top: TopBar,
    message: String,
}

pub(super) fn message_page(viewer: &Viewer, status: StatusCode, message: String) -> Response {
    let lang = viewer.lang;
    let page = MessagePage {
        t: lang.t(),
        lang: lang.html_code(),
        title: lang.t().error.to_owned(),
        top: TopBar::new(viewer, &HashMap::new(), HOME),
        message,
    };
    render(status, &page)
}

pub(super) fn forbidden_page(viewer: &Viewer) -> Response {
    message_page(
        viewer,
        StatusCode::FORBIDDEN,
        viewer.lang.t().forbidden.to_owned(),
    )
}

pub(super) fn api_error_page(viewer: &Viewer, e: &ApiError) -> Response {
    message_page(viewer, e.code().status(), error_message(viewer.lang.t(), e))
}

/// What the workbench search box sends.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct WorkbenchQuery {
    /// `phone`, `account`, `id_number` or `name`.
    by: Option<String>,
    /// The text typed.
    q: Option<String>,
    /// The screen-pop: `/ui/workbench?phone=…` opens with the caller's customers found.
    phone: Option<String>,
    cursor: Option<String>,
}

struct SpecialDateRow {
    on: String,
    kind: String,
    customer_id: i64,
    name: String,
    account_number: String,
}

#[derive(Template)]
#[template(path = "workbench.html")]
struct WorkbenchPage {
    t: &'static Text,
    lang: &'static str,
    title: String,
    top: TopBar,
    by: String,
    q: String,
    searched: bool,
    message: String,
    results: Vec<CustomerView>,
    masked: bool,
    next_href: String,
    upcoming: Vec<SpecialDateRow>,
    o: &'static OrderText,
    form: Option<IntakeFormView>,
    address_units: Vec<super::order_view::Choice>,
    csrf: String,
}

impl WorkbenchQuery {
    fn to_api(&self) -> Option<(String, String, CustomerQuery)> {
        let (by, q) = match (&self.phone, &self.by, &self.q) {
            (Some(p), _, _) => ("phone".to_owned(), p.trim().to_owned()),
            (None, Some(by), Some(q)) if !q.trim().is_empty() => (by.clone(), q.trim().to_owned()),
            _ => return None,
        };
        let mut api = CustomerQuery {
            phone: None,
            account: None,
            id_number: None,
            name: None,
            include_retired: Some(true),
            limit: Some(50),
            cursor: self.cursor.clone(),
        };
        match by.as_str() {
            "account" => api.account = Some(q.clone()),
            "id_number" => api.id_number = Some(q.clone()),
            "name" => api.name = Some(q.clone()),
            _ => api.phone = Some(q.clone()),
        }
        Some((by, q, api))
    }
}

/// GET /ui/workbench: the screen-pop and customer search, plus upcoming special dates.
pub async fn workbench(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(wq): Query<WorkbenchQuery>,
) -> Response {
    workbench_with(&state, &viewer, wq, None).await
}

/// The workbench; `refusal` is a refused new-order form for an unidentified caller, shown
/// again with the server's field errors and what was typed.
pub(super) async fn workbench_with(
    state: &AppState,
    viewer: &Viewer,
    wq: WorkbenchQuery,
    refusal: Option<(ApiError, &IntakeForm)>,
) -> Response {
    let state = state.clone();
    let lang = viewer.lang;
    let t = lang.t();
    let units = match unit_names(&state, &viewer.caller).await {
        Ok(u) => u,
        Err(e) => return api_error_page(viewer, &e),
    };
    let top = TopBar::new(viewer, &units, HOME);
    let takes_appeals = roles_for(Action::Intake)
        .iter()
        .any(|r| viewer.caller.roles.has(*r));
    let mut status = StatusCode::OK;
    let form = if takes_appeals {
        let cat = catalogue(&state).await;
        let mut f = IntakeFormView::new(lang, &cat, wq.phone.as_deref().unwrap_or(""));
        if let Some((e, typed)) = &refusal {
            status = e.code().status();
            f.message = error_message(t, e);
            f.typed = typed.typed();
            for fe in &e.problem().errors {
                f.errors.insert(fe.field.clone(), fe.reason.clone());
            }
        }
        Some(f)
    } else {
        None
    };
    let mut address_units: Vec<super::order_view::Choice> = units
        .iter()
        .map(|(id, name)| super::order_view::Choice {
            value: id.to_string(),
            label: name.clone(),
        })
        .collect();
    address_units.sort_by(|a, b| a.label.cmp(&b.label));
    let mut page = WorkbenchPage {
        t,
        o: lang.o(),
        csrf: top.csrf.clone(),
        form,
        address_units,
        lang: lang.html_code(),
        title: t.workbench.to_owned(),
        top,
        by: wq.by.clone().unwrap_or_else(|| "phone".to_owned()),
        q: wq
            .q
            .clone()
            .or_else(|| wq.phone.clone())
            .unwrap_or_default(),
        searched: false,
        message: String::new(),
        results: Vec::new(),
        masked: !viewer.caller.sees_personal_data(),
        next_href: String::new(),
        upcoming: Vec::new(),
    };
    if let Some((by, q, api)) = wq.to_api() {
        page.searched = true;
        page.by = by.clone();
        match customer::list_customers(
            State(state.clone()),
            viewer.caller.clone(),
            extract::Query(api),
        )
        .await
        {
            Ok(found) => {
                page.results = found
                    .0
                    .items
                    .iter()
                    .map(|c| CustomerView::new(c, lang, &units))
                    .collect();
                if let Some(next) = &found.0.next_cursor {
                    page.next_href = format!(
                        "/ui/workbench?by={}&q={}&cursor={}",
                        url_encode(&by),
                        url_encode(&q),
                        url_encode(next)
                    );
                }
            }
            Err(e) => {
                status = e.code().status();
                page.message = error_message(t, &e);
            }
        }
    }
    let window = SpecialDatesQuery {
        from: None,
        days: Some(7),
        limit: Some(20),
    };
    if let Ok(hits) = customer::special_dates(
        State(state.clone()),
        viewer.caller.clone(),
        extract::Query(window),
    )
    .await
    {
        page.upcoming = hits
            .0
            .items
            .iter()
            .map(|h| SpecialDateRow {
                on: h.on.format("%m-%d").to_string(),
                kind: SpecialDateKind::from_code(&h.special_date.kind).map_or_else(
                    || h.special_date.kind.clone(),
                    |k| lang.pick(k.label_zh(), k.label_en()).to_owned(),
                ),
                customer_id: h.customer.id,
                name: h.customer.name.clone(),
                account_number: h.customer.account_number.clone(),
            })
            .collect();
    }
    render(status, &page)
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    t: &'static Text,
    o: &'static OrderText,
    lang: &'static str,
    title: String,
    top: TopBar,
    c: CustomerView,
    history: Vec<EventView>,
    orders: Vec<OrderRow>,
    form: Option<IntakeFormView>,
    csrf: String,
}

/// GET /ui/customers/{id}: the profile, the customer's orders, the new-order form for those who
/// take appeals, and the history of changes.
pub async fn customer_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(raw_id): Path<String>,
) -> Response {
    let Some(id) = raw_id.parse::<i64>().ok().filter(|i| *i > 0) else {
        return message_page(
            &viewer,
            StatusCode::NOT_FOUND,
            viewer.lang.t().not_found.to_owned(),
        );
    };
    customer_page_with(&state, &viewer, id, None).await
}

/// The customer page; `refusal` is a refused new-order form with what was typed.
pub(super) async fn customer_page_with(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    refusal: Option<(ApiError, &IntakeForm)>,
) -> Response {
    let lang = viewer.lang;
    let units = match unit_names(state, &viewer.caller).await {
        Ok(u) => u,
        Err(e) => return api_error_page(viewer, &e),
    };
    let dto = match customer::get_customer(
        State(state.clone()),
        viewer.caller.clone(),
        extract::PathId(id),
    )
    .await
    {
        Ok(c) => c.0,
        Err(e) => return api_error_page(viewer, &e),
    };
    let params = PageParams {
        limit: Some(HISTORY_ON_PAGE),
        cursor: None,
    };
    let history = match customer::customer_history(
        State(state.clone()),
        viewer.caller.clone(),
        extract::PathId(id),
        extract::Query(params),
    )
    .await
    {
        Ok(h) => h.0.items,
        Err(e) => return api_error_page(viewer, &e),
    };
    let staff_names = staff_names(state, &viewer.caller).await;
    let cat = catalogue(state).await;
    let query = OrderQuery {
        customer_id: Some(id),
        limit: Some(ORDERS_ON_PAGE),
        ..OrderQuery::default()
    };
    let orders = match workorder::list_orders(
        State(state.clone()),
        viewer.caller.clone(),
        extract::Query(query),
    )
    .await
    {
        Ok(p) => {
            p.0.items
                .iter()
                .map(|o| OrderRow::new(o, lang, &units, &cat))
                .collect()
        }
        Err(_) => Vec::new(),
    };
    let takes_appeals = roles_for(Action::Intake)
        .iter()
        .any(|r| viewer.caller.roles.has(*r));
    let mut status = StatusCode::OK;
    let form = takes_appeals.then(|| {
        let mut f = IntakeFormView::new(lang, &cat, dto.phones.first().map_or("", String::as_str));
        if let Some((e, typed)) = &refusal {
            status = e.code().status();
            f.message = error_message(lang.t(), e);
            f.typed = typed.typed();
            for fe in &e.problem().errors {
                f.errors.insert(fe.field.clone(), fe.reason.clone());
            }
        }
        f
    });
    let here = format!("/ui/customers/{id}");
    let top = TopBar::new(viewer, &units, &here);
    let page = CustomerPage {
        t: lang.t(),
        o: lang.o(),
        lang: lang.html_code(),
        title: format!("{} · {}", dto.name, lang.t().profile),
        csrf: top.csrf.clone(),
        top,
        c: CustomerView::new(&dto, lang, &units),
        history: history
            .iter()
            .rev()
            .map(|e| EventView::new(e, lang, &staff_names, &units))
            .collect(),
        orders,
        form,
    };
    render(status, &page)
}

/// Display names of staff for "who" columns: the whole tree's (a timeline or history shows
/// people of units above the viewer too); the first page suffices in practice, and unknown or
/// failed names show the actor's id instead.
pub(super) async fn staff_names(state: &AppState, caller: &Caller) -> HashMap<i64, String> {
    let page = kefu_store::PageRequest::new(None, Some(kefu_store::MAX_PAGE_SIZE));
    let root = caller
        .scope
        .ids()
        .first()
        .map_or_else(|| caller.scope.clone(), |id| OrgPath::root(*id));
    match state.store.list_staff(&root, page).await {
        Ok(p) => p
            .items
            .into_iter()
            .map(|s| (s.id.0, s.display_name))
            .collect(),
        Err(_) => HashMap::new(),
    }
}

/// The current catalogue from the cached intake settings (the defaults if it cannot be read,
/// so a page still renders).
pub(super) async fn catalogue(state: &AppState) -> Catalogue {
    state
        .intake_settings()
        .await
        .map_or_else(|_| Catalogue::defaults(), |s| s.catalogue.clone())
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    t: &'static Text,
    lang: &'static str,
    title: String,
    top: TopBar,
    message: String,
    done: bool,
}

fn password_page(
    state_units: &HashMap<i64, String>,
    viewer: &Viewer,
    message: String,
    done: bool,
) -> PasswordPage {
    let t = viewer.lang.t();
    PasswordPage {
        t,
        lang: viewer.lang.html_code(),
        title: t.change_password.to_owned(),
        top: TopBar::new(viewer, state_units, "/ui/password"),
        message,
        done,
    }
}

/// GET /ui/password
pub async fn password_form(State(state): State<AppState>, viewer: Viewer) -> Response {
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    render(
        StatusCode::OK,
        &password_page(&units, &viewer, String::new(), false),
    )
}

/// The password form (no `Debug`: it holds passwords).
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
    repeat_password: String,
}

/// POST /ui/password
pub async fn password_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<PasswordForm>,
) -> Response {
    if !viewer.caller.csrf_matches(&form.csrf) {
        return forbidden_page(&viewer);
    }
    let t = viewer.lang.t();
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    if form.new_password != form.repeat_password {
        let page = password_page(&units, &viewer, t.passwords_differ.to_owned(), false);
        return render(StatusCode::BAD_REQUEST, &page);
    }
    let change = PasswordChange {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match replace_password(&state, &viewer.caller, change).await {
        Ok((cookie, session)) => {
            // The new session has a new CSRF token: the page must carry it.
            let mut page = password_page(&units, &viewer, t.password_changed.to_owned(), true);
            page.top.csrf = session.csrf_token;
            let mut resp = render(StatusCode::OK, &page);
            resp.headers_mut().insert(header::SET_COOKIE, cookie);
            resp
        }
        Err(e) => {
            let message = if e
                .problem()
                .errors
                .iter()
                .any(|f| f.field == "current_password")
            {
                t.wrong_current_password.to_owned()
            } else {
                error_message(t, &e)
            };
            render(
                e.code().status(),
                &password_page(&units, &viewer, message, false),
            )
        }
    }
}
