//! Deadlines of real orders walked through the machine, on the shipped 2026 calendar: what runs
//! in each state, suspensions, fault repair, and the sweep's alerts.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use super::*;
use crate::calendar::{LimitKind, TimeLimits, WorkingCalendar};
use crate::sla::{AlertLevel, SlaPolicy, SlaStatus, Tracked, carry_over, raise, schedule};

/// Beijing time.
fn bj(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .and_then(|tz| tz.with_ymd_and_hms(y, mo, d, h, mi, 0).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("bad time"))
}

fn deadlines(run: &Run) -> Vec<Tracked> {
    schedule(
        &run.order,
        &WorkingCalendar::china_default(),
        &TimeLimits::defaults(),
        SlaPolicy::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn due(run: &Run, kind: LimitKind) -> Option<DateTime<Utc>> {
    deadlines(run)
        .into_iter()
        .find(|t| t.kind == kind)
        .and_then(|t| t.due_at)
}

fn kinds(run: &Run) -> Vec<LimitKind> {
    deadlines(run).into_iter().map(|t| t.kind).collect()
}

/// A complaint taken at `at` and moved 30 minutes per step from there.
fn complaint_at(at: DateTime<Utc>) -> Run {
    Run::open_at(intake("complaint.outage", "小区停电两天无人处理"), at)
}

#[test]
fn complaint_taken_friday_before_a_make_up_saturday_is_due_that_saturday() {
    // 2026-02-14 (Saturday) is a make-up working day before Spring Festival.
    let run = complaint_at(bj(2026, 2, 13, 16, 0));
    assert_eq!(due(&run, LimitKind::Contact), Some(bj(2026, 2, 14, 16, 0)));
}

#[test]
fn complaint_taken_on_the_last_day_before_spring_festival_is_due_after_the_holiday() {
    // Feb 15-23 are off; the next working day after Saturday Feb 14 is Tuesday Feb 24.
    let run = complaint_at(bj(2026, 2, 14, 10, 0));
    assert_eq!(due(&run, LimitKind::Contact), Some(bj(2026, 2, 24, 10, 0)));
    // Seven working days: Feb 24, 25, 26, 27, 28 (make-up Saturday), Mar 2, 3.
    assert_eq!(due(&run, LimitKind::Reply), Some(bj(2026, 3, 3, 10, 0)));
}

#[test]
fn a_new_complaint_runs_contact_and_reply_and_nothing_else() {
    let run = complaint_at(bj(2026, 3, 2, 9, 0));
    assert_eq!(kinds(&run), vec![LimitKind::Contact, LimitKind::Reply]);
    let reply = deadlines(&run)
        .into_iter()
        .find(|t| t.kind == LimitKind::Reply)
        .unwrap_or_else(|| panic!("reply deadline"));
    let warn = reply.warn_at.unwrap_or_else(|| panic!("warning instant"));
    let due = reply.due_at.unwrap_or_else(|| panic!("due"));
    let up = reply.escalate_at.unwrap_or_else(|| panic!("escalation"));
    assert!(reply.start < warn && warn < due && due < up, "{reply:?}");
}

#[test]
fn the_unit_must_accept_or_return_within_two_working_hours_of_receipt() {
    let mut run = complaint_at(bj(2026, 3, 2, 9, 0));
    run.ok(dispatch_suggested(), &dispatcher());
    // Dispatched at 09:30 Monday: two working hours → 11:30.
    assert_eq!(due(&run, LimitKind::Return), Some(bj(2026, 3, 2, 11, 30)));
    run.ok(Command::Accept, &handler_a());
    assert!(!kinds(&run).contains(&LimitKind::Return));
}

#[test]
fn returns_and_re_dispatch_do_not_restart_the_customers_clock() {
    let mut run = complaint_at(bj(2026, 3, 2, 9, 0));
    let first = due(&run, LimitKind::Reply);
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(
        Command::Return {
            reason: ReturnReason::WrongAddress,
            text: String::new(),
        },
        &handler_a(),
    );
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    assert_eq!(due(&run, LimitKind::Reply), first);
}

#[test]
fn recording_contact_ends_the_contact_limit_and_the_reply_ends_the_rest() {
    let mut run = complaint_at(bj(2026, 3, 2, 9, 0));
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    run.ok(
        Command::Contact {
            note: "已电话联系客户".into(),
        },
        &handler_a(),
    );
    assert_eq!(kinds(&run), vec![LimitKind::Reply]);
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    assert!(deadlines(&run).is_empty());
    run.ok(Command::Review(ReviewDecision::Approve), &reviewer());
    assert_eq!(kinds(&run), vec![LimitKind::Visit]);
}

#[test]
fn suspended_time_is_added_to_the_deadline() {
    let mut run = complaint_at(bj(2026, 3, 2, 9, 0));
    let plain = due(&run, LimitKind::Reply);
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a()); // 10:00
    run.ok(
        Command::Suspend {
            reason: SuspendReason::CustomerUnreachable,
            text: String::new(),
        },
        &handler_a(),
    ); // 10:30
    assert!(run.order.is_suspended());
    // While suspended the deadline is unknown: nothing can go overdue.
    assert_eq!(due(&run, LimitKind::Reply), None);
    run.ok(
        Command::Resume {
            note: String::new(),
        },
        &handler_a(),
    ); // 11:00
    let resumed = due(&run, LimitKind::Reply);
    assert_eq!(
        resumed.zip(plain).map(|(a, b)| a - b),
        Some(chrono::Duration::minutes(30)),
        "half an hour of working time was suspended"
    );
}

#[test]
fn only_the_host_handler_suspends_and_only_for_an_allowed_state() {
    let mut run = complaint_at(bj(2026, 3, 2, 9, 0));
    let suspend = || Command::Suspend {
        reason: SuspendReason::WaitingForCustomer,
        text: String::new(),
    };
    assert!(matches!(
        run.err(suspend(), &handler_a()),
        WorkOrderError::IllegalTransition { .. }
    ));
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    assert!(matches!(
        run.err(suspend(), &handler_b()),
        WorkOrderError::NotHostUnit { .. }
    ));
    run.ok(suspend(), &handler_a());
    assert_eq!(
        run.err(suspend(), &handler_a()),
        WorkOrderError::AlreadySuspended
    );
    // A reply ends the suspension.
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    assert!(!run.order.is_suspended());
}

#[test]
fn fault_repair_runs_on_the_clock_from_intake_then_from_arrival() {
    // Sunday night: clock limits ignore working hours.
    let at = bj(2026, 3, 1, 23, 0);
    let mut run = Run::open_at(intake("fault_repair.no_power", "家里没电了"), at);
    assert_eq!(due(&run, LimitKind::Arrive), Some(bj(2026, 3, 1, 23, 45)));
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    run.ok(
        Command::Arrive {
            note: String::new(),
        },
        &handler_a(),
    ); // 00:30
    assert!(!kinds(&run).contains(&LimitKind::Arrive));
    assert_eq!(due(&run, LimitKind::Restore), Some(bj(2026, 3, 2, 3, 30)));
    assert_eq!(
        run.err(
            Command::Arrive {
                note: String::new()
            },
            &handler_a()
        ),
        WorkOrderError::AlreadyArrived
    );
}

#[test]
fn arrival_is_only_for_fault_repairs() {
    let mut run = complaint_at(bj(2026, 3, 2, 9, 0));
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    assert_eq!(
        run.err(
            Command::Arrive {
                note: String::new()
            },
            &handler_a()
        ),
        WorkOrderError::NotFaultRepair
    );
}

#[test]
fn a_reopened_order_gets_new_clocks() {
    let mut run = complaint_at(bj(2026, 3, 2, 9, 0));
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    run.ok(Command::Review(ReviewDecision::Approve), &reviewer());
    run.ok(visit(Satisfaction::VeryDissatisfied), &agent());
    run.ok(
        Command::Reopen {
            reason: "客户不满意".into(),
        },
        &agent(),
    );
    let fresh = deadlines(&run);
    assert_eq!(
        fresh.iter().map(|t| t.kind).collect::<Vec<_>>(),
        vec![LimitKind::Contact, LimitKind::Reply]
    );
    assert!(fresh.iter().all(|t| t.start == run.now));
}

#[test]
fn the_sweep_raises_warning_then_overdue_then_one_level_up_each_once() {
    let run = complaint_at(bj(2026, 3, 2, 9, 0));
    // The contact limit alone (the reply limit runs longer).
    let mut tracked = vec![deadlines(&run).remove(0)];
    let contact = tracked[0].clone();
    assert_eq!(contact.kind, LimitKind::Contact);
    let (warn, due, up) = (
        contact.warn_at.unwrap_or_default(),
        contact.due_at.unwrap_or_default(),
        contact.escalate_at.unwrap_or_default(),
    );
    assert!(raise(&mut tracked, warn - chrono::Duration::seconds(1)).is_empty());
    let first = raise(&mut tracked, warn);
    assert_eq!(
        first.iter().map(|a| a.level).collect::<Vec<_>>(),
        vec![AlertLevel::Warning]
    );
    assert!(
        raise(&mut tracked, warn).is_empty(),
        "a second sweep adds nothing"
    );
    let second = raise(&mut tracked, due);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].level, AlertLevel::Overdue);
    assert_eq!(second[0].reached_at, due);
    let third = raise(&mut tracked, up);
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].level, AlertLevel::EscalatedUp);
    assert!(raise(&mut tracked, up + chrono::Duration::days(30)).is_empty());
}

