//! The route table and the OpenAPI 3.1 document, built together by `utoipa-axum` so that a
//! route cannot exist without its documentation (and vice versa).

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, SecurityRequirement};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::handlers as auth;
use crate::{
    AppState, board, calendar, catalogue, customer, health, import, knowledge, metrics, org,
    search, staff, workorder,
};

/// Document-level settings: title, tags and the two ways to authenticate.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "kefu API",
        description = "95598 customer-service platform: org tree, staff, customer archive, work orders, their catalogue and major rules, the working calendar and time limits. \
            Errors are RFC 9457 problem+json documents with a stable `code`.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Sign-in, sessions, password"),
        (name = "org", description = "Org tree and departments"),
        (name = "staff", description = "Staff accounts"),
        (name = "customer", description = "Customer archive"),
        (name = "work-order", description = "Work orders: intake, lifecycle actions, timeline"),
        (name = "settings", description = "Sub-category catalogue, major-appeal rules, working calendar and time limits, versioned"),
        (name = "search", description = "Full-text search over work orders, the segmenter's user dictionary"),
        (name = "knowledge", description = "Knowledge base: articles, review workflow, citations from work orders"),
        (name = "ops", description = "Health, metrics, this document"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut OpenApiDoc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Session cookie from POST /api/v1/auth/login; writes also need X-CSRF-Token",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API token `kefu_…` from `kefu admin create-token`"))
                    .build(),
            ),
        );
        doc.security = Some(vec![
            SecurityRequirement::new("session", Vec::<String>::new()),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
        ]);
    }
}

/// Every route of the app with its documentation.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(metrics::metrics_text))
        .routes(routes!(openapi_json))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(org::list_orgs, org::create_org))
        .routes(routes!(org::create_department))
        .routes(routes!(staff::list_staff, staff::create_staff))
        .routes(routes!(staff::get_staff))
        .routes(routes!(customer::list_customers, customer::create_customer))
        .routes(routes!(customer::special_dates))
        .routes(routes!(customer::get_customer, customer::update_customer))
        .routes(routes!(customer::retire_customer))
        .routes(routes!(customer::reinstate_customer))
        .routes(routes!(customer::customer_history))
        .routes(routes!(import::upload_customers))
        .routes(routes!(import::get_import))
        .routes(routes!(import::import_report))
        .routes(routes!(workorder::list_orders, workorder::intake))
        .routes(routes!(workorder::get_order))
        .routes(routes!(workorder::preview::preview))
        .routes(routes!(workorder::dispatch))
        .routes(routes!(workorder::reclassify))
        .routes(routes!(workorder::accept))
        .routes(routes!(workorder::return_order))
        .routes(routes!(workorder::chase))
        .routes(routes!(workorder::supervise))
        .routes(routes!(workorder::reply))
        .routes(routes!(workorder::review))
        .routes(routes!(workorder::visit))
        .routes(routes!(workorder::reopen))
        .routes(routes!(workorder::archive))
        .routes(routes!(workorder::assist))
        .routes(routes!(workorder::flag_major))
        .routes(routes!(workorder::contact))
        .routes(routes!(workorder::arrive))
        .routes(routes!(workorder::suspend))
        .routes(routes!(workorder::resume))
        .routes(routes!(board::board))
        .routes(routes!(catalogue::get_catalogue, catalogue::save_catalogue))
        .routes(routes!(catalogue::catalogue_history))
        .routes(routes!(
            catalogue::get_major_rules,
            catalogue::save_major_rules
        ))
        .routes(routes!(catalogue::major_rules_history))
        .routes(routes!(calendar::import_calendar))
        .routes(routes!(calendar::get_calendar, calendar::save_calendar))
        .routes(routes!(
            calendar::get_time_limits,
            calendar::save_time_limits
        ))
        .routes(routes!(search::search_orders))
        .routes(routes!(search::get_dictionary, search::save_dictionary))
        .routes(routes!(knowledge::list_articles, knowledge::create_article))
        .routes(routes!(knowledge::most_linked))
        .routes(routes!(knowledge::get_article, knowledge::update_article))
        .routes(routes!(knowledge::article_workflow))
        .routes(routes!(knowledge::article_history))
        .routes(routes!(knowledge::link_order))
}

/// The OpenAPI document of the whole API (generated from the code).
pub fn openapi() -> OpenApiDoc {
    router().into_openapi()
}

fn openapi_value() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(openapi()).unwrap_or_default())
}

/// This document.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "ops", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object))
)]
pub async fn openapi_json() -> Json<serde_json::Value> {
    Json(openapi_value().clone())
}
