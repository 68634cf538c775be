//! The initial load of an empty customer archive (issue 6): indexes set aside and rebuilt at the
//! end; a failed load keeps nothing (PostgreSQL, one transaction) or its whole batches (SQLite);
//! refused once a customer is stored. The stores' own tests check that every index of the
//! schema is back afterwards.

use kefu_domain::ids::{OrgUnitId, StaffId};
use kefu_store::{
    Actor, CustomerEventKind, CustomerLookup, PageRequest, Store, StoreError, UpsertCounts,
    UpsertOutcome,
};

use crate::fixtures::{SYSTEM, at, customer, input, record, t0, tree};

fn all_page() -> PageRequest {
    PageRequest::new(None, Some(200))
}

fn phone(text: &str) -> CustomerLookup {
    CustomerLookup::Phone(kefu_domain::customer::Phone::parse(text).expect("phone"))
}

/// Two batches go in through an initial load; every look-up (account, phone, name) finds them
/// afterwards, each has its `Created` event with every field, and re-importing the same records
/// upserts them as unchanged — then an edit updates — without a duplicate.
pub async fn initial_load_then_reimport_updates_without_duplicates(store: &dyn Store) {
    let t = tree(store).await;
    let records: Vec<_> = (500..540).map(|n| customer(n, t.county_a.id)).collect();
    let mut load = store
        .begin_initial_load()
        .await
        .expect("begin")
        .expect("an empty archive starts an initial load");
    let first = load
        .insert(records[..25].to_vec(), &SYSTEM, t0())
        .await
        .expect("first batch");
    let second = load
        .insert(records[25..].to_vec(), &SYSTEM, t0())
        .await
        .expect("second batch");
    assert_eq!(first.len() + second.len(), 40);
    assert_eq!(load.finish(&SYSTEM, t0()).await.expect("finish"), 40);
    assert_eq!(store.count_customers().await.expect("count"), 40);

    let id = second[0];
    let c = store
        .get_customer(id, &t.hq.path)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(c.record, records[25]);
    let h = store
        .customer_history(id, &t.hq.path, all_page())
        .await
        .expect("history");
    assert_eq!(h.items.len(), 1);
    assert_eq!(h.items[0].kind, CustomerEventKind::Created);
    let expected: Vec<(String, String)> = records[25]
        .field_texts()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| (f.to_owned(), v))
        .collect();
    let got: Vec<(String, String)> = h.items[0]
        .changes
        .iter()
        .map(|c| (c.field.clone(), c.new.clone()))
        .collect();
    assert_eq!(got, expected);
    let by_phone = store
        .find_customers(
            &phone(records[3].phones[0].as_str()),
            &t.hq.path,
            false,
            all_page(),
        )
        .await
        .expect("phone look-up");
    assert!(by_phone.items.iter().any(|c| c.id == first[3]));
    let by_account = store
        .find_customers(
            &CustomerLookup::Account(records[30].account_number.as_str().to_owned()),
            &t.hq.path,
            false,
            all_page(),
        )
        .await
        .expect("account look-up");
    assert_eq!(
        by_account.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![second[5]]
    );

    assert!(
        store
            .begin_initial_load()
            .await
            .expect("begin again")
            .is_none(),
        "a stored customer means no second initial load"
    );
    let again = store
        .upsert_customers(records.clone(), &SYSTEM, at(1))
        .await
        .expect("re-import");
    assert_eq!(UpsertCounts::of(&again).unchanged, 40);
    let mut edited = input(510, t.county_a.id);
    edited.name = "改过的户名".into();
    let out = store
        .upsert_customers(vec![record(&edited)], &SYSTEM, at(2))
        .await
        .expect("edit");
    assert_eq!(out, vec![UpsertOutcome::Updated(first[10])]);
    // Ids handed out after the load do not collide with the loaded ones.
    let created = store
        .upsert_customers(vec![customer(540, t.county_b.id)], &SYSTEM, at(3))
        .await
        .expect("a new customer after the load");
    let UpsertOutcome::Created(new_id) = created[0] else {
        panic!("expected a created customer, got {:?}", created[0]);
    };
    assert!(!first.contains(&new_id) && !second.contains(&new_id));
    assert_eq!(store.count_customers().await.expect("count"), 41);
    let h = store
        .customer_history(first[10], &t.hq.path, all_page())
        .await
        .expect("history");
    assert_eq!(h.items.len(), 2);
    assert_eq!(h.items[1].changes[0].field, "name");
}

