//! The command line (clap derive): what each command accepts, and the flags that become the top
//! configuration layer. Environment variables are read by `config`, not by clap, so that the
//! precedence file < env < flags is one explicit, tested merge.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::ConfigLayer;

/// kefu — 95598 customer service and customer relationship platform.
#[derive(Debug, Parser)]
#[command(name = "kefu", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: ./kefu.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory; SQLite keeps kefu.db here [env: KEFU_DATA] [default: ./kefu-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…); unset = SQLite in the data directory
    /// [env: KEFU_DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// PostgreSQL schema to use instead of `public` [env: KEFU_DATABASE_SCHEMA].
    #[arg(long, global = true, value_name = "NAME")]
    pub database_schema: Option<String>,
    /// The centre's offset from UTC, e.g. +08:00 [env: KEFU_CALENDAR_UTC_OFFSET]
    /// [default: +08:00].
    #[arg(long, global = true, value_name = "+HH:MM", allow_hyphen_values = true)]
    pub calendar_utc_offset: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (applies migrations first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage staff and API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Benchmarks (fresh store, loopback only, bounded in time).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The working calendar: show a month, compute a deadline.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Work orders, read from the store (for administrators and scripts).
    #[command(subcommand)]
    Orders(OrdersCommand),
    /// Import files into the store (customers from the marketing/billing system).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Time limits of work orders: run the sweep once.
    #[command(subcommand)]
    Sla(SlaCommand),
    /// Export customers or work orders as CSV or Excel, streamed (personal data masked as an
    /// administrator sees it unless --unmasked; every export is audited).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Generate a demo province (same seed and day → same data): org tree, logins, customers
    /// and two years of work orders, into an empty store or as CSV files.
    Demo(DemoArgs),
    /// Full-text search: rebuild the index (after a change of the user dictionary).
    #[command(subcommand)]
    Search(SearchCommand),
}

/// `kefu demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Customers to generate.
    #[arg(long, default_value_t = 100_000)]
    pub customers: usize,
    /// Work orders over the past 24 months.
    #[arg(long, default_value_t = 20_000)]
    pub orders: usize,
    /// Seed of the generators.
    #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
    /// Write DIR/customers.csv (import layout) and DIR/orders.csv (export layout) instead of
    /// loading the configured store.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
}

/// `kefu export …`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The customer archive, in the columns `kefu import customers` reads (plus 状态).
    Customers(ExportCustomersArgs),
    /// Work orders, newest first.
    Orders(ExportOrdersArgs),
}

/// What every export takes.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The file to write (`-` = standard output, CSV only).
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// The format [default: xlsx for a .xlsx file, else csv].
    #[arg(long, value_enum)]
    pub format: Option<crate::export::OutputFormat>,
    /// The encoding of a CSV file: utf-8 (with BOM) or gbk (written as GB18030).
    #[arg(long, value_enum, default_value = "utf-8")]
    pub encoding: crate::export::OutputEncoding,
    /// Only this org unit and the units below it (default: the whole tree).
    #[arg(long, value_name = "CODE")]
    pub unit: Option<String>,
    /// Write document numbers, phones and callers' names in clear (audited as a personal-data
    /// export).
    #[arg(long)]
    pub unmasked: bool,
}

/// `kefu export customers`.
#[derive(Debug, Args)]
pub struct ExportCustomersArgs {
    #[command(flatten)]
    pub export: ExportArgs,
    /// Retired customers too.
    #[arg(long)]
    pub include_retired: bool,
}

/// `kefu export orders`.
#[derive(Debug, Args)]
pub struct ExportOrdersArgs {
    #[command(flatten)]
    pub export: ExportArgs,
    /// Only orders in this state (pending_dispatch, dispatched, …, archived).
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// Only orders of this appeal type (fault_repair, complaint, …).
    #[arg(long, value_name = "TYPE")]
    pub appeal_type: Option<String>,
    /// Taken on or after this centre date (2026-02-13).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Taken on or before this centre date (2026-02-13).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
}

/// `kefu search …`.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Re-cut every work order with the current dictionary and rewrite its index row, in
    /// batches (one transaction each; safe beside running servers).
    Reindex(SearchReindexArgs),
}

/// `kefu search reindex`.
#[derive(Debug, Args)]
pub struct SearchReindexArgs {
    /// Orders per transaction.
    #[arg(long, default_value_t = 2000)]
    pub batch: u32,
    /// No progress output.
    #[arg(long)]
    pub quiet: bool,
}

/// `kefu sla …`.
#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Raise the warnings, overdue marks and escalations due now (as `serve` does every
    /// 30 s); safe to run beside servers, and twice: each alert is written once.
    Sweep(SlaSweepArgs),
}

