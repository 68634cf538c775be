//! Full-text search over HTTP (issue 7): `GET /api/v1/search/orders?q=…` with the order
//! list's filters, ranked, with highlighted snippets, in the caller's scope; and the segmenter's
//! user dictionary (`GET|PUT /api/v1/search/dictionary`, writes for administrators like the
//! catalogue). The query is cut by the store's own segmenter, so it meets the index term for
//! term; an out-of-scope order is never a hit (the store filters by scope in the same query).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use kefu_domain::FieldError;
use kefu_store::search::{MAX_SEARCH_LIMIT, MAX_SEARCH_OFFSET, order_document};
use kefu_store::{SearchBound, SearchPageRequest, StoredOrder, VersionedDictionary};
use kefu_text::Snippet;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::catalogue::SETTINGS_WRITE;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, Query};
use crate::workorder::dto::OrderDto;
use crate::workorder::{OrderQuery, audit_read, order_dto};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The length of a snippet, in characters.
pub const SNIPPET_CHARS: usize = 120;

/// A search: the words, the list's filters, and the page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderSearchQuery {
    /// The words to find (Chinese, English, numbers; at most 200 characters). Every word must
    /// occur in the order's text, number, reply or notes.
    pub q: Option<String>,
    /// A state code, e.g. `pending_dispatch`.
    pub state: Option<String>,
    /// An appeal type code, e.g. `complaint`.
    pub appeal_type: Option<String>,
    /// Orders whose unit (host unit, else territory) is this unit or below it.
    pub host_unit_id: Option<i64>,
    /// Major appeals only (true) or none of them (false).
    pub major: Option<bool>,
    /// Repeat appeals only (true) or none of them (false).
    pub repeat: Option<bool>,
    /// A channel code.
    pub channel: Option<String>,
    /// Supervised (督办) and not archived (true) or not (false).
    pub supervised: Option<bool>,
    /// A running deadline has passed (true) or none has (false), as of now.
    pub overdue: Option<bool>,
    /// Taken at or after (RFC 3339).
    pub created_from: Option<String>,
    /// Taken before (RFC 3339).
    pub created_to: Option<String>,
    /// Hits to skip (0..=1000; default 0).
    pub offset: Option<u32>,
    /// Page size, 1..=100 (default 20).
    pub limit: Option<u32>,
}

impl OrderSearchQuery {
    /// The list filters of the search.
    pub fn filters(&self) -> OrderQuery {
        OrderQuery {
            state: self.state.clone(),
            appeal_type: self.appeal_type.clone(),
            host_unit_id: self.host_unit_id,
            major: self.major,
            repeat: self.repeat,
            channel: self.channel.clone(),
            supervised: self.supervised,
            overdue: self.overdue,
            created_from: self.created_from.clone(),
            created_to: self.created_to.clone(),
            ..OrderQuery::default()
        }
    }
}

/// One piece of a snippet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnippetPiece {
    /// Text as written (escape it before putting it into HTML).
    pub text: String,
    /// Whether it is one of the query's words (to highlight).
    pub hit: bool,
}

/// An excerpt of the order's text around the first hit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnippetDto {
    /// The pieces, in order.
    pub pieces: Vec<SnippetPiece>,
    /// Text was left out before the excerpt.
    pub cut_before: bool,
    /// Text was left out after it.
    pub cut_after: bool,
}

impl From<Snippet> for SnippetDto {
    fn from(s: Snippet) -> Self {
        Self {
            pieces: s
                .pieces
                .into_iter()
                .map(|p| SnippetPiece {
                    text: p.text,
                    hit: p.hit,
                })
                .collect(),
            cut_before: s.cut_before,
            cut_after: s.cut_after,
        }
    }
}

/// One order found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderHitDto {
    /// The order, as the list shows it.
    pub order: OrderDto,
    /// Relevance (higher is better; comparable within one search only).
    pub rank: f64,
    /// Where the words were found.
    pub snippet: SnippetDto,
}

/// A page of hits, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderSearchPage {
    /// The words searched for, as the segmenter cut the query.
    pub terms: Vec<String>,
    /// The hits.
    pub items: Vec<OrderHitDto>,
    /// The `offset` of the next page, when there is one.
    pub next_offset: Option<u32>,
    /// Set when not every match was ranked (a common word): say so next to the hits.
    pub bound: Option<SearchBoundDto>,
    /// Some orders were indexed in an older format: scope is still checked on every hit, but
    /// phone numbers find only reindexed orders until `kefu search reindex` has run.
    pub index_outdated: bool,
}

/// Why a search did not rank every match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchBoundKind {
    /// More orders matched than the ranking window: the hits are the best of the newest
    /// `matches` matching orders (after the filters). More words or filters narrow it.
    RankedAmong,
    /// The filters were checked on the newest `matches` matching orders only and left fewer
    /// than the window: older orders may be missing. More words narrow it.
    FilteredAmong,
}

/// How a search was bounded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchBoundDto {
    /// Which bound applied.
    pub kind: SearchBoundKind,
    /// The size of the window.
    pub matches: u32,
}

impl From<SearchBound> for SearchBoundDto {
    fn from(b: SearchBound) -> Self {
        match b {
            SearchBound::RankedAmong(n) => Self {
                kind: SearchBoundKind::RankedAmong,
                matches: n,
            },
            SearchBound::FilteredAmong(n) => Self {
                kind: SearchBoundKind::FilteredAmong,
                matches: n,
            },
        }
    }
}

