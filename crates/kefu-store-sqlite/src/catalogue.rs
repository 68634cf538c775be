//! The catalogue and the major-appeal rules on SQLite: versions appended to `setting_versions`.
//! A save holds the write lock from its first statement (`BEGIN IMMEDIATE`), so its version
//! check, its look-up of the codes orders use and its insert cannot interleave with another
//! save or with an intake filing an order under a code being removed.

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
use sqlx::SqliteConnection;

use crate::audit::append_in;
use crate::{SqliteStore, db, from_ms, ms};

#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    version: i64,
    body: String,
    staff_id: Option<i64>,
    actor: String,
    saved_at: i64,
}

impl VersionRow {
    fn decode<T>(
        self,
        setting: Setting,
        decode: fn(&str) -> Result<T, String>,
    ) -> Result<Versioned<T>, StoreError> {
        let saved = Saved {
            at: from_ms(setting.code(), self.version, self.saved_at)?,
            staff_id: self.staff_id.map(StaffId),
            actor: self.actor,
        };
        decode_version(setting, self.version, &self.body, saved, decode)
    }
}

/// The newest saved version of `setting`, or `default()` at version 0.
pub(crate) async fn current<T>(
    conn: &mut SqliteConnection,
    setting: Setting,
    decode: fn(&str) -> Result<T, String>,
    default: impl FnOnce() -> T,
) -> Result<Versioned<T>, StoreError> {
    let row: Option<VersionRow> = sqlx::query_as(
        "SELECT version, body, staff_id, actor, saved_at FROM setting_versions \
         WHERE setting = ? ORDER BY version DESC LIMIT 1",
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
    store: &SqliteStore,
    setting: Setting,
    page: PageRequest,
    decode: fn(&str) -> Result<T, String>,
) -> Result<Page<Versioned<T>>, StoreError> {
    let before = page.after.map_or(i64::MAX, |c| c.0);
    let rows: Vec<VersionRow> = sqlx::query_as(
        "SELECT version, body, staff_id, actor, saved_at FROM setting_versions \
         WHERE setting = ? AND version < ? ORDER BY version DESC LIMIT ?",
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
    conn: &mut SqliteConnection,
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
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(setting.key())
    .bind(version)
    .bind(body)
    .bind(saved.staff_id.map(|s| s.0))
    .bind(&saved.actor)
    .bind(ms(saved.at))
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

/// The codes of a JSON array bound to `?` that some stored work order is filed under: one probe
/// of `work_orders_sub_category` per code.
const CODES_IN_USE: &str = "SELECT value FROM json_each(?) \
     WHERE EXISTS (SELECT 1 FROM work_orders WHERE sub_category = json_each.value)";

/// `codes` as a JSON array (codes are `[a-z0-9_.]`, nothing to escape).
fn json_array(codes: &[SubCategoryCode]) -> String {
    let quoted: Vec<String> = codes.iter().map(|c| format!("\"{c}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// Which of `codes` some stored work order is filed under.
async fn codes_in_use(
    conn: &mut SqliteConnection,
    codes: &[SubCategoryCode],
) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(CODES_IN_USE)
        .bind(json_array(codes))
        .fetch_all(&mut *conn)
        .await
        .map_err(db)
}

#[async_trait]
impl CatalogueStore for SqliteStore {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn codes_in_use_probes_the_sub_category_index() {
        let store = crate::testing::fresh_store().await;
        let codes = [
            SubCategoryCode::parse("complaint.outage").expect("code"),
            SubCategoryCode::parse("praise.staff").expect("code"),
        ];
        assert_eq!(json_array(&codes), r#"["complaint.outage","praise.staff"]"#);
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {CODES_IN_USE}"
        )))
        .bind(json_array(&codes))
        .fetch_all(store.pool())
        .await
        .expect("explain");
        let plan: Vec<String> = rows.into_iter().map(|r| r.3).collect();
        let probes = |p: &String| {
            p.starts_with("SEARCH work_orders") && p.contains("INDEX work_orders_sub_category")
        };
        assert!(plan.iter().any(probes), "{plan:?}");
        assert!(
            !plan.iter().any(|p| p.starts_with("SCAN work_orders")),
            "{plan:?}"
        );
    }
}
