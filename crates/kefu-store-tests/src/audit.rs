//! The audit log.

use kefu_domain::ids::StaffId;
use kefu_store::{Actor, NewAuditEntry, PageRequest, Store};

use crate::fixtures::{SYSTEM, at, customer, t0, tree};

/// Entries come newest first, filter by target, and page towards older ones.
pub async fn audit_log_lists_newest_first_and_pages_backwards(store: &dyn Store) {
    let before = store
        .list_audit(None, PageRequest::new(None, Some(200)))
        .await
        .expect("list")
        .items
        .len();
    for n in 0..5 {
        store
            .append_audit(
                NewAuditEntry {
                    action: "customer.read_personal".into(),
                    target: format!("customer:{}", n % 2),
                    detail: format!("read {n}"),
                },
                &Actor::Staff(StaffId(9)),
                at(n),
            )
            .await
            .expect("append");
    }
    let page = store
        .list_audit(None, PageRequest::new(None, Some(3)))
        .await
        .expect("list");
    let details: Vec<&str> = page.items.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details, vec!["read 4", "read 3", "read 2"]);
    assert_eq!(page.items[0].at, at(4));
    assert_eq!(page.items[0].staff_id, Some(StaffId(9)));
    assert_eq!(page.items[0].actor, "staff:9");
    let rest = store
        .list_audit(None, PageRequest::new(page.next, Some(200)))
        .await
        .expect("list");
    assert_eq!(rest.items.len(), 2 + before);
    assert_eq!(rest.items[0].detail, "read 1");
    assert_eq!(rest.next, None);
    let zero = store
        .list_audit(Some("customer:0"), PageRequest::new(None, Some(200)))
        .await
        .expect("list");
    let details: Vec<&str> = zero.items.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details, vec!["read 4", "read 2", "read 0"]);
}

/// Customer writes leave an audit entry naming the customer, in the same transaction.
pub async fn customer_writes_are_audited(store: &dyn Store) {
    let t = tree(store).await;
    let c = store
        .create_customer(customer(1, t.county_a.id), &Actor::Staff(StaffId(4)), t0())
        .await
        .expect("create");
    store
        .set_customer_status(c.id, 1, Some("销户".into()), &t.hq.path, &SYSTEM, at(1))
        .await
        .expect("retire");
    let entries = store
        .list_audit(
            Some(&format!("customer:{}", c.id)),
            PageRequest::new(None, Some(200)),
        )
        .await
        .expect("list");
    let actions: Vec<&str> = entries.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["customer.retire", "customer.create"]);
    assert_eq!(entries.items[1].staff_id, Some(StaffId(4)));
    assert_eq!(entries.items[0].actor, "system:test");
}

/// A batch of entries keeps each entry's own actor and time, in order.
pub async fn batched_audit_entries_keep_their_actors_and_times(store: &dyn Store) {
    let entry = |n: i64, actor: Actor| kefu_store::TimedAuditEntry {
        entry: NewAuditEntry {
            action: "customer.read_personal".into(),
            target: "customer_lookup".into(),
            detail: format!("batch {n}"),
        },
        actor,
        at: at(100 + n),
    };
    store
        .append_audits(vec![
            entry(1, Actor::Staff(StaffId(3))),
            entry(2, SYSTEM),
            entry(3, Actor::Staff(StaffId(4))),
        ])
        .await
        .expect("append batch");
    store
        .append_audits(Vec::new())
        .await
        .expect("an empty batch is fine");
    let page = store
        .list_audit(Some("customer_lookup"), PageRequest::new(None, Some(10)))
        .await
        .expect("list");
    let got: Vec<(String, Option<StaffId>, _)> = page
        .items
        .iter()
        .map(|e| (e.detail.clone(), e.staff_id, e.at))
        .collect();
    assert_eq!(
        got,
        vec![
            ("batch 3".to_owned(), Some(StaffId(4)), at(103)),
            ("batch 2".to_owned(), None, at(102)),
            ("batch 1".to_owned(), Some(StaffId(3)), at(101)),
        ]
    );
}
