//! Work-order lists oldest first: the same filters and scope, ascending, keyset pages forwards.

use kefu_domain::workorder::Channel;
use kefu_store::{OrderFilter, PageRequest, Store};

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
        oldest_first: true,
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
