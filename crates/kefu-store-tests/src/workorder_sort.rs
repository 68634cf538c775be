//! Work-order lists oldest first: the same filters and scope, ascending, keyset pages forwards.

use kefu_domain::workorder::Channel;
use kefu_store::{OrderFilter, OrderSort, PageRequest, Store};

use crate::fixtures::{at, t0, tree};
use crate::workorder_fixtures::{cast, intake, take};

pub async fn oldest_first_lists_walk_forwards_page_by_page(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let a = &t.county_a.path;
    let mut taken = Vec::new();
    for i in 0..5u32 {
        let o = take(
            store,
            &c,
            intake(i64::from(i) + 1, a, "complaint.outage", Channel::Web, None),
            if i == 0 { t0() } else { at(i64::from(i)) },
        )
        .await;
        taken.push(o.order.number);
    }
    let oldest = OrderFilter {
        sort: OrderSort::Oldest,
        ..OrderFilter::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_orders(&oldest, &t.province.path, PageRequest::new(cursor, Some(2)))
            .await
            .expect("list");
        seen.extend(page.items.iter().map(|o| o.order.number));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, taken, "every order once, oldest first");
    let newest = store
        .list_orders(
            &OrderFilter::default(),
            &t.province.path,
            PageRequest::new(None, Some(2)),
        )
        .await
        .expect("list");
    let first: Vec<_> = newest.items.iter().map(|o| o.order.number).collect();
    assert_eq!(first, vec![taken[4], taken[3]], "newest first by default");
}

/// The earliest running deadline of a stored order (what the row's `due_at` holds).
fn due(o: &kefu_store::StoredOrder) -> Option<chrono::DateTime<chrono::Utc>> {
    kefu_domain::sla::earliest_due(&o.sla)
}

pub async fn due_soonest_lists_put_the_nearest_deadline_first(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let a = &t.county_a.path;
    // Different sub-categories run different limits.
    let subs = [
        "complaint.outage",
        "fault_repair.no_power",
        "consultation.billing",
        "complaint.tariff",
        "fault_repair.line_fault",
    ];
    for (i, sub) in subs.iter().enumerate() {
        let n = i64::try_from(i).expect("small");
        take(
            store,
            &c,
            intake(n + 1, a, sub, Channel::Web, None),
            at(n * 7),
        )
        .await;
    }
    let all = store
        .list_orders(
            &OrderFilter::default(),
            &t.province.path,
            PageRequest::new(None, Some(200)),
        )
        .await
        .expect("list");
    let mut expected: Vec<_> = all
        .items
        .iter()
        .map(|o| (due(o).is_none(), due(o), o.id))
        .collect();
    expected.sort();
    assert!(expected.iter().any(|e| e.1.is_some()), "some deadlines run");
    let by_due = OrderFilter {
        sort: OrderSort::DueSoonest,
        ..OrderFilter::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_orders(&by_due, &t.province.path, PageRequest::new(cursor, Some(2)))
            .await
            .expect("list");
        seen.extend(page.items.iter().map(|o| (due(o).is_none(), due(o), o.id)));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(
        seen, expected,
        "nearest deadline first, pages walk every order once"
    );
}
