//! An order's progress in the customer's words (the self-service portal): where it stands and
//! the steps a customer is told about. Internal steps (chasing, supervision, reviews sent back,
//! assisting units, suspensions) and everything about the staff stay out.

use chrono::{DateTime, Utc};

use super::event::{Event, EventKind};
use super::vocab::State;
use crate::code_enum;

code_enum! {
    /// Where an appeal stands, as the customer is told.
    pub enum CustomerStatus {
        /// Waiting for the centre to pass it to a unit.
        Arranging = ("arranging", "正在安排处理", "Being arranged"),
        /// A unit is working on it.
        Handling = ("handling", "处理中", "Being handled"),
        /// The answer has been given (the customer may rate it).
        Answered = ("answered", "已答复", "Answered"),
        /// Closed for good.
        Closed = ("closed", "已办结", "Closed"),
    }
}

code_enum! {
    /// One step of the progress a customer sees.
    pub enum CustomerStep {
        /// 受理.
        Received = ("received", "诉求已受理", "Appeal received"),
        /// 派单.
        Assigned = ("assigned", "已转交供电单位处理", "Passed to the local power supply unit"),
        /// 回退: the centre looks for the right unit again.
        Reassigning = ("reassigning", "正在重新安排处理单位", "Being passed to the right unit"),
        /// 接单.
        Handling = ("handling", "工作人员已开始处理", "Staff started working on it"),
        /// 联系客户.
        Contacted = ("contacted", "工作人员已与您联系", "Staff contacted you"),
        /// 到达现场.
        OnSite = ("on_site", "抢修人员已到达现场", "The repair crew arrived on site"),
        /// 审核通过: the answer is final.
        Answered = ("answered", "处理结果已答复", "Answer given"),
        /// 回访 finished.
        Visited = ("visited", "服务中心已回访", "Follow-up call made"),
        /// 重新打开.
        Reopened = ("reopened", "已重新处理", "Reopened for further handling"),
        /// 客户评价.
        Rated = ("rated", "您已评价", "You rated the answer"),
        /// 归档.
        Closed = ("closed", "已办结", "Closed"),
    }
}

/// Where an order in `state` stands for the customer.
pub fn customer_status(state: State) -> CustomerStatus {
    match state {
        State::PendingDispatch | State::Returned | State::Reopened => CustomerStatus::Arranging,
        State::Dispatched | State::InProgress | State::SentBack | State::Replied => {
            CustomerStatus::Handling
        }
        State::Reviewed | State::Visited => CustomerStatus::Answered,
        State::Archived => CustomerStatus::Closed,
    }
}

/// Whether the customer may see the answer: once the centre approved it (a reply waiting for
/// review may still be sent back).
pub fn answer_is_final(state: State) -> bool {
    matches!(state, State::Reviewed | State::Visited | State::Archived)
}

/// The step an event is for the customer, if it is one they are told about.
pub fn customer_step(event: &Event) -> Option<CustomerStep> {
    match &event.kind {
        EventKind::Opened(_) => Some(CustomerStep::Received),
        EventKind::Dispatched { .. } => Some(CustomerStep::Assigned),
        EventKind::Returned { .. } => Some(CustomerStep::Reassigning),
        EventKind::Accepted => Some(CustomerStep::Handling),
        EventKind::Contacted { .. } => Some(CustomerStep::Contacted),
        EventKind::Arrived { .. } => Some(CustomerStep::OnSite),
        EventKind::Approved => Some(CustomerStep::Answered),
        // Calls without an answer leave the visit open: only the finished one is a step.
        EventKind::Visited(_) => (event.to == State::Visited).then_some(CustomerStep::Visited),
        EventKind::Reopened { .. } => Some(CustomerStep::Reopened),
        EventKind::CustomerRated { .. } => Some(CustomerStep::Rated),
        EventKind::Archived => Some(CustomerStep::Closed),
        // A reply is not the answer until approved; the rest is the centre's own business.
        EventKind::Replied(_)
        | EventKind::SentBack { .. }
        | EventKind::Reclassified { .. }
        | EventKind::Chased { .. }
        | EventKind::Supervised { .. }
        | EventKind::AssistAdded { .. }
        | EventKind::FlaggedMajor(_)
        | EventKind::Suspended { .. }
        | EventKind::Resumed { .. } => None,
    }
}

/// The steps of a timeline (oldest first) a customer sees, each with its instant; a step that
/// repeats the one before it (a second contact call) is shown once.
pub fn customer_steps(events: &[Event]) -> Vec<(DateTime<Utc>, CustomerStep)> {
    let mut steps: Vec<(DateTime<Utc>, CustomerStep)> = Vec::new();
    for e in events {
        let Some(step) = customer_step(e) else {
            continue;
        };
        if steps.last().is_some_and(|(_, last)| *last == step) {
            continue;
        }
        steps.push((e.at, step));
    }
    steps
}
