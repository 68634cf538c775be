//! Work orders: the lifecycle through the store, idempotent intake, order numbers, optimistic
//! concurrency, scope, repeat links, the timeline and the filtered list.

use kefu_domain::workorder::{
    Action, Channel, Command, FaultFinding, OrderNumber, ReplyInput, ReturnReason, ReviewDecision,
    Satisfaction, State, WorkOrderError, replay,
};
use kefu_store::{
    IntakeOptions, IntakeOutcome, OrderFilter, PageRequest, Store, StoreError, WorkOrderStoreError,
};

use crate::fixtures::{at, t0, tree};
use crate::workorder_fixtures::sla;
use crate::workorder_fixtures::{
    cast, complaint, dispatch_a, intake, ok, reply, step, take, visit,
};

/// Intake → dispatch → accept → reply → review → visit → archive, each step one event whose
/// from/to, actor and version the timeline shows; archived orders refuse everything.
pub async fn complaint_goes_from_intake_to_archive(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let first = take(store, &c, complaint(&t), t0()).await;
    let n = first.order.number;
    assert_eq!(first.order.state, State::PendingDispatch);
    assert_eq!(first.order.owner, c.agent.staff);
    ok(store, &t, &n, dispatch_a(&t), &c.dispatcher, at(1)).await;
    ok(store, &t, &n, Command::Accept, &c.handler_a, at(2)).await;
    ok(store, &t, &n, reply(at(3)), &c.handler_a, at(3)).await;
    let review = Command::Review(ReviewDecision::Approve);
    ok(store, &t, &n, review, &c.reviewer, at(4)).await;
    ok(
        store,
        &t,
        &n,
        visit(Satisfaction::Satisfied),
        &c.agent,
        at(5),
    )
    .await;
    let done = ok(store, &t, &n, Command::Archive, &c.agent, at(6)).await;
    assert_eq!(done.order.state, State::Archived);
    assert_eq!(done.order.version, 7);
    assert_eq!(done.order.archived_at, Some(at(6)));

    let stored = store.get_order(&n, &t.hq.path).await.expect("get");
    assert_eq!(stored.as_ref(), Some(&done));
    let timeline = store.timeline(&n, &t.hq.path).await.expect("timeline");
    let steps: Vec<_> = timeline
        .iter()
        .map(|e| {
            (
                e.event.version,
                e.event.from,
                e.event.to,
                e.event.kind.action(),
            )
        })
        .collect();
    use State as S;
    assert_eq!(
        steps,
        vec![
            (1, None, S::PendingDispatch, None),
            (
                2,
                Some(S::PendingDispatch),
                S::Dispatched,
                Some(Action::Dispatch)
            ),
            (3, Some(S::Dispatched), S::InProgress, Some(Action::Accept)),
            (4, Some(S::InProgress), S::Replied, Some(Action::Reply)),
            (5, Some(S::Replied), S::Reviewed, Some(Action::Review)),
            (6, Some(S::Reviewed), S::Visited, Some(Action::Visit)),
            (7, Some(S::Visited), S::Archived, Some(Action::Archive)),
        ]
    );
    assert_eq!(timeline[2].event.actor, c.handler_a.staff);
    assert_eq!(timeline[2].event.at, at(2));

    let chase = Command::Chase {
        note: "催一下".into(),
    };
    let err = step(store, &t, &n, chase, &c.agent, at(7))
        .await
        .expect_err("archived is read-only");
    assert!(
        matches!(
            err,
            WorkOrderStoreError::Rule(WorkOrderError::IllegalTransition { state: State::Archived, ref allowed, .. })
                if allowed.is_empty()
        ),
        "{err:?}"
    );
}

/// A return sends the order back to the dispatcher; the re-dispatched, accepted order keeps
/// the whole chain of returns.
pub async fn return_then_redispatch_keeps_the_return_chain(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let n = take(store, &c, complaint(&t), t0()).await.order.number;
    let to_b = Command::Dispatch {
        unit: t.county_b.path.clone(),
        department: kefu_domain::org::DepartmentKind::Operations,
        override_reason: "county A is short of staff today".into(),
    };
    ok(store, &t, &n, to_b, &c.dispatcher, at(1)).await;
    let back = Command::Return {
        reason: ReturnReason::NotOurs,
        text: "the address is in 西湖区".into(),
    };
    let returned = ok(store, &t, &n, back, &c.handler_b, at(2)).await;
    assert_eq!(returned.order.state, State::Returned);
    assert_eq!(returned.order.host, None);
    ok(store, &t, &n, dispatch_a(&t), &c.dispatcher, at(3)).await;
    let accepted = ok(store, &t, &n, Command::Accept, &c.handler_a, at(4)).await;
    assert_eq!(accepted.order.state, State::InProgress);
    assert_eq!(accepted.order.returns.len(), 1);
    let r = &accepted.order.returns[0];
    assert_eq!(
        (r.by, &r.unit, r.reason, r.at),
        (
            c.handler_b.staff,
            &t.county_b.path,
            ReturnReason::NotOurs,
            at(2)
        )
    );
    assert_eq!(r.text.as_deref(), Some("the address is in 西湖区"));
    let stored = store.get_order(&n, &t.hq.path).await.expect("get");
    assert_eq!(stored, Some(accepted));
}

