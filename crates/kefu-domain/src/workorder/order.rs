//! The order itself: who appealed, what about, where it stands, and what each step recorded.
//! An `Order` is only ever built from its events (`evolve`), so it is plain data without setters.

use chrono::{DateTime, Utc};

use super::catalogue::{Catalogue, SubCategoryCode};
use super::major::{MAX_MAJOR_REASON_LEN, MajorReason, MajorRules, assess_major};
use super::number::{IdempotencyKey, OrderNumber};
use super::repeat::Appellant;
use super::reply::Reply;
use super::vocab::{
    AppealType, Channel, ContactResult, Priority, ReturnReason, Satisfaction, State, SuspendReason,
};
use crate::FieldError;
use crate::auth::Roles;
use crate::customer::{CustomerName, Grid, MAX_ADDRESS_LEN, Phone, ServiceGrade};
use crate::ids::{CustomerId, StaffId};
use crate::org::{DepartmentKind, OrgPath};

/// The longest appeal text (诉求内容).
pub const MAX_CONTENT_LEN: usize = 2000;

/// The person who appealed: an identified customer of the archive, or an unidentified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A customer found in the archive.
    Customer {
        /// The customer.
        id: CustomerId,
        /// The customer's supply unit (属地: it hosts the order).
        supply_unit: OrgPath,
        /// The number the customer called from or gave, if any.
        phone: Option<Phone>,
        /// Urban or rural supply, as archived at intake (picks fault-repair limits).
        grid: Option<Grid>,
        /// The customer's service grade at intake (limits may differ per grade).
        grade: Option<ServiceGrade>,
    },
    /// Someone not (yet) in the archive: phone, name and address are all the centre has.
    Unidentified {
        /// Call-back number.
        phone: Phone,
        /// Name as given.
        name: CustomerName,
        /// Address as given.
        address: String,
        /// The unit that owns the address (属地 for callers without an account).
        address_unit: OrgPath,
    },
}

impl Caller {
    /// The unit of the territory (属地管理): it hosts the order unless the dispatcher overrides.
    pub fn jurisdiction(&self) -> &OrgPath {
        match self {
            Caller::Customer { supply_unit, .. } => supply_unit,
            Caller::Unidentified { address_unit, .. } => address_unit,
        }
    }

    /// The caller as the repeat-appeal rule matches it.
    pub fn appellant(&self) -> Appellant {
        match self {
            Caller::Customer { id, phone, .. } => Appellant {
                customer: Some(*id),
                phone: phone.clone(),
            },
            Caller::Unidentified { phone, .. } => Appellant {
                customer: None,
                phone: Some(phone.clone()),
            },
        }
    }
}

/// What the intake form submits; checked by `Intake::validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeInput {
    /// The number the store allocated.
    pub number: OrderNumber,
    /// Where the appeal came in.
    pub channel: Channel,
    /// Who appealed.
    pub caller: Caller,
    /// The appeal type the agent chose.
    pub appeal_type: AppealType,
    /// The sub-category code the agent chose.
    pub sub_category: String,
    /// The appeal in the customer's words.
    pub content: String,
    /// Normal or urgent; `major` only together with a reason.
    pub priority: Priority,
    /// Why the agent flags the appeal as major by hand (empty: not flagged by hand).
    pub major_reason: String,
    /// Earlier orders this one repeats (found by the store with `is_repeat`).
    pub repeat_of: Vec<OrderNumber>,
    /// The client's idempotency key, if it sent one.
    pub idempotency_key: Option<IdempotencyKey>,
}

