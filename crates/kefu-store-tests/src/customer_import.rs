//! Bulk upsert keyed by account number: the import path (issue 6).

use kefu_domain::ids::OrgUnitId;
use kefu_store::{
    CustomerEventKind, CustomerLookup, PageRequest, Store, StoreError, UpsertCounts, UpsertOutcome,
};

use crate::fixtures::{SYSTEM, at, customer, input, record, t0, tree};

fn all() -> PageRequest {
    PageRequest::new(None, Some(200))
}

/// A first upsert creates, a second one with the same records changes nothing, and a third with
/// edited records updates only those, recording old → new per field; a retired customer is left
/// alone. Nothing is ever duplicated.
pub async fn upsert_creates_then_updates_by_account_number(store: &dyn Store) {
    let t = tree(store).await;
    let records: Vec<_> = (300..320).map(|n| customer(n, t.county_a.id)).collect();
    let first = store
        .upsert_customers(records.clone(), &SYSTEM, t0())
        .await
        .expect("first upsert");
    assert_eq!(UpsertCounts::of(&first).created, 20);
    assert!(matches!(first[0], UpsertOutcome::Created(_)));

    let again = store
        .upsert_customers(records.clone(), &SYSTEM, at(1))
        .await
        .expect("same records again");
    assert_eq!(UpsertCounts::of(&again).unchanged, 20);
    assert_eq!(store.count_customers().await.expect("count"), 20);

    // Retire one, edit two (one moves to another unit), add one new.
    let retired_id = match first[5] {
        UpsertOutcome::Created(id) => id,
        other => panic!("expected a created customer, got {other:?}"),
    };
    store
        .set_customer_status(
            retired_id,
            1,
            Some("销户".into()),
            &t.hq.path,
            &SYSTEM,
            at(2),
        )
        .await
        .expect("retire");
    let mut edited = records.clone();
    let mut moved = input(301, t.county_b.id);
    moved.address = "宁波市海曙区中山路 1 号".into();
    edited[1] = record(&moved);
    let mut renamed = input(302, t.county_a.id);
    renamed.name = "新户名".into();
    renamed.phones = vec!["13912345678".into()];
    edited[2] = record(&renamed);
    let mut changed_retired = input(305, t.county_a.id);
    changed_retired.name = "不应写入".into();
    edited[5] = record(&changed_retired);
    edited.push(customer(320, t.county_b.id));
    let third = store
        .upsert_customers(edited, &SYSTEM, at(3))
        .await
        .expect("edited upsert");
    assert_eq!(
        UpsertCounts::of(&third),
        UpsertCounts {
            created: 1,
            updated: 2,
            unchanged: 17,
            retired: 1
        }
    );
    assert_eq!(third[5], UpsertOutcome::Retired(retired_id));
    assert_eq!(store.count_customers().await.expect("count"), 21);

    let UpsertOutcome::Updated(id) = third[1] else {
        panic!("expected an update, got {:?}", third[1]);
    };
    let c = store
        .get_customer(id, &t.county_b.path)
        .await
        .expect("get")
        .expect("now in county B's scope");
    assert_eq!(c.version, 2);
    assert_eq!(c.record.address, "宁波市海曙区中山路 1 号");
    let h = store
        .customer_history(id, &t.hq.path, all())
        .await
        .expect("history");
    assert_eq!(h.items.len(), 2);
    assert_eq!(h.items[1].kind, CustomerEventKind::Updated);
    let fields: Vec<&str> = h.items[1]
        .changes
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(fields, vec!["address", "supply_unit_id"]);

    let UpsertOutcome::Updated(id) = third[2] else {
        panic!("expected an update, got {:?}", third[2]);
    };
    let page = store
        .find_customers(
            &CustomerLookup::Phone(
                kefu_domain::customer::Phone::parse("13912345678").expect("phone"),
            ),
            &t.hq.path,
            false,
            all(),
        )
        .await
        .expect("phone look-up");
    assert_eq!(
        page.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![id]
    );
    let r = store
        .get_customer(retired_id, &t.hq.path)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(r.record, records[5], "a retired customer is not rewritten");
}

