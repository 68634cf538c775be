//! Work orders (工单, issue 4): one customer appeal tracked from intake to archive.
//!
//! Every change is `apply(order, command, actor, now) -> Result<Vec<Event>>`; the store appends
//! the events (the timeline) and saves `evolve`d order in one transaction, and `replay(timeline)`
//! rebuilds the stored order, so the audit trail and the row cannot disagree. Intake is
//! `Intake::validate` then `open`, whose event starts the timeline. Each event carries the
//! order's new version: the store writes `WHERE version = event.version - 1`, and a client that
//! sends the version it read is checked with `check_version`, so of two concurrent dispatches
//! exactly one wins.
//!
//! ## States and actions
//! Chase (催办), supervise (督办) and flag-major are allowed in every state but `archived`;
//! after archive nothing is (read-only).
//!
//! | state | specific actions | → next state |
//! |---|---|---|
//! | `pending_dispatch`, `returned`, `reopened` | dispatch, reclassify | dispatched, (same) |
//! | `dispatched` | accept, return, dispatch (re-send), add_assist | in_progress, returned, dispatched, (same) |
//! | `in_progress` | reply, return, add_assist, contact, arrive, suspend, resume | replied, returned, (same) |
//! | `sent_back` | reply, add_assist, contact, suspend, resume | replied, (same) |
//! | `replied` | review | reviewed (approve) or sent_back |
//! | `reviewed` | visit, customer_rate | visited, or reviewed again after no answer (max 3 calls); (same) |
//! | `visited` | archive, reopen, customer_rate | archived, reopened, (same) |
//! | `archived` | — | — |
//!
//! ## Who may act (roles from `auth::Role`, scope = actor's unit and the units below)
//! | action | roles | unit rule |
//! |---|---|---|
//! | intake | agent, customer manager, self-service portal | the actor becomes the owner (首问负责制) |
//! | dispatch, reclassify | dispatcher | order's unit and target unit in scope; leaving the five-principles suggestion needs a reason |
//! | add_assist | dispatcher | order's unit and the assisting unit in scope |
//! | accept, return, reply, contact, arrive, suspend | handler | actor's unit is the host unit or below it; actor's department, if any, is the assigned one |
//! | resume | handler (as above), supervisor | supervisor: order's unit in scope |
//! | chase | agent, supervisor | order's unit in scope |
//! | supervise | supervisor | order's unit in scope; once per supervisor |
//! | review | dispatcher (the centre) | order's unit in scope; not the staff member who replied |
//! | visit | agent (the centre) | order's unit in scope |
//! | reopen | agent, dispatcher if the customer rated 1–2; supervisor always | order's unit in scope |
//! | archive | agent, dispatcher | order's unit in scope |
//! | flag_major | agent, dispatcher, supervisor | order's unit in scope |
//! | customer_rate | self-service portal | order's unit in scope; once per answer |
//!
//! "Order's unit" is the host unit once dispatched, else the unit of the territory. Role is
//! checked first (403), then the state (409 naming the allowed actions), then unit, then input.
//!
//! ## Decisions
//! - A return sends the order back to the dispatcher (state `returned`); the host is cleared
//!   and the return joins the chain `Order::returns`, which is never cleared.
//! - A reopened order goes back to the dispatcher, not straight to the same unit: after a
//!   dissatisfied visit the dispatcher (who sees the returns and the visit) decides whether the
//!   same unit handles it again; the suggestion still names the unit of the territory.
//! - A sent-back reply is removed from the order (the timeline keeps it) so a standing reply
//!   always means "the current answer".
//! - A visit that gets no answer (or a busy line) leaves the order `reviewed` for another call;
//!   after `MAX_VISIT_ATTEMPTS` calls, or when the customer declines or the number is wrong, the
//!   visit ends without a rating, and only a supervisor may then reopen.
//! - The centre is not a node of the org tree: reviewers are dispatchers and visitors are agents
//!   whose unit covers the order (the province's 95598 centre covers every order).
//! - `apply` sees no catalogue or org tree: `Reclassify` carries the catalogue entry and its
//!   `assess_major`, and the caller (store/API) checks that units exist and have the department.
//! - Administrators configure the catalogue and rules, but do not act on orders.
//! - The customer rates the answer online (`customer_rate`) once the centre has approved it
//!   (`reviewed`) and until archive: the answer is "closed" for the customer when it is told,
//!   before the centre's visit call. One rating per answer (a reopening clears it, the timeline
//!   keeps it); it sits beside the visit's rating, and a dissatisfied one (1–2) lets agents and
//!   dispatchers reopen like a dissatisfied visit. The portal acts through its own system
//!   account (role `self_service`), the owner of the appeals customers submit.
//! - Suspension (挂起) is a flag on the order, not a state: the unit keeps the order and may
//!   still reply or return it (either ends the suspension). Only the reasons of `SuspendReason`
//!   exist, so the clock stops only for causes outside the unit's hands. Arrival on site is
//!   recorded once per round, for fault repairs only.
//! - Time limits are not decided here: `sla::schedule` reads the instants an order records
//!   (`clock_from`, `dispatched_at`, `contacted_at`, `arrived_at`, `reviewed_at`, suspensions)
//!   and the store keeps the deadlines it computes beside the row.