/// A retried intake with the same idempotency key returns the first order, also when both
/// tries run at the same time; a different key makes a new order.
pub async fn retried_intake_returns_the_first_order(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let keyed = |k: &str| {
        intake(
            1,
            &t.county_a.path,
            "complaint.outage",
            Channel::Web,
            Some(k),
        )
    };
    let opts = IntakeOptions::default();
    let (first, o1) = store
        .intake(keyed("msg-1"), opts, &c.agent, sla(), t0())
        .await
        .expect("first");
    let (again, o2) = store
        .intake(keyed("msg-1"), opts, &c.agent, sla(), at(1))
        .await
        .expect("retry");
    assert_eq!((o1, o2), (IntakeOutcome::Created, IntakeOutcome::Replayed));
    assert_eq!(again, first);

    let (a, b) = tokio::join!(
        store.intake(keyed("msg-2"), opts, &c.agent, sla(), at(2)),
        store.intake(keyed("msg-2"), opts, &c.agent, sla(), at(2)),
    );
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!(a.0.order.number, b.0.order.number);
    let mut outcomes = vec![a.1, b.1];
    outcomes.sort_by_key(|o| *o == IntakeOutcome::Replayed);
    assert_eq!(
        outcomes,
        vec![IntakeOutcome::Created, IntakeOutcome::Replayed]
    );

    let page = store
        .list_orders(&OrderFilter::default(), &t.hq.path, PageRequest::first())
        .await
        .expect("list");
    assert_eq!(page.items.len(), 2, "two keys, two orders");
    let numbers: Vec<u32> = page.items.iter().map(|o| o.order.number.seq()).collect();
    assert_eq!(numbers, vec![2, 1], "no number was spent on the replays");
}

/// The same idempotency key with the same content replays the first order; with a different
/// description it is refused naming the first order and nothing is written — also when both
/// tries run at the same time.
pub async fn reused_key_with_other_content_is_refused(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let keyed = |k: &str, content: &str| {
        let mut i = intake(
            1,
            &t.county_a.path,
            "complaint.outage",
            Channel::Web,
            Some(k),
        );
        i.content = content.to_owned();
        i
    };
    let opts = IntakeOptions::default();
    let count = || async {
        store
            .list_orders(&OrderFilter::default(), &t.hq.path, PageRequest::first())
            .await
            .expect("list")
            .items
            .len()
    };
    let (first, o1) = store
        .intake(
            keyed("msg-1", "小区停电两天无人处理"),
            opts,
            &c.agent,
            sla(),
            t0(),
        )
        .await
        .expect("first");
    let (same, o2) = store
        .intake(
            keyed("msg-1", "小区停电两天无人处理"),
            opts,
            &c.agent,
            sla(),
            at(1),
        )
        .await
        .expect("same content");
    assert_eq!((o1, o2), (IntakeOutcome::Created, IntakeOutcome::Replayed));
    assert_eq!(same, first);
    assert_eq!(count().await, 1);

    let refused = store
        .intake(
            keyed("msg-1", "电表读数异常，电费翻倍"),
            opts,
            &c.agent,
            sla(),
            at(2),
        )
        .await;
    match refused {
        Err(WorkOrderStoreError::IdempotencyKeyReused { first: n }) => {
            assert_eq!(n, first.order.number);
        }
        other => panic!("expected IdempotencyKeyReused, got {other:?}"),
    }
    assert_eq!(count().await, 1, "a refused reuse writes nothing");
    let stored = store.get_order(&first.order.number, &t.hq.path).await;
    assert_eq!(stored.expect("get"), Some(first.clone()));

    let (a, b) = tokio::join!(
        store.intake(
            keyed("msg-2", "小区停电两天无人处理"),
            opts,
            &c.agent,
            sla(),
            at(3)
        ),
        store.intake(
            keyed("msg-2", "电表读数异常，电费翻倍"),
            opts,
            &c.agent,
            sla(),
            at(3)
        ),
    );
    let (won, lost) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("expected one order and one refusal, got {other:?}"),
    };
    assert_eq!(won.1, IntakeOutcome::Created);
    assert!(
        matches!(lost, WorkOrderStoreError::IdempotencyKeyReused { first: n } if n == won.0.order.number),
        "{lost:?}"
    );
    assert_eq!(count().await, 2);
}

