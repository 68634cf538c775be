//! Full-text search over work orders (issue 7): the text an order is found by, the user
//! dictionary of the segmenter (a versioned setting like the catalogue), and the search itself.
//!
//! Each store keeps one index row per order holding the order's terms as `kefu_text` cuts them
//! (SQLite: the FTS5 table `work_order_fts`; PostgreSQL: `work_order_search.terms`, a
//! `tsvector` over the pre-cut text with the `simple` configuration, GIN-indexed). The row is
//! written in the same transaction as the order row — by intake, by `apply` when the order's
//! text changed, and by the bulk load — so a committed order is always findable as committed.
//!
//! A search matches orders holding *every* query term as a whole term (AND), in the caller's
//! scope and the order list's filters, best first (SQLite `bm25`, PostgreSQL `ts_rank`; ties
//! newest first). Pages are offsets into that ranking, capped at [`MAX_SEARCH_OFFSET`]: a
//! person refines a query rather than paging past the first few hundred hits.
//!
//! The ranking is bounded, so that a word found in every order (客户) costs the same at 30
//! million orders as at 30 thousand: the store walks the full-text matches newest first (the
//! index's own order, no sort), narrowed inside the index by the scope's reserved unit term
//! (`search_terms`), checks the filters on at most [`SearchWindow::scan`] of them, keeps the
//! newest [`SearchWindow::rank`] that pass and ranks only those. When the walk stopped early the
//! page says so ([`SearchBound`]); a query whose matches fit in the window is ranked in full.
//!
//! The segmenter is per process: a save of the dictionary installs it in the saving process;
//! other processes pick it up when they start (`load_search_dictionary`). Orders indexed before
//! a dictionary change keep their old terms until `reindex_orders` (the `kefu search reindex`
//! command) rewrites them.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{MajorReason, Order, OrderNumber, Reply};
use kefu_text::Segmenter;

use crate::catalogue::Versioned;
use crate::{Actor, OrderFilter, StoreError, StoredOrder};

/// The furthest offset a search page may start at.
pub const MAX_SEARCH_OFFSET: u32 = 1000;
/// The most hits one page holds.
pub const MAX_SEARCH_LIMIT: u32 = 100;

/// A version of the segmenter's user dictionary (words kept whole, beyond the built-in ones).
pub type VersionedDictionary = Versioned<Vec<String>>;

/// One order found by a search, with its rank (higher is better; comparable within one search).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderHit {
    /// The order, as `get_order` reads it.
    pub order: StoredOrder,
    /// The relevance the store computed.
    pub rank: f64,
}

/// One page of hits, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// The hits.
    pub hits: Vec<OrderHit>,
    /// Where the next page starts, when there are more hits (and the cap allows).
    pub next_offset: Option<u32>,
    /// Whether the search stopped short of every match (and how); `None`: every match was
    /// ranked.
    pub bound: Option<SearchBound>,
    /// Some index rows predate the current index format: scope narrowing inside the index is
    /// off (the scope is still checked on every hit) and phone fragments find only reindexed
    /// orders, until `kefu search reindex` has run.
    pub index_outdated: bool,
}

/// Why a search page does not rank every match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchBound {
    /// More orders matched than the ranking window: the hits are the best of the newest `n`
    /// matches (after the filters). More words or filters narrow it.
    RankedAmong(u32),
    /// The filters were checked on the newest `n` matches only and left fewer than the
    /// ranking window: older matching orders may be missing. More words narrow it.
    FilteredAmong(u32),
}

/// How much of a full-text match a search looks at (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchWindow {
    /// The newest matches (after the filters) that are ranked.
    pub rank: u32,
    /// The newest matches the filters are checked on, at most.
    pub scan: u32,
}

impl SearchWindow {
    /// The window a search uses unless told otherwise. Ranking 2 000 candidates keeps a page
    /// under the 100 ms target at 30 M orders (BENCHMARKS.md); checking the filters on 20 000
    /// bounds a search whose filters reject most matches.
    pub const DEFAULT: SearchWindow = SearchWindow {
        rank: 2000,
        scan: 20_000,
    };

