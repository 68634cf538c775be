//! The catalogue and the major-appeal rules on PostgreSQL: versions appended to
//! `setting_versions`. Saves of either setting take one transaction-level advisory lock first,
//! so they run one at a time: the version check reads what the previous save committed, and a
//! catalogue dropping a code cannot race rules naming it. A catalogue that drops codes locks
//! `work_orders` in SHARE mode before looking for orders filed under them, so an intake in
//! flight is waited for and none can start until the save commits.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::ids::StaffId;
use kefu_domain::workorder::{Catalogue, MajorRules, SubCategoryCode};
use kefu_store::catalogue::{
    catalogue_change, check_removals, check_rules_against, decode_version, major_rules_change,
    removed_codes, setting_conflict,
};
use kefu_store::catalogue_codec::{
    decode_catalogue, decode_major_rules, encode_catalogue, encode_major_rules,
};
use kefu_store::{
    Actor, CatalogueStore, Page, PageRequest, Saved, Setting, StoreError, Versioned,
    VersionedCatalogue, VersionedMajorRules,
};
use sqlx::PgConnection;

use crate::audit::append_in;
use crate::{PgStore, db};

/// The advisory-lock key of setting saves ("kefu" and migration 4).
const SETTINGS_LOCK: i64 = 0x6b65_6675_0004;

#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    version: i64,
    body: String,
    staff_id: Option<i64>,
    actor: String,
    saved_at: DateTime<Utc>,
}

impl VersionRow {
    fn decode<T>(
        self,
        setting: Setting,
        decode: fn(&str) -> Result<T, String>,
    ) -> Result<Versioned<T>, StoreError> {
        let saved = Saved {
            at: self.saved_at,
            staff_id: self.staff_id.map(StaffId),
            actor: self.actor,
        };
        decode_version(setting, self.version, &self.body, saved, decode)
    }
}

/// The newest saved version of `setting`, or `default()` at version 0.
pub(crate) async fn current<T>(
    conn: &mut PgConnection,
    setting: Setting,
    decode: fn(&str) -> Result<T, String>,
    default: impl FnOnce() -> T,
) -> Result<Versioned<T>, StoreError> {
    let row: Option<VersionRow> = sqlx::query_as(
        "SELECT version, body::text AS body, staff_id, actor, saved_at FROM setting_versions \
         WHERE setting = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(setting.key())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    match row {
        Some(r) => r.decode(setting, decode),
        None => Ok(Versioned {
            version: 0,
            value: default(),
            saved: None,
        }),
    }
}

/// Saved versions of `setting`, newest first.
pub(crate) async fn history<T>(
    store: &PgStore,
    setting: Setting,
    page: PageRequest,
    decode: fn(&str) -> Result<T, String>,
) -> Result<Page<Versioned<T>>, StoreError> {
    let before = page.after.map_or(i64::MAX, |c| c.0);
    let rows: Vec<VersionRow> = sqlx::query_as(
        "SELECT version, body::text AS body, staff_id, actor, saved_at FROM setting_versions \
         WHERE setting = $1 AND version < $2 ORDER BY version DESC LIMIT $3",
    )
    .bind(setting.key())
    .bind(before)
    .bind(page.fetch_limit())
    .fetch_all(&store.pool)
    .await
    .map_err(db)?;
    let versions = rows
        .into_iter()
        .map(|r| r.decode(setting, decode))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_fetched(versions, page, |v| v.version))
}

