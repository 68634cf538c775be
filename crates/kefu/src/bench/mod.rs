//! `kefu bench phone-lookup`: the screen-pop benchmark of issue 3. It builds a fresh store (a
//! temporary SQLite file, or a new PostgreSQL schema dropped afterwards), loads N demo customers,
//! starts the real server on 127.0.0.1:0 and measures `GET /api/v1/customers?phone=…` with C
//! concurrent keep-alive clients. Two baselines run in the same process with the same
//! concurrency: the same look-ups called directly on the store (the database's own cost) and
//! `GET /healthz` (the HTTP floor). Loopback only, bounded in time and in requests.
//!
//! `kefu bench intake` (in `intake`) shares the harness below: fresh store, demo customers, an
//! agent with a credential, the real server and keep-alive clients. `kefu bench sweep` (in
//! `sweep`, orders from `sweep_gen`) uses only the fresh store.

pub mod import;
pub mod intake;
pub mod measure;
pub mod search;
pub mod sweep;
pub mod sweep_gen;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::customer::{CustomerRecord, Phone};
use kefu_domain::ids::CustomerId;
use kefu_server::{AppState, ServerConfig};
use kefu_store::{Actor, CustomerLookup, NewStaff, PageRequest, Session, Staff, Store};
use rand::seq::IndexedRandom;

use crate::cli::{BenchAuth, Cli, PhoneLookupArgs};
use crate::config::DatabaseUrl;
use crate::demo::{self, DemoOptions};
use measure::Measurement;

/// The most concurrent clients a run may use.
pub const MAX_CONCURRENCY: usize = 1_000;
/// The longest a measured phase may run.
pub const MAX_PHASE: Duration = Duration::from_secs(600);
/// The warm-up before the measured phases (shortened to the phase length when that is less).
pub const WARM_UP: Duration = Duration::from_secs(2);

/// What to run.
#[derive(Debug, Clone)]
pub struct PhoneLookupOptions {
    /// PostgreSQL server to create a fresh schema in; `None` = a temporary SQLite file.
    pub database_url: Option<DatabaseUrl>,
    /// Customers to load.
    pub customers: usize,
    /// Concurrent clients.
    pub concurrency: usize,
    /// Length of each measured phase.
    pub duration: Duration,
    /// Generator and client seed.
    pub seed: u64,
    /// Request budget per phase.
    pub max_requests: u64,
    /// PostgreSQL: run `ANALYZE` on the fresh schema after loading.
    pub analyze: bool,
    /// How the clients authenticate.
    pub auth: BenchAuth,
}

/// Options from the command line (the database only from `--database-url`, never from the
/// environment, so a benchmark cannot wander into a configured production database).
pub fn options(cli: &Cli, args: &PhoneLookupArgs) -> PhoneLookupOptions {
    PhoneLookupOptions {
        database_url: cli.database_url.clone().map(DatabaseUrl::new),
        customers: args.customers.clamp(1, demo::MAX_CUSTOMERS),
        concurrency: args.concurrency.clamp(1, MAX_CONCURRENCY),
        duration: args.duration.min(MAX_PHASE),
        seed: args.seed,
        max_requests: args.max_requests,
        analyze: !args.no_analyze,
        auth: args.auth,
    }
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Customers loaded.
    pub customers: usize,
    /// Clients.
    pub concurrency: usize,
    /// How long loading took.
    pub load_time: Duration,
    /// Phone look-up through HTTP.
    pub http: Measurement,
    /// The same look-ups straight on the store.
    pub store: Measurement,
    /// `GET /healthz` through HTTP.
    pub healthz: Measurement,
    /// Whether planner statistics were refreshed after loading (PostgreSQL only).
    pub analyzed: bool,
    /// How the clients authenticated.
    pub auth: BenchAuth,
}

pub(crate) fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "–".to_owned()
    }
}

