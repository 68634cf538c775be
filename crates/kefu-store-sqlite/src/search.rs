//! Full-text search on SQLite (`kefu_store::search`): the contentless FTS5 table
//! `work_order_fts` (rowid = order id) holds each order's terms; a search is one `MATCH` joined
//! to `work_orders` for scope and filters, ranked by `bm25`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_store::catalogue::setting_conflict;
use kefu_store::search::{
    SearchPage, SearchPageRequest, checked_dictionary, decode_dictionary, dictionary_change,
    encode_dictionary, order_index_text,
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

/// An FTS5 query requiring every term, each as one quoted string (so no term is read as an
/// operator).
pub(crate) fn match_expression(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
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

/// The search: the FTS table drives (`CROSS JOIN` keeps SQLite from walking the scope's index
/// and running the full-text match once per order), the order row is joined by id for scope and
/// filters. `head` prefixes the statement (`EXPLAIN QUERY PLAN` in the plan test).
fn search_query(
    head: &str,
    terms: &[String],
    filter: &OrderFilter,
    scope: &OrgPath,
    page: SearchPageRequest,
) -> QueryBuilder<Sqlite> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!(
        "{head}SELECT w.id, bm25(work_order_fts) AS rank FROM work_order_fts \
         CROSS JOIN work_orders w ON w.id = work_order_fts.rowid WHERE work_order_fts MATCH "
    ));
    qb.push_bind(match_expression(terms));
    push_scope_and_filters(&mut qb, filter, scope);
    qb.push(" ORDER BY rank, w.id DESC LIMIT ")
        .push_bind(page.fetch_limit())
        .push(" OFFSET ")
        .push_bind(i64::from(page.offset));
    qb
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
            return Ok(page.page(Vec::new()));
        }
        let mut qb = search_query("", terms, filter, scope, page);
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let rows: Vec<(i64, f64)> = qb
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let orders = orders_by_ids(&mut conn, &ids).await?;
        // bm25 is lower for better matches; a rank reads better the higher it is.
        let hits = orders
            .into_iter()
            .zip(rows)
            .map(|(order, (_, bm25))| OrderHit { order, rank: -bm25 })
            .collect();
        Ok(page.page(hits))
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
        let rows: Vec<(i64, String)> = orders
            .iter()
            .map(|o| (o.id, order_index_text(&segmenter, &o.order)))
            .collect();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_full_text_index_drives_the_search_not_the_scope() {
        let store = crate::testing::fresh_store().await;
        let filter = OrderFilter::default();
        let scope = OrgPath::root(kefu_domain::ids::OrgUnitId(1));
        let terms = vec!["电费".to_owned()];
        let rows: Vec<(i64, i64, i64, String)> = search_query(
            "EXPLAIN QUERY PLAN ",
            &terms,
            &filter,
            &scope,
            SearchPageRequest::new(0, 20),
        )
        .build_query_as()
        .fetch_all(store.pool())
        .await
        .expect("plan");
        let first = rows.first().map(|r| r.3.clone()).unwrap_or_default();
        assert!(first.contains("work_order_fts"), "{rows:?}");
    }
}
