//! `kefu bench sweep` on a small generated store: it completes, prints its row and removes the
//! temporary SQLite store (figures are not checked: no timing assertions in tests).

use crate::support::{Backend, run, stderr, stdout};

#[test]
fn bench_sweep_runs_on_a_small_sqlite_store_and_removes_it() {
    let backend = Backend::sqlite();
    let mut cmd = backend.kefu();
    cmd.args(["bench", "sweep", "--orders", "1500", "--batch", "400"]);
    let tmp = backend.data_dir().expect("dir").to_path_buf();
    cmd.env("TMPDIR", &tmp);
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("| steady 30 s tick: due · alerts · ms |"),
        "no header in {table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("| sqlite | 1500 |"))
        .unwrap_or_else(|| panic!("no result row in {table}"));
    // store, orders, load rate, then three sweeps of three cells each.
    assert_eq!(row.matches('|').count(), 13, "{row}");
    assert!(table.contains("first sweep after loading"), "{table}");
    let leftovers: Vec<_> = std::fs::read_dir(&tmp)
        .expect("read tmp")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("kefu-bench-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
