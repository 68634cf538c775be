//! Group commit of audit entries the server writes on hot paths (reads of unmasked personal
//! data: every screen-pop by an agent). Each request still waits until its entry is committed —
//! nothing acknowledged is lost — but entries of concurrent requests share one transaction, so
//! a burst of look-ups costs a few commits instead of one each.

use std::sync::{Arc, OnceLock};

use chrono::Utc;
use kefu_store::{Actor, NewAuditEntry, Store, TimedAuditEntry};
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// The most entries committed in one transaction.
pub const MAX_AUDIT_BATCH: usize = 256;
/// How many entries may wait for the writer before callers queue (back-pressure).
pub const AUDIT_QUEUE_DEPTH: usize = 4096;

struct Pending {
    entry: TimedAuditEntry,
    done: oneshot::Sender<Result<(), String>>,
}

/// Hands entries to a background task that commits them in batches.
pub struct AuditWriter {
    store: Arc<dyn Store>,
    // Started on first use, inside the runtime that serves requests.
    queue: OnceLock<mpsc::Sender<Pending>>,
}

impl AuditWriter {
    /// A writer over `store` (its task starts with the first entry).
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            queue: OnceLock::new(),
        }
    }

    /// Appends one entry at the current time and returns once it is committed.
    pub async fn append(&self, entry: NewAuditEntry, actor: Actor) -> Result<(), ApiError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(AUDIT_QUEUE_DEPTH);
            tokio::spawn(run(self.store.clone(), rx));
            tx
        });
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            entry: TimedAuditEntry {
                entry,
                actor,
                at: Utc::now(),
            },
            done,
        };
        queue
            .send(pending)
            .await
            .map_err(|_| ApiError::internal("the audit writer has stopped"))?;
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ApiError::internal(format!("audit write failed: {e}"))),
            Err(_) => Err(ApiError::internal("the audit writer dropped an entry")),
        }
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_AUDIT_BATCH);
    // Ends when every sender is gone (the app state was dropped).
    while rx.recv_many(&mut batch, MAX_AUDIT_BATCH).await > 0 {
        let (entries, waiters): (Vec<_>, Vec<_>) =
            batch.drain(..).map(|p| (p.entry, p.done)).unzip();
        let result = store
            .append_audits(entries)
            .await
            .map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, "audit batch failed");
        }
        for w in waiters {
            // A waiter that gave up (client gone) needs no answer.
            let _ = w.send(result.clone());
        }
    }
}