    /// A window of `rank` candidates (at least 1) out of at most `scan` matches (at least
    /// `rank`). Pages beyond `rank` are empty: the default holds the furthest page.
    pub fn new(rank: u32, scan: u32) -> Self {
        let rank = rank.max(1);
        Self {
            rank,
            scan: scan.max(rank),
        }
    }
}

impl Default for SearchWindow {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which page of a search: the offset into the ranking and the page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchPageRequest {
    /// Hits to skip (at most [`MAX_SEARCH_OFFSET`]).
    pub offset: u32,
    /// Hits to return (1 ..= [`MAX_SEARCH_LIMIT`]).
    pub limit: u32,
    /// How much of the match is looked at.
    pub window: SearchWindow,
}

impl SearchPageRequest {
    /// A page request with both values clamped to the allowed range, and the default window.
    pub fn new(offset: u32, limit: u32) -> Self {
        Self {
            offset: offset.min(MAX_SEARCH_OFFSET),
            limit: limit.clamp(1, MAX_SEARCH_LIMIT),
            window: SearchWindow::DEFAULT,
        }
    }

    /// The same page with another window (benchmarks, tests).
    pub fn with_window(self, window: SearchWindow) -> Self {
        Self { window, ..self }
    }

    /// The page of a ranking: `ranked` holds every candidate as (order id, rank), the window's
    /// candidates being `candidates` many. Sorts best first (ties newest first) and returns the
    /// ids and ranks of this page, and the next offset.
    pub fn cut(self, mut ranked: Vec<(i64, f64)>) -> (Vec<(i64, f64)>, Option<u32>) {
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        let start = (self.offset as usize).min(ranked.len());
        let end = (start + self.limit as usize).min(ranked.len());
        let next = self.offset + self.limit;
        let more = ranked.len() > end;
        let page = ranked[start..end].to_vec();
        (page, (more && next <= MAX_SEARCH_OFFSET).then_some(next))
    }

    /// An empty page.
    pub fn empty(self) -> SearchPage {
        SearchPage {
            hits: Vec::new(),
            next_offset: None,
            bound: None,
            index_outdated: false,
        }
    }
}

/// The candidates of a bounded search, newest first, as a store's walk found them: `fetched`
/// holds at most `window.rank + 1` order ids that passed the filters; `scan_full` tells whether
/// the walk examined `window.scan` matches (so that more may exist beyond it).
pub fn bound_of(fetched: usize, scan_full: bool, window: SearchWindow) -> Option<SearchBound> {
    if fetched > window.rank as usize {
        Some(SearchBound::RankedAmong(window.rank))
    } else if scan_full {
        Some(SearchBound::FilteredAmong(window.scan))
    } else {
        None
    }
}

/// How far a rebuild of the index got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReindexStep {
    /// Orders re-indexed by this step.
    pub indexed: u64,
    /// The highest order id done, to continue after; `None` when there was nothing left.
    pub last_id: Option<i64>,
}

