//! `kefu bench intake`: the work-order intake benchmark of issue 4. On a fresh store with N demo
//! customers, an agent with an API token posts `POST /api/v1/work-orders` (identified customers
//! picked at random, sub-categories of the default catalogue, Chinese descriptions, a fresh
//! `Idempotency-Key` each) from C closed-loop keep-alive clients over loopback. The baseline in
//! the same run: as many rows as orders were taken, inserted by this process with plain
//! single-row INSERTs (one transaction per row) into a scratch table of the same store, opened
//! with the store's own connection settings (so the same durability), by the same C workers.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use kefu_domain::workorder::{Catalogue, Gravity};
use kefu_store::Store;
use kefu_store_postgres::PgStore;
use kefu_store_sqlite::SqliteStore;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::json;

use super::measure::{self, Measurement};
use super::{Harness, MAX_CONCURRENCY, MAX_PHASE, Scratch, WARM_UP, fresh_store, ratio, send};
use crate::cli::{BenchAuth, Cli, IntakeArgs};
use crate::config::DatabaseUrl;
use crate::demo;

/// What to run.
#[derive(Debug, Clone)]
pub struct IntakeOptions {
    /// PostgreSQL server to create a fresh schema in; `None` = a temporary SQLite file.
    pub database_url: Option<DatabaseUrl>,
    /// Customers to load.
    pub customers: usize,
    /// Concurrent clients.
    pub concurrency: usize,
    /// Length of the measured intake phase.
    pub duration: Duration,
    /// Generator and client seed.
    pub seed: u64,
    /// Request budget of the intake phase.
    pub max_requests: u64,
}

/// Options from the command line (the database only from `--database-url`).
pub fn options(cli: &Cli, args: &IntakeArgs) -> IntakeOptions {
    IntakeOptions {
        database_url: cli.database_url.clone().map(DatabaseUrl::new),
        customers: args.customers.clamp(1, demo::MAX_CUSTOMERS),
        concurrency: args.concurrency.clamp(1, MAX_CONCURRENCY),
        duration: args.duration.min(MAX_PHASE),
        seed: args.seed,
        max_requests: args.max_requests,
    }
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct IntakeReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Customers loaded.
    pub customers: usize,
    /// Clients.
    pub concurrency: usize,
    /// How long loading took.
    pub load_time: Duration,
    /// Intakes through HTTP (each one a 201).
    pub http: Measurement,
    /// The same number of plain single-row INSERTs.
    pub plain: Measurement,
}

impl IntakeReport {
    /// The Markdown table header for `markdown_row`.
    pub const HEADER: &'static str = "| store | customers | concurrency | orders | orders/s | p50 ms | p99 ms | plain INSERT rows · rows/s · p50 · p99 | orders/s ÷ plain rows/s | errors |\n|---|---|---|---|---|---|---|---|---|---|";

    /// One row of the results table.
    pub fn markdown_row(&self) -> String {
        let (h, p) = (&self.http, &self.plain);
        format!(
            "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {} · {:.0} · {:.2} · {:.2} | {} | {} |",
            self.backend,
            self.customers,
            self.concurrency,
            h.requests,
            h.rps(),
            h.p50(),
            h.p99(),
            p.requests,
            p.rps(),
            p.p50(),
            p.p99(),
            ratio(h.rps(), p.rps()),
            h.errors + p.errors,
        )
    }

    /// Header, row and a line on loading, ready to paste into BENCHMARKS.md.
    pub fn markdown(&self) -> String {
        format!(
            "{}\n{}\n\nloaded {} customers in {:.1}s; intake phase {:.1}s, plain INSERT phase {:.1}s",
            Self::HEADER,
            self.markdown_row(),
            self.customers,
            self.load_time.as_secs_f64(),
            self.http.elapsed.as_secs_f64(),
            self.plain.elapsed.as_secs_f64(),
        )
    }
}

/// Sentences an agent writes down, completed by the sub-category's name.
const DESCRIPTIONS: &[&str] = &[
    "客户来电反映{}问题，自昨晚起持续至今，要求尽快派人处理并回复处理结果。",
    "客户称{}一事已多次反映未果，情绪较为激动，请相关部门核实后联系客户。",
    "客户来电咨询{}相关事宜，希望供电公司给出明确答复，联系电话即来电号码。",
    "客户反映{}，家中有老人和小孩，请尽快安排人员到现场查看。",
    "客户表示{}影响正常生产经营，要求说明原因及预计处理时间。",
    "客户通过95598热线反映{}情况，地址为用电地址，请核实处理。",
];

