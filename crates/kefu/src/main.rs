//! `kefu`: parses the command line, resolves the configuration (defaults < kefu.toml < KEFU_*
//! env < flags), starts logging and the runtime, and runs the command. Any error ends the
//! process with status 1 and its message on stderr.

use clap::Parser;
use kefu::cli::{
    AdminCommand, BenchCommand, CalendarCommand, Cli, Command, ImportCommand, OrdersCommand,
    SearchCommand, SlaCommand,
};
use kefu::config::{Config, ConfigLayer};
use kefu::{bench, calendar, commands, import, orders, search, sla};
use tracing_subscriber::EnvFilter;

// The server allocates per request from several threads (JSON bodies, SQL rows, order
// snapshots): in a profile of the intake benchmark glibc's malloc and free took about a tenth
// of the async threads' samples; with mimalloc's thread-local heaps, under 3 %.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let cwd = std::env::current_dir()?;
    let file = Config::file_layer(cli.config.as_deref(), &cwd)?;
    let env = ConfigLayer::from_env(std::env::vars())?;
    Config::resolve(file, env, cli.flag_layer())
}

fn init_logging(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("kefu: ignoring the log filter '{filter}': {e}");
        EnvFilter::new(kefu::config::DEFAULT_LOG)
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(_) => commands::serve(&config).await,
        Command::Migrate => commands::migrate(&config).await,
        Command::Admin(AdminCommand::CreateUser(args)) => {
            commands::create_user(&config, args).await
        }
        Command::Admin(AdminCommand::CreateToken(args)) => {
            commands::create_token(&config, args).await
        }
        Command::Admin(AdminCommand::ListUsers(args)) => commands::list_users(&config, args).await,
        Command::Bench(BenchCommand::PhoneLookup(args)) => {
            let report = bench::phone_lookup(bench::options(&cli, args)).await?;
            println!("{}", report.markdown());
            Ok(())
        }
        Command::Bench(BenchCommand::Intake(args)) => {
            let report = bench::intake::intake(bench::intake::options(&cli, args)).await?;
            println!("{}", report.markdown());
            Ok(())
        }
        Command::Import(ImportCommand::Customers(args)) => import::command(&config, args).await,
        Command::Export(cmd) => kefu::export::command(&config, cmd).await,
        Command::Demo(args) => commands::demo(&config, args).await,
        Command::Bench(BenchCommand::Import(args)) => {
            let report = bench::import::import(bench::import::options(&cli, args)).await?;
            println!("{}", report.markdown());
            Ok(())
        }
        Command::Bench(BenchCommand::Search(args)) => {
            let report = bench::search::search(bench::search::options(&cli, args)).await?;
            println!("{}", report.markdown());
            Ok(())
        }
        Command::Bench(BenchCommand::Sweep(args)) => {
            let report = bench::sweep::sweep(bench::sweep::options(&cli, args)).await?;
            println!("{}", report.markdown());
            Ok(())
        }
        Command::Orders(OrdersCommand::List(args)) => orders::list(&config, args).await,
        Command::Orders(OrdersCommand::Show(args)) => orders::show(&config, args).await,
        Command::Search(SearchCommand::Reindex(args)) => {
            println!("{}", search::reindex(&config, args).await?);
            Ok(())
        }
        Command::Sla(SlaCommand::Sweep(args)) => {
            println!("{}", sla::sweep(&config, args).await?);
            Ok(())
        }
        Command::Calendar(CalendarCommand::Import(args)) => {
            print!("{}", calendar::import(&config, &args.file).await?);
            Ok(())
        }
        Command::Calendar(CalendarCommand::Show(args)) => {
            let cal = calendar::load(&config, &args.year_file).await?;
            print!(
                "{}",
                calendar::show_month(&cal, calendar::parse_month(&args.month)?)
            );
            Ok(())
        }
        Command::Calendar(CalendarCommand::Add(args)) => {
            let cal = calendar::load(&config, &args.year_file).await?;
            let from = calendar::parse_instant(&args.from, cal.offset())?;
            let limit =
                calendar::limit_of(args.working_days, args.working_hours, args.clock_minutes)?;
            print!("{}", calendar::add(&cal, from, limit)?);
            Ok(())
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kefu: configuration error: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    init_logging(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kefu: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kefu: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
