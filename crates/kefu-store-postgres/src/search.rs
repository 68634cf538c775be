//! Full-text search on PostgreSQL (`kefu_store::search`): `work_order_search` holds each
//! order's terms and reserved terms as a `tsvector` (`simple` configuration over the pre-cut
//! text, GIN-indexed); a search takes the newest matches of one `@@` within a bounded window,
//! joined to `work_orders` for scope and filters, and ranks them by `ts_rank`.

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
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::catalogue::{append, current, lock_settings};
use crate::workorder_read::orders_by_ids;
use crate::{PgStore, db, scope_range};

/// Writes (or replaces) the index rows of the given orders.
pub(crate) async fn put_terms(
    conn: &mut PgConnection,
    rows: &[(i64, String)],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let (ids, terms): (Vec<i64>, Vec<&str>) = rows.iter().map(|(i, t)| (*i, t.as_str())).unzip();
    sqlx::query(
        "INSERT INTO work_order_search (order_id, terms) \
         SELECT u.id, to_tsvector('simple', u.t) FROM UNNEST($1::bigint[], $2::text[]) AS u(id, t) \
         ON CONFLICT (order_id) DO UPDATE SET terms = EXCLUDED.terms",
    )
    .bind(&ids)
    .bind(&terms)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    .map_err(db)
}

/// The order list's filters on the joined `work_orders w`, and the caller's scope.
fn push_scope_and_filters(qb: &mut QueryBuilder<Postgres>, filter: &OrderFilter, scope: &OrgPath) {
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
        match value {
            Some(true) => qb.push(format!(" AND {column}")),
            Some(false) => qb.push(format!(" AND NOT {column}")),
            None => qb,
        };
    }
    if let Some(o) = filter.overdue {
        if o.yes {
            qb.push(" AND w.due_at <= ").push_bind(o.at);
        } else {
            qb.push(" AND (w.due_at IS NULL OR w.due_at > ")
                .push_bind(o.at)
                .push(")");
        }
    }
    if let Some(from) = filter.created_from {
        qb.push(" AND w.created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.created_to {
        qb.push(" AND w.created_at < ").push_bind(to);
    }
}

/// Pushes the `tsquery` requiring every term (and the reserved unit term `scope`): the plain
/// words through `plainto_tsquery` as before, each phone-shaped run of digits as the word or
/// the caller's phone term (a prefix match for a leading fragment). Digits and reserved terms
/// are single lexemes of the `simple` parser, so `to_tsquery` reads them as they are.
fn push_tsquery(qb: &mut QueryBuilder<Postgres>, terms: &[String], scope: Option<&str>) {
    let mut words = Vec::new();
    let mut special = Vec::new();
    for term in terms {
        let q = QueryTerm::of(term);
        match (&q, q.reserved()) {
            (QueryTerm::PhonePrefix(d), Some(r)) => special.push(format!("({d} | {r}:*)")),
            (_, Some(r)) => special.push(format!("({} | {r})", q.word())),
            (_, None) => words.push(q.word().to_owned()),
        }
    }
    special.extend(scope.map(str::to_owned));
    qb.push("(");
    if !words.is_empty() {
        qb.push("plainto_tsquery('simple', ")
            .push_bind(words.join(" "))
            .push(")");
    }
    if !special.is_empty() {
        if !words.is_empty() {
            qb.push(" && ");
        }
        qb.push("to_tsquery('simple', ")
            .push_bind(special.join(" & "))
            .push(")");
    }
    qb.push(")");
}

/// The candidates of a search with their `ts_rank`: the newest matches (at most
/// `window.scan`, the subquery `c`), joined to their order rows for the scope and the filters
/// (the scope check stays: it keeps a hit inside the caller's scope whatever the index says),
/// the newest `window.rank + 1` that pass. `ts_rank` needs no statistics of the whole table,
/// so only these rows are ranked. The `tsquery` is written out twice rather than shared: as a
/// constant expression of the statement's parameters, the planner estimates its selectivity.
fn candidates_query(
    terms: &[String],
    scope_term: Option<&str>,
    filter: &OrderFilter,
    scope: &OrgPath,
    window: SearchWindow,
) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new("SELECT w.id, ts_rank(c.terms, ");
    push_tsquery(&mut qb, terms, scope_term);
    qb.push(
        ")::float8 FROM (SELECT s.order_id, s.terms FROM work_order_search s WHERE s.terms @@ ",
    );
    push_tsquery(&mut qb, terms, scope_term);
    qb.push(" ORDER BY s.order_id DESC LIMIT ")
        .push_bind(i64::from(window.scan))
        .push(") AS c JOIN work_orders w ON w.id = c.order_id WHERE TRUE");
    push_scope_and_filters(&mut qb, filter, scope);
    qb.push(" ORDER BY w.id DESC LIMIT ")
        .push_bind(i64::from(window.rank) + 1);
    qb
}

