//! `kefu export customers|orders` on both stores: every customer crosses the page boundary
//! into the file once, masked as an administrator sees it; an unmasked export imports into
//! another store as the same records; GBK and xlsx hold the same rows; orders honour the
//! state filter and never show a caller's phone in clear by default.

use std::path::Path;

use calamine::Reader;
use kefu_domain::customer::CustomerRecord;

use crate::import_support::{customers, many_rows, seed};
use crate::support::{Backend, run, stderr, stdout, temp_dir};

/// More than one store page (200) of customers.
const N: u32 = 450;

fn export(backend: &Backend, args: &[&str], out: &Path) -> String {
    let o = run(
        backend.kefu().arg("export").args(args).arg("-o").arg(out),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

fn import(backend: &Backend, file: &Path) {
    let o = run(
        backend
            .kefu()
            .args(["import", "customers"])
            .arg(file)
            .arg("--report")
            .arg(file.with_extension("report.csv")),
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    let text = text.strip_prefix('\u{feff}').expect("a BOM for Excel");
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect()
}

/// Special-date labels are not columns of the file; the rest must survive the round trip.
fn without_labels(mut r: CustomerRecord) -> CustomerRecord {
    r.special_dates.iter_mut().for_each(|d| d.label = None);
    r
}

fn customers_round_trip(backend_of: fn() -> Backend) {
    let backend = backend_of();
    seed(&backend);
    let dir = temp_dir();
    import(&backend, &many_rows(&dir, N));

    let masked = dir.join("masked.csv");
    let said = export(&backend, &["customers"], &masked);
    assert!(said.contains(&format!("{N} 行 rows")), "{said}");
    let rows = csv_rows(&std::fs::read(&masked).expect("file"));
    assert_eq!(rows.len(), N as usize);
    let accounts: std::collections::HashSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(accounts.len(), N as usize, "each customer once");
    assert_eq!(rows[7][4], "139****0007", "phones masked");
    assert_eq!(rows[7][21], "正常");

    let clear = dir.join("clear.csv");
    export(&backend, &["customers", "--unmasked"], &clear);
    let rows = csv_rows(&std::fs::read(&clear).expect("file"));
    assert_eq!(rows[7][4], "13900000007");

    let gbk = dir.join("gbk.csv");
    export(
        &backend,
        &["customers", "--unmasked", "--encoding", "gbk"],
        &gbk,
    );
    let bytes = std::fs::read(&gbk).expect("file");
    let (text, bad) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
    assert!(!bad);
    let utf8 = std::fs::read_to_string(&clear).expect("file");
    assert_eq!(format!("\u{feff}{text}"), utf8);

    let xlsx = dir.join("clear.xlsx");
    export(&backend, &["customers", "--unmasked"], &xlsx);
    let mut book = calamine::open_workbook_auto(&xlsx).expect("workbook");
    let range = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    assert_eq!(range.height(), N as usize + 1);
    assert_eq!(
        range.get((0, 0)).map(ToString::to_string).as_deref(),
        Some("户号")
    );
    assert_eq!(
        range.get((8, 4)).map(ToString::to_string).as_deref(),
        Some("13900000007")
    );

    // The unmasked file is an import file: another store ends up with the same records.
    let other = backend_of();
    seed(&other);
    import(&other, &clear);
    let mut a: Vec<CustomerRecord> = customers(&backend).into_iter().map(|c| c.record).collect();
    let mut b: Vec<CustomerRecord> = customers(&other).into_iter().map(|c| c.record).collect();
    a.sort_by(|x, y| x.account_number.cmp(&y.account_number));
    b.sort_by(|x, y| x.account_number.cmp(&y.account_number));
    assert_eq!(a.len(), 200, "the helper reads one page");
    let a: Vec<_> = a.into_iter().map(without_labels).collect();
    let b: Vec<_> = b.into_iter().map(without_labels).collect();
    assert_eq!(a, b);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn customers_export_masked_unmasked_gbk_and_xlsx_and_reimport_on_sqlite() {
    customers_round_trip(Backend::sqlite);
}

#[test]
fn customers_export_masked_unmasked_gbk_and_xlsx_and_reimport_on_postgres() {
    customers_round_trip(Backend::postgres);
}

fn orders(backend: &Backend) {
    let out = run(backend.kefu().arg("migrate"), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (first, second) = rt.block_on(crate::orders::seed(backend));
    drop(rt);
    let dir = temp_dir();
    let file = dir.join("orders.csv");
    export(backend, &["orders"], &file);
    let rows = csv_rows(&std::fs::read(&file).expect("file"));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], second, "newest first");
    assert_eq!(rows[1][0], first);
    assert_eq!(rows[0][8], "139****0001");
    assert_eq!(rows[0][9], "", "a caller's name is personal data");
    assert!(rows[0][15].contains("重复"), "{:?}", rows[0]);

    export(
        backend,
        &["orders", "--state", "pending_dispatch", "--unmasked"],
        &file,
    );
    let rows = csv_rows(&std::fs::read(&file).expect("file"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], first);
    assert_eq!(rows[0][8], "13900000001");
    assert_eq!(rows[0][9], "李四");

    let o = run(
        backend
            .kefu()
            .args(["export", "orders", "--from", "13/02/2026", "-o"])
            .arg(&file),
        None,
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--from"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn orders_export_filters_and_masks_on_sqlite() {
    orders(&Backend::sqlite());
}

#[test]
fn orders_export_filters_and_masks_on_postgres() {
    orders(&Backend::postgres());
}