/// Full-text search over work orders, and the segmenter's user dictionary.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// The segmenter the store indexes with; queries must be cut with the same one.
    fn segmenter(&self) -> Arc<Segmenter>;

    /// Orders in `scope` matching `filter` that hold every one of `terms` (as cut by
    /// `segmenter().query_terms`), best first. No terms: no hits.
    async fn search_orders(
        &self,
        terms: &[String],
        filter: &OrderFilter,
        scope: &OrgPath,
        page: SearchPageRequest,
    ) -> Result<SearchPage, StoreError>;

    /// The newest saved user dictionary, or an empty one at version 0.
    async fn search_dictionary(&self) -> Result<VersionedDictionary, StoreError>;

    /// Saves `words` (checked with `kefu_text::check_words`) over `expected_version` (else
    /// `VersionConflict`), with an audit entry, and segments with them from now on in this
    /// process. Equal words are returned as they are.
    async fn save_search_dictionary(
        &self,
        words: Vec<String>,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedDictionary, StoreError>;

    /// Reads the stored dictionary and segments with it from now on (at start-up); returns its
    /// version.
    async fn load_search_dictionary(&self) -> Result<i64, StoreError>;

    /// Rewrites the index rows of up to `batch` orders with ids above `after_id`, in id order,
    /// in one transaction (with the current segmenter).
    async fn reindex_orders(&self, after_id: i64, batch: u32) -> Result<ReindexStep, StoreError>;

    /// How many orders there are (the reindex progress bar's length).
    async fn count_orders(&self) -> Result<u64, StoreError>;

    /// Records that every order's index row has been rewritten in the current format
    /// (`search_terms::INDEX_FORMAT`), after a full `reindex_orders` pass.
    async fn finish_reindex(&self) -> Result<(), StoreError>;

    /// The format of the oldest index rows (`search_terms::INDEX_FORMAT` when all are
    /// current).
    async fn index_format(&self) -> Result<i64, StoreError>;
}

/// The text an order is found by besides its number: the appeal, the reply, the visit
/// comment, and every reason or note written on it. Personal data (names, addresses, phones of
/// callers) is left out: a search must not reveal what the caller's role would mask.
pub fn order_document(order: &Order) -> String {
    let mut parts: Vec<&str> = vec![&order.content];
    if let Some(MajorReason::Manual(reason)) = &order.major {
        parts.push(reason);
    }
    if let Some(Reply {
        actions_taken,
        result_and_feedback,
        compensation,
        ..
    }) = &order.reply
    {
        parts.push(actions_taken);
        parts.push(result_and_feedback);
        if let Some(c) = compensation {
            parts.push(&c.cause);
        }
    }
    if let Some(comment) = order.visit.as_ref().and_then(|v| v.comment.as_deref()) {
        parts.push(comment);
    }
    parts.extend(order.returns.iter().filter_map(|r| r.text.as_deref()));
    parts.extend(order.supervisions.iter().map(|s| s.reason.as_str()));
    parts.extend(order.send_backs.iter().map(|s| s.reason.as_str()));
    parts.extend(order.suspensions.iter().filter_map(|s| s.text.as_deref()));
    parts.join("\n")
}

/// The index text of an order numbered `number` whose document was cut into `terms`: the
/// number (one term, as a query cuts it) and the terms.
pub fn with_number(number: &OrderNumber, terms: &str) -> String {
    format!("{} {terms}", number.to_string().to_ascii_lowercase())
}

/// The index text of an order: its number, its document cut into terms by `segmenter`, and
/// its reserved unit and phone terms (`search_terms::order_terms`).
pub fn order_index_text(segmenter: &Segmenter, order: &Order) -> String {
    crate::search_terms::order_terms(order, &segmenter.index_text(&order_document(order)))
}

