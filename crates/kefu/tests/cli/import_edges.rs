//! `kefu import customers` edge cases on both stores: a wrong encoding and missing columns stop
//! before any row is read, truncated files store what came before the cut, dry runs and
//! all-or-nothing imports store nothing, English headers and a mapping file are understood.

use std::path::Path;

use crate::import_support::{
    Enc, accounts_distinct, customers, encode, fixture, fixture_text, many_rows, report_lines,
    seed, wait_for_first_rows, write,
};
use crate::support::{Backend, run, stderr, stdout, temp_dir};

fn import(backend: &Backend, file: &Path, report: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = backend.kefu();
    cmd.args(["import", "customers"])
        .arg(file)
        .arg("--report")
        .arg(report)
        .args(extra);
    run(&mut cmd, None)
}

fn refused_before_any_row(backend: &Backend) {
    seed(backend);
    let dir = temp_dir();
    let report = dir.join("report.csv");
    let text = fixture_text("customers.csv");

    let gbk = write(&dir, "gbk.csv", &encode(&text, Enc::Gbk));
    let out = import(backend, &gbk, &report, &["--encoding", "utf-8"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("表头编码错误"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--encoding gbk"), "{}", stderr(&out));

    let utf8 = write(&dir, "utf8.csv", text.as_bytes());
    let out = import(backend, &utf8, &report, &["--encoding", "gbk"]);
    assert!(
        !out.status.success(),
        "UTF-8 read as GBK has no known headers"
    );

    let no_unit = text.replace("供电单位", "备注");
    let file = write(&dir, "no_unit.csv", no_unit.as_bytes());
    let out = import(backend, &file, &report, &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("缺少必需列"), "{err}");
    assert!(err.contains("供电单位 supply_unit"), "{err}");
    assert!(err.contains("--mapping"), "{err}");

    let odd = write(&dir, "customers.dat", text.as_bytes());
    let out = import(backend, &odd, &report, &[]);
    assert!(stderr(&out).contains("--format csv"), "{}", stderr(&out));
    let out = import(backend, &odd, &report, &["--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(customers(backend).len(), 4);

    let empty = write(&dir, "empty.csv", b"");
    let out = import(backend, &empty, &report, &[]);
    assert!(stderr(&out).contains("文件为空"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wrong_encoding_and_missing_columns_on_sqlite() {
    refused_before_any_row(&Backend::sqlite());
}

#[test]
fn wrong_encoding_and_missing_columns_on_postgres() {
    refused_before_any_row(&Backend::postgres());
}

/// A file cut in the middle of a Chinese character on line 3: line 2 is stored, line 3 is
/// reported, in both encodings.
fn truncated(backend_of: fn() -> Backend) {
    for enc in [Enc::Utf8, Enc::Gbk] {
        let backend = backend_of();
        seed(&backend);
        let dir = temp_dir();
        let text = fixture_text("customers.csv");
        let bytes = encode(&text, enc);
        let cut_at = {
            let prefix = text.find("文二路").expect("marker");
            let within = encode(&text[..prefix], enc).len();
            within + 1 // one byte into a two- or three-byte character
        };
        let file = write(&dir, "cut.csv", &bytes[..cut_at]);
        let report = dir.join("report.csv");
        let out = import(&backend, &file, &report, &[]);
        let out_text = stdout(&out);
        assert!(out.status.success(), "{enc:?}: {}", stderr(&out));
        assert!(
            out_text.contains("读取 read: 2 行 rows"),
            "{enc:?}: {out_text}"
        );
        assert!(out_text.contains("新建 created 1,"), "{enc:?}: {out_text}");
        let lines = report_lines(&report);
        assert!(lines.iter().all(|(l, _, _)| *l == 3), "{enc:?}: {lines:?}");
        assert!(!lines.is_empty(), "{enc:?}");
        assert_eq!(customers(&backend).len(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn truncated_csv_on_sqlite() {
    truncated(Backend::sqlite);
}

#[test]
fn truncated_csv_on_postgres() {
    truncated(Backend::postgres);
}

fn nothing_stored(backend: &Backend) {
    seed(backend);
    let dir = temp_dir();
    let report = dir.join("report.csv");
    let file = fixture("customers.csv");

    let out = import(backend, &file, &report, &["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("试运行 dry run: 4 行有效"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        report_lines(&report).len(),
        8,
        "every problem is reported on a dry run"
    );
    assert_eq!(customers(backend).len(), 0);

    let out = import(backend, &file, &report, &["--all-or-nothing"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("nothing was stored"),
        "{}",
        stderr(&out)
    );
    assert_eq!(customers(backend).len(), 0);

    let clean = fixture("customers_en.csv");
    let out = import(
        backend,
        &clean,
        &report,
        &["--all-or-nothing", "--batch-size", "1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("新建 created 2,"), "{}", stdout(&out));
    let stored = customers(backend);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].record.special_dates[0].to_date_string(), "02-13");
    assert_eq!(stored[1].record.grid.code(), "rural");

    let custom = fixture("custom_layout.csv");
    let out = import(backend, &custom, &report, &[]);
    assert!(!out.status.success(), "unknown headers without a mapping");
    let mapping = fixture("custom_layout.toml");
    let mut cmd = backend.kefu();
    cmd.args(["import", "customers"])
        .arg(&custom)
        .arg("--mapping")
        .arg(&mapping)
        .arg("--report")
        .arg(&report);
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("新建 created 1,"), "{}", stdout(&out));
    assert_eq!(customers(backend).len(), 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dry_run_all_or_nothing_and_mappings_on_sqlite() {
    nothing_stored(&Backend::sqlite());
}

#[test]
fn dry_run_all_or_nothing_and_mappings_on_postgres() {
    nothing_stored(&Backend::postgres());
}

/// Stopped with Ctrl-C (SIGINT), then killed outright (SIGKILL, a crash) in the middle: the
/// store holds whole batches only, and a final run completes the file without duplicates.
/// Whether each signal lands mid-import depends on timing, so only what must hold either way
/// is asserted.
fn interrupted(backend: &Backend) {
    seed(backend);
    let dir = temp_dir();
    let total = 20_000_u64;
    let file = many_rows(&dir, total as u32);
    let report = dir.join("report.csv");
    for signal in ["-INT", "-KILL"] {
        let mut cmd = backend.kefu();
        cmd.args(["import", "customers"])
            .arg(&file)
            .arg("--report")
            .arg(&report)
            .args(["--batch-size", "100"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn import");
        let seen = wait_for_first_rows(backend);
        assert!(seen > 0, "the import stored nothing within a minute");
        let killed = std::process::Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(killed.success() || child.try_wait().ok().flatten().is_some());
        let _ = child.wait();
        let stored = customers_count(backend);
        assert!(
            stored <= total && stored.is_multiple_of(100),
            "whole batches only: {stored}"
        );
        assert!(accounts_distinct(backend));
    }
    let out = import(backend, &file, &report, &["--batch-size", "1000"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("存储 stored: 20000 "), "{text}");
    assert_eq!(customers_count(backend), total);
    assert!(accounts_distinct(backend));
    let _ = std::fs::remove_dir_all(dir);
}

fn customers_count(backend: &Backend) -> u64 {
    crate::import_support::block_on(async {
        kefu::db::open_migrated(&crate::import_support::database(backend))
            .await
            .expect("store")
            .count_customers()
            .await
            .expect("count")
    })
}

#[test]
fn interrupted_import_is_repeatable_on_sqlite() {
    interrupted(&Backend::sqlite());
}

#[test]
fn interrupted_import_is_repeatable_on_postgres() {
    interrupted(&Backend::postgres());
}
