//! The state machine: `apply(order, command, actor, now)` decides and returns events, or refuses
//! with a typed error. Who may do what, and when, is written here once (see the module table).

use chrono::{DateTime, DurationRound, Utc};

use super::command::{Command, ReviewDecision};
use super::error::WorkOrderError;
use super::event::{Event, EventKind};
use super::major::{MAX_MAJOR_REASON_LEN, MajorReason};
use super::order::{ActorCtx, Assignment, Intake, Order, Visit};
use super::reply::Reply;
use super::vocab::{Action, AppealType, ContactResult, ReturnReason, Satisfaction, State};
use crate::FieldError;
use crate::auth::Role;
use crate::org::OrgPath;

/// The longest reason (override, return, send-back, supervise, reopen).
pub const MAX_REASON_LEN: usize = 500;
/// The longest chase note or visit comment.
pub const MAX_NOTE_LEN: usize = 1000;
/// The most returns one order may collect before a supervisor must sort it out.
pub const MAX_RETURNS: usize = 20;
/// The most reviews sent back on one order.
pub const MAX_SEND_BACKS: usize = 20;
/// The most chases counted on one order.
pub const MAX_CHASES: u32 = 999;
/// The most supervisors watching one order.
pub const MAX_SUPERVISIONS: usize = 10;
/// The most assisting units on one order.
pub const MAX_ASSISTING_UNITS: usize = 10;
/// The most reopenings of one order.
pub const MAX_REOPENS: u32 = 10;
/// Calls without an answer after which the visit ends as "not reached".
pub const MAX_VISIT_ATTEMPTS: u32 = 3;
/// The most suspensions of one order (each stops the clock; a supervisor sorts out more).
pub const MAX_SUSPENSIONS: usize = 20;
/// The most contact records of one order.
pub const MAX_CONTACTS: u32 = 50;

/// The roles that may take an appeal (受理): agents, and customer managers for their customers.
/// The self-service portal's account takes the appeals customers submit themselves.
pub const INTAKE_ROLES: &[Role] = &[Role::Agent, Role::CustomerManager, Role::SelfService];

/// The actions possible in a state; anything else is an `IllegalTransition`.
pub fn allowed_actions(state: State) -> Vec<Action> {
    use Action as A;
    let specific: &[Action] = match state {
        State::PendingDispatch | State::Returned | State::Reopened => &[A::Dispatch, A::Reclassify],
        State::Dispatched => &[A::Accept, A::Return, A::Dispatch, A::AddAssist],
        State::InProgress => &[
            A::Reply,
            A::Return,
            A::AddAssist,
            A::Contact,
            A::Arrive,
            A::Suspend,
            A::Resume,
        ],
        State::SentBack => &[A::Reply, A::AddAssist, A::Contact, A::Suspend, A::Resume],
        State::Replied => &[A::Review],
        State::Reviewed => &[A::Visit, A::CustomerRate],
        State::Visited => &[A::Archive, A::Reopen, A::CustomerRate],
        State::Archived => return Vec::new(),
    };
    // Chasing, supervision and flagging are possible at any step until archive.
    let mut all = specific.to_vec();
    all.extend([A::Chase, A::Supervise, A::FlagMajor]);
    all
}

/// The states an allowed action can lead to (empty when the action is not allowed).
pub fn targets(state: State, action: Action) -> Vec<State> {
    if !allowed_actions(state).contains(&action) {
        return Vec::new();
    }
    match action {
        Action::Dispatch => vec![State::Dispatched],
        Action::Accept => vec![State::InProgress],
        Action::Return => vec![State::Returned],
        Action::Reply => vec![State::Replied],
        Action::Review => vec![State::Reviewed, State::SentBack],
        Action::Visit => vec![State::Reviewed, State::Visited],
        Action::Reopen => vec![State::Reopened],
        Action::Archive => vec![State::Archived],
        Action::Reclassify
        | Action::Chase
        | Action::Supervise
        | Action::AddAssist
        | Action::FlagMajor
        | Action::Contact
        | Action::Arrive
        | Action::Suspend
        | Action::Resume
        | Action::CustomerRate => vec![state],
        Action::Intake => Vec::new(),
    }
}

