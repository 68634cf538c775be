//! Commands: one request per action a person can take on an existing order.

use super::catalogue::SubCategory;
use super::major::MajorReason;
use super::reply::ReplyInput;
use super::vocab::{Action, ContactResult, ReturnReason, Satisfaction, SuspendReason};
use crate::org::{DepartmentKind, OrgPath};

/// The centre's verdict on a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewDecision {
    /// 审核通过: the customer may be told; next is the visit.
    Approve,
    /// 审核退回: back to the host unit to reply again.
    SendBack {
        /// What must change in the reply.
        reason: String,
    },
}

/// A request to change an order; one per action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send (or re-send) to a host unit; a reason is needed when it differs from the suggestion.
    Dispatch {
        /// Host unit.
        unit: OrgPath,
        /// Department in charge.
        department: DepartmentKind,
        /// Why the suggestion is overridden (empty when following it).
        override_reason: String,
    },
    /// Correct the sub-category (the caller looked it up and assessed it against the rules).
    Reclassify {
        /// The new sub-category, from the catalogue.
        sub_category: SubCategory,
        /// `assess_major` of the new sub-category and the order's text.
        major: Option<MajorReason>,
    },
    /// The host unit takes the order.
    Accept,
    /// The host unit sends it back to the dispatcher.
    Return {
        /// Why.
        reason: ReturnReason,
        /// Explanation (required for `Other`).
        text: String,
    },
    /// Ask the holder to hurry.
    Chase {
        /// What was asked (optional).
        note: String,
    },
    /// Put the order under a supervisor's watch.
    Supervise {
        /// Why.
        reason: String,
    },
    /// Submit the reply.
    Reply(ReplyInput),
    /// Review the reply.
    Review(ReviewDecision),
    /// Record one follow-up call.
    Visit {
        /// Whether the customer was reached.
        contact: ContactResult,
        /// The rating (only when reached, and then required).
        satisfaction: Option<Satisfaction>,
        /// The customer's words.
        comment: String,
    },
    /// Reopen after the visit.
    Reopen {
        /// Why.
        reason: String,
    },
    /// Close for good.
    Archive,
    /// Add an assisting unit.
    AddAssist {
        /// The unit.
        unit: OrgPath,
    },
    /// Flag the order as major by hand.
    FlagMajor {
        /// Why.
        reason: String,
    },
    /// The host unit reached the customer (meets the contact limit).
    Contact {
        /// What was agreed (optional).
        note: String,
    },
    /// The repair crew arrived on site (fault repair; meets the arrive limit, starts restore).
    Arrive {
        /// What the crew found (optional).
        note: String,
    },
    /// Stop the clock for a reason the rules allow.
    Suspend {
        /// Why.
        reason: SuspendReason,
        /// Explanation (optional).
        text: String,
    },
    /// Start the clock again.
    Resume {
        /// What changed (optional).
        note: String,
    },
    /// The customer rates the approved answer (self-service portal).
    CustomerRate {
        /// The rating.
        satisfaction: Satisfaction,
        /// The customer's words (optional).
        comment: String,
    },
}

impl Command {
    /// The action this command performs.
    pub fn action(&self) -> Action {
        match self {
            Command::Dispatch { .. } => Action::Dispatch,
            Command::Reclassify { .. } => Action::Reclassify,
            Command::Accept => Action::Accept,
            Command::Return { .. } => Action::Return,
            Command::Chase { .. } => Action::Chase,
            Command::Supervise { .. } => Action::Supervise,
            Command::Reply(_) => Action::Reply,
            Command::Review(_) => Action::Review,
            Command::Visit { .. } => Action::Visit,
            Command::Reopen { .. } => Action::Reopen,
            Command::Archive => Action::Archive,
            Command::AddAssist { .. } => Action::AddAssist,
            Command::FlagMajor { .. } => Action::FlagMajor,
            Command::Contact { .. } => Action::Contact,
            Command::Arrive { .. } => Action::Arrive,
            Command::Suspend { .. } => Action::Suspend,
            Command::Resume { .. } => Action::Resume,
            Command::CustomerRate { .. } => Action::CustomerRate,
        }
    }
}
