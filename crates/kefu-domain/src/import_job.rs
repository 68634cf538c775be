//! Customer-file upload jobs (issue 6): the states of an import run in the background on the
//! server, and the limits of what an upload may hold. A job moves queued → running → done or
//! failed; a server that stops while a job is queued or running leaves it interrupted (the
//! rows of the batches already stored stay stored, as with `kefu import customers`).

use crate::code_enum;

/// The largest file a user may upload (20 MiB): bigger files go through `kefu import customers`.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// The most bad-row problems kept for a job's report; the counts go on past it.
pub const MAX_REPORTED_PROBLEMS: u64 = 100_000;

code_enum! {
    /// Where an upload job is.
    pub enum ImportJobState {
        /// Accepted, waiting for the worker.
        Queued = ("queued", "排队中", "Queued"),
        /// Reading and storing rows.
        Running = ("running", "导入中", "Running"),
        /// Every row read; good rows stored, bad rows in the report.
        Done = ("done", "已完成", "Done"),
        /// Stopped by an error of the file or the store (the job's error says which).
        Failed = ("failed", "失败", "Failed"),
        /// The server stopped before the job finished; stored batches stay stored.
        Interrupted = ("interrupted", "已中断", "Interrupted"),
    }
}

impl ImportJobState {
    /// Whether the job will not change any more.
    pub fn is_finished(self) -> bool {
        match self {
            ImportJobState::Queued | ImportJobState::Running => false,
            ImportJobState::Done | ImportJobState::Failed | ImportJobState::Interrupted => true,
        }
    }

    /// The state a job found at server start is left in: unfinished work belongs to a server
    /// that is gone, so it is interrupted rather than resumed behind the user's back.
    pub fn after_restart(self) -> ImportJobState {
        if self.is_finished() {
            self
        } else {
            ImportJobState::Interrupted
        }
    }

    /// Whether a job may move from this state to `next` (the worker's only moves).
    pub fn may_become(self, next: ImportJobState) -> bool {
        use ImportJobState as S;
        match (self, next) {
            (S::Queued, S::Running | S::Failed | S::Interrupted) => true,
            (S::Running, S::Running | S::Done | S::Failed | S::Interrupted) => true,
            (S::Queued, _) | (S::Running, _) => false,
            (S::Done | S::Failed | S::Interrupted, _) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ImportJobState as S;

    #[test]
    fn unfinished_jobs_are_interrupted_by_a_restart_and_finished_ones_kept() {
        assert_eq!(S::Queued.after_restart(), S::Interrupted);
        assert_eq!(S::Running.after_restart(), S::Interrupted);
        assert_eq!(S::Done.after_restart(), S::Done);
        assert_eq!(S::Failed.after_restart(), S::Failed);
    }

    #[test]
    fn a_finished_job_never_changes_state_again() {
        for from in [S::Done, S::Failed, S::Interrupted] {
            for to in S::ALL {
                assert!(!from.may_become(*to), "{from:?} -> {to:?}");
            }
        }
        assert!(S::Queued.may_become(S::Running));
        assert!(S::Running.may_become(S::Done));
        assert!(!S::Queued.may_become(S::Done));
    }

    #[test]
    fn every_state_round_trips_through_its_code() {
        for s in S::ALL {
            assert_eq!(S::from_code(s.code()), Some(*s));
        }
    }
}
