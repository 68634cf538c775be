//! `kefu demo` on both stores: a small province is loaded into an empty store (customers,
//! orders with their timelines, logins) and refused on a store that holds data; `--csv`
//! writes the same files for the same seed.

use crate::support::{Backend, run, stderr, stdout, temp_dir};

fn province(backend: &Backend) {
    let out = run(
        backend
            .kefu()
            .args(["demo", "--customers", "400", "--orders", "600"]),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("400 客户 customers, 600 工单 orders"),
        "{text}"
    );
    assert!(
        text.contains("Kefu-demo-2026"),
        "the logins are printed: {text}"
    );

    let out = run(
        backend.kefu().args(["orders", "list", "--limit", "10000"]),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&out);
    assert_eq!(list.lines().count(), 601, "{list}");
    assert!(list.contains("\tarchived\t"), "{list}");
    let newest = list
        .lines()
        .nth(1)
        .and_then(|l| l.split('\t').next())
        .unwrap_or_default()
        .to_owned();
    let out = run(backend.kefu().args(["orders", "show", &newest]), None);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = run(
        backend
            .kefu()
            .args(["demo", "--customers", "10", "--orders", "0"]),
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
}

#[test]
fn demo_loads_a_province_into_an_empty_store_only_on_sqlite() {
    province(&Backend::sqlite());
}

#[test]
fn demo_loads_a_province_into_an_empty_store_only_on_postgres() {
    province(&Backend::postgres());
}

#[test]
fn demo_csv_files_are_the_same_for_the_same_seed() {
    let backend = Backend::sqlite();
    let files = |dir: &std::path::Path| {
        let out = run(
            backend
                .kefu()
                .args(["demo", "--customers", "300", "--orders", "400", "--csv"])
                .arg(dir),
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        (
            std::fs::read(dir.join("customers.csv")).expect("customers"),
            std::fs::read(dir.join("orders.csv")).expect("orders"),
        )
    };
    let (a, b) = (temp_dir(), temp_dir());
    let first = files(&a);
    assert_eq!(first, files(&b));
    let orders = String::from_utf8(first.1).expect("utf-8");
    assert_eq!(orders.lines().count(), 401);
    assert_eq!(
        String::from_utf8(first.0).expect("utf-8").lines().count(),
        301
    );
    let _ = std::fs::remove_dir_all(a);
    let _ = std::fs::remove_dir_all(b);
}
