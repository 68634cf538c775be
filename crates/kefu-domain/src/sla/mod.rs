//! Service-level tracking of work orders (issue 5): which time limits run on an order now, their
//! deadlines, and the alerts a sweep raises as each is approached and passed.
//!
//! - [`schedule`] reads what an order records (`clock_from`, `dispatched_at`, `contacted_at`,
//!   `arrived_at`, `reviewed_at`, suspensions) and the limits table, and gives the deadlines
//!   running now. The store calls it at every transition and keeps the result beside the row,
//!   so "what is due" is an indexed query and the sweep needs no calendar.
//! - Each running deadline is a [`Tracked`]: its kind, the instant its round started (the pair
//!   names it), the instants of the warning, the deadline and the escalation one level up, and
//!   the highest [`AlertLevel`] already raised. [`carry_over`] keeps what was raised when a
//!   transition recomputes the same deadline, so a chase never raises a warning twice.
//! - [`raise`] is the sweep's decision for one order at `now`: the alerts to write, each once.
//!
//! Which deadlines run (all only until the order is archived):
//!
//! | kind | runs while | from | met by |
//! |---|---|---|---|
//! | contact | not yet replied and no contact recorded | intake / reopening | a contact record |
//! | return | dispatched, not yet accepted | the dispatch | accept or return |
//! | reply | not yet replied | intake / reopening | the reply |
//! | arrive | fault repair, not yet replied, crew not arrived | intake / reopening | arrival |
//! | restore | fault repair, crew arrived, not yet replied | the arrival | the reply |
//! | reconnect | not yet replied | intake / reopening | the reply |
//! | visit | reviewed, visit not finished | the approval | the visit |
//!
//! The customer's clocks (contact, reply, fault repair) run from the intake, not from the unit's
//! acceptance: returns and re-dispatches do not give a unit more time. A suspension stops every
//! clock while it lasts; an open one leaves the deadline unknown (no alert can fire).
//!
//! Alerts: a warning at the table's warning share (*default* 75 %) goes to the holding unit;
//! overdue (超期) at 100 % escalates to the holding unit's supervisors; at
//! [`DEFAULT_ESCALATE_UP_SHARE`] of the limit (*default* 150 %) it escalates one level up.
//!
//! Tests walk real orders through the machine: `workorder/tests/sla.rs`.

use chrono::{DateTime, Utc};

use crate::calendar::{
    DeadlineError, Limit, LimitKind, LimitQuery, ServiceArea, Suspension, TimeLimits,
    WorkingCalendar,
};
use crate::code_enum;
use crate::org::OrgPath;
use crate::workorder::{AppealType, Caller, Order, State};

/// The *default* share of a limit at which an overdue order escalates one level up.
pub const DEFAULT_ESCALATE_UP_SHARE: f64 = 1.5;

code_enum! {
    /// How far a deadline has gone; each level is raised at most once per deadline.
    pub enum AlertLevel {
        /// 预警: the warning share of the limit is used.
        Warning = ("warning", "预警", "Warning"),
        /// 超期: the deadline passed; escalated to the holding unit's supervisors.
        Overdue = ("overdue", "超期", "Overdue"),
        /// 升级: still overdue at the escalation share; escalated one level up.
        EscalatedUp = ("escalated_up", "超期升级", "Escalated one level up"),
    }
}

/// What the sweep needs beside the table: when to go one level up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaPolicy {
    /// Share of the limit at which an overdue order escalates one level up (above 1).
    pub escalate_up_share: f64,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        Self {
            escalate_up_share: DEFAULT_ESCALATE_UP_SHARE,
        }
    }
}

/// One deadline running on an order, with the alerts already raised for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// What is timed.
    pub kind: LimitKind,
    /// The limit applied.
    pub limit: Limit,
    /// When its round started; with `kind` it names the deadline.
    pub start: DateTime<Utc>,
    /// When the warning fires (`None` while suspended).
    pub warn_at: Option<DateTime<Utc>>,
    /// The deadline (`None` while suspended).
    pub due_at: Option<DateTime<Utc>>,
    /// When it escalates one level up (`None` while suspended).
    pub escalate_at: Option<DateTime<Utc>>,
    /// The highest alert raised so far.
    pub raised: Option<AlertLevel>,
}

