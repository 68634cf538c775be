//! Each path of issue 4's acceptance that the domain decides, one test per path.

use chrono::DurationRound;

use super::*;

#[test]
fn a_normal_complaint_runs_from_intake_to_archive_and_replays() {
    let mut run = Run::complaint();
    assert_eq!(run.order.state, State::PendingDispatch);
    assert_eq!(
        run.order.owner,
        agent().staff,
        "首问负责制: the intake agent owns it"
    );
    run.ok(dispatch_suggested(), &dispatcher());
    assert_eq!(run.order.dispatcher, Some(dispatcher().staff));
    run.ok(Command::Accept, &handler_a());
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    run.ok(Command::Review(ReviewDecision::Approve), &reviewer());
    run.ok(visit(Satisfaction::VerySatisfied), &agent());
    run.ok(Command::Archive, &agent());
    assert_eq!(run.order.state, State::Archived);
    assert_eq!(run.order.archived_at, Some(run.now));
    let states: Vec<_> = run.timeline.iter().map(|e| e.to.code()).collect();
    assert_eq!(
        states,
        [
            "pending_dispatch",
            "dispatched",
            "in_progress",
            "replied",
            "reviewed",
            "visited",
            "archived"
        ]
    );
    assert_eq!(replay(&run.timeline), Ok(run.order.clone()));
    assert_eq!(run.order.version, 7);
}

#[test]
fn a_returned_order_is_redispatched_and_accepted_with_its_chain_kept() {
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    let e = run.err(
        Command::Return {
            reason: ReturnReason::Other,
            text: " ".into(),
        },
        &handler_a(),
    );
    assert_eq!(field_names(&e), ["text"]);
    run.ok(
        Command::Return {
            reason: ReturnReason::WrongAddress,
            text: "地址属于B县".into(),
        },
        &handler_a(),
    );
    assert_eq!(run.order.state, State::Returned);
    assert_eq!(run.order.host, None);
    // Leaving the five-principles suggestion needs a reason.
    let e = run.err(
        dispatch_to(county_b(), DepartmentKind::Operations, ""),
        &dispatcher(),
    );
    assert_eq!(field_names(&e), ["override_reason"]);
    run.ok(
        dispatch_to(county_b(), DepartmentKind::Operations, "现场核实地址属B县"),
        &dispatcher(),
    );
    run.ok(Command::Accept, &handler_b());
    assert_eq!(run.order.state, State::InProgress);
    assert_eq!(run.order.handler, Some(handler_b().staff));
    assert_eq!(run.order.returns.len(), 1);
    assert_eq!(run.order.returns[0].unit, county_a());
    assert_eq!(run.order.returns[0].reason, ReturnReason::WrongAddress);
    let last = run.timeline.iter().rev().nth(1).map(|e| e.kind.clone());
    assert!(matches!(
        last,
        Some(EventKind::Dispatched { override_reason: Some(r), .. }) if r == "现场核实地址属B县"
    ));
    assert_eq!(replay(&run.timeline), Ok(run.order.clone()));
}

#[test]
fn a_reply_sent_back_by_review_is_replied_again() {
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    let e = run.err(
        Command::Review(ReviewDecision::SendBack { reason: "".into() }),
        &reviewer(),
    );
    assert_eq!(field_names(&e), ["reason"]);
    run.ok(
        Command::Review(ReviewDecision::SendBack {
            reason: "未写明客户反馈".into(),
        }),
        &reviewer(),
    );
    assert_eq!(run.order.state, State::SentBack);
    assert_eq!(run.order.reply, None);
    assert_eq!(run.order.send_backs.len(), 1);
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    run.ok(Command::Review(ReviewDecision::Approve), &reviewer());
    assert_eq!(run.order.state, State::Reviewed);
    assert_eq!(replay(&run.timeline), Ok(run.order.clone()));
}

fn visited(s: Satisfaction) -> Run {
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    run.ok(Command::Review(ReviewDecision::Approve), &reviewer());
    run.ok(visit(s), &agent());
    run
}

