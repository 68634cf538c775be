//! Pages of issue 7: full-text order search (`/ui/search`), the knowledge base list and search
//! (`/ui/knowledge`) and one article (`/ui/knowledge/{id}`). Like every page they call the API
//! handlers, so scope, roles and the audit are the API's; their words are in `SearchText`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kefu_domain::auth::Permission;
use kefu_domain::knowledge::{ArticleCategory, ArticleState, allowed_actions, permission_for};
use kefu_domain::workorder::{AppealType, State as OrderState};
use serde::Deserialize;

use super::Viewer;
use super::i18n::{Lang, Text};
use super::pages::{api_error_page, unit_names};
use super::view::{TopBar, render, shanghai_time, url_encode};
use crate::AppState;
use crate::extract::{PathId, Query};
use crate::knowledge::{ArticleDto, ArticleQuery, MostLinkedQuery};
use crate::search::{OrderSearchQuery, SearchBoundKind, SnippetDto};

/// The words of these pages, zh-CN and English.
#[derive(Debug)]
pub struct SearchText {
    pub order_search: &'static str,
    pub order_search_hint: &'static str,
    pub knowledge: &'static str,
    pub knowledge_hint: &'static str,
    pub search: &'static str,
    pub terms: &'static str,
    pub no_hits: &'static str,
    pub number: &'static str,
    pub state: &'static str,
    pub appeal_type: &'static str,
    pub opened: &'static str,
    pub found_in: &'static str,
    pub next: &'static str,
    pub category: &'static str,
    pub all: &'static str,
    pub most_linked: &'static str,
    pub cited: &'static str,
    pub tags: &'static str,
    pub in_force: &'static str,
    pub not_in_force: &'static str,
    pub validity: &'static str,
    pub open_ended: &'static str,
    pub updated: &'static str,
    pub back: &'static str,
    pub new_article: &'static str,
    pub edit: &'static str,
    /// `{n}` is replaced by the window.
    pub ranked_among: &'static str,
    /// `{n}` is replaced by the window.
    pub filtered_among: &'static str,
    pub index_outdated: &'static str,
}

static ZH: SearchText = SearchText {
    order_search: "工单全文检索",
    order_search_hint: "输入词语、户号、工单号或电话尾号；多个词需同时出现。",
    knowledge: "知识库",
    knowledge_hint: "按标题、标签和正文检索已发布且在有效期内的知识。",
    search: "检索",
    terms: "检索词",
    no_hits: "没有找到匹配的结果。",
    number: "工单号",
    state: "状态",
    appeal_type: "诉求类型",
    opened: "受理时间",
    found_in: "命中内容",
    next: "下一页",
    category: "分类",
    all: "全部",
    most_linked: "最常引用",
    cited: "引用次数",
    tags: "标签",
    in_force: "有效",
    not_in_force: "不在有效期",
    validity: "有效期",
    open_ended: "长期",
    updated: "更新时间",
    back: "返回",
    new_article: "新建知识",
    edit: "编辑",
    ranked_among: "在最新的 {n} 条匹配中排序，可加词或筛选缩小范围。",
    filtered_among: "筛选只检查了最新的 {n} 条匹配，更早的工单可能未列出；可加词缩小范围。",
    index_outdated: "检索索引为旧格式：电话号码暂不可检索，请管理员运行 kefu search reindex。",
};

static EN: SearchText = SearchText {
    order_search: "Order full-text search",
    order_search_hint: "Words, account numbers, order numbers or phone endings; every word must occur.",
    knowledge: "Knowledge base",
    knowledge_hint: "Searches titles, tags and bodies of published articles in force.",
    search: "Search",
    terms: "Words",
    no_hits: "Nothing matches.",
    number: "Order",
    state: "State",
    appeal_type: "Appeal type",
    opened: "Taken",
    found_in: "Found in",
    next: "Next page",
    category: "Category",
    all: "All",
    most_linked: "Most cited",
    cited: "Cited",
    tags: "Tags",
    in_force: "In force",
    not_in_force: "Not in force",
    validity: "Valid",
    open_ended: "open-ended",
    updated: "Updated",
    back: "Back",
    new_article: "New article",
    edit: "Edit",
    ranked_among: "Ranked among the newest {n} matches; add words or filters to narrow.",
    filtered_among: "Filters were checked on the newest {n} matches only; older orders may be missing. Add words to narrow.",
    index_outdated: "The search index is in an older format: phone numbers are not searchable until an administrator runs kefu search reindex.",
};

fn words(lang: Lang) -> &'static SearchText {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// A snippet as pieces to mark (the template escapes each).
struct Piece {
    text: String,
    hit: bool,
}

