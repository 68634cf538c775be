//! Full-text search over work orders (`SearchStore`, issue 7): words, not characters, are
//! matched; the user dictionary changes what a word is once the index is rebuilt; numbers are
//! found exactly; hits never leave the caller's scope; the index follows the order's text in
//! the order's own transaction (intake, apply, bulk load).

use chrono::Duration;
use kefu_domain::org::DepartmentKind;
use kefu_domain::workorder::{Channel, Command, Intake, OrderNumber, State};
use kefu_store::{
    Actor, OrderFilter, SearchBound, SearchPageRequest, SearchWindow, Store, StoreError,
    StoredOrder,
};

use crate::fixtures::{Tree, at, t0, tree};
use crate::workorder_fixtures::{Cast, cast, dispatch_a, intake, ok, take};

const SYSTEM: Actor = Actor::System("test");

fn appeal(t: &Tree, customer: i64, county_b: bool, content: &str) -> Intake {
    let unit = if county_b {
        &t.county_b.path
    } else {
        &t.county_a.path
    };
    let mut i = intake(
        customer,
        unit,
        "complaint.outage",
        Channel::Phone95598,
        None,
    );
    content.clone_into(&mut i.content);
    i
}

/// Takes one order per text (customers differ, so none repeats another), a minute apart.
async fn orders(store: &dyn Store, t: &Tree, c: &Cast, texts: &[(&str, bool)]) -> Vec<StoredOrder> {
    let mut out = Vec::new();
    for (i, (text, county_b)) in texts.iter().enumerate() {
        let n = i64::try_from(i).expect("few");
        out.push(take(store, c, appeal(t, 100 + n, *county_b, text), at(n)).await);
    }
    out
}

/// The numbers of the orders `query` finds in `scope` with `filter`, best first.
async fn found_with(
    store: &dyn Store,
    query: &str,
    filter: &OrderFilter,
    scope: &kefu_domain::org::OrgPath,
) -> Vec<OrderNumber> {
    let terms = store.segmenter().query_terms(query);
    store
        .search_orders(&terms, filter, scope, SearchPageRequest::new(0, 50))
        .await
        .expect("search")
        .hits
        .into_iter()
        .map(|h| h.order.order.number)
        .collect()
}

async fn found(store: &dyn Store, t: &Tree, query: &str) -> Vec<OrderNumber> {
    found_with(store, query, &OrderFilter::default(), &t.hq.path).await
}

fn numbers(orders: &[&StoredOrder]) -> Vec<OrderNumber> {
    orders.iter().map(|o| o.order.number).collect()
}

pub async fn search_matches_words_not_single_characters(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let o = orders(
        store,
        &t,
        &c,
        &[
            ("这个月电费太高了，要求核查电费", false),
            ("电费账单有误", false),
            ("家里停电了，请尽快抢修", false),
            ("用电安全咨询", false),
            ("墙上插座有电，手碰到被电了一下", false),
        ],
    )
    .await;
    let mut hits = found(store, &t, "电费").await;
    hits.sort();
    assert_eq!(hits, numbers(&[&o[0], &o[1]]), "电费 finds the 电费 orders");
    let single = found(store, &t, "电").await;
    for flood in [&o[0], &o[1], &o[2], &o[3]] {
        assert!(
            !single.contains(&flood.order.number),
            "电 alone must not match the 电 inside 电费 / 停电 / 用电: {single:?}"
        );
    }
    assert_eq!(single.first(), Some(&o[4].order.number), "{single:?}");
    assert!(
        found(store, &t, "，。！").await.is_empty(),
        "punctuation finds nothing"
    );
    let both = found(store, &t, "电费 账单").await;
    assert_eq!(both, numbers(&[&o[1]]), "every query word must match");
}

