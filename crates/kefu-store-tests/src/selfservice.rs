//! The self-service story: the portal's account, one-time codes (hash only, lifetime, tries,
//! codes per hour) and a customer's online rating stored with the order.

use chrono::Duration;
use kefu_domain::auth::Role;
use kefu_domain::customer::Phone;
use kefu_domain::selfservice::{
    CODE_TTL_MINUTES, CodeVerdict, MAX_CODE_ATTEMPTS, MAX_CODES_PER_WINDOW,
};
use kefu_domain::workorder::{Command, ReviewDecision, Satisfaction, State};
use kefu_store::{CodeIssue, Store, portal_account};

use crate::fixtures::{at, t0, tree};
use crate::workorder_fixtures::{actor, cast, complaint, dispatch_a, ok, reply, take};

fn phone() -> Phone {
    Phone::parse("13900139000").expect("a valid phone")
}

fn hash(code: &str) -> Vec<u8> {
    format!("hash-of-{code}").into_bytes()
}

pub async fn portal_account_is_made_once_at_the_top_unit_and_cannot_sign_in(store: &dyn Store) {
    assert_eq!(
        portal_account(store).await.expect("read"),
        None,
        "no tree yet"
    );
    let t = tree(store).await;
    let (first, second) = tokio::join!(portal_account(store), portal_account(store));
    let first = first.expect("created").expect("an account");
    let second = second.expect("read").expect("an account");
    assert_eq!(first.id, second.id);
    assert_eq!(first.org_unit_id, t.hq.id);
    assert_eq!(first.roles.as_slice(), &[Role::SelfService]);
    let (_, hash) = store
        .get_staff_for_login(&first.username)
        .await
        .expect("read")
        .expect("stored");
    assert!(!hash.starts_with('$'), "not a password hash: {hash}");
}

pub async fn a_code_is_accepted_once_and_only_the_last_one_counts(store: &dyn Store) {
    let p = phone();
    assert_eq!(
        store
            .try_code(&p, &hash("111111"), t0())
            .await
            .expect("try"),
        CodeVerdict::NoLiveCode
    );
    let issued = store
        .issue_code(&p, &hash("111111"), t0())
        .await
        .expect("issue");
    assert_eq!(
        issued,
        CodeIssue::Issued {
            expires_at: t0() + Duration::minutes(CODE_TTL_MINUTES)
        }
    );
    store
        .issue_code(&p, &hash("222222"), at(1))
        .await
        .expect("issue");
    assert_eq!(
        store
            .try_code(&p, &hash("111111"), at(2))
            .await
            .expect("try"),
        CodeVerdict::Wrong {
            attempts_left: MAX_CODE_ATTEMPTS - 1
        },
        "a replaced code no longer works"
    );
    assert_eq!(
        store
            .try_code(&p, &hash("222222"), at(2))
            .await
            .expect("try"),
        CodeVerdict::Accepted
    );
    assert_eq!(
        store
            .try_code(&p, &hash("222222"), at(3))
            .await
            .expect("try"),
        CodeVerdict::NoLiveCode,
        "a used code is dead"
    );
    let other = Phone::parse("13700137000").expect("phone");
    assert_eq!(
        store
            .try_code(&other, &hash("222222"), at(3))
            .await
            .expect("try"),
        CodeVerdict::NoLiveCode,
        "a code belongs to its phone"
    );
}

pub async fn a_code_dies_after_its_tries_or_its_lifetime(store: &dyn Store) {
    let p = phone();
    store
        .issue_code(&p, &hash("123456"), t0())
        .await
        .expect("issue");
    for left in (0..MAX_CODE_ATTEMPTS).rev() {
        assert_eq!(
            store
                .try_code(&p, &hash("000000"), at(1))
                .await
                .expect("try"),
            CodeVerdict::Wrong {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        store
            .try_code(&p, &hash("123456"), at(1))
            .await
            .expect("try"),
        CodeVerdict::NoLiveCode
    );
    store
        .issue_code(&p, &hash("654321"), at(2))
        .await
        .expect("issue");
    assert_eq!(
        store
            .try_code(&p, &hash("654321"), at(2 + CODE_TTL_MINUTES))
            .await
            .expect("try"),
        CodeVerdict::NoLiveCode,
        "expired"
    );
}

pub async fn a_phone_gets_a_limited_number_of_codes_an_hour(store: &dyn Store) {
    let p = phone();
    for i in 0..MAX_CODES_PER_WINDOW {
        let r = store
            .issue_code(&p, &hash("123456"), at(i64::from(i)))
            .await
            .expect("issue");
        assert!(matches!(r, CodeIssue::Issued { .. }), "code {i}: {r:?}");
    }
    assert_eq!(
        store
            .issue_code(&p, &hash("123456"), at(10))
            .await
            .expect("issue"),
        CodeIssue::TooMany
    );
    let later = store
        .issue_code(&p, &hash("123456"), at(61))
        .await
        .expect("issue");
    assert!(matches!(later, CodeIssue::Issued { .. }), "{later:?}");
}

pub async fn a_customer_rating_is_stored_with_the_order_and_its_timeline(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let portal = actor(900, Role::SelfService, &t.hq.path);
    let n = take(store, &c, complaint(&t), t0()).await.order.number;
    ok(store, &t, &n, dispatch_a(&t), &c.dispatcher, at(1)).await;
    ok(store, &t, &n, Command::Accept, &c.handler_a, at(2)).await;
    ok(store, &t, &n, reply(at(3)), &c.handler_a, at(3)).await;
    let review = Command::Review(ReviewDecision::Approve);
    ok(store, &t, &n, review, &c.reviewer, at(4)).await;
    let rate = Command::CustomerRate {
        satisfaction: Satisfaction::VerySatisfied,
        comment: "很快就修好了".into(),
    };
    let rated = ok(store, &t, &n, rate, &portal, at(5)).await;
    assert_eq!(rated.order.state, State::Reviewed);
    let stored = store
        .get_order(&n, &t.hq.path)
        .await
        .expect("get")
        .expect("stored");
    let rating = stored.order.customer_rating.clone().expect("rating stored");
    assert_eq!(
        (rating.satisfaction, rating.comment.as_deref(), rating.at),
        (Satisfaction::VerySatisfied, Some("很快就修好了"), at(5))
    );
    let timeline = store.timeline(&n, &t.hq.path).await.expect("timeline");
    let last = timeline.last().expect("events");
    assert_eq!(last.event.actor, portal.staff);
    let events: Vec<_> = timeline.iter().map(|e| e.event.clone()).collect();
    assert_eq!(
        kefu_domain::workorder::replay(&events).as_ref(),
        Ok(&stored.order)
    );
}
