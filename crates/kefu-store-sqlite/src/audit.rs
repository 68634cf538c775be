//! The audit log on SQLite: appended by the store's own writes (inside their transaction) and
//! by the server for events it observes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_store::{
    Actor, AuditEntry, AuditStore, NewAuditEntry, Page, PageRequest, StoreError, TimedAuditEntry,
};
use sqlx::SqliteConnection;

use crate::rows::AuditRow;
use crate::{SqliteStore, db, ms};

/// Appends an audit entry on `conn` (normally inside the caller's transaction).
pub(crate) async fn append_in(
    conn: &mut SqliteConnection,
    actor: &Actor,
    at: DateTime<Utc>,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, staff_id, actor, action, target, detail) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(ms(at))
    .bind(actor.staff_id().map(|s| s.0))
    .bind(actor.label())
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(conn)
    .await
    .map(|_| ())
    .map_err(db)
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(
        &self,
        entry: NewAuditEntry,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        append_in(
            &mut conn,
            actor,
            now,
            &entry.action,
            &entry.target,
            &entry.detail,
        )
        .await
    }

    async fn append_audits(&self, entries: Vec<TimedAuditEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for e in &entries {
            append_in(
                &mut tx,
                &e.actor,
                e.at,
                &e.entry.action,
                &e.entry.target,
                &e.entry.detail,
            )
            .await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn list_audit(
        &self,
        target: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        // Newest first: the cursor is the last id seen, and the next page holds smaller ids.
        let before = page.after.map_or(i64::MAX, |c| c.0);
        let rows: Vec<AuditRow> = match target {
            Some(t) => sqlx::query_as(
                "SELECT id, at, staff_id, actor, action, target, detail FROM audit_log \
                 WHERE target = ? AND id < ? ORDER BY id DESC LIMIT ?",
            )
            .bind(t)
            .bind(before)
            .bind(page.fetch_limit())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?,
            None => sqlx::query_as(
                "SELECT id, at, staff_id, actor, action, target, detail FROM audit_log \
                 WHERE id < ? ORDER BY id DESC LIMIT ?",
            )
            .bind(before)
            .bind(page.fetch_limit())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?,
        };
        let entries = rows
            .into_iter()
            .map(AuditRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_fetched(entries, page, |e| e.id))
    }
}
