//! Group commit of work-order intakes. Every intake writes the same day-counter row and, on
//! SQLite, takes the one write lock: fifty agents committing one transaction each spend their
//! time waiting for each other (SQLite's busy handler sleeps), not writing. So each store runs
//! one writer task that takes whatever intakes are queued and writes them in one transaction,
//! one savepoint per intake:
//!
//! - an intake refused by a rule or by the store rolls back only its savepoint and gets its own
//!   error; the others of the batch go on (so a refused intake consumes no order number);
//! - intakes run in arrival order on one connection, so a later intake of the batch sees the
//!   earlier ones' rows: the same idempotency key replays (or is refused for other content),
//!   and a repeat of an earlier order of the batch links to it;
//! - every caller is answered only after COMMIT: an acknowledged order is committed, with the
//!   store's durability settings unchanged. If COMMIT fails, every intake of the batch that had
//!   succeeded gets the error (nothing of it remains).
//!
//! The queue is generic over the store's `IntakeBatch` (which holds the pool, not the store, so
//! the task ends when the last store clone is dropped). The task starts on the first intake, in
//! the runtime that makes it, and is started again if it has gone (its runtime ended).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::workorder::{ActorCtx, Intake, Order, OrderNumber};
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::workorder::{
    IntakeOptions, IntakeOutcome, OrderColumns, RepeatCandidate, StoredOrder, WorkOrderStoreError,
    allocate_number, centre_date, repeat_window_start,
};

/// The most intakes written in one transaction (bounds a batch's latency and its memory).
pub const MAX_INTAKE_BATCH: usize = 128;
/// How many intakes may wait for the writer before callers queue (back-pressure).
pub const INTAKE_QUEUE_DEPTH: usize = 4096;

/// One intake as handed to the writer: the arguments of `WorkOrderStore::intake`, owned.
#[derive(Debug, Clone)]
pub struct PendingIntake {
    /// The validated appeal.
    pub intake: Intake,
    /// Repeat-search window.
    pub options: IntakeOptions,
    /// Who takes it.
    pub actor: ActorCtx,
    /// When.
    pub now: DateTime<Utc>,
    /// Its deadlines, computed from the appeal before it was queued.
    pub sla: Vec<kefu_domain::sla::Tracked>,
    /// The search terms of the appeal text, cut before it was queued (`search`); the writer
    /// adds the order number once allocated.
    pub index_text: String,
}

/// What one intake answers.
pub type IntakeResult = Result<(StoredOrder, IntakeOutcome), WorkOrderStoreError>;

/// A store's way of writing a batch of intakes.
#[async_trait]
pub trait IntakeBatch: Send + Sync + 'static {
    /// Writes `batch` in one transaction, one savepoint per intake, in order, and returns one
    /// result per intake, in the same order, once the transaction is committed (or failed).
    async fn intake_batch(&self, batch: Vec<PendingIntake>) -> Vec<IntakeResult>;
}

struct Job {
    pending: PendingIntake,
    answer: oneshot::Sender<IntakeResult>,
}

/// The queue in front of a store's intake writer task.
pub struct IntakeQueue<B: IntakeBatch + Clone> {
    writer: B,
    sender: Mutex<Option<mpsc::Sender<Job>>>,
}

impl<B: IntakeBatch + Clone> std::fmt::Debug for IntakeQueue<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntakeQueue").finish_non_exhaustive()
    }
}

fn writer_gone() -> WorkOrderStoreError {
    WorkOrderStoreError::Store(StoreError::Database(
        "the work-order intake writer stopped before answering".into(),
    ))
}

impl<B: IntakeBatch + Clone> IntakeQueue<B> {
    /// A queue whose task (started on first use) writes batches with `writer`.
    pub fn new(writer: B) -> Self {
        Self {
            writer,
            sender: Mutex::new(None),
        }
    }

    /// The sender of the running task, starting one if there is none or `stale` is the
    /// current one (its task has gone).
    fn sender(
        &self,
        stale: Option<&mpsc::Sender<Job>>,
    ) -> Result<mpsc::Sender<Job>, WorkOrderStoreError> {
        // A poisoned lock only means another caller panicked while swapping the sender; the
        // Option inside is still whole.
        let mut slot = self.sender.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref()
            && !stale.is_some_and(|old| old.same_channel(s))
        {
            return Ok(s.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            WorkOrderStoreError::Store(StoreError::Database(format!(
                "work-order intake needs an async runtime: {e}"
            )))
        })?;
        let (tx, rx) = mpsc::channel(INTAKE_QUEUE_DEPTH);
        runtime.spawn(run(self.writer.clone(), rx));
        *slot = Some(tx.clone());
        Ok(tx)
    }

    /// Queues one intake and waits until its batch is committed.
    pub async fn submit(&self, pending: PendingIntake) -> IntakeResult {
        let (answer, answered) = oneshot::channel();
        let mut job = Job { pending, answer };
        let mut stale = None;
        // Two tries: the second after restarting a task that had gone with its runtime.
        for _ in 0..2 {
            let sender = self.sender(stale.as_ref())?;
            match sender.send(job).await {
                Ok(()) => return answered.await.unwrap_or_else(|_| Err(writer_gone())),
                Err(mpsc::error::SendError(back)) => {
                    job = back;
                    stale = Some(sender);
                }
            }
        }
        Err(writer_gone())
    }
}

