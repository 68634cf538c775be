//! Self-service codes on PostgreSQL: a phone's codes are serialised by a transaction-scoped
//! advisory lock on the phone, so a count and its insert, or a try and its bookkeeping, are
//! never interleaved with another request for the same phone.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::customer::Phone;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::selfservice::{
    CodeState, CodeVerdict, code_expiry, code_window_start, judge, may_issue,
};
use kefu_store::{CodeIssue, SelfServiceStore, StoreError};
use sqlx::{Postgres, Transaction};

use crate::{PgStore, db};

async fn lock_phone(
    tx: &mut Transaction<'static, Postgres>,
    phone: &Phone,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('self_service:' || $1, 0))")
        .bind(phone.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

#[async_trait]
impl SelfServiceStore for PgStore {
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
        lock_phone(&mut tx, phone).await?;
        let issued: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM self_service_codes WHERE phone = $1 AND created_at > $2",
        )
        .bind(phone.as_str())
        .bind(code_window_start(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if !may_issue(u32::try_from(issued).unwrap_or(u32::MAX)) {
            return Ok(CodeIssue::TooMany);
        }
        let expires_at = code_expiry(now);
        sqlx::query(
            "INSERT INTO self_service_codes (phone, code_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(phone.as_str())
        .bind(code_hash)
        .bind(now)
        .bind(expires_at)
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
        lock_phone(&mut tx, phone).await?;
        let row: Option<(i64, Vec<u8>, DateTime<Utc>, i32, Option<DateTime<Utc>>)> =
            sqlx::query_as(
                "SELECT id, code_hash, expires_at, attempts, used_at FROM self_service_codes \
                 WHERE phone = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(phone.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let Some((id, stored, expires_at, attempts, used_at)) = row else {
            return Ok(CodeVerdict::NoLiveCode);
        };
        let state = CodeState {
            expires_at,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            used: used_at.is_some(),
        };
        let verdict = judge(Some(state), stored == code_hash, now);
        let update = match verdict {
            CodeVerdict::Accepted => {
                sqlx::query("UPDATE self_service_codes SET used_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(now)
            }
            CodeVerdict::Wrong { .. } => {
                sqlx::query("UPDATE self_service_codes SET attempts = attempts + 1 WHERE id = $1")
                    .bind(id)
            }
            CodeVerdict::NoLiveCode => return Ok(verdict),
        };
        update.execute(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(verdict)
    }
}
