//! The knowledge base (issue 7): articles with their workflow state and version history, their
//! search index, and their links to work orders ("answered with KB-123").
//!
//! Articles are the whole company's reference, like the catalogue: not scoped by unit. A link
//! names an order, which must lie in the caller's scope (else NotFound, as for every order).
//! Every write is one transaction with a version row (`article_versions`) and an audit entry;
//! writes carry the version read (`VersionConflict` otherwise). The article's search terms
//! (title twice, so a title hit ranks first, then tags and body, cut by the store's segmenter)
//! are written in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::ids::StaffId;
use kefu_domain::knowledge::{
    ArticleAction, ArticleCategory, ArticleDraft, ArticleState, Tag, Validity,
};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::OrderNumber;
use kefu_text::Segmenter;

use crate::search::SearchPageRequest;
use crate::{Actor, StoreError};

/// A stored article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// Row id (`KB-<id>`).
    pub id: i64,
    /// The content.
    pub draft: ArticleDraft,
    /// Workflow state.
    pub state: ArticleState,
    /// 1 when created, +1 per change.
    pub version: i64,
    /// Who created it.
    pub author: StaffId,
    /// Who last submitted it for review (the one who may not publish it).
    pub submitted_by: Option<StaffId>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// How many work orders cite it.
    pub links: i64,
}

/// One version of an article's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleVersion {
    /// The version.
    pub version: i64,
    /// The content at that version.
    pub draft: ArticleDraft,
    /// The state after the change.
    pub state: ArticleState,
    /// `create`, `edit`, or the workflow action's code.
    pub change: String,
    /// Who.
    pub staff_id: Option<StaffId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Which articles a list or search covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleFilter {
    /// Only this state.
    pub state: Option<ArticleState>,
    /// Only this category.
    pub category: Option<ArticleCategory>,
    /// Only articles with this tag.
    pub tag: Option<Tag>,
    /// Only published articles in force on this day (what agents see).
    pub in_force_on: Option<NaiveDate>,
}

/// An article found, with its rank (0 when listed without words).
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleHit {
    /// The article.
    pub article: Article,
    /// Relevance, higher is better.
    pub rank: f64,
}

/// Persistence of the knowledge base.
#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    /// Creates a draft written by `author`.
    async fn create_article(
        &self,
        draft: ArticleDraft,
        author: StaffId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Article, StoreError>;

    /// Replaces the content of a draft read at `expected_version` (`InvalidState` when it is
    /// not a draft).
    async fn update_article(
        &self,
        id: i64,
        expected_version: i64,
        draft: ArticleDraft,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Article, StoreError>;

    /// Runs a workflow step by `staff` on the article read at `expected_version` (the domain's
    /// `transition` decides; its refusal is `InvalidState` with its message).
    async fn article_action(
        &self,
        id: i64,
        expected_version: i64,
        action: ArticleAction,
        staff: StaffId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Article, StoreError>;

    /// One article.
    async fn get_article(&self, id: i64) -> Result<Option<Article>, StoreError>;

    /// Every version of an article, newest first.
    async fn article_history(&self, id: i64) -> Result<Vec<ArticleVersion>, StoreError>;

    /// Articles matching `filter` holding every one of `terms` (best first), or, without
    /// terms, all matching ones (last changed first).
    async fn search_articles(
        &self,
        terms: &[String],
        filter: &ArticleFilter,
        page: SearchPageRequest,
    ) -> Result<Vec<ArticleHit>, StoreError>;

    /// Records that order `number` (in `scope`, else NotFound) was answered with article `id`
    /// (which must be published: `InvalidState` otherwise). Linking twice changes nothing;
    /// returns whether a link was added.
    async fn link_article(
        &self,
        id: i64,
        number: &OrderNumber,
        scope: &OrgPath,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The articles matching `filter` most often cited by work orders, most first.
    async fn most_linked_articles(
        &self,
        filter: &ArticleFilter,
        limit: u32,
    ) -> Result<Vec<Article>, StoreError>;

    /// Re-cuts every article with the current segmenter (after a dictionary change), in one
    /// transaction; returns how many.
    async fn reindex_articles(&self) -> Result<u64, StoreError>;

    /// The articles order `number` (in `scope`) was answered with.
    async fn articles_of_order(
        &self,
        number: &OrderNumber,
        scope: &OrgPath,
    ) -> Result<Vec<Article>, StoreError>;
}

/// The index text of an article: title twice, tags, body.
pub fn article_index_text(segmenter: &Segmenter, draft: &ArticleDraft) -> String {
    let tags: Vec<&str> = draft.tags.iter().map(Tag::as_str).collect();
    let doc = format!(
        "{t}\n{t}\n{}\n{}",
        tags.join(" "),
        draft.body,
        t = draft.title
    );
    segmenter.index_text(&doc)
}

/// Tags as stored: a JSON list.
pub fn encode_tags(tags: &[Tag]) -> String {
    serde_json::Value::from(tags.iter().map(|t| t.as_str()).collect::<Vec<_>>()).to_string()
}

/// The stored columns of an article's content back into a draft, or `Corrupt`.
pub fn decode_draft(
    id: i64,
    title: String,
    body: String,
    category: &str,
    tags: &str,
    validity: Validity,
) -> Result<ArticleDraft, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        entity: "article",
        id: id.to_string(),
        reason,
    };
    let category = ArticleCategory::from_code(category)
        .ok_or_else(|| corrupt(format!("category {category}")))?;
    let raw: Vec<String> = serde_json::from_str(tags).map_err(|e| corrupt(e.to_string()))?;
    let tags = raw
        .iter()
        .map(|t| Tag::parse("tags", t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt(e.reason))?;
    Ok(ArticleDraft {
        title,
        body,
        category,
        tags,
        validity,
    })
}

/// A stored state code, or `Corrupt`.
pub fn decode_state(id: i64, code: &str) -> Result<ArticleState, StoreError> {
    ArticleState::from_code(code).ok_or_else(|| StoreError::Corrupt {
        entity: "article",
        id: id.to_string(),
        reason: format!("state {code}"),
    })
}

/// The error of a missing article.
pub fn article_not_found() -> StoreError {
    StoreError::NotFound { entity: "article" }
}

/// The error of a stale version.
pub fn article_conflict(current: i64) -> StoreError {
    StoreError::VersionConflict {
        entity: "article",
        current,
    }
}

/// The audit detail of an article change.
pub fn article_audit(id: i64, version: i64, change: &str, draft: &ArticleDraft) -> String {
    format!(
        "KB-{id} version {version}: {change} \"{}\" ({})",
        draft.title,
        draft.category.code()
    )
}
