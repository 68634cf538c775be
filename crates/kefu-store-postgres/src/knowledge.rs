//! The knowledge base on PostgreSQL (`kefu_store::knowledge`): `kb_articles` with its search
//! terms (`tsvector`, GIN), its versions, and its links to orders.

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
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::audit::append_in;
use crate::workorder_read::locate_in_scope;
use crate::{PgStore, db};

const COLUMNS: &str = "a.id, a.title, a.body, a.category, a.tags::text AS tags, a.effective_from, \
     a.effective_to, a.state, a.version, a.author_id, a.submitted_by, a.created_at, \
     a.updated_at, (SELECT COUNT(*) FROM kb_order_links l WHERE l.article_id = a.id) AS links";

#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: i64,
    title: String,
    body: String,
    category: String,
    tags: String,
    effective_from: Option<NaiveDate>,
    effective_to: Option<NaiveDate>,
    state: String,
    version: i64,
    author_id: i64,
    submitted_by: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    links: i64,
}

impl ArticleRow {
    fn into_article(self) -> Result<Article, StoreError> {
        let id = self.id;
        let validity = Validity {
            from: self.effective_from,
            to: self.effective_to,
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
            created_at: self.created_at,
            updated_at: self.updated_at,
            links: self.links,
            id,
        })
    }
}

async fn load(conn: &mut PgConnection, id: i64) -> Result<Option<Article>, StoreError> {
    let row: Option<ArticleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM kb_articles a WHERE a.id = $1"
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
    conn: &mut PgConnection,
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
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(version)
    .bind(&draft.title)
    .bind(&draft.body)
    .bind(draft.category.code())
    .bind(encode_tags(&draft.tags))
    .bind(draft.validity.from)
    .bind(draft.validity.to)
    .bind(state.code())
    .bind(change)
    .bind(actor.staff_id().map(|s| s.0))
    .bind(at)
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

fn push_filter(qb: &mut QueryBuilder<Postgres>, filter: &ArticleFilter) {
    if let Some(s) = filter.state {
        qb.push(" AND a.state = ").push_bind(s.code());
    }
    if let Some(c) = filter.category {
        qb.push(" AND a.category = ").push_bind(c.code());
    }
    if let Some(t) = &filter.tag {
        qb.push(" AND a.tags ? ").push_bind(t.as_str().to_owned());
    }
    if let Some(d) = filter.in_force_on {
        qb.push(" AND a.state = 'published' AND (a.effective_from IS NULL OR a.effective_from <= ")
            .push_bind(d)
            .push(") AND (a.effective_to IS NULL OR a.effective_to >= ")
            .push_bind(d)
            .push(")");
    }
}

#[async_trait]
impl KnowledgeStore for PgStore {
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
             state, version, author_id, submitted_by, created_at, updated_at, terms) \
             VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, 1, $8, NULL, $9, $9, \
             to_tsvector('simple', $10)) RETURNING id",
        )
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(draft.category.code())
        .bind(encode_tags(&draft.tags))
        .bind(draft.validity.from)
        .bind(draft.validity.to)
        .bind(ArticleState::Draft.code())
        .bind(author.0)
        .bind(now)
        .bind(&terms)
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
        lock(&mut tx, id).await?;
        let current = load(&mut tx, id).await?.ok_or_else(article_not_found)?;
        if current.version != expected_version {
            return Err(article_conflict(current.version));
        }
        check_editable(current.state).map_err(|e| StoreError::InvalidState(e.to_string()))?;
        let version = current.version + 1;
        sqlx::query(
            "UPDATE kb_articles SET title = $1, body = $2, category = $3, tags = $4::jsonb, \
             effective_from = $5, effective_to = $6, version = $7, updated_at = $8, \
             terms = to_tsvector('simple', $10) WHERE id = $9",
        )
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(draft.category.code())
        .bind(encode_tags(&draft.tags))
        .bind(draft.validity.from)
        .bind(draft.validity.to)
        .bind(version)
        .bind(now)
        .bind(id)
        .bind(&terms)
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
        lock(&mut tx, id).await?;
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
            "UPDATE kb_articles SET state = $1, submitted_by = $2, version = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(next.code())
        .bind(submitted_by.map(|s| s.0))
        .bind(version)
        .bind(now)
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
            Option<NaiveDate>,
            Option<NaiveDate>,
            String,
            String,
            Option<i64>,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT version, title, body, category, tags::text, effective_from, effective_to, \
             state, change, staff_id, at FROM kb_article_versions WHERE article_id = $1 \
             ORDER BY version DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|r| {
                let validity = Validity { from: r.5, to: r.6 };
                Ok(ArticleVersion {
                    version: r.0,
                    draft: decode_draft(id, r.1, r.2, &r.3, &r.4, validity)?,
                    state: decode_state(id, &r.7)?,
                    change: r.8,
                    staff_id: r.9.map(StaffId),
                    at: r.10,
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
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS}, "));
        if terms.is_empty() {
            qb.push("0.0::float8 AS rank FROM kb_articles a WHERE TRUE");
        } else {
            qb.push(
                "ts_rank(a.terms, q)::float8 AS rank FROM kb_articles a, \
                 plainto_tsquery('simple', ",
            )
            .push_bind(terms.join(" "))
            .push(") AS q WHERE a.terms @@ q");
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
            "INSERT INTO kb_order_links (article_id, order_id, staff_id, at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(order_id)
        .bind(actor.staff_id().map(|s| s.0))
        .bind(now)
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
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT * FROM (SELECT {COLUMNS} FROM kb_articles a WHERE TRUE"
        ));
        push_filter(&mut qb, filter);
        qb.push(") AS counted WHERE links > 0 ORDER BY links DESC, id LIMIT ")
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
            "SELECT {COLUMNS} FROM kb_articles a ORDER BY a.id FOR UPDATE"
        )))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut n = 0;
        for row in rows {
            let a = row.into_article()?;
            sqlx::query("UPDATE kb_articles SET terms = to_tsvector('simple', $2) WHERE id = $1")
                .bind(a.id)
                .bind(article_index_text(&segmenter, &a.draft))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
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
             WHERE k.order_id = $1 ORDER BY k.at, a.id"
        )))
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
        rows.into_iter().map(ArticleRow::into_article).collect()
    }
}

/// Locks the article row until the transaction ends, so two changes from one version conflict.
async fn lock(conn: &mut PgConnection, id: i64) -> Result<(), StoreError> {
    sqlx::query("SELECT id FROM kb_articles WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(db)
}
