//! `kefu bench search`: full-text search latency (issue 7). On a fresh store (temporary SQLite
//! file, or a PostgreSQL schema dropped afterwards) it loads N generated orders (`sweep_gen`:
//! Chinese appeal texts built from the catalogue's sub-category names) through `load_orders`,
//! which writes their search terms in the same transactions, then runs each query of a fixed
//! set `rounds` times, province-wide and in one county, through `SearchStore::search_orders`
//! (first page of 20, ranked). Baseline, same run, interleaved: the first page of 20 of the
//! plain order list in the same scope (`list_orders`, an index walk). Loopback only, finite.
//!
//! For large stores (30 M orders take hours to load) `--keep PATH` loads into a SQLite file that
//! stays, and `--reuse PATH` queries such a file without loading.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use kefu_domain::org::{OrgLevel, OrgPath};
use kefu_domain::workorder::{Catalogue, Gravity};
use kefu_store::{Actor, OrderFilter, PageRequest, SearchPageRequest, SearchWindow, Store};

use super::sweep::instant;
use super::sweep_gen::OrderGenerator;
use super::{fresh_store, ratio};
use crate::cli::{Cli, SearchBenchArgs};
use crate::config::{Database, DatabaseUrl};
use crate::demo;

/// Orders of `--quick`.
pub const QUICK_ORDERS: usize = 100_000;
/// Intakes per day of a generated run (30 M orders span two years, as in a province); runs of
/// fewer than two weeks' worth still span `sweep_gen::SPAN`.
const ORDERS_PER_DAY: usize = 41_100;
/// The most orders a run may generate.
pub const MAX_ORDERS: usize = 50_000_000;

/// What to run.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// PostgreSQL server to create a fresh schema in; `None` = a temporary SQLite file.
    pub database_url: Option<DatabaseUrl>,
    /// Orders to generate and load.
    pub orders: usize,
    /// Orders per `load_orders` call.
    pub batch: usize,
    /// How often each query runs.
    pub rounds: usize,
    /// Generator seed.
    pub seed: u64,
    /// Load into this new SQLite file and keep it.
    pub keep: Option<PathBuf>,
    /// Query this SQLite file without loading.
    pub reuse: Option<PathBuf>,
    /// The search window.
    pub window: SearchWindow,
}

/// Options from the command line (the database only from `--database-url`).
pub fn options(cli: &Cli, args: &SearchBenchArgs) -> SearchOptions {
    SearchOptions {
        database_url: cli.database_url.clone().map(DatabaseUrl::new),
        orders: if args.quick {
            QUICK_ORDERS
        } else {
            args.orders.clamp(1, MAX_ORDERS)
        },
        batch: args.batch.clamp(1, 50_000),
        rounds: args.rounds.clamp(1, 1000),
        seed: args.seed,
        keep: args.keep.clone(),
        reuse: args.reuse.clone(),
        window: SearchWindow::new(
            args.window_rank.unwrap_or(SearchWindow::DEFAULT.rank),
            args.window_scan.unwrap_or(SearchWindow::DEFAULT.scan),
        ),
    }
}

/// Latencies of one kind of request, in microseconds, sorted.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<u64>);

impl Latencies {
    fn push(&mut self, d: Duration) {
        self.0
            .push(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    fn sorted(mut self) -> Self {
        self.0.sort_unstable();
        self
    }

    /// The `q` quantile (nearest rank) in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let n = self.0.len();
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        self.0[rank - 1] as f64 / 1000.0
    }
}

/// One scope's figures.
#[derive(Debug, Clone, Default)]
pub struct ScopeFigures {
    /// Search latencies.
    pub search: Latencies,
    /// Plain list latencies (baseline).
    pub list: Latencies,
    /// Hits over all searches (first pages).
    pub hits: usize,
    /// Searches whose page said not every match was ranked.
    pub bounded: usize,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct SearchReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Orders loaded.
    pub orders: usize,
    /// Loading, end to end (generation included).
    pub load: Duration,
    /// Queries of the set.
    pub queries: usize,
    /// Province-wide.
    pub province: ScopeFigures,
    /// One county.
    pub county: ScopeFigures,
}

impl SearchReport {
    /// The Markdown table header for `markdown_row`.
    pub const HEADER: &'static str = "| store | orders | load orders/s | scope | searches | search p50 ms | search p95 ms | list p50 ms | list p95 ms | p50 ratio | p95 ratio |\n|---|---|---|---|---|---|---|---|---|---|---|";

