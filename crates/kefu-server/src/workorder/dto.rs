//! Work-order request and response bodies and their conversion from domain types. The caller's
//! phone is masked (`138****8000`) for roles without `personal_data`, like the customer archive.

use chrono::{DateTime, Utc};
use kefu_domain::mask::mask_phone;
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{
    Caller, Compensation, Event, EventKind, Fault, MajorReason, Order, Reply, Visit,
    allowed_actions,
};
use kefu_store::{StoredEvent, StoredOrder};

use super::sla_dto::SlaDto;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// Who appealed: `customer_id` for a customer of the archive (in the caller's scope), else an
/// unidentified caller with `phone`, `name`, `address` and `address_unit_id` (the unit that
/// owns the address).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallerInput {
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// The number called from (optional for a customer, required otherwise).
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub address_unit_id: Option<i64>,
}

/// An appeal to take (受理). Send `Idempotency-Key` to make retries safe.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequest {
    /// phone_95598, web, email, letter, counter, app, weibo, sms, fax, customer_manager.
    pub channel: String,
    pub caller: CallerInput,
    /// consultation, complaint, report, opinion, suggestion, praise, fault_repair,
    /// service_request, compensation.
    pub appeal_type: String,
    /// A catalogue code of that type, e.g. `complaint.outage`.
    pub sub_category: String,
    /// The appeal in the customer's words (1–2000 characters).
    pub content: String,
    /// normal (default), urgent or major (major needs `major_reason`).
    #[serde(default)]
    pub priority: Option<String>,
    /// Why the agent flags the appeal as major by hand.
    #[serde(default)]
    pub major_reason: Option<String>,
}

/// Declares an action body: `version` plus the action's fields.
macro_rules! action_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The `version` the action is based on; a stale one is refused with 409.
            pub version: i64,
            $($(#[$fmeta])* #[serde(default)] pub $field: $ty,)*
        }
    };
}

action_body!(
    /// 派单: to the five-principles suggestion when `unit_id` and `department` are absent.
    DispatchBody {
        /// Host unit (in the caller's scope).
        unit_id: Option<i64>,
        /// Department code, e.g. `operations`.
        department: Option<String>,
        /// Required when leaving the suggestion.
        override_reason: Option<String>,
    }
);
action_body!(
    /// An action without fields (accept, archive).
    VersionBody {}
);
action_body!(
    /// 回退: wrong_address, wrong_category, not_ours, or other (with `text`).
    ReturnBody {
        reason: Option<String>,
        text: Option<String>,
    }
);
action_body!(
    /// 催办.
    ChaseBody { note: Option<String> }
);
action_body!(
    /// A note (contact, arrive, resume).
    NoteBody { note: Option<String> }
);
action_body!(
    /// 挂起: customer_unreachable or waiting_for_customer, with an optional `text`.
    SuspendBody {
        reason: Option<String>,
        text: Option<String>,
    }
);
action_body!(
    /// A reason (supervise, reopen, flag-major).
    ReasonBody { reason: Option<String> }
);
action_body!(
    /// 回复: the five fields of the reply; every missing one is named.
    ReplyBody {
        /// 处理时间.
        handled_at: Option<DateTime<Utc>>,
        /// 经办人.
        handler: Option<String>,
        /// 处理内容.
        actions_taken: Option<String>,
        /// 处理结果 with the customer's feedback.
        result_and_feedback: Option<String>,
        /// not_at_fault or at_fault (required for complaints and compensation claims).
        fault: Option<String>,
        /// The id of the unit at fault.
        responsible_unit: Option<i64>,
        /// The person at fault.
        responsible_person: Option<String>,
        /// Compensation paid, in fen.
        compensation_amount_fen: Option<i64>,
        compensation_cause: Option<String>,
    }
);
action_body!(
    /// 审核: `approve`, or `send_back` with a `reason`.
    ReviewBody {
        decision: Option<String>,
        reason: Option<String>,
    }
);
action_body!(
    /// 回访: reached (with `satisfaction` 1–5), no_answer, busy, declined, wrong_number.
    VisitBody {
        contact: Option<String>,
        satisfaction: Option<u8>,
        comment: Option<String>,
    }
);
action_body!(
    /// 协办: add an assisting unit.
    AssistBody { unit_id: Option<i64> }
);
action_body!(
    /// 改类: correct the sub-category before dispatch.
    ReclassifyBody { sub_category: Option<String> }
);

/// Who appealed, as shown (phone masked without `personal_data`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallerDto {
    /// customer or unidentified.
    pub kind: String,
    pub customer_id: Option<i64>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
    /// The unit of the territory (customer's supply unit or the address's unit).
    pub territory_unit_id: Option<i64>,
}

