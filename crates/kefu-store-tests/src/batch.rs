//! Batch creation: the demo-province, benchmark and all-or-nothing import path.

use kefu_domain::ids::{CustomerId, OrgUnitId};
use kefu_store::{CustomerEventKind, CustomerLookup, PageRequest, Store, StoreError};

use crate::fixtures::{SYSTEM, customer, t0, tree};

fn all() -> PageRequest {
    PageRequest::new(None, Some(200))
}

/// A batch is stored whole, ids in input order, each with its `Created` event.
pub async fn batch_create_stores_all_in_input_order(store: &dyn Store) {
    let t = tree(store).await;
    let records: Vec<_> = (100..160)
        .map(|n| {
            customer(
                n,
                if n % 2 == 0 {
                    t.county_a.id
                } else {
                    t.county_b.id
                },
            )
        })
        .collect();
    let ids = store
        .create_customers(records.clone(), &SYSTEM, t0())
        .await
        .expect("batch");
    assert_eq!(ids.len(), 60);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids grow in input order"
    );
    for (id, rec) in ids.iter().zip(&records).step_by(7) {
        let c = store
            .get_customer(*id, &t.hq.path)
            .await
            .expect("get")
            .expect("found");
        assert_eq!(&c.record, rec);
        let h = store
            .customer_history(*id, &t.hq.path, all())
            .await
            .expect("history");
        assert_eq!(h.items.len(), 1);
        assert_eq!(h.items[0].kind, CustomerEventKind::Created);
    }
    assert_eq!(store.count_customers().await.expect("count"), 60);
    assert_eq!(
        store
            .create_customers(Vec::new(), &SYSTEM, t0())
            .await
            .expect("empty"),
        Vec::<CustomerId>::new()
    );
}

/// One bad record (a duplicate inside the batch or with a stored customer, or an unknown unit)
/// refuses the whole batch, naming the first offender.
pub async fn batch_create_is_all_or_nothing(store: &dyn Store) {
    let t = tree(store).await;
    let stored = store
        .create_customer(customer(200, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    let mut batch: Vec<_> = (201..220).map(|n| customer(n, t.county_a.id)).collect();
    batch.push(customer(205, t.county_b.id));
    let err = store
        .create_customers(batch, &SYSTEM, t0())
        .await
        .expect_err("duplicate inside the batch");
    assert!(
        matches!(err, StoreError::Duplicate { field: "account_number", ref value } if value == "3300000205"),
        "{err:?}"
    );
    let mut batch: Vec<_> = (221..230).map(|n| customer(n, t.county_a.id)).collect();
    batch.push(stored.record.clone());
    let err = store
        .create_customers(batch, &SYSTEM, t0())
        .await
        .expect_err("duplicate of a stored customer");
    assert!(matches!(err, StoreError::Duplicate { .. }), "{err:?}");
    let mut batch: Vec<_> = (231..240).map(|n| customer(n, t.county_a.id)).collect();
    batch.insert(3, customer(240, OrgUnitId(999_000)));
    batch.push(stored.record.clone());
    let err = store
        .create_customers(batch, &SYSTEM, t0())
        .await
        .expect_err("unknown unit comes first");
    assert!(
        matches!(err, StoreError::UnknownReference { .. }),
        "{err:?}"
    );
    assert_eq!(store.count_customers().await.expect("count"), 1);
    let page = store
        .find_customers(&CustomerLookup::All, &t.hq.path, true, all())
        .await
        .expect("find");
    assert_eq!(page.items, vec![stored]);
}
