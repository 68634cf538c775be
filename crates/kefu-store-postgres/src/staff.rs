//! Staff, sessions and API tokens on PostgreSQL. Secrets are only ever bound as parameters, never
//! formatted into messages or logs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::auth::Username;
use kefu_domain::ids::{ApiTokenId, StaffId};
use kefu_domain::org::OrgPath;
use kefu_store::{
    Actor, ApiToken, NewStaff, Page, PageRequest, Session, Staff, StaffStore, StoreError,
    TOKEN_USE_RESOLUTION_SECS,
};
use sqlx::PgConnection;

use crate::audit::append_in;
use crate::rows::{ApiTokenRow, SessionRow, StaffRow};
use crate::{PgStore, db, is_unique_violation, now_ms, scope_range};

macro_rules! staff_columns {
    () => {
        "SELECT s.id, s.username, s.display_name, s.org_unit_id, u.path AS org_path, \
         s.department_id, s.active, s.created_at, \
         (SELECT string_agg(r.role, ',') FROM staff_roles r WHERE r.staff_id = s.id) AS roles"
    };
}

macro_rules! staff_from {
    () => {
        " FROM staff s JOIN org_units u ON u.id = s.org_unit_id"
    };
}

macro_rules! staff_select {
    () => {
        concat!(staff_columns!(), staff_from!())
    };
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    #[sqlx(flatten)]
    staff: StaffRow,
    password_hash: String,
}

