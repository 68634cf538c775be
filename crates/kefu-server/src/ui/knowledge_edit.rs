//! Writing and reviewing knowledge-base articles in the browser (issue 7): the edit form for a
//! new article or a draft (`/ui/knowledge/new`, `/ui/knowledge/{id}/edit`, posted to
//! `/ui/knowledge/save`), and the workflow buttons of the article page (posted to
//! `/ui/knowledge/{id}/workflow`). Each post carries the session's CSRF token and goes through
//! the API handler, so the roles, the versions and the workflow rules are the API's; a refusal
//! re-renders the form with the server's message and what was typed.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use kefu_domain::auth::Permission;
use kefu_domain::knowledge::ArticleCategory;
use serde::Deserialize;

use super::i18n::Text;
use super::pages::{api_error_page, forbidden_page, unit_names};
use super::view::{TopBar, error_message, render};
use super::{Lang, Viewer};
use crate::AppState;
use crate::extract::{JsonBody, PathId};
use crate::knowledge::{ArticleBody, WorkflowBody};

/// The edit form's words.
#[derive(Debug)]
pub struct EditText {
    pub new_article: &'static str,
    pub edit_article: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    pub body_hint: &'static str,
    pub category: &'static str,
    pub tags: &'static str,
    pub tags_hint: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub save: &'static str,
}

static ZH: EditText = EditText {
    new_article: "新建知识",
    edit_article: "编辑知识",
    title: "标题",
    body: "正文",
    body_hint: "支持 Markdown；HTML 标签按原文显示。",
    category: "分类",
    tags: "标签",
    tags_hint: "用逗号分隔，最多 10 个。",
    from: "生效日期",
    to: "失效日期",
    save: "保存草稿",
};

static EN: EditText = EditText {
    new_article: "New article",
    edit_article: "Edit article",
    title: "Title",
    body: "Body",
    body_hint: "Markdown; HTML tags are shown as written.",
    category: "Category",
    tags: "Tags",
    tags_hint: "Separated by commas, at most 10.",
    from: "In force from",
    to: "In force until",
    save: "Save draft",
};

fn words(lang: Lang) -> &'static EditText {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

struct Choice {
    code: &'static str,
    label: &'static str,
    chosen: bool,
}

/// What the form posts (also what it shows again after a refusal).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ArticleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    effective_from: String,
    #[serde(default)]
    effective_to: String,
}

#[derive(Template)]
#[template(path = "article_edit.html")]
struct EditPage {
    t: &'static Text,
    e: &'static EditText,
    lang: &'static str,
    title: String,
    top: TopBar,
    f: ArticleForm,
    categories: Vec<Choice>,
    message: String,
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    f: ArticleForm,
    message: String,
    status: StatusCode,
) -> Response {
    let lang = viewer.lang;
    let e = words(lang);
    let units = unit_names(state, &viewer.caller).await.unwrap_or_default();
    let categories = ArticleCategory::ALL
        .iter()
        .map(|c| Choice {
            code: c.code(),
            label: lang.pick(c.label_zh(), c.label_en()),
            chosen: f.category == c.code(),
        })
        .collect();
    let page = EditPage {
        t: lang.t(),
        e,
        lang: lang.html_code(),
        title: if f.id.is_empty() {
            e.new_article
        } else {
            e.edit_article
        }
        .to_owned(),
        top: TopBar::new(viewer, &units, "/ui/knowledge"),
        f,
        categories,
        message,
    };
    render(status, &page)
}

/// GET /ui/knowledge/new: an empty form (`knowledge.edit`).
pub async fn new_form(State(state): State<AppState>, viewer: Viewer) -> Response {
    if !viewer.caller.roles.allows(Permission::KnowledgeEdit) {
        return forbidden_page(&viewer);
    }
    let f = ArticleForm {
        category: ArticleCategory::Other.code().to_owned(),
        ..ArticleForm::default()
    };
    page(&state, &viewer, f, String::new(), StatusCode::OK).await
}

/// GET /ui/knowledge/{id}/edit: the draft in the form.
pub async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Response {
    if !viewer.caller.roles.allows(Permission::KnowledgeEdit) {
        return forbidden_page(&viewer);
    }
    let a = match crate::knowledge::get_article(
        State(state.clone()),
        viewer.caller.clone(),
        PathId(id),
    )
    .await
    {
        Ok(a) => a.0,
        Err(e) => return api_error_page(&viewer, &e),
    };
    let f = ArticleForm {
        csrf: String::new(),
        id: a.id.to_string(),
        version: a.version.to_string(),
        title: a.title,
        body: a.body,
        category: a.category,
        tags: a.tags.join(", "),
        effective_from: a.effective_from.map(|d| d.to_string()).unwrap_or_default(),
        effective_to: a.effective_to.map(|d| d.to_string()).unwrap_or_default(),
    };
    page(&state, &viewer, f, String::new(), StatusCode::OK).await
}

fn date(raw: &str) -> Result<Option<NaiveDate>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("'{t}': YYYY-MM-DD"))
}

/// POST /ui/knowledge/save: creates (no id) or updates a draft, then shows the article.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(f): Form<ArticleForm>,
) -> Response {
    if !viewer.caller.csrf_matches(&f.csrf) {
        return forbidden_page(&viewer);
    }
    let t = viewer.lang.t();
    let dates = date(&f.effective_from).and_then(|from| date(&f.effective_to).map(|to| (from, to)));
    let (from, to) = match dates {
        Ok(d) => d,
        Err(m) => {
            let msg = format!("{}{m}", t.invalid_input);
            return page(&state, &viewer, f, msg, StatusCode::BAD_REQUEST).await;
        }
    };
    let body = ArticleBody {
        version: f.version.trim().parse::<i64>().ok(),
        title: f.title.clone(),
        body: f.body.clone(),
        category: f.category.clone(),
        tags: f
            .tags
            .split([',', '，'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        effective_from: from,
        effective_to: to,
    };
    let result = match f.id.trim().parse::<i64>() {
        Ok(id) => crate::knowledge::update_article(
            State(state.clone()),
            viewer.caller.clone(),
            PathId(id),
            JsonBody(body),
        )
        .await
        .map(|a| a.0),
        Err(_) => crate::knowledge::create_article(
            State(state.clone()),
            viewer.caller.clone(),
            JsonBody(body),
        )
        .await
        .map(|(_, a)| a.0),
    };
    match result {
        Ok(a) => Redirect::to(&format!("/ui/knowledge/{}", a.id)).into_response(),
        Err(e) => {
            let status = e.code().status();
            page(&state, &viewer, f, error_message(t, &e), status).await
        }
    }
}

/// What a workflow button posts.
#[derive(Debug, Deserialize)]
pub struct WorkflowForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    version: i64,
}

/// POST /ui/knowledge/{id}/workflow: one workflow step, then the article again.
pub async fn workflow(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<WorkflowForm>,
) -> Response {
    if !viewer.caller.csrf_matches(&f.csrf) {
        return forbidden_page(&viewer);
    }
    let body = WorkflowBody {
        action: f.action,
        version: f.version,
    };
    match crate::knowledge::article_workflow(
        State(state),
        viewer.caller.clone(),
        PathId(id),
        JsonBody(body),
    )
    .await
    {
        Ok(a) => Redirect::to(&format!("/ui/knowledge/{}", a.0.id)).into_response(),
        Err(e) => api_error_page(&viewer, &e),
    }
}
