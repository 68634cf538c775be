//! `kefu calendar import|show|add` on both stores: an imported year file is stored (every bad
//! line reported, nothing stored then), and `show` / `add` use the stored year; without a
//! store they work from the shipped schedules and create nothing.

use crate::support::{Backend, run, stderr, stdout};

const GOOD: &str = "# 2027 test schedule\nyear 2027\n2027-01-01 holiday 元旦\n\
                    2027-01-09 workday like=fri 元旦调休\n";
const BAD: &str = "year 2027\n2027-01-01 holiday 元旦\n2027-02-30 holiday 春节\n\
                   2027-01-04 workday 调休\nwhatever\n";

fn import_then_use(backend: &Backend) {
    let dir = crate::support::temp_dir();
    let (bad, good) = (dir.join("bad.txt"), dir.join("2027.txt"));
    std::fs::write(&bad, BAD).expect("write");
    std::fs::write(&good, GOOD).expect("write");

    let before = run(backend.kefu().args(["calendar", "show", "2027-01"]), None);
    assert!(before.status.success(), "{}", stderr(&before));
    assert!(stdout(&before).contains("no holiday schedule loaded for 2027"));

    let out = run(backend.kefu().args(["calendar", "import"]).arg(&bad), None);
    assert!(!out.status.success());
    let err = stderr(&out);
    for line in [":3:", ":4:", ":5:"] {
        assert!(err.contains(line), "{line} missing from {err}");
    }
    assert!(err.contains("nothing was imported"), "{err}");

    let out = run(backend.kefu().args(["calendar", "import"]).arg(&good), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("imported: version 1"),
        "{}",
        stdout(&out)
    );

    let show = run(backend.kefu().args(["calendar", "show", "2027-01"]), None);
    let text = stdout(&show);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(text.contains("  1休"), "{text}");
    assert!(text.contains("  9班"), "{text}");
    assert!(!text.contains("no holiday schedule"), "{text}");

    // Friday 8 January 16:00 + 1 working day = the make-up Saturday.
    let add = run(
        backend.kefu().args([
            "calendar",
            "add",
            "--from",
            "2027-01-08T16:00+08:00",
            "--working-days",
            "1",
        ]),
        None,
    );
    let text = stdout(&add);
    assert!(add.status.success(), "{}", stderr(&add));
    assert!(
        text.contains("截止 deadline:  2027-01-09 16:00 +08:00"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_imported_year_is_used_by_show_and_add_on_sqlite() {
    import_then_use(&Backend::sqlite());
}

#[test]
fn an_imported_year_is_used_by_show_and_add_on_postgres() {
    import_then_use(&Backend::postgres());
}

#[test]
fn without_a_store_the_shipped_calendar_is_used_and_nothing_is_created() {
    let backend = Backend::sqlite();
    let out = run(backend.kefu().args(["calendar", "show", "2026-02"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(" 14班"), "{}", stdout(&out));
    let db = backend.data_dir().map(|d| d.join("data").join("kefu.db"));
    assert!(db.is_some_and(|p| !p.exists()));
    let out = run(
        backend.kefu().args([
            "--calendar-utc-offset",
            "+07:00",
            "calendar",
            "show",
            "2026-02",
        ]),
        None,
    );
    assert!(stdout(&out).contains("UTC+07:00"), "{}", stdout(&out));
}
