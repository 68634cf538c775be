//! The shared store story, run on SQLite, plus the SQLite-only schema checks.

use kefu_store::{Store, StoreError};
use kefu_store_sqlite::testing::fresh_store;

kefu_store_tests::store_tests!(kefu_store_sqlite::testing::fresh_store);

#[tokio::test]
async fn schema_newer_than_binary_is_refused_before_migrating() {
    let store = fresh_store().await;
    let supported = store.schema_version().await.expect("version");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (?, 'from the future', 1, x'00', 0)",
    )
    .bind(supported + 1)
    .execute(store.pool())
    .await
    .expect("insert a future migration row");
    let err = store.migrate().await.expect_err("too new");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported: s } if found == supported + 1 && s == supported),
        "{err:?}"
    );
    assert!(err.to_string().contains("never downgrade"), "{err}");
}

#[tokio::test]
async fn open_creates_the_file_and_its_directory_and_migrates_from_zero() {
    let dir = kefu_store_sqlite::testing::unique_temp_dir().join("nested");
    let path = dir.join("kefu.db");
    let store = kefu_store_sqlite::SqliteStore::open(&path)
        .await
        .expect("open");
    assert!(path.exists());
    assert_eq!(store.schema_version().await.expect("version"), 0);
    let report = store.migrate().await.expect("migrate");
    assert_eq!(report.applied, (1..=15).collect::<Vec<i64>>());
    assert_eq!(report.version, 15);
    assert_eq!(report.supported, 15);
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(page, 8192, "new files get 8 KiB pages");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(fk, 1);
    drop(store);
    if let Some(top) = dir.parent() {
        let _ = std::fs::remove_dir_all(top);
    }
}

/// There is no trait method to deactivate staff yet (an admin feature to come), so this sets the
/// flag directly and checks that sessions and tokens of inactive staff no longer authenticate.
#[tokio::test]
async fn inactive_staff_has_no_session_and_no_token() {
    use kefu_domain::auth::Role;
    use kefu_store::{Session, StaffStore};
    use kefu_store_tests::fixtures::{SYSTEM, at, staff, t0, tree};

    let store = fresh_store().await;
    let t = tree(&store).await;
    let s = staff(&store, "leaver", &t.county_a, &[Role::Agent]).await;
    let session = Session {
        staff_id: s.id,
        csrf_token: "csrf".into(),
        created_at: t0(),
        expires_at: at(600),
    };
    store
        .create_session(&[1; 32], &session)
        .await
        .expect("session");
    store
        .create_api_token(s.id, "bot", &[2; 32], &SYSTEM)
        .await
        .expect("token");
    assert!(
        store
            .get_session(&[1; 32], at(1))
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        store
            .use_api_token(&[2; 32], at(1))
            .await
            .expect("use")
            .is_some()
    );
    sqlx::query("UPDATE staff SET active = 0")
        .execute(store.pool())
        .await
        .expect("deactivate");
    assert_eq!(store.get_session(&[1; 32], at(2)).await.expect("get"), None);
    assert_eq!(
        store.use_api_token(&[2; 32], at(2)).await.expect("use"),
        None
    );
}