/// A batch with an account number twice or an unknown unit is refused whole.
pub async fn upsert_batch_is_all_or_nothing(store: &dyn Store) {
    let t = tree(store).await;
    let stored = store
        .upsert_customers(vec![customer(400, t.county_a.id)], &SYSTEM, t0())
        .await
        .expect("seed");
    assert_eq!(stored.len(), 1);
    let mut batch: Vec<_> = (401..410).map(|n| customer(n, t.county_a.id)).collect();
    batch.push(customer(403, t.county_b.id));
    let err = store
        .upsert_customers(batch, &SYSTEM, at(1))
        .await
        .expect_err("duplicate inside the batch");
    assert!(
        matches!(err, StoreError::Duplicate { field: "account_number", ref value } if value == "3300000403"),
        "{err:?}"
    );
    let mut batch: Vec<_> = (411..420).map(|n| customer(n, t.county_a.id)).collect();
    batch.push(customer(420, OrgUnitId(999_000)));
    let mut edited = input(400, t.county_a.id);
    edited.name = "改名".into();
    batch.push(record(&edited));
    let err = store
        .upsert_customers(batch, &SYSTEM, at(2))
        .await
        .expect_err("unknown unit");
    assert!(
        matches!(err, StoreError::UnknownReference { .. }),
        "{err:?}"
    );
    assert_eq!(store.count_customers().await.expect("count"), 1);
    let page = store
        .find_customers(&CustomerLookup::All, &t.hq.path, true, all())
        .await
        .expect("find");
    assert_eq!(page.items[0].record.name.as_str(), "客户400");
    assert!(
        store
            .upsert_customers(Vec::new(), &SYSTEM, at(3))
            .await
            .expect("empty")
            .is_empty()
    );
}

/// An imported customer reads back exactly as given (backslashes, quotes and commas included:
/// PostgreSQL imports stream rows in COPY's escaped text), and its history opens with one
/// `Created` event listing every non-empty field from "" — also after later changes by a
/// re-import and by an agent, which the creation event must not take on (its values are
/// derived from the record with the later changes undone).
pub async fn imported_customer_history_keeps_its_creation_values(store: &dyn Store) {
    let t = tree(store).await;
    let mut tricky = input(330, t.county_a.id);
    tricky.address = r#"杭州市西湖区 "文三路" 1\2 号, 3 幢"#.into();
    tricky.industry = Some(r"C\D 制造业".into());
    tricky.special_dates[0].label = Some(r#"董事长生日 "六十" \ 寿"#.into());
    let tricky = record(&tricky);
    let mut bare = input(331, t.county_b.id);
    bare.id_document = None;
    bare.tags = Vec::new();
    bare.special_dates = Vec::new();
    bare.industry = None;
    let bare = record(&bare);
    let outcomes = store
        .upsert_customers(vec![tricky.clone(), bare.clone()], &SYSTEM, t0())
        .await
        .expect("upsert");
    for (outcome, given) in outcomes.iter().zip([&tricky, &bare]) {
        let UpsertOutcome::Created(id) = *outcome else {
            panic!("expected a created customer, got {outcome:?}");
        };
        let c = store
            .get_customer(id, &t.hq.path)
            .await
            .expect("get")
            .expect("found");
        assert_eq!(&c.record, given);
        assert_eq!(c.version, 1);
        let h = store
            .customer_history(id, &t.hq.path, all())
            .await
            .expect("history");
        assert_eq!(h.items.len(), 1);
        assert_eq!(h.items[0].kind, CustomerEventKind::Created);
        assert_eq!(h.items[0].actor, "system:test");
        let expected: Vec<(String, String, String)> = given
            .field_texts()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(f, v)| (f.to_owned(), String::new(), v))
            .collect();
        let got: Vec<(String, String, String)> = h.items[0]
            .changes
            .iter()
            .map(|c| (c.field.clone(), c.old.clone(), c.new.clone()))
            .collect();
        assert_eq!(got, expected);
    }
    let UpsertOutcome::Created(id) = outcomes[0] else {
        panic!("created above");
    };
    let mut reimported = tricky.clone();
    reimported.address = "杭州市上城区解放路 2 号".into();
    reimported.tags = vec!["重要客户".into()];
    store
        .upsert_customers(vec![reimported.clone()], &SYSTEM, at(5))
        .await
        .expect("re-import");
    let mut edited = reimported.clone();
    edited.address = "杭州市滨江区江南大道 3 号".into();
    edited.industry = None;
    store
        .update_customer(id, 2, edited, &t.hq.path, &SYSTEM, at(6))
        .await
        .expect("agent edit");
    let h = store
        .customer_history(id, &t.hq.path, all())
        .await
        .expect("history");
    let kinds: Vec<CustomerEventKind> = h.items.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            CustomerEventKind::Created,
            CustomerEventKind::Updated,
            CustomerEventKind::Updated
        ]
    );
    let created: Vec<(String, String)> = h.items[0]
        .changes
        .iter()
        .map(|c| (c.field.clone(), c.new.clone()))
        .collect();
    let given: Vec<(String, String)> = tricky
        .field_texts()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| (f.to_owned(), v))
        .collect();
    assert_eq!(
        created, given,
        "the creation event keeps the imported values"
    );
    let fields: Vec<&str> = h.items[2]
        .changes
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(fields, ["address", "industry"]);
    let found = store
        .find_customers(
            &CustomerLookup::Account(bare.account_number.as_str().to_owned()),
            &t.county_b.path,
            false,
            all(),
        )
        .await
        .expect("look-up");
    assert_eq!(found.items.len(), 1);
}