#[test]
fn a_dissatisfied_customer_reopens_the_order_back_to_dispatch() {
    let mut run = visited(Satisfaction::Dissatisfied);
    run.ok(
        Command::Reopen {
            reason: "客户称仍然经常停电".into(),
        },
        &agent(),
    );
    assert_eq!(run.order.state, State::Reopened);
    assert_eq!(run.order.reopen_count, 1);
    assert_eq!(
        (run.order.host.clone(), run.order.reply.clone()),
        (None, None)
    );
    assert_eq!(run.order.suggestion().unit, county_a());
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    assert_eq!(replay(&run.timeline), Ok(run.order.clone()));
}

#[test]
fn only_a_supervisor_reopens_when_the_customer_was_not_dissatisfied() {
    let mut run = visited(Satisfaction::Neutral);
    let reopen = || Command::Reopen {
        reason: "中心复核".into(),
    };
    assert_eq!(run.err(reopen(), &agent()), WorkOrderError::NotDissatisfied);
    run.ok(reopen(), &supervisor());
    assert_eq!(run.order.state, State::Reopened);
}

#[test]
fn unanswered_visits_end_after_three_calls() {
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    run.ok(Command::Review(ReviewDecision::Approve), &reviewer());
    let no_answer = || Command::Visit {
        contact: ContactResult::NoAnswer,
        satisfaction: None,
        comment: String::new(),
    };
    let e = run.err(
        Command::Visit {
            contact: ContactResult::Reached,
            satisfaction: None,
            comment: String::new(),
        },
        &agent(),
    );
    assert_eq!(field_names(&e), ["satisfaction"]);
    run.ok(no_answer(), &agent());
    run.ok(no_answer(), &agent());
    assert_eq!(run.order.state, State::Reviewed);
    run.ok(no_answer(), &agent());
    assert_eq!(run.order.state, State::Visited);
    assert_eq!(
        run.order.visit.as_ref().map(|v| v.contact),
        Some(ContactResult::NoAnswer)
    );
    // Not reached means no rating, so only a supervisor could reopen.
    let e = run.err(Command::Reopen { reason: "x".into() }, &agent());
    assert_eq!(e, WorkOrderError::NotDissatisfied);
}

#[test]
fn a_keyword_flags_the_appeal_major_at_intake() {
    let run = Run::open(intake("complaint.outage", "停电三天，我要找记者曝光"));
    assert_eq!(run.order.priority, Priority::Major);
    assert_eq!(run.order.major, Some(MajorReason::Keyword("记者".into())));
    assert!(run.order.on_supervisor_board());
}

#[test]
fn flagging_by_hand_raises_priority_once() {
    let mut run = Run::complaint();
    assert!(!run.order.on_supervisor_board());
    let e = run.err(Command::FlagMajor { reason: "".into() }, &dispatcher());
    assert_eq!(field_names(&e), ["reason"]);
    run.ok(
        Command::FlagMajor {
            reason: "涉及医院保供电".into(),
        },
        &dispatcher(),
    );
    assert_eq!(run.order.priority, Priority::Major);
    assert!(run.order.on_supervisor_board());
    let e = run.err(
        Command::FlagMajor {
            reason: "again".into(),
        },
        &agent(),
    );
    assert_eq!(e, WorkOrderError::AlreadyMajor);
}

#[test]
fn a_manual_major_reason_at_intake_and_a_bad_intake_are_handled() {
    let mut input = intake_input("complaint.outage", "停电");
    input.priority = Priority::Major;
    let refused = Intake::validate(
        input.clone(),
        &Catalogue::defaults(),
        &MajorRules::defaults(),
    );
    let fields: Vec<_> = refused
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["major_reason"]);
    input.major_reason = "人大代表来电".into();
    let ok = Intake::validate(input, &Catalogue::defaults(), &MajorRules::defaults());
    assert_eq!(
        ok.map(|i| i.major),
        Ok(Some(MajorReason::Manual("人大代表来电".into())))
    );
    let mut wrong = intake_input("complaint.outage", "");
    wrong.appeal_type = AppealType::Praise;
    let refused = Intake::validate(wrong, &Catalogue::defaults(), &MajorRules::defaults());
    let fields: Vec<_> = refused
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["sub_category", "content"]);
}