pub async fn a_user_dictionary_word_is_one_term_once_reindexed(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let o = orders(
        store,
        &t,
        &c,
        &[("峰谷电价怎么收费", false), ("峰谷时段的电价太贵", false)],
    )
    .await;
    let mut before = found(store, &t, "峰谷电价").await;
    before.sort();
    assert_eq!(before, numbers(&[&o[0], &o[1]]), "峰谷 + 电价 match both");

    let start = store.search_dictionary().await.expect("dictionary");
    assert_eq!((start.version, start.value.len()), (0, 0));
    let saved = store
        .save_search_dictionary(vec!["峰谷电价".into()], 0, &SYSTEM, t0())
        .await
        .expect("save");
    assert_eq!(saved.version, 1);
    assert_eq!(
        store.segmenter().query_terms("峰谷电价"),
        vec!["峰谷电价".to_owned()]
    );
    let stale = store
        .save_search_dictionary(vec!["自备变".into()], 0, &SYSTEM, t0())
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict { current: 1, .. })),
        "{stale:?}"
    );
    let bad = store
        .save_search_dictionary(vec!["峰谷 电价".into()], 1, &SYSTEM, t0())
        .await;
    assert!(matches!(bad, Err(StoreError::InvalidState(_))), "{bad:?}");

    let mut after = 0;
    let mut total = 0;
    while let Some(last) = store
        .reindex_orders(after, 1)
        .await
        .expect("reindex")
        .last_id
    {
        after = last;
        total += 1;
    }
    assert_eq!(total, 2, "one step per order");
    assert_eq!(store.count_orders().await.expect("count"), 2);
    assert_eq!(
        found(store, &t, "峰谷电价").await,
        numbers(&[&o[0]]),
        "峰谷电价 is one word now"
    );
    assert_eq!(
        store.load_search_dictionary().await.expect("load"),
        1,
        "the stored version is loaded"
    );
}

pub async fn account_and_order_numbers_are_found_exactly(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let o = orders(
        store,
        &t,
        &c,
        &[
            ("户号0512345678的电能表不走字", false),
            ("户号：0512345679，电费异常", false),
            ("客户留言尾号5678的手机联系", false),
        ],
    )
    .await;
    assert_eq!(found(store, &t, "0512345678").await, numbers(&[&o[0]]));
    assert_eq!(found(store, &t, "户号 0512345679").await, numbers(&[&o[1]]));
    assert!(
        found(store, &t, "051234567").await.is_empty(),
        "no prefix hits"
    );
    assert_eq!(found(store, &t, "5678").await, numbers(&[&o[2]]));
    let number = o[1].order.number.to_string();
    assert_eq!(found(store, &t, &number).await, numbers(&[&o[1]]));
    assert_eq!(
        found(store, &t, &number.to_lowercase()).await,
        numbers(&[&o[1]])
    );
}

pub async fn a_county_never_sees_another_countys_hits(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let o = orders(
        store,
        &t,
        &c,
        &[
            ("电压低，空调开不起来", false),
            ("电压低，灯一直闪", true),
            ("电压低，冰箱停机", false),
        ],
    )
    .await;
    let all = OrderFilter::default();
    let mut a = found_with(store, "电压低", &all, &t.county_a.path).await;
    a.sort();
    assert_eq!(a, numbers(&[&o[0], &o[2]]));
    assert_eq!(
        found_with(store, "电压低", &all, &t.county_b.path).await,
        numbers(&[&o[1]])
    );
    assert_eq!(
        found_with(store, "电压低", &all, &t.province.path)
            .await
            .len(),
        3
    );
    // A filter for the other county inside one's own scope still finds nothing of it.
    let other = OrderFilter {
        unit: Some(t.county_b.path.clone()),
        ..OrderFilter::default()
    };
    assert!(
        found_with(store, "电压低", &other, &t.county_a.path)
            .await
            .is_empty()
    );
    // The list's filters combine with the words.
    ok(
        store,
        &t,
        &o[2].order.number,
        dispatch_a(&t),
        &c.dispatcher,
        at(10),
    )
    .await;
    let dispatched = OrderFilter {
        state: Some(State::Dispatched),
        ..OrderFilter::default()
    };
    assert_eq!(
        found_with(store, "电压低", &dispatched, &t.hq.path).await,
        numbers(&[&o[2]])
    );
    let later = OrderFilter {
        created_from: Some(at(1)),
        ..OrderFilter::default()
    };
    let mut since = found_with(store, "电压低", &later, &t.hq.path).await;
    since.sort();
    assert_eq!(since, numbers(&[&o[1], &o[2]]));
    // Pages: one hit each, the next offset until the last.
    let terms = store.segmenter().query_terms("电压低");
    let first = store
        .search_orders(&terms, &all, &t.hq.path, SearchPageRequest::new(0, 2))
        .await
        .expect("page");
    assert_eq!((first.hits.len(), first.next_offset), (2, Some(2)));
    let last = store
        .search_orders(&terms, &all, &t.hq.path, SearchPageRequest::new(2, 2))
        .await
        .expect("page");
    assert_eq!((last.hits.len(), last.next_offset), (1, None));
}

