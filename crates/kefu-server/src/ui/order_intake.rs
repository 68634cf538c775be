//! The new-order form's target (issue 8 item 2): takes the appeal through the API with the
//! form's idempotency key, so a double submit takes it once.

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use kefu_domain::customer::Phone;
use kefu_domain::workorder::{Catalogue, Channel, Priority};
use serde::Deserialize;
use serde_json::json;

use super::order_page::parse_body;
use super::order_view::{Choice, choices, sub_category_choices};
use super::orders::nonempty;
use super::{Lang, Viewer};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::workorder::{self};

/// The new-order form (on the customer page).
#[derive(Debug, Default, Deserialize)]
pub struct IntakeForm {
    csrf: String,
    /// A key made when the form was drawn: submitting twice takes the appeal once.
    key: String,
    customer_id: Option<String>,
    phone: Option<String>,
    channel: Option<String>,
    sub_category: Option<String>,
    content: Option<String>,
    priority: Option<String>,
    major_reason: Option<String>,
    /// An unidentified caller (no `customer_id`): the name given.
    name: Option<String>,
    /// The address given.
    address: Option<String>,
    /// The unit that owns the address.
    address_unit_id: Option<String>,
}

/// POST /ui/orders: takes the appeal through the API (with the form's idempotency key) and
/// opens the new order; a refusal goes back to the customer page with the message.
pub async fn take(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<IntakeForm>,
) -> Response {
    if !viewer.caller.csrf_matches(&form.csrf) {
        return super::pages::forbidden_page(&viewer);
    }
    let sub = nonempty(&form.sub_category).unwrap_or_default();
    let appeal_type = sub
        .split_once('.')
        .map(|(t, _)| t.to_owned())
        .unwrap_or_default();
    let customer_id = nonempty(&form.customer_id).and_then(|c| c.parse::<i64>().ok());
    let body = json!({
        "channel": nonempty(&form.channel).unwrap_or_else(|| Channel::Phone95598.code().to_owned()),
        "caller": {
            "customer_id": customer_id,
            "phone": nonempty(&form.phone).map(|p| Phone::parse(&p).map_or(p, |p| p.as_str().to_owned())),
            "name": customer_id.is_none().then(|| nonempty(&form.name)).flatten(),
            "address": customer_id.is_none().then(|| nonempty(&form.address)).flatten(),
            "address_unit_id": customer_id
                .is_none()
                .then(|| nonempty(&form.address_unit_id).and_then(|u| u.parse::<i64>().ok()))
                .flatten(),
        },
        "appeal_type": appeal_type,
        "sub_category": sub,
        "content": nonempty(&form.content).unwrap_or_default(),
        "priority": nonempty(&form.priority).unwrap_or_else(|| Priority::Normal.code().to_owned()),
        "major_reason": nonempty(&form.major_reason),
    });
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(form.key.trim()) {
        headers.insert(workorder::IDEMPOTENCY_KEY_HEADER, v);
    }
    let request: Result<workorder::dto::IntakeRequest, ApiError> = parse_body(body);
    let outcome = match request {
        Ok(r) => workorder::intake(
            State(state.clone()),
            viewer.caller.clone(),
            headers,
            JsonBody(r),
        )
        .await
        .map(IntoResponse::into_response),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(resp) => {
            let location = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.rsplit('/').next())
                .map(|n| format!("/ui/orders/{n}"))
                .unwrap_or_else(|| "/ui/orders".to_owned());
            Redirect::to(&location).into_response()
        }
        Err(e) => match customer_id {
            Some(id) => {
                super::pages::customer_page_with(&state, &viewer, id, Some((e, &form))).await
            }
            None => {
                let wq = super::pages::WorkbenchQuery::default();
                super::pages::workbench_with(&state, &viewer, wq, Some((e, &form))).await
            }
        },
    }
}

impl IntakeForm {
    /// What was typed, to fill the form again after a refusal.
    pub fn typed(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for (k, v) in [
            ("phone", &self.phone),
            ("channel", &self.channel),
            ("sub_category", &self.sub_category),
            ("content", &self.content),
            ("priority", &self.priority),
            ("major_reason", &self.major_reason),
            ("name", &self.name),
            ("address", &self.address),
            ("address_unit_id", &self.address_unit_id),
        ] {
            if let Some(v) = v {
                m.insert(k.to_owned(), v.clone());
            }
        }
        m
    }
}

/// The options and defaults of the new-order form on a customer page.
pub struct IntakeFormView {
    pub key: String,
    pub channels: Vec<Choice>,
    pub sub_categories: Vec<Choice>,
    pub priorities: Vec<Choice>,
    pub phone: String,
    pub message: String,
    pub typed: HashMap<String, String>,
    pub errors: HashMap<String, String>,
}

impl IntakeFormView {
    /// A fresh form (new idempotency key) for a customer reached at `phone`.
    pub fn new(lang: Lang, cat: &Catalogue, phone: &str) -> Self {
        IntakeFormView {
            key: format!("ui-{}", uuid_like()),
            channels: choices(
                lang,
                Channel::ALL,
                Channel::code,
                Channel::label_zh,
                Channel::label_en,
            ),
            sub_categories: sub_category_choices(lang, cat),
            priorities: choices(
                lang,
                Priority::ALL,
                Priority::code,
                Priority::label_zh,
                Priority::label_en,
            ),
            phone: phone.to_owned(),
            message: String::new(),
            typed: HashMap::new(),
            errors: HashMap::new(),
        }
    }

    /// What was typed into `field` (empty when nothing was).
    pub fn typed(&self, field: &str) -> String {
        self.typed.get(field).cloned().unwrap_or_default()
    }

    /// The server's reason for refusing `field`.
    pub fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    /// Whether `value` is the selected option of `field`.
    pub fn chosen(&self, field: &str, value: &str, default: &str) -> bool {
        match self.typed.get(field) {
            Some(t) => t == value,
            None => value == default,
        }
    }
}

/// 128 random bits as hex: the new-order form's idempotency key.
fn uuid_like() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
