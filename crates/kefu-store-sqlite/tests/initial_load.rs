//! SQLite-only checks of the initial load (issue 6): the indexes it sets aside are all back,
//! exactly as the migrations made them, when the load finishes, and after a crash once the
//! store is opened again; the pool's connections keep checking foreign keys. The same for the
//! work-order indexes a bulk order load sets aside.

use kefu_domain::customer::CustomerRecord;
use kefu_store::{CustomerImportStore, CustomerStore, InitialLoad, Store, WorkOrderLoadStore};
use kefu_store_sqlite::SqliteStore;
use kefu_store_sqlite::testing::fresh_store;
use kefu_store_tests::fixtures::{SYSTEM, customer, t0, tree};

/// Every index of the database with its SQL text, by name.
async fn indexes(store: &SqliteStore) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .fetch_all(store.pool())
        .await
        .expect("sqlite_master")
}

/// `temp_store`, `threads` and `cache_size` of every connection the pool holds now.
async fn pool_pragmas(store: &SqliteStore) -> Vec<(i64, i64, i64)> {
    // Every connection, waiting for those on their way back to the pool.
    let mut held = Vec::new();
    for _ in 0..store.pool().size() {
        held.push(store.pool().acquire().await.expect("connection"));
    }
    let mut found = Vec::new();
    for conn in &mut held {
        let row: (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT temp_store FROM pragma_temp_store), \
             (SELECT threads FROM pragma_threads), (SELECT cache_size FROM pragma_cache_size)",
        )
        .fetch_one(&mut **conn)
        .await
        .expect("pragmas");
        found.push(row);
    }
    found
}

/// An initial load of the empty `store`, its first batch `records` stored (or running).
async fn begin_with(store: &SqliteStore, records: Vec<CustomerRecord>) -> Box<dyn InitialLoad> {
    let count = records.len();
    let mut load = store
        .begin_initial_load()
        .await
        .expect("begin")
        .expect("empty archive");
    let ids = load
        .insert(records, &SYSTEM, t0())
        .await
        .expect("first batch");
    assert_eq!(ids.len(), count);
    load
}

#[tokio::test]
async fn a_finished_initial_load_leaves_every_index_of_the_schema() {
    let store = fresh_store().await;
    let t = tree(&store).await;
    let before = indexes(&store).await;
    assert!(before.iter().any(|(n, _)| n == "customer_phones_phone"));
    let load = begin_with(
        &store,
        (1..200).map(|n| customer(n, t.county_a.id)).collect(),
    )
    .await;
    load.finish(&SYSTEM, t0()).await.expect("finish");
    assert_eq!(indexes(&store).await, before);
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT customer_id FROM customer_phones WHERE phone = '13900000001'",
    )
    .fetch_all(store.pool())
    .await
    .expect("plan");
    assert!(
        plan.iter().any(|p| p.3.contains("customer_phones_phone")),
        "{plan:?}"
    );
}

/// Batches run while the next is prepared, with ids handed out ahead: a customer created by
/// someone else in between takes one of them, and the load must stop with an error rather than
/// collide; the batches before stay stored, with every index back after `abort`.
#[tokio::test]
async fn a_customer_created_during_the_load_stops_it_cleanly() {
    let store = fresh_store().await;
    let t = tree(&store).await;
    let before = indexes(&store).await;
    let mut load = begin_with(
        &store,
        (1..50).map(|n| customer(n, t.county_a.id)).collect(),
    )
    .await;
    // An agent's create takes the next free id: one the load has promised to its first batch
    // (if that batch has not started yet) or to its second.
    store
        .create_customer(customer(900, t.county_b.id), &SYSTEM, t0())
        .await
        .expect("an agent's create");
    let mut outcome = load
        .insert(
            (50..60).map(|n| customer(n, t.county_a.id)).collect(),
            &SYSTEM,
            t0(),
        )
        .await;
    if outcome.is_ok() {
        outcome = load
            .insert(vec![customer(60, t.county_a.id)], &SYSTEM, t0())
            .await;
    }
    let err = outcome.expect_err("a batch found its ids taken");
    assert!(err.to_string().contains("another writer"), "{err}");
    load.abort().await.expect("abort");
    let kept = store.count_customers().await.expect("count");
    assert!(
        kept == 1 || kept == 50,
        "whole batches and the agent's, not {kept}"
    );
    assert_eq!(indexes(&store).await, before);
}

