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
}

/// Which page of a search: the offset into the ranking and the page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchPageRequest {
    /// Hits to skip (at most [`MAX_SEARCH_OFFSET`]).
    pub offset: u32,
    /// Hits to return (1 ..= [`MAX_SEARCH_LIMIT`]).
    pub limit: u32,
}

impl SearchPageRequest {
    /// A page request with both values clamped to the allowed range.
    pub fn new(offset: u32, limit: u32) -> Self {
        Self {
            offset: offset.min(MAX_SEARCH_OFFSET),
            limit: limit.clamp(1, MAX_SEARCH_LIMIT),
        }
    }

    /// How many rows a store fetches: one more than the page, to know whether more exist.
    pub fn fetch_limit(self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// The page of `fetched` rows (at most `fetch_limit`).
    pub fn page(self, mut hits: Vec<OrderHit>) -> SearchPage {
        let more = hits.len() > self.limit as usize;
        hits.truncate(self.limit as usize);
        let next = self.offset + self.limit;
        SearchPage {
            hits,
            next_offset: (more && next <= MAX_SEARCH_OFFSET).then_some(next),
        }
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

/// The index text of an order: its number and its document cut into terms by `segmenter`.
pub fn order_index_text(segmenter: &Segmenter, order: &Order) -> String {
    with_number(&order.number, &segmenter.index_text(&order_document(order)))
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
        assert_eq!(p.fetch_limit(), 3);
        assert_eq!(
            SearchPageRequest::new(5000, 0),
            SearchPageRequest {
                offset: MAX_SEARCH_OFFSET,
                limit: 1
            }
        );
        let empty = p.page(Vec::new());
        assert_eq!(empty.next_offset, None);
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
