//! Customer look-ups: screen-pop by phone, account, ID number, name prefix, special dates,
//! pagination.

use chrono::NaiveDate;
use kefu_domain::customer::{Phone, SpecialDateInput};
use kefu_domain::ids::CustomerId;
use kefu_store::{CustomerLookup, PageRequest, Store};

use crate::fixtures::{SYSTEM, at, customer, input, record, t0, tree};

fn all() -> PageRequest {
    PageRequest::new(None, Some(200))
}

async fn ids(
    store: &dyn Store,
    lookup: CustomerLookup,
    scope: &kefu_domain::org::OrgPath,
) -> Vec<CustomerId> {
    store
        .find_customers(&lookup, scope, false, all())
        .await
        .expect("find")
        .items
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// Everyone who gave a number is found by it, however it was typed, within scope.
pub async fn phone_lookup_finds_every_customer_sharing_the_number(store: &dyn Store) {
    let t = tree(store).await;
    let shared = "138 0013 8000";
    let mut made = Vec::new();
    for (n, unit) in [(1, t.county_a.id), (2, t.county_a.id), (3, t.county_b.id)] {
        let mut i = input(n, unit);
        i.phones = vec![format!("0571-8888000{n}"), shared.to_owned()];
        made.push(
            store
                .create_customer(record(&i), &SYSTEM, t0())
                .await
                .expect("create")
                .id,
        );
    }
    store
        .create_customer(customer(4, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    let phone = Phone::parse("+86-138-0013-8000").expect("phone");
    assert_eq!(
        ids(store, CustomerLookup::Phone(phone.clone()), &t.hq.path).await,
        made
    );
    assert_eq!(
        ids(store, CustomerLookup::Phone(phone), &t.city_a.path).await,
        made[..2].to_vec()
    );
    let own = Phone::parse("0571 88880002").expect("phone");
    assert_eq!(
        ids(store, CustomerLookup::Phone(own), &t.hq.path).await,
        vec![made[1]]
    );
    let page = store
        .find_customers(
            &CustomerLookup::Phone(Phone::parse("13800138000").expect("phone")),
            &t.hq.path,
            false,
            all(),
        )
        .await
        .expect("find");
    assert_eq!(page.items[0].record.phones.len(), 2, "children are loaded");
}

/// Account number and ID number find exactly their customer.
pub async fn account_and_id_number_lookups_are_exact(store: &dyn Store) {
    let t = tree(store).await;
    let a = store
        .create_customer(customer(7, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    store
        .create_customer(customer(8, t.county_a.id), &SYSTEM, t0())
        .await
        .expect("create");
    assert_eq!(
        ids(
            store,
            CustomerLookup::Account(a.record.account_number.as_str().to_owned()),
            &t.hq.path
        )
        .await,
        vec![a.id]
    );
    assert!(
        ids(store, CustomerLookup::Account("3300000".into()), &t.hq.path)
            .await
            .is_empty(),
        "no prefix match"
    );
    let number = a
        .record
        .id_document
        .as_ref()
        .expect("fixture has a document")
        .number()
        .to_owned();
    assert_eq!(
        ids(store, CustomerLookup::IdNumber(number), &t.hq.path).await,
        vec![a.id]
    );
}

/// A name prefix matches names starting with it, Chinese characters compared whole.
pub async fn name_prefix_matches_chinese_prefixes_only(store: &dyn Store) {
    let t = tree(store).await;
    let mut by_name = Vec::new();
    for (n, name) in [
        (1, "王秀英"),
        (2, "王小明"),
        (3, "汪洋"),
        (4, "李王"),
        (5, "王"),
        (6, "玌先生"),
    ] {
        let mut i = input(n, t.county_a.id);
        i.name = name.into();
        let c = store
            .create_customer(record(&i), &SYSTEM, t0())
            .await
            .expect("create");
        by_name.push(c.id);
    }
    assert_eq!(
        ids(store, CustomerLookup::NamePrefix("王".into()), &t.hq.path).await,
        vec![by_name[0], by_name[1], by_name[4]]
    );
    assert_eq!(
        ids(store, CustomerLookup::NamePrefix("王秀".into()), &t.hq.path).await,
        vec![by_name[0]]
    );
    assert!(
        ids(store, CustomerLookup::NamePrefix("张".into()), &t.hq.path)
            .await
            .is_empty()
    );
    assert!(
        ids(
            store,
            CustomerLookup::NamePrefix("王".into()),
            &t.city_b.path
        )
        .await
        .is_empty()
    );
}

/// Walking pages visits every customer in scope once, in id order.
pub async fn pagination_walks_every_row_once(store: &dyn Store) {
    let t = tree(store).await;
    let records: Vec<_> = (0..23)
        .map(|n| {
            customer(
                n,
                if n % 3 == 0 {
                    t.county_b.id
                } else {
                    t.county_a.id
                },
            )
        })
        .collect();
    let created = store
        .create_customers(records, &SYSTEM, t0())
        .await
        .expect("batch");
    let expected: Vec<CustomerId> = created
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 3 != 0)
        .map(|(_, id)| *id)
        .collect();
    let mut seen = Vec::new();
    let mut req = PageRequest::new(None, Some(4));
    let mut pages = 0;
    loop {
        let page = store
            .find_customers(&CustomerLookup::All, &t.city_a.path, false, req)
            .await
            .expect("page");
        pages += 1;
        assert!(page.items.len() <= 4);
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next {
            Some(next) => req = PageRequest::new(Some(next), Some(4)),
            None => break,
        }
        assert!(pages < 100, "pagination must end");
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, 4, "15 rows in pages of 4");
    // History pages too.
    let id = created[1];
    for n in 0..5 {
        let mut i = input(1, t.county_a.id);
        i.address = format!("新地址 {n}");
        store
            .update_customer(id, n + 1, record(&i), &t.hq.path, &SYSTEM, at(n))
            .await
            .expect("update");
    }
    let first = store
        .customer_history(id, &t.hq.path, PageRequest::new(None, Some(4)))
        .await
        .expect("history");
    assert_eq!(first.items.len(), 4);
    let rest = store
        .customer_history(id, &t.hq.path, PageRequest::new(first.next, Some(4)))
        .await
        .expect("history");
    assert_eq!(rest.items.len(), 2);
    assert_eq!(rest.next, None);
    assert!(first.items[3].id < rest.items[0].id);
}

fn with_dates(
    n: u32,
    unit: kefu_domain::ids::OrgUnitId,
    dates: &[&str],
) -> kefu_domain::customer::CustomerRecord {
    let mut i = input(n, unit);
    i.special_dates = dates
        .iter()
        .map(|d| SpecialDateInput {
            kind: "birthday".into(),
            date: (*d).to_owned(),
            label: None,
        })
        .collect();
    record(&i)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid day")
}

/// In a common year a 29 February birthday is greeted on 28 February; in a leap year on the 29th.
pub async fn special_dates_window_includes_leap_day_on_28_february(store: &dyn Store) {
    let t = tree(store).await;
    let leap = store
        .create_customer(with_dates(1, t.county_a.id, &["02-29"]), &SYSTEM, t0())
        .await
        .expect("create");
    let feb28 = store
        .create_customer(with_dates(2, t.county_a.id, &["1990-02-28"]), &SYSTEM, t0())
        .await
        .expect("create");
    let march = store
        .create_customer(with_dates(3, t.county_a.id, &["03-01"]), &SYSTEM, t0())
        .await
        .expect("create");
    let hits: Vec<(NaiveDate, CustomerId)> = store
        .special_dates_between(&t.hq.path, day(2027, 2, 27), 2, 100)
        .await
        .expect("window")
        .into_iter()
        .map(|h| (h.on, h.customer.id))
        .collect();
    assert_eq!(
        hits,
        vec![
            (day(2027, 2, 28), leap.id),
            (day(2027, 2, 28), feb28.id),
            (day(2027, 3, 1), march.id),
        ]
    );
    let hits: Vec<(NaiveDate, CustomerId)> = store
        .special_dates_between(&t.hq.path, day(2028, 2, 28), 1, 100)
        .await
        .expect("window")
        .into_iter()
        .map(|h| (h.on, h.customer.id))
        .collect();
    assert_eq!(
        hits,
        vec![(day(2028, 2, 28), feb28.id), (day(2028, 2, 29), leap.id)]
    );
}

/// Hits come by day then customer, only active customers in scope, at most `limit`, and the
/// window may cross the new year.
pub async fn special_dates_are_ordered_scoped_and_limited(store: &dyn Store) {
    let t = tree(store).await;
    let late = store
        .create_customer(with_dates(1, t.county_a.id, &["01-02"]), &SYSTEM, t0())
        .await
        .expect("create");
    let early = store
        .create_customer(
            with_dates(2, t.county_a.id, &["12-31", "06-01"]),
            &SYSTEM,
            t0(),
        )
        .await
        .expect("create");
    store
        .create_customer(with_dates(3, t.county_b.id, &["12-31"]), &SYSTEM, t0())
        .await
        .expect("create other scope");
    let retired = store
        .create_customer(with_dates(4, t.county_a.id, &["12-31"]), &SYSTEM, t0())
        .await
        .expect("create");
    store
        .set_customer_status(
            retired.id,
            1,
            Some("销户".into()),
            &t.hq.path,
            &SYSTEM,
            t0(),
        )
        .await
        .expect("retire");
    let hits = store
        .special_dates_between(&t.city_a.path, day(2026, 12, 30), 5, 100)
        .await
        .expect("window");
    let got: Vec<(NaiveDate, CustomerId)> = hits.iter().map(|h| (h.on, h.customer.id)).collect();
    assert_eq!(
        got,
        vec![(day(2026, 12, 31), early.id), (day(2027, 1, 2), late.id)]
    );
    assert_eq!(hits[0].special_date.month, 12);
    assert_eq!(hits[0].customer.record.special_dates.len(), 2);
    let limited = store
        .special_dates_between(&t.city_a.path, day(2026, 12, 30), 5, 1)
        .await
        .expect("window");
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0].customer.id, early.id);
}

/// A look-up returns each customer whole, exactly as a read by id: every phone, tag and
/// special date, in the same order (PostgreSQL gathers them in the look-up's own statement).
pub async fn a_looked_up_customer_reads_like_one_read_by_id(store: &dyn Store) {
    let t = tree(store).await;
    let mut i = input(7, t.county_a.id);
    i.phones = vec!["0571-88880007".into(), "13900000007".into()];
    i.tags = vec!["重要".into(), "Alpha".into(), "独居".into()];
    i.special_dates = vec![
        SpecialDateInput {
            kind: "birthday".into(),
            date: "1960-03-15".into(),
            label: Some("本人生日".into()),
        },
        SpecialDateInput {
            kind: "contract".into(),
            date: "10-01".into(),
            label: None,
        },
    ];
    let made = store
        .create_customer(record(&i), &SYSTEM, t0())
        .await
        .expect("create");
    let bare = store
        .create_customer(
            {
                let mut plain = input(8, t.county_a.id);
                plain.phones = vec!["13900000007".into()];
                plain.tags = Vec::new();
                plain.special_dates = Vec::new();
                record(&plain)
            },
            &SYSTEM,
            t0(),
        )
        .await
        .expect("create");
    let mut expected = Vec::new();
    for id in [made.id, bare.id] {
        expected.push(
            store
                .get_customer(id, &t.hq.path)
                .await
                .expect("get")
                .expect("stored"),
        );
    }
    assert_eq!(expected[0].record.special_dates.len(), 2);
    assert!(expected[1].record.tags.is_empty());
    let phone = Phone::parse("139 0000 0007").expect("phone");
    let found = store
        .find_customers(&CustomerLookup::Phone(phone), &t.hq.path, false, all())
        .await
        .expect("find");
    assert_eq!(found.items, expected);
    let by_account = store
        .find_customers(
            &CustomerLookup::Account(made.record.account_number.as_str().to_owned()),
            &t.hq.path,
            false,
            all(),
        )
        .await
        .expect("find");
    assert_eq!(by_account.items, expected[..1].to_vec());
}