/// Why an order is major.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MajorDto {
    /// sub_category, keyword or manual.
    pub rule: String,
    /// The sub-category code, the keyword found, or the reason given.
    pub detail: String,
}

/// Host unit and department.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentDto {
    pub unit_id: Option<i64>,
    pub department: String,
}

/// One return (回退).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnDto {
    pub at: DateTime<Utc>,
    pub by: i64,
    pub unit_id: Option<i64>,
    pub reason: String,
    pub text: Option<String>,
}

/// A supervisor's watch, or a refused reply: who, when, why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteDto {
    pub at: DateTime<Utc>,
    pub by: i64,
    pub reason: String,
}

/// The standing reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplyDto {
    pub handled_at: DateTime<Utc>,
    pub handler: String,
    pub actions_taken: String,
    pub result_and_feedback: String,
    /// not_at_fault or at_fault.
    pub fault: String,
    pub responsible_unit_id: Option<i64>,
    pub responsible_person: Option<String>,
    pub compensation_amount_fen: Option<i64>,
    pub compensation_cause: Option<String>,
}

/// The finished visit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VisitDto {
    pub contact: String,
    /// 1–5.
    pub satisfaction: Option<u8>,
    pub comment: Option<String>,
}

/// The customer's own rating, given through the self-service portal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerRatingDto {
    pub at: DateTime<Utc>,
    /// 1–5.
    pub satisfaction: u8,
    pub comment: Option<String>,
}

/// A work order as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderDto {
    /// `GD` + date + sequence, e.g. `GD20261122000123`.
    pub number: String,
    pub state: String,
    /// Send back with every action.
    pub version: u64,
    /// Who must act next: dispatcher, host_unit, centre, nobody.
    pub waits_for: String,
    /// The actions possible in this state (roles and units still apply).
    pub allowed_actions: Vec<String>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub channel: String,
    pub caller: CallerDto,
    pub appeal_type: String,
    pub sub_category: String,
    /// The department in charge of the sub-category.
    pub department: String,
    pub content: String,
    /// normal, urgent, major.
    pub priority: String,
    pub major: Option<MajorDto>,
    /// Earlier orders this one repeats.
    pub repeat_of: Vec<String>,
    /// The agent who took the appeal (首问负责制).
    pub owner_id: i64,
    pub host: Option<AssignmentDto>,
    pub assisting_unit_ids: Vec<Option<i64>>,
    pub dispatcher_id: Option<i64>,
    pub handler_id: Option<i64>,
    /// Every return, oldest first.
    pub returns: Vec<ReturnDto>,
    pub chase_count: u32,
    pub supervisions: Vec<NoteDto>,
    pub reply: Option<ReplyDto>,
    pub replied_by: Option<i64>,
    /// Every refused reply, oldest first.
    pub send_backs: Vec<NoteDto>,
    pub visit_attempts: u32,
    pub visit: Option<VisitDto>,
    /// The customer's online rating of this round's answer (self-service portal).
    pub customer_rating: Option<CustomerRatingDto>,
    pub reopen_count: u32,
    pub archived_at: Option<DateTime<Utc>>,
    /// Whether the caller's phone is masked for this caller.
    pub personal_data_masked: bool,
    /// Deadlines, status colour and suspensions (issue 5).
    pub sla: SlaDto,
}

fn unit_id(p: &OrgPath) -> Option<i64> {
    p.unit().map(|u| u.0)
}

fn phone_view(phone: &str, unmasked: bool) -> String {
    if unmasked {
        phone.to_owned()
    } else {
        mask_phone(phone)
    }
}

pub(crate) fn major_dto(m: &MajorReason) -> MajorDto {
    let (rule, detail) = match m {
        MajorReason::SubCategory(c) => ("sub_category", c.as_str().to_owned()),
        MajorReason::Keyword(k) => ("keyword", k.clone()),
        MajorReason::Manual(r) => ("manual", r.clone()),
    };
    MajorDto {
        rule: rule.to_owned(),
        detail,
    }
}