/// `kefu sla sweep`.
#[derive(Debug, Args)]
pub struct SlaSweepArgs {
    /// Sweep as of this instant (RFC 3339, e.g. 2026-02-14T16:00:00+08:00) instead of now.
    #[arg(long, value_name = "INSTANT")]
    pub at: Option<String>,
}

/// `kefu import …`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import customers from CSV (UTF-8 or GBK) or Excel; re-importing updates by account number.
    Customers(ImportCustomersArgs),
}

/// `kefu import customers`.
#[derive(Debug, Args)]
pub struct ImportCustomersArgs {
    /// The file: .csv, .xlsx or .xls, with a header row (户号, 户名, 用电地址, 供电单位, 城乡,
    /// 用电类别, 电压等级, … or the English field names).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The format [default: from the file's extension].
    #[arg(long, value_enum)]
    pub format: Option<crate::import::Format>,
    /// The encoding of a CSV file.
    #[arg(long, value_enum, default_value = "auto")]
    pub encoding: crate::import::EncodingChoice,
    /// A TOML file mapping other column headers to fields: `[columns]` then `"表头" = "field"`.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Store nothing if any row is bad (the whole file is checked first).
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Check every row and write the report, but store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where to write the bad rows (CSV, UTF-8 with BOM) [default: FILE.report.csv].
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Rows per store transaction [default: 50 000 for an initial load into an empty archive,
    /// 20 000 otherwise].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
}

/// `kefu orders …`.
#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// A tab-separated table of orders, newest first.
    List(OrdersListArgs),
    /// One order and its whole timeline (who, when, from → to, what).
    Show(OrdersShowArgs),
}

/// `kefu orders list`.
#[derive(Debug, Args)]
pub struct OrdersListArgs {
    /// Only orders in this state (pending_dispatch, dispatched, returned, in_progress,
    /// sent_back, replied, reviewed, visited, reopened, archived).
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// At most this many orders (1–10000).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u32,
    /// Only orders of this org unit and the units below it (default: the whole tree).
    #[arg(long, value_name = "CODE")]
    pub unit: Option<String>,
}

/// `kefu orders show`.
#[derive(Debug, Args)]
pub struct OrdersShowArgs {
    /// The order number, e.g. GD20261122000123.
    #[arg(value_name = "NUMBER")]
    pub number: String,
}

/// `kefu calendar …`.
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Show a month (`2026-02`): working days, public holidays (休), make-up working days (班).
    Show(CalendarShowArgs),
    /// The deadline of a time limit started at `--from`.
    Add(CalendarAddArgs),
    /// Import a year file into the store: creates or replaces the year it declares.
    Import(CalendarImportArgs),
}

/// `kefu calendar import`.
#[derive(Debug, Args)]
pub struct CalendarImportArgs {
    /// The year file (`year 2027`, then one line per day or range, as data/calendars/2026.txt).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `kefu calendar show`.
#[derive(Debug, Args)]
pub struct CalendarShowArgs {
    /// The month, `YYYY-MM`.
    #[arg(value_name = "YYYY-MM")]
    pub month: String,
    /// Year files to load over the stored and shipped schedules (one line per day or range).
    #[arg(long, value_name = "FILE")]
    pub year_file: Vec<PathBuf>,
}

/// `kefu calendar add`.
#[derive(Debug, Args)]
pub struct CalendarAddArgs {
    /// Start: RFC 3339 (`2026-02-13T16:00+08:00`) or `YYYY-MM-DD HH:MM` in Beijing time.
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// A limit in working days (same time of day on the N-th next working day).
    #[arg(long, value_name = "N")]
    pub working_days: Option<u32>,
    /// A limit in working hours.
    #[arg(long, value_name = "N")]
    pub working_hours: Option<u32>,
    /// A clock-time limit in minutes, 24 × 7 (fault repair: 45 urban, 90 rural, 120 remote).
    #[arg(long, value_name = "N")]
    pub clock_minutes: Option<u32>,
    /// Year files to load over the stored and shipped schedules.
    #[arg(long, value_name = "FILE")]
    pub year_file: Vec<PathBuf>,
}

/// `kefu serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address [env: KEFU_ADDR] [default: 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// On an empty store, create the demo province; always print the demo logins
    /// [env: KEFU_DEMO].
    #[arg(long)]
    pub demo: bool,
    /// Customers in the demo province [env: KEFU_DEMO_CUSTOMERS] [default: 3000].
    #[arg(long, value_name = "N")]
    pub demo_customers: Option<usize>,
    /// Seed of the demo generator [env: KEFU_DEMO_SEED] [default: 95598].
    #[arg(long, value_name = "SEED")]
    pub demo_seed: Option<u64>,
}

