//! Measures `create_customers` (the demo-province and import path) and the phone screen-pop on
//! PostgreSQL (a fresh schema in `KEFU_TEST_DATABASE_URL`, dropped at the end). Prints timings; asserts nothing about them.
//!
//! `cargo run --release -p kefu-store-postgres --example pg_bulk_insert -- [customers] [batch]`

use std::time::Instant;

use kefu_domain::customer::Phone;
use kefu_store::{CustomerLookup, CustomerStore, PageRequest};
use kefu_store_tests::fixtures::{SYSTEM, customer, t0, tree};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let total: u32 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let batch: u32 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let store = kefu_store_postgres::testing::fresh_store().await;
    let t = tree(&store).await;
    let units = [t.county_a.id, t.county_b.id];

    let started = Instant::now();
    let mut generated = std::time::Duration::ZERO;
    let mut n = 0;
    while n < total {
        let g = Instant::now();
        let records: Vec<_> = (n..(n + batch).min(total))
            .map(|i| customer(i, units[(i % 2) as usize]))
            .collect();
        generated += g.elapsed();
        store.create_customers(records, &SYSTEM, t0()).await?;
        n += batch;
    }
    let elapsed = started.elapsed();
    let stored = elapsed - generated;
    println!(
        "postgres: {total} customers in batches of {batch}: {:.2} s in the store \
         ({:.0} customers/s; generating the records took another {:.2} s)",
        stored.as_secs_f64(),
        f64::from(total) / stored.as_secs_f64(),
        generated.as_secs_f64()
    );

    let probes = 2_000_u32;
    let started = Instant::now();
    for i in 0..probes {
        let phone = Phone::parse(&format!("139{:08}", (i * 7919) % total))?;
        let page = store
            .find_customers(
                &CustomerLookup::Phone(phone),
                &t.hq.path,
                false,
                PageRequest::first(),
            )
            .await?;
        assert_eq!(
            page.items.len(),
            1,
            "every generated phone belongs to one customer"
        );
    }
    let per = started.elapsed() / probes;
    println!(
        "postgres: phone screen-pop over {total} customers: {per:?} per look-up (with children)"
    );
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(store.pool())
        .await?;
    if std::env::var_os("KEFU_BENCH_KEEP").is_some() {
        println!("postgres: kept schema {schema}");
        return Ok(());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(store.pool())
        .await?;
    Ok(())
}