pub async fn text_added_by_a_step_is_found_in_the_same_commit(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let o = orders(store, &t, &c, &[("小区路灯不亮", false)]).await;
    assert!(found(store, &t, "变压器").await.is_empty());
    let reason = "台区变压器过载，多次投诉".to_owned();
    ok(
        store,
        &t,
        &o[0].order.number,
        Command::Supervise { reason },
        &c.supervisor,
        at(5),
    )
    .await;
    assert_eq!(found(store, &t, "变压器").await, numbers(&[&o[0]]));
    assert_eq!(
        found(store, &t, "路灯").await,
        numbers(&[&o[0]]),
        "the appeal text stays indexed"
    );
}

pub async fn bulk_loaded_orders_are_searchable(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let mut first = appeal(&t, 7, false, "光伏并网申请一直没有回复");
    first.number = OrderNumber::parse("GD20261122000001").expect("number");
    let opened =
        kefu_domain::workorder::open(first, &c.agent, t0() - Duration::hours(2)).expect("open");
    let order = kefu_domain::workorder::replay(std::slice::from_ref(&opened)).expect("replay");
    let loaded = kefu_store::LoadedOrder {
        order,
        events: vec![opened],
        sla: Vec::new(),
        fingerprint: None,
    };
    store.load_orders(&[loaded]).await.expect("load");
    let hits = found(store, &t, "光伏 并网").await;
    assert_eq!(
        hits,
        vec![OrderNumber::parse("GD20261122000001").expect("number")]
    );
}

pub async fn an_order_moved_to_another_county_is_found_there_only(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let o = orders(store, &t, &c, &[("台区电压低，晚上灯很暗", true)]).await;
    let all = OrderFilter::default();
    assert_eq!(
        found_with(store, "电压低", &all, &t.county_b.path).await,
        numbers(&[&o[0]])
    );
    let across = Command::Dispatch {
        unit: t.county_a.path.clone(),
        department: DepartmentKind::Operations,
        override_reason: "线路属A县运维".into(),
    };
    ok(store, &t, &o[0].order.number, across, &c.dispatcher, at(5)).await;
    assert_eq!(
        found_with(store, "电压低", &all, &t.county_a.path).await,
        numbers(&[&o[0]]),
        "the index row follows the new holding unit in the step's commit"
    );
    assert!(
        found_with(store, "电压低", &all, &t.county_b.path)
            .await
            .is_empty()
    );
    assert_eq!(
        found_with(store, "电压低", &all, &t.city_a.path).await,
        numbers(&[&o[0]]),
        "a unit above finds it through its own path term"
    );
}

pub async fn phone_numbers_and_their_fragments_find_the_callers_orders(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    // Customers 100, 101, 102 call from 13800000100, 13800000101, 13800000102.
    let o = orders(
        store,
        &t,
        &c,
        &[
            ("表计显示异常", false),
            ("电费账单有误", false),
            ("路灯不亮", true),
        ],
    )
    .await;
    let mut whole = found(store, &t, "13800000101").await;
    whole.sort();
    assert_eq!(whole, numbers(&[&o[1]]), "the whole number");
    let mut lead = found(store, &t, "1380000010").await;
    lead.sort();
    assert_eq!(lead, numbers(&[&o[0], &o[1], &o[2]]), "a leading fragment");
    assert_eq!(
        found(store, &t, "0102").await,
        numbers(&[&o[2]]),
        "the last four digits"
    );
    assert_eq!(
        found(store, &t, "0100 表计").await,
        numbers(&[&o[0]]),
        "with a word"
    );
    let all = OrderFilter::default();
    let mut county = found_with(store, "1380000", &all, &t.county_a.path).await;
    county.sort();
    assert_eq!(county, numbers(&[&o[0], &o[1]]), "fragments stay in scope");
    assert!(
        found(store, &t, "000010").await.is_empty(),
        "six digits are a word, not a phone fragment"
    );
    assert!(
        found(store, &t, "kfp13800000101").await.is_empty(),
        "the reserved form cannot be typed"
    );
}