/// `kefu admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff member (prints a generated password once unless --password-stdin).
    CreateUser(CreateUserArgs),
    /// Create an API token for a staff member and print it once.
    CreateToken(CreateTokenArgs),
    /// List the staff of a unit and the units below it.
    ListUsers(ListUsersArgs),
}

/// `kefu admin list-users`.
#[derive(Debug, Args)]
pub struct ListUsersArgs {
    /// Code of the org unit whose staff (and that of the units below) to list, e.g. 33.
    #[arg(long, value_name = "CODE")]
    pub unit: String,
}

/// `kefu admin create-user`.
#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// Login name (3–32 of a-z 0-9 . _ -).
    #[arg(long)]
    pub username: String,
    /// Display name, e.g. 王丽.
    #[arg(long)]
    pub name: String,
    /// Code of the org unit, e.g. 330106.
    #[arg(long, value_name = "CODE")]
    pub unit: String,
    /// Role(s): agent, dispatcher, handler, customer_manager, supervisor, analyst, admin.
    #[arg(
        long = "role",
        required = true,
        value_delimiter = ',',
        value_name = "ROLE"
    )]
    pub roles: Vec<String>,
    /// Department kind inside the unit (voice_service, marketing, operations…).
    #[arg(long, value_name = "KIND")]
    pub department: Option<String>,
    /// Read the password from the first line of standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `kefu admin create-token`.
#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// Login name of the staff member the token acts as.
    #[arg(long)]
    pub user: String,
    /// What the token is for.
    #[arg(long, default_value = "cli")]
    pub name: String,
}

/// `kefu bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Phone look-up (screen-pop) through the HTTP API against a fresh store.
    ///
    /// Uses a temporary SQLite file, or with `--database-url postgres://…` a new schema
    /// `kefu_bench_<ms>` dropped afterwards. The database comes only from that flag, never from
    /// KEFU_DATABASE_URL or kefu.toml, so a benchmark cannot touch a configured database.
    PhoneLookup(PhoneLookupArgs),
    /// Work-order intake (`POST /api/v1/work-orders`) through the HTTP API against a fresh
    /// store, with plain single-row INSERTs into a scratch table of the same store as baseline.
    ///
    /// The store is chosen as for `phone-lookup`: a temporary SQLite file, or with
    /// `--database-url postgres://…` a new schema `kefu_bench_<ms>` dropped afterwards.
    Intake(IntakeArgs),
    /// The SLA sweep over N generated open work orders (issue 5): a steady 30 s tick, an hour
    /// of catch-up and an idle sweep, each against a plain UPDATE of the same rows.
    ///
    /// The store is chosen as for `phone-lookup`: a temporary SQLite file, or with
    /// `--database-url postgres://…` a new schema `kefu_bench_<ms>` dropped afterwards.
    Sweep(SweepArgs),
    /// Customer import (issue 6): N demo customers written as a billing-system CSV, loaded by
    /// the database's own bulk load (`sqlite3 .import` / `COPY` into a bare table) as baseline,
    /// then by `kefu import customers` into a fresh store with the demo org tree.
    ///
    /// The store is chosen as for `phone-lookup`: a temporary SQLite file, or with
    /// `--database-url postgres://…` a new schema `kefu_bench_<ms>` dropped afterwards.
    Import(ImportBenchArgs),
    /// Full-text search over N generated orders (issue 7): p50/p95 of ranked searches,
    /// province-wide and in one county, against the plain order list of the same scope.
    ///
    /// The store is chosen as for `phone-lookup`: a temporary SQLite file, or with
    /// `--database-url postgres://…` a new schema `kefu_bench_<ms>` dropped afterwards.
    Search(SearchBenchArgs),
}

/// `kefu bench import`.
#[derive(Debug, Args)]
pub struct ImportBenchArgs {
    /// Customers in the generated file.
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: usize,
    /// A quick run of 100 000 customers (overrides --customers).
    #[arg(long)]
    pub quick: bool,
    /// Rows per store transaction of the import [default: as `kefu import customers`].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Seed of the customer generator.
    #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
}

