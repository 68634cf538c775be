//! `kefu bench import --quick` (100 000 customers, the CI size) on both stores: it completes,
//! checks that the whole file was stored, prints its row with both rates and the ratio, and
//! removes its file, databases and schema (figures are not checked: no timing assertions).

use crate::support::{Backend, run, stderr, stdout};

fn quick(backend: &Backend, extra: &[&str]) {
    let tmp = crate::support::temp_dir();
    let mut cmd = backend.kefu();
    cmd.args(["bench", "import", "--quick"]).args(extra);
    cmd.env("TMPDIR", &tmp);
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("| kefu ÷ baseline |"),
        "no header in {table}"
    );
    let row = table
        .lines()
        .find(|l| l.contains(" | 100000 | "))
        .unwrap_or_else(|| panic!("no result row in {table}"));
    assert_eq!(row.matches('|').count(), 10, "{row}");
    assert!(table.contains("100000 created, 0 updated"), "{table}");
    let leftovers: Vec<_> = std::fs::read_dir(&tmp)
        .expect("read tmp")
        .filter_map(Result::ok)
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(tmp);
}

#[test]
fn bench_import_quick_runs_on_sqlite_and_cleans_up() {
    quick(&Backend::sqlite(), &[]);
}

#[test]
fn bench_import_quick_runs_on_postgres_and_cleans_up() {
    let url = crate::support::pg_url();
    quick(&Backend::sqlite(), &["--database-url", &url]);
}
