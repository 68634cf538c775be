//! Events: what each step did (who, when, from which state to which). The timeline is the list of
//! an order's events, and `replay` rebuilds the stored order from it, so the audit trail cannot
//! drift from the order row.

use chrono::{DateTime, Utc};

use super::catalogue::SubCategoryCode;
use super::major::MajorReason;
use super::order::{
    Assignment, CustomerRating, Intake, Order, ReturnRecord, SendBack, Supervision,
    SuspensionRecord, Visit,
};
use super::reply::Reply;
use super::vocab::{
    Action, AppealType, Priority, ReturnReason, Satisfaction, State, SuspendReason,
};
use crate::ids::StaffId;
use crate::org::{DepartmentKind, OrgPath};

/// One step of an order's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The order's version after this event (1 for the intake).
    pub version: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: StaffId,
    /// The state before (none for the intake).
    pub from: Option<State>,
    /// The state after.
    pub to: State,
    /// What happened.
    pub kind: EventKind,
}

/// What a step did, with the data it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// 受理: the appeal was taken.
    Opened(Box<Intake>),
    /// 派单: sent to a host unit; the reason is set when the suggestion was overridden.
    Dispatched {
        /// Host unit and department.
        assignment: Assignment,
        /// Why the five-principles suggestion was not followed.
        override_reason: Option<String>,
    },
    /// 改类: type and sub-category corrected before dispatch.
    Reclassified {
        /// New appeal type.
        appeal_type: AppealType,
        /// New sub-category.
        sub_category: SubCategoryCode,
        /// Its department.
        department: DepartmentKind,
        /// Set when the new sub-category makes the order major.
        major: Option<MajorReason>,
    },
    /// 接单.
    Accepted,
    /// 回退 to the dispatcher.
    Returned {
        /// The unit that returned it.
        unit: OrgPath,
        /// Why.
        reason: ReturnReason,
        /// Explanation.
        text: Option<String>,
    },
    /// 催办.
    Chased {
        /// What the chaser asked.
        note: Option<String>,
    },
    /// 督办.
    Supervised {
        /// Why.
        reason: String,
    },
    /// 回复.
    Replied(Box<Reply>),
    /// 审核通过.
    Approved,
    /// 审核退回.
    SentBack {
        /// What must change.
        reason: String,
    },
    /// 回访 (one call; `to` says whether the visit is over).
    Visited(Visit),
    /// 重新打开.
    Reopened {
        /// Why.
        reason: String,
    },
    /// 归档.
    Archived,
    /// 协办 unit added.
    AssistAdded {
        /// The assisting unit.
        unit: OrgPath,
    },
    /// Flagged major by hand.
    FlaggedMajor(MajorReason),
    /// 联系客户: the host unit reached the customer.
    Contacted {
        /// What was agreed.
        note: Option<String>,
    },
    /// 到达现场: the repair crew arrived.
    Arrived {
        /// What the crew found.
        note: Option<String>,
    },
    /// 挂起: the clock stopped.
    Suspended {
        /// Why.
        reason: SuspendReason,
        /// Explanation.
        text: Option<String>,
    },
    /// 解除挂起: the clock runs again.
    Resumed {
        /// What changed.
        note: Option<String>,
    },
    /// 客户评价: the customer rated the answer through the self-service portal.
    CustomerRated {
        /// The rating.
        satisfaction: Satisfaction,
        /// The customer's words.
        comment: Option<String>,
    },
}

impl EventKind {
    /// The action that produced this event (none for the intake).
    pub fn action(&self) -> Option<Action> {
        Some(match self {
            EventKind::Opened(_) => return None,
            EventKind::Dispatched { .. } => Action::Dispatch,
            EventKind::Reclassified { .. } => Action::Reclassify,
            EventKind::Accepted => Action::Accept,
            EventKind::Returned { .. } => Action::Return,
            EventKind::Chased { .. } => Action::Chase,
            EventKind::Supervised { .. } => Action::Supervise,
            EventKind::Replied(_) => Action::Reply,
            EventKind::Approved | EventKind::SentBack { .. } => Action::Review,
            EventKind::Visited(_) => Action::Visit,
            EventKind::Reopened { .. } => Action::Reopen,
            EventKind::Archived => Action::Archive,
            EventKind::AssistAdded { .. } => Action::AddAssist,
            EventKind::FlaggedMajor(_) => Action::FlagMajor,
            EventKind::Contacted { .. } => Action::Contact,
            EventKind::Arrived { .. } => Action::Arrive,
            EventKind::Suspended { .. } => Action::Suspend,
            EventKind::Resumed { .. } => Action::Resume,
            EventKind::CustomerRated { .. } => Action::CustomerRate,
        })
    }
}