/// Two dispatchers acting on the same version at the same time: exactly one wins, the other
/// gets `VersionConflict`, and the timeline holds one dispatch.
pub async fn concurrent_dispatch_has_exactly_one_winner(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let n = take(store, &c, complaint(&t), t0()).await.order.number;
    let other = kefu_domain::workorder::ActorCtx {
        staff: kefu_domain::ids::StaffId(199),
        ..c.dispatcher.clone()
    };
    let (a, b) = tokio::join!(
        store.apply(
            &n,
            1,
            dispatch_a(&t),
            &c.dispatcher,
            &t.hq.path,
            sla(),
            at(1)
        ),
        store.apply(&n, 1, dispatch_a(&t), &other, &t.hq.path, sla(), at(1)),
    );
    let wins = [a.is_ok(), b.is_ok()];
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{a:?} / {b:?}");
    let loser = if wins[0] { b } else { a };
    assert!(
        matches!(
            loser,
            Err(WorkOrderStoreError::Store(StoreError::VersionConflict {
                current: 2,
                ..
            }))
        ),
        "{loser:?}"
    );
    let timeline = store.timeline(&n, &t.hq.path).await.expect("timeline");
    assert_eq!(timeline.len(), 2);
    let stale = store
        .apply(
            &n,
            1,
            Command::Accept,
            &c.handler_a,
            &t.hq.path,
            sla(),
            at(2),
        )
        .await;
    assert!(
        matches!(
            stale,
            Err(WorkOrderStoreError::Store(
                StoreError::VersionConflict { .. }
            ))
        ),
        "{stale:?}"
    );
}

/// A reply before accept is the domain's typed refusal naming the allowed actions, and
/// nothing is written.
pub async fn illegal_transition_is_typed_and_writes_nothing(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let n = take(store, &c, complaint(&t), t0()).await.order.number;
    let before = ok(store, &t, &n, dispatch_a(&t), &c.dispatcher, at(1)).await;
    let err = step(store, &t, &n, reply(at(2)), &c.handler_a, at(2))
        .await
        .expect_err("reply before accept");
    match &err {
        WorkOrderStoreError::Rule(WorkOrderError::IllegalTransition {
            state,
            action,
            allowed,
        }) => {
            assert_eq!((*state, *action), (State::Dispatched, Action::Reply));
            assert!(allowed.contains(&Action::Accept), "{allowed:?}");
        }
        other => panic!("expected IllegalTransition, got {other:?}"),
    }
    assert!(err.to_string().contains("accept"), "{err}");
    let wrong_role = step(store, &t, &n, Command::Accept, &c.agent, at(3)).await;
    assert!(
        matches!(
            wrong_role,
            Err(WorkOrderStoreError::Rule(
                WorkOrderError::RoleNotAllowed { .. }
            ))
        ),
        "{wrong_role:?}"
    );
    let after = store.get_order(&n, &t.hq.path).await.expect("get");
    assert_eq!(after, Some(before));
    assert_eq!(
        store
            .timeline(&n, &t.hq.path)
            .await
            .expect("timeline")
            .len(),
        2
    );
}

/// An order hosted outside the caller's unit is treated exactly like a missing one.
pub async fn order_outside_scope_is_not_found(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let n = take(store, &c, complaint(&t), t0()).await.order.number;
    let b = &t.county_b.path;
    assert_eq!(store.get_order(&n, b).await.expect("get"), None);
    assert!(matches!(
        store.timeline(&n, b).await,
        Err(StoreError::NotFound { .. })
    ));
    let r = store
        .apply(&n, 1, dispatch_a(&t), &c.dispatcher, b, sla(), at(1))
        .await;
    assert!(
        matches!(
            r,
            Err(WorkOrderStoreError::Store(StoreError::NotFound { .. }))
        ),
        "{r:?}"
    );
    let missing = OrderNumber::parse("GD20261122999999").expect("number");
    assert_eq!(
        store.get_order(&missing, &t.hq.path).await.expect("get"),
        None
    );
    assert!(
        store
            .get_order(&n, &t.county_a.path)
            .await
            .expect("get")
            .is_some()
    );
    let listed = store
        .list_orders(&OrderFilter::default(), b, PageRequest::first())
        .await
        .expect("list");
    assert!(listed.items.is_empty());
}

