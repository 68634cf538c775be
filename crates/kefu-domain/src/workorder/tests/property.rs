//! Any sequence of commands from any actors keeps the order inside the machine, and the events
//! it produced replay to exactly the order that was built step by step.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn actors() -> Vec<ActorCtx> {
    vec![
        agent(),
        dispatcher(),
        reviewer(),
        handler_a(),
        marketing_a(),
        handler_b(),
        supervisor(),
        other_supervisor(),
        admin(),
        portal(),
    ]
}

/// A command built from three small numbers, so shrinking gives readable counter-examples.
fn command(kind: u8, param: u8, now: DateTime<Utc>) -> Command {
    let units = [county_a(), county_b(), other_city(), province()];
    let pick_unit = units[usize::from(param) % units.len()].clone();
    let reason = if param.is_multiple_of(3) {
        ""
    } else {
        "原因说明"
    };
    let department = DepartmentKind::ALL[usize::from(param) % 3 + 2];
    match kind % 19 {
        0 => dispatch_to(pick_unit, department, reason),
        1 => dispatch_suggested(),
        2 => Command::Accept,
        3 => Command::Return {
            reason: ReturnReason::ALL[usize::from(param) % ReturnReason::ALL.len()],
            text: reason.into(),
        },
        4 => Command::Chase {
            note: reason.into(),
        },
        5 => Command::Supervise {
            reason: reason.into(),
        },
        6 => Command::Reply(if param.is_multiple_of(4) {
            ReplyInput::default()
        } else {
            reply_input(now)
        }),
        7 => Command::Review(if param.is_multiple_of(2) {
            ReviewDecision::Approve
        } else {
            ReviewDecision::SendBack {
                reason: reason.into(),
            }
        }),
        8 => {
            let contact = ContactResult::ALL[usize::from(param) % ContactResult::ALL.len()];
            let satisfaction = (contact == ContactResult::Reached || param.is_multiple_of(7))
                .then(|| Satisfaction::ALL[usize::from(param) % 5]);
            Command::Visit {
                contact,
                satisfaction,
                comment: reason.into(),
            }
        }
        9 => Command::Reopen {
            reason: reason.into(),
        },
        10 => Command::Archive,
        11 => Command::AddAssist { unit: pick_unit },
        12 => {
            let catalogue = Catalogue::defaults();
            let entries = catalogue.entries();
            let sub = entries[usize::from(param) % entries.len()].clone();
            let major = assess_major(&MajorRules::defaults(), &sub, "");
            Command::Reclassify {
                sub_category: sub,
                major,
            }
        }
        13 => Command::FlagMajor {
            reason: reason.into(),
        },
        14 => Command::Contact {
            note: reason.into(),
        },
        15 => Command::Arrive {
            note: reason.into(),
        },
        16 => Command::Suspend {
            reason: SuspendReason::ALL[usize::from(param) % SuspendReason::ALL.len()],
            text: reason.into(),
        },
        17 => Command::Resume {
            note: reason.into(),
        },
        _ => Command::CustomerRate {
            satisfaction: Satisfaction::ALL[usize::from(param) % Satisfaction::ALL.len()],
            comment: reason.into(),
        },
    }
}

/// The command kind (as `command` reads it) that performs `action`.
fn kind_of(action: Action, param: u8) -> u8 {
    match action {
        Action::Dispatch => param % 2,
        Action::Accept => 2,
        Action::Return => 3,
        Action::Chase => 4,
        Action::Supervise => 5,
        Action::Reply => 6,
        Action::Review => 7,
        Action::Visit => 8,
        Action::Reopen => 9,
        Action::Archive => 10,
        Action::AddAssist => 11,
        Action::Reclassify => 12,
        Action::FlagMajor | Action::Intake => 13,
        Action::Contact => 14,
        Action::Arrive => 15,
        Action::Suspend => 16,
        Action::Resume => 17,
        Action::CustomerRate => 18,
    }
}

