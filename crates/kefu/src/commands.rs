//! The commands' bodies: `serve`, `migrate` and `admin …`. Each takes the resolved `Config`;
//! what a person needs to read goes to stdout, diagnostics go to the log (stderr).

use std::io::BufRead;

use anyhow::Context;
use kefu_domain::auth::{Roles, Username, check_new_password};
use kefu_domain::org::{DepartmentKind, OrgCode};
use kefu_server::{AppState, ServerConfig};
use kefu_store::{Actor, NewStaff, PageRequest, Store};
use rand::Rng;

use crate::cli::{CreateTokenArgs, CreateUserArgs, ListUsersArgs};
use crate::config::{Config, Database};
use crate::db;
use crate::demo::{self, DemoOptions, DemoOutcome};

/// The line `serve` prints once it listens; tests and scripts parse the URL after it.
pub const LISTENING_PREFIX: &str = "kefu listening on ";

/// Hashes a password with the server's argon2id settings.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    kefu_server::password::hash_password(password)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// `kefu serve [--demo]`.
pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let demo_mode = config.demo;
    tracing::info!(database = %config.database.describe(), "opening the store");
    let store = db::open_migrated(&config.database).await?;
    if demo_mode {
        run_demo(store.as_ref(), config).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let local = listener.local_addr()?;
    let state = AppState::new(
        store,
        ServerConfig {
            secure_cookies: config.secure_cookies,
            demo: demo_mode,
            utc_offset: config.utc_offset,
            sla_sweep_interval: config.sla_sweep_interval,
            session_ttl: config.session_ttl,
            ..ServerConfig::default()
        },
    );
    println!("{LISTENING_PREFIX}http://{local}");
    tracing::info!(%local, "serving");
    kefu_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn run_demo(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    let options = DemoOptions {
        seed: config.demo_seed,
        customers: config.demo_customers,
    };
    let started = std::time::Instant::now();
    match demo::ensure_demo(store, options, &hash_password).await? {
        DemoOutcome::Created {
            units,
            staff,
            customers,
        } => {
            // A freshly loaded PostgreSQL schema has no planner statistics until autovacuum
            // (off on some servers) gets to it; without them look-ups scan instead of probing.
            if let Database::Postgres { url, schema } = &config.database {
                let schema = schema.as_deref().unwrap_or("public");
                db::analyze_pg_schema(url, schema).await?;
            }
            println!(
                "demo province created: {units} units, {staff} logins, {customers} customers \
                 (seed {}, {:.1}s)",
                options.seed,
                started.elapsed().as_secs_f64()
            );
        }
        DemoOutcome::AlreadyPresent => println!("demo province already present; nothing changed"),
        DemoOutcome::NotEmpty => println!(
            "the store holds other data: no demo data was added (the demo logins below work \
             only on a store created with --demo)"
        ),
    }
    println!("\ndemo logins (demo data only — never use these passwords elsewhere):\n");
    println!("{}", demo::logins_table());
    Ok(())
}

/// `kefu migrate`.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = db::open(&config.database)
        .await
        .with_context(|| format!("cannot open the store ({})", config.database.describe()))?;
    let report = db::migrate(store.as_ref()).await?;
    println!(
        "schema at version {} (this binary knows up to {}); applied now: {}",
        report.version,
        report.supported,
        if report.applied.is_empty() {
            "none".to_owned()
        } else {
            format!("{:?}", report.applied)
        }
    );
    Ok(())
}

