//! The calendar years and the time limits on SQLite: versions appended to `setting_versions`
//! through the catalogue's helpers (one key per year, `calendar:2026`, and `time_limits`). A
//! save holds the write lock from its first statement (`BEGIN IMMEDIATE`), so its version check
//! and its insert cannot interleave with another save.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::calendar::{TimeLimits, YearSchedule};
use kefu_store::calendar::{
    CalendarStore, MAX_YEAR, MIN_YEAR, VersionedTimeLimits, VersionedYear, check_year,
    default_year, time_limits_change, year_change,
};
use kefu_store::calendar_codec::{
    decode_time_limits, decode_year, encode_time_limits, encode_year,
};
use kefu_store::catalogue::setting_conflict;
use kefu_store::{Actor, Page, PageRequest, Setting, StoreError, Versioned};

use crate::catalogue::{append, current, history};
use crate::{SqliteStore, db};

/// The years some version was saved for, ascending (keys `calendar:YYYY`).
async fn stored_years(store: &SqliteStore) -> Result<Vec<i32>, StoreError> {
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT setting FROM setting_versions WHERE setting LIKE 'calendar:%'",
    )
    .fetch_all(&store.pool)
    .await
    .map_err(db)?;
    let mut years: Vec<i32> = keys
        .iter()
        .filter_map(|k| k.strip_prefix("calendar:")?.parse().ok())
        .filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
        .collect();
    years.sort_unstable();
    Ok(years)
}

#[async_trait]
impl CalendarStore for SqliteStore {
    async fn current_calendar_year(&self, year: i32) -> Result<VersionedYear, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        current(&mut conn, Setting::CalendarYear(year), decode_year, || {
            default_year(year)
        })
        .await
    }

    async fn stored_calendar_years(&self) -> Result<Vec<VersionedYear>, StoreError> {
        let years = stored_years(self).await?;
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let mut out = Vec::with_capacity(years.len());
        for year in years {
            let setting = Setting::CalendarYear(year);
            out.push(current(&mut conn, setting, decode_year, || default_year(year)).await?);
        }
        Ok(out)
    }

    async fn save_calendar_year(
        &self,
        schedule: YearSchedule,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedYear, StoreError> {
        check_year(&schedule)?;
        let year = schedule.year();
        let setting = Setting::CalendarYear(year);
        let mut tx = self.write_tx().await?;
        let stored = current(&mut tx, setting, decode_year, || default_year(year)).await?;
        if stored.version != expected_version {
            return Err(setting_conflict(setting, stored.version));
        }
        if stored.value == schedule {
            return Ok(stored);
        }
        let version = stored.version + 1;
        let detail = year_change(version, &stored.value, &schedule);
        let body = encode_year(&schedule);
        let saved = append(&mut tx, setting, version, body, detail, actor, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(Versioned {
            version,
            value: schedule,
            saved: Some(saved),
        })
    }

    async fn calendar_year_history(
        &self,
        year: i32,
        page: PageRequest,
    ) -> Result<Page<VersionedYear>, StoreError> {
        history(self, Setting::CalendarYear(year), page, decode_year).await
    }

    async fn current_time_limits(&self) -> Result<VersionedTimeLimits, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        current(
            &mut conn,
            Setting::TimeLimits,
            decode_time_limits,
            TimeLimits::defaults,
        )
        .await
    }

    async fn save_time_limits(
        &self,
        limits: TimeLimits,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedTimeLimits, StoreError> {
        let setting = Setting::TimeLimits;
        let mut tx = self.write_tx().await?;
        let stored = current(&mut tx, setting, decode_time_limits, TimeLimits::defaults).await?;
        if stored.version != expected_version {
            return Err(setting_conflict(setting, stored.version));
        }
        if stored.value == limits {
            return Ok(stored);
        }
        let version = stored.version + 1;
        let detail = time_limits_change(version, &stored.value, &limits);
        let body = encode_time_limits(&limits);
        let saved = append(&mut tx, setting, version, body, detail, actor, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(Versioned {
            version,
            value: limits,
            saved: Some(saved),
        })
    }

    async fn time_limits_history(
        &self,
        page: PageRequest,
    ) -> Result<Page<VersionedTimeLimits>, StoreError> {
        history(self, Setting::TimeLimits, page, decode_time_limits).await
    }
}
