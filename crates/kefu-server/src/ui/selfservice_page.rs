//! The self-service page's model: what `self.html` shows, the portal's double-submit CSRF
//! cookie, and the blank page every handler starts from.

use std::collections::HashMap;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_domain::org::OrgLevel;
use kefu_domain::workorder::Satisfaction;

use super::Lang;
use super::order_view::{Choice, sub_category_choices};
use super::selfservice_text::SelfText;
use super::view::render;
use crate::AppState;
use crate::error::ApiError;
use crate::selfservice as portal;
use crate::token::constant_time_eq;

/// The portal's CSRF cookie.
const CSRF_COOKIE: &str = "kefu_self_csrf";

/// A found order, as its customer sees it.
pub struct TrackView {
    pub(super) number: String,
    pub(super) status: String,
    pub(super) status_class: &'static str,
    pub(super) taken_at: String,
    pub(super) about: String,
    pub(super) content: String,
    pub(super) steps: Vec<(String, String)>,
    pub(super) answer: Vec<(String, String)>,
    pub(super) can_rate: bool,
    pub(super) rating: String,
    pub(super) thanks: bool,
    pub(super) rate_error: String,
}

#[derive(Template)]
#[template(path = "self.html")]
pub(super) struct SelfPage {
    pub(super) s: &'static SelfText,
    pub(super) lang: &'static str,
    pub(super) switch_href: String,
    pub(super) csrf: String,
    /// 1: ask for a code; 2: the appeal form.
    pub(super) stage: u8,
    pub(super) key: String,
    pub(super) phone: String,
    pub(super) demo_code: String,
    pub(super) code_sent: bool,
    pub(super) submit_message: String,
    pub(super) submitted: String,
    /// Supply areas (counties) grouped by city.
    pub(super) areas: Vec<(String, Vec<Choice>)>,
    pub(super) sub_categories: Vec<Choice>,
    pub(super) typed: HashMap<String, String>,
    pub(super) errors: HashMap<String, String>,
    pub(super) track_number: String,
    pub(super) track_phone: String,
    pub(super) track_message: String,
    pub(super) found: Option<TrackView>,
    pub(super) scores: Vec<Choice>,
}

impl SelfPage {
    fn typed(&self, field: &str) -> String {
        self.typed.get(field).cloned().unwrap_or_default()
    }

    fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    fn chosen(&self, field: &str, value: &str) -> bool {
        self.typed.get(field).is_some_and(|v| v == value)
    }
}

pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub(super) fn lang_of(headers: &HeaderMap) -> Lang {
    let mut req = axum::http::Request::new(());
    *req.headers_mut() = headers.clone();
    let (parts, ()) = req.into_parts();
    Lang::of(&parts)
}

pub(super) fn random_hex() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The request's CSRF token, or a new one (set as a cookie by `respond`).
pub(super) struct Csrf {
    pub(super) token: String,
    pub(super) fresh: bool,
}

impl Csrf {
    pub(super) fn of(headers: &HeaderMap) -> Csrf {
        match cookie(headers, CSRF_COOKIE) {
            Some(token) => Csrf {
                token,
                fresh: false,
            },
            None => Csrf {
                token: random_hex(),
                fresh: true,
            },
        }
    }

    pub(super) fn matches(&self, sent: &str) -> bool {
        !self.fresh && constant_time_eq(sent.trim().as_bytes(), self.token.as_bytes())
    }
}

/// Everything a page needs besides its own state.
pub(super) struct Ctx {
    pub(super) lang: Lang,
    pub(super) csrf: Csrf,
}

impl Ctx {
    pub(super) fn of(headers: &HeaderMap) -> Ctx {
        Ctx {
            lang: lang_of(headers),
            csrf: Csrf::of(headers),
        }
    }

    pub(super) fn s(&self) -> &'static SelfText {
        self.lang.s()
    }
}

pub(super) async fn blank(state: &AppState, ctx: &Ctx) -> Result<SelfPage, ApiError> {
    let lang = ctx.lang;
    let caller = portal::caller(state).await?;
    let units = state.store.list_org_units(&caller.scope).await?;
    // Counties grouped under their city: a county's own name is what customers know.
    let mut counties: Vec<_> = units
        .iter()
        .filter(|u| u.level == OrgLevel::County)
        .collect();
    counties.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    let mut areas: Vec<(String, Vec<Choice>)> = Vec::new();
    for u in counties {
        let city = u
            .parent_id
            .and_then(|p| units.iter().find(|c| c.id == p))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let choice = Choice {
            value: u.id.0.to_string(),
            label: u.name.clone(),
        };
        match areas.last_mut() {
            Some((last, list)) if *last == city => list.push(choice),
            _ => areas.push((city, vec![choice])),
        }
    }
    let settings = state.intake_settings().await?;
    Ok(SelfPage {
        s: lang.s(),
        lang: lang.html_code(),
        switch_href: format!("/self/lang/{}", lang.other().code()),
        csrf: ctx.csrf.token.clone(),
        stage: 1,
        key: format!("self-{}", random_hex()),
        phone: String::new(),
        demo_code: String::new(),
        code_sent: false,
        submit_message: String::new(),
        submitted: String::new(),
        areas,
        sub_categories: sub_category_choices(lang, &settings.catalogue),
        typed: HashMap::new(),
        errors: HashMap::new(),
        track_number: String::new(),
        track_phone: String::new(),
        track_message: String::new(),
        found: None,
        scores: Satisfaction::ALL
            .iter()
            .map(|s| Choice {
                value: s.score().to_string(),
                label: lang.pick(s.label_zh(), s.label_en()).to_owned(),
            })
            .collect(),
    })
}

/// Renders the page, setting the CSRF cookie when the request had none.
pub(super) fn respond(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    page: &SelfPage,
) -> Response {
    let mut resp = render(status, page);
    if ctx.csrf.fresh {
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let c = format!(
            "{CSRF_COOKIE}={}; Path=/self; HttpOnly; SameSite=Strict{secure}",
            ctx.csrf.token
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// A page that could not be built (the store failed): the plain error status.
pub(super) fn broken(e: ApiError) -> Response {
    e.into_response()
}
