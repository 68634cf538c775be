//! Customer writes: create, update, retire, history, batch create, scope, audit.

use kefu_domain::customer::{CustomerStatus, FieldChange};
use kefu_domain::ids::{CustomerId, OrgUnitId, StaffId};
use kefu_store::{Actor, CustomerEventKind, CustomerLookup, PageRequest, Store, StoreError};

use crate::fixtures::{SYSTEM, at, customer, input, record, t0, tree};

fn all() -> PageRequest {
    PageRequest::new(None, Some(200))
}

/// What a created customer looks like when read back: every field, version 1, active.
pub async fn created_customer_reads_back_unchanged(store: &dyn Store) {
    let t = tree(store).await;
    let rec = customer(1, t.county_a.id);
    let created = store
        .create_customer(rec.clone(), &SYSTEM, t0())
        .await
        .expect("create");
    assert_eq!(created.record, rec);
    assert_eq!(created.version, 1);
    assert_eq!(created.status, CustomerStatus::Active);
    assert_eq!(created.retired_reason, None);
    assert_eq!(created.supply_unit_path, t.county_a.path);
    assert_eq!(created.created_at, t0());
    assert_eq!(created.updated_at, t0());
    let got = store
        .get_customer(created.id, &t.hq.path)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(got, created);
    // A record with only the required fields round-trips too.
    let mut bare = input(2, t.county_a.id);
    bare.id_document = None;
    bare.phones.clear();
    bare.tags.clear();
    bare.special_dates.clear();
    bare.contract_capacity_kva = None;
    bare.industry = None;
    bare.scale = None;
    bare.value_tier = None;
    bare.service_grade = None;
    let bare = record(&bare);
    let c = store
        .create_customer(bare.clone(), &SYSTEM, t0())
        .await
        .expect("create bare");
    assert_eq!(c.record, bare);
    assert_eq!(store.count_customers().await.expect("count"), 2);
}

/// The `Created` event lists every non-empty field with an empty old value.
pub async fn created_event_lists_every_non_empty_field(store: &dyn Store) {
    let t = tree(store).await;
    let rec = customer(3, t.county_a.id);
    let staff_actor = Actor::Staff(StaffId(12));
    let c = store
        .create_customer(rec.clone(), &staff_actor, t0())
        .await
        .expect("create");
    let history = store
        .customer_history(c.id, &t.hq.path, all())
        .await
        .expect("history");
    assert_eq!(history.items.len(), 1);
    let e = &history.items[0];
    assert_eq!(e.kind, CustomerEventKind::Created);
    assert_eq!(e.customer_id, c.id);
    assert_eq!(e.at, t0());
    assert_eq!(e.staff_id, Some(StaffId(12)));
    assert_eq!(e.actor, "staff:12");
    let expected: Vec<FieldChange> = rec
        .field_texts()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| FieldChange {
            field: f.to_owned(),
            old: String::new(),
            new: v,
        })
        .collect();
    assert_eq!(e.changes, expected);
    assert!(e.changes.iter().any(|c| c.field == "account_number"));
    assert!(!e.changes.iter().any(|c| c.field == "business_format"));
}

/// A taken account number is refused and nothing of the attempt remains.
pub async fn duplicate_account_number_is_refused_and_nothing_is_written(store: &dyn Store) {
    let t = tree(store).await;
    let first = customer(10, t.county_a.id);
    store
        .create_customer(first.clone(), &SYSTEM, t0())
        .await
        .expect("create");
    let audit_before = store
        .list_audit(None, all())
        .await
        .expect("audit")
        .items
        .len();
    let mut again = input(11, t.county_b.id);
    again.account_number = first.account_number.as_str().to_owned();
    let err = store
        .create_customer(record(&again), &SYSTEM, at(1))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, StoreError::Duplicate { field: "account_number", ref value } if value == first.account_number.as_str()),
        "{err:?}"
    );
    assert_eq!(store.count_customers().await.expect("count"), 1);
    let phone = record(&again).phones[0].clone();
    let found = store
        .find_customers(&CustomerLookup::Phone(phone), &t.hq.path, true, all())
        .await
        .expect("find");
    assert!(
        found.items.is_empty(),
        "no phone row of the refused customer"
    );
    assert_eq!(
        store
            .list_audit(None, all())
            .await
            .expect("audit")
            .items
            .len(),
        audit_before
    );
}

