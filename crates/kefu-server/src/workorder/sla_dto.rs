//! The SLA side of an order in the API: its running deadlines (`contact_due_at`,
//! `reply_due_at`, …, RFC 3339 in the centre's offset), its status colour, suspensions, and the
//! sweep's alerts shown in the timeline.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use kefu_domain::calendar::LimitKind;
use kefu_domain::sla::{Tracked, status};
use kefu_domain::workorder::Order;
use kefu_store::StoredAlert;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::dto::EventDto;

/// An instant as the centre reads it: RFC 3339 with its offset (`2026-02-14T16:00:00+08:00`).
pub fn local(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The deadline of each limit running now (absent: not running, or unknown while suspended).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct DeadlinesDto {
    /// Contact the customer (complaints: 1 working day from intake).
    pub contact_due_at: Option<String>,
    /// Accept or return after receipt (2 working hours).
    pub return_due_at: Option<String>,
    /// Reply with the handling result.
    pub reply_due_at: Option<String>,
    /// Follow-up visit after the review.
    pub visit_due_at: Option<String>,
    /// Fault repair: arrive on site (clock time).
    pub arrive_due_at: Option<String>,
    /// Fault repair: restore supply after arrival (clock time).
    pub restore_due_at: Option<String>,
    /// Reconnect after arrears are paid (clock time).
    pub reconnect_due_at: Option<String>,
}

/// One running deadline in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedDto {
    /// contact, return, reply, visit, arrive, restore, reconnect.
    pub kind: String,
    /// The limit, e.g. `working_days:7`, `clock_minutes:45`.
    pub limit: String,
    /// The limit in zh-CN, e.g. `7个工作日`.
    pub limit_zh: String,
    /// When the clock started.
    pub start: String,
    pub warn_at: Option<String>,
    pub due_at: Option<String>,
    /// When an overdue order escalates one level up.
    pub escalate_at: Option<String>,
    /// The highest alert raised: warning, overdue, escalated_up.
    pub raised: Option<String>,
}

/// A stretch during which the clocks stood still (挂起).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuspensionDto {
    pub from: String,
    /// Absent while still suspended.
    pub until: Option<String>,
    /// customer_unreachable, waiting_for_customer.
    pub reason: String,
    pub text: Option<String>,
    pub by: i64,
}

/// The order's service-level situation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlaDto {
    /// normal, warning, overdue, suspended — as of the response.
    pub status: String,
    pub deadlines: DeadlinesDto,
    /// Every running deadline with its warning and escalation instants.
    pub running: Vec<TrackedDto>,
    pub suspended: bool,
    pub suspensions: Vec<SuspensionDto>,
    /// When the host unit first reached the customer in this round.
    pub contacted_at: Option<String>,
    /// When the repair crew arrived in this round.
    pub arrived_at: Option<String>,
}

impl SlaDto {
    /// The SLA view of `order` with its running deadlines, as of `now`.
    pub fn new(
        order: &Order,
        tracked: &[Tracked],
        now: DateTime<Utc>,
        offset: FixedOffset,
    ) -> Self {
        let l = |t: DateTime<Utc>| local(t, offset);
        let mut deadlines = DeadlinesDto::default();
        for t in tracked {
            let due = t.due_at.map(l);
            let slot = match t.kind {
                LimitKind::Contact => &mut deadlines.contact_due_at,
                LimitKind::Return => &mut deadlines.return_due_at,
                LimitKind::Reply => &mut deadlines.reply_due_at,
                LimitKind::Visit => &mut deadlines.visit_due_at,
                LimitKind::Arrive => &mut deadlines.arrive_due_at,
                LimitKind::Restore => &mut deadlines.restore_due_at,
                LimitKind::Reconnect => &mut deadlines.reconnect_due_at,
            };
            *slot = due;
        }
        let suspended = order.is_suspended();
        SlaDto {
            status: status(tracked, suspended, now).code().to_owned(),
            deadlines,
            running: tracked
                .iter()
                .map(|t| TrackedDto {
                    kind: t.kind.code().to_owned(),
                    limit: t.limit.code(),
                    limit_zh: t.limit.label_zh(),
                    start: l(t.start),
                    warn_at: t.warn_at.map(l),
                    due_at: t.due_at.map(l),
                    escalate_at: t.escalate_at.map(l),
                    raised: t.raised.map(|r| r.code().to_owned()),
                })
                .collect(),
            suspended,
            suspensions: order
                .suspensions
                .iter()
                .map(|s| SuspensionDto {
                    from: l(s.from),
                    until: s.until.map(l),
                    reason: s.reason.code().to_owned(),
                    text: s.text.clone(),
                    by: s.by.0,
                })
                .collect(),
            contacted_at: order.contacted_at.map(l),
            arrived_at: order.arrived_at.map(l),
        }
    }
}

/// An alert as a timeline step: the sweep (no staff member) raised it; the state is unchanged.
pub fn alert_event(a: &StoredAlert, state: &str) -> EventDto {
    EventDto {
        version: 0,
        at: a.raised_at,
        actor_id: 0,
        from: Some(state.to_owned()),
        to: state.to_owned(),
        action: None,
        kind: format!("sla_{}", a.level.code()),
        details: json!({
            "limit": a.kind.code(),
            "level": a.level.code(),
            "level_zh": a.level.label_zh(),
            "due_at": a.due_at,
            "reached_at": a.reached_at,
            "unit_id": a.unit.unit().map(|u| u.0),
            "supervisor_ids": a.supervisors.iter().map(|s| s.0).collect::<Vec<_>>(),
        }),
    }
}