impl Report {
    /// The Markdown table header for `markdown_row`.
    pub const HEADER: &'static str = "| store | customers | concurrency | requests | req/s | p50 ms | p99 ms | store-only req/s · p50 · p99 | /healthz req/s · p50 · p99 | p50 ÷ store p50 | p99 ÷ store p99 | p50 ÷ healthz p50 | errors |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    /// One row of the results table.
    pub fn markdown_row(&self) -> String {
        let (h, s, z) = (&self.http, &self.store, &self.healthz);
        format!(
            "| {}{} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.0} · {:.2} · {:.2} | {:.0} · {:.2} · {:.2} | {} | {} | {} | {} |",
            self.backend,
            match self.auth {
                BenchAuth::Token => "",
                BenchAuth::Session => " (session cookie)",
            },
            self.customers,
            self.concurrency,
            h.requests,
            h.rps(),
            h.p50(),
            h.p99(),
            s.rps(),
            s.p50(),
            s.p99(),
            z.rps(),
            z.p50(),
            z.p99(),
            ratio(h.p50(), s.p50()),
            ratio(h.p99(), s.p99()),
            ratio(h.p50(), z.p50()),
            h.errors + s.errors + z.errors,
        )
    }

    /// Header, row and a line on loading, ready to paste into BENCHMARKS.md.
    pub fn markdown(&self) -> String {
        format!(
            "{}\n{}\n\nloaded {} customers in {:.1}s{}; each phase ran {:.1}s / {:.1}s / {:.1}s \
             (HTTP look-up / store only / healthz)",
            Self::HEADER,
            self.markdown_row(),
            self.customers,
            self.load_time.as_secs_f64(),
            match (self.analyzed, self.auth) {
                (true, BenchAuth::Token) => ", then ANALYZE",
                (true, BenchAuth::Session) => ", then ANALYZE; clients used a session cookie",
                (false, BenchAuth::Token) => "",
                (false, BenchAuth::Session) => "; clients used a session cookie",
            },
            self.http.elapsed.as_secs_f64(),
            self.store.elapsed.as_secs_f64(),
            self.healthz.elapsed.as_secs_f64(),
        )
    }
}

/// Where the fresh store lives, so it can be removed afterwards.
pub(crate) enum Scratch {
    Sqlite(PathBuf),
    Postgres(DatabaseUrl, String),
}

impl Scratch {
    pub(crate) async fn remove(self) {
        match self {
            Scratch::Sqlite(dir) => {
                if let Err(e) = std::fs::remove_dir_all(&dir) {
                    tracing::warn!(error = %e, dir = %dir.display(), "cannot remove the bench dir");
                }
            }
            Scratch::Postgres(url, schema) => {
                if let Err(e) = crate::db::drop_pg_schema(&url, &schema).await {
                    tracing::warn!(error = %e, schema, "cannot drop the bench schema");
                }
            }
        }
    }
}

/// A fresh, migrated store: a temporary SQLite file, or a new PostgreSQL schema `kefu_bench_<ms>`.
pub(crate) async fn fresh_store(
    database_url: Option<&DatabaseUrl>,
) -> anyhow::Result<(Arc<dyn Store>, Scratch)> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let (database, scratch) = match database_url {
        Some(url) => {
            anyhow::ensure!(url.is_postgres(), "--database-url must be postgres://…");
            let schema = format!("kefu_bench_{stamp}");
            (
                crate::config::Database::Postgres {
                    url: url.clone(),
                    schema: Some(schema.clone()),
                },
                Scratch::Postgres(url.clone(), schema),
            )
        }
        None => {
            let dir =
                std::env::temp_dir().join(format!("kefu-bench-{}-{stamp}", std::process::id()));
            (
                crate::config::Database::Sqlite(dir.join("kefu.db")),
                Scratch::Sqlite(dir),
            )
        }
    };
    eprintln!("bench: fresh store {}", database.describe());
    match crate::db::open_migrated(&database).await {
        Ok(store) => Ok((store, scratch)),
        Err(e) => {
            scratch.remove().await;
            Err(e)
        }
    }
}

