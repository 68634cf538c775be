//! Full-text search on SQLite (`kefu_store::search`): the contentless FTS5 table
//! `work_order_fts` (rowid = order id) holds each order's terms and reserved terms; a search
//! walks one `MATCH` newest first, joined to `work_orders` for scope and filters, within a
//! bounded window, and ranks the candidates by `bm25` over the query's weighted terms.

/// A query term found in more orders than this weighs nothing in the ranking (see `ranks`):
/// counting its orders for `bm25` would cost a walk over them all. 20 000 keeps that count
/// near a millisecond per term.
pub const WEIGHT_BOUND: u32 = 20_000;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::Order;
use kefu_store::catalogue::setting_conflict;
use kefu_store::search::{
    SearchPage, SearchPageRequest, SearchWindow, bound_of, checked_dictionary, decode_dictionary,
    dictionary_change, encode_dictionary, order_index_texts,
};
use kefu_store::search_terms::{
    INDEX_FORMAT, QueryTerm, index_decides, search_scope_term, within_scope,
};
use kefu_store::{
    Actor, OrderFilter, OrderHit, ReindexStep, SearchStore, Setting, StoreError, Versioned,
    VersionedDictionary,
};
use kefu_text::Segmenter;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::catalogue::{append, current};
use crate::customer_insert::bulk_insert;
use crate::workorder_read::orders_by_ids;
use crate::{SqliteStore, db, ms, scope_range};

/// Replaces the index row of order `id` with `terms`.
pub(crate) async fn put_terms(
    conn: &mut SqliteConnection,
    id: i64,
    terms: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM work_order_fts WHERE rowid = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    insert_terms(conn, &[(id, terms.to_owned())]).await
}

/// Inserts the index rows of orders that have none yet.
pub(crate) async fn insert_terms(
    conn: &mut SqliteConnection,
    rows: &[(i64, String)],
) -> Result<(), StoreError> {
    bulk_insert(
        conn,
        "INSERT INTO work_order_fts (rowid, terms) ",
        2,
        rows,
        |b, (id, terms)| {
            b.push_bind(*id).push_bind(terms.clone());
        },
    )
    .await
    .map_err(db)
}

