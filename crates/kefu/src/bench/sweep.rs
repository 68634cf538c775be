//! `kefu bench sweep`: the SLA sweep benchmark of issue 5 ("sweep over 1 000 000 open orders:
//! time per sweep on both stores; target ≤ 1 s on SQLite"). On a fresh store (temporary SQLite
//! file, or a PostgreSQL schema dropped afterwards) it loads N generated open orders
//! (`sweep_gen`) through `load_orders`, refreshes the planner statistics (`ANALYZE`), brings the
//! sweep up to date an hour before the benchmark's instant T (untimed, reported), then times:
//!
//! - **catch-up**: `sweep_all(T − 30 s)` an hour after the last sweep — an hour of alerts at once;
//! - **steady**: `sweep_all(T)` 30 s after the last — one tick of the server's sweeper;
//! - **idle**: `sweep_all(T)` again at once — nothing is due.
//!
//! Baseline, same run, just before each sweep: the database's own cost of touching the same
//! rows, `UPDATE work_orders SET sla_check_at = sla_check_at WHERE sla_check_at <= t` (one
//! statement, autocommit, through a pool opened like the store's own). Loopback only; every step
//! is finite, so the run stops by itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::org::{OrgLevel, OrgPath};
use kefu_store::sla::{SweepBatch, sweep_all};
use kefu_store::{Actor, NewStaff, Store};
use kefu_store_postgres::PgStore;
use kefu_store_sqlite::SqliteStore;

use super::sweep_gen::OrderGenerator;
use super::{Scratch, fresh_store, ratio};
use crate::cli::{Cli, SweepArgs};
use crate::config::DatabaseUrl;
use crate::demo;

/// The most orders a run may generate.
pub const MAX_ORDERS: usize = 5_000_000;
/// Orders of `--quick`.
pub const QUICK_ORDERS: usize = 20_000;
/// The server's sweep interval: what one steady tick covers.
pub const TICK: chrono::Duration = chrono::Duration::seconds(30);
/// The gap the catch-up sweep covers.
pub const CATCH_UP: chrono::Duration = chrono::Duration::hours(1);

/// The benchmark's instant T: Wednesday 18 March 2026, 10:00 Beijing time, an ordinary
/// working morning of the shipped calendar (fixed, so every run sees the same deadlines).
pub fn instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 18, 2, 0, 0)
        .single()
        .unwrap_or_default()
}

/// What to run.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// PostgreSQL server to create a fresh schema in; `None` = a temporary SQLite file.
    pub database_url: Option<DatabaseUrl>,
    /// Open orders to generate and load.
    pub orders: usize,
    /// Orders per `load_orders` call.
    pub batch: usize,
    /// Generator seed.
    pub seed: u64,
}

/// Options from the command line (the database only from `--database-url`).
pub fn options(cli: &Cli, args: &SweepArgs) -> SweepOptions {
    SweepOptions {
        database_url: cli.database_url.clone().map(DatabaseUrl::new),
        orders: if args.quick {
            QUICK_ORDERS
        } else {
            args.orders.clamp(1, MAX_ORDERS)
        },
        batch: args.batch.clamp(1, 50_000),
        seed: args.seed,
    }
}

/// One timed sweep and its baseline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phase {
    /// Orders due when it started.
    pub due: i64,
    /// What the sweep did.
    pub done: SweepBatch,
    /// How long `sweep_all` took.
    pub sweep: Duration,
    /// How long the plain UPDATE of the same rows took.
    pub baseline: Duration,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Phase {
    fn cell(&self) -> String {
        format!(
            "{} · {} · {:.1} | {:.1} | {}",
            self.due,
            self.done.alerts,
            ms(self.sweep),
            ms(self.baseline),
            ratio(ms(self.sweep), ms(self.baseline)),
        )
    }
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct SweepReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Open orders loaded.
    pub orders: usize,
    /// Timeline events loaded with them.
    pub events: usize,
    /// Time spent inside `load_orders` (the store's share of loading).
    pub load_store: Duration,
    /// Generating and loading, end to end.
    pub load_total: Duration,
    /// The first sweep after loading (untimed phase, an hour before the catch-up).
    pub first: (SweepBatch, Duration),
    /// An hour of alerts at once.
    pub catch_up: Phase,
    /// One 30 s tick.
    pub steady: Phase,
    /// Nothing due.
    pub idle: Phase,
}

