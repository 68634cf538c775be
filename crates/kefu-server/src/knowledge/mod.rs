//! The knowledge base over HTTP (issue 7, product §9): search and read articles, write and
//! review them, cite one from a work order, and the most-cited list.
//!
//! Who sees what: every staff member reads what is published and in force today (the centre's
//! date); holders of `knowledge.edit` or `knowledge.review` also see drafts, articles in review,
//! expired and archived ones (and may filter by `state`). Writing needs `knowledge.edit`; each
//! workflow action needs the permission `kefu_domain::knowledge::permission_for` names (403
//! before anything is read). Workflow refusals (wrong state, reviewing one's own submission,
//! editing a non-draft) are 409 `invalid_state` with the domain's message; a stale `version` is
//! 409 `version_conflict`. Articles are company-wide (not scoped by unit); citing one from an
//! order needs the order in the caller's scope (else 404).

pub mod markdown;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::FieldError;
use kefu_domain::auth::Permission;
use kefu_domain::knowledge::{
    ArticleAction, ArticleCategory, ArticleDraft, ArticleInput, ArticleState, Tag, article_code,
    parse_article_code, permission_for,
};
use kefu_domain::workorder::OrderNumber;
use kefu_store::search::{MAX_SEARCH_LIMIT, MAX_SEARCH_OFFSET};
use kefu_store::{Article, ArticleFilter, ArticleVersion, SearchPageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::customer::today_shanghai;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, PathId, Query};
use crate::search::{SnippetDto, query_terms};

/// The snippet length of a search hit, in characters.
const SNIPPET_CHARS: usize = 120;

/// Whether the caller works on articles (sees drafts, reviews, archived and expired ones).
pub fn is_editor(caller: &Caller) -> bool {
    caller.roles.allows(Permission::KnowledgeEdit)
        || caller.roles.allows(Permission::KnowledgeReview)
}

/// An article as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleDto {
    /// Row id.
    pub id: i64,
    /// How agents cite it: `KB-12`.
    pub code: String,
    /// Title.
    pub title: String,
    /// Body as written (Markdown).
    pub body: String,
    /// Body rendered to HTML (raw HTML of the source escaped; safe to show as it is).
    pub body_html: String,
    /// `policy`, `tariff`, `procedure`, `outage_faq`, `other`.
    pub category: String,
    /// Tags.
    pub tags: Vec<String>,
    /// First day in force (inclusive).
    pub effective_from: Option<NaiveDate>,
    /// Last day in force (inclusive).
    pub effective_to: Option<NaiveDate>,
    /// Whether today (the centre's date) lies in the validity period.
    pub in_force: bool,
    /// `draft`, `in_review`, `published`, `archived`.
    pub state: String,
    /// The version to send with the next change.
    pub version: i64,
    /// Who wrote it.
    pub author_id: i64,
    /// How many work orders cite it.
    pub links: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl ArticleDto {
    /// The view of a stored article.
    pub fn new(a: &Article) -> Self {
        let d = &a.draft;
        Self {
            id: a.id,
            code: article_code(a.id),
            title: d.title.clone(),
            body: d.body.clone(),
            body_html: markdown::render(&d.body),
            category: d.category.code().to_owned(),
            tags: d.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            effective_from: d.validity.from,
            effective_to: d.validity.to,
            in_force: d.validity.contains(today_shanghai()),
            state: a.state.code().to_owned(),
            version: a.version,
            author_id: a.author.0,
            links: a.links,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// One article found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleHitDto {
    /// The article.
    pub article: ArticleDto,
    /// Relevance (0 when listed without words).
    pub rank: f64,
    /// Where the words were found in the body.
    pub snippet: SnippetDto,
}

/// A page of articles.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticlePage {
    /// The words searched for (empty for a plain list).
    pub terms: Vec<String>,
    /// The articles, best (or last changed) first.
    pub items: Vec<ArticleHitDto>,
    /// The `offset` of the next page, when there may be one.
    pub next_offset: Option<u32>,
}

/// Search or list articles.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// Words to find (title, tags, body); without them, the newest articles.
    pub q: Option<String>,
    /// A category code.
    pub category: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// A state (editors only; others always see published articles in force).
    pub state: Option<String>,
    /// Only published articles in force today (editors; always on for others).
    pub in_force: Option<bool>,
    /// Hits to skip (0..=1000).
    pub offset: Option<u32>,
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
}

impl ArticleQuery {
    fn filter(&self, caller: &Caller) -> ApiResult<ArticleFilter> {
        let mut errors = Vec::new();
        let category = self
            .category
            .as_deref()
            .map(|c| ArticleCategory::parse_code("category", c.trim()))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let state = self
            .state
            .as_deref()
            .map(|c| ArticleState::parse_code("state", c.trim()))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let tag = self
            .tag
            .as_deref()
            .map(|t| Tag::parse("tag", t))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let editor = is_editor(caller);
        let in_force = !editor || self.in_force.unwrap_or(false);
        Ok(ArticleFilter {
            state: if editor { state } else { None },
            category,
            tag,
            in_force_on: in_force.then(today_shanghai),
        })
    }
}