/// `kefu bench search`.
#[derive(Debug, Args)]
pub struct SearchBenchArgs {
    /// Orders to generate and load.
    #[arg(long, default_value_t = 1_000_000)]
    pub orders: usize,
    /// A quick run of 100 000 orders (overrides --orders).
    #[arg(long)]
    pub quick: bool,
    /// Orders per load_orders call.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// How often each query of the set runs.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// Seed of the order generator.
    #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
    /// Load into this new SQLite file and leave it there (for `--reuse`).
    #[arg(long, value_name = "PATH", conflicts_with = "reuse")]
    pub keep: Option<std::path::PathBuf>,
    /// Skip loading: query the SQLite file a `--keep` run left (its orders count as N).
    #[arg(long, value_name = "PATH")]
    pub reuse: Option<std::path::PathBuf>,
    /// Matches ranked per search (the ranking window; default kefu's own).
    #[arg(long, value_name = "N")]
    pub window_rank: Option<u32>,
    /// Matches the filters are checked on, at most (default kefu's own).
    #[arg(long, value_name = "N")]
    pub window_scan: Option<u32>,
}

/// `kefu bench sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Open orders to generate and load.
    #[arg(long, default_value_t = 1_000_000)]
    pub orders: usize,
    /// A quick run of 20 000 orders (overrides --orders).
    #[arg(long)]
    pub quick: bool,
    /// Orders per load_orders call.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
    /// Seed of the order generator.
    #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
}

/// `kefu bench intake`.
#[derive(Debug, Args)]
pub struct IntakeArgs {
    /// Customers to load into the fresh store.
    #[arg(long, default_value_t = 100_000)]
    pub customers: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// How long the measured intake phase runs (e.g. 20s, 500ms, 1m).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Seed of the customer generator and of the clients' choices.
    #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
    /// Stop the intake phase after this many requests even if time remains.
    #[arg(long, default_value_t = 5_000_000)]
    pub max_requests: u64,
}

/// `kefu bench phone-lookup`.
#[derive(Debug, Args)]
pub struct PhoneLookupArgs {
    /// Customers to load into the fresh store.
    #[arg(long, default_value_t = 100_000)]
    pub customers: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// How long each measured phase runs (e.g. 20s, 500ms, 1m).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Seed of the customer generator and of the clients' phone choice.
    #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
    /// How the clients authenticate: `token` (API token, as a CTI integration does) or
    /// `session` (a login session cookie).
    #[arg(long, value_enum, default_value_t = BenchAuth::Token)]
    pub auth: BenchAuth,
    /// PostgreSQL: skip the `ANALYZE` after loading (measures a store without planner
    /// statistics, as on a server with autovacuum off).
    #[arg(long)]
    pub no_analyze: bool,
    /// Stop a phase after this many requests even if time remains.
    #[arg(long, default_value_t = 5_000_000)]
    pub max_requests: u64,
}

/// How benchmark clients authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchAuth {
    /// `Authorization: Bearer <API token>`.
    Token,
    /// The session cookie of a signed-in user.
    Session,
}

/// Parses `20s`, `500ms`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration like 20s"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("'{s}': use ms, s or m")),
    }
}

impl Cli {
    /// The flags as the top configuration layer.
    pub fn flag_layer(&self) -> ConfigLayer {
        let serve = match &self.command {
            Command::Serve(s) => Some(s),
            _ => None,
        };
        ConfigLayer {
            addr: serve.and_then(|s| s.addr.clone()),
            data: self.data.clone(),
            database_url: self.database_url.clone(),
            database_schema: self.database_schema.clone(),
            secure_cookies: None,
            demo: serve.and_then(|s| s.demo.then_some(true)),
            demo_customers: serve.and_then(|s| s.demo_customers),
            demo_seed: serve.and_then(|s| s.demo_seed),
            log: None,
            sla_sweep_seconds: None,
            session_ttl_seconds: None,
            calendar: self
                .calendar_utc_offset
                .clone()
                .map(|o| crate::config::CalendarLayer {
                    utc_offset: Some(o),
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn flags_form_the_top_layer() {
        let cli = Cli::try_parse_from([
            "kefu",
            "--data",
            "/d",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--demo",
        ]);
        let layer = cli.map(|c| c.flag_layer()).unwrap_or_default();
        assert_eq!(layer.addr.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(layer.data, Some(PathBuf::from("/d")));
    }

    #[test]
    fn roles_may_repeat_or_be_comma_separated() {
        let cli = Cli::try_parse_from([
            "kefu",
            "admin",
            "create-user",
            "--username",
            "wang",
            "--name",
            "王",
            "--unit",
            "33",
            "--role",
            "agent,handler",
            "--role",
            "analyst",
        ]);
        let roles = match cli.map(|c| c.command) {
            Ok(Command::Admin(AdminCommand::CreateUser(a))) => a.roles,
            _ => Vec::new(),
        };
        assert_eq!(roles, vec!["agent", "handler", "analyst"]);
    }
}