fn pieces(s: &SnippetDto) -> (Vec<Piece>, bool, bool) {
    (
        s.pieces
            .iter()
            .map(|p| Piece {
                text: p.text.clone(),
                hit: p.hit,
            })
            .collect(),
        s.cut_before,
        s.cut_after,
    )
}

struct OrderLine {
    number: String,
    state: &'static str,
    appeal_type: &'static str,
    opened: String,
    pieces: Vec<Piece>,
    cut_before: bool,
    cut_after: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: &'static Text,
    s: &'static SearchText,
    lang: &'static str,
    title: String,
    top: TopBar,
    q: String,
    searched: bool,
    message: String,
    terms: String,
    lines: Vec<OrderLine>,
    next_href: String,
    /// Why not every match was ranked, or that the index is outdated (empty: neither).
    notices: Vec<String>,
}

/// What the order search page takes: the words and the page.
#[derive(Debug, Default, Deserialize)]
pub struct SearchForm {
    q: Option<String>,
    offset: Option<u32>,
}

/// GET /ui/search?q=…: full-text search over the orders of the viewer's units.
pub async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(form): Query<SearchForm>,
) -> Response {
    let lang = viewer.lang;
    let s = words(lang);
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    let q = form.q.clone().unwrap_or_default();
    let mut page = SearchPage {
        t: lang.t(),
        s,
        lang: lang.html_code(),
        title: s.order_search.to_owned(),
        top: TopBar::new(&viewer, &units, "/ui/search"),
        searched: !q.trim().is_empty(),
        q: q.clone(),
        message: String::new(),
        terms: String::new(),
        lines: Vec::new(),
        next_href: String::new(),
        notices: Vec::new(),
    };
    if page.searched {
        let query = OrderSearchQuery {
            q: Some(q.clone()),
            offset: form.offset,
            ..OrderSearchQuery::default()
        };
        match crate::search::search_orders(State(state), viewer.caller.clone(), Query(query)).await
        {
            Ok(found) => {
                let found = found.0;
                page.terms = found.terms.join(" · ");
                page.lines = found
                    .items
                    .iter()
                    .map(|h| {
                        let (pieces, cut_before, cut_after) = pieces(&h.snippet);
                        OrderLine {
                            number: h.order.number.clone(),
                            state: OrderState::from_code(&h.order.state)
                                .map_or("", |st| lang.pick(st.label_zh(), st.label_en())),
                            appeal_type: AppealType::from_code(&h.order.appeal_type)
                                .map_or("", |a| lang.pick(a.label_zh(), a.label_en())),
                            opened: shanghai_time(h.order.opened_at),
                            pieces,
                            cut_before,
                            cut_after,
                        }
                    })
                    .collect();
                if let Some(next) = found.next_offset {
                    page.next_href = format!("/ui/search?q={}&offset={next}", url_encode(&q));
                }
                if let Some(b) = &found.bound {
                    let text = match b.kind {
                        SearchBoundKind::RankedAmong => s.ranked_among,
                        SearchBoundKind::FilteredAmong => s.filtered_among,
                    };
                    page.notices
                        .push(text.replace("{n}", &b.matches.to_string()));
                }
                if found.index_outdated {
                    page.notices.push(s.index_outdated.to_owned());
                }
            }
            Err(e) => page.message = super::view::error_message(lang.t(), &e),
        }
    }
    render(StatusCode::OK, &page)
}

struct ArticleLine {
    id: i64,
    code: String,
    title: String,
    category: &'static str,
    state: &'static str,
    in_force: bool,
    links: i64,
    pieces: Vec<Piece>,
    cut_before: bool,
    cut_after: bool,
}

struct Choice {
    code: &'static str,
    label: &'static str,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "knowledge.html")]
struct KnowledgePage {
    t: &'static Text,
    s: &'static SearchText,
    lang: &'static str,
    title: String,
    top: TopBar,
    q: String,
    categories: Vec<Choice>,
    message: String,
    lines: Vec<ArticleLine>,
    top_cited: Vec<ArticleLine>,
    next_href: String,
    can_write: bool,
}

/// What the knowledge page takes.
#[derive(Debug, Default, Deserialize)]
pub struct KnowledgeForm {
    q: Option<String>,
    category: Option<String>,
    offset: Option<u32>,
}

fn category_label(lang: Lang, code: &str) -> &'static str {
    ArticleCategory::from_code(code).map_or("", |c| lang.pick(c.label_zh(), c.label_en()))
}

fn state_label(lang: Lang, code: &str) -> &'static str {
    ArticleState::from_code(code).map_or("", |c| lang.pick(c.label_zh(), c.label_en()))
}