#[test]
fn a_repeat_appeal_is_linked_to_the_earlier_order() {
    let first = Run::complaint();
    let earlier = [(
        first.order.number,
        AppealKey {
            appellant: first.order.caller.appellant(),
            sub_category: first.order.sub_category.clone(),
            at: first.order.opened_at,
        },
    )];
    let mut input = intake_input("complaint.outage", "又停电了");
    input.number = number(2);
    let key = AppealKey {
        appellant: input.caller.appellant(),
        sub_category: SubCategoryCode::parse(&input.sub_category).unwrap_or_else(|e| panic!("{e}")),
        at: t0() + Duration::days(3),
    };
    input.repeat_of = is_repeat(&key, &earlier, DEFAULT_REPEAT_WINDOW_DAYS);
    let second = Intake::validate(input, &Catalogue::defaults(), &MajorRules::defaults());
    assert_eq!(second.map(|i| i.repeat_of), Ok(vec![first.order.number]));
}

#[test]
fn illegal_transitions_name_the_state_and_the_allowed_actions() {
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    let now = run.now;
    let e = run.err(Command::Reply(reply_input(now)), &handler_a());
    assert_eq!(
        e,
        WorkOrderError::IllegalTransition {
            state: State::Dispatched,
            action: Action::Reply,
            allowed: allowed_actions(State::Dispatched),
        }
    );
    assert!(e.to_string().contains("dispatched"), "{e}");
    assert!(e.to_string().contains("accept"), "{e}");
    run.ok(Command::Accept, &handler_a());
    let e = run.err(Command::Archive, &agent());
    assert!(matches!(
        e,
        WorkOrderError::IllegalTransition {
            action: Action::Archive,
            ..
        }
    ));
}

#[test]
fn nothing_is_allowed_after_archive() {
    let mut run = visited(Satisfaction::Satisfied);
    run.ok(Command::Archive, &agent());
    for (cmd, by) in [
        (Command::Chase { note: "".into() }, agent()),
        (Command::Supervise { reason: "x".into() }, supervisor()),
        (Command::Reopen { reason: "x".into() }, supervisor()),
        (Command::FlagMajor { reason: "x".into() }, dispatcher()),
        (Command::Archive, agent()),
    ] {
        let e = run.err(cmd, &by);
        assert!(
            matches!(&e, WorkOrderError::IllegalTransition { state: State::Archived, allowed, .. } if allowed.is_empty()),
            "{e:?}"
        );
    }
    assert!(!run.order.on_supervisor_board());
}

#[test]
fn wrong_roles_units_and_departments_are_refused() {
    let mut run = Run::complaint();
    assert_eq!(
        run.err(dispatch_suggested(), &agent()),
        WorkOrderError::RoleNotAllowed {
            action: Action::Dispatch,
            needs: vec![Role::Dispatcher]
        }
    );
    assert!(matches!(
        run.err(dispatch_suggested(), &admin()),
        WorkOrderError::RoleNotAllowed { .. }
    ));
    // A county dispatcher cannot send an order outside its county.
    let county_dispatcher = actor(4, &[Role::Dispatcher], county_b(), None);
    assert!(matches!(
        run.err(dispatch_suggested(), &county_dispatcher),
        WorkOrderError::OutOfScope { .. }
    ));
    run.ok(dispatch_suggested(), &dispatcher());
    assert!(matches!(
        run.err(Command::Accept, &handler_b()),
        WorkOrderError::NotHostUnit { .. }
    ));
    assert_eq!(
        run.err(Command::Accept, &marketing_a()),
        WorkOrderError::WrongDepartment {
            action: Action::Accept,
            assigned: DepartmentKind::Operations
        }
    );
    // A station below the host unit may act for it.
    let station = actor(13, &[Role::Handler], county_a().child(OrgUnitId(40)), None);
    run.ok(Command::Accept, &station);
    assert!(matches!(
        run.err(
            Command::Supervise { reason: "x".into() },
            &other_supervisor()
        ),
        WorkOrderError::OutOfScope { .. }
    ));
    run.ok(
        Command::Supervise {
            reason: "重点跟踪".into(),
        },
        &supervisor(),
    );
    assert_eq!(
        run.err(
            Command::Supervise {
                reason: "again".into()
            },
            &supervisor()
        ),
        WorkOrderError::AlreadySupervised
    );
    assert!(run.order.is_supervised());
}