/// A valid intake: the first event of every order carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    /// Order number.
    pub number: OrderNumber,
    /// Channel.
    pub channel: Channel,
    /// Who appealed.
    pub caller: Caller,
    /// Appeal type.
    pub appeal_type: AppealType,
    /// Sub-category (belongs to `appeal_type`).
    pub sub_category: SubCategoryCode,
    /// The department in charge of the sub-category (谁主管、谁处理).
    pub department: DepartmentKind,
    /// The appeal text.
    pub content: String,
    /// Priority; `Major` exactly when `major` is set.
    pub priority: Priority,
    /// Why the appeal is major, if it is.
    pub major: Option<MajorReason>,
    /// Earlier orders this one repeats.
    pub repeat_of: Vec<OrderNumber>,
    /// Idempotency key.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl Intake {
    /// Checks the intake against the catalogue and classifies it against the major rules.
    pub fn validate(
        input: IntakeInput,
        catalogue: &Catalogue,
        rules: &MajorRules,
    ) -> Result<Intake, Vec<FieldError>> {
        let mut errors = Vec::new();
        let sub = match catalogue.lookup("sub_category", &input.sub_category) {
            Ok(s) if s.appeal_type != input.appeal_type => {
                errors.push(FieldError::new(
                    "sub_category",
                    format!(
                        "'{}' is a sub-category of '{}', not of '{}'; pick one of '{}'",
                        s.code, s.appeal_type, input.appeal_type, input.appeal_type
                    ),
                ));
                None
            }
            Ok(s) => Some(s),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let content = input.content.trim().to_owned();
        if content.is_empty() {
            errors.push(FieldError::new(
                "content",
                "write down the customer's appeal",
            ));
        } else if content.chars().count() > MAX_CONTENT_LEN {
            errors.push(FieldError::new(
                "content",
                format!("the appeal text has at most {MAX_CONTENT_LEN} characters"),
            ));
        }
        if let Caller::Unidentified { address, .. } = &input.caller {
            let n = address.trim().chars().count();
            if n == 0 || n > MAX_ADDRESS_LEN {
                errors.push(FieldError::new(
                    "caller.address",
                    format!(
                        "an unidentified caller needs an address of 1 to {MAX_ADDRESS_LEN} \
                         characters, so the order can go to the unit that owns it"
                    ),
                ));
            }
        }
        let manual = input.major_reason.trim();
        if manual.chars().count() > MAX_MAJOR_REASON_LEN {
            errors.push(FieldError::new(
                "major_reason",
                format!("a reason has at most {MAX_MAJOR_REASON_LEN} characters"),
            ));
        }
        if input.priority == Priority::Major && manual.is_empty() {
            errors.push(FieldError::new(
                "major_reason",
                "say why the appeal is major, or choose normal or urgent priority",
            ));
        }
        let (Some(sub), true) = (sub, errors.is_empty()) else {
            return Err(errors);
        };
        let major = if manual.is_empty() {
            assess_major(rules, sub, &content)
        } else {
            Some(MajorReason::Manual(manual.to_owned()))
        };
        let priority = if major.is_some() {
            Priority::Major
        } else {
            input.priority
        };
        Ok(Intake {
            number: input.number,
            channel: input.channel,
            caller: input.caller,
            appeal_type: sub.appeal_type,
            sub_category: sub.code.clone(),
            department: sub.department,
            content,
            priority,
            major,
            repeat_of: input.repeat_of,
            idempotency_key: input.idempotency_key,
        })
    }
}

/// The person acting: who, with which roles, in which unit and department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorCtx {
    /// The staff member.
    pub staff: StaffId,
    /// The roles held.
    pub roles: Roles,
    /// The unit the staff member belongs to; scope is this unit and those below.
    pub unit: OrgPath,
    /// The department inside the unit, if the unit has departments (a station has none).
    pub department: Option<DepartmentKind>,
}

/// The host unit (主办) and department an order is dispatched to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The host unit.
    pub unit: OrgPath,
    /// The department in charge.
    pub department: DepartmentKind,
}

/// One return (回退) in the order's chain of returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who returned it.
    pub by: StaffId,
    /// The unit that returned it.
    pub unit: OrgPath,
    /// Why.
    pub reason: ReturnReason,
    /// Explanation (required for `Other`).
    pub text: Option<String>,
}

/// A supervisor's watch (督办); it keeps the order on their list until archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervision {
    /// When.
    pub at: DateTime<Utc>,
    /// Which supervisor.
    pub by: StaffId,
    /// Why.
    pub reason: String,
}