/// The roles that may perform an action (for `Reopen`, see `apply`: non-supervisors need a
/// dissatisfied customer).
pub fn roles_for(action: Action) -> &'static [Role] {
    match action {
        Action::Intake => INTAKE_ROLES,
        Action::Dispatch | Action::Reclassify | Action::AddAssist | Action::Review => {
            &[Role::Dispatcher]
        }
        Action::Accept
        | Action::Return
        | Action::Reply
        | Action::Contact
        | Action::Arrive
        | Action::Suspend => &[Role::Handler],
        // A supervisor may restart a clock a unit forgot to restart.
        Action::Resume => &[Role::Handler, Role::Supervisor],
        Action::Chase => &[Role::Agent, Role::Supervisor],
        Action::Supervise => &[Role::Supervisor],
        Action::Visit => &[Role::Agent],
        Action::Reopen | Action::FlagMajor => &[Role::Agent, Role::Dispatcher, Role::Supervisor],
        Action::Archive => &[Role::Agent, Role::Dispatcher],
        Action::CustomerRate => &[Role::SelfService],
    }
}

fn require_roles(actor: &ActorCtx, action: Action, roles: &[Role]) -> Result<(), WorkOrderError> {
    if roles.iter().any(|r| actor.roles.has(*r)) {
        Ok(())
    } else {
        Err(WorkOrderError::RoleNotAllowed {
            action,
            needs: roles.to_vec(),
        })
    }
}

fn require_scope(actor: &ActorCtx, action: Action, unit: &OrgPath) -> Result<(), WorkOrderError> {
    if actor.unit.contains(unit) {
        Ok(())
    } else {
        Err(WorkOrderError::OutOfScope {
            action,
            unit: unit.as_str().to_owned(),
            yours: actor.unit.as_str().to_owned(),
        })
    }
}

/// Handlers act for the host unit: they belong to it (or to a unit below it) and, when their
/// unit has departments, to the assigned department.
fn require_host_handler(
    order: &Order,
    actor: &ActorCtx,
    action: Action,
) -> Result<(), WorkOrderError> {
    let Some(host) = &order.host else {
        // Unreachable while the state gates are right: units act only on dispatched orders.
        return Err(illegal(order.state, action));
    };
    if !host.unit.contains(&actor.unit) {
        return Err(WorkOrderError::NotHostUnit {
            action,
            host: host.unit.as_str().to_owned(),
        });
    }
    match actor.department {
        Some(d) if d != host.department => Err(WorkOrderError::WrongDepartment {
            action,
            assigned: host.department,
        }),
        _ => Ok(()),
    }
}

fn illegal(state: State, action: Action) -> WorkOrderError {
    WorkOrderError::IllegalTransition {
        state,
        action,
        allowed: allowed_actions(state),
    }
}

/// A trimmed text of at most `max` characters; `None` when empty.
fn text(field: &str, raw: &str, max: usize) -> Result<Option<String>, WorkOrderError> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(WorkOrderError::Invalid(vec![FieldError::new(
            field,
            format!("at most {max} characters"),
        )]));
    }
    Ok((!t.is_empty()).then(|| t.to_owned()))
}

/// Like `text`, but the text is required and `what` says what to write.
fn required(field: &str, raw: &str, max: usize, what: &str) -> Result<String, WorkOrderError> {
    text(field, raw, max)?
        .ok_or_else(|| WorkOrderError::Invalid(vec![FieldError::new(field, what.to_owned())]))
}