/// A batch that fails (an unknown supply unit) aborts the load: the store keeps nothing of it
/// (PostgreSQL) or its whole batches (SQLite), with every index; running the same import
/// again — an initial load if the archive is still empty, upserts otherwise — stores every
/// customer exactly once.
pub async fn failed_initial_load_aborts_and_a_rerun_completes_it(store: &dyn Store) {
    let t = tree(store).await;
    let good: Vec<_> = (600..610).map(|n| customer(n, t.county_a.id)).collect();
    let mut load = store
        .begin_initial_load()
        .await
        .expect("begin")
        .expect("initial load");
    load.insert(good.clone(), &SYSTEM, t0())
        .await
        .expect("a good batch");
    let err = load
        .insert(vec![customer(610, OrgUnitId(999_000))], &SYSTEM, t0())
        .await
        .expect_err("unknown unit");
    assert!(
        matches!(err, StoreError::UnknownReference { .. }),
        "{err:?}"
    );
    load.abort().await.expect("abort");
    let kept = store.count_customers().await.expect("count");
    assert!(
        kept == 0 || kept == 10,
        "whole batches or nothing, not {kept}"
    );

    let mut all = good.clone();
    all.push(customer(610, t.county_a.id));
    match store.begin_initial_load().await.expect("begin again") {
        Some(mut load) => {
            assert_eq!(kept, 0, "an initial load only into an empty archive");
            load.insert(all.clone(), &SYSTEM, at(1))
                .await
                .expect("again");
            assert_eq!(load.finish(&SYSTEM, at(1)).await.expect("finish"), 11);
        }
        None => {
            let out = store
                .upsert_customers(all.clone(), &SYSTEM, at(1))
                .await
                .expect("upsert the same file");
            assert_eq!(
                UpsertCounts::of(&out),
                UpsertCounts {
                    created: 1,
                    unchanged: 10,
                    ..UpsertCounts::default()
                }
            );
        }
    }
    assert_eq!(store.count_customers().await.expect("count"), 11);
    for r in [&all[0], &all[9], &all[10]] {
        let found = store
            .find_customers(&phone(r.phones[0].as_str()), &t.hq.path, false, all_page())
            .await
            .expect("phone look-up");
        assert_eq!(found.items.len(), 1, "{}", r.account_number.as_str());
    }
}

/// With one customer stored, no initial load starts and nothing changes.
pub async fn initial_load_is_not_offered_once_a_customer_is_stored(store: &dyn Store) {
    let t = tree(store).await;
    store
        .upsert_customers(vec![customer(700, t.county_a.id)], &SYSTEM, t0())
        .await
        .expect("seed");
    assert!(store.begin_initial_load().await.expect("begin").is_none());
    let out = store
        .upsert_customers(
            vec![customer(700, t.county_a.id), customer(701, t.county_a.id)],
            &SYSTEM,
            at(1),
        )
        .await
        .expect("upsert after the refusal");
    assert_eq!(
        UpsertCounts::of(&out),
        UpsertCounts {
            created: 1,
            unchanged: 1,
            ..UpsertCounts::default()
        }
    );
}

/// The customers of an initial load have one creation row per batch: each shows the `Created`
/// event of its own batch (who, when, the values it was loaded with) at the head of its
/// history, once, however the history is paged, and after later edits.
pub async fn loaded_customers_show_their_batch_creation_in_history(store: &dyn Store) {
    let t = tree(store).await;
    let records: Vec<_> = (800..806).map(|n| customer(n, t.county_a.id)).collect();
    let loader = Actor::Staff(StaffId(7));
    let mut load = store
        .begin_initial_load()
        .await
        .expect("begin")
        .expect("initial load");
    let first = load
        .insert(records[..3].to_vec(), &SYSTEM, t0())
        .await
        .expect("first batch");
    let second = load
        .insert(records[3..].to_vec(), &loader, at(1))
        .await
        .expect("second batch");
    load.finish(&SYSTEM, at(2)).await.expect("finish");

    // The last of one batch and the first of the next: each with its own batch's creation.
    for (id, when, staff, actor) in [
        (first[2], t0(), None, SYSTEM.label()),
        (second[0], at(1), Some(StaffId(7)), loader.label()),
    ] {
        let h = store
            .customer_history(id, &t.hq.path, all_page())
            .await
            .expect("history");
        assert_eq!(h.items.len(), 1, "{id:?}");
        let created = &h.items[0];
        assert_eq!(created.kind, CustomerEventKind::Created);
        assert_eq!(created.customer_id, id);
        assert_eq!(
            (created.at, created.staff_id, created.actor.as_str()),
            (when, staff, actor.as_str())
        );
    }

    let mut edited = input(804, t.county_a.id);
    edited.name = "改过的户名".into();
    store
        .upsert_customers(vec![record(&edited)], &SYSTEM, at(3))
        .await
        .expect("edit");
    let one = |after| PageRequest::new(after, Some(1));
    let page1 = store
        .customer_history(second[1], &t.hq.path, one(None))
        .await
        .expect("page 1");
    assert_eq!(page1.items.len(), 1);
    assert_eq!(page1.items[0].kind, CustomerEventKind::Created);
    let name = page1.items[0]
        .changes
        .iter()
        .find(|c| c.field == "name")
        .expect("the loaded name");
    assert_eq!(name.new, records[4].name.as_str());
    let page2 = store
        .customer_history(second[1], &t.hq.path, one(page1.next))
        .await
        .expect("page 2");
    assert_eq!(
        page2.items.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![CustomerEventKind::Updated]
    );
    assert_eq!(page2.items[0].changes[0].new, "改过的户名");
    let rest = match page2.next {
        Some(next) => {
            store
                .customer_history(second[1], &t.hq.path, one(Some(next)))
                .await
                .expect("page 3")
                .items
        }
        None => Vec::new(),
    };
    assert!(rest.is_empty(), "the creation comes once: {rest:?}");

    // A customer created after the load has its own creation event, and only that one.
    let out = store
        .upsert_customers(vec![customer(806, t.county_b.id)], &SYSTEM, at(4))
        .await
        .expect("a new customer");
    let UpsertOutcome::Created(later) = out[0] else {
        panic!("expected a created customer, got {:?}", out[0]);
    };
    let h = store
        .customer_history(later, &t.hq.path, all_page())
        .await
        .expect("history");
    assert_eq!(h.items.len(), 1);
    assert_eq!(
        (h.items[0].kind, h.items[0].at),
        (CustomerEventKind::Created, at(4))
    );
}
