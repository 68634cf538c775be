//! Group-committed intake: many intakes arriving together (one task polls them all, so the
//! store's writer finds them queued at once and writes them as one batch) keep every promise of
//! a single intake — one order per idempotency key, gap-free unique numbers, repeat links to
//! orders of the same batch — and a refused intake fails alone.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use kefu_domain::auth::Role;
use kefu_domain::workorder::{Channel, OrderNumber, WorkOrderError};
use kefu_store::{
    IntakeOptions, IntakeOutcome, OrderFilter, PageRequest, Store, WorkOrderStoreError,
};

use crate::fixtures::{at, t0, tree};
use crate::workorder_fixtures::{actor, cast, intake, sla};

/// Polls every future on this task until all are done; the outputs in input order. (Unlike
/// sequential awaits, every intake is queued before the first one is answered.)
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

async fn all_numbers(store: &dyn Store, scope: &kefu_domain::org::OrgPath) -> Vec<OrderNumber> {
    let mut numbers = Vec::new();
    let mut page = PageRequest::first();
    loop {
        let found = store
            .list_orders(&OrderFilter::default(), scope, page)
            .await
            .expect("list");
        numbers.extend(found.items.iter().map(|o| o.order.number));
        match found.next {
            Some(next) => page = PageRequest::new(Some(next), Some(200)),
            None => return numbers,
        }
    }
}

/// 50 concurrent intakes over 10 idempotency keys (same content per key): one order per key,
/// every other try replays that key's order, and the 10 numbers are 1..=10 of the day.
pub async fn concurrent_intakes_with_shared_keys_make_one_order_per_key(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let opts = IntakeOptions::default();
    let tries = (0..50i64).map(|i| {
        let key = format!("call-{}", i % 10);
        let mine = intake(
            i % 10 + 1,
            &t.county_a.path,
            "complaint.outage",
            Channel::Phone95598,
            Some(&key),
        );
        let agent = &c.agent;
        async move { (key, store.intake(mine, opts, agent, sla(), at(1)).await) }
    });
    let results = join_all(tries.collect()).await;
    let mut by_key: BTreeMap<String, BTreeSet<OrderNumber>> = BTreeMap::new();
    let mut created = 0;
    for (key, r) in results {
        let (order, outcome) = r.unwrap_or_else(|e| panic!("intake with {key} failed: {e}"));
        if outcome == IntakeOutcome::Created {
            created += 1;
        }
        by_key.entry(key).or_default().insert(order.order.number);
    }
    assert_eq!(created, 10, "one order per key");
    assert_eq!(by_key.len(), 10);
    assert!(
        by_key.values().all(|n| n.len() == 1),
        "every try of a key answers with the same order: {by_key:?}"
    );
    let mut seqs: Vec<u32> = by_key
        .values()
        .flat_map(|n| n.iter().map(|n| n.seq()))
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=10).collect::<Vec<u32>>(), "unique, gap-free");
    assert_eq!(all_numbers(store, &t.hq.path).await.len(), 10);
}

/// In one burst: good intakes, intakes by someone who may not take appeals, and a key reused
/// with other content. Each refusal gets its own typed error; every good intake is written,
/// and the refused ones spend no number.
pub async fn a_refused_intake_does_not_fail_the_others_of_its_batch(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let handler = actor(120, Role::Handler, &t.county_a.path);
    let opts = IntakeOptions::default();
    let keyed = |content: &str| {
        let mut i = intake(
            1,
            &t.county_a.path,
            "complaint.outage",
            Channel::Web,
            Some("msg-taken"),
        );
        i.content = content.to_owned();
        i
    };
    let (first, _) = store
        .intake(keyed("小区停电两天无人处理"), opts, &c.agent, sla(), t0())
        .await
        .expect("first");

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Good,
        NoRole,
        Reused,
    }
    let tries = (0..30i64).map(|i| {
        let kind = match i % 6 {
            1 => Kind::NoRole,
            4 => Kind::Reused,
            _ => Kind::Good,
        };
        let (mine, who) = match kind {
            Kind::Good => (
                intake(
                    i + 2,
                    &t.county_a.path,
                    "complaint.tariff",
                    Channel::App,
                    None,
                ),
                &c.agent,
            ),
            Kind::NoRole => (
                intake(
                    i + 2,
                    &t.county_a.path,
                    "complaint.tariff",
                    Channel::App,
                    None,
                ),
                &handler,
            ),
            Kind::Reused => (keyed("电表读数异常，电费翻倍"), &c.agent),
        };
        async move { (kind, store.intake(mine, opts, who, sla(), at(1)).await) }
    });
    let mut seqs = Vec::new();
    for (kind, r) in join_all(tries.collect()).await {
        match (kind, r) {
            (Kind::Good, Ok((o, IntakeOutcome::Created))) => seqs.push(o.order.number.seq()),
            (
                Kind::NoRole,
                Err(WorkOrderStoreError::Rule(WorkOrderError::RoleNotAllowed { .. })),
            ) => {}
            (Kind::Reused, Err(WorkOrderStoreError::IdempotencyKeyReused { first: n })) => {
                assert_eq!(n, first.order.number);
            }
            (kind, other) => panic!("{kind:?} intake answered {other:?}"),
        }
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (2..=21).collect::<Vec<u32>>(),
        "20 good intakes after the first, numbered without gaps"
    );
    assert_eq!(all_numbers(store, &t.hq.path).await.len(), 21);
    let stored = store.get_order(&first.order.number, &t.hq.path).await;
    assert_eq!(
        stored.expect("get"),
        Some(first),
        "the first order is intact"
    );
}

/// Five appeals of one customer on one matter arriving together: each links to every earlier
/// one of the burst (they are written in one transaction, in order), as if taken one by one.
pub async fn an_intake_repeating_one_of_its_batch_links_to_it(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let opts = IntakeOptions::default();
    let tries = (0..5).map(|_| {
        let mine = intake(
            7,
            &t.county_a.path,
            "complaint.outage",
            Channel::Phone95598,
            None,
        );
        let agent = &c.agent;
        async move { store.intake(mine, opts, agent, sla(), at(1)).await }
    });
    let mut orders: Vec<_> = join_all(tries.collect())
        .await
        .into_iter()
        .map(|r| r.expect("intake").0)
        .collect();
    orders.sort_by_key(|o| o.order.number);
    for (i, o) in orders.iter().enumerate() {
        let earlier: Vec<OrderNumber> = orders[..i].iter().map(|e| e.order.number).collect();
        assert_eq!(o.order.repeat_of, earlier, "order {}", o.order.number);
        let stored = store
            .get_order(&o.order.number, &t.hq.path)
            .await
            .expect("get")
            .expect("stored");
        assert_eq!(&stored, o, "the answer is what was committed");
    }
}