async fn staff_by_id(conn: &mut PgConnection, id: i64) -> Result<Option<Staff>, StoreError> {
    sqlx::query_as::<_, StaffRow>(concat!(staff_select!(), " WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db)?
        .map(StaffRow::into_domain)
        .transpose()
}

const TOKEN_COLUMNS_WHERE_HASH: &str = "SELECT id, staff_id, name, created_at, last_used_at, \
     revoked_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL";

#[async_trait]
impl StaffStore for PgStore {
    async fn create_staff(&self, staff: NewStaff, actor: &Actor) -> Result<Staff, StoreError> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let unit: Option<i64> = sqlx::query_scalar("SELECT id FROM org_units WHERE id = $1")
            .bind(staff.org_unit_id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if unit.is_none() {
            return Err(StoreError::UnknownReference {
                field: "org_unit_id",
                entity: "org_unit",
            });
        }
        if let Some(dept) = staff.department_id {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM departments WHERE id = $1 AND unit_id = $2")
                    .bind(dept.0)
                    .bind(staff.org_unit_id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
            if found.is_none() {
                return Err(StoreError::UnknownReference {
                    field: "department_id",
                    entity: "department",
                });
            }
        }
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO staff (username, display_name, org_unit_id, department_id, \
             password_hash, active, created_at) VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING id",
        )
        .bind(staff.username.as_str())
        .bind(&staff.display_name)
        .bind(staff.org_unit_id.0)
        .bind(staff.department_id.map(|d| d.0))
        .bind(&staff.password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    field: "username",
                    value: staff.username.as_str().to_owned(),
                });
            }
            Err(e) => return Err(db(e)),
        };
        for role in staff.roles.as_slice() {
            sqlx::query("INSERT INTO staff_roles (staff_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(role.code())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        append_in(
            &mut tx,
            actor,
            now,
            "staff.create",
            &format!("staff:{id}"),
            staff.username.as_str(),
        )
        .await?;
        let created = staff_by_id(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound { entity: "staff" })?;
        tx.commit().await.map_err(db)?;
        Ok(created)
    }

    async fn get_staff(&self, id: StaffId) -> Result<Option<Staff>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        staff_by_id(&mut conn, id.0).await
    }

    async fn get_staff_for_login(
        &self,
        username: &Username,
    ) -> Result<Option<(Staff, String)>, StoreError> {
        let row: Option<LoginRow> = sqlx::query_as(concat!(
            staff_columns!(),
            ", s.password_hash",
            staff_from!(),
            " WHERE s.username = $1"
        ))
        .bind(username.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| Ok((r.staff.into_domain()?, r.password_hash)))
            .transpose()
    }

    async fn list_staff(
        &self,
        scope: &OrgPath,
        page: PageRequest,
    ) -> Result<Page<Staff>, StoreError> {
        let (low, high) = scope_range(scope);
        let rows: Vec<StaffRow> = sqlx::query_as(concat!(
            staff_select!(),
            " WHERE u.path >= $1 AND u.path < $2 AND s.id > $3 ORDER BY s.id LIMIT $4"
        ))
        .bind(low)
        .bind(high)
        .bind(page.after_id())
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let staff = rows
            .into_iter()
            .map(StaffRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_fetched(staff, page, |s| s.id.0))
    }

    async fn set_password(
        &self,
        id: StaffId,
        password_hash: &str,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: "staff" });
        }
        let ended = sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        append_in(
            &mut tx,
            actor,
            now_ms(),
            "staff.password",
            &format!("staff:{id}"),
            &format!(
                "password changed; {} session(s) ended",
                ended.rows_affected()
            ),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn create_session(&self, token_hash: &[u8], session: &Session) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO sessions (token_hash, staff_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash.to_vec())
        .bind(session.staff_id.0)
        .bind(&session.csrf_token)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
                field: "session",
                value: "(token)".to_owned(),
            }),
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_foreign_key_violation()) =>
            {
                Err(StoreError::UnknownReference {
                    field: "staff_id",
                    entity: "staff",
                })
            }
            Err(e) => Err(db(e)),
        }
    }

    async fn get_session(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, Staff)>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT staff_id, csrf_token, created_at, expires_at FROM sessions \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash.to_vec())
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let session = row.into_domain()?;
        let staff = staff_by_id(&mut conn, session.staff_id.0).await?;
        Ok(staff.filter(|s| s.active).map(|s| (session, s)))
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.to_vec())
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db)
    }

    async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(db)
    }

    async fn create_api_token(
        &self,
        staff_id: StaffId,
        name: &str,
        token_hash: &[u8],
        actor: &Actor,
    ) -> Result<ApiToken, StoreError> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM staff WHERE id = $1")
            .bind(staff_id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if found.is_none() {
            return Err(StoreError::UnknownReference {
                field: "staff_id",
                entity: "staff",
            });
        }
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_tokens (staff_id, name, token_hash, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(staff_id.0)
        .bind(name)
        .bind(token_hash.to_vec())
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    field: "token",
                    value: "(secret)".to_owned(),
                });
            }
            Err(e) => return Err(db(e)),
        };
        append_in(
            &mut tx,
            actor,
            now,
            "api_token.create",
            &format!("api_token:{id}"),
            &format!("staff:{staff_id} {name}"),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(ApiToken {
            id: ApiTokenId(id),
            staff_id,
            name: name.to_owned(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        })
    }

    async fn use_api_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiToken, Staff)>, StoreError> {
        self.tokens
            .resolve(token_hash, now, || self.read_api_token(token_hash, now))
            .await
    }

    async fn revoke_api_token(&self, id: ApiTokenId, actor: &Actor) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let exists: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("SELECT revoked_at FROM api_tokens WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        match exists {
            None => {
                return Err(StoreError::NotFound {
                    entity: "api_token",
                });
            }
            Some(Some(_)) => return Ok(()),
            Some(None) => {}
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        append_in(
            &mut tx,
            actor,
            now,
            "api_token.revoke",
            &format!("api_token:{id}"),
            "",
        )
        .await?;
        tx.commit().await.map_err(db)?;
        // After COMMIT: a look-up that read the live token before it cannot store it now.
        self.tokens.clear();
        Ok(())
    }
}

impl PgStore {
    /// The live token and its active staff member, read from the database (the cache's miss
    /// path); marks the token used when its mark is stale.
    pub(crate) async fn read_api_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiToken, Staff)>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let row: Option<ApiTokenRow> = sqlx::query_as(TOKEN_COLUMNS_WHERE_HASH)
            .bind(token_hash.to_vec())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let mut token = row.into_domain()?;
        let Some(staff) = staff_by_id(&mut conn, token.staff_id.0)
            .await?
            .filter(|s| s.active)
        else {
            return Ok(None);
        };
        let stale_before = now - chrono::Duration::seconds(TOKEN_USE_RESOLUTION_SECS);
        if token.last_used_at.is_none_or(|t| t < stale_before) {
            // Conditional, so concurrent uses of one token write at most once per interval.
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
                .bind(now)
                .bind(token.id.0)
                .bind(stale_before)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            token.last_used_at = Some(now);
        }
        Ok(Some((token, staff)))
    }
}
