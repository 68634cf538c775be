//! One-shot commands: `--version`, `migrate`, configuration errors, `admin create-user`.

use crate::support::{Backend, Server, login, run, stderr, stdout};

#[test]
fn version_names_the_binary() {
    let out = run(Backend::sqlite().kefu().arg("--version"), None);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        format!("kefu {}", env!("CARGO_PKG_VERSION"))
    );
}

fn migrate_twice(backend: &Backend) {
    let first = run(backend.kefu().arg("migrate"), None);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("applied now: [1"),
        "{}",
        stdout(&first)
    );
    let again = run(backend.kefu().arg("migrate"), None);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("applied now: none"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn migrate_creates_the_schema_once_on_sqlite() {
    let backend = Backend::sqlite();
    migrate_twice(&backend);
    let db = backend.data_dir().map(|d| d.join("data").join("kefu.db"));
    assert!(db.is_some_and(|p| p.exists()));
}

#[test]
fn migrate_creates_the_schema_once_on_postgres() {
    migrate_twice(&Backend::postgres());
}

#[test]
fn a_schema_newer_than_the_binary_is_refused_with_the_stores_message() {
    let backend = Backend::sqlite();
    assert!(run(backend.kefu().arg("migrate"), None).status.success());
    let path = backend
        .data_dir()
        .map(|d| d.join("data").join("kefu.db"))
        .expect("sqlite path");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", path.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from the future', TRUE, X'00', 0)",
        )
        .execute(&mut conn)
        .await
        .expect("insert future version");
    });
    let out = run(backend.kefu().arg("migrate"), None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("9999"), "{}", stderr(&out));
    assert!(stderr(&out).contains("newer kefu"), "{}", stderr(&out));
}

#[test]
fn a_bad_setting_names_itself_and_fails() {
    let backend = Backend::sqlite();
    let out = run(
        backend
            .kefu()
            .env("KEFU_ADDR", "not-an-address")
            .arg("migrate"),
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not-an-address"), "{}", stderr(&out));

    let out = run(
        backend
            .kefu()
            .env("KEFU_DATABASE_URL", "mysql://root:hunter22@db/kefu")
            .arg("migrate"),
        None,
    );
    assert!(!out.status.success());
    assert!(!stderr(&out).contains("hunter22"), "the password leaked");
}

#[test]
fn kefu_toml_is_read_and_flags_override_it() {
    let backend = Backend::sqlite();
    let dir = backend.data_dir().expect("dir").to_path_buf();
    std::fs::write(dir.join("kefu.toml"), "data = \"from-toml\"\n").expect("write toml");
    let mut cmd = backend.kefu();
    cmd.env_remove("KEFU_DATA").arg("migrate");
    assert!(run(&mut cmd, None).status.success());
    assert!(dir.join("from-toml").join("kefu.db").exists());
    let mut cmd = backend.kefu();
    cmd.env_remove("KEFU_DATA")
        .args(["migrate", "--data", "from-flag"]);
    assert!(run(&mut cmd, None).status.success());
    assert!(dir.join("from-flag").join("kefu.db").exists());
    std::fs::write(dir.join("other.toml"), "data = \"from-other\"\n").expect("write toml");
    let mut cmd = backend.kefu();
    cmd.env_remove("KEFU_DATA")
        .args(["--config", "other.toml", "migrate"]);
    assert!(run(&mut cmd, None).status.success());
    assert!(dir.join("from-other").join("kefu.db").exists());
}

#[test]
fn create_user_with_a_password_from_stdin_can_log_in() {
    let backend = Backend::sqlite();
    // The demo tree provides the unit 330106.
    let server = Server::start(&backend, &["--demo", "--demo-customers", "10"]);
    let out = run(
        backend.kefu().args([
            "admin",
            "create-user",
            "--username",
            "zhao.test",
            "--name",
            "赵测试",
            "--unit",
            "330106",
            "--role",
            "agent",
            "--department",
            "marketing",
            "--password-stdin",
        ]),
        Some("Zhao-pass-2026\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("Zhao-pass-2026"));
    assert_eq!(
        login(&server.addr, "zhao.test", "Zhao-pass-2026").status,
        200
    );

    let out = run(
        backend.kefu().args([
            "admin",
            "create-user",
            "--username",
            "qian.test",
            "--name",
            "钱测试",
            "--unit",
            "3301",
            "--role",
            "supervisor",
        ]),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let password = text
        .lines()
        .find_map(|l| l.rsplit_once(": ").filter(|_| l.starts_with("password")))
        .map(|(_, p)| p.trim().to_owned())
        .expect("generated password printed");
    assert_eq!(login(&server.addr, "qian.test", &password).status, 200);

    let out = run(
        backend.kefu().args([
            "admin",
            "create-user",
            "--username",
            "sun.test",
            "--name",
            "孙",
            "--unit",
            "999999",
            "--role",
            "agent",
        ]),
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--unit"), "{}", stderr(&out));
}

fn bench_runs_and_cleans_up(database_url: Option<&str>, label: &str) {
    let backend = Backend::sqlite();
    let mut cmd = backend.kefu();
    cmd.args([
        "bench",
        "phone-lookup",
        "--customers",
        "300",
        "--concurrency",
        "4",
        "--duration",
        "300ms",
    ]);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let tmp = backend.data_dir().expect("dir").to_path_buf();
    cmd.env("TMPDIR", &tmp);
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("| {label} | 300 | 4 |")))
        .unwrap_or_else(|| panic!("no result row in {table}"));
    assert!(row.ends_with("| 0 |"), "errors in {row}");

    // The fresh store is gone afterwards.
    let leftovers: Vec<_> = std::fs::read_dir(&tmp)
        .expect("read tmp")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("kefu-bench-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    if let Some(url) = database_url {
        let err = stderr(&out);
        let schema = err
            .split("(schema ")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .expect("schema named on stderr")
            .to_owned();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let exists: bool = rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = $1)",
            )
            .bind(&schema)
            .fetch_one(&mut conn)
            .await
            .expect("query")
        });
        assert!(!exists, "schema {schema} was not dropped");
    }
}