    /// The rows of the results table.
    pub fn markdown(&self) -> String {
        // A reused file was loaded by an earlier run: no rate of this one.
        let rate = if self.load.is_zero() {
            "reused".to_owned()
        } else {
            format!("{:.0}", self.orders as f64 / self.load.as_secs_f64())
        };
        let mut out = String::from(Self::HEADER);
        for (scope, f) in [("province", &self.province), ("county", &self.county)] {
            out.push_str(&format!(
                "\n| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
                self.backend,
                self.orders,
                rate,
                scope,
                f.search.0.len(),
                f.search.ms(0.5),
                f.search.ms(0.95),
                f.list.ms(0.5),
                f.list.ms(0.95),
                ratio(f.search.ms(0.5), f.list.ms(0.5)),
                ratio(f.search.ms(0.95), f.list.ms(0.95)),
            ));
        }
        out
    }
}

/// The queries: the catalogue's ordinary sub-category names (they occur in the generated
/// texts, each in a share of the orders), a word of every text (客户, the flood case), a word
/// of a quarter of them, two-word queries and a word that occurs nowhere.
fn queries() -> Vec<String> {
    let mut q: Vec<String> = Catalogue::defaults()
        .entries()
        .iter()
        .filter(|s| s.gravity == Gravity::Ordinary)
        .map(|s| s.name_zh.clone())
        .collect();
    q.extend(
        [
            "客户",
            "老人 小孩",
            "生产经营 原因",
            "多次 核实",
            "光伏并网",
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    q
}

/// Runs the benchmark and removes its store afterwards (unless `--keep` or `--reuse`).
pub async fn search(opts: SearchOptions) -> anyhow::Result<SearchReport> {
    let kept = opts.reuse.as_ref().or(opts.keep.as_ref());
    if let Some(path) = kept {
        anyhow::ensure!(
            opts.database_url.is_none(),
            "--keep and --reuse take a SQLite file; leave out --database-url"
        );
        if opts.reuse.is_some() {
            anyhow::ensure!(path.exists(), "{} does not exist", path.display());
        } else {
            anyhow::ensure!(
                !path.exists(),
                "{} exists already: --keep loads into a new file (query it with --reuse)",
                path.display()
            );
        }
        let store = crate::db::open_migrated(&Database::Sqlite(path.clone())).await?;
        let report = run_on(store, &opts).await;
        eprintln!(
            "bench: SQLite file {} holds {:.2} GB (with its WAL)",
            path.display(),
            file_bytes(path) as f64 / 1e9
        );
        return report;
    }
    let (store, scratch) = fresh_store(opts.database_url.as_ref()).await?;
    let result = run_on(store, &opts).await;
    scratch.remove().await;
    result
}

/// The size of a SQLite file with its `-wal` file.
fn file_bytes(path: &std::path::Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    [path.to_path_buf(), wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Creates the demo org and loads the generated orders; the province and the units.
async fn load(
    store: &Arc<dyn Store>,
    opts: &SearchOptions,
) -> anyhow::Result<(OrgPath, Vec<(i64, OrgPath, OrgLevel)>, usize, Duration)> {
    let org = demo::create_org(store.as_ref(), &Actor::System("bench")).await?;
    let province = org
        .units
        .get(demo::PROVINCE_CODE)
        .context("demo province missing")?
        .path
        .clone();
    let units: Vec<(i64, OrgPath, OrgLevel)> = org
        .units
        .values()
        .map(|u| (u.id.0, u.path.clone(), u.level))
        .collect();
    let mut targets: Vec<(i64, OrgPath)> = units
        .iter()
        .filter(|u| matches!(u.2, OrgLevel::County | OrgLevel::Station))
        .map(|u| (u.0, u.1.clone()))
        .collect();
    targets.sort();
    let targets = targets.into_iter().map(|(_, p)| p).collect();
    let days = opts.orders.div_ceil(ORDERS_PER_DAY);
    let span = chrono::Duration::days(i64::try_from(days).unwrap_or(i64::MAX / 86_400_000))
        .max(super::sweep_gen::SPAN);
    let mut generator =
        OrderGenerator::new(opts.seed, &province, targets, instant())?.with_span(span);

    eprintln!(
        "bench: generating and loading {} orders over {} days…",
        opts.orders,
        span.num_days()
    );
    let started = Instant::now();
    let aside = store.begin_bulk_orders().await?;
    // The next batch is generated on its own thread while the store writes the last one: the
    // generator (the domain's open/apply, deadlines) costs about as much as the writes.
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let (total, size) = (opts.orders, opts.batch);
    let producer = std::thread::spawn(move || {
        let mut made = 0;
        while made < total {
            let batch = generator.batch(size.min(total - made));
            let stop = batch.is_err();
            made += batch.as_ref().map_or(0, Vec::len);
            if tx.blocking_send(batch).is_err() || stop {
                break;
            }
        }
    });
    // Two calls in flight: one encodes and segments its batch (outside the store's write lock)
    // while the other writes.
    let mut writing = tokio::task::JoinSet::new();
    let mut loaded = 0;
    let mut next_report = Instant::now() + Duration::from_secs(10);
    loop {
        let batch = if writing.len() < 2 {
            rx.recv().await.transpose()?
        } else {
            None
        };
        match batch {
            Some(batch) => {
                let store = Arc::clone(store);
                writing.spawn(async move { store.load_orders(&batch).await.map(|ids| ids.len()) });
                continue;
            }
            None => match writing.join_next().await {
                Some(done) => {
                    loaded += done.context("a load task failed")?.context("load_orders")?
                }
                None => break,
            },
        }
        if Instant::now() >= next_report {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "bench: {loaded} orders loaded ({:.0}/s)",
                loaded as f64 / secs.max(1e-9)
            );
            next_report += Duration::from_secs(10);
        }
    }
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("the order generator panicked"))?;
    anyhow::ensure!(
        loaded == opts.orders,
        "only {loaded} of {} orders were generated",
        opts.orders
    );
    if aside {
        let t = Instant::now();
        eprintln!("bench: rebuilding the order indexes set aside for the load…");
        store.finish_bulk_orders().await?;
        eprintln!(
            "bench: indexes rebuilt in {:.1}s",
            t.elapsed().as_secs_f64()
        );
    }
    let took = started.elapsed();
    eprintln!(
        "bench: loaded {loaded} orders in {:.1}s",
        took.as_secs_f64()
    );
    Ok((province, units, loaded, took))
}

/// The demo province and its units in a store loaded before.
async fn existing(store: &dyn Store) -> anyhow::Result<(OrgPath, Vec<(i64, OrgPath, OrgLevel)>)> {
    let code = kefu_domain::org::OrgCode::parse(demo::PROVINCE_CODE)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let province = store
        .get_org_unit_by_code(&code)
        .await?
        .context("the store holds no demo province: load it with --keep first")?;
    let units = store
        .list_org_units(&province.path)
        .await?
        .into_iter()
        .map(|u| (u.id.0, u.path, u.level))
        .collect();
    Ok((province.path, units))
}

async fn run_on(store: Arc<dyn Store>, opts: &SearchOptions) -> anyhow::Result<SearchReport> {
    let (province, units, loaded, load_time) = if opts.reuse.is_some() {
        let (province, units) = existing(store.as_ref()).await?;
        let n = usize::try_from(store.count_orders().await?).unwrap_or(usize::MAX);
        eprintln!("bench: reusing {n} orders");
        (province, units, n, Duration::ZERO)
    } else {
        load(&store, opts).await?
    };
    let mut counties: Vec<(i64, OrgPath)> = units
        .iter()
        .filter(|u| u.2 == OrgLevel::County)
        .map(|u| (u.0, u.1.clone()))
        .collect();
    counties.sort();
    let county = counties.first().map(|c| c.1.clone()).context("no county")?;

    let segmenter = store.segmenter();
    let queries: Vec<(String, Vec<String>)> = queries()
        .into_iter()
        .map(|q| {
            let terms = segmenter.query_terms(&q);
            (q, terms)
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let mut province_figures = ScopeFigures::default();
    let mut county_figures = ScopeFigures::default();
    let mut slowest: HashMap<String, Duration> = HashMap::new();
    let filter = OrderFilter::default();
    let page = SearchPageRequest::new(0, 20).with_window(opts.window);
    let list_page = PageRequest {
        after: None,
        limit: 20,
    };
    for _ in 0..opts.rounds {
        for (query, terms) in &queries {
            for (scope, figures) in [
                (&province, &mut province_figures),
                (&county, &mut county_figures),
            ] {
                let t = Instant::now();
                let found = store.search_orders(terms, &filter, scope, page).await?;
                let took = t.elapsed();
                figures.search.push(took);
                figures.hits += found.hits.len();
                figures.bounded += usize::from(found.bound.is_some());
                let worst = slowest.entry(query.clone()).or_default();
                *worst = (*worst).max(took);
                let t = Instant::now();
                store.list_orders(&filter, scope, list_page).await?;
                figures.list.push(t.elapsed());
            }
        }
    }
    let mut worst: Vec<(String, Duration)> = slowest.into_iter().collect();
    worst.sort_by_key(|w| std::cmp::Reverse(w.1));
    for (q, d) in worst.iter().take(5) {
        eprintln!(
            "bench: slowest query {q}: {:.1} ms",
            d.as_secs_f64() * 1000.0
        );
    }
    eprintln!(
        "bench: window {} ranked / {} scanned; bounded pages: province {}, county {}",
        opts.window.rank, opts.window.scan, province_figures.bounded, county_figures.bounded
    );
    province_figures.search = province_figures.search.sorted();
    province_figures.list = province_figures.list.sorted();
    county_figures.search = county_figures.search.sorted();
    county_figures.list = county_figures.list.sorted();
    Ok(SearchReport {
        backend: store.backend(),
        orders: loaded,
        load: load_time,
        queries: queries.len(),
        province: province_figures,
        county: county_figures,
    })
}