fn reply_dto(r: &Reply) -> ReplyDto {
    let (fault, unit, person) = match &r.fault {
        Fault::NotAtFault => ("not_at_fault", None, None),
        Fault::AtFault {
            responsible_unit,
            responsible_person,
        } => (
            "at_fault",
            Some(responsible_unit.0),
            responsible_person.clone(),
        ),
    };
    let comp: Option<&Compensation> = r.compensation.as_ref();
    ReplyDto {
        handled_at: r.handled_at,
        handler: r.handler.clone(),
        actions_taken: r.actions_taken.clone(),
        result_and_feedback: r.result_and_feedback.clone(),
        fault: fault.to_owned(),
        responsible_unit_id: unit,
        responsible_person: person,
        compensation_amount_fen: comp.map(|c| c.amount_fen),
        compensation_cause: comp.map(|c| c.cause.clone()),
    }
}

fn visit_dto(v: &Visit) -> VisitDto {
    VisitDto {
        contact: v.contact.code().to_owned(),
        satisfaction: v.satisfaction.map(|s| s.score()),
        comment: v.comment.clone(),
    }
}

/// Whether the order shows a caller phone (so an unmasked read of it is audited).
pub fn has_personal_data(o: &Order) -> bool {
    match &o.caller {
        Caller::Customer { phone, .. } => phone.is_some(),
        Caller::Unidentified { .. } => true,
    }
}

impl OrderDto {
    /// The DTO, with the caller's phone masked unless `unmasked`, and the SLA status as of
    /// `now` with instants in the centre's `offset`.
    pub fn new(
        stored: &StoredOrder,
        unmasked: bool,
        now: DateTime<Utc>,
        offset: chrono::FixedOffset,
    ) -> Self {
        let o = &stored.order;
        let caller = match &o.caller {
            Caller::Customer {
                id,
                supply_unit,
                phone,
                ..
            } => CallerDto {
                kind: "customer".into(),
                customer_id: Some(id.0),
                phone: phone.as_ref().map(|p| phone_view(p.as_str(), unmasked)),
                name: None,
                address: None,
                territory_unit_id: unit_id(supply_unit),
            },
            Caller::Unidentified {
                phone,
                name,
                address,
                address_unit,
            } => CallerDto {
                kind: "unidentified".into(),
                customer_id: None,
                phone: Some(phone_view(phone.as_str(), unmasked)),
                name: Some(name.as_str().to_owned()),
                address: Some(address.clone()),
                territory_unit_id: unit_id(address_unit),
            },
        };
        let note = |at, by: kefu_domain::ids::StaffId, reason: &String| NoteDto {
            at,
            by: by.0,
            reason: reason.clone(),
        };
        Self {
            number: o.number.to_string(),
            state: o.state.code().to_owned(),
            version: o.version,
            waits_for: o.state.waits_for().code().to_owned(),
            allowed_actions: allowed_actions(o.state)
                .iter()
                .map(|a| a.code().to_owned())
                .collect(),
            opened_at: o.opened_at,
            updated_at: o.updated_at,
            channel: o.channel.code().to_owned(),
            caller,
            appeal_type: o.appeal_type.code().to_owned(),
            sub_category: o.sub_category.as_str().to_owned(),
            department: o.department.code().to_owned(),
            content: o.content.clone(),
            priority: o.priority.code().to_owned(),
            major: o.major.as_ref().map(major_dto),
            repeat_of: o.repeat_of.iter().map(ToString::to_string).collect(),
            owner_id: o.owner.0,
            host: o.host.as_ref().map(|h| AssignmentDto {
                unit_id: unit_id(&h.unit),
                department: h.department.code().to_owned(),
            }),
            assisting_unit_ids: o.assisting.iter().map(unit_id).collect(),
            dispatcher_id: o.dispatcher.map(|s| s.0),
            handler_id: o.handler.map(|s| s.0),
            returns: o
                .returns
                .iter()
                .map(|r| ReturnDto {
                    at: r.at,
                    by: r.by.0,
                    unit_id: unit_id(&r.unit),
                    reason: r.reason.code().to_owned(),
                    text: r.text.clone(),
                })
                .collect(),
            chase_count: o.chase_count,
            supervisions: o
                .supervisions
                .iter()
                .map(|s| note(s.at, s.by, &s.reason))
                .collect(),
            reply: o.reply.as_ref().map(reply_dto),
            replied_by: o.replied_by.map(|s| s.0),
            send_backs: o
                .send_backs
                .iter()
                .map(|s| note(s.at, s.by, &s.reason))
                .collect(),
            visit_attempts: o.visit_attempts,
            visit: o.visit.as_ref().map(visit_dto),
            customer_rating: o.customer_rating.as_ref().map(|r| CustomerRatingDto {
                at: r.at,
                satisfaction: r.satisfaction.score(),
                comment: r.comment.clone(),
            }),
            reopen_count: o.reopen_count,
            archived_at: o.archived_at,
            personal_data_masked: !unmasked,
            sla: SlaDto::new(o, &stored.sla, now, offset),
        }
    }
}