fn page(offset: Option<u32>, limit: Option<u32>) -> ApiResult<SearchPageRequest> {
    let offset = offset.unwrap_or(0);
    if offset > MAX_SEARCH_OFFSET {
        return Err(ApiError::field(
            "offset",
            format!("pages start at most {MAX_SEARCH_OFFSET} items in; refine the query"),
        ));
    }
    let limit = limit.unwrap_or(20);
    if limit == 0 || limit > MAX_SEARCH_LIMIT {
        return Err(ApiError::field(
            "limit",
            format!("give a page size of 1 to {MAX_SEARCH_LIMIT}"),
        ));
    }
    Ok(SearchPageRequest::new(offset, limit))
}

/// Search the knowledge base (or list it without `q`). Agents see published articles in force.
#[utoipa::path(
    get, path = "/api/v1/knowledge", tag = "knowledge", params(ArticleQuery),
    responses(
        (status = 200, body = ArticlePage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_articles(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ArticleQuery>,
) -> ApiResult<Json<ArticlePage>> {
    let filter = q.filter(&caller)?;
    let page = page(q.offset, q.limit)?;
    let terms = match q.q.as_deref().map(str::trim) {
        Some(words) if !words.is_empty() => query_terms(&state, Some(words))?,
        _ => Vec::new(),
    };
    let hits = state.store.search_articles(&terms, &filter, page).await?;
    let segmenter = state.store.segmenter();
    let full = hits.len() == page.limit as usize;
    let items = hits
        .iter()
        .map(|h| ArticleHitDto {
            article: ArticleDto::new(&h.article),
            rank: h.rank,
            snippet: segmenter
                .snippet(&h.article.draft.body, &terms, SNIPPET_CHARS)
                .into(),
        })
        .collect();
    let next = page.offset + page.limit;
    Ok(Json(ArticlePage {
        terms,
        items,
        next_offset: (full && next <= MAX_SEARCH_OFFSET).then_some(next),
    }))
}

/// An article as written or changed.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    /// The version read (changes only; leave out when creating).
    pub version: Option<i64>,
    /// Title, 1–100 characters.
    pub title: String,
    /// Body in Markdown, 1–20 000 characters.
    pub body: String,
    /// `policy`, `tariff`, `procedure`, `outage_faq`, `other`.
    pub category: String,
    /// Up to 10 tags of 1–20 characters.
    #[serde(default)]
    pub tags: Vec<String>,
    /// First day in force (YYYY-MM-DD).
    pub effective_from: Option<NaiveDate>,
    /// Last day in force (YYYY-MM-DD).
    pub effective_to: Option<NaiveDate>,
}

fn draft(body: ArticleBody) -> ApiResult<ArticleDraft> {
    ArticleDraft::validate(ArticleInput {
        title: body.title,
        body: body.body,
        category: body.category,
        tags: body.tags,
        effective_from: body.effective_from,
        effective_to: body.effective_to,
    })
    .map_err(ApiError::validation)
}

/// Write a new article (a draft; `knowledge.edit`).
#[utoipa::path(
    post, path = "/api/v1/knowledge", tag = "knowledge", request_body = ArticleBody,
    responses(
        (status = 201, body = ArticleDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_article(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ArticleBody>,
) -> ApiResult<(StatusCode, Json<ArticleDto>)> {
    caller.require(Permission::KnowledgeEdit)?;
    let draft = draft(body)?;
    let a = state
        .store
        .create_article(draft, caller.staff.id, &caller.actor(), Utc::now())
        .await?;
    Ok((StatusCode::CREATED, Json(ArticleDto::new(&a))))
}

/// The article `id` if the caller may see it, else 404.
async fn visible(state: &AppState, caller: &Caller, id: i64) -> ApiResult<Article> {
    let a = state
        .store
        .get_article(id)
        .await?
        .ok_or_else(|| ApiError::not_found("article"))?;
    let shown = is_editor(caller)
        || (a.state == ArticleState::Published && a.draft.validity.contains(today_shanghai()));
    if shown {
        Ok(a)
    } else {
        Err(ApiError::not_found("article"))
    }
}

/// One article (agents: only published ones in force).
#[utoipa::path(
    get, path = "/api/v1/knowledge/{id}", tag = "knowledge",
    params(("id" = i64, Path, description = "Article id (KB-<id>)")),
    responses(
        (status = 200, body = ArticleDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_article(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<ArticleDto>> {
    Ok(Json(ArticleDto::new(&visible(&state, &caller, id).await?)))
}

/// Change a draft (`knowledge.edit`), with the version read.
#[utoipa::path(
    put, path = "/api/v1/knowledge/{id}", tag = "knowledge", request_body = ArticleBody,
    params(("id" = i64, Path, description = "Article id")),
    responses(
        (status = 200, body = ArticleDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict, or invalid_state (not a draft)",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_article(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    JsonBody(body): JsonBody<ArticleBody>,
) -> ApiResult<Json<ArticleDto>> {
    caller.require(Permission::KnowledgeEdit)?;
    let Some(version) = body.version.filter(|v| *v > 0) else {
        return Err(ApiError::field("version", "give the version last read"));
    };
    let draft = draft(body)?;
    let a = state
        .store
        .update_article(id, version, draft, &caller.actor(), Utc::now())
        .await?;
    Ok(Json(ArticleDto::new(&a)))
}

/// A workflow step with the version read.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowBody {
    /// `submit`, `publish`, `reject`, `archive`, `revise`.
    pub action: String,
    /// The version read.
    pub version: i64,
}

/// Move an article through its workflow (permission per action; see the module doc).
#[utoipa::path(
    post, path = "/api/v1/knowledge/{id}/workflow", tag = "knowledge", request_body = WorkflowBody,
    params(("id" = i64, Path, description = "Article id")),
    responses(
        (status = 200, body = ArticleDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict, or invalid_state naming the allowed actions",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn article_workflow(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    JsonBody(body): JsonBody<WorkflowBody>,
) -> ApiResult<Json<ArticleDto>> {
    let action = ArticleAction::parse_code("action", body.action.trim())
        .map_err(|e| ApiError::validation(vec![e]))?;
    caller.require(permission_for(action))?;
    let a = state
        .store
        .article_action(
            id,
            body.version,
            action,
            caller.staff.id,
            &caller.actor(),
            Utc::now(),
        )
        .await?;
    Ok(Json(ArticleDto::new(&a)))
}

/// One version of an article.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleVersionDto {
    /// The version.
    pub version: i64,
    /// `create`, `edit`, or the workflow action.
    pub change: String,
    /// State after the change.
    pub state: String,
    /// Title at that version.
    pub title: String,
    /// Body at that version (Markdown).
    pub body: String,
    /// Who.
    pub staff_id: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<&ArticleVersion> for ArticleVersionDto {
    fn from(v: &ArticleVersion) -> Self {
        Self {
            version: v.version,
            change: v.change.clone(),
            state: v.state.code().to_owned(),
            title: v.draft.title.clone(),
            body: v.draft.body.clone(),
            staff_id: v.staff_id.map(|s| s.0),
            at: v.at,
        }
    }
}

/// Every version of an article, newest first (editors and reviewers).
#[utoipa::path(
    get, path = "/api/v1/knowledge/{id}/history", tag = "knowledge",
    params(("id" = i64, Path, description = "Article id")),
    responses(
        (status = 200, body = Vec<ArticleVersionDto>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn article_history(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Vec<ArticleVersionDto>>> {
    if !is_editor(&caller) {
        caller.require(Permission::KnowledgeEdit)?;
    }
    let versions = state.store.article_history(id).await?;
    if versions.is_empty() {
        return Err(ApiError::not_found("article"));
    }
    Ok(Json(versions.iter().map(ArticleVersionDto::from).collect()))
}

/// How many articles the most-cited list shows.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MostLinkedQuery {
    /// 1..=50 (default 10).
    pub limit: Option<u32>,
}

/// The articles work orders cite most (agents: published ones in force).
#[utoipa::path(
    get, path = "/api/v1/knowledge/most-linked", tag = "knowledge", params(MostLinkedQuery),
    responses(
        (status = 200, body = Vec<ArticleDto>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn most_linked(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MostLinkedQuery>,
) -> ApiResult<Json<Vec<ArticleDto>>> {
    let limit = q.limit.unwrap_or(10);
    if limit == 0 || limit > 50 {
        return Err(ApiError::field("limit", "give 1 to 50"));
    }
    let filter = ArticleFilter {
        in_force_on: (!is_editor(&caller)).then(today_shanghai),
        ..ArticleFilter::default()
    };
    let top = state.store.most_linked_articles(&filter, limit).await?;
    Ok(Json(top.iter().map(ArticleDto::new).collect()))
}

/// The article an order was answered with.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// `KB-12` (or `12`).
    pub article: String,
}

/// Whether the link is new.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkDto {
    /// The order.
    pub number: String,
    /// The article cited.
    pub article: ArticleDto,
    /// False when the order already cited it.
    pub added: bool,
}

/// Record that an order was answered with an article ("answered with KB-123"). The order must
/// be in the caller's scope; the article published and visible to the caller.
#[utoipa::path(
    post, path = "/api/v1/work-orders/{number}/knowledge", tag = "knowledge", request_body = LinkBody,
    params(("number" = String, Path, description = "Order number")),
    responses(
        (status = 200, body = LinkDto),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_state: the article is not published",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn link_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    JsonBody(body): JsonBody<LinkBody>,
) -> ApiResult<Json<LinkDto>> {
    let number = OrderNumber::parse(&number).map_err(|e| ApiError::validation(vec![e]))?;
    let Some(id) = parse_article_code(&body.article) else {
        return Err(ApiError::validation(vec![FieldError::new(
            "article",
            "give an article code such as KB-12",
        )]));
    };
    let article = visible(&state, &caller, id).await?;
    let added = state
        .store
        .link_article(id, &number, &caller.scope, &caller.actor(), Utc::now())
        .await?;
    let article = state.store.get_article(id).await?.unwrap_or(article);
    Ok(Json(LinkDto {
        number: number.to_string(),
        article: ArticleDto::new(&article),
        added,
    }))
}
