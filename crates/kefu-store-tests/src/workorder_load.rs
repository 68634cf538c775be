//! Bulk loading of whole orders (`WorkOrderLoadStore`): what is loaded reads back as if taken
//! and moved step by step, later intakes continue the day's numbers, and a bad batch leaves
//! nothing behind.

use chrono::{DateTime, Utc};
use kefu_domain::workorder::{
    ActorCtx, Channel, Command, Event, Intake, OrderNumber, apply, evolve, open, replay,
};
use kefu_store::sla::sla_columns;
use kefu_store::{
    LoadedOrder, OrderFilter, PageRequest, Store, StoreError, StoredEvent, StoredOrder,
};

use crate::fixtures::{Tree, at, t0, tree};
use crate::workorder_fixtures::{Cast, cast, complaint, dispatch_a, intake, sla, take};

fn number(seq: u32) -> OrderNumber {
    OrderNumber::parse(&format!("GD20261122{seq:06}")).expect("number")
}

/// An order opened at `when` with number `seq`, moved by `steps` a minute apart, its deadlines
/// computed as the store would.
fn built(
    mut first: Intake,
    seq: u32,
    c: &Cast,
    when: DateTime<Utc>,
    steps: Vec<(Command, &ActorCtx)>,
) -> LoadedOrder {
    first.number = number(seq);
    let opened = open(first, &c.agent, when).expect("open");
    let mut order = replay(std::slice::from_ref(&opened)).expect("replay");
    let mut events = vec![opened];
    for (i, (cmd, by)) in steps.into_iter().enumerate() {
        let now = when + chrono::Duration::minutes(i64::try_from(i).expect("small") + 1);
        for e in apply(&order, cmd, by, now).expect("step") {
            order = evolve(&order, &e);
            events.push(e);
        }
    }
    let (sla, _) = sla_columns(&order, &[], sla()).expect("deadlines");
    LoadedOrder {
        order,
        events,
        sla,
        fingerprint: None,
    }
}

fn plain(t: &Tree, c: &Cast, seq: u32) -> LoadedOrder {
    built(complaint(t), seq, c, at(-60), vec![])
}

async fn read(store: &dyn Store, t: &Tree, n: &OrderNumber) -> Option<StoredOrder> {
    store.get_order(n, &t.hq.path).await.expect("get")
}

fn events(stored: Vec<StoredEvent>) -> Vec<Event> {
    stored.into_iter().map(|e| e.event).collect()
}

pub async fn loaded_orders_read_back_equal(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let first = plain(&t, &c, 1);
    let working = built(
        complaint(&t),
        2,
        &c,
        at(-50),
        vec![
            (dispatch_a(&t), &c.dispatcher),
            (Command::Accept, &c.handler_a),
            (
                Command::Contact {
                    note: "已联系客户".into(),
                },
                &c.handler_a,
            ),
        ],
    );
    let mut again = intake(
        1,
        &t.county_a.path,
        "complaint.outage",
        Channel::Web,
        Some("load-0003"),
    );
    again.repeat_of = vec![first.order.number];
    let mut repeat = built(again, 3, &c, at(-40), vec![]);
    repeat.fingerprint = Some("f".repeat(64));
    let batch = vec![first, working, repeat];
    let ids = store.load_orders(&batch).await.expect("load");
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    for (o, id) in batch.iter().zip(&ids) {
        let n = &o.order.number;
        let expected = StoredOrder {
            id: *id,
            order: o.order.clone(),
            sla: o.sla.clone(),
        };
        assert_eq!(read(store, &t, n).await, Some(expected), "{n}");
        let timeline = store.timeline(n, &t.hq.path).await.expect("timeline");
        assert_eq!(events(timeline), o.events, "{n}");
    }
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
    let listed: Vec<OrderNumber> = repeats.items.iter().map(|o| o.order.number).collect();
    assert_eq!(listed, vec![number(3)]);
    assert_eq!(
        store.load_orders(&[]).await.expect("empty"),
        Vec::<i64>::new()
    );
}