/// The candidates of a search the index decides alone: the newest `window.rank + 1` matches
/// with their `ts_rank`.
fn index_candidates_query(
    terms: &[String],
    scope_term: Option<&str>,
    window: SearchWindow,
) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new("SELECT c.order_id, ts_rank(c.terms, ");
    push_tsquery(&mut qb, terms, scope_term);
    qb.push(
        ")::float8 FROM (SELECT s.order_id, s.terms FROM work_order_search s WHERE s.terms @@ ",
    );
    push_tsquery(&mut qb, terms, scope_term);
    qb.push(" ORDER BY s.order_id DESC LIMIT ")
        .push_bind(i64::from(window.rank) + 1)
        .push(") AS c");
    qb
}

/// Whether more than `n` orders match.
async fn matches_more_than(
    conn: &mut PgConnection,
    terms: &[String],
    scope_term: Option<&str>,
    n: u32,
) -> Result<bool, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT s.order_id FROM work_order_search s WHERE s.terms @@ ",
    );
    push_tsquery(&mut qb, terms, scope_term);
    qb.push(" ORDER BY s.order_id DESC LIMIT 1 OFFSET ")
        .push_bind(i64::from(n));
    let row: Option<i64> = qb
        .build_query_scalar()
        .persistent(false)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    Ok(row.is_some())
}

/// The format of the oldest index rows.
async fn stored_index_format(conn: &mut PgConnection) -> Result<i64, StoreError> {
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
impl SearchStore for PgStore {
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
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let index_outdated = stored_index_format(&mut conn).await? < INDEX_FORMAT;
        // Rows of an older format lack the unit terms: narrowing by them would drop those rows.
        let scope_term = (!index_outdated)
            .then(|| search_scope_term(filter, scope))
            .flatten();
        let window = page.window;
        // When the unit term decides the scope and nothing else filters, the index alone gives
        // the candidates (no order row read per candidate).
        let index_only = scope_term.is_some() && index_decides(filter, scope);
        let mut qb = if index_only {
            index_candidates_query(terms, scope_term.as_deref(), window)
        } else {
            candidates_query(terms, scope_term.as_deref(), filter, scope, window)
        };
        // Unnamed (not cached) statement: planned with the query's own words, so PostgreSQL
        // picks the index walk for a common word and the GIN index for a rare one.
        let mut rows: Vec<(i64, f64)> = qb
            .build_query_as()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
        let fetched = rows.len();
        rows.truncate(window.rank as usize);
        let scan_full = !index_only
            && fetched <= window.rank as usize
            && matches_more_than(&mut conn, terms, scope_term.as_deref(), window.scan).await?;
        let (rows, next_offset) = page.cut(rows);
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let orders = orders_by_ids(&mut conn, &ids).await?;
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
        lock_settings(&mut tx).await?;
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
            sqlx::query_scalar("SELECT id FROM work_orders WHERE id > $1 ORDER BY id LIMIT $2")
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
        // The rows stay locked until commit, so a concurrent change of one of them waits and
        // then writes its own terms over these.
        sqlx::query("SELECT id FROM work_orders WHERE id = ANY($1) FOR UPDATE")
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let orders = orders_by_ids(&mut tx, &ids).await?;
        let refs: Vec<&Order> = orders.iter().map(|o| &o.order).collect();
        let texts = order_index_texts(&segmenter, &refs);
        let rows: Vec<(i64, String)> = orders.iter().map(|o| o.id).zip(texts).collect();
        put_terms(&mut tx, &rows).await?;
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
        sqlx::query("UPDATE search_index_format SET format = $1")
            .bind(INDEX_FORMAT)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db)
    }

    async fn index_format(&self) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        stored_index_format(&mut conn).await
    }
}