/// The order after `event`. Decisions were taken by `apply`; this only records them, so
/// replaying stored events never re-runs rules that may have changed since.
pub fn evolve(order: &Order, event: &Event) -> Order {
    let mut o = order.clone();
    o.state = event.to;
    o.version = event.version;
    o.updated_at = event.at;
    // Leaving the unit's hands (reply, return) ends a suspension: the clock it stopped belongs
    // to the unit's work.
    if matches!(
        event.kind,
        EventKind::Replied(_) | EventKind::Returned { .. } | EventKind::Resumed { .. }
    ) {
        o.end_suspension(event.at);
    }
    match &event.kind {
        EventKind::Opened(intake) => {
            // An intake starts an order afresh; `replay` refuses a second one.
            return Order::from_intake(intake, event.actor, event.at);
        }
        EventKind::Dispatched { assignment, .. } => {
            o.assisting.retain(|u| u != &assignment.unit);
            o.host = Some(assignment.clone());
            o.dispatcher = Some(event.actor);
            o.handler = None;
            o.dispatched_at = Some(event.at);
        }
        EventKind::Reclassified {
            appeal_type,
            sub_category,
            department,
            major,
        } => {
            o.appeal_type = *appeal_type;
            o.sub_category = sub_category.clone();
            o.department = *department;
            if o.major.is_none() && major.is_some() {
                o.major = major.clone();
                o.priority = Priority::Major;
            }
        }
        EventKind::Accepted => o.handler = Some(event.actor),
        EventKind::Returned { unit, reason, text } => {
            o.returns.push(ReturnRecord {
                at: event.at,
                by: event.actor,
                unit: unit.clone(),
                reason: *reason,
                text: text.clone(),
            });
            o.host = None;
            o.handler = None;
        }
        EventKind::Chased { .. } => o.chase_count = o.chase_count.saturating_add(1),
        EventKind::Supervised { reason } => o.supervisions.push(Supervision {
            at: event.at,
            by: event.actor,
            reason: reason.clone(),
        }),
        EventKind::Replied(reply) => {
            o.reply = Some((**reply).clone());
            o.replied_by = Some(event.actor);
        }
        EventKind::Approved => o.reviewed_at = Some(event.at),
        EventKind::SentBack { reason } => {
            o.send_backs.push(SendBack {
                at: event.at,
                by: event.actor,
                reason: reason.clone(),
            });
            o.reply = None;
            o.replied_by = None;
        }
        EventKind::Visited(visit) => {
            o.visit_attempts = o.visit_attempts.saturating_add(1);
            if event.to == State::Visited {
                o.visit = Some(visit.clone());
            }
        }
        EventKind::Reopened { .. } => {
            o.reopen_count = o.reopen_count.saturating_add(1);
            // A reopened appeal is a new round for the customer: its clocks start again.
            o.clock_from = event.at;
            o.contacted_at = None;
            o.arrived_at = None;
            o.reviewed_at = None;
            o.host = None;
            o.handler = None;
            o.reply = None;
            o.replied_by = None;
            o.visit = None;
            o.visit_attempts = 0;
            o.customer_rating = None;
        }
        EventKind::Archived => o.archived_at = Some(event.at),
        EventKind::AssistAdded { unit } => o.assisting.push(unit.clone()),
        EventKind::FlaggedMajor(reason) => {
            o.major = Some(reason.clone());
            o.priority = Priority::Major;
        }
        EventKind::Contacted { .. } => {
            o.contacted_at.get_or_insert(event.at);
            o.contact_count = o.contact_count.saturating_add(1);
        }
        EventKind::Arrived { .. } => o.arrived_at = Some(event.at),
        EventKind::Suspended { reason, text } => o.suspensions.push(SuspensionRecord {
            from: event.at,
            until: None,
            reason: *reason,
            text: text.clone(),
            by: event.actor,
        }),
        EventKind::Resumed { .. } => {}
        EventKind::CustomerRated {
            satisfaction,
            comment,
        } => {
            o.customer_rating = Some(CustomerRating {
                at: event.at,
                satisfaction: *satisfaction,
                comment: comment.clone(),
            });
        }
    }
    o
}

/// Why a timeline cannot be replayed into an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// No events at all.
    #[error("the timeline is empty; an order starts with its intake event")]
    Empty,
    /// The first event is not the intake.
    #[error("the timeline must start with the intake event, not with version {version}")]
    NotOpenedFirst {
        /// Version of the first event.
        version: u64,
    },
    /// An intake event after the first.
    #[error("event version {version} is a second intake; an order is taken once")]
    OpenedTwice {
        /// Its version.
        version: u64,
    },
    /// A missing or repeated version.
    #[error("expected event version {expected}, found {found}; the timeline has a gap")]
    VersionGap {
        /// The version that should come next.
        expected: u64,
        /// The version found.
        found: u64,
    },
}

/// Rebuilds an order from its whole timeline, oldest event first.
pub fn replay(events: &[Event]) -> Result<Order, ReplayError> {
    let (first, rest) = events.split_first().ok_or(ReplayError::Empty)?;
    let EventKind::Opened(intake) = &first.kind else {
        return Err(ReplayError::NotOpenedFirst {
            version: first.version,
        });
    };
    if first.version != 1 {
        return Err(ReplayError::VersionGap {
            expected: 1,
            found: first.version,
        });
    }
    let mut order = Order::from_intake(intake, first.actor, first.at);
    for e in rest {
        if matches!(e.kind, EventKind::Opened(_)) {
            return Err(ReplayError::OpenedTwice { version: e.version });
        }
        if e.version != order.version + 1 {
            return Err(ReplayError::VersionGap {
                expected: order.version + 1,
                found: e.version,
            });
        }
        order = evolve(&order, e);
    }
    Ok(order)
}