pub async fn a_common_word_is_ranked_among_the_newest_matches_and_says_so(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let texts: Vec<(&str, bool)> = (0..12).map(|_| ("客户反映电压低", false)).collect();
    let o = orders(store, &t, &c, &texts).await;
    let terms = store.segmenter().query_terms("电压低");
    let all = OrderFilter::default();
    let small = SearchPageRequest::new(0, 50).with_window(SearchWindow::new(5, 8));
    let page = store
        .search_orders(&terms, &all, &t.hq.path, small)
        .await
        .expect("search");
    assert_eq!(page.bound, Some(SearchBound::RankedAmong(5)));
    let mut hits: Vec<i64> = page.hits.iter().map(|h| h.order.id).collect();
    hits.sort_unstable();
    let newest: Vec<i64> = o[7..].iter().map(|s| s.id).collect();
    assert_eq!(hits, newest, "the newest five matches are ranked");
    assert!(!page.index_outdated);

    // A filter that rejects most of the newest eight: the page says the filters saw eight.
    let old = OrderFilter {
        created_to: Some(at(6)),
        ..OrderFilter::default()
    };
    let page = store
        .search_orders(&terms, &old, &t.hq.path, small)
        .await
        .expect("search");
    assert_eq!(page.bound, Some(SearchBound::FilteredAmong(8)));
    let mut hits: Vec<i64> = page.hits.iter().map(|h| h.order.id).collect();
    hits.sort_unstable();
    assert_eq!(
        hits,
        vec![o[4].id, o[5].id],
        "taken before minute 6, among the newest 8"
    );

    let full = store
        .search_orders(&terms, &all, &t.hq.path, SearchPageRequest::new(0, 50))
        .await
        .expect("search");
    assert_eq!(
        (full.bound, full.hits.len()),
        (None, 12),
        "fits the default window"
    );
    let none = store
        .search_orders(
            &store.segmenter().query_terms("光伏"),
            &all,
            &t.hq.path,
            small,
        )
        .await
        .expect("search");
    assert_eq!((none.bound, none.hits.len()), (None, 0));
}

/// A store upgraded from index format 1 (`downgrade` writes format 1 into the store's own
/// format record, as migration 0012 does for a store that already holds orders): searches
/// still keep to the scope and say the index is outdated, until a full reindex records the
/// current format.
pub async fn an_outdated_index_is_reported_until_reindexed(
    store: &dyn Store,
    downgrade: impl AsyncFnOnce(),
) {
    let t = tree(store).await;
    let c = cast(&t);
    let o = orders(store, &t, &c, &[("电压低", false), ("电压低", true)]).await;
    assert_eq!(
        store.index_format().await.expect("format"),
        kefu_store::search_terms::INDEX_FORMAT,
        "a store created empty starts current"
    );
    downgrade().await;
    let terms = store.segmenter().query_terms("电压低");
    let all = OrderFilter::default();
    let page = store
        .search_orders(
            &terms,
            &all,
            &t.county_a.path,
            SearchPageRequest::new(0, 20),
        )
        .await
        .expect("search");
    assert!(page.index_outdated);
    let hits: Vec<_> = page.hits.iter().map(|h| h.order.order.number).collect();
    assert_eq!(hits, numbers(&[&o[0]]), "the scope is still kept");
    let mut after = 0;
    while let Some(last) = store
        .reindex_orders(after, 10)
        .await
        .expect("reindex")
        .last_id
    {
        after = last;
    }
    store.finish_reindex().await.expect("finish");
    let page = store
        .search_orders(
            &terms,
            &all,
            &t.county_a.path,
            SearchPageRequest::new(0, 20),
        )
        .await
        .expect("search");
    assert!(!page.index_outdated);
    assert_eq!(page.hits.len(), 1);
}

/// A batch large enough to be cut on several threads keeps every order with its own terms.
pub async fn a_large_bulk_load_indexes_every_order_with_its_own_terms(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let loaded: Vec<kefu_store::LoadedOrder> = (0..600)
        .map(|i| {
            let mut input = appeal(&t, 7, i % 2 == 1, &format!("光伏并网申请，户号{:010}", i));
            input.number = OrderNumber::parse(&format!("GD20261122{:06}", i + 1)).expect("number");
            let opened = kefu_domain::workorder::open(input, &c.agent, t0() - Duration::hours(2))
                .expect("open");
            let order =
                kefu_domain::workorder::replay(std::slice::from_ref(&opened)).expect("replay");
            kefu_store::LoadedOrder {
                order,
                events: vec![opened],
                sla: Vec::new(),
                fingerprint: None,
            }
        })
        .collect();
    store.load_orders(&loaded).await.expect("load");
    for i in [0_usize, 1, 255, 256, 299, 300, 511, 599] {
        let number = OrderNumber::parse(&format!("GD20261122{:06}", i + 1)).expect("number");
        assert_eq!(
            found(store, &t, &format!("户号 {:010}", i)).await,
            vec![number],
            "order {i}"
        );
    }
    let all = OrderFilter::default();
    let page = store
        .search_orders(
            &store.segmenter().query_terms("光伏并网"),
            &all,
            &t.county_b.path,
            SearchPageRequest::new(0, 100),
        )
        .await
        .expect("search");
    assert_eq!(page.hits.len(), 100);
    assert!(
        page.hits
            .iter()
            .all(|h| t.county_b.path.contains(h.order.order.home_unit())),
        "the county's reserved term holds only its orders"
    );
}