#[test]
fn a_reviewer_may_not_review_their_own_reply() {
    let both = actor(
        5,
        &[Role::Dispatcher, Role::Handler],
        county_a(),
        Some(DepartmentKind::Operations),
    );
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &both);
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &both);
    assert_eq!(
        run.err(Command::Review(ReviewDecision::Approve), &both),
        WorkOrderError::OwnReply
    );
}

#[test]
fn a_reply_missing_fields_is_refused_naming_each() {
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    let e = run.err(
        Command::Reply(ReplyInput {
            handler: "张伟".into(),
            ..ReplyInput::default()
        }),
        &handler_a(),
    );
    assert_eq!(
        field_names(&e),
        [
            "handled_at",
            "actions_taken",
            "result_and_feedback",
            "fault"
        ]
    );
    let e = run.err(
        Command::Reply(ReplyInput {
            handled_at: Some(t0() - Duration::days(1)),
            ..reply_input(t0())
        }),
        &handler_a(),
    );
    assert_eq!(field_names(&e), ["handled_at"]);
    // A time typed to the minute in which the appeal was taken counts as after it.
    let same_minute = t0()
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        same_minute < t0(),
        "t0 has seconds, so this checks the rule"
    );
    run.ok(
        Command::Reply(ReplyInput {
            handled_at: Some(same_minute),
            ..reply_input(t0())
        }),
        &handler_a(),
    );
}

#[test]
fn chases_are_counted_and_assisting_units_added_once() {
    let mut run = Run::complaint();
    run.ok(
        Command::Chase {
            note: "客户来电催促".into(),
        },
        &agent(),
    );
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Chase { note: "".into() }, &supervisor());
    assert_eq!(run.order.chase_count, 2);
    run.ok(Command::AddAssist { unit: county_b() }, &dispatcher());
    let e = run.err(Command::AddAssist { unit: county_b() }, &dispatcher());
    assert_eq!(field_names(&e), ["unit"]);
    let e = run.err(Command::AddAssist { unit: county_a() }, &dispatcher());
    assert_eq!(field_names(&e), ["unit"]);
    assert_eq!(run.order.assisting, [county_b()]);
    assert_eq!(replay(&run.timeline), Ok(run.order.clone()));
}

#[test]
fn reclassifying_changes_the_suggested_department_and_can_make_it_major() {
    let catalogue = Catalogue::defaults();
    let mut run = Run::open(intake("complaint.outage", "家里有人被电到了"));
    let shock = catalogue
        .lookup("sub_category", "fault_repair.electric_shock")
        .cloned()
        .unwrap_or_else(|e| panic!("{e}"));
    let major = assess_major(&MajorRules::defaults(), &shock, &run.order.content);
    run.ok(
        Command::Reclassify {
            sub_category: shock,
            major,
        },
        &dispatcher(),
    );
    assert_eq!(run.order.appeal_type, AppealType::FaultRepair);
    assert_eq!(run.order.priority, Priority::Major);
    let s = suggest_dispatch(
        &catalogue,
        &run.order.sub_category,
        run.order.jurisdiction(),
    );
    let s = s.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (s.unit, s.department),
        (county_a(), DepartmentKind::Operations)
    );
    assert!(
        s.rule.contains("属地管理") && s.rule.contains("触电事故"),
        "{}",
        s.rule
    );
}

#[test]
fn a_broken_timeline_is_refused() {
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    assert_eq!(replay(&[]), Err(ReplayError::Empty));
    assert_eq!(
        replay(&run.timeline[1..]),
        Err(ReplayError::NotOpenedFirst { version: 2 })
    );
    let gap = [run.timeline[0].clone(), run.timeline[2].clone()];
    assert_eq!(
        replay(&gap),
        Err(ReplayError::VersionGap {
            expected: 2,
            found: 3
        })
    );
}

#[test]
fn intake_is_for_agents_and_customer_managers() {
    let refused = open(intake("complaint.outage", "停电"), &handler_a(), t0());
    assert!(matches!(
        refused,
        Err(WorkOrderError::RoleNotAllowed {
            action: Action::Intake,
            ..
        })
    ));
    let cm = actor(6, &[Role::CustomerManager], county_a(), None);
    assert!(open(intake("complaint.outage", "停电"), &cm, t0()).is_ok());
}