/// A reply the centre refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendBack {
    /// When.
    pub at: DateTime<Utc>,
    /// Who reviewed.
    pub by: StaffId,
    /// What must change.
    pub reason: String,
}

/// A stretch during which the order's clock stood still (挂起).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensionRecord {
    /// When the clock stopped.
    pub from: DateTime<Utc>,
    /// When it started again; `None` while suspended.
    pub until: Option<DateTime<Utc>>,
    /// Why.
    pub reason: SuspendReason,
    /// Explanation.
    pub text: Option<String>,
    /// Who suspended it.
    pub by: StaffId,
}

/// The follow-up visit (回访) as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// Whether and how the customer was reached.
    pub contact: ContactResult,
    /// The customer's rating, when reached.
    pub satisfaction: Option<Satisfaction>,
    /// The customer's words.
    pub comment: Option<String>,
}

/// The customer's own rating of the answer, given through the self-service portal (beside the
/// centre's visit, which records what the customer said on the phone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRating {
    /// When.
    pub at: DateTime<Utc>,
    /// The rating.
    pub satisfaction: Satisfaction,
    /// The customer's words.
    pub comment: Option<String>,
}

/// The suggested host unit and department, with the rule that produced them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// Host unit by jurisdiction.
    pub unit: OrgPath,
    /// Department by sub-category.
    pub department: DepartmentKind,
    /// The five-principles reasoning, shown to the dispatcher.
    pub rule: String,
}

/// The five principles: the unit of the territory hosts (属地管理), the department in charge of
/// the business handles (谁主管、谁处理).
pub fn suggest_dispatch(
    catalogue: &Catalogue,
    sub_category: &SubCategoryCode,
    jurisdiction: &OrgPath,
) -> Result<Suggestion, FieldError> {
    let sub = catalogue.get(sub_category).ok_or_else(|| {
        FieldError::new(
            "sub_category",
            format!("unknown sub-category '{sub_category}'; pick one from the catalogue"),
        )
    })?;
    Ok(Suggestion {
        unit: jurisdiction.clone(),
        department: sub.department,
        rule: format!(
            "属地管理: the customer's or address's unit {} hosts; 谁主管、谁处理: {} ({}) is \
             handled by {} ({})",
            jurisdiction.as_str(),
            sub.name_zh,
            sub.code,
            sub.department.label_zh(),
            sub.department.code()
        ),
    })
}

/// One work order as it stands after its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Order number.
    pub number: OrderNumber,
    /// Current state.
    pub state: State,
    /// Number of events applied; the store's optimistic-concurrency check.
    pub version: u64,
    /// When the appeal was taken.
    pub opened_at: DateTime<Utc>,
    /// When the last event happened.
    pub updated_at: DateTime<Utc>,
    /// Channel.
    pub channel: Channel,
    /// Who appealed.
    pub caller: Caller,
    /// Appeal type.
    pub appeal_type: AppealType,
    /// Sub-category.
    pub sub_category: SubCategoryCode,
    /// The department in charge of the sub-category (the dispatch suggestion).
    pub department: DepartmentKind,
    /// The appeal text.
    pub content: String,
    /// Priority.
    pub priority: Priority,
    /// Why it is major, if it is.
    pub major: Option<MajorReason>,
    /// Earlier orders this one repeats.
    pub repeat_of: Vec<OrderNumber>,
    /// The intake's idempotency key.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The agent who took the appeal and owns it (首问负责制).
    pub owner: StaffId,
    /// Host unit and department while a unit holds the order.
    pub host: Option<Assignment>,
    /// Assisting units (协办).
    pub assisting: Vec<OrgPath>,
    /// The dispatcher who last dispatched it (returns go back to them).
    pub dispatcher: Option<StaffId>,
    /// The handler who accepted it.
    pub handler: Option<StaffId>,
    /// Every return, oldest first.
    pub returns: Vec<ReturnRecord>,
    /// How often it was chased (催办).
    pub chase_count: u32,
    /// Supervisors watching it (督办).
    pub supervisions: Vec<Supervision>,
    /// The current reply, while one stands.
    pub reply: Option<Reply>,
    /// Who submitted the current reply (may not review it).
    pub replied_by: Option<StaffId>,
    /// Every refused reply, oldest first.
    pub send_backs: Vec<SendBack>,
    /// Calls made for the current visit.
    pub visit_attempts: u32,
    /// The finished visit.
    pub visit: Option<Visit>,
    /// How often it was reopened.
    pub reopen_count: u32,
    /// When it was archived.
    pub archived_at: Option<DateTime<Utc>>,
    /// Where the customer's clocks start: the intake, or the last reopening.
    pub clock_from: DateTime<Utc>,
    /// When the host unit last received it (the return limit runs from here).
    pub dispatched_at: Option<DateTime<Utc>>,
    /// When the host unit first reached the customer in this round.
    pub contacted_at: Option<DateTime<Utc>>,
    /// How many contacts were recorded, over all rounds.
    pub contact_count: u32,
    /// When the repair crew arrived on site in this round.
    pub arrived_at: Option<DateTime<Utc>>,
    /// When the centre approved the reply (the visit limit runs from here).
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Every suspension, oldest first; at most the last one is open.
    pub suspensions: Vec<SuspensionRecord>,
    /// The customer's own rating of this round's answer (self-service).
    pub customer_rating: Option<CustomerRating>,
}