/// Appends `version` of `setting` (its JSON `body`) and its audit entry; returns who and when.
pub(crate) async fn append(
    conn: &mut PgConnection,
    setting: Setting,
    version: i64,
    body: String,
    detail: String,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Saved, StoreError> {
    let saved = Saved::by(actor, now);
    sqlx::query(
        "INSERT INTO setting_versions (setting, version, body, staff_id, actor, saved_at) \
         VALUES ($1, $2, $3::jsonb, $4, $5, $6)",
    )
    .bind(setting.key())
    .bind(version)
    .bind(body)
    .bind(saved.staff_id.map(|s| s.0))
    .bind(&saved.actor)
    .bind(saved.at)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    append_in(
        conn,
        actor,
        saved.at,
        setting.save_action(),
        &setting.key(),
        &detail,
    )
    .await?;
    Ok(saved)
}

/// Which of `codes` some stored work order is filed under (one index probe per code), after
/// locking `work_orders` against writers until commit.
async fn codes_in_use(
    conn: &mut PgConnection,
    codes: &[SubCategoryCode],
) -> Result<Vec<String>, StoreError> {
    sqlx::query("LOCK TABLE work_orders IN SHARE MODE")
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let list: Vec<String> = codes.iter().map(|c| c.as_str().to_owned()).collect();
    sqlx::query_scalar(
        "SELECT c FROM unnest($1::text[]) AS c \
         WHERE EXISTS (SELECT 1 FROM work_orders WHERE sub_category = c)",
    )
    .bind(list)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)
}

/// Serialises the saves of every setting (held until the transaction ends).
pub(crate) async fn lock_settings(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SETTINGS_LOCK)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(db)
}

#[async_trait]
impl CatalogueStore for PgStore {
    async fn current_catalogue(&self) -> Result<VersionedCatalogue, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        current(
            &mut conn,
            Setting::Catalogue,
            decode_catalogue,
            Catalogue::defaults,
        )
        .await
    }

    async fn save_catalogue(
        &self,
        catalogue: Catalogue,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedCatalogue, StoreError> {
        let setting = Setting::Catalogue;
        let mut tx = self.write_tx().await?;
        lock_settings(&mut tx).await?;
        let stored = current(&mut tx, setting, decode_catalogue, Catalogue::defaults).await?;
        if stored.version != expected_version {
            return Err(setting_conflict(setting, stored.version));
        }
        if stored.value == catalogue {
            return Ok(stored);
        }
        let removed = removed_codes(&stored.value, &catalogue);
        if !removed.is_empty() {
            let in_use = codes_in_use(&mut tx, &removed).await?;
            let rules = current(
                &mut tx,
                Setting::MajorRules,
                decode_major_rules,
                MajorRules::defaults,
            )
            .await?;
            check_removals(&removed, &in_use, &rules.value)?;
        }
        let version = stored.version + 1;
        let detail = catalogue_change(version, &stored.value, &catalogue);
        let body = encode_catalogue(&catalogue);
        let saved = append(&mut tx, setting, version, body, detail, actor, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(Versioned {
            version,
            value: catalogue,
            saved: Some(saved),
        })
    }

    async fn catalogue_history(
        &self,
        page: PageRequest,
    ) -> Result<Page<VersionedCatalogue>, StoreError> {
        history(self, Setting::Catalogue, page, decode_catalogue).await
    }

    async fn current_major_rules(&self) -> Result<VersionedMajorRules, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        current(
            &mut conn,
            Setting::MajorRules,
            decode_major_rules,
            MajorRules::defaults,
        )
        .await
    }

    async fn save_major_rules(
        &self,
        rules: MajorRules,
        expected_version: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<VersionedMajorRules, StoreError> {
        let setting = Setting::MajorRules;
        let mut tx = self.write_tx().await?;
        lock_settings(&mut tx).await?;
        let stored = current(&mut tx, setting, decode_major_rules, MajorRules::defaults).await?;
        if stored.version != expected_version {
            return Err(setting_conflict(setting, stored.version));
        }
        if stored.value == rules {
            return Ok(stored);
        }
        let catalogue = current(
            &mut tx,
            Setting::Catalogue,
            decode_catalogue,
            Catalogue::defaults,
        )
        .await?;
        check_rules_against(&rules, &catalogue.value)?;
        let version = stored.version + 1;
        let detail = major_rules_change(version, &stored.value, &rules);
        let body = encode_major_rules(&rules);
        let saved = append(&mut tx, setting, version, body, detail, actor, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(Versioned {
            version,
            value: rules,
            saved: Some(saved),
        })
    }

    async fn major_rules_history(
        &self,
        page: PageRequest,
    ) -> Result<Page<VersionedMajorRules>, StoreError> {
        history(self, Setting::MajorRules, page, decode_major_rules).await
    }
}