/// One quoted FTS5 string (so that no term is read as an operator).
fn quoted(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// The FTS5 expression of one query term: the word, or (digits shaped like a phone fragment)
/// the word or the caller's phone term, a prefix match for a leading fragment.
fn term_expression(term: &QueryTerm) -> String {
    let word = quoted(term.word());
    match (term, term.reserved()) {
        (QueryTerm::PhonePrefix(_), Some(r)) => format!("({word} OR {}*)", quoted(&r)),
        (_, Some(r)) => format!("({word} OR {})", quoted(&r)),
        (_, None) => word,
    }
}

/// An FTS5 query requiring every term as a word (the knowledge base's search).
pub(crate) fn words_expression(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| quoted(t))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An FTS5 query requiring every term (and the reserved unit term `scope`, if given).
pub(crate) fn match_expression(terms: &[String], scope: Option<&str>) -> String {
    terms
        .iter()
        .map(|t| term_expression(&QueryTerm::of(t)))
        .chain(scope.map(quoted))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The order list's filters on the joined `work_orders w`, and the caller's scope.
fn push_scope_and_filters(qb: &mut QueryBuilder<Sqlite>, filter: &OrderFilter, scope: &OrgPath) {
    let (low, high) = scope_range(scope);
    if filter.assisting {
        qb.push(" AND w.id IN (SELECT order_id FROM work_order_assists WHERE unit_path >= ")
            .push_bind(low)
            .push(" AND unit_path < ")
            .push_bind(high)
            .push(")");
    } else {
        qb.push(" AND w.home_unit_path >= ").push_bind(low);
        qb.push(" AND w.home_unit_path < ").push_bind(high);
    }
    if let Some(unit) = &filter.unit {
        let (l, h) = scope_range(unit);
        qb.push(" AND w.home_unit_path >= ").push_bind(l);
        qb.push(" AND w.home_unit_path < ").push_bind(h);
    }
    if let Some(c) = filter.customer {
        qb.push(" AND w.customer_id = ").push_bind(c.0);
    }
    if let Some(s) = filter.state {
        qb.push(" AND w.state = ").push_bind(s.code());
    }
    if let Some(t) = filter.appeal_type {
        qb.push(" AND w.appeal_type = ").push_bind(t.code());
    }
    if let Some(c) = filter.channel {
        qb.push(" AND w.channel = ").push_bind(c.code());
    }
    for (column, value) in [
        ("w.major", filter.major),
        ("w.is_repeat", filter.repeat),
        ("w.supervised", filter.supervised),
    ] {
        if let Some(v) = value {
            qb.push(format!(" AND {column} = {}", i64::from(v)));
        }
    }
    if let Some(o) = filter.overdue {
        if o.yes {
            qb.push(" AND w.due_at <= ").push_bind(ms(o.at));
        } else {
            qb.push(" AND (w.due_at IS NULL OR w.due_at > ")
                .push_bind(ms(o.at))
                .push(")");
        }
    }
    if let Some(from) = filter.created_from {
        qb.push(" AND w.created_at >= ").push_bind(ms(from));
    }
    if let Some(to) = filter.created_to {
        qb.push(" AND w.created_at < ").push_bind(ms(to));
    }
}

/// The candidates of a search: the FTS table drives, newest match first in its own rowid order
/// (no sort, and the walk stops early), narrowed by the reserved unit term inside the index;
/// at most `window.scan` matches are looked at (the co-routine `c`), their order rows joined
/// by id for the scope and the filters (the scope check stays: it is what keeps a hit inside
/// the caller's scope, whatever the index says), and the first `window.rank + 1` that pass are
/// kept. `head` prefixes the statement (`EXPLAIN QUERY PLAN` in the plan test).
fn candidates_query(
    head: &str,
    expression: String,
    filter: &OrderFilter,
    scope: &OrgPath,
    window: SearchWindow,
) -> QueryBuilder<Sqlite> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!(
        "{head}SELECT w.id FROM (SELECT rowid AS id FROM work_order_fts \
         WHERE work_order_fts MATCH "
    ));
    qb.push_bind(expression)
        .push(" ORDER BY rowid DESC LIMIT ")
        .push_bind(i64::from(window.scan))
        .push(") AS c CROSS JOIN work_orders w ON w.id = c.id WHERE 1 = 1");
    push_scope_and_filters(&mut qb, filter, scope);
    qb.push(" LIMIT ").push_bind(i64::from(window.rank) + 1);
    qb
}

/// Whether the full-text match `expression` holds more than `n` orders: walks at most `n + 1`
/// of them, newest first.
async fn matches_more_than(
    conn: &mut SqliteConnection,
    expression: &str,
    n: u32,
) -> Result<bool, StoreError> {
    let row: Option<i64> = sqlx::query_scalar(
        "SELECT rowid FROM work_order_fts WHERE work_order_fts MATCH ? \
         ORDER BY rowid DESC LIMIT 1 OFFSET ?",
    )
    .bind(expression)
    .bind(i64::from(n))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    Ok(row.is_some())
}

/// The ranks of the candidates `ids` (newest first): `bm25` over the query's *weighted* terms,
/// those found in at most [`WEIGHT_BOUND`] orders; a term found in more weighs nothing and
/// leaves the order to recency. Why: `bm25` first counts every order holding each phrase of the
/// expression (FTS5 walks the phrase's whole doclist for its IDF, once per query), so a common
/// word like 客户 would cost a pass over millions of rows however few candidates are ranked;
/// such a word's IDF is small anyway. The candidates are read in their rowid range only.
async fn ranks(
    conn: &mut SqliteConnection,
    terms: &[String],
    ids: &[i64],
) -> Result<Vec<(i64, f64)>, StoreError> {
    let (Some(&high), Some(&low)) = (ids.first(), ids.last()) else {
        return Ok(Vec::new());
    };
    let mut weighted = Vec::new();
    for term in terms {
        let expression = term_expression(&QueryTerm::of(term));
        if !matches_more_than(conn, &expression, WEIGHT_BOUND).await? {
            weighted.push(expression);
        }
    }
    let mut scores: HashMap<i64, f64> = HashMap::new();
    if !weighted.is_empty() {
        let rows: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, bm25(work_order_fts) FROM work_order_fts \
             WHERE work_order_fts MATCH ? AND rowid >= ? AND rowid <= ?",
        )
        .bind(weighted.join(" AND "))
        .bind(low)
        .bind(high)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        // bm25 is lower for better matches; a rank reads better the higher it is.
        scores.extend(rows.into_iter().map(|(id, bm25)| (id, -bm25)));
    }
    Ok(ids
        .iter()
        .map(|id| (*id, scores.get(id).copied().unwrap_or(0.0)))
        .collect())
}