#[test]
fn of_two_dispatchers_on_the_same_version_only_the_first_wins() {
    let mut run = Run::complaint();
    let seen = run.order.version;
    assert_eq!(check_version(&run.order, seen), Ok(()));
    run.ok(dispatch_suggested(), &dispatcher());
    // The second dispatcher acted on the version both had read.
    assert_eq!(
        check_version(&run.order, seen),
        Err(WorkOrderError::StaleVersion {
            expected: seen,
            current: seen + 1
        })
    );
}

fn rate(s: Satisfaction) -> Command {
    Command::CustomerRate {
        satisfaction: s,
        comment: "处理及时".into(),
    }
}

fn approved() -> Run {
    let mut run = Run::complaint();
    run.ok(dispatch_suggested(), &dispatcher());
    run.ok(Command::Accept, &handler_a());
    let now = run.now;
    run.ok(Command::Reply(reply_input(now)), &handler_a());
    run.ok(Command::Review(ReviewDecision::Approve), &reviewer());
    run
}

#[test]
fn the_customer_rates_an_approved_answer_once_and_the_timeline_replays() {
    let mut run = approved();
    run.ok(rate(Satisfaction::Satisfied), &portal());
    let rating = run.order.customer_rating.clone();
    assert_eq!(
        rating
            .as_ref()
            .map(|r| (r.satisfaction, r.comment.as_deref())),
        Some((Satisfaction::Satisfied, Some("处理及时")))
    );
    assert_eq!(
        run.order.state,
        State::Reviewed,
        "rating does not replace the visit"
    );
    assert_eq!(
        run.err(rate(Satisfaction::VerySatisfied), &portal()),
        WorkOrderError::AlreadyRated
    );
    run.ok(visit(Satisfaction::Satisfied), &agent());
    assert_eq!(replay(&run.timeline), Ok(run.order.clone()));
}

#[test]
fn the_customer_cannot_rate_before_the_answer_is_approved_or_after_archive() {
    let mut run = Run::complaint();
    let e = run.err(rate(Satisfaction::Satisfied), &portal());
    assert!(
        matches!(e, WorkOrderError::IllegalTransition { .. }),
        "{e:?}"
    );
    let mut run = visited(Satisfaction::Satisfied);
    run.ok(Command::Archive, &agent());
    let e = run.err(rate(Satisfaction::Satisfied), &portal());
    assert!(
        matches!(e, WorkOrderError::IllegalTransition { .. }),
        "{e:?}"
    );
}

#[test]
fn only_the_portal_rates_for_the_customer_and_it_takes_appeals() {
    let mut run = approved();
    let e = run.err(rate(Satisfaction::Satisfied), &agent());
    assert!(matches!(e, WorkOrderError::RoleNotAllowed { .. }), "{e:?}");
    let e = run.err(Command::Archive, &portal());
    assert!(matches!(e, WorkOrderError::RoleNotAllowed { .. }), "{e:?}");
    let opened = open(intake("complaint.outage", "停电"), &portal(), t0());
    assert_eq!(opened.map(|e| e.actor), Ok(StaffId(40)));
}

#[test]
fn a_dissatisfied_online_rating_lets_an_agent_reopen_and_clears_the_rating() {
    let mut run = approved();
    run.ok(rate(Satisfaction::VeryDissatisfied), &portal());
    run.ok(visit(Satisfaction::Neutral), &agent());
    run.ok(
        Command::Reopen {
            reason: "客户网上评价很不满意".into(),
        },
        &agent(),
    );
    assert_eq!(run.order.state, State::Reopened);
    assert_eq!(run.order.customer_rating, None);
    assert_eq!(replay(&run.timeline), Ok(run.order.clone()));
}

#[test]
fn the_customer_sees_the_answer_steps_but_not_internal_ones() {
    let mut run = approved();
    run.ok(
        Command::Chase {
            note: "尽快".into(),
        },
        &agent(),
    );
    run.ok(rate(Satisfaction::Satisfied), &portal());
    let steps: Vec<CustomerStep> = customer_steps(&run.timeline)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        steps,
        vec![
            CustomerStep::Received,
            CustomerStep::Assigned,
            CustomerStep::Handling,
            CustomerStep::Answered,
            CustomerStep::Rated,
        ]
    );
    assert_eq!(customer_status(run.order.state), CustomerStatus::Answered);
    assert!(answer_is_final(run.order.state));
    assert!(!answer_is_final(State::Replied));
}
