//! Schema migrations: the embedded, append-only `migrations/` folder, with a refusal to touch a
//! database whose schema is newer than this binary.

use kefu_store::{MigrationReport, StoreError};
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;

use crate::db;

static MIGRATOR: Migrator = sqlx::migrate!();

/// The highest version this binary knows.
pub(crate) fn supported_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The highest applied version (0 when the migrations table does not exist yet).
pub(crate) async fn applied_version(pool: &SqlitePool) -> Result<i64, StoreError> {
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    if exists.is_none() {
        return Ok(0);
    }
    let v: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await
            .map_err(db)?;
    Ok(v.unwrap_or(0))
}

/// Every applied version, ascending (empty when the migrations table does not exist yet).
async fn applied_versions(pool: &SqlitePool) -> Result<Vec<i64>, StoreError> {
    if applied_version(pool).await? == 0 {
        return Ok(Vec::new());
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
        .map_err(db)
}

/// Refuses a too-new schema, then applies the pending migrations.
pub(crate) async fn run(pool: &SqlitePool) -> Result<MigrationReport, StoreError> {
    let supported = supported_version();
    let before = applied_version(pool).await?;
    if before > supported {
        return Err(StoreError::SchemaTooNew {
            found: before,
            supported,
        });
    }
    let done_before = applied_versions(pool).await?;
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
    // Indexes an interrupted initial customer load set aside come back before any use.
    crate::customer_load::repair(pool).await?;
    let applied = applied_versions(pool)
        .await?
        .into_iter()
        .filter(|v| !done_before.contains(v))
        .collect();
    let version = applied_version(pool).await?;
    Ok(MigrationReport {
        applied,
        version,
        supported,
    })
}
