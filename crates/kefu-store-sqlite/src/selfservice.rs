//! Self-service codes on SQLite: each call is one `BEGIN IMMEDIATE` transaction, so a count and
//! its insert, or a try and its bookkeeping, are never interleaved with another writer's.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::customer::Phone;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::selfservice::{
    CodeState, CodeVerdict, code_expiry, code_window_start, judge, may_issue,
};
use kefu_store::{CodeIssue, SelfServiceStore, StoreError};

use crate::{SqliteStore, db, from_ms, ms};

#[async_trait]
impl SelfServiceStore for SqliteStore {
    async fn top_unit(&self) -> Result<Option<OrgUnitId>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM org_units WHERE parent_id IS NULL ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(id.map(OrgUnitId))
    }

    async fn issue_code(
        &self,
        phone: &Phone,
        code_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<CodeIssue, StoreError> {
        let mut tx = self.write_tx().await?;
        let issued: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM self_service_codes WHERE phone = ?1 AND created_at > ?2",
        )
        .bind(phone.as_str())
        .bind(ms(code_window_start(now)))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if !may_issue(u32::try_from(issued).unwrap_or(u32::MAX)) {
            return Ok(CodeIssue::TooMany);
        }
        let expires_at = code_expiry(now);
        sqlx::query(
            "INSERT INTO self_service_codes (phone, code_hash, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(phone.as_str())
        .bind(code_hash)
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(CodeIssue::Issued { expires_at })
    }

    async fn try_code(
        &self,
        phone: &Phone,
        code_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<CodeVerdict, StoreError> {
        let mut tx = self.write_tx().await?;
        let row: Option<(i64, Vec<u8>, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, code_hash, expires_at, attempts, used_at FROM self_service_codes \
             WHERE phone = ?1 ORDER BY id DESC LIMIT 1",
        )
        .bind(phone.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some((id, stored, expires_at, attempts, used_at)) = row else {
            return Ok(CodeVerdict::NoLiveCode);
        };
        let state = CodeState {
            expires_at: from_ms("self_service_code", id, expires_at)?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            used: used_at.is_some(),
        };
        let verdict = judge(Some(state), stored == code_hash, now);
        let update = match verdict {
            CodeVerdict::Accepted => {
                sqlx::query("UPDATE self_service_codes SET used_at = ?2 WHERE id = ?1")
                    .bind(id)
                    .bind(ms(now))
            }
            CodeVerdict::Wrong { .. } => {
                sqlx::query("UPDATE self_service_codes SET attempts = attempts + 1 WHERE id = ?1")
                    .bind(id)
            }
            CodeVerdict::NoLiveCode => return Ok(verdict),
        };
        update.execute(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(verdict)
    }
}