/// A supply unit that does not exist is an unknown reference.
pub async fn unknown_supply_unit_is_refused(store: &dyn Store) {
    let _t = tree(store).await;
    let err = store
        .create_customer(customer(20, OrgUnitId(888_888)), &SYSTEM, t0())
        .await
        .expect_err("unknown unit");
    assert!(
        matches!(
            err,
            StoreError::UnknownReference {
                field: "supply_unit_id",
                entity: "org_unit"
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.count_customers().await.expect("count"), 0);
}

/// An update records each changed field with its old and new value and bumps the version.
pub async fn update_records_old_and_new_values_in_history(store: &dyn Store) {
    let t = tree(store).await;
    let c = store
        .create_customer(customer(30, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    let mut changed = input(30, t.county_b.id);
    changed.address = "宁波市海曙区中山西路 1 号".into();
    changed.phones = vec!["13800138000".into(), "0574-87654321".into()];
    changed.tags = vec!["敏感".into()];
    let changed = record(&changed);
    let updated = store
        .update_customer(
            c.id,
            1,
            changed.clone(),
            &t.hq.path,
            &Actor::Staff(StaffId(3)),
            at(5),
        )
        .await
        .expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(updated.record, changed);
    assert_eq!(
        updated.supply_unit_path, t.county_b.path,
        "path follows the unit"
    );
    assert_eq!(updated.updated_at, at(5));
    assert_eq!(updated.created_at, t0());
    let history = store
        .customer_history(c.id, &t.hq.path, all())
        .await
        .expect("history");
    assert_eq!(history.items.len(), 2);
    let e = &history.items[1];
    assert_eq!(e.kind, CustomerEventKind::Updated);
    assert_eq!(e.at, at(5));
    assert_eq!(e.actor, "staff:3");
    let fields: Vec<&str> = e.changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, vec!["phones", "address", "supply_unit_id", "tags"]);
    let address = &e.changes[1];
    assert_eq!(address.old, "杭州市西湖区文三路 30 号");
    assert_eq!(address.new, "宁波市海曙区中山西路 1 号");
    assert_eq!(e.changes[0].new, "13800138000,057487654321");
    // The old phone no longer finds the customer; the new one does.
    let old_phone = c.record.phones[0].clone();
    let found = store
        .find_customers(&CustomerLookup::Phone(old_phone), &t.hq.path, true, all())
        .await
        .expect("find");
    assert!(found.items.is_empty());
    let found = store
        .find_customers(
            &CustomerLookup::Phone(changed.phones[1].clone()),
            &t.hq.path,
            true,
            all(),
        )
        .await
        .expect("find");
    assert_eq!(found.items.len(), 1);
}

/// Saving an unchanged record writes no event and keeps the version.
pub async fn update_without_changes_keeps_version_and_history(store: &dyn Store) {
    let t = tree(store).await;
    let rec = customer(31, t.county_a.id);
    let c = store
        .create_customer(rec.clone(), &SYSTEM, t0())
        .await
        .expect("create");
    let same = store
        .update_customer(c.id, 1, rec, &t.hq.path, &SYSTEM, at(1))
        .await
        .expect("no-op update");
    assert_eq!(same, c);
    let history = store
        .customer_history(c.id, &t.hq.path, all())
        .await
        .expect("history");
    assert_eq!(history.items.len(), 1);
}

/// An update based on an old version is refused with the current version.
pub async fn stale_version_is_refused(store: &dyn Store) {
    let t = tree(store).await;
    let c = store
        .create_customer(customer(32, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    let mut first = input(32, t.county_a.id);
    first.name = "第一次修改".into();
    store
        .update_customer(c.id, 1, record(&first), &t.hq.path, &SYSTEM, at(1))
        .await
        .expect("first update");
    let mut second = input(32, t.county_a.id);
    second.name = "第二次修改".into();
    let err = store
        .update_customer(c.id, 1, record(&second), &t.hq.path, &SYSTEM, at(2))
        .await
        .expect_err("stale");
    assert!(
        matches!(
            err,
            StoreError::VersionConflict {
                entity: "customer",
                current: 2
            }
        ),
        "{err:?}"
    );
    let err = store
        .set_customer_status(c.id, 1, Some("销户".into()), &t.hq.path, &SYSTEM, at(3))
        .await
        .expect_err("stale");
    assert!(matches!(err, StoreError::VersionConflict { .. }), "{err:?}");
    let got = store
        .get_customer(c.id, &t.hq.path)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(got.record.name.as_str(), "第一次修改");
}

/// Taking another customer's account number in an update is a duplicate; a missing unit, or
/// one outside the caller's scope, an unknown reference.
pub async fn update_checks_account_number_and_unit(store: &dyn Store) {
    let t = tree(store).await;
    let a = store
        .create_customer(customer(33, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    let b = store
        .create_customer(customer(34, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    let mut steal = input(34, t.county_a.id);
    steal.account_number = a.record.account_number.as_str().to_owned();
    let err = store
        .update_customer(b.id, 1, record(&steal), &t.hq.path, &SYSTEM, at(1))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(
            err,
            StoreError::Duplicate {
                field: "account_number",
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .update_customer(
            b.id,
            1,
            customer(34, OrgUnitId(123_456)),
            &t.hq.path,
            &SYSTEM,
            at(1),
        )
        .await
        .expect_err("unknown unit");
    assert!(
        matches!(
            err,
            StoreError::UnknownReference {
                field: "supply_unit_id",
                ..
            }
        ),
        "{err:?}"
    );
    // A city-A agent cannot move a customer to a unit outside city A: unknown to them.
    let err = store
        .update_customer(
            b.id,
            1,
            customer(34, t.county_b.id),
            &t.city_a.path,
            &SYSTEM,
            at(1),
        )
        .await
        .expect_err("unit outside the scope");
    assert!(
        matches!(
            err,
            StoreError::UnknownReference {
                field: "supply_unit_id",
                ..
            }
        ),
        "{err:?}"
    );
    let got = store
        .get_customer(b.id, &t.hq.path)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(got, b, "nothing changed");
}

/// Outside the caller's scope a customer behaves exactly like a missing one.
pub async fn customer_outside_scope_is_not_found(store: &dyn Store) {
    let t = tree(store).await;
    let c = store
        .create_customer(customer(40, t.county_b.id), &SYSTEM, t0())
        .await
        .expect("create");
    // The intake's one-row read agrees with the whole record, and with the scope.
    let brief = store
        .customer_for_intake(c.id, &t.city_b.path)
        .await
        .expect("intake read")
        .expect("in scope");
    assert_eq!(brief.supply_unit_path, c.supply_unit_path);
    assert_eq!(brief.grid, c.record.grid);
    assert_eq!(brief.service_grade, c.record.service_grade);
    assert_eq!(
        store
            .customer_for_intake(c.id, &t.city_a.path)
            .await
            .expect("intake read"),
        None
    );
    assert_eq!(
        store.get_customer(c.id, &t.city_a.path).await.expect("get"),
        None
    );
    assert!(
        store
            .get_customer(c.id, &t.city_b.path)
            .await
            .expect("get")
            .is_some()
    );
    let err = store
        .update_customer(
            c.id,
            1,
            customer(40, t.county_a.id),
            &t.city_a.path,
            &SYSTEM,
            at(1),
        )
        .await
        .expect_err("out of scope");
    assert!(
        matches!(err, StoreError::NotFound { entity: "customer" }),
        "{err:?}"
    );
    let err = store
        .set_customer_status(c.id, 1, Some("x".into()), &t.city_a.path, &SYSTEM, at(1))
        .await
        .expect_err("out of scope");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let err = store
        .customer_history(c.id, &t.county_a.path, all())
        .await
        .expect_err("out of scope");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let err = store
        .customer_history(CustomerId(55_555), &t.hq.path, all())
        .await
        .expect_err("missing");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    for lookup in [
        CustomerLookup::All,
        CustomerLookup::Account(c.record.account_number.as_str().to_owned()),
        CustomerLookup::Phone(c.record.phones[0].clone()),
    ] {
        let page = store
            .find_customers(&lookup, &t.city_a.path, true, all())
            .await
            .expect("find");
        assert!(page.items.is_empty(), "{lookup:?}");
    }
    let got = store
        .get_customer(c.id, &t.hq.path)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(got.version, 1, "nothing changed");
}

/// A retired customer keeps its record and history, is hidden from look-ups unless asked for,
/// cannot be edited, and can be reinstated.
pub async fn retired_customer_keeps_history_and_is_hidden_from_lookups_by_default(
    store: &dyn Store,
) {
    let t = tree(store).await;
    let c = store
        .create_customer(customer(50, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    let retired = store
        .set_customer_status(c.id, 1, Some("销户".into()), &t.hq.path, &SYSTEM, at(1))
        .await
        .expect("retire");
    assert_eq!(retired.status, CustomerStatus::Retired);
    assert_eq!(retired.retired_reason.as_deref(), Some("销户"));
    assert_eq!(retired.version, 2);
    assert_eq!(retired.record, c.record);
    let account = CustomerLookup::Account(c.record.account_number.as_str().to_owned());
    let hidden = store
        .find_customers(&account, &t.hq.path, false, all())
        .await
        .expect("find");
    assert!(hidden.items.is_empty());
    let shown = store
        .find_customers(&account, &t.hq.path, true, all())
        .await
        .expect("find");
    assert_eq!(shown.items, vec![retired.clone()]);
    assert_eq!(
        store.get_customer(c.id, &t.hq.path).await.expect("get"),
        Some(retired.clone()),
        "get by id still finds it"
    );
    let err = store
        .update_customer(
            c.id,
            2,
            customer(51, t.county_a.id),
            &t.hq.path,
            &SYSTEM,
            at(2),
        )
        .await
        .expect_err("retired");
    assert!(matches!(err, StoreError::InvalidState(_)), "{err:?}");
    let err = store
        .set_customer_status(c.id, 2, Some("again".into()), &t.hq.path, &SYSTEM, at(2))
        .await
        .expect_err("already retired");
    assert!(matches!(err, StoreError::InvalidState(_)), "{err:?}");
    let back = store
        .set_customer_status(c.id, 2, None, &t.hq.path, &SYSTEM, at(3))
        .await
        .expect("reinstate");
    assert_eq!(back.status, CustomerStatus::Active);
    assert_eq!(back.retired_reason, None);
    let err = store
        .set_customer_status(c.id, 3, None, &t.hq.path, &SYSTEM, at(4))
        .await
        .expect_err("not retired");
    assert!(matches!(err, StoreError::InvalidState(_)), "{err:?}");
    let kinds: Vec<(CustomerEventKind, Option<String>)> = store
        .customer_history(c.id, &t.hq.path, all())
        .await
        .expect("history")
        .items
        .into_iter()
        .map(|e| (e.kind, e.reason))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (CustomerEventKind::Created, None),
            (CustomerEventKind::Retired, Some("销户".into())),
            (CustomerEventKind::Reinstated, None),
        ]
    );
}

/// Two edits racing from the same version: exactly one wins, the other gets a version conflict
/// (the check and the write are one transaction, not read-then-write across two).
pub async fn racing_updates_from_one_version_conflict_once(store: &dyn Store) {
    let t = tree(store).await;
    let c = store
        .create_customer(customer(60, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    let edit = |name: &str| {
        let mut i = input(60, t.county_a.id);
        i.name = name.to_owned();
        record(&i)
    };
    let (a, b) = tokio::join!(
        store.update_customer(c.id, 1, edit("甲改"), &t.hq.path, &SYSTEM, at(1)),
        store.update_customer(c.id, 1, edit("乙改"), &t.hq.path, &SYSTEM, at(1)),
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "{a:?} / {b:?}"
    );
    let loser = if outcomes[0] { b } else { a };
    assert!(
        matches!(
            loser,
            Err(StoreError::VersionConflict {
                entity: "customer",
                current: 2
            })
        ),
        "{loser:?}"
    );
    let history = store
        .customer_history(c.id, &t.hq.path, all())
        .await
        .expect("history");
    assert_eq!(history.items.len(), 2, "one Created, one Updated");
}
