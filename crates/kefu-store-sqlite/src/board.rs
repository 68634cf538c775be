//! The supervisors' board on SQLite: two grouped queries over the open orders in scope.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::Channel;
use kefu_store::{BoardStore, OpenCounts, StoreError, UnitRow};

use crate::{SqliteStore, db, ms, scope_range};

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[async_trait]
impl BoardStore for SqliteStore {
    async fn open_counts(
        &self,
        scope: &OrgPath,
        now: DateTime<Utc>,
    ) -> Result<Vec<UnitRow>, StoreError> {
        let (low, high) = scope_range(scope);
        let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT home_unit_path, COUNT(*), \
             COALESCE(SUM(warn_at <= ?1 AND (due_at IS NULL OR due_at > ?1)), 0), \
             COALESCE(SUM(due_at <= ?1), 0), COALESCE(SUM(major), 0), \
             COALESCE(SUM(supervised), 0) \
             FROM work_orders WHERE home_unit_path >= ?2 AND home_unit_path < ?3 \
             AND state <> 'archived' GROUP BY home_unit_path",
        )
        .bind(ms(now))
        .bind(low)
        .bind(high)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .map(
                |(path, open, warning, overdue, major, supervised)| UnitRow {
                    path,
                    counts: OpenCounts {
                        open: count(open),
                        warning: count(warning),
                        overdue: count(overdue),
                        major: count(major),
                        supervised: count(supervised),
                    },
                },
            )
            .collect())
    }

    async fn intake_by_channel(
        &self,
        scope: &OrgPath,
        since: DateTime<Utc>,
    ) -> Result<Vec<(Channel, u64)>, StoreError> {
        let (low, high) = scope_range(scope);
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT channel, COUNT(*) FROM work_orders WHERE created_at >= ?1 \
             AND +home_unit_path >= ?2 AND +home_unit_path < ?3 GROUP BY channel",
        )
        .bind(ms(since))
        .bind(low)
        .bind(high)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .into_iter()
            .filter_map(|(c, n)| Channel::from_code(&c).map(|c| (c, count(n))))
            .collect())
    }
}