/// The keep-alive HTTP client of the benchmarks.
pub(crate) type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A loaded store served on loopback, with an agent of the province and its credential.
pub(crate) struct Harness {
    pub staff: Staff,
    /// Header name and value the clients authenticate with.
    pub credential: Arc<(hyper::header::HeaderName, String)>,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub client: HttpClient,
    pub loaded: usize,
    pub load_time: Duration,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Harness {
    /// Creates the demo organisation, loads `customers` demo customers (`on_record` sees each
    /// with its id), calls `after_load`, creates the agent and starts the server.
    pub(crate) async fn start<A>(
        store: Arc<dyn Store>,
        seed: u64,
        customers: usize,
        concurrency: usize,
        auth: BenchAuth,
        on_record: impl FnMut(&CustomerRecord, CustomerId),
        after_load: A,
    ) -> anyhow::Result<Harness>
    where
        A: std::future::Future<Output = anyhow::Result<()>>,
    {
        let actor = Actor::System("bench");
        let org = demo::create_org(store.as_ref(), &actor).await?;
        eprintln!("bench: loading {customers} customers…");
        let started = Instant::now();
        let options = DemoOptions { seed, customers };
        let loaded = demo::load_customers(
            store.as_ref(),
            &org,
            options,
            Utc::now().date_naive(),
            on_record,
        )
        .await?;
        let load_time = started.elapsed();
        eprintln!(
            "bench: loaded {loaded} customers in {:.1}s",
            load_time.as_secs_f64()
        );
        after_load.await?;

        // An agent of the province: scope over every customer, and allowed to see phones.
        let province = org
            .units
            .get(demo::PROVINCE_CODE)
            .context("demo province missing")?;
        let password = crate::commands::generate_password("bench.agent");
        let staff = store
            .create_staff(
                NewStaff {
                    username: Username::parse("bench.agent").map_err(|e| anyhow::anyhow!("{e}"))?,
                    display_name: "压测坐席".into(),
                    org_unit_id: province.id,
                    department_id: None,
                    roles: Roles::new(vec![Role::Agent]).map_err(|e| anyhow::anyhow!("{e}"))?,
                    password_hash: crate::commands::hash_password(&password)?,
                },
                &actor,
            )
            .await?;
        let credential = match auth {
            BenchAuth::Token => {
                let (token, hash) = kefu_server::token::new_api_token();
                store
                    .create_api_token(staff.id, "bench", &hash, &actor)
                    .await?;
                (hyper::header::AUTHORIZATION, format!("Bearer {token}"))
            }
            BenchAuth::Session => {
                let (secret, hash) = kefu_server::token::new_session_token();
                let now = Utc::now();
                let session = Session {
                    staff_id: staff.id,
                    csrf_token: kefu_server::token::new_csrf_token(),
                    created_at: now,
                    expires_at: now + chrono::Duration::hours(1),
                };
                store.create_session(&hash, &session).await?;
                let cookie = format!("{}={secret}", kefu_server::auth::SESSION_COOKIE);
                (hyper::header::COOKIE, cookie)
            }
        };

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(store.clone(), ServerConfig::default());
        let server = tokio::spawn(kefu_server::serve(listener, state, async {
            stopped.await.ok();
        }));

        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: HttpClient = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(concurrency)
            .build(connector);
        Ok(Harness {
            staff,
            credential: Arc::new(credential),
            base: format!("http://{addr}"),
            client,
            loaded,
            load_time,
            stop,
            server,
        })
    }

    /// Stops the server and waits (at most 10 s) for it to end.
    pub(crate) async fn stop(self) {
        self.stop.send(()).ok();
        match tokio::time::timeout(Duration::from_secs(10), self.server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "bench server ended with an error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "bench server task failed"),
            Err(_) => tracing::warn!("bench server did not stop within 10s"),
        }
    }
}

/// Prints the first failure of each phase that had any.
pub(crate) fn print_errors(phases: &[(&str, &Measurement)]) {
    for (name, m) in phases {
        if let Some(e) = &m.first_error {
            eprintln!("bench: {name}: {} errors, first: {e}", m.errors);
        }
    }
}

/// Runs the benchmark and removes its store afterwards.
pub async fn phone_lookup(opts: PhoneLookupOptions) -> anyhow::Result<Report> {
    let (store, scratch) = fresh_store(opts.database_url.as_ref()).await?;
    let analyze = match (&scratch, opts.analyze) {
        (Scratch::Postgres(url, schema), true) => Some((url.clone(), schema.clone())),
        _ => None,
    };
    let result = run_on(store, &opts, analyze).await;
    scratch.remove().await;
    result
}

async fn run_on(
    store: Arc<dyn Store>,
    opts: &PhoneLookupOptions,
    analyze: Option<(DatabaseUrl, String)>,
) -> anyhow::Result<Report> {
    let mut phones: Vec<String> = Vec::with_capacity(opts.customers);
    let analyzed = analyze.is_some();
    let after_load = async {
        if let Some((url, schema)) = analyze {
            let n = crate::db::analyze_pg_schema(&url, &schema).await?;
            eprintln!("bench: ANALYZE on {n} tables of {schema}");
        }
        Ok(())
    };
    let harness = Harness::start(
        store.clone(),
        opts.seed,
        opts.customers,
        opts.concurrency,
        opts.auth,
        |r, _| phones.extend(r.phones.iter().map(|p| p.as_str().to_owned())),
        after_load,
    )
    .await?;
    anyhow::ensure!(!phones.is_empty(), "no phones were generated");

    let phones = Arc::new(phones);
    let (client, auth, base) = (
        harness.client.clone(),
        harness.credential.clone(),
        harness.base.clone(),
    );

    let lookup = {
        let (client, phones, auth, base) =
            (client.clone(), phones.clone(), auth.clone(), base.clone());
        move |mut rng: rand::rngs::StdRng| {
            let phone = phones.choose(&mut rng).cloned().unwrap_or_default();
            let uri = format!("{base}/api/v1/customers?phone={phone}");
            let (client, auth) = (client.clone(), auth.clone());
            async move { (rng, get(&client, &uri, Some((&auth.0, &auth.1))).await) }
        }
    };
    // Warm-up (also proves the API answers before anything is measured).
    let warm = measure::run(
        opts.concurrency,
        WARM_UP.min(opts.duration),
        opts.max_requests,
        opts.seed,
        lookup.clone(),
    )
    .await;
    if let Some(e) = warm.first_error.as_ref().filter(|_| warm.requests == 0) {
        harness.stop().await;
        anyhow::bail!("the phone look-up fails: {e}");
    }
    eprintln!("bench: HTTP phone look-up for {:?}…", opts.duration);
    let http = measure::run(
        opts.concurrency,
        opts.duration,
        opts.max_requests,
        opts.seed,
        lookup,
    )
    .await;

    eprintln!("bench: store-only look-up for {:?}…", opts.duration);
    let scope = harness.staff.org_path.clone();
    let direct = {
        let (store, phones, scope) = (store.clone(), phones.clone(), scope.clone());
        move |mut rng: rand::rngs::StdRng| {
            let phone = phones.choose(&mut rng).cloned().unwrap_or_default();
            let (store, scope) = (store.clone(), scope.clone());
            async move {
                let result = match Phone::parse(&phone) {
                    Ok(p) => store
                        .find_customers(
                            &CustomerLookup::Phone(p),
                            &scope,
                            false,
                            PageRequest::first(),
                        )
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                (rng, result)
            }
        }
    };
    let store_only = measure::run(
        opts.concurrency,
        opts.duration,
        opts.max_requests,
        opts.seed,
        direct,
    )
    .await;

    eprintln!("bench: GET /healthz for {:?}…", opts.duration);
    let health = {
        let uri = format!("{base}/healthz");
        move |rng: rand::rngs::StdRng| {
            let (client, uri) = (client.clone(), uri.clone());
            async move { (rng, get(&client, &uri, None).await) }
        }
    };
    let healthz = measure::run(
        opts.concurrency,
        opts.duration,
        opts.max_requests,
        opts.seed,
        health,
    )
    .await;

    let loaded = harness.loaded;
    let load_time = harness.load_time;
    harness.stop().await;
    print_errors(&[
        ("HTTP look-up", &http),
        ("store only", &store_only),
        ("healthz", &healthz),
    ]);
    Ok(Report {
        backend: store.backend(),
        customers: loaded,
        concurrency: opts.concurrency,
        load_time,
        http,
        store: store_only,
        healthz,
        analyzed,
        auth: opts.auth,
    })
}

/// Sends `req`, reading the whole body; `Err` unless the status is `expected`.
pub(crate) async fn send(
    client: &HttpClient,
    req: hyper::Request<Full<Bytes>>,
    expected: hyper::StatusCode,
) -> Result<(), String> {
    let resp = client.request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if status == expected {
        Ok(())
    } else {
        Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ))
    }
}

/// One GET, reading the whole body; `Err` unless the status is 200.
async fn get(
    client: &HttpClient,
    uri: &str,
    credential: Option<(&hyper::header::HeaderName, &str)>,
) -> Result<(), String> {
    let mut req = hyper::Request::get(uri);
    if let Some((name, value)) = credential {
        req = req.header(name, value);
    }
    let req = req.body(Full::default()).map_err(|e| e.to_string())?;
    send(client, req, hyper::StatusCode::OK).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_guard_against_zero() {
        assert_eq!(ratio(3.0, 1.5), "2.00");
        assert_eq!(ratio(1.0, 0.0), "–");
    }
}
