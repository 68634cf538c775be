//! The knowledge base on SQLite (`kefu_store::knowledge`): `kb_articles`, its versions, its
//! links to orders, and the contentless FTS5 table `kb_article_fts` (rowid = article id).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::ids::StaffId;
use kefu_domain::knowledge::{
    ArticleAction, ArticleDraft, ArticleState, Validity, check_editable, transition,
};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::OrderNumber;
use kefu_store::knowledge::{
    article_audit, article_conflict, article_index_text, article_not_found, decode_draft,
    decode_state, encode_tags,
};
use kefu_store::search::SearchPageRequest;
use kefu_store::{
    Actor, Article, ArticleFilter, ArticleHit, ArticleVersion, KnowledgeStore, StoreError,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::audit::append_in;
use crate::search::words_expression;
use crate::workorder_read::locate_in_scope;
use crate::{SqliteStore, db, from_ms, ms};

const COLUMNS: &str = "a.id, a.title, a.body, a.category, a.tags, a.effective_from, \
     a.effective_to, a.state, a.version, a.author_id, a.submitted_by, a.created_at, \
     a.updated_at, (SELECT COUNT(*) FROM kb_order_links l WHERE l.article_id = a.id) AS links";

#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: i64,
    title: String,
    body: String,
    category: String,
    tags: String,
    effective_from: Option<String>,
    effective_to: Option<String>,
    state: String,
    version: i64,
    author_id: i64,
    submitted_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
    links: i64,
}

fn date(id: i64, raw: Option<String>) -> Result<Option<NaiveDate>, StoreError> {
    raw.map(|s| {
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
            entity: "article",
            id: id.to_string(),
            reason: format!("date {s}: {e}"),
        })
    })
    .transpose()
}

impl ArticleRow {
    fn into_article(self) -> Result<Article, StoreError> {
        let id = self.id;
        let validity = Validity {
            from: date(id, self.effective_from)?,
            to: date(id, self.effective_to)?,
        };
        Ok(Article {
            draft: decode_draft(
                id,
                self.title,
                self.body,
                &self.category,
                &self.tags,
                validity,
            )?,
            state: decode_state(id, &self.state)?,
            version: self.version,
            author: StaffId(self.author_id),
            submitted_by: self.submitted_by.map(StaffId),
            created_at: from_ms("article", id, self.created_at)?,
            updated_at: from_ms("article", id, self.updated_at)?,
            links: self.links,
            id,
        })
    }
}

