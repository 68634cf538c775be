//! PostgreSQL-only checks of the initial load (issue 6): the indexes it sets aside are all back,
//! exactly as the migrations made them, whether the load finishes or is dropped midway.

use kefu_store::CustomerImportStore;
use kefu_store_postgres::PgStore;
use kefu_store_postgres::testing::fresh_store;
use kefu_store_tests::fixtures::{SYSTEM, customer, t0, tree};

/// Every index and constraint of the store's schema with its definition, by name.
async fn indexes(store: &PgStore) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
         UNION ALL SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2",
    )
    .fetch_all(store.pool())
    .await
    .expect("catalog")
}

#[tokio::test]
async fn a_finished_initial_load_leaves_every_index_of_the_schema() {
    let store = fresh_store().await;
    let t = tree(&store).await;
    let before = indexes(&store).await;
    assert!(before.iter().any(|(n, _)| n == "customer_phones_phone"));
    let mut load = store
        .begin_initial_load()
        .await
        .expect("begin")
        .expect("empty archive");
    load.insert(
        (1..200).map(|n| customer(n, t.county_a.id)).collect(),
        &SYSTEM,
        t0(),
    )
    .await
    .expect("insert");
    load.finish(&SYSTEM, t0()).await.expect("finish");
    assert_eq!(indexes(&store).await, before);
    // A table this small would be scanned: ask whether the index can be used at all.
    let mut conn = store.pool().acquire().await.expect("connection");
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .expect("set");
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN (COSTS OFF) SELECT customer_id FROM customer_phones \
         WHERE phone = '13900000001'",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("plan");
    sqlx::query("RESET enable_seqscan")
        .execute(&mut *conn)
        .await
        .expect("reset");
    assert!(
        plan.iter().any(|p| p.contains("customer_phones_phone")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn a_dropped_initial_load_rolls_back_rows_and_index_changes() {
    let store = fresh_store().await;
    let t = tree(&store).await;
    let before = indexes(&store).await;
    let mut load = store
        .begin_initial_load()
        .await
        .expect("begin")
        .expect("empty archive");
    load.insert(
        (1..50).map(|n| customer(n, t.county_a.id)).collect(),
        &SYSTEM,
        t0(),
    )
    .await
    .expect("insert");
    // A crash: the load never finishes.
    drop(load);
    // A second load captures the indexes it finds: had the first one's drops survived, they
    // would be missing after this one too.
    let again = store
        .begin_initial_load()
        .await
        .expect("begin again")
        .expect("the archive is empty again");
    assert_eq!(again.finish(&SYSTEM, t0()).await.expect("finish"), 0);
    assert_eq!(indexes(&store).await, before);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(count, 0);
}