/// The query's words, or a 400 naming `q`.
pub fn query_terms(state: &AppState, q: Option<&str>) -> ApiResult<Vec<String>> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::field(
            "q",
            format!("a query has at most {MAX_QUERY_CHARS} characters; use fewer words"),
        ));
    }
    let terms = state.store.segmenter().query_terms(q);
    if terms.is_empty() {
        return Err(ApiError::field(
            "q",
            "give at least one word, number or name to search for",
        ));
    }
    Ok(terms)
}

/// The excerpt of `order`'s text around the words of `terms`.
pub fn order_snippet(state: &AppState, order: &StoredOrder, terms: &[String]) -> Snippet {
    let segmenter = state.store.segmenter();
    let number = order.order.number.to_string();
    let doc = order_document(&order.order);
    let snippet = segmenter.snippet(&doc, terms, SNIPPET_CHARS);
    if snippet.has_hit() || !terms.iter().any(|t| *t == number.to_ascii_lowercase()) {
        return snippet;
    }
    // Found by its number: show the number marked, then the start of the text.
    let mut with_number = segmenter.snippet(&format!("{number} {doc}"), terms, SNIPPET_CHARS);
    with_number.cut_before = false;
    with_number
}

/// Search the orders of the caller's unit and below: every word must occur (in the appeal,
/// the reply, notes, or as the order number); the list's filters apply; best first.
#[utoipa::path(
    get, path = "/api/v1/search/orders", tag = "search", params(OrderSearchQuery),
    responses(
        (status = 200, body = OrderSearchPage),
        (status = 400, description = "validation_failed naming `q` or a filter",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search_orders(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OrderSearchQuery>,
) -> ApiResult<Json<OrderSearchPage>> {
    let terms = query_terms(&state, q.q.as_deref())?;
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_SEARCH_OFFSET {
        return Err(ApiError::field(
            "offset",
            format!("pages start at most {MAX_SEARCH_OFFSET} hits in; refine the query instead"),
        ));
    }
    let limit = q.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_SEARCH_LIMIT {
        return Err(ApiError::field(
            "limit",
            format!("give a page size of 1 to {MAX_SEARCH_LIMIT}"),
        ));
    }
    let filter = q.filters().filter(&state, &caller).await?;
    let page = state
        .store
        .search_orders(
            &terms,
            &filter,
            &caller.scope,
            SearchPageRequest::new(offset, limit),
        )
        .await?;
    let refs: Vec<&StoredOrder> = page.hits.iter().map(|h| &h.order).collect();
    audit_read(&state, &caller, "work_order_search".into(), &refs).await?;
    let unmasked = caller.sees_personal_data();
    let items = page
        .hits
        .iter()
        .map(|h| OrderHitDto {
            order: order_dto(&state, &h.order, unmasked),
            rank: h.rank,
            snippet: order_snippet(&state, &h.order, &terms).into(),
        })
        .collect();
    Ok(Json(OrderSearchPage {
        terms,
        items,
        next_offset: page.next_offset,
        bound: page.bound.map(SearchBoundDto::from),
        index_outdated: page.index_outdated,
    }))
}

/// The segmenter's user dictionary: words kept whole beyond the built-in ones.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DictionaryDto {
    /// 0 while none was saved, then 1, 2, …
    pub version: i64,
    /// The words, in the order saved.
    pub words: Vec<String>,
    /// Who saved this version (`staff:12`).
    pub saved_by: Option<String>,
    /// When.
    pub saved_at: Option<DateTime<Utc>>,
    /// The words every segmenter knows (read-only).
    pub built_in: Vec<String>,
}

impl From<&VersionedDictionary> for DictionaryDto {
    fn from(v: &VersionedDictionary) -> Self {
        Self {
            version: v.version,
            words: v.value.clone(),
            saved_by: v.saved.as_ref().map(|s| s.actor.clone()),
            saved_at: v.saved.as_ref().map(|s| s.at),
            built_in: kefu_text::DOMAIN_WORDS
                .iter()
                .map(|w| (*w).to_owned())
                .collect(),
        }
    }
}

/// A new user dictionary, replacing the whole list.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveDictionary {
    /// The version read (0 when none was saved).
    pub version: i64,
    /// The words: letters and digits, 1–20 characters each, at most 5 000.
    pub words: Vec<String>,
}

/// The user dictionary of the search segmenter.
#[utoipa::path(
    get, path = "/api/v1/search/dictionary", tag = "search",
    responses(
        (status = 200, body = DictionaryDto),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_dictionary(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<DictionaryDto>> {
    let current = state.store.search_dictionary().await?;
    Ok(Json(DictionaryDto::from(&current)))
}

/// Replace the user dictionary (administrators). New and changed orders are cut with it at
/// once; run `kefu search reindex` so that orders stored before are found by the new words.
#[utoipa::path(
    put, path = "/api/v1/search/dictionary", tag = "search", request_body = SaveDictionary,
    responses(
        (status = 200, description = "The saved version", body = DictionaryDto),
        (status = 400, description = "validation_failed naming each bad word (`words[2]`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "version_conflict",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn save_dictionary(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SaveDictionary>,
) -> ApiResult<Json<DictionaryDto>> {
    caller.require(SETTINGS_WRITE)?;
    if body.version < 0 {
        return Err(ApiError::field(
            "version",
            "give the version last read (0 or more)",
        ));
    }
    let words = kefu_text::check_words(&body.words).map_err(|errors| {
        ApiError::validation(
            errors
                .into_iter()
                .map(|(i, e)| FieldError::new(format!("words[{i}]"), e.to_string()))
                .collect(),
        )
    })?;
    let saved = state
        .store
        .save_search_dictionary(words, body.version, &caller.actor(), Utc::now())
        .await?;
    Ok(Json(DictionaryDto::from(&saved)))
}