impl Tracked {
    /// The instant at which `level` is reached, if known.
    pub fn threshold(&self, level: AlertLevel) -> Option<DateTime<Utc>> {
        match level {
            AlertLevel::Warning => self.warn_at,
            AlertLevel::Overdue => self.due_at,
            AlertLevel::EscalatedUp => self.escalate_at,
        }
    }

    /// The next level not yet raised, if any.
    pub fn next_level(&self) -> Option<AlertLevel> {
        match self.raised {
            None => Some(AlertLevel::Warning),
            Some(AlertLevel::Warning) => Some(AlertLevel::Overdue),
            Some(AlertLevel::Overdue) => Some(AlertLevel::EscalatedUp),
            Some(AlertLevel::EscalatedUp) => None,
        }
    }

    /// The level reached at `now` (by the instants, whatever was raised).
    pub fn level_at(&self, now: DateTime<Utc>) -> Option<AlertLevel> {
        AlertLevel::ALL
            .iter()
            .rev()
            .copied()
            .find(|l| self.threshold(*l).is_some_and(|t| t <= now))
    }
}

/// An alert the sweep writes: a deadline reached `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What is timed.
    pub kind: LimitKind,
    /// The deadline's round start.
    pub start: DateTime<Utc>,
    /// The level reached.
    pub level: AlertLevel,
    /// The deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// The instant the level was reached (not when the sweep saw it).
    pub reached_at: DateTime<Utc>,
}

/// The order's SLA situation as lists colour it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaStatus {
    /// Nothing is near its deadline.
    Normal,
    /// A warning share is used.
    Warning,
    /// A deadline passed.
    Overdue,
    /// The clocks stand still.
    Suspended,
}

impl SlaStatus {
    /// The stable code used in the API.
    pub fn code(self) -> &'static str {
        match self {
            SlaStatus::Normal => "normal",
            SlaStatus::Warning => "warning",
            SlaStatus::Overdue => "overdue",
            SlaStatus::Suspended => "suspended",
        }
    }
}

/// The status at `now` of an order with these deadlines.
pub fn status(tracked: &[Tracked], suspended: bool, now: DateTime<Utc>) -> SlaStatus {
    let worst = tracked.iter().filter_map(|t| t.level_at(now)).max();
    match worst {
        Some(AlertLevel::Overdue | AlertLevel::EscalatedUp) => SlaStatus::Overdue,
        _ if suspended => SlaStatus::Suspended,
        Some(AlertLevel::Warning) => SlaStatus::Warning,
        None => SlaStatus::Normal,
    }
}

/// The limit query of an order: its type, sub-category, the customer's grade and area. An
/// unidentified caller's area is unknown; fault-repair limits then take the urban (strictest)
/// rule, so the customer is never given more time than the rules allow.
fn query(order: &Order) -> LimitQuery<'_> {
    let (grade, area) = match &order.caller {
        Caller::Customer { grid, grade, .. } => {
            (grade.map(|g| g.code()), grid.map(ServiceArea::from))
        }
        Caller::Unidentified { .. } => (None, None),
    };
    LimitQuery {
        appeal_type: order.appeal_type.code(),
        sub_category: Some(order.sub_category.as_str()),
        grade,
        area: area.or(Some(ServiceArea::Urban)),
    }
}

/// Whether the order still waits for its (current) reply.
fn awaiting_reply(state: State) -> bool {
    match state {
        State::PendingDispatch
        | State::Dispatched
        | State::Returned
        | State::InProgress
        | State::SentBack
        | State::Reopened => true,
        State::Replied | State::Reviewed | State::Visited | State::Archived => false,
    }
}

