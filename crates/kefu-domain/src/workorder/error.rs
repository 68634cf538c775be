//! Why a command was refused: typed, HTTP-agnostic, each message saying what to do instead.

use super::vocab::{Action, State};
use crate::FieldError;
use crate::auth::Role;
use crate::org::DepartmentKind;

/// Why a command was refused. The API (`kefu-server/src/workorder`) answers `IllegalTransition`,
/// `StaleVersion`, the `Already*` variants and `LimitReached` with 409; `RoleNotAllowed`,
/// `NotHostUnit`, `WrongDepartment`, `OwnReply` and `NotDissatisfied` with 403; `OutOfScope` with
/// 404 (an order outside the caller's units is indistinguishable from a missing one); `Invalid`
/// with 400 naming every field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkOrderError {
    /// The action is not possible in the current state.
    #[error(
        "cannot {action} an order that is {state}; allowed now: {}",
        codes(allowed)
    )]
    IllegalTransition {
        /// Current state.
        state: State,
        /// What was tried.
        action: Action,
        /// What is possible now.
        allowed: Vec<Action>,
    },
    /// The actor holds none of the roles the action needs.
    #[error("{action} needs one of the roles: {}", codes(needs))]
    RoleNotAllowed {
        /// What was tried.
        action: Action,
        /// Roles that may do it.
        needs: Vec<Role>,
    },
    /// The order (or the target unit) lies outside the actor's unit.
    #[error(
        "your unit {yours} does not cover unit {unit}; only staff of a unit above it may {action}"
    )]
    OutOfScope {
        /// What was tried.
        action: Action,
        /// The unit out of reach.
        unit: String,
        /// The actor's unit.
        yours: String,
    },
    /// A handler outside the host unit tried to act for it.
    #[error(
        "the order is hosted by unit {host}; only its handlers (or those of a unit below it) may {action}"
    )]
    NotHostUnit {
        /// What was tried.
        action: Action,
        /// The host unit.
        host: String,
    },
    /// The order is assigned to another department of the unit.
    #[error("the order is assigned to the {assigned} department; only its handlers may {action}")]
    WrongDepartment {
        /// What was tried.
        action: Action,
        /// The department the order is assigned to.
        assigned: DepartmentKind,
    },
    /// A reviewer tried to review their own reply.
    #[error("you submitted this reply; another dispatcher must review it")]
    OwnReply,
    /// Only a supervisor reopens an order whose customer was not dissatisfied.
    #[error(
        "the customer was not dissatisfied (rating 1 or 2); only a supervisor may reopen this order"
    )]
    NotDissatisfied,
    /// The order is major already.
    #[error("the order is already major; nothing to flag")]
    AlreadyMajor,
    /// Arrival is recorded for fault repairs only.
    #[error("only fault-repair orders record an arrival on site")]
    NotFaultRepair,
    /// The crew's arrival is already recorded.
    #[error("the arrival on site is already recorded for this round")]
    AlreadyArrived,
    /// The clock is already stopped.
    #[error("the order is already suspended; resume it first")]
    AlreadySuspended,
    /// The clock is running.
    #[error("the order is not suspended; nothing to resume")]
    NotSuspended,
    /// The customer already rated this round's answer.
    #[error("the customer already rated this answer; a rating is given once per answer")]
    AlreadyRated,
    /// This supervisor already watches the order.
    #[error("you already supervise this order; it stays on your list until archived")]
    AlreadySupervised,
    /// The order changed since the client read it (optimistic concurrency: one writer wins).
    #[error(
        "the order changed since you read it (you had version {expected}, it is now {current}); \
         reload it and try again"
    )]
    StaleVersion {
        /// The version the client acted on.
        expected: u64,
        /// The order's version now.
        current: u64,
    },
    /// A per-order limit was reached.
    #[error("at most {limit} {what} per order; ask a supervisor to take the order in hand")]
    LimitReached {
        /// What is limited.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// Input fields are missing or wrong; each names its field.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
}

fn codes<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "nothing (the order is closed)".to_owned();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
