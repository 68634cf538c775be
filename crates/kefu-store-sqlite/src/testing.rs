//! Test support for this and other crates' tests: a fresh, migrated store in its own file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use kefu_store::Store;

use crate::SqliteStore;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A directory no other test uses: temp dir + pid + counter + nanoseconds.
pub fn unique_temp_dir() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("kefu-test-{}-{n}-{nanos}", std::process::id()))
}

/// A new, migrated SQLite store in a new file under a unique temp dir. Panics (failing the
/// test) if the store cannot be created.
pub async fn fresh_store() -> SqliteStore {
    let path = unique_temp_dir().join("kefu.db");
    let store = match SqliteStore::open_with(&path, 4).await {
        Ok(s) => s,
        Err(e) => panic!("cannot open a test database at {}: {e}", path.display()),
    };
    if let Err(e) = store.migrate().await {
        panic!(
            "cannot migrate the test database at {}: {e}",
            path.display()
        );
    }
    store
}