/// The index texts of many orders (a bulk load, a reindex step), in order. Cutting is the
/// bulk load's largest cost and needs nothing but the segmenter, so a large batch is cut on
/// up to four threads (as many as the machine has cores); the writes stay on the caller's.
pub fn order_index_texts(segmenter: &Segmenter, orders: &[&Order]) -> Vec<String> {
    const PER_THREAD: usize = 256;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(4)
        .min(orders.len() / PER_THREAD)
        .max(1);
    if threads == 1 {
        return orders
            .iter()
            .map(|o| order_index_text(segmenter, o))
            .collect();
    }
    let chunk = orders.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut parts = orders.chunks(chunk);
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|o| order_index_text(segmenter, o))
                        .collect::<Vec<String>>()
                })
            })
            .collect();
        let mut out: Vec<String> = first
            .iter()
            .map(|o| order_index_text(segmenter, o))
            .collect();
        for handle in others {
            // A panic while cutting is a bug in the segmenter: let it surface as one.
            match handle.join() {
                Ok(texts) => out.extend(texts),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// The error of a corrupt stored dictionary.
pub fn decode_dictionary(body: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> =
        serde_json::from_str(body).map_err(|e| format!("not a JSON list of words: {e}"))?;
    kefu_text::check_words(&words).map_err(|errors| {
        errors
            .iter()
            .map(|(i, e)| format!("word {i}: {e}"))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// The stored form of a dictionary: a JSON list of words.
pub fn encode_dictionary(words: &[String]) -> String {
    serde_json::Value::from(words.to_vec()).to_string()
}

/// Checks a dictionary to be saved, as `InvalidState` naming every bad word.
pub fn checked_dictionary(words: &[String]) -> Result<Vec<String>, StoreError> {
    kefu_text::check_words(words).map_err(|errors| {
        StoreError::InvalidState(
            errors
                .iter()
                .map(|(i, e)| format!("words[{i}]: {e}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// The audit detail of a dictionary save: the version and the words added and removed.
pub fn dictionary_change(version: i64, old: &[String], new: &[String]) -> String {
    let added: Vec<&str> = new
        .iter()
        .filter(|w| !old.contains(w))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = old
        .iter()
        .filter(|w| !new.contains(w))
        .map(String::as_str)
        .collect();
    let mut parts = vec![format!("version {version}: {} words", new.len())];
    if !added.is_empty() {
        parts.push(format!("added {}", crate::catalogue::listed(&added)));
    }
    if !removed.is_empty() {
        parts.push(format!("removed {}", crate::catalogue::listed(&removed)));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_knows_whether_more_hits_follow_and_stops_at_the_cap() {
        let p = SearchPageRequest::new(0, 2);
        assert_eq!(
            SearchPageRequest::new(5000, 0),
            SearchPageRequest {
                offset: MAX_SEARCH_OFFSET,
                limit: 1,
                window: SearchWindow::DEFAULT,
            }
        );
        let ranked = vec![(1, 0.5), (2, 0.5), (3, 2.0)];
        assert_eq!(p.cut(ranked.clone()), (vec![(3, 2.0), (2, 0.5)], Some(2)));
        assert_eq!(
            SearchPageRequest::new(2, 2).cut(ranked),
            (vec![(1, 0.5)], None),
            "ties newest first, the last page has no next"
        );
        assert_eq!(p.cut(Vec::new()), (Vec::new(), None));
        let far = SearchPageRequest::new(MAX_SEARCH_OFFSET, 1);
        let many: Vec<(i64, f64)> = (0..1200).map(|i| (i, 0.0)).collect();
        assert_eq!(far.cut(many).1, None, "no page starts beyond the cap");
    }

    #[test]
    fn a_window_names_why_not_every_match_was_ranked() {
        let w = SearchWindow::new(1200, 5000);
        assert_eq!(
            bound_of(1201, false, w),
            Some(SearchBound::RankedAmong(1200))
        );
        assert_eq!(
            bound_of(1201, true, w),
            Some(SearchBound::RankedAmong(1200))
        );
        assert_eq!(
            bound_of(30, true, w),
            Some(SearchBound::FilteredAmong(5000))
        );
        assert_eq!(bound_of(30, false, w), None);
        assert_eq!(SearchWindow::new(0, 0), SearchWindow { rank: 1, scan: 1 });
        let d = SearchWindow::DEFAULT;
        assert!(
            d.rank >= MAX_SEARCH_OFFSET + MAX_SEARCH_LIMIT,
            "the default holds every page"
        );
    }

    #[test]
    fn dictionaries_round_trip_and_bad_words_are_named() {
        let words = vec!["峰谷电价".to_owned(), "自备变".to_owned()];
        assert_eq!(decode_dictionary(&encode_dictionary(&words)), Ok(words));
        let err = checked_dictionary(&["好".into(), "a,b".into()]);
        assert!(
            matches!(&err, Err(StoreError::InvalidState(m)) if m.contains("words[1]")),
            "{err:?}"
        );
        assert_eq!(
            dictionary_change(2, &["甲".into()], &["乙".into()]),
            "version 2: 1 words; added 乙; removed 甲"
        );
    }
}