/// The format of the oldest index rows.
async fn stored_index_format(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    let format: Option<i64> = sqlx::query_scalar("SELECT format FROM search_index_format")
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    Ok(format.unwrap_or(1))
}

fn dictionary_default() -> Vec<String> {
    Vec::new()
}

#[async_trait]
impl SearchStore for SqliteStore {
    fn segmenter(&self) -> Arc<Segmenter> {
        self.text.current()
    }

    async fn search_orders(
        &self,
        terms: &[String],
        filter: &OrderFilter,
        scope: &OrgPath,
        page: SearchPageRequest,
    ) -> Result<SearchPage, StoreError> {
        if terms.is_empty() {
            return Ok(page.empty());
        }
        let started = std::time::Instant::now();
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let index_outdated = stored_index_format(&mut conn).await? < INDEX_FORMAT;
        // Rows of an older format lack the unit terms: narrowing by them would drop those rows.
        let scope_term = (!index_outdated)
            .then(|| search_scope_term(filter, scope))
            .flatten();
        let expression = match_expression(terms, scope_term.as_deref());
        let window = page.window;
        // When the unit term decides the scope and nothing else filters, the index alone gives
        // the candidates: reading each candidate's order row would double the walk's cost.
        let index_only = scope_term.is_some() && index_decides(filter, scope);
        let mut ids: Vec<i64> = if index_only {
            sqlx::query_scalar(
                "SELECT rowid FROM work_order_fts WHERE work_order_fts MATCH ? \
                 ORDER BY rowid DESC LIMIT ?",
            )
            .bind(&expression)
            .bind(i64::from(window.rank) + 1)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?
        } else {
            candidates_query("", expression.clone(), filter, scope, window)
                .build_query_scalar()
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?
        };
        // The co-routine yields newest first; sorting again costs nothing and does not rely on
        // the join keeping that order.
        ids.sort_unstable_by_key(|id| std::cmp::Reverse(*id));
        let fetched = ids.len();
        ids.truncate(window.rank as usize);
        let walked = started.elapsed();
        let scan_full = !index_only
            && fetched <= window.rank as usize
            && matches_more_than(&mut conn, &expression, window.scan).await?;
        let ranked = ranks(&mut conn, terms, &ids).await?;
        let rank_done = started.elapsed();
        let (rows, next_offset) = page.cut(ranked);
        let page_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let orders = orders_by_ids(&mut conn, &page_ids).await?;
        // Where a slow search spends its time (RUST_LOG=kefu_store_sqlite::search=debug).
        tracing::debug!(
            ?terms,
            candidates = fetched,
            walk_ms = walked.as_secs_f64() * 1e3,
            rank_ms = (rank_done - walked).as_secs_f64() * 1e3,
            read_ms = (started.elapsed() - rank_done).as_secs_f64() * 1e3,
            "order search"
        );
        let hits = orders
            .into_iter()
            .zip(rows)
            .map(|(order, (_, rank))| OrderHit { order, rank })
            .collect();
        let (hits, stray) = within_scope(hits, filter, scope);
        if stray > 0 {
            tracing::error!(
                stray,
                "search index rows disagree with their orders' units; run kefu search reindex"
            );
        }
        Ok(SearchPage {
            hits,
            next_offset,
            bound: bound_of(fetched, scan_full, window),
            index_outdated,
        })
    }

