//! Opening the configured store: SQLite under the data directory, or PostgreSQL when a
//! `postgres://` URL is configured; and applying migrations before anything else touches it.

use std::sync::Arc;

use anyhow::Context;
use kefu_store::{MigrationReport, Store};
use kefu_store_postgres::PgStore;
use kefu_store_sqlite::SqliteStore;
use sqlx::Connection;

use crate::config::{Database, DatabaseUrl};

/// Opens the store without migrating it.
pub async fn open(database: &Database) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match database {
        Database::Sqlite(path) => Arc::new(SqliteStore::open(path).await?),
        Database::Postgres { url, schema: None } => Arc::new(PgStore::connect(url.expose()).await?),
        Database::Postgres {
            url,
            schema: Some(schema),
        } => Arc::new(PgStore::connect_with_schema(url.expose(), schema).await?),
    };
    Ok(store)
}

/// Applies pending migrations, logging what was done. A schema newer than this binary is an
/// error carrying the store's explanation.
pub async fn migrate(store: &dyn Store) -> anyhow::Result<MigrationReport> {
    let report = store.migrate().await?;
    if report.applied.is_empty() {
        tracing::info!(version = report.version, "database schema is current");
    } else {
        tracing::info!(
            applied = ?report.applied,
            version = report.version,
            "database migrations applied"
        );
    }
    Ok(report)
}

/// Opens and migrates the configured store.
pub async fn open_migrated(database: &Database) -> anyhow::Result<Arc<dyn Store>> {
    let store = open(database)
        .await
        .with_context(|| format!("cannot open the store ({})", database.describe()))?;
    migrate(store.as_ref()).await?;
    Ok(store)
}

/// Whether `name` is safe to splice into DDL as a schema name (letters, digits, `_`).
pub fn is_plain_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Drops a PostgreSQL schema and everything in it (benchmark and test clean-up).
pub async fn drop_pg_schema(url: &DatabaseUrl, schema: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        is_plain_identifier(schema),
        "refusing to drop schema '{schema}': not a plain identifier"
    );
    let mut conn = sqlx::PgConnection::connect(url.expose())
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    // Safe: `schema` was checked to be a plain identifier above.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&mut conn)
    .await
    .with_context(|| format!("dropping schema {schema}"))?;
    conn.close().await.ok();
    Ok(())
}

/// Refreshes the planner statistics of every table in a PostgreSQL schema (`ANALYZE`), as
/// pgbench does after loading: a server with autovacuum off never gathers them by itself.
pub async fn analyze_pg_schema(url: &DatabaseUrl, schema: &str) -> anyhow::Result<usize> {
    anyhow::ensure!(
        is_plain_identifier(schema),
        "refusing to analyze schema '{schema}': not a plain identifier"
    );
    let mut conn = sqlx::PgConnection::connect(url.expose())
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = $1")
            .bind(schema)
            .fetch_all(&mut conn)
            .await
            .context("listing tables")?;
    for table in tables.iter().filter(|t| is_plain_identifier(t)) {
        // Safe: both names were checked to be plain identifiers.
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {schema}.{table}")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("analyzing {schema}.{table}"))?;
    }
    conn.close().await.ok();
    Ok(tables.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_schema_names_are_spliced() {
        assert!(is_plain_identifier("kefu_bench_1732300000"));
        assert!(!is_plain_identifier("x; drop table y"));
        assert!(!is_plain_identifier("Public"));
        assert!(!is_plain_identifier("1abc"));
    }
}