fn limit(reached: bool, what: &'static str, limit: u64) -> Result<(), WorkOrderError> {
    if reached {
        Err(WorkOrderError::LimitReached { what, limit })
    } else {
        Ok(())
    }
}

/// Refuses a command made on an out-of-date read of the order (two dispatchers, one wins).
pub fn check_version(order: &Order, expected: u64) -> Result<(), WorkOrderError> {
    if order.version == expected {
        Ok(())
    } else {
        Err(WorkOrderError::StaleVersion {
            expected,
            current: order.version,
        })
    }
}

/// Takes an appeal: the acting agent becomes its owner (首问负责制).
pub fn open(intake: Intake, actor: &ActorCtx, now: DateTime<Utc>) -> Result<Event, WorkOrderError> {
    require_roles(actor, Action::Intake, roles_for(Action::Intake))?;
    Ok(Event {
        version: 1,
        at: now,
        actor: actor.staff,
        from: None,
        to: State::PendingDispatch,
        kind: EventKind::Opened(Box::new(intake)),
    })
}

/// Decides a command against the order: the events to append, or why not.
pub fn apply(
    order: &Order,
    cmd: Command,
    actor: &ActorCtx,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, WorkOrderError> {
    let action = cmd.action();
    require_roles(actor, action, roles_for(action))?;
    if !allowed_actions(order.state).contains(&action) {
        return Err(illegal(order.state, action));
    }
    let state = order.state;
    let (to, kind) = match cmd {
        Command::Dispatch {
            unit,
            department,
            override_reason,
        } => {
            require_scope(actor, action, order.home_unit())?;
            require_scope(actor, action, &unit)?;
            let assignment = Assignment { unit, department };
            if order.host.as_ref() == Some(&assignment) {
                return Err(WorkOrderError::Invalid(vec![FieldError::new(
                    "unit",
                    "the order is already dispatched there; pick another unit or department",
                )]));
            }
            let reason = text("override_reason", &override_reason, MAX_REASON_LEN)?;
            let suggested = order.suggestion();
            if assignment != suggested && reason.is_none() {
                return Err(WorkOrderError::Invalid(vec![FieldError::new(
                    "override_reason",
                    format!(
                        "the five principles suggest unit {} and the {} department; give a \
                         reason to dispatch elsewhere",
                        suggested.unit.as_str(),
                        suggested.department
                    ),
                )]));
            }
            let override_reason = if assignment == suggested {
                None
            } else {
                reason
            };
            (
                State::Dispatched,
                EventKind::Dispatched {
                    assignment,
                    override_reason,
                },
            )
        }
        Command::Reclassify {
            sub_category,
            major,
        } => {
            require_scope(actor, action, order.home_unit())?;
            if sub_category.code == order.sub_category {
                return Err(WorkOrderError::Invalid(vec![FieldError::new(
                    "sub_category",
                    "the order already has this sub-category; pick another one",
                )]));
            }
            (
                state,
                EventKind::Reclassified {
                    appeal_type: sub_category.appeal_type,
                    sub_category: sub_category.code,
                    department: sub_category.department,
                    major: if order.major.is_none() { major } else { None },
                },
            )
        }
        Command::Accept => {
            require_host_handler(order, actor, action)?;
            (State::InProgress, EventKind::Accepted)
        }
        Command::Return { reason, text: t } => {
            require_host_handler(order, actor, action)?;
            let t = text("text", &t, MAX_REASON_LEN)?;
            if reason == ReturnReason::Other && t.is_none() {
                return Err(WorkOrderError::Invalid(vec![FieldError::new(
                    "text",
                    "explain the return when the reason is 'other'",
                )]));
            }
            limit(
                order.returns.len() >= MAX_RETURNS,
                "returns",
                MAX_RETURNS as u64,
            )?;
            let unit = order.home_unit().clone();
            (
                State::Returned,
                EventKind::Returned {
                    unit,
                    reason,
                    text: t,
                },
            )
        }
        Command::Chase { note } => {
            require_scope(actor, action, order.home_unit())?;
            let note = text("note", &note, MAX_NOTE_LEN)?;
            limit(
                order.chase_count >= MAX_CHASES,
                "chases",
                u64::from(MAX_CHASES),
            )?;
            (state, EventKind::Chased { note })
        }
        Command::Supervise { reason } => {
            require_scope(actor, action, order.home_unit())?;
            let reason = required("reason", &reason, MAX_REASON_LEN, "say why you supervise")?;
            if order.supervisions.iter().any(|s| s.by == actor.staff) {
                return Err(WorkOrderError::AlreadySupervised);
            }
            limit(
                order.supervisions.len() >= MAX_SUPERVISIONS,
                "supervisors",
                MAX_SUPERVISIONS as u64,
            )?;
            (state, EventKind::Supervised { reason })
        }
        Command::Reply(input) => {
            require_host_handler(order, actor, action)?;
            let mut reply = Reply::validate(input, order.appeal_type, now);
            // People enter the handling time to the minute: the minute the appeal was taken
            // counts as after it.
            let taken_minute = order
                .opened_at
                .duration_trunc(chrono::Duration::minutes(1))
                .unwrap_or(order.opened_at);
            if let Ok(r) = &reply
                && r.handled_at < taken_minute
            {
                reply = Err(vec![FieldError::new(
                    "handled_at",
                    "the handling time is before the appeal was taken; give the time the \
                     work was done",
                )]);
            }
            let reply = reply.map_err(WorkOrderError::Invalid)?;
            (State::Replied, EventKind::Replied(Box::new(reply)))
        }
        Command::Review(decision) => {
            require_scope(actor, action, order.home_unit())?;
            if order.replied_by == Some(actor.staff) {
                return Err(WorkOrderError::OwnReply);
            }
            match decision {
                ReviewDecision::Approve => (State::Reviewed, EventKind::Approved),
                ReviewDecision::SendBack { reason } => {
                    let reason = required(
                        "reason",
                        &reason,
                        MAX_REASON_LEN,
                        "say what must change in the reply",
                    )?;
                    limit(
                        order.send_backs.len() >= MAX_SEND_BACKS,
                        "send-backs",
                        MAX_SEND_BACKS as u64,
                    )?;
                    (State::SentBack, EventKind::SentBack { reason })
                }
            }
        }
        Command::Visit {
            contact,
            satisfaction,
            comment,
        } => {
            require_scope(actor, action, order.home_unit())?;
            let comment = text("comment", &comment, MAX_NOTE_LEN)?;
            match (contact, satisfaction) {
                (ContactResult::Reached, None) => {
                    return Err(WorkOrderError::Invalid(vec![FieldError::new(
                        "satisfaction",
                        "record the customer's rating from 1 (很不满意) to 5 (很满意)",
                    )]));
                }
                (c, Some(_)) if c != ContactResult::Reached => {
                    return Err(WorkOrderError::Invalid(vec![FieldError::new(
                        "satisfaction",
                        "a rating is recorded only when the customer was reached",
                    )]));
                }
                _ => {}
            }
            let attempts = order.visit_attempts.saturating_add(1);
            let to = if contact.retry_later() && attempts < MAX_VISIT_ATTEMPTS {
                State::Reviewed
            } else {
                State::Visited
            };
            let visit = Visit {
                contact,
                satisfaction,
                comment,
            };
            (to, EventKind::Visited(visit))
        }
        Command::Reopen { reason } => {
            require_scope(actor, action, order.home_unit())?;
            // Either the rating given on the visit call or the one the customer gave online.
            let dissatisfied = order
                .visit
                .as_ref()
                .and_then(|v| v.satisfaction)
                .into_iter()
                .chain(order.customer_rating.as_ref().map(|r| r.satisfaction))
                .any(Satisfaction::is_dissatisfied);
            if !dissatisfied && !actor.roles.has(Role::Supervisor) {
                return Err(WorkOrderError::NotDissatisfied);
            }
            let reason = required("reason", &reason, MAX_REASON_LEN, "say why it is reopened")?;
            limit(
                order.reopen_count >= MAX_REOPENS,
                "reopenings",
                u64::from(MAX_REOPENS),
            )?;
            (State::Reopened, EventKind::Reopened { reason })
        }
        Command::Archive => {
            require_scope(actor, action, order.home_unit())?;
            (State::Archived, EventKind::Archived)
        }
        Command::AddAssist { unit } => {
            require_scope(actor, action, order.home_unit())?;
            require_scope(actor, action, &unit)?;
            if order.host.as_ref().is_some_and(|h| h.unit == unit)
                || order.assisting.contains(&unit)
            {
                return Err(WorkOrderError::Invalid(vec![FieldError::new(
                    "unit",
                    "this unit already hosts or assists the order; pick another unit",
                )]));
            }
            limit(
                order.assisting.len() >= MAX_ASSISTING_UNITS,
                "assisting units",
                MAX_ASSISTING_UNITS as u64,
            )?;
            (state, EventKind::AssistAdded { unit })
        }
        Command::FlagMajor { reason } => {
            require_scope(actor, action, order.home_unit())?;
            if order.major.is_some() {
                return Err(WorkOrderError::AlreadyMajor);
            }
            let reason = required(
                "reason",
                &reason,
                MAX_MAJOR_REASON_LEN,
                "say why the appeal is major",
            )?;
            (state, EventKind::FlaggedMajor(MajorReason::Manual(reason)))
        }
        Command::Contact { note } => {
            require_host_handler(order, actor, action)?;
            let note = text("note", &note, MAX_NOTE_LEN)?;
            limit(
                order.contact_count >= MAX_CONTACTS,
                "contact records",
                u64::from(MAX_CONTACTS),
            )?;
            (state, EventKind::Contacted { note })
        }
        Command::Arrive { note } => {
            require_host_handler(order, actor, action)?;
            if order.appeal_type != AppealType::FaultRepair {
                return Err(WorkOrderError::NotFaultRepair);
            }
            if order.arrived_at.is_some() {
                return Err(WorkOrderError::AlreadyArrived);
            }
            let note = text("note", &note, MAX_NOTE_LEN)?;
            (state, EventKind::Arrived { note })
        }
        Command::Suspend { reason, text: t } => {
            require_host_handler(order, actor, action)?;
            if order.is_suspended() {
                return Err(WorkOrderError::AlreadySuspended);
            }
            let t = text("text", &t, MAX_REASON_LEN)?;
            limit(
                order.suspensions.len() >= MAX_SUSPENSIONS,
                "suspensions",
                MAX_SUSPENSIONS as u64,
            )?;
            (state, EventKind::Suspended { reason, text: t })
        }
        Command::Resume { note } => {
            if actor.roles.has(Role::Supervisor) {
                require_scope(actor, action, order.home_unit())?;
            } else {
                require_host_handler(order, actor, action)?;
            }
            if !order.is_suspended() {
                return Err(WorkOrderError::NotSuspended);
            }
            let note = text("note", &note, MAX_NOTE_LEN)?;
            (state, EventKind::Resumed { note })
        }
        Command::CustomerRate {
            satisfaction,
            comment,
        } => {
            require_scope(actor, action, order.home_unit())?;
            if order.customer_rating.is_some() {
                return Err(WorkOrderError::AlreadyRated);
            }
            let comment = text("comment", &comment, MAX_NOTE_LEN)?;
            (
                state,
                EventKind::CustomerRated {
                    satisfaction,
                    comment,
                },
            )
        }
    };
    Ok(vec![Event {
        version: order.version + 1,
        at: now,
        actor: actor.staff,
        from: Some(state),
        to,
        kind,
    }])
}