/// Numbers are GD + the centre's (UTC+8) date + a gap-free daily sequence from 1.
pub async fn order_numbers_are_sequential_per_centre_day(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let mut numbers = Vec::new();
    for i in 0..3 {
        numbers.push(
            take(store, &c, complaint(&t), at(i))
                .await
                .order
                .number
                .to_string(),
        );
    }
    assert_eq!(
        numbers,
        ["GD20261122000001", "GD20261122000002", "GD20261122000003"]
    );
    // 16:00 UTC is midnight in Beijing: a new day, a new sequence.
    let late = t0() + chrono::Duration::hours(8);
    let next = take(store, &c, complaint(&t), late).await.order.number;
    assert_eq!(next.to_string(), "GD20261123000001");
    let before = take(
        store,
        &c,
        complaint(&t),
        late - chrono::Duration::seconds(1),
    )
    .await;
    assert_eq!(before.order.number.to_string(), "GD20261122000004");
    let (x, y) = tokio::join!(
        store.intake(
            complaint(&t),
            IntakeOptions::default(),
            &c.agent,
            sla(),
            at(10)
        ),
        store.intake(
            complaint(&t),
            IntakeOptions::default(),
            &c.agent,
            sla(),
            at(10)
        ),
    );
    let mut seqs = [
        x.expect("x").0.order.number.seq(),
        y.expect("y").0.order.number.seq(),
    ];
    seqs.sort_unstable();
    assert_eq!(seqs, [5, 6]);
}

/// The same customer on the same sub-category within the window is linked to the earlier
/// order; another matter, or a customer outside the window, is not.
pub async fn repeat_appeal_is_linked(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let a = &t.county_a.path;
    let first = take(
        store,
        &c,
        intake(5, a, "complaint.outage", Channel::Web, None),
        t0(),
    )
    .await;
    let other = take(
        store,
        &c,
        intake(5, a, "complaint.tariff", Channel::Web, None),
        at(1),
    )
    .await;
    assert!(other.order.repeat_of.is_empty());
    let later = t0() + chrono::Duration::days(3);
    let again = take(
        store,
        &c,
        intake(5, a, "complaint.outage", Channel::App, None),
        later,
    )
    .await;
    assert_eq!(again.order.repeat_of, vec![first.order.number]);
    let stored = store
        .get_order(&again.order.number, &t.hq.path)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.order.repeat_of, vec![first.order.number]);
    let too_late = t0() + chrono::Duration::days(40);
    let fresh = take(
        store,
        &c,
        intake(5, a, "complaint.tariff", Channel::Web, None),
        too_late,
    )
    .await;
    assert!(
        fresh.order.repeat_of.is_empty(),
        "outside the 30-day window"
    );
    let repeats = store
        .list_orders(
            &OrderFilter {
                repeat: Some(true),
                ..OrderFilter::default()
            },
            &t.hq.path,
            PageRequest::first(),
        )
        .await
        .expect("list");
    let found: Vec<_> = repeats.items.iter().map(|o| o.order.number).collect();
    assert_eq!(found, vec![again.order.number]);
}