/// Channels, weighted toward the 95598 hotline as in the call centre.
const CHANNELS: &[&str] = &[
    "phone_95598",
    "phone_95598",
    "phone_95598",
    "phone_95598",
    "web",
    "app",
    "sms",
];

/// `(appeal_type, sub_category, name_zh)` of the default catalogue's ordinary sub-categories.
fn sub_categories() -> Vec<(String, String, String)> {
    Catalogue::defaults()
        .entries()
        .iter()
        .filter(|s| s.gravity == Gravity::Ordinary)
        .filter_map(|s| {
            let code = s.code.as_str();
            let (kind, _) = code.split_once('.')?;
            Some((kind.to_owned(), code.to_owned(), s.name_zh.clone()))
        })
        .collect()
}

/// One intake body for a random customer.
fn intake_body<R: Rng + ?Sized>(
    rng: &mut R,
    customers: &[(i64, String)],
    subs: &[(String, String, String)],
) -> serde_json::Value {
    let (id, phone) = customers.choose(rng).cloned().unwrap_or_default();
    let (kind, code, name) = subs.choose(rng).cloned().unwrap_or_default();
    let text = DESCRIPTIONS.choose(rng).copied().unwrap_or("{}");
    json!({
        "channel": CHANNELS.choose(rng).copied().unwrap_or("phone_95598"),
        "caller": {"customer_id": id, "phone": phone},
        "appeal_type": kind,
        "sub_category": code,
        "content": text.replace("{}", &name),
    })
}

/// Runs the benchmark and removes its store afterwards.
pub async fn intake(opts: IntakeOptions) -> anyhow::Result<IntakeReport> {
    let (store, scratch) = fresh_store(opts.database_url.as_ref()).await?;
    let result = run_on(store, &scratch, &opts).await;
    scratch.remove().await;
    result
}

async fn run_on(
    store: Arc<dyn Store>,
    scratch: &Scratch,
    opts: &IntakeOptions,
) -> anyhow::Result<IntakeReport> {
    let mut customers: Vec<(i64, String)> = Vec::with_capacity(opts.customers);
    let harness = Harness::start(
        store.clone(),
        opts.seed,
        opts.customers,
        opts.concurrency,
        BenchAuth::Token,
        |r, id| {
            let phone = r.phones.first().map(|p| p.as_str().to_owned());
            customers.push((id.0, phone.unwrap_or_default()));
        },
        async { Ok(()) },
    )
    .await?;
    anyhow::ensure!(!customers.is_empty(), "no customers were loaded");
    let subs = sub_categories();
    anyhow::ensure!(!subs.is_empty(), "the default catalogue is empty");

    let (customers, subs) = (Arc::new(customers), Arc::new(subs));
    let uri = format!("{}/api/v1/work-orders", harness.base);
    let take = {
        let (client, auth) = (harness.client.clone(), harness.credential.clone());
        let seed = opts.seed;
        move |mut rng: rand::rngs::StdRng| {
            let body = intake_body(&mut rng, &customers, &subs);
            let key = format!("bench-{seed}-{:032x}", rng.random::<u128>());
            let req = hyper::Request::post(uri.as_str())
                .header(&auth.0, auth.1.as_str())
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .header("Idempotency-Key", key)
                .body(Full::new(Bytes::from(body.to_string())));
            let client = client.clone();
            async move {
                let result = match req {
                    Ok(req) => send(&client, req, hyper::StatusCode::CREATED).await,
                    Err(e) => Err(e.to_string()),
                };
                (rng, result)
            }
        }
    };
    // Warm-up (also proves the intake answers before anything is measured).
    let warm = measure::run(
        opts.concurrency,
        WARM_UP.min(opts.duration),
        opts.max_requests,
        opts.seed.wrapping_add(1_000_003),
        take.clone(),
    )
    .await;
    if let Some(e) = warm.first_error.as_ref().filter(|_| warm.requests == 0) {
        harness.stop().await;
        anyhow::bail!("the work-order intake fails: {e}");
    }
    eprintln!("bench: HTTP work-order intake for {:?}…", opts.duration);
    let http = measure::run(
        opts.concurrency,
        opts.duration,
        opts.max_requests,
        opts.seed,
        take,
    )
    .await;
    let loaded = harness.loaded;
    let load_time = harness.load_time;
    harness.stop().await;

    eprintln!(
        "bench: {} plain single-row INSERTs into a scratch table…",
        http.requests
    );
    let plain = plain_inserts(scratch, opts, http.requests).await?;
    super::print_errors(&[("HTTP intake", &http), ("plain INSERT", &plain)]);
    Ok(IntakeReport {
        backend: store.backend(),
        customers: loaded,
        concurrency: opts.concurrency,
        load_time,
        http,
        plain,
    })
}

