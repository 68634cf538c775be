//! The browser UI (server-rendered, zh-CN first): sign-in, the agent workbench with the
//! incoming-call screen-pop and customer search, the customer page with its history, and
//! password change. Pages call the same handlers as the JSON API, so scoping, masking and the
//! audit of personal-data reads are one implementation; plain forms work without JavaScript and
//! carry the session's CSRF token in a hidden field.

mod board_page;
mod i18n;
mod import_text;
mod imports;
mod knowledge_edit;
mod order_intake;
mod order_page;
mod order_text;
mod order_view;
mod orders;
mod pages;
mod search_pages;
mod selfservice;
mod selfservice_page;
mod selfservice_text;
mod view;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

pub use i18n::{LANG_COOKIE, Lang, Text};

use crate::AppState;
use crate::auth::{Caller, CsrfCheck, authenticate};

/// Where the pages live.
pub const UI_ROOT: &str = "/ui";

/// The pages have no inline script or style and are never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The page routes, merged into the app next to the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/workbench") }))
        .route("/ui", get(|| async { Redirect::to("/ui/workbench") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/workbench") }))
        .route(
            "/ui/login",
            get(pages::login_form).post(pages::login_submit),
        )
        .route("/ui/logout", axum::routing::post(pages::logout))
        .route("/ui/lang/{code}", get(pages::switch_language))
        .route("/ui/workbench", get(pages::workbench))
        .route("/ui/customers/{id}", get(pages::customer_page))
        .route("/ui/orders", get(orders::list).post(order_intake::take))
        .route("/ui/orders/export.xlsx", get(orders::export))
        .route("/ui/orders/{number}", get(order_page::show))
        .route("/ui/board", get(board_page::board))
        .route("/ui/search", get(search_pages::orders))
        .route("/ui/knowledge", get(search_pages::knowledge))
        .route("/ui/knowledge/new", get(knowledge_edit::new_form))
        .route(
            "/ui/knowledge/save",
            axum::routing::post(knowledge_edit::save),
        )
        .route("/ui/knowledge/{id}", get(search_pages::article))
        .route("/ui/knowledge/{id}/edit", get(knowledge_edit::edit_form))
        .route(
            "/ui/knowledge/{id}/workflow",
            axum::routing::post(knowledge_edit::workflow),
        )
        .route(
            "/ui/orders/{number}/{action}",
            axum::routing::post(order_page::act),
        )
        .route(
            "/ui/password",
            get(pages::password_form).post(pages::password_submit),
        )
        .route("/ui/imports", get(imports::form))
        .route("/ui/imports/{id}", get(imports::job))
        .route("/ui/assets/import-upload.js", get(import_upload_script))
        .route("/ui/assets/kefu.css", get(stylesheet))
        .route("/ui/assets/intake-hints.js", get(intake_hints_script))
        // The customer self-service portal: public, no staff session.
        .route("/self", get(selfservice::home))
        .route("/self/lang/{code}", get(selfservice::switch_language))
        .route("/self/code", axum::routing::post(selfservice::send_code))
        .route("/self/appeal", axum::routing::post(selfservice::submit))
        .route("/self/track", axum::routing::post(selfservice::track))
        .route("/self/rate", axum::routing::post(selfservice::rate))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/kefu.css"),
    )
        .into_response()
}

/// The live hints of the new-order form (a static file: the policy allows no inline script).
async fn intake_hints_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/intake-hints.js"),
    )
        .into_response()
}

/// The upload of the import page (a static file, like the intake hints).
async fn import_upload_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/import-upload.js"),
    )
        .into_response()
}

/// A signed-in person looking at a page, and their language. Without a valid session the
/// request is redirected to the sign-in page (and comes back afterwards).
pub struct Viewer {
    /// Who is signed in.
    pub caller: Caller,
    /// The page language.
    pub lang: Lang,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::of(parts);
        match authenticate(parts, state, CsrfCheck::FormField).await {
            Ok(caller) => Ok(Viewer { caller, lang }),
            Err(_) => {
                // A form posted after the session ended returns to the page it was on (the
                // post itself is not replayed: what it would change may have changed).
                let referer_path = parts
                    .headers
                    .get(header::REFERER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|r| r.find("/ui/").map(|i| r[i..].to_owned()));
                let here = parts.uri.path_and_query().map(|p| p.as_str().to_owned());
                let back = if parts.method == axum::http::Method::GET {
                    here
                } else {
                    referer_path
                };
                let back = back
                    .filter(|p| is_local_page(p))
                    .unwrap_or_else(|| "/ui/workbench".to_owned());
                let target = format!("/ui/login?next={}", view::url_encode(&back));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// Whether `path` is one of our pages: redirects only ever go there (no open redirect).
pub fn is_local_page(path: &str) -> bool {
    (path.starts_with("/ui/") || path == "/self" || path.starts_with("/self?"))
        && !path.starts_with("//")
        && !path.contains("://")
        && !path.contains('\\')
}