/// The deadlines running on `order` now (see the module table), warnings at the table's share
/// and escalation at `policy`'s. None are `raised` yet: see [`carry_over`].
pub fn schedule(
    order: &Order,
    calendar: &WorkingCalendar,
    limits: &TimeLimits,
    policy: SlaPolicy,
) -> Result<Vec<Tracked>, DeadlineError> {
    let q = query(order);
    let waiting = awaiting_reply(order.state);
    let fault = order.appeal_type == AppealType::FaultRepair;
    let mut running: Vec<(LimitKind, DateTime<Utc>)> = Vec::new();
    for kind in LimitKind::ALL.iter().copied() {
        let start = match kind {
            LimitKind::Contact => {
                (waiting && order.contacted_at.is_none()).then_some(order.clock_from)
            }
            LimitKind::Return => order
                .dispatched_at
                .filter(|_| order.state == State::Dispatched),
            LimitKind::Reply | LimitKind::Reconnect => waiting.then_some(order.clock_from),
            LimitKind::Arrive => {
                (fault && waiting && order.arrived_at.is_none()).then_some(order.clock_from)
            }
            LimitKind::Restore => order.arrived_at.filter(|_| fault && waiting),
            LimitKind::Visit => order.reviewed_at.filter(|_| order.state == State::Reviewed),
        };
        if let Some(start) = start {
            running.push((kind, start));
        }
    }
    let suspensions: Vec<Suspension> = order
        .suspensions
        .iter()
        .map(|s| Suspension {
            from: s.from,
            until: s.until,
        })
        .collect();
    let mut out = Vec::with_capacity(running.len());
    for (kind, start) in running {
        let Some(limit) = limits.lookup(kind, &q) else {
            continue;
        };
        let due_at = limit.deadline_with_suspensions(calendar, start, &suspensions)?;
        let warn_at = limit
            .instant_at_share(calendar, start, &suspensions, limits.warning_share())?
            .zip(due_at)
            .map(|(w, d)| w.min(d));
        let escalate_at = limit
            .instant_at_share(calendar, start, &suspensions, policy.escalate_up_share)?
            .zip(due_at)
            .map(|(e, d)| e.max(d));
        out.push(Tracked {
            kind,
            limit,
            start,
            warn_at: due_at.and(warn_at),
            due_at,
            escalate_at: due_at.and(escalate_at),
            raised: None,
        });
    }
    Ok(out)
}

/// `fresh` deadlines with the alerts already raised for the same deadline (same kind and round
/// start) in `previous`; deadlines no longer running are dropped (their alerts stay written).
pub fn carry_over(previous: &[Tracked], fresh: Vec<Tracked>) -> Vec<Tracked> {
    fresh
        .into_iter()
        .map(|mut t| {
            t.raised = previous
                .iter()
                .find(|p| p.kind == t.kind && p.start == t.start)
                .and_then(|p| p.raised);
            t
        })
        .collect()
}

/// The next instant at which the sweep has something to raise, if any.
pub fn next_check(tracked: &[Tracked]) -> Option<DateTime<Utc>> {
    tracked
        .iter()
        .filter_map(|t| t.next_level().and_then(|l| t.threshold(l)))
        .min()
}

/// The earliest deadline still running (lists sort and filter "overdue" by it).
pub fn earliest_due(tracked: &[Tracked]) -> Option<DateTime<Utc>> {
    tracked.iter().filter_map(|t| t.due_at).min()
}

/// The earliest warning instant still running.
pub fn earliest_warning(tracked: &[Tracked]) -> Option<DateTime<Utc>> {
    tracked.iter().filter_map(|t| t.warn_at).min()
}

/// The sweep's decision at `now`: the alerts reached and not yet raised, and `tracked` updated
/// to remember them. A warning that is already overtaken by the deadline is skipped (it can no
/// longer warn anyone); overdue and one-level-up are both raised, as each reaches other people.
pub fn raise(tracked: &mut [Tracked], now: DateTime<Utc>) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for t in tracked.iter_mut() {
        let Some(reached) = t.level_at(now) else {
            continue;
        };
        if t.raised.is_some_and(|r| r >= reached) {
            continue;
        }
        for level in AlertLevel::ALL.iter().copied() {
            if t.raised.is_some_and(|r| r >= level) || level > reached {
                continue;
            }
            if level == AlertLevel::Warning && reached > AlertLevel::Warning {
                continue;
            }
            if let Some(at) = t.threshold(level) {
                alerts.push(Alert {
                    kind: t.kind,
                    start: t.start,
                    level,
                    due_at: t.due_at,
                    reached_at: at,
                });
            }
        }
        t.raised = Some(reached);
    }
    alerts
}

/// The unit whose supervisors an alert goes to: the holding unit for warnings and overdue, its
/// parent for the escalation one level up (the root stays itself). The store then picks the
/// nearest unit at or above it that has supervisors.
pub fn alert_unit(level: AlertLevel, holding: &OrgPath) -> OrgPath {
    match level {
        AlertLevel::Warning | AlertLevel::Overdue => holding.clone(),
        AlertLevel::EscalatedUp => holding.parent().unwrap_or_else(|| holding.clone()),
    }
}