    async fn search_dictionary(&self) -> Result<VersionedDictionary, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        current(
            &mut conn,
            Setting::SearchDictionary,
            decode_dictionary,
            dictionary_default,
        )
        .await
    }

    async fn save_search_dictionary(
        &self,
        words: Vec<String>,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedDictionary, StoreError> {
        let setting = Setting::SearchDictionary;
        let words = checked_dictionary(&words)?;
        let mut tx = self.write_tx().await?;
        let stored = current(&mut tx, setting, decode_dictionary, dictionary_default).await?;
        if stored.version != expected_version {
            return Err(setting_conflict(setting, stored.version));
        }
        if stored.value == words {
            return Ok(stored);
        }
        let version = stored.version + 1;
        let detail = dictionary_change(version, &stored.value, &words);
        let body = encode_dictionary(&words);
        let saved = append(&mut tx, setting, version, body, detail, actor, now).await?;
        tx.commit().await.map_err(db)?;
        self.text.install(&words);
        Ok(Versioned {
            version,
            value: words,
            saved: Some(saved),
        })
    }

    async fn load_search_dictionary(&self) -> Result<i64, StoreError> {
        let stored = self.search_dictionary().await?;
        self.text.install(&stored.value);
        Ok(stored.version)
    }

    async fn reindex_orders(&self, after_id: i64, batch: u32) -> Result<ReindexStep, StoreError> {
        let segmenter = self.text.current();
        let mut tx = self.write_tx().await?;
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM work_orders WHERE id > ? ORDER BY id LIMIT ?")
                .bind(after_id)
                .bind(i64::from(batch.max(1)))
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
        let Some(last) = ids.last().copied() else {
            return Ok(ReindexStep {
                indexed: 0,
                last_id: None,
            });
        };
        let orders = orders_by_ids(&mut tx, &ids).await?;
        let refs: Vec<&Order> = orders.iter().map(|o| &o.order).collect();
        let texts = order_index_texts(&segmenter, &refs);
        let rows: Vec<(i64, String)> = orders.iter().map(|o| o.id).zip(texts).collect();
        sqlx::query("DELETE FROM work_order_fts WHERE rowid > ? AND rowid <= ?")
            .bind(after_id)
            .bind(last)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        insert_terms(&mut tx, &rows).await?;
        tx.commit().await.map_err(db)?;
        Ok(ReindexStep {
            indexed: rows.len() as u64,
            last_id: Some(last),
        })
    }

    async fn count_orders(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM work_orders")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn finish_reindex(&self) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE search_index_format SET format = ?")
            .bind(INDEX_FORMAT)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn index_format(&self) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        stored_index_format(&mut conn).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_full_text_index_drives_the_search_not_the_scope() {
        let store = crate::testing::fresh_store().await;
        let filter = OrderFilter::default();
        let scope =
            OrgPath::root(kefu_domain::ids::OrgUnitId(1)).child(kefu_domain::ids::OrgUnitId(2));
        let terms = vec!["电费".to_owned()];
        let expression = match_expression(&terms, search_scope_term(&filter, &scope).as_deref());
        assert_eq!(expression, "\"电费\" AND \"kfu1x2\"");
        let rows: Vec<(i64, i64, i64, String)> = candidates_query(
            "EXPLAIN QUERY PLAN ",
            expression,
            &filter,
            &scope,
            SearchWindow::DEFAULT,
        )
        .build_query_as()
        .fetch_all(store.pool())
        .await
        .expect("plan");
        let plan: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
        // The match is a co-routine walking the index in rowid order (no sort, stops at the
        // LIMIT), the order rows are looked up by id, and nothing is sorted afterwards.
        assert!(plan.iter().any(|p| p.contains("CO-ROUTINE")), "{plan:?}");
        assert!(
            plan.iter().any(|p| p.contains("VIRTUAL TABLE INDEX")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|p| p.starts_with("SEARCH w USING INTEGER PRIMARY KEY")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
    }

    #[test]
    fn phone_shaped_digits_also_match_the_reserved_phone_terms() {
        assert_eq!(
            match_expression(&["5678".into(), "1380000".into(), "电费".into()], None),
            "(\"5678\" OR \"kft5678\") AND (\"1380000\" OR \"kfp1380000\"*) AND \"电费\""
        );
    }
}