fn field(e: kefu_domain::FieldError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// A random password of 16 letters and digits that passes the password rules.
pub fn generate_password(username: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    loop {
        let p: String = (0..16)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        if check_new_password(&p, username).is_ok() {
            return p;
        }
    }
}

/// `kefu admin create-user`.
pub async fn create_user(config: &Config, args: &CreateUserArgs) -> anyhow::Result<()> {
    let username = Username::parse(&args.username).map_err(field)?;
    let roles = Roles::parse(&args.roles).map_err(field)?;
    anyhow::ensure!(
        roles.as_slice().iter().all(|r| r.assignable_to_staff()),
        "--roles: self_service belongs to the self-service portal's own account; give a staff role"
    );
    let display_name = args.name.trim().to_owned();
    anyhow::ensure!(
        !display_name.is_empty() && display_name.chars().count() <= 50,
        "--name: give a display name of 1 to 50 characters"
    );
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (generate_password(username.as_str()), true)
    };
    check_new_password(&password, username.as_str()).map_err(field)?;

    let store = db::open_migrated(&config.database).await?;
    let code = OrgCode::parse(&args.unit).map_err(field)?;
    let unit = store
        .get_org_unit_by_code(&code)
        .await?
        .with_context(|| format!("--unit: there is no org unit with code '{}'", args.unit))?;
    let department_id = match &args.department {
        None => None,
        Some(kind) => {
            let kind = DepartmentKind::parse_code("department", kind).map_err(field)?;
            let depts = store.list_departments(&unit.path).await?;
            let dept = depts
                .iter()
                .find(|d| d.unit_id == unit.id && d.kind == kind)
                .with_context(|| {
                    format!(
                        "--department: unit {} has no {} department",
                        args.unit, kind
                    )
                })?;
            Some(dept.id)
        }
    };
    let password_hash = hash_password(&password)?;
    let staff = store
        .create_staff(
            NewStaff {
                username,
                display_name,
                org_unit_id: unit.id,
                department_id,
                roles,
                password_hash,
            },
            &Actor::System("cli"),
        )
        .await?;
    println!(
        "created staff {} (id {}) in {} {}",
        staff.username.as_str(),
        staff.id,
        unit.code.as_str(),
        unit.name
    );
    if generated {
        println!("password (shown once, change it after the first login): {password}");
    }
    Ok(())
}

/// `kefu admin create-token`: prints the token alone on stdout.
pub async fn create_token(config: &Config, args: &CreateTokenArgs) -> anyhow::Result<()> {
    let username = Username::parse(&args.user).map_err(field)?;
    let label = args.name.trim();
    anyhow::ensure!(
        !label.is_empty() && label.chars().count() <= 100,
        "--name: give a label of 1 to 100 characters"
    );
    let store = db::open_migrated(&config.database).await?;
    let (staff, _) = store
        .get_staff_for_login(&username)
        .await?
        .with_context(|| format!("--user: there is no staff member '{}'", args.user))?;
    anyhow::ensure!(staff.active, "staff member '{}' is inactive", args.user);
    let (secret, hash) = kefu_server::token::new_api_token();
    let token = store
        .create_api_token(staff.id, label, &hash, &Actor::System("cli"))
        .await?;
    eprintln!(
        "API token {} for {} created; it is shown once, keep it secret:",
        token.id,
        staff.username.as_str()
    );
    println!("{secret}");
    Ok(())
}

/// `kefu admin list-users`: one line per staff member of the unit and below.
pub async fn list_users(config: &Config, args: &ListUsersArgs) -> anyhow::Result<()> {
    let store = db::open_migrated(&config.database).await?;
    let code = OrgCode::parse(&args.unit).map_err(field)?;
    let unit = store
        .get_org_unit_by_code(&code)
        .await?
        .with_context(|| format!("--unit: there is no org unit with code '{}'", args.unit))?;
    let units: std::collections::HashMap<_, _> = store
        .list_org_units(&unit.path)
        .await?
        .into_iter()
        .map(|u| (u.id, u.code.as_str().to_owned()))
        .collect();
    println!("username\tname\tunit\troles\tactive");
    let mut after = None;
    // Bounded: at most 10 000 pages of 200.
    for _ in 0..10_000 {
        let page = store
            .list_staff(&unit.path, PageRequest::new(after, Some(200)))
            .await?;
        for s in &page.items {
            let roles: Vec<&str> = s.roles.as_slice().iter().map(|r| r.code()).collect();
            println!(
                "{}\t{}\t{}\t{}\t{}",
                s.username.as_str(),
                s.display_name,
                units.get(&s.org_unit_id).map_or("?", String::as_str),
                roles.join(","),
                if s.active { "yes" } else { "no" }
            );
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(())
}

/// `kefu demo`: a demo province into the configured (empty) store, or as CSV files.
pub async fn demo(config: &Config, args: &crate::cli::DemoArgs) -> anyhow::Result<()> {
    use crate::demo::province::{self, MAX_ORDERS, ProvinceOptions};
    let opts = ProvinceOptions {
        seed: args.seed,
        customers: args.customers.min(demo::MAX_CUSTOMERS),
        orders: args.orders.min(MAX_ORDERS),
    };
    let started = std::time::Instant::now();
    let now = chrono::Utc::now();
    let report = match &args.csv {
        Some(dir) => {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || province::write_csv(&dir, opts, now)).await??
        }
        None => {
            let store = db::open_migrated(&config.database).await?;
            province::load(store.as_ref(), opts, now, &hash_password).await?
        }
    };
    print!("{}", report.text(started.elapsed().as_secs_f64()));
    if args.csv.is_none() {
        println!("{}", demo::logins_table());
    }
    Ok(())
}