mod catalogue;
mod command;
mod error;
mod event;
mod machine;
mod major;
mod number;
mod order;
mod progress;
mod repeat;
mod reply;
mod vocab;

#[cfg(test)]
mod tests;

pub use catalogue::{
    Catalogue, Gravity, MAX_SUB_CATEGORIES, MAX_SUB_CATEGORY_CODE_LEN, MAX_SUB_CATEGORY_NAME_LEN,
    SubCategory, SubCategoryCode,
};
pub use command::{Command, ReviewDecision};
pub use error::WorkOrderError;
pub use event::{Event, EventKind, ReplayError, evolve, replay};
pub use machine::{
    INTAKE_ROLES, MAX_ASSISTING_UNITS, MAX_CHASES, MAX_CONTACTS, MAX_NOTE_LEN, MAX_REASON_LEN,
    MAX_REOPENS, MAX_RETURNS, MAX_SEND_BACKS, MAX_SUPERVISIONS, MAX_SUSPENSIONS,
    MAX_VISIT_ATTEMPTS, allowed_actions, apply, check_version, open, roles_for, targets,
};
pub use major::{
    DEFAULT_MAJOR_KEYWORDS, MAX_KEYWORD_LEN, MAX_MAJOR_KEYWORDS, MAX_MAJOR_REASON_LEN, MajorReason,
    MajorRules, assess_major,
};
pub use number::{
    IdempotencyKey, MAX_DAILY_SEQUENCE, MAX_IDEMPOTENCY_KEY_LEN, ORDER_NUMBER_PREFIX, OrderNumber,
};
pub use order::{
    ActorCtx, Assignment, Caller, CustomerRating, Intake, IntakeInput, MAX_CONTENT_LEN, Order,
    ReturnRecord, SendBack, Suggestion, Supervision, SuspensionRecord, Visit, suggest_dispatch,
};
pub use progress::{
    CustomerStatus, CustomerStep, answer_is_final, customer_status, customer_step, customer_steps,
};
pub use repeat::{
    AppealKey, Appellant, DEFAULT_REPEAT_WINDOW_DAYS, MAX_REPEAT_WINDOW_DAYS, is_repeat,
};
pub use reply::{
    CLOCK_SKEW_TOLERANCE_SECS, Compensation, Fault, MAX_CAUSE_LEN, MAX_COMPENSATION_FEN,
    MAX_HANDLER_LEN, MAX_PERSON_LEN, MAX_REPLY_TEXT_LEN, Reply, ReplyInput,
};
pub use vocab::{
    Action, AppealType, Channel, ContactResult, FaultFinding, Party, Priority, ReturnReason,
    Satisfaction, State, SuspendReason,
};