impl Order {
    /// The order as intake creates it: owned by the agent, waiting for dispatch.
    pub fn from_intake(intake: &Intake, owner: StaffId, at: DateTime<Utc>) -> Order {
        Order {
            number: intake.number,
            state: State::PendingDispatch,
            version: 1,
            opened_at: at,
            updated_at: at,
            channel: intake.channel,
            caller: intake.caller.clone(),
            appeal_type: intake.appeal_type,
            sub_category: intake.sub_category.clone(),
            department: intake.department,
            content: intake.content.clone(),
            priority: intake.priority,
            major: intake.major.clone(),
            repeat_of: intake.repeat_of.clone(),
            idempotency_key: intake.idempotency_key.clone(),
            owner,
            host: None,
            assisting: Vec::new(),
            dispatcher: None,
            handler: None,
            returns: Vec::new(),
            chase_count: 0,
            supervisions: Vec::new(),
            reply: None,
            replied_by: None,
            send_backs: Vec::new(),
            visit_attempts: 0,
            visit: None,
            reopen_count: 0,
            archived_at: None,
            clock_from: at,
            dispatched_at: None,
            contacted_at: None,
            contact_count: 0,
            arrived_at: None,
            reviewed_at: None,
            suspensions: Vec::new(),
            customer_rating: None,
        }
    }

    /// Whether the clock stands still now.
    pub fn is_suspended(&self) -> bool {
        self.suspensions.last().is_some_and(|s| s.until.is_none())
    }

    /// Closes an open suspension at `at` (no-op when none is open).
    pub(crate) fn end_suspension(&mut self, at: DateTime<Utc>) {
        if let Some(s) = self.suspensions.last_mut()
            && s.until.is_none()
        {
            s.until = Some(at.max(s.from));
        }
    }

    /// The unit of the territory (customer's supply unit or the address's unit).
    pub fn jurisdiction(&self) -> &OrgPath {
        self.caller.jurisdiction()
    }

    /// The unit that answers for the order now: the host unit, or the territory before dispatch.
    pub fn home_unit(&self) -> &OrgPath {
        self.host
            .as_ref()
            .map_or_else(|| self.jurisdiction(), |h| &h.unit)
    }

    /// The dispatch suggestion by the five principles, from what the order already knows.
    pub fn suggestion(&self) -> Assignment {
        Assignment {
            unit: self.jurisdiction().clone(),
            department: self.department,
        }
    }

    /// Whether a supervisor watches it (督办 until archive).
    pub fn is_supervised(&self) -> bool {
        !self.supervisions.is_empty() && self.state != State::Archived
    }

    /// Whether it belongs on the supervisors' board: major or supervised, and not archived.
    pub fn on_supervisor_board(&self) -> bool {
        self.state != State::Archived && (self.major.is_some() || !self.supervisions.is_empty())
    }
}