impl SweepReport {
    /// The Markdown table header for `markdown_row`.
    pub const HEADER: &'static str = "| store | open orders | load orders/s | steady 30 s tick: due · alerts · ms | baseline ms | ratio | catch-up 1 h: due · alerts · ms | baseline ms | ratio | idle: due · alerts · ms | baseline ms | ratio |\n|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// One row of the results table.
    pub fn markdown_row(&self) -> String {
        format!(
            "| {} | {} | {:.0} | {} | {} | {} |",
            self.backend,
            self.orders,
            per_second(self.orders, self.load_store),
            self.steady.cell(),
            self.catch_up.cell(),
            self.idle.cell(),
        )
    }

    /// Header, row and the loading and first-sweep figures, ready for BENCHMARKS.md.
    pub fn markdown(&self) -> String {
        format!(
            "{}\n{}\n\nloaded {} orders with {} events: {:.1}s in load_orders ({:.0} orders/s), \
             {:.1}s with generation; first sweep after loading: {} orders, {} alerts in {:.1}s",
            Self::HEADER,
            self.markdown_row(),
            self.orders,
            self.events,
            self.load_store.as_secs_f64(),
            per_second(self.orders, self.load_store),
            self.load_total.as_secs_f64(),
            self.first.0.orders,
            self.first.0.alerts,
            self.first.1.as_secs_f64(),
        )
    }
}

