//! `kefu import customers` on both stores: every bad-input case of issue 6 in both encodings
//! (CSV in UTF-8, UTF-8 with BOM and GBK) and both formats (CSV, xlsx); re-imports update
//! instead of duplicating; dry runs and all-or-nothing imports store nothing.

use std::path::Path;

use crate::import_support::{
    ENCODINGS, Enc, customers, encode, fixture_text, history_len, report_lines, seed, workbook,
    write,
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

fn phones_of(backend: &Backend, account: &str) -> Vec<String> {
    customers(backend)
        .into_iter()
        .find(|c| c.record.account_number.as_str() == account)
        .map(|c| {
            c.record
                .phones
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The main fixture: 4 good rows, 6 bad ones (a duplicate, a bad ID, a bad phone + unknown unit
/// + impossible date, too many columns, too few, a quote left open).
fn bad_inputs_in_every_encoding(backend_of: fn() -> Backend) {
    for enc in ENCODINGS {
        let backend = backend_of();
        seed(&backend);
        let dir = temp_dir();
        let file = write(
            &dir,
            "customers.csv",
            &encode(&fixture_text("customers.csv"), enc),
        );
        let report = dir.join("report.csv");
        let out = import(&backend, &file, &report, &[]);
        let text = stdout(&out);
        assert!(out.status.success(), "{enc:?}: {}", stderr(&out));
        assert!(text.contains("读取 read: 10 行 rows"), "{enc:?}: {text}");
        assert!(text.contains("新建 created 4,"), "{enc:?}: {text}");
        assert!(
            text.contains("错误 bad: 6 行 rows (1 重复户号"),
            "{enc:?}: {text}"
        );
        let expected_encoding = if matches!(enc, Enc::Gbk) {
            "GB18030"
        } else {
            "UTF-8"
        };
        assert!(text.contains(expected_encoding), "{enc:?}: {text}");

        let lines = report_lines(&report);
        let has = |line: u64, field: &str, reason: &str| {
            lines
                .iter()
                .any(|(l, f, r)| *l == line && f.contains(field) && r.contains(reason))
        };
        assert!(has(6, "户号", "户号重复"), "{enc:?}: {lines:?}");
        assert!(has(6, "account_number", "line 2"), "{enc:?}: {lines:?}");
        assert!(
            has(7, "证件号码 id_document.number", ""),
            "{enc:?}: {lines:?}"
        );
        assert!(has(8, "联系电话 phones[0]", ""), "{enc:?}: {lines:?}");
        assert!(has(8, "供电单位", "999999"), "{enc:?}: {lines:?}");
        assert!(
            has(8, "生日 special_dates.birthday.date", "2026-13-40"),
            "{enc:?}: {lines:?}"
        );
        assert!(has(9, "", "列数不符"), "{enc:?}: {lines:?}");
        assert!(has(10, "", "列数不符"), "{enc:?}: {lines:?}");
        assert!(has(11, "", "引号未闭合"), "{enc:?}: {lines:?}");

        let stored = customers(&backend);
        assert_eq!(stored.len(), 4, "{enc:?}");
        // Full-width digits and a full-width comma between two numbers.
        assert_eq!(
            phones_of(&backend, "3301060002"),
            vec!["13900139000", "057187654321"]
        );
        assert_eq!(phones_of(&backend, "3301060004"), vec!["13700137000"]);
        let zhang = stored
            .iter()
            .find(|c| c.record.account_number.as_str() == "3301060004")
            .expect("row 5 stored");
        // An Excel serial number as a date, a unit named by its name, 0.22kV as 220v.
        assert_eq!(zhang.record.special_dates[0].to_date_string(), "2026-02-13");
        assert!(
            zhang.supply_unit_path.as_str().ends_with("/5/"),
            "{:?}",
            zhang.supply_unit_path
        );
        assert_eq!(zhang.record.voltage.code(), "220v");
        let company = stored
            .iter()
            .find(|c| c.record.account_number.as_str() == "3301060003")
            .expect("row 4 stored");
        assert_eq!(
            company.record.special_dates[0].to_date_string(),
            "2015-06-01"
        );
        assert_eq!(company.record.service_grade.map(|g| g.code()), Some("2a"));
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn csv_bad_inputs_in_every_encoding_on_sqlite() {
    bad_inputs_in_every_encoding(Backend::sqlite);
}

#[test]
fn csv_bad_inputs_in_every_encoding_on_postgres() {
    bad_inputs_in_every_encoding(Backend::postgres);
}

/// The same file twice changes nothing; an edited row updates with history; nothing is
/// duplicated. Also checks the default report path beside the file.
fn reimport_updates(backend: &Backend) {
    seed(backend);
    let dir = temp_dir();
    let original = fixture_text("customers.csv");
    let file = write(&dir, "customers.csv", original.as_bytes());
    let mut cmd = backend.kefu();
    let out = run(cmd.args(["import", "customers"]).arg(&file), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("customers.csv.report.csv").exists());

    let out = run(
        backend.kefu().args(["import", "customers"]).arg(&file),
        None,
    );
    let text = stdout(&out);
    assert!(
        text.contains("新建 created 0, 更新 updated 0, 未变 unchanged 4"),
        "{text}"
    );
    assert_eq!(customers(backend).len(), 4);

    let edited = original.replace("文二路8号", "文二路88号");
    let file = write(&dir, "customers.csv", edited.as_bytes());
    let out = run(
        backend.kefu().args(["import", "customers"]).arg(&file),
        None,
    );
    let text = stdout(&out);
    assert!(
        text.contains("新建 created 0, 更新 updated 1, 未变 unchanged 3"),
        "{text}"
    );
    assert_eq!(customers(backend).len(), 4);
    assert_eq!(history_len(backend, "3301060002"), 2);
    assert_eq!(history_len(backend, "3301060001"), 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn reimport_updates_instead_of_duplicating_on_sqlite() {
    reimport_updates(&Backend::sqlite());
}

#[test]
fn reimport_updates_instead_of_duplicating_on_postgres() {
    reimport_updates(&Backend::postgres());
}

/// An Excel workbook: number cells, a date cell, a serial number, full-width digits, a
/// duplicate, a bad ID and a row with too many cells; then a truncated copy.
fn excel(backend: &Backend) {
    seed(backend);
    let dir = temp_dir();
    let book = workbook(&dir);
    let report = dir.join("report.csv");
    let out = import(backend, &book, &report, &[]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(text.contains("读取 read: 6 行 rows (Excel)"), "{text}");
    assert!(text.contains("新建 created 3,"), "{text}");
    assert!(text.contains("错误 bad: 3 行 rows (1 重复户号"), "{text}");
    let lines = report_lines(&report);
    assert!(
        lines
            .iter()
            .any(|(l, _, r)| *l == 5 && r.contains("户号重复")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(l, f, _)| *l == 6 && f.contains("id_document")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(l, _, r)| *l == 7 && r.contains("列数不符")),
        "{lines:?}"
    );
    let stored = customers(backend);
    let wang = stored
        .iter()
        .find(|c| c.record.account_number.as_str() == "3301060001")
        .expect("a number cell as account number");
    assert_eq!(wang.record.phones[0].as_str(), "13800138000");
    assert_eq!(wang.record.special_dates[0].to_date_string(), "1949-12-31");
    assert_eq!(wang.record.contract_capacity_kva, Some(8));
    let zhang = stored
        .iter()
        .find(|c| c.record.account_number.as_str() == "3301060004")
        .expect("row 4");
    assert_eq!(zhang.record.special_dates[0].to_date_string(), "2026-02-13");
    assert_eq!(zhang.record.phones[0].as_str(), "13700137000");

    let out = import(backend, &book, &report, &[]);
    assert!(
        stdout(&out).contains("未变 unchanged 3"),
        "{}",
        stdout(&out)
    );
    assert_eq!(customers(backend).len(), 3);

    let bytes = std::fs::read(&book).expect("book");
    let cut = write(&dir, "cut.xlsx", &bytes[..bytes.len() / 2]);
    let out = import(backend, &cut, &report, &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("无法读取 Excel"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn excel_workbook_on_sqlite() {
    excel(&Backend::sqlite());
}

#[test]
fn excel_workbook_on_postgres() {
    excel(&Backend::postgres());
}