/// The actor who would normally take `action` on `order`, so random runs get deep.
fn natural_actor(action: Action, order: &Order, param: u8) -> ActorCtx {
    match action {
        Action::Accept
        | Action::Return
        | Action::Reply
        | Action::Contact
        | Action::Arrive
        | Action::Suspend
        | Action::Resume => [handler_a(), marketing_a(), handler_b()]
            .into_iter()
            .find(|h| {
                order.host.as_ref().is_some_and(|host| {
                    host.unit.contains(&h.unit) && h.department == Some(host.department)
                })
            })
            .unwrap_or_else(handler_a),
        Action::Chase | Action::Visit | Action::Archive => agent(),
        Action::Supervise => supervisor(),
        Action::Review => reviewer(),
        Action::Reopen if param.is_multiple_of(2) => agent(),
        Action::Reopen => supervisor(),
        Action::CustomerRate => portal(),
        _ => dispatcher(),
    }
}

/// Every state the transition table can reach from intake.
fn reachable() -> BTreeSet<State> {
    let mut seen = BTreeSet::from([State::PendingDispatch]);
    let mut todo = vec![State::PendingDispatch];
    while let Some(s) = todo.pop() {
        for a in allowed_actions(s) {
            for t in targets(s, a) {
                if seen.insert(t) {
                    todo.push(t);
                }
            }
        }
    }
    seen
}

/// What must hold of every order the machine builds.
fn check_invariants(o: &Order) {
    use State as S;
    let s = o.state;
    assert_eq!(o.host.is_none(), s.awaits_dispatch(), "host in {s}");
    let accepted = matches!(
        s,
        S::InProgress | S::SentBack | S::Replied | S::Reviewed | S::Visited | S::Archived
    );
    assert_eq!(o.handler.is_some(), accepted, "handler in {s}");
    let replied = matches!(s, S::Replied | S::Reviewed | S::Visited | S::Archived);
    assert_eq!(o.reply.is_some(), replied, "reply in {s}");
    assert_eq!(
        o.visit.is_some(),
        matches!(s, S::Visited | S::Archived),
        "visit in {s}"
    );
    assert_eq!(o.major.is_some(), o.priority == Priority::Major);
    assert_eq!(o.archived_at.is_some(), s == S::Archived);
    if o.customer_rating.is_some() {
        assert!(
            matches!(s, S::Reviewed | S::Visited | S::Archived),
            "rated in {s}"
        );
    }
    assert!(o.returns.len() <= MAX_RETURNS && o.assisting.len() <= MAX_ASSISTING_UNITS);
    if let Some(h) = &o.host {
        assert!(!o.assisting.contains(&h.unit), "host also assisting");
    }
    // At most the last suspension is open, and only while the unit holds the order.
    let open = o.suspensions.iter().filter(|x| x.until.is_none()).count();
    assert!(open <= 1 && o.suspensions.len() <= MAX_SUSPENSIONS);
    if o.is_suspended() {
        assert!(matches!(s, S::InProgress | S::SentBack), "suspended in {s}");
    }
    assert!(
        o.suspensions
            .iter()
            .all(|x| x.until.is_none_or(|u| u >= x.from))
    );
}

#[test]
fn every_state_is_reachable_and_archive_is_final() {
    assert_eq!(reachable().len(), State::ALL.len());
    assert!(allowed_actions(State::Archived).is_empty());
    assert_eq!(State::Archived.waits_for(), Party::Nobody);
}