async fn run<B: IntakeBatch>(writer: B, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_INTAKE_BATCH);
    // Ends when every sender is gone (the store was dropped).
    while rx.recv_many(&mut jobs, MAX_INTAKE_BATCH).await > 0 {
        let (batch, answers): (Vec<_>, Vec<_>) =
            jobs.drain(..).map(|j| (j.pending, j.answer)).unzip();
        let mut results = writer.intake_batch(batch).await.into_iter();
        for answer in answers {
            // A caller that gave up (client gone) needs no answer; its order is committed all
            // the same, and a retry with its key replays it.
            let _ = answer.send(results.next().unwrap_or_else(|| Err(writer_gone())));
        }
    }
}

/// The order-number counters of one batch, per centre day: each day's stored `last_seq` is read
/// once before the first intake (and, on PostgreSQL, locked until commit), advanced in memory
/// by each order written, and written back once before COMMIT. An intake that is refused or
/// replays does not advance it, so numbers stay gap-free without a counter statement (and its
/// undo) per intake.
#[derive(Debug, Default)]
pub struct BatchCounters {
    /// Per day: (stored last_seq, last_seq after the orders written so far).
    days: BTreeMap<NaiveDate, (i64, i64)>,
}

impl BatchCounters {
    /// The centre days the intakes of `batch` are numbered in.
    pub fn days_of(batch: &[PendingIntake]) -> BTreeSet<NaiveDate> {
        batch.iter().map(|p| centre_date(p.now)).collect()
    }

    /// Records the stored last sequence number of `day` (0 when it has no counter row yet).
    pub fn load(&mut self, day: NaiveDate, stored_last: i64) {
        self.days.insert(day, (stored_last, stored_last));
    }

    /// The number the next order of `day` gets (not yet taken: see `advance`).
    pub fn next(&self, day: NaiveDate) -> Result<(i64, OrderNumber), StoreError> {
        let (_, last) = self.days.get(&day).copied().ok_or_else(|| {
            StoreError::InvalidState(format!("the order counter of {day} was not read"))
        })?;
        let seq = last.saturating_add(1);
        allocate_number(day, seq).map(|n| (seq, n))
    }

    /// Takes `seq` of `day`: an order with it was written.
    pub fn advance(&mut self, day: NaiveDate, seq: i64) {
        if let Some((_, last)) = self.days.get_mut(&day) {
            *last = (*last).max(seq);
        }
    }

    /// The days whose counter moved, with their new last sequence number.
    pub fn changed(&self) -> Vec<(NaiveDate, i64)> {
        self.days
            .iter()
            .filter(|(_, (stored, last))| last != stored)
            .map(|(day, (_, last))| (*day, *last))
            .collect()
    }
}

/// What the repeat search of a whole batch looks for: the earlier orders of any of its
/// customers or phones on any of its sub-categories since the earliest window start. A
/// superset of each intake's own search; `repeats_among` (the domain's `is_repeat`) keeps, per
/// intake, exactly the orders of the same appellant and matter inside its window, so one query
/// per batch gives the links one query per intake gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatProbe {
    /// Customer ids of the batch's identified callers.
    pub customers: Vec<i64>,
    /// Phones of the batch's callers.
    pub phones: Vec<String>,
    /// Sub-category codes of the batch.
    pub sub_categories: Vec<String>,
    /// The earliest window start of the batch's intakes.
    pub since: DateTime<Utc>,
}

impl RepeatProbe {
    /// The probe of `batch`; `None` for an empty batch.
    pub fn of(batch: &[PendingIntake]) -> Option<RepeatProbe> {
        let since = batch
            .iter()
            .map(|p| repeat_window_start(p.now, p.options))
            .min()?;
        let mut customers = BTreeSet::new();
        let mut phones = BTreeSet::new();
        let mut subs = BTreeSet::new();
        for p in batch {
            let who = p.intake.caller.appellant();
            customers.extend(who.customer.map(|c| c.0));
            phones.extend(who.phone.map(|ph| ph.as_str().to_owned()));
            subs.insert(p.intake.sub_category.as_str().to_owned());
        }
        Some(RepeatProbe {
            customers: customers.into_iter().collect(),
            phones: phones.into_iter().collect(),
            sub_categories: subs.into_iter().collect(),
            since,
        })
    }
}

/// An order just written in the batch, as a repeat candidate for the intakes after it.
pub fn written_candidate(id: i64, order: &Order) -> RepeatCandidate {
    let c = OrderColumns::of(order);
    RepeatCandidate {
        id,
        number: c.number,
        customer_id: c.customer_id,
        caller_phone: c.caller_phone,
        sub_category: c.sub_category,
        created_at: order.opened_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_advance_only_for_written_orders() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let mut c = BatchCounters::default();
        assert!(c.next(day).is_err(), "an unread day is never numbered");
        c.load(day, 7);
        assert!(c.changed().is_empty());
        let (seq, number) = c.next(day).expect("next");
        assert_eq!((seq, number.to_string()), (8, "GD20261122000008".into()));
        // Refused: not advanced, the next intake gets the same number.
        assert_eq!(c.next(day).expect("again").0, 8);
        c.advance(day, 8);
        assert_eq!(c.next(day).expect("then").0, 9);
        assert_eq!(c.changed(), vec![(day, 8)]);
    }
}