fn line(lang: Lang, a: &ArticleDto, snippet: Option<&SnippetDto>) -> ArticleLine {
    let (pieces, cut_before, cut_after) = snippet.map(pieces).unwrap_or_default();
    ArticleLine {
        id: a.id,
        code: a.code.clone(),
        title: a.title.clone(),
        category: category_label(lang, &a.category),
        state: state_label(lang, &a.state),
        in_force: a.in_force,
        links: a.links,
        pieces,
        cut_before,
        cut_after,
    }
}

/// GET /ui/knowledge?q=…&category=…: search or list the knowledge base, most cited beside.
pub async fn knowledge(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(form): Query<KnowledgeForm>,
) -> Response {
    let lang = viewer.lang;
    let s = words(lang);
    let units = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    let q = form.q.clone().unwrap_or_default();
    let category = form.category.clone().filter(|c| !c.is_empty());
    let query = ArticleQuery {
        q: Some(q.clone()),
        category: category.clone(),
        offset: form.offset,
        ..ArticleQuery::default()
    };
    let mut page = KnowledgePage {
        t: lang.t(),
        s,
        lang: lang.html_code(),
        title: s.knowledge.to_owned(),
        top: TopBar::new(&viewer, &units, "/ui/knowledge"),
        q: q.clone(),
        categories: ArticleCategory::ALL
            .iter()
            .map(|c| Choice {
                code: c.code(),
                label: lang.pick(c.label_zh(), c.label_en()),
                chosen: category.as_deref() == Some(c.code()),
            })
            .collect(),
        message: String::new(),
        lines: Vec::new(),
        top_cited: Vec::new(),
        next_href: String::new(),
        can_write: viewer.caller.roles.allows(Permission::KnowledgeEdit),
    };
    match crate::knowledge::list_articles(State(state.clone()), viewer.caller.clone(), Query(query))
        .await
    {
        Ok(found) => {
            let found = found.0;
            page.lines = found
                .items
                .iter()
                .map(|h| line(lang, &h.article, Some(&h.snippet)))
                .collect();
            if let Some(next) = found.next_offset {
                page.next_href = format!(
                    "/ui/knowledge?q={}&category={}&offset={next}",
                    url_encode(&q),
                    url_encode(category.as_deref().unwrap_or_default())
                );
            }
        }
        Err(e) => page.message = super::view::error_message(lang.t(), &e),
    }
    if let Ok(top) = crate::knowledge::most_linked(
        State(state),
        viewer.caller.clone(),
        Query(MostLinkedQuery { limit: Some(10) }),
    )
    .await
    {
        page.top_cited = top.0.iter().map(|a| line(lang, a, None)).collect();
    }
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage {
    t: &'static Text,
    s: &'static SearchText,
    lang: &'static str,
    title: String,
    top: TopBar,
    a: ArticleDto,
    category: &'static str,
    state: &'static str,
    validity: String,
    updated: String,
    /// The workflow steps the viewer may take now: (code, label).
    actions: Vec<(&'static str, &'static str)>,
    /// Whether the viewer may edit it now (a draft, `knowledge.edit`).
    editable: bool,
}

/// GET /ui/knowledge/{id}: one article, its body rendered safely.
pub async fn article(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> Response {
    let lang = viewer.lang;
    let s = words(lang);
    let id = raw.trim_start_matches("KB-").parse::<i64>().unwrap_or(0);
    let found =
        crate::knowledge::get_article(State(state.clone()), viewer.caller.clone(), PathId(id))
            .await;
    let a = match found {
        Ok(a) => a.0,
        Err(e) => return api_error_page(&viewer, &e),
    };
    let units: HashMap<i64, String> = unit_names(&state, &viewer.caller).await.unwrap_or_default();
    let day =
        |d: Option<chrono::NaiveDate>| d.map_or_else(|| s.open_ended.to_owned(), |d| d.to_string());
    let article_state = ArticleState::from_code(&a.state);
    let roles = &viewer.caller.roles;
    let actions = article_state
        .map(|st| {
            allowed_actions(st)
                .iter()
                .filter(|act| roles.allows(permission_for(**act)))
                .map(|act| (act.code(), lang.pick(act.label_zh(), act.label_en())))
                .collect()
        })
        .unwrap_or_default();
    let editable =
        article_state == Some(ArticleState::Draft) && roles.allows(Permission::KnowledgeEdit);
    let page = ArticlePage {
        actions,
        editable,
        t: lang.t(),
        s,
        lang: lang.html_code(),
        title: a.title.clone(),
        top: TopBar::new(&viewer, &units, "/ui/knowledge"),
        category: category_label(lang, &a.category),
        state: state_label(lang, &a.state),
        validity: format!("{} – {}", day(a.effective_from), day(a.effective_to)),
        updated: shanghai_time(a.updated_at),
        a,
    };
    render(StatusCode::OK, &page)
}