/// Every piece an order records (host, assisting units, chases, supervision, an at-fault
/// reply, a send-back, visits, a reopening, major flag) survives storage: the stored timeline
/// replays to the stored order.
pub async fn timeline_replays_to_the_stored_order(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let n = take(store, &c, complaint(&t), t0()).await.order.number;
    let chase = Command::Chase {
        note: "客户再次来电".into(),
    };
    ok(store, &t, &n, chase, &c.agent, at(1)).await;
    ok(store, &t, &n, dispatch_a(&t), &c.dispatcher, at(2)).await;
    let assist = Command::AddAssist {
        unit: t.county_b.path.clone(),
    };
    ok(store, &t, &n, assist, &c.dispatcher, at(3)).await;
    let watch = Command::Supervise {
        reason: "媒体关注".into(),
    };
    ok(store, &t, &n, watch, &c.supervisor, at(4)).await;
    let flag = Command::FlagMajor {
        reason: "涉及医院供电".into(),
    };
    ok(store, &t, &n, flag, &c.supervisor, at(5)).await;
    ok(store, &t, &n, Command::Accept, &c.handler_a, at(6)).await;
    ok(store, &t, &n, reply(at(7)), &c.handler_a, at(7)).await;
    let send_back = Command::Review(ReviewDecision::SendBack {
        reason: "处理结果不清楚".into(),
    });
    ok(store, &t, &n, send_back, &c.reviewer, at(8)).await;
    let at_fault = Command::Reply(ReplyInput {
        handled_at: Some(at(9)),
        handler: "张伟".into(),
        actions_taken: "更换线路".into(),
        result_and_feedback: "已恢复供电".into(),
        fault: Some(FaultFinding::AtFault),
        responsible_unit: t.county_a.path.unit(),
        responsible_person: "李四".into(),
        ..ReplyInput::default()
    });
    ok(store, &t, &n, at_fault, &c.handler_a, at(9)).await;
    ok(
        store,
        &t,
        &n,
        Command::Review(ReviewDecision::Approve),
        &c.reviewer,
        at(10),
    )
    .await;
    let no_answer = Command::Visit {
        contact: kefu_domain::workorder::ContactResult::NoAnswer,
        satisfaction: None,
        comment: String::new(),
    };
    ok(store, &t, &n, no_answer, &c.agent, at(11)).await;
    ok(
        store,
        &t,
        &n,
        visit(Satisfaction::VeryDissatisfied),
        &c.agent,
        at(12),
    )
    .await;
    let reopen = Command::Reopen {
        reason: "客户不满意".into(),
    };
    let last = ok(store, &t, &n, reopen, &c.agent, at(13)).await;
    assert_eq!(last.order.state, State::Reopened);
    assert!(last.order.major.is_some() && last.order.is_supervised());
    assert_eq!(last.order.chase_count, 1);
    assert_eq!(last.order.send_backs.len(), 1);

    let timeline = store.timeline(&n, &t.hq.path).await.expect("timeline");
    assert_eq!(timeline.len(), 14);
    let events: Vec<_> = timeline.into_iter().map(|e| e.event).collect();
    let replayed = replay(&events).expect("replays");
    let stored = store
        .get_order(&n, &t.hq.path)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(replayed, stored.order);
    assert_eq!(stored, last);
}

/// An unidentified caller is matched by phone to a customer's earlier order on the same matter;
/// an intake by someone who may not take appeals is the domain's typed refusal, writes nothing
/// and spends no order number.
pub async fn unidentified_caller_repeats_by_phone_and_intake_checks_the_role(store: &dyn Store) {
    use kefu_domain::customer::{CustomerName, Phone};
    use kefu_domain::workorder::{Caller, Catalogue, MajorRules};

    let t = tree(store).await;
    let c = cast(&t);
    let first = take(store, &c, complaint(&t), t0()).await;
    let phone = match &first.order.caller {
        Caller::Customer { phone, .. } => phone.clone().expect("the fixture has a phone"),
        Caller::Unidentified { .. } => panic!("the fixture is a customer"),
    };
    let mut stranger = complaint(&t);
    stranger.caller = Caller::Unidentified {
        phone: Phone::parse(phone.as_str()).expect("phone"),
        name: CustomerName::parse("路人甲").expect("name"),
        address: "西湖区某小区 3 幢".into(),
        address_unit: t.county_a.path.clone(),
    };
    let refused = store
        .intake(
            stranger.clone(),
            IntakeOptions::default(),
            &c.handler_a,
            sla(),
            at(1),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(WorkOrderStoreError::Rule(WorkOrderError::RoleNotAllowed {
                action: Action::Intake,
                ..
            }))
        ),
        "{refused:?}"
    );
    let second = take(store, &c, stranger, at(2)).await;
    assert_eq!(
        second.order.number.seq(),
        2,
        "the refused intake spent no number"
    );
    assert_eq!(second.order.repeat_of, vec![first.order.number]);
    assert_eq!(second.order.caller, {
        let stored = store
            .get_order(&second.order.number, &t.hq.path)
            .await
            .expect("get")
            .expect("stored");
        stored.order.caller
    });
    // Classification by keyword is the domain's; the store keeps its verdict.
    let shock = kefu_domain::workorder::IntakeInput {
        number: first.order.number,
        channel: Channel::Phone95598,
        caller: first.order.caller.clone(),
        appeal_type: kefu_domain::workorder::AppealType::FaultRepair,
        sub_category: "fault_repair.no_power".into(),
        content: "有人触电了，快来".into(),
        priority: kefu_domain::workorder::Priority::Normal,
        major_reason: String::new(),
        repeat_of: vec![],
        idempotency_key: None,
    };
    let shock = kefu_domain::workorder::Intake::validate(
        shock,
        &Catalogue::defaults(),
        &MajorRules::defaults(),
    )
    .expect("valid");
    let major = take(store, &c, shock, at(3)).await;
    assert!(major.order.major.is_some());
    let stored = store
        .get_order(&major.order.number, &t.hq.path)
        .await
        .expect("get");
    assert_eq!(stored, Some(major));
}