const SCRATCH_TABLE: &str = "bench_plain_insert";

/// `rows` single-row INSERTs (autocommit: one transaction each) by `concurrency` workers into a
/// scratch table of the store, through a pool opened exactly as the store opens its own.
async fn plain_inserts(
    scratch: &Scratch,
    opts: &IntakeOptions,
    rows: u64,
) -> anyhow::Result<Measurement> {
    let rows = rows.max(1);
    let n = i64::try_from(opts.customers.max(1)).unwrap_or(i64::MAX);
    let content = "客户来电反映停送电问题，自昨晚起持续至今，要求尽快派人处理并回复处理结果。";
    match scratch {
        Scratch::Sqlite(dir) => {
            let store = SqliteStore::open(&dir.join("kefu.db")).await?;
            let pool = store.pool().clone();
            sqlx::query(
                "CREATE TABLE bench_plain_insert (id INTEGER PRIMARY KEY, customer_id INTEGER \
                 NOT NULL, sub_category TEXT NOT NULL, content TEXT NOT NULL, idempotency_key \
                 TEXT NOT NULL, created_at TEXT NOT NULL)",
            )
            .execute(&pool)
            .await?;
            let m = measure::run(
                opts.concurrency,
                MAX_PHASE,
                rows,
                opts.seed,
                move |mut rng| {
                    let pool = pool.clone();
                    let (id, key) = (rng.random_range(1..=n), rng.random::<u128>());
                    async move {
                        let r = sqlx::query(
                            "INSERT INTO bench_plain_insert (customer_id, sub_category, content, \
                         idempotency_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        )
                        .bind(id)
                        .bind("complaint.outage")
                        .bind(content)
                        .bind(format!("{key:032x}"))
                        .bind(chrono::Utc::now().to_rfc3339())
                        .execute(&pool)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                        (rng, r)
                    }
                },
            )
            .await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {SCRATCH_TABLE}")))
                .execute(store.pool())
                .await
                .ok();
            store.pool().close().await;
            Ok(m)
        }
        Scratch::Postgres(url, schema) => {
            let store = PgStore::connect_with_schema(url.expose(), schema).await?;
            let pool = store.pool().clone();
            sqlx::query(
                "CREATE TABLE bench_plain_insert (id BIGSERIAL PRIMARY KEY, customer_id BIGINT \
                 NOT NULL, sub_category TEXT NOT NULL, content TEXT NOT NULL, idempotency_key \
                 TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)",
            )
            .execute(&pool)
            .await?;
            let m = measure::run(
                opts.concurrency,
                MAX_PHASE,
                rows,
                opts.seed,
                move |mut rng| {
                    let pool = pool.clone();
                    let (id, key) = (rng.random_range(1..=n), rng.random::<u128>());
                    async move {
                        let r = sqlx::query(
                            "INSERT INTO bench_plain_insert (customer_id, sub_category, content, \
                         idempotency_key, created_at) VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(id)
                        .bind("complaint.outage")
                        .bind(content)
                        .bind(format!("{key:032x}"))
                        .bind(chrono::Utc::now())
                        .execute(&pool)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                        (rng, r)
                    }
                },
            )
            .await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {SCRATCH_TABLE}")))
                .execute(store.pool())
                .await
                .ok();
            store.pool().close().await;
            Ok(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn intake_bodies_use_ordinary_catalogue_codes_of_their_type() {
        let subs = sub_categories();
        assert!(subs.len() > 10);
        let customers = vec![(7, "13800130001".to_owned())];
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let b = intake_body(&mut rng, &customers, &subs);
            let code = b["sub_category"].as_str().expect("code");
            let kind = b["appeal_type"].as_str().expect("type");
            assert!(code.starts_with(&format!("{kind}.")), "{b}");
            assert_eq!(b["caller"]["customer_id"], 7);
            assert!(!b["content"].as_str().expect("content").contains("{}"));
        }
    }
}