#[test]
fn every_action_has_roles_and_a_state_that_allows_it() {
    for a in Action::ALL {
        assert!(!roles_for(*a).is_empty(), "{a}");
        let somewhere = State::ALL.iter().any(|s| allowed_actions(*s).contains(a));
        assert_eq!(somewhere, *a != Action::Intake, "{a}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_commands_stay_in_the_machine_and_replay(
        steps in proptest::collection::vec((0u8..4, 0u8..9, 0u8..18, any::<u8>()), 0..80)
    ) {
        let actors = actors();
        let reachable = reachable();
        let mut run = Run::complaint();
        for (mode, who, kind, param) in steps {
            let now = run.now + Duration::minutes(30);
            // Three steps in four take an allowed action (often the first, the way forward)
            // with its usual actor, so runs get deep; the fourth is anything from anyone.
            let (cmd, by) = if mode > 0 {
                let allowed = allowed_actions(run.order.state);
                let pick = if kind.is_multiple_of(2) { 0 } else { usize::from(kind) };
                let Some(&a) = allowed.get(pick % allowed.len().max(1)) else {
                    continue;
                };
                (command(kind_of(a, param), param, now), natural_actor(a, &run.order, param))
            } else {
                (command(kind, param, now), actors[usize::from(who) % actors.len()].clone())
            };
            let by = &by;
            let action = cmd.action();
            let before = run.order.clone();
            match run.go(cmd, by) {
                Ok(()) => {
                    prop_assert!(allowed_actions(before.state).contains(&action));
                    let e = run.timeline.last().cloned();
                    let e = e.unwrap_or_else(|| panic!("no event"));
                    prop_assert_eq!(e.from, Some(before.state));
                    prop_assert_eq!(e.kind.action(), Some(action));
                    prop_assert!(targets(before.state, action).contains(&e.to));
                    prop_assert_eq!(e.version, before.version + 1);
                    prop_assert!(roles_for(action).iter().any(|r| by.roles.has(*r)));
                }
                Err(WorkOrderError::IllegalTransition { state, action: a, allowed }) => {
                    prop_assert_eq!(state, before.state);
                    prop_assert_eq!(a, action);
                    prop_assert!(!allowed.contains(&action));
                    prop_assert_eq!(&allowed, &allowed_actions(state));
                    prop_assert_eq!(&run.order, &before);
                }
                Err(_) => prop_assert_eq!(&run.order, &before),
            }
            prop_assert!(reachable.contains(&run.order.state));
            check_invariants(&run.order);
        }
        prop_assert_eq!(replay(&run.timeline), Ok(run.order.clone()));
    }

    /// Whatever the order went through, its deadlines compute, their instants are ordered,
    /// warnings never fire before the clock starts, and a sweep at any instant raises each level
    /// once: the second sweep at the same instant raises nothing.
    #[test]
    fn deadlines_of_any_order_are_ordered_and_alerts_are_raised_once(
        steps in proptest::collection::vec((0u8..18, any::<u8>()), 0..40),
        sweep_minutes in proptest::collection::vec(0i64..40_000, 1..6),
    ) {
        use crate::calendar::{TimeLimits, WorkingCalendar};
        use crate::sla::{SlaPolicy, carry_over, raise, schedule};
        let calendar = WorkingCalendar::china_default();
        let limits = TimeLimits::defaults();
        let mut run = Run::complaint();
        let mut tracked = Vec::new();
        for (kind, param) in steps {
            let now = run.now + Duration::minutes(30);
            let allowed = allowed_actions(run.order.state);
            let Some(&a) = allowed.get(usize::from(kind) % allowed.len().max(1)) else {
                continue;
            };
            let cmd = command(kind_of(a, param), param, now);
            let by = natural_actor(a, &run.order, param);
            if run.go(cmd, &by).is_err() {
                continue;
            }
            let fresh = schedule(&run.order, &calendar, &limits, SlaPolicy::default());
            let fresh = fresh.unwrap_or_else(|e| panic!("{e}"));
            tracked = carry_over(&tracked, fresh);
            for t in &tracked {
                prop_assert!(t.start <= run.order.updated_at);
                if let (Some(w), Some(d), Some(e)) = (t.warn_at, t.due_at, t.escalate_at) {
                    prop_assert!(t.start <= w && w <= d && d <= e, "{t:?}");
                } else {
                    prop_assert!(run.order.is_suspended(), "{t:?}");
                }
            }
        }
        let mut sorted = sweep_minutes;
        sorted.sort_unstable();
        let mut seen = std::collections::BTreeSet::new();
        for m in sorted {
            let at = run.now + Duration::minutes(m);
            for alert in raise(&mut tracked, at) {
                prop_assert!(alert.reached_at <= at);
                prop_assert!(seen.insert((alert.kind, alert.start, alert.level)), "{alert:?}");
            }
            prop_assert!(raise(&mut tracked, at).is_empty());
        }
    }
}