fn per_second(n: usize, d: Duration) -> f64 {
    let secs = d.as_secs_f64();
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// Runs the benchmark and removes its store afterwards.
pub async fn sweep(opts: SweepOptions) -> anyhow::Result<SweepReport> {
    let (store, scratch) = fresh_store(opts.database_url.as_ref()).await?;
    let result = match Raw::open(&scratch).await {
        Ok(raw) => {
            let r = run_on(store.clone(), &raw, &scratch, &opts).await;
            raw.close().await;
            r
        }
        Err(e) => Err(e),
    };
    scratch.remove().await;
    result
}

/// Supervisors of the province and of each city, so escalations find somebody.
async fn supervisors(store: &dyn Store, org: &demo::CreatedOrg) -> anyhow::Result<()> {
    let actor = Actor::System("bench");
    let hash = crate::commands::hash_password(&crate::commands::generate_password("bench"))?;
    let mut units: Vec<_> = org
        .units
        .values()
        .filter(|u| matches!(u.level, OrgLevel::Province | OrgLevel::City))
        .collect();
    units.sort_by_key(|u| u.id);
    for (i, unit) in units.into_iter().enumerate() {
        store
            .create_staff(
                NewStaff {
                    username: Username::parse(&format!("bench.supervisor{i}"))
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                    display_name: "督办员".into(),
                    org_unit_id: unit.id,
                    department_id: None,
                    roles: Roles::new(vec![Role::Supervisor])
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                    password_hash: hash.clone(),
                },
                &actor,
            )
            .await?;
    }
    Ok(())
}

async fn run_on(
    store: Arc<dyn Store>,
    raw: &Raw,
    scratch: &Scratch,
    opts: &SweepOptions,
) -> anyhow::Result<SweepReport> {
    let org = demo::create_org(store.as_ref(), &Actor::System("bench")).await?;
    supervisors(store.as_ref(), &org).await?;
    let province = org
        .units
        .get(demo::PROVINCE_CODE)
        .context("demo province missing")?
        .path
        .clone();
    let mut units: Vec<(i64, OrgPath)> = org
        .units
        .values()
        .filter(|u| matches!(u.level, OrgLevel::County | OrgLevel::Station))
        .map(|u| (u.id.0, u.path.clone()))
        .collect();
    units.sort();
    let units = units.into_iter().map(|(_, p)| p).collect();
    let t = instant();
    let mut generator = OrderGenerator::new(opts.seed, &province, units, t)?;

    eprintln!("bench: generating and loading {} open orders…", opts.orders);
    let started = Instant::now();
    let (mut loaded, mut events, mut in_store) = (0, 0, Duration::ZERO);
    let mut next_report = Instant::now() + Duration::from_secs(10);
    while loaded < opts.orders {
        let batch = generator.batch(opts.batch.min(opts.orders - loaded))?;
        events += batch.iter().map(|o| o.events.len()).sum::<usize>();
        let call = Instant::now();
        store.load_orders(&batch).await.context("load_orders")?;
        in_store += call.elapsed();
        loaded += batch.len();
        if Instant::now() >= next_report {
            eprintln!("bench: {loaded} orders loaded");
            next_report += Duration::from_secs(10);
        }
    }
    let load_total = started.elapsed();
    eprintln!(
        "bench: loaded {loaded} orders ({events} events) in {:.1}s ({:.1}s in load_orders)",
        load_total.as_secs_f64(),
        in_store.as_secs_f64()
    );
    raw.analyze(scratch).await?;

    let caught_up = t - TICK - CATCH_UP;
    eprintln!("bench: first sweep at T - 1 h 30 s (untimed)…");
    let first_started = Instant::now();
    let first = sweep_all(store.as_ref(), caught_up).await?;
    let first = (first, first_started.elapsed());
    eprintln!(
        "bench: first sweep: {} orders, {} alerts in {:.1}s",
        first.0.orders,
        first.0.alerts,
        first.1.as_secs_f64()
    );
    let catch_up = phase(store.as_ref(), raw, t - TICK).await?;
    let steady = phase(store.as_ref(), raw, t).await?;
    let idle = phase(store.as_ref(), raw, t).await?;
    Ok(SweepReport {
        backend: store.backend(),
        orders: loaded,
        events,
        load_store: in_store,
        load_total,
        first,
        catch_up,
        steady,
        idle,
    })
}

/// The baseline over the rows due at `at`, then the timed sweep at `at`.
async fn phase(store: &dyn Store, raw: &Raw, at: DateTime<Utc>) -> anyhow::Result<Phase> {
    let due = raw.due(at).await?;
    let baseline = raw.touch(at).await?;
    let started = Instant::now();
    let done = sweep_all(store, at).await?;
    let sweep = started.elapsed();
    eprintln!(
        "bench: sweep at {at}: {due} due, {} orders, {} alerts in {:.1} ms (baseline {:.1} ms)",
        done.orders,
        done.alerts,
        ms(sweep),
        ms(baseline)
    );
    Ok(Phase {
        due,
        done,
        sweep,
        baseline,
    })
}

/// Plain SQL on the benchmark's store, through a pool opened as the store opens its own.
enum Raw {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Raw {
    async fn open(scratch: &Scratch) -> anyhow::Result<Raw> {
        Ok(match scratch {
            Scratch::Sqlite(dir) => Raw::Sqlite(SqliteStore::open(&dir.join("kefu.db")).await?),
            Scratch::Postgres(url, schema) => {
                Raw::Postgres(PgStore::connect_with_schema(url.expose(), schema).await?)
            }
        })
    }

    async fn close(&self) {
        match self {
            Raw::Sqlite(s) => s.pool().close().await,
            Raw::Postgres(s) => s.pool().close().await,
        }
    }

    /// Planner statistics after loading, as an operator would gather them after an import.
    async fn analyze(&self, scratch: &Scratch) -> anyhow::Result<()> {
        match (self, scratch) {
            (Raw::Sqlite(s), _) => {
                sqlx::query("ANALYZE").execute(s.pool()).await?;
            }
            (Raw::Postgres(_), Scratch::Postgres(url, schema)) => {
                crate::db::analyze_pg_schema(url, schema).await?;
            }
            (Raw::Postgres(_), Scratch::Sqlite(_)) => {}
        }
        eprintln!("bench: ANALYZE done");
        Ok(())
    }

    /// Orders whose next SLA check is due at `at`.
    async fn due(&self, at: DateTime<Utc>) -> anyhow::Result<i64> {
        Ok(match self {
            Raw::Sqlite(s) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM work_orders WHERE sla_check_at <= ?")
                    .bind(at.timestamp_millis())
                    .fetch_one(s.pool())
                    .await?
            }
            Raw::Postgres(s) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM work_orders WHERE sla_check_at <= $1")
                    .bind(at)
                    .fetch_one(s.pool())
                    .await?
            }
        })
    }

    /// The baseline: one plain UPDATE touching every row due at `at`, timed.
    async fn touch(&self, at: DateTime<Utc>) -> anyhow::Result<Duration> {
        let started = Instant::now();
        match self {
            Raw::Sqlite(s) => {
                sqlx::query(
                    "UPDATE work_orders SET sla_check_at = sla_check_at WHERE sla_check_at <= ?",
                )
                .bind(at.timestamp_millis())
                .execute(s.pool())
                .await?;
            }
            Raw::Postgres(s) => {
                sqlx::query(
                    "UPDATE work_orders SET sla_check_at = sla_check_at WHERE sla_check_at <= $1",
                )
                .bind(at)
                .execute(s.pool())
                .await?;
            }
        }
        Ok(started.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instant_is_a_working_morning_in_beijing() {
        let local = instant().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("tz"));
        assert_eq!(local.to_rfc3339(), "2026-03-18T10:00:00+08:00");
    }
}