pub async fn intake_after_a_load_gets_the_next_number(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let taken = take(store, &c, complaint(&t), t0()).await.order.number;
    assert_eq!(taken, number(1));
    store
        .load_orders(&[plain(&t, &c, 2), plain(&t, &c, 7)])
        .await
        .expect("load");
    let next = take(store, &c, complaint(&t), at(1)).await.order.number;
    assert_eq!(next, number(8));
    // Loading a lower number later never lowers the counter.
    store
        .load_orders(&[plain(&t, &c, 3)])
        .await
        .expect("load a gap");
    let after = take(store, &c, complaint(&t), at(2)).await.order.number;
    assert_eq!(after, number(9));
}

pub async fn bad_load_writes_nothing(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    // A timeline that does not replay to its order.
    let mut broken = built(
        complaint(&t),
        2,
        &c,
        at(-30),
        vec![(dispatch_a(&t), &c.dispatcher)],
    );
    broken.events.pop();
    let err = store
        .load_orders(&[plain(&t, &c, 1), broken])
        .await
        .expect_err("a timeline that does not replay");
    assert!(
        matches!(&err, StoreError::InvalidState(m) if m.contains("GD20261122000002")),
        "{err:?}"
    );
    assert_eq!(read(store, &t, &number(1)).await, None);
    // The same number twice in one call.
    let err = store
        .load_orders(&[plain(&t, &c, 1), plain(&t, &c, 1)])
        .await
        .expect_err("twice");
    assert!(
        matches!(&err, StoreError::Duplicate { field: "number", value } if value == "GD20261122000001"),
        "{err:?}"
    );
    // A number already stored.
    store.load_orders(&[plain(&t, &c, 1)]).await.expect("load");
    let err = store
        .load_orders(&[plain(&t, &c, 5), plain(&t, &c, 1)])
        .await
        .expect_err("stored");
    assert!(
        matches!(&err, StoreError::Duplicate { field: "number", value } if value == "GD20261122000001"),
        "{err:?}"
    );
    assert_eq!(read(store, &t, &number(5)).await, None);
    // Neither refused batch moved the counter.
    let next = take(store, &c, complaint(&t), t0()).await.order.number;
    assert_eq!(next, number(2));
}

/// A bulk load (`begin_bulk_orders` … `finish_bulk_orders`) leaves a store that lists, finds
/// and refuses exactly as one loaded call by call; a store holding orders sets nothing aside.
pub async fn a_bulk_load_ends_with_a_store_like_any_other(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    store.begin_bulk_orders().await.expect("begin");
    let first = plain(&t, &c, 1);
    let dispatched = built(
        complaint(&t),
        2,
        &c,
        at(-50),
        vec![(dispatch_a(&t), &c.dispatcher)],
    );
    store
        .load_orders(std::slice::from_ref(&first))
        .await
        .expect("first batch");
    store
        .load_orders(std::slice::from_ref(&dispatched))
        .await
        .expect("second batch");
    // The unique number is checked while indexes are aside.
    let again = store.load_orders(&[plain(&t, &c, 1)]).await;
    assert!(
        matches!(
            again,
            Err(StoreError::Duplicate {
                field: "number",
                ..
            })
        ),
        "{again:?}"
    );
    store.finish_bulk_orders().await.expect("finish");
    store
        .finish_bulk_orders()
        .await
        .expect("finishing twice does nothing");
    for o in [&first, &dispatched] {
        let read = read(store, &t, &o.order.number).await.expect("stored");
        assert_eq!(read.order, o.order);
    }
    let in_county = store
        .list_orders(
            &OrderFilter::default(),
            &t.county_a.path,
            PageRequest::first(),
        )
        .await
        .expect("list");
    assert_eq!(in_county.items.len(), 2, "both orders are county A's");
    let next = take(store, &c, complaint(&t), at(1)).await;
    assert_eq!(
        next.order.number,
        number(3),
        "intake continues the day's numbers"
    );
    assert!(
        !store.begin_bulk_orders().await.expect("begin again"),
        "orders are stored: nothing is set aside"
    );
}