/// A stored code the domain does not know (data written outside kefu) is reported as corrupt,
/// naming the row and the value, never silently mapped.
#[tokio::test]
async fn unknown_stored_code_is_reported_as_corrupt() {
    use kefu_store::CustomerStore;
    use kefu_store_tests::fixtures::{SYSTEM, customer, t0, tree};

    let store = fresh_store().await;
    let t = tree(&store).await;
    let c = store
        .create_customer(customer(1, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    sqlx::query("UPDATE customers SET grid = 'martian'")
        .execute(store.pool())
        .await
        .expect("corrupt the row");
    let err = store
        .get_customer(c.id, &t.hq.path)
        .await
        .expect_err("corrupt");
    match err {
        StoreError::Corrupt { entity, id, reason } => {
            assert_eq!(entity, "customer");
            assert_eq!(id, c.id.to_string());
            assert!(reason.contains("martian"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// Rows written before migration 0003 have no snapshot: they are rebuilt from their timeline;
/// a snapshot that does not decode is reported as corrupt, naming the row.
#[tokio::test]
async fn order_without_snapshot_is_rebuilt_and_a_bad_one_is_corrupt() {
    use kefu_domain::workorder::Command;
    use kefu_store::WorkOrderStore;
    use kefu_store_tests::fixtures::{at, t0, tree};
    use kefu_store_tests::workorder_fixtures::{cast, complaint, dispatch_a, ok, take};

    let store = fresh_store().await;
    let t = tree(&store).await;
    let c = cast(&t);
    let n = take(&store, &c, complaint(&t), t0()).await.order.number;
    ok(&store, &t, &n, dispatch_a(&t), &c.dispatcher, at(1)).await;
    let last = ok(&store, &t, &n, Command::Accept, &c.handler_a, at(2)).await;
    sqlx::query("UPDATE work_orders SET snapshot = NULL")
        .execute(store.pool())
        .await
        .expect("drop the snapshot");
    let rebuilt = store.get_order(&n, &t.hq.path).await.expect("get");
    assert_eq!(rebuilt, Some(last.clone()));
    sqlx::query("UPDATE work_orders SET snapshot = '{\"number\": 5}'")
        .execute(store.pool())
        .await
        .expect("corrupt the snapshot");
    match store.get_order(&n, &t.hq.path).await {
        Err(StoreError::Corrupt { entity, id, reason }) => {
            assert_eq!((entity, id), ("work_order", last.id.to_string()));
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// A stored catalogue or rule set that is not JSON, or that breaks a domain rule (written outside
/// kefu), is reported as corrupt, naming the setting and the version, by every read and by a save
/// over it.
#[tokio::test]
async fn corrupt_stored_settings_are_reported() {
    use kefu_domain::workorder::Catalogue;
    use kefu_store::{CatalogueStore, PageRequest};
    use kefu_store_tests::fixtures::{SYSTEM, t0};

    let store = fresh_store().await;
    let insert = |setting: &'static str, version: i64, body: &'static str| {
        sqlx::query(
            "INSERT INTO setting_versions (setting, version, body, staff_id, actor, saved_at) \
             VALUES (?, ?, ?, NULL, 'system:test', 0)",
        )
        .bind(setting)
        .bind(version)
        .bind(body)
        .execute(store.pool())
    };
    let corrupt = |err: StoreError, entity: &str, id: &str, reason: &str| match err {
        StoreError::Corrupt {
            entity: e,
            id: i,
            reason: r,
        } => {
            assert_eq!((e, i.as_str()), (entity, id));
            assert!(r.contains(reason), "{r}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    };
    insert("catalogue", 1, "not json").await.expect("insert");
    let err = store.current_catalogue().await.expect_err("not JSON");
    corrupt(err, "catalogue", "version 1", "not JSON");
    insert("catalogue", 2, "{\"entries\": []}")
        .await
        .expect("insert");
    let err = store.current_catalogue().await.expect_err("empty");
    corrupt(err, "catalogue", "version 2", "has no sub-category");
    let err = store
        .catalogue_history(PageRequest::first())
        .await
        .expect_err("history");
    corrupt(err, "catalogue", "version 2", "has no sub-category");
    let err = store
        .save_catalogue(Catalogue::defaults(), 2, &SYSTEM, t0())
        .await
        .expect_err("save over corrupt");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    insert(
        "major_rules",
        1,
        "{\"keywords\": [\"记者\", \"记者\"], \"sub_categories\": []}",
    )
    .await
    .expect("insert");
    let err = store.current_major_rules().await.expect_err("duplicate");
    corrupt(err, "major_rules", "version 1", "keywords[1]");
}

/// Migration 0012 starts a store that already holds orders at index format 1.
#[tokio::test]
async fn an_outdated_index_is_reported_until_reindexed() {
    let store = fresh_store().await;
    let pool = store.pool().clone();
    kefu_store_tests::an_outdated_index_is_reported_until_reindexed(&store, async move || {
        sqlx::query("UPDATE search_index_format SET format = 1")
            .execute(&pool)
            .await
            .expect("downgrade");
    })
    .await;
}
