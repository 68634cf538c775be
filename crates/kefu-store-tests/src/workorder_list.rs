//! Work-order lists: every filter, their combination, the scope, and keyset pages.

use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{AppealType, Channel, Command, State};
use kefu_store::{OrderFilter, PageRequest, Store};

use crate::fixtures::{at, t0, tree};
use crate::workorder_fixtures::{cast, complaint, dispatch_a, intake, ok, step, take};

/// The daily sequence numbers of the orders listed with `f` in `scope`.
async fn seqs(store: &dyn Store, f: OrderFilter, scope: OrgPath) -> Vec<u32> {
    let page = store
        .list_orders(&f, &scope, PageRequest::new(None, Some(200)))
        .await
        .expect("list");
    page.items.iter().map(|o| o.order.number.seq()).collect()
}

/// Each filter selects by its column, filters combine, the scope applies, and pages walk every
/// matching order once, newest first.
pub async fn order_list_filters_and_pages(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let (a, b) = (&t.county_a.path, &t.county_b.path);
    let o1 = take(
        store,
        &c,
        intake(1, a, "complaint.outage", Channel::Phone95598, None),
        t0(),
    )
    .await;
    let o2 = take(
        store,
        &c,
        intake(2, b, "consultation.billing", Channel::Web, None),
        at(1),
    )
    .await;
    let o3 = take(
        store,
        &c,
        intake(3, a, "fault_repair.no_power", Channel::App, None),
        at(2),
    )
    .await;
    let o4 = take(
        store,
        &c,
        intake(4, b, "complaint.outage", Channel::Phone95598, None),
        at(3),
    )
    .await;
    let o5 = take(
        store,
        &c,
        intake(1, a, "complaint.outage", Channel::Email, None),
        at(4),
    )
    .await;
    ok(
        store,
        &t,
        &o1.order.number,
        dispatch_a(&t),
        &c.dispatcher,
        at(5),
    )
    .await;
    let watch = Command::Supervise {
        reason: "领导关注".into(),
    };
    ok(store, &t, &o2.order.number, watch, &c.supervisor, at(6)).await;
    let flag = Command::FlagMajor {
        reason: "涉及医院".into(),
    };
    ok(store, &t, &o3.order.number, flag, &c.agent, at(7)).await;

    let hq = t.hq.path.clone();
    let list = |f: OrderFilter| seqs(store, f, hq.clone());
    let all = OrderFilter::default();
    assert_eq!(list(all.clone()).await, vec![5, 4, 3, 2, 1]);
    let (s1, s2, s3, s4, s5) = (
        o1.order.number.seq(),
        o2.order.number.seq(),
        o3.order.number.seq(),
        o4.order.number.seq(),
        o5.order.number.seq(),
    );
    assert_eq!((s1, s2, s3, s4, s5), (1, 2, 3, 4, 5));
    let f = |edit: fn(&mut OrderFilter)| {
        let mut f = OrderFilter::default();
        edit(&mut f);
        f
    };
    assert_eq!(
        list(f(|f| f.state = Some(State::Dispatched))).await,
        vec![1]
    );
    assert_eq!(
        list(f(|f| f.appeal_type = Some(AppealType::Complaint))).await,
        vec![5, 4, 1]
    );
    assert_eq!(
        list(f(|f| f.channel = Some(Channel::Phone95598))).await,
        vec![4, 1]
    );
    assert_eq!(list(f(|f| f.major = Some(true))).await, vec![3]);
    assert_eq!(list(f(|f| f.supervised = Some(true))).await, vec![2]);
    assert_eq!(list(f(|f| f.repeat = Some(true))).await, vec![5]);
    assert_eq!(list(f(|f| f.repeat = Some(false))).await, vec![4, 3, 2, 1]);
    let window = OrderFilter {
        created_from: Some(at(1)),
        created_to: Some(at(3)),
        ..OrderFilter::default()
    };
    assert_eq!(list(window).await, vec![3, 2]);
    let in_b = OrderFilter {
        unit: Some(t.city_b.path.clone()),
        ..OrderFilter::default()
    };
    assert_eq!(list(in_b).await, vec![4, 2]);
    let both = OrderFilter {
        unit: Some(t.county_a.path.clone()),
        appeal_type: Some(AppealType::Complaint),
        state: Some(State::PendingDispatch),
        ..OrderFilter::default()
    };
    assert_eq!(list(both).await, vec![5]);
    let scoped = store
        .list_orders(&all, &t.city_a.path, PageRequest::first())
        .await
        .expect("scoped");
    let seen: Vec<u32> = scoped.items.iter().map(|o| o.order.number.seq()).collect();
    assert_eq!(seen, vec![5, 3, 1]);

    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_orders(&all, &t.hq.path, PageRequest::new(after, Some(2)))
            .await
            .expect("page");
        assert!(page.items.len() <= 2);
        walked.extend(page.items.iter().map(|o| o.order.number.seq()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, vec![5, 4, 3, 2, 1]);
}

/// An assisting unit (协办) reads the order and finds it under `assisting`, not among the orders
/// it hosts; its handlers cannot act as the host; once the order is dispatched to it, it hosts.
pub async fn assisting_units_read_the_order_but_do_not_host_it(store: &dyn Store) {
    use kefu_domain::org::DepartmentKind;
    use kefu_domain::workorder::WorkOrderError;
    use kefu_store::WorkOrderStoreError;

    let t = tree(store).await;
    let c = cast(&t);
    let n = take(store, &c, complaint(&t), t0()).await.order.number;
    ok(store, &t, &n, dispatch_a(&t), &c.dispatcher, at(1)).await;
    let assist = Command::AddAssist {
        unit: t.county_b.path.clone(),
    };
    ok(store, &t, &n, assist, &c.dispatcher, at(2)).await;
    let b = &t.county_b.path;
    let seen = store.get_order(&n, b).await.expect("get");
    assert_eq!(seen.map(|o| o.order.number), Some(n));
    assert_eq!(store.timeline(&n, b).await.expect("timeline").len(), 3);
    let page = || PageRequest::new(None, Some(50));
    let hosted = store
        .list_orders(&OrderFilter::default(), b, page())
        .await
        .expect("list");
    assert!(hosted.items.is_empty());
    let assisting = OrderFilter {
        assisting: true,
        ..OrderFilter::default()
    };
    let mine = store
        .list_orders(&assisting, b, page())
        .await
        .expect("list");
    assert_eq!(
        mine.items
            .iter()
            .map(|o| o.order.number)
            .collect::<Vec<_>>(),
        vec![n]
    );
    let none = store
        .list_orders(&assisting, &t.county_a.path, page())
        .await
        .expect("list");
    assert!(none.items.is_empty());
    let refused = step(store, &t, &n, Command::Accept, &c.handler_b, at(3)).await;
    assert!(
        matches!(
            refused,
            Err(WorkOrderStoreError::Rule(
                WorkOrderError::NotHostUnit { .. }
            ))
        ),
        "{refused:?}"
    );
    // Sent to county B itself: it hosts, and no longer assists.
    let to_b = Command::Dispatch {
        unit: t.county_b.path.clone(),
        department: DepartmentKind::Operations,
        override_reason: "地址在B县".into(),
    };
    let moved = ok(store, &t, &n, to_b, &c.dispatcher, at(4)).await;
    assert!(moved.order.assisting.is_empty());
    assert!(
        store
            .list_orders(&assisting, b, page())
            .await
            .expect("list")
            .items
            .is_empty()
    );
    let hosted = store
        .list_orders(&OrderFilter::default(), b, page())
        .await
        .expect("list");
    assert_eq!(hosted.items.len(), 1);
}