fn day(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

async fn load(conn: &mut SqliteConnection, id: i64) -> Result<Option<Article>, StoreError> {
    let row: Option<ArticleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM kb_articles a WHERE a.id = ?"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    row.map(ArticleRow::into_article).transpose()
}

/// Appends version `version` of article `id` with its content and state after `change`.
#[allow(clippy::too_many_arguments)]
async fn write_version(
    conn: &mut SqliteConnection,
    id: i64,
    version: i64,
    draft: &ArticleDraft,
    state: ArticleState,
    change: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO kb_article_versions (article_id, version, title, body, category, tags, \
         effective_from, effective_to, state, change, staff_id, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(version)
    .bind(&draft.title)
    .bind(&draft.body)
    .bind(draft.category.code())
    .bind(encode_tags(&draft.tags))
    .bind(day(draft.validity.from))
    .bind(day(draft.validity.to))
    .bind(state.code())
    .bind(change)
    .bind(actor.staff_id().map(|s| s.0))
    .bind(ms(at))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    append_in(
        conn,
        actor,
        at,
        &format!("knowledge.{change}"),
        &format!("article:{id}"),
        &article_audit(id, version, change, draft),
    )
    .await
}

async fn put_terms(conn: &mut SqliteConnection, id: i64, terms: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM kb_article_fts WHERE rowid = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query("INSERT INTO kb_article_fts (rowid, terms) VALUES (?, ?)")
        .bind(id)
        .bind(terms)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

fn push_filter(qb: &mut QueryBuilder<Sqlite>, filter: &ArticleFilter) {
    if let Some(s) = filter.state {
        qb.push(" AND a.state = ").push_bind(s.code());
    }
    if let Some(c) = filter.category {
        qb.push(" AND a.category = ").push_bind(c.code());
    }
    if let Some(t) = &filter.tag {
        qb.push(" AND EXISTS (SELECT 1 FROM json_each(a.tags) WHERE json_each.value = ")
            .push_bind(t.as_str().to_owned())
            .push(")");
    }
    if let Some(d) = filter.in_force_on {
        let d = d.format("%Y-%m-%d").to_string();
        qb.push(" AND a.state = 'published' AND (a.effective_from IS NULL OR a.effective_from <= ")
            .push_bind(d.clone())
            .push(") AND (a.effective_to IS NULL OR a.effective_to >= ")
            .push_bind(d)
            .push(")");
    }
}

#[async_trait]
impl KnowledgeStore for SqliteStore {
    async fn create_article(
        &self,
        draft: ArticleDraft,
        author: StaffId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Article, StoreError> {
        let terms = article_index_text(&self.text.current(), &draft);
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO kb_articles (title, body, category, tags, effective_from, effective_to, \
             state, version, author_id, submitted_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, NULL, ?, ?) RETURNING id",
        )
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(draft.category.code())
        .bind(encode_tags(&draft.tags))
        .bind(day(draft.validity.from))
        .bind(day(draft.validity.to))
        .bind(ArticleState::Draft.code())
        .bind(author.0)
        .bind(ms(now))
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        write_version(
            &mut tx,
            id,
            1,
            &draft,
            ArticleState::Draft,
            "create",
            actor,
            now,
        )
        .await?;
        put_terms(&mut tx, id, &terms).await?;
        let article = load(&mut tx, id).await?.ok_or_else(article_not_found)?;
        tx.commit().await.map_err(db)?;
        Ok(article)
    }

    async fn update_article(
        &self,
        id: i64,
        expected_version: i64,
        draft: ArticleDraft,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Article, StoreError> {
        let terms = article_index_text(&self.text.current(), &draft);
        let mut tx = self.write_tx().await?;
        let current = load(&mut tx, id).await?.ok_or_else(article_not_found)?;
        if current.version != expected_version {
            return Err(article_conflict(current.version));
        }
        check_editable(current.state).map_err(|e| StoreError::InvalidState(e.to_string()))?;
        let version = current.version + 1;
        sqlx::query(
            "UPDATE kb_articles SET title = ?, body = ?, category = ?, tags = ?, \
             effective_from = ?, effective_to = ?, version = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(draft.category.code())
        .bind(encode_tags(&draft.tags))
        .bind(day(draft.validity.from))
        .bind(day(draft.validity.to))
        .bind(version)
        .bind(ms(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        write_version(
            &mut tx,
            id,
            version,
            &draft,
            current.state,
            "edit",
            actor,
            now,
        )
        .await?;
        put_terms(&mut tx, id, &terms).await?;
        let article = load(&mut tx, id).await?.ok_or_else(article_not_found)?;
        tx.commit().await.map_err(db)?;
        Ok(article)
    }

    async fn article_action(
        &self,
        id: i64,
        expected_version: i64,
        action: ArticleAction,
        staff: StaffId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Article, StoreError> {
        let mut tx = self.write_tx().await?;
        let current = load(&mut tx, id).await?.ok_or_else(article_not_found)?;
        if current.version != expected_version {
            return Err(article_conflict(current.version));
        }
        let next = transition(current.state, action, staff, current.submitted_by)
            .map_err(|e| StoreError::InvalidState(e.to_string()))?;
        let submitted_by = match action {
            ArticleAction::Submit => Some(staff),
            _ => current.submitted_by,
        };
        let version = current.version + 1;
        sqlx::query(
            "UPDATE kb_articles SET state = ?, submitted_by = ?, version = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(next.code())
        .bind(submitted_by.map(|s| s.0))
        .bind(version)
        .bind(ms(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        write_version(
            &mut tx,
            id,
            version,
            &current.draft,
            next,
            action.code(),
            actor,
            now,
        )
        .await?;
        let article = load(&mut tx, id).await?.ok_or_else(article_not_found)?;
        tx.commit().await.map_err(db)?;
        Ok(article)
    }

    async fn get_article(&self, id: i64) -> Result<Option<Article>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        load(&mut conn, id).await
    }

    async fn article_history(&self, id: i64) -> Result<Vec<ArticleVersion>, StoreError> {
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            String,
            Option<i64>,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT version, title, body, category, tags, effective_from, effective_to, state, \
             change, staff_id, at FROM kb_article_versions WHERE article_id = ? \
             ORDER BY version DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|r| {
                let validity = Validity {
                    from: date(id, r.5)?,
                    to: date(id, r.6)?,
                };
                Ok(ArticleVersion {
                    version: r.0,
                    draft: decode_draft(id, r.1, r.2, &r.3, &r.4, validity)?,
                    state: decode_state(id, &r.7)?,
                    change: r.8,
                    staff_id: r.9.map(StaffId),
                    at: from_ms("article", id, r.10)?,
                })
            })
            .collect()
    }

    async fn search_articles(
        &self,
        terms: &[String],
        filter: &ArticleFilter,
        page: SearchPageRequest,
    ) -> Result<Vec<ArticleHit>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS}, "));
        if terms.is_empty() {
            qb.push("0.0 AS rank FROM kb_articles a WHERE 1 = 1");
        } else {
            qb.push(
                "-bm25(kb_article_fts) AS rank FROM kb_article_fts \
                 CROSS JOIN kb_articles a ON a.id = kb_article_fts.rowid WHERE kb_article_fts MATCH ",
            )
            .push_bind(words_expression(terms));
        }
        push_filter(&mut qb, filter);
        if terms.is_empty() {
            qb.push(" ORDER BY a.updated_at DESC, a.id DESC");
        } else {
            qb.push(" ORDER BY rank DESC, a.id DESC");
        }
        qb.push(" LIMIT ")
            .push_bind(i64::from(page.limit))
            .push(" OFFSET ")
            .push_bind(i64::from(page.offset));
        #[derive(sqlx::FromRow)]
        struct Hit {
            #[sqlx(flatten)]
            row: ArticleRow,
            rank: f64,
        }
        let rows: Vec<Hit> = qb
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.into_iter()
            .map(|h| {
                Ok(ArticleHit {
                    article: h.row.into_article()?,
                    rank: h.rank,
                })
            })
            .collect()
    }

    async fn link_article(
        &self,
        id: i64,
        number: &OrderNumber,
        scope: &OrgPath,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let order_id = locate_in_scope(&mut tx, number, scope).await?;
        let article = load(&mut tx, id).await?.ok_or_else(article_not_found)?;
        if article.state != ArticleState::Published {
            return Err(StoreError::InvalidState(format!(
                "KB-{id} is {}; only published articles can be cited",
                article.state
            )));
        }
        let added = sqlx::query(
            "INSERT INTO kb_order_links (article_id, order_id, staff_id, at) VALUES (?, ?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(order_id)
        .bind(actor.staff_id().map(|s| s.0))
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected()
            == 1;
        if added {
            append_in(
                &mut tx,
                actor,
                now,
                "knowledge.link",
                &format!("work_order:{number}"),
                &format!("answered with KB-{id}"),
            )
            .await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(added)
    }

    async fn most_linked_articles(
        &self,
        filter: &ArticleFilter,
        limit: u32,
    ) -> Result<Vec<Article>, StoreError> {
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT * FROM (SELECT {COLUMNS} FROM kb_articles a WHERE 1 = 1"
        ));
        push_filter(&mut qb, filter);
        qb.push(") WHERE links > 0 ORDER BY links DESC, id LIMIT ")
            .push_bind(i64::from(limit));
        let rows: Vec<ArticleRow> = qb
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.into_iter().map(ArticleRow::into_article).collect()
    }

    async fn reindex_articles(&self) -> Result<u64, StoreError> {
        let segmenter = self.text.current();
        let mut tx = self.write_tx().await?;
        let rows: Vec<ArticleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM kb_articles a ORDER BY a.id"
        )))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut n = 0;
        for row in rows {
            let a = row.into_article()?;
            put_terms(&mut tx, a.id, &article_index_text(&segmenter, &a.draft)).await?;
            n += 1;
        }
        tx.commit().await.map_err(db)?;
        Ok(n)
    }

    async fn articles_of_order(
        &self,
        number: &OrderNumber,
        scope: &OrgPath,
    ) -> Result<Vec<Article>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let order_id = locate_in_scope(&mut conn, number, scope).await?;
        let rows: Vec<ArticleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM kb_articles a JOIN kb_order_links k ON k.article_id = a.id \
             WHERE k.order_id = ? ORDER BY k.at, a.id"
        )))
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        rows.into_iter().map(ArticleRow::into_article).collect()
    }
}
