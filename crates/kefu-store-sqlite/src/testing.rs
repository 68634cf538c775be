//! Test support for this and other crates' tests: a fresh, migrated store in its own file under
//! `<temp>/kefu-test-<pid>-<counter>-<nanos>/`, removed when the store (its last clone) is
//! dropped. Directories a killed run left behind are removed after two hours, when a process
//! makes its first store, so test runs do not fill the disk.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use kefu_store::Store;

use crate::SqliteStore;

static COUNTER: AtomicU64 = AtomicU64::new(0);
/// Test directories older than this are removed.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(2 * 60 * 60);

/// Removes `kefu-test-*` directories older than two hours (best effort).
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_string_lossy()
            .starts_with("kefu-test-")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_AFTER);
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A directory no other test uses: temp dir + pid + counter + nanoseconds.
pub fn unique_temp_dir() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("kefu-test-{}-{n}-{nanos}", std::process::id()))
}

/// A directory removed with everything in it when dropped.
#[derive(Debug)]
pub(crate) struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new, migrated SQLite store in a new file under a unique temp dir. Panics (failing the
/// test) if the store cannot be created.
pub async fn fresh_store() -> SqliteStore {
    if COUNTER.load(Ordering::Relaxed) == 0 {
        remove_stale_dirs();
    }
    let dir = unique_temp_dir();
    let path = dir.join("kefu.db");
    let mut store = match SqliteStore::open_with(&path, 4).await {
        Ok(s) => s,
        Err(e) => panic!("cannot open a test database at {}: {e}", path.display()),
    };
    store.scratch = Some(std::sync::Arc::new(ScratchDir(dir)));
    if let Err(e) = store.migrate().await {
        panic!(
            "cannot migrate the test database at {}: {e}",
            path.display()
        );
    }
    store
}
