//! The customer-import pages (issue 6): `/ui/imports` uploads a file through the API (a small
//! static script sends it as the request body with the page's CSRF token), `/ui/imports/{id}`
//! shows the job's state and counts, refreshing itself while it runs, and links the report.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kefu_domain::auth::Permission;

use super::import_text::ImportText;
use super::pages::{api_error_page, forbidden_page, message_page, unit_names};
use super::view::{TopBar, render};
use super::{Text, Viewer};
use crate::AppState;

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    t: &'static Text,
    it: &'static ImportText,
    lang: &'static str,
    title: String,
    top: TopBar,
    may_import: bool,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct ImportJobPage {
    t: &'static Text,
    it: &'static ImportText,
    lang: &'static str,
    title: String,
    top: TopBar,
    id: i64,
    file_name: String,
    state: String,
    finished: bool,
    rows_read: i64,
    rows_stored: i64,
    rows_bad: i64,
    error: String,
}

/// GET /ui/imports
pub async fn form(State(state): State<AppState>, viewer: Viewer) -> Response {
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    let it = viewer.lang.import_text();
    render(
        StatusCode::OK,
        &ImportsPage {
            t: viewer.lang.t(),
            it,
            lang: viewer.lang.html_code(),
            title: it.title.to_owned(),
            top: TopBar::new(&viewer, &units, "/ui/imports"),
            may_import: viewer.caller.roles.allows(Permission::CustomerWrite),
        },
    )
}

/// GET /ui/imports/{id}
pub async fn job(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let it = viewer.lang.import_text();
    if !viewer.caller.roles.allows(Permission::CustomerWrite) {
        return forbidden_page(&viewer);
    }
    let Ok(id) = id.parse::<i64>() else {
        return message_page(&viewer, StatusCode::NOT_FOUND, it.not_found.to_owned());
    };
    let job = match state.store.get_import_job(id, &viewer.caller.scope).await {
        Ok(Some(job)) => job,
        Ok(None) => return message_page(&viewer, StatusCode::NOT_FOUND, it.not_found.to_owned()),
        Err(e) => return api_error_page(&viewer, &e.into()),
    };
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    let state_label = match viewer.lang {
        super::Lang::Zh => job.state.label_zh(),
        super::Lang::En => job.state.label_en(),
    };
    render(
        StatusCode::OK,
        &ImportJobPage {
            t: viewer.lang.t(),
            it,
            lang: viewer.lang.html_code(),
            title: format!("{} {}", it.job, job.id),
            top: TopBar::new(&viewer, &units, &format!("/ui/imports/{id}")),
            id: job.id,
            file_name: job.file_name,
            state: state_label.to_owned(),
            finished: job.state.is_finished(),
            rows_read: job.counts.rows_read,
            rows_stored: job.counts.rows_stored,
            rows_bad: job.counts.rows_bad,
            error: job.error.unwrap_or_default(),
        },
    )
}