/// A batch's error surfaces at the next call; when that is `finish` (the last batch failed),
/// the indexes still come back at once, with the whole batches before it kept.
#[tokio::test]
async fn a_last_batch_that_fails_still_gets_the_indexes_back() {
    let store = fresh_store().await;
    let t = tree(&store).await;
    let before = indexes(&store).await;
    let mut load = begin_with(
        &store,
        (1..11).map(|n| customer(n, t.county_a.id)).collect(),
    )
    .await;
    // The caller promised unique account numbers; this batch breaks the promise.
    load.insert(vec![customer(3, t.county_b.id)], &SYSTEM, t0())
        .await
        .expect("queued");
    let err = load.finish(&SYSTEM, t0()).await.expect_err("duplicate");
    assert!(
        matches!(err, kefu_store::StoreError::Duplicate { .. }),
        "{err:?}"
    );
    assert_eq!(
        indexes(&store).await,
        before,
        "indexes back without a reopen"
    );
    assert_eq!(store.count_customers().await.expect("count"), 10);
}

#[tokio::test]
async fn indexes_left_aside_by_a_crashed_load_are_rebuilt_at_the_next_open() {
    let store = fresh_store().await;
    let t = tree(&store).await;
    let before = indexes(&store).await;
    let load = begin_with(
        &store,
        (1..50).map(|n| customer(n, t.county_a.id)).collect(),
    )
    .await;
    // A crash: the load never finishes, its committed batch stays.
    drop(load);
    assert_ne!(indexes(&store).await, before, "the indexes are still aside");
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM load_pending_indexes")
        .fetch_one(store.pool())
        .await
        .expect("marker");
    assert!(pending > 0);
    store.migrate().await.expect("the next open migrates");
    assert_eq!(indexes(&store).await, before);
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM load_pending_indexes")
        .fetch_one(store.pool())
        .await
        .expect("marker");
    assert_eq!(pending, 0);
    assert_eq!(store.count_customers().await.expect("count"), 49);
    let fk: Vec<i64> = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_all(store.pool())
        .await
        .expect("pragma");
    assert_eq!(fk, vec![1], "pool connections still check foreign keys");
}

#[tokio::test]
async fn a_bulk_order_load_sets_the_order_indexes_aside_and_puts_them_back() {
    let store = fresh_store().await;
    let before = indexes(&store).await;
    assert!(before.iter().any(|(n, _)| n == "work_orders_customer"));
    assert!(store.begin_bulk_orders().await.expect("begin"), "empty");
    assert!(
        store.begin_bulk_orders().await.expect("begin again"),
        "a second begin still reports the indexes aside"
    );
    let during = indexes(&store).await;
    assert!(!during.iter().any(|(n, _)| n == "work_orders_customer"));
    assert!(
        during
            .iter()
            .any(|(n, _)| n == "sqlite_autoindex_work_orders_1"),
        "the unique order number stays: {during:?}"
    );
    let pool_before = pool_pragmas(&store).await;
    store.finish_bulk_orders().await.expect("finish");
    assert_eq!(indexes(&store).await, before);
    // The rebuild sorted with temporary files, threads and a small cache: its connection is
    // back in the pool with the pool's settings.
    let pool_after = pool_pragmas(&store).await;
    assert!(!pool_after.is_empty());
    assert!(
        pool_after.iter().all(|p| Some(p) == pool_before.first()),
        "{pool_before:?} → {pool_after:?}"
    );
}

#[tokio::test]
async fn order_indexes_left_aside_by_a_crash_are_rebuilt_at_the_next_open() {
    let store = fresh_store().await;
    let before = indexes(&store).await;
    assert!(store.begin_bulk_orders().await.expect("begin"));
    // A crash: the load never finishes.
    assert_ne!(indexes(&store).await, before);
    store.migrate().await.expect("the next open migrates");
    assert_eq!(indexes(&store).await, before);
}