#[test]
fn a_late_sweep_skips_the_stale_warning_but_escalates_both_levels() {
    let run = complaint_at(bj(2026, 3, 2, 9, 0));
    let mut tracked = deadlines(&run);
    let late = tracked[0].escalate_at.unwrap_or_default();
    let alerts: Vec<_> = raise(&mut tracked, late)
        .into_iter()
        .filter(|a| a.kind == LimitKind::Contact)
        .map(|a| a.level)
        .collect();
    assert_eq!(alerts, vec![AlertLevel::Overdue, AlertLevel::EscalatedUp]);
}

#[test]
fn a_transition_keeps_the_alerts_already_raised() {
    let mut run = complaint_at(bj(2026, 3, 2, 9, 0));
    let mut tracked = deadlines(&run);
    let warn = tracked[0].warn_at.unwrap_or_default();
    assert!(!raise(&mut tracked, warn).is_empty());
    run.ok(
        Command::Chase {
            note: String::new(),
        },
        &agent(),
    );
    let mut again = carry_over(&tracked, deadlines(&run));
    assert!(raise(&mut again, warn).is_empty());
}

#[test]
fn status_colours_follow_the_instants() {
    let run = complaint_at(bj(2026, 3, 2, 9, 0));
    let tracked = deadlines(&run);
    let t = &tracked[0];
    let status = |now| crate::sla::status(&tracked, false, now);
    assert_eq!(status(t.start), SlaStatus::Normal);
    assert_eq!(status(t.warn_at.unwrap_or_default()), SlaStatus::Warning);
    assert_eq!(status(t.due_at.unwrap_or_default()), SlaStatus::Overdue);
    assert_eq!(
        crate::sla::status(&tracked, true, t.start),
        SlaStatus::Suspended
    );
}

#[test]
fn alerts_go_to_the_holding_unit_then_its_parent() {
    use crate::sla::alert_unit;
    assert_eq!(alert_unit(AlertLevel::Overdue, &county_a()), county_a());
    assert_eq!(
        alert_unit(AlertLevel::EscalatedUp, &county_a()),
        unit(&[2, 3])
    );
    let root = unit(&[]);
    assert_eq!(alert_unit(AlertLevel::EscalatedUp, &root), root);
}