#[test]
fn bench_phone_lookup_measures_a_fresh_sqlite_store() {
    bench_runs_and_cleans_up(None, "sqlite");
}

#[test]
fn bench_phone_lookup_measures_a_fresh_postgres_schema() {
    bench_runs_and_cleans_up(Some(&crate::support::pg_url()), "postgres");
}

#[test]
fn bench_intake_measures_a_fresh_sqlite_store_and_removes_it() {
    let backend = Backend::sqlite();
    let mut cmd = backend.kefu();
    cmd.args([
        "bench",
        "intake",
        "--customers",
        "200",
        "--concurrency",
        "2",
        "--duration",
        "1s",
    ]);
    let tmp = backend.data_dir().expect("dir").to_path_buf();
    cmd.env("TMPDIR", &tmp);
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("| orders/s ÷ plain rows/s |"),
        "no header in {table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("| sqlite | 200 | 2 |"))
        .unwrap_or_else(|| panic!("no result row in {table}"));
    assert!(row.ends_with("| 0 |"), "errors in {row}");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let orders: u64 = cells[4].parse().expect("orders");
    assert!(orders > 0, "{row}");
    // The baseline inserted as many rows as orders were taken.
    assert!(
        cells[8].starts_with(&format!("{orders} · ")),
        "baseline rows in {row}"
    );

    let leftovers: Vec<_> = std::fs::read_dir(&tmp)
        .expect("read tmp")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("kefu-bench-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn calendar_add_prints_the_deadline_of_a_limit() {
    let env = Backend::sqlite();
    let out = run(
        env.kefu().args([
            "calendar",
            "add",
            "--from",
            "2026-02-13T16:00+08:00",
            "--working-days",
            "1",
        ]),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("截止 deadline:  2026-02-14 16:00 +08:00"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn calendar_reads_an_administrators_year_file_and_reports_its_bad_lines() {
    let env = Backend::sqlite();
    let dir = crate::support::temp_dir();
    let good = dir.join("2027.txt");
    std::fs::write(&good, "year 2027\n2027-01-01 holiday 元旦\n").expect("write");
    let out = run(
        env.kefu()
            .args(["calendar", "show", "2027-01", "--year-file"])
            .arg(&good),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("  1休"), "{}", stdout(&out));

    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "year 2027\n2027-02-30 holiday 春节\n").expect("write");
    let out = run(
        env.kefu()
            .args(["calendar", "show", "2027-02", "--year-file"])
            .arg(&bad),
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
}