/// One step of the timeline: who, when, from → to, what.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventDto {
    /// The order's version after the step (1 = intake).
    pub version: u64,
    pub at: DateTime<Utc>,
    /// The staff member who acted.
    pub actor_id: i64,
    /// The state before (absent for the intake).
    pub from: Option<String>,
    pub to: String,
    /// The action (absent for the intake).
    pub action: Option<String>,
    /// opened, dispatched, reclassified, accepted, returned, chased, supervised, replied,
    /// approved, sent_back, visited, reopened, archived, assist_added, flagged_major,
    /// contacted, arrived, suspended, resumed, customer_rated; and the sweep's `sla_warning`, `sla_overdue`,
    /// `sla_escalated_up` (actor 0, version 0: they do not change the order).
    pub kind: String,
    /// What the step recorded (members depend on `kind`; no personal data).
    #[schema(value_type = Object)]
    pub details: Value,
}

fn kind_details(k: &EventKind) -> (&'static str, Value) {
    match k {
        EventKind::Opened(i) => (
            "opened",
            json!({"channel": i.channel.code(), "appeal_type": i.appeal_type.code(),
                   "sub_category": i.sub_category.as_str(), "priority": i.priority.code(),
                   "major": i.major.as_ref().map(major_dto).map(|m| json!({"rule": m.rule, "detail": m.detail})),
                   "repeat_of": i.repeat_of.iter().map(ToString::to_string).collect::<Vec<_>>()}),
        ),
        EventKind::Dispatched {
            assignment,
            override_reason,
        } => (
            "dispatched",
            json!({"unit_id": unit_id(&assignment.unit), "department": assignment.department.code(),
                   "override_reason": override_reason}),
        ),
        EventKind::Reclassified {
            appeal_type,
            sub_category,
            department,
            ..
        } => (
            "reclassified",
            json!({"appeal_type": appeal_type.code(), "sub_category": sub_category.as_str(),
                   "department": department.code()}),
        ),
        EventKind::Accepted => ("accepted", json!({})),
        EventKind::Returned { unit, reason, text } => (
            "returned",
            json!({"unit_id": unit_id(unit), "reason": reason.code(), "text": text}),
        ),
        EventKind::Chased { note } => ("chased", json!({ "note": note })),
        EventKind::Supervised { reason } => ("supervised", json!({ "reason": reason })),
        EventKind::Replied(r) => (
            "replied",
            serde_json::to_value(reply_dto(r)).unwrap_or_default(),
        ),
        EventKind::Approved => ("approved", json!({})),
        EventKind::SentBack { reason } => ("sent_back", json!({ "reason": reason })),
        EventKind::Visited(v) => (
            "visited",
            serde_json::to_value(visit_dto(v)).unwrap_or_default(),
        ),
        EventKind::Reopened { reason } => ("reopened", json!({ "reason": reason })),
        EventKind::Archived => ("archived", json!({})),
        EventKind::AssistAdded { unit } => ("assist_added", json!({"unit_id": unit_id(unit)})),
        EventKind::FlaggedMajor(m) => {
            let m = major_dto(m);
            ("flagged_major", json!({"rule": m.rule, "detail": m.detail}))
        }
        EventKind::Contacted { note } => ("contacted", json!({ "note": note })),
        EventKind::Arrived { note } => ("arrived", json!({ "note": note })),
        EventKind::Suspended { reason, text } => (
            "suspended",
            json!({ "reason": reason.code(), "reason_zh": reason.label_zh(), "text": text }),
        ),
        EventKind::Resumed { note } => ("resumed", json!({ "note": note })),
        EventKind::CustomerRated {
            satisfaction,
            comment,
        } => (
            "customer_rated",
            json!({ "satisfaction": satisfaction.score(), "comment": comment }),
        ),
    }
}

impl EventDto {
    /// The DTO of one stored event.
    pub fn new(e: &StoredEvent) -> Self {
        let ev: &Event = &e.event;
        let (kind, details) = kind_details(&ev.kind);
        Self {
            version: ev.version,
            at: ev.at,
            actor_id: ev.actor.0,
            from: ev.from.map(|s| s.code().to_owned()),
            to: ev.to.code().to_owned(),
            action: ev.kind.action().map(|a| a.code().to_owned()),
            kind: kind.to_owned(),
            details,
        }
    }
}

/// An order with its whole timeline, oldest step first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetail {
    pub order: OrderDto,
    pub timeline: Vec<EventDto>,
}

/// One page of orders, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
