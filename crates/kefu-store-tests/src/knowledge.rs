//! The knowledge base (`KnowledgeStore`, issue 7): the workflow with its version history, what
//! agents find (published and in force), and links from orders in scope.

use chrono::NaiveDate;
use kefu_domain::ids::StaffId;
use kefu_domain::knowledge::{ArticleAction, ArticleDraft, ArticleInput, ArticleState, Tag};
use kefu_store::search::SearchPageRequest;
use kefu_store::{Actor, Article, ArticleFilter, Store, StoreError};

use crate::fixtures::{at, t0, tree};
use crate::workorder_fixtures::{cast, complaint, take};

const WRITER: StaffId = StaffId(501);
const REVIEWER: StaffId = StaffId(502);

fn draft(title: &str, body: &str, category: &str, to: Option<NaiveDate>) -> ArticleDraft {
    ArticleDraft::validate(ArticleInput {
        title: title.into(),
        body: body.into(),
        category: category.into(),
        tags: vec!["电价".into()],
        effective_from: NaiveDate::from_ymd_opt(2026, 1, 1),
        effective_to: to,
    })
    .expect("fixture article")
}

async fn step(store: &dyn Store, a: &Article, action: ArticleAction, by: StaffId) -> Article {
    store
        .article_action(a.id, a.version, action, by, &Actor::Staff(by), t0())
        .await
        .unwrap_or_else(|e| panic!("{action} refused: {e}"))
}

async fn published(store: &dyn Store, d: ArticleDraft) -> Article {
    let a = store
        .create_article(d, WRITER, &Actor::Staff(WRITER), t0())
        .await
        .expect("create");
    let a = step(store, &a, ArticleAction::Submit, WRITER).await;
    step(store, &a, ArticleAction::Publish, REVIEWER).await
}

pub async fn an_article_goes_through_review_and_keeps_every_version(store: &dyn Store) {
    let a = store
        .create_article(
            draft("峰谷电价", "草稿", "tariff", None),
            WRITER,
            &Actor::Staff(WRITER),
            t0(),
        )
        .await
        .expect("create");
    assert_eq!(
        (a.state, a.version, a.author),
        (ArticleState::Draft, 1, WRITER)
    );
    let edited = draft(
        "峰谷电价执行时段",
        "峰时 8:00-22:00，谷时 22:00-次日8:00",
        "tariff",
        None,
    );
    let stale = store
        .update_article(a.id, 0, edited.clone(), &Actor::Staff(WRITER), t0())
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict { current: 1, .. })),
        "{stale:?}"
    );
    let a = store
        .update_article(a.id, 1, edited.clone(), &Actor::Staff(WRITER), at(1))
        .await
        .expect("edit");
    assert_eq!((a.version, a.draft.clone()), (2, edited));
    let a = step(store, &a, ArticleAction::Submit, WRITER).await;
    assert_eq!(a.submitted_by, Some(WRITER));
    let own = store
        .article_action(
            a.id,
            a.version,
            ArticleAction::Publish,
            WRITER,
            &Actor::Staff(WRITER),
            t0(),
        )
        .await;
    assert!(
        matches!(own, Err(StoreError::InvalidState(_))),
        "four eyes: {own:?}"
    );
    let a = step(store, &a, ArticleAction::Publish, REVIEWER).await;
    assert_eq!(a.state, ArticleState::Published);
    let locked = store
        .update_article(
            a.id,
            a.version,
            draft("x", "y", "other", None),
            &Actor::Staff(WRITER),
            t0(),
        )
        .await;
    assert!(
        matches!(locked, Err(StoreError::InvalidState(_))),
        "{locked:?}"
    );
    let illegal = store
        .article_action(
            a.id,
            a.version,
            ArticleAction::Submit,
            WRITER,
            &Actor::Staff(WRITER),
            t0(),
        )
        .await;
    assert!(
        matches!(illegal, Err(StoreError::InvalidState(_))),
        "{illegal:?}"
    );
    let history = store.article_history(a.id).await.expect("history");
    let changes: Vec<(i64, &str)> = history
        .iter()
        .map(|v| (v.version, v.change.as_str()))
        .collect();
    assert_eq!(
        changes,
        vec![(4, "publish"), (3, "submit"), (2, "edit"), (1, "create")]
    );
    assert_eq!(history[3].draft.title, "峰谷电价");
    assert_eq!(history[0].staff_id, Some(REVIEWER));
    assert_eq!(store.get_article(a.id).await.expect("get"), Some(a));
    assert_eq!(store.get_article(9999).await.expect("get"), None);
}

pub async fn agents_find_only_published_articles_in_force(store: &dyn Store) {
    let ended = NaiveDate::from_ymd_opt(2026, 6, 30);
    let live = published(
        store,
        draft("峰谷电价执行时段", "居民峰谷电价按时段计费", "tariff", None),
    )
    .await;
    let old = published(
        store,
        draft(
            "旧版峰谷电价",
            "2026年上半年执行的峰谷电价",
            "tariff",
            ended,
        ),
    )
    .await;
    let pending = store
        .create_article(
            draft("峰谷电价调整草稿", "下一步调整峰谷电价", "tariff", None),
            WRITER,
            &Actor::Staff(WRITER),
            t0(),
        )
        .await
        .expect("draft");
    let outage = published(
        store,
        draft(
            "计划停电怎么查询",
            "拨打95598查询停电信息",
            "outage_faq",
            None,
        ),
    )
    .await;
    let terms = store.segmenter().query_terms("峰谷电价");
    let page = SearchPageRequest::new(0, 20);
    let agent = ArticleFilter {
        in_force_on: NaiveDate::from_ymd_opt(2026, 11, 22),
        ..ArticleFilter::default()
    };
    let ids = |hits: Vec<kefu_store::ArticleHit>| -> Vec<i64> {
        let mut v: Vec<i64> = hits.into_iter().map(|h| h.article.id).collect();
        v.sort_unstable();
        v
    };
    let seen = store
        .search_articles(&terms, &agent, page)
        .await
        .expect("search");
    assert_eq!(ids(seen), vec![live.id]);
    let all = store
        .search_articles(&terms, &ArticleFilter::default(), page)
        .await
        .expect("search");
    assert_eq!(ids(all), vec![live.id, old.id, pending.id]);
    let faq = ArticleFilter {
        category: Some(kefu_domain::knowledge::ArticleCategory::OutageFaq),
        ..agent.clone()
    };
    let listed = store.search_articles(&[], &faq, page).await.expect("list");
    assert_eq!(ids(listed), vec![outage.id]);
    let tagged = ArticleFilter {
        tag: Some(Tag::parse("tag", "电价").expect("tag")),
        state: Some(ArticleState::Draft),
        ..ArticleFilter::default()
    };
    let drafts = store
        .search_articles(&[], &tagged, page)
        .await
        .expect("list");
    assert_eq!(ids(drafts), vec![pending.id]);

    // A dictionary word becomes one term in articles once they are re-cut.
    store
        .save_search_dictionary(vec!["峰谷电价".into()], 0, &Actor::System("test"), t0())
        .await
        .expect("dictionary");
    assert_eq!(store.reindex_articles().await.expect("reindex"), 4);
    let terms = store.segmenter().query_terms("峰谷电价");
    assert_eq!(terms, vec!["峰谷电价".to_owned()]);
    let seen = store
        .search_articles(&terms, &agent, page)
        .await
        .expect("search");
    assert_eq!(ids(seen), vec![live.id]);
}

pub async fn orders_cite_articles_in_scope_and_the_most_cited_come_first(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let o1 = take(store, &c, complaint(&t), at(1)).await.order.number;
    let mut second = complaint(&t);
    second.caller = crate::workorder_fixtures::intake(
        2,
        &t.county_a.path,
        "complaint.outage",
        kefu_domain::workorder::Channel::Phone95598,
        None,
    )
    .caller;
    let o2 = take(store, &c, second, at(2)).await.order.number;
    let a = published(
        store,
        draft("停电抢修时限", "城区45分钟到达现场", "outage_faq", None),
    )
    .await;
    let b = published(
        store,
        draft("电费缴纳方式", "网上国网缴费", "procedure", None),
    )
    .await;
    let who = Actor::Staff(StaffId(101));
    let out = store
        .link_article(a.id, &o1, &t.county_b.path, &who, t0())
        .await;
    assert!(matches!(out, Err(StoreError::NotFound { .. })), "{out:?}");
    assert!(
        store
            .link_article(a.id, &o1, &t.county_a.path, &who, t0())
            .await
            .expect("link")
    );
    assert!(
        !store
            .link_article(a.id, &o1, &t.county_a.path, &who, t0())
            .await
            .expect("again")
    );
    assert!(
        store
            .link_article(a.id, &o2, &t.province.path, &who, t0())
            .await
            .expect("link")
    );
    assert!(
        store
            .link_article(b.id, &o2, &t.province.path, &who, t0())
            .await
            .expect("link")
    );
    let d = store
        .create_article(draft("草稿", "未发布", "other", None), WRITER, &who, t0())
        .await
        .expect("draft");
    let refused = store
        .link_article(d.id, &o1, &t.province.path, &who, t0())
        .await;
    assert!(
        matches!(refused, Err(StoreError::InvalidState(_))),
        "{refused:?}"
    );
    let top = store
        .most_linked_articles(&ArticleFilter::default(), 10)
        .await
        .expect("top");
    let counts: Vec<(i64, i64)> = top.iter().map(|a| (a.id, a.links)).collect();
    assert_eq!(counts, vec![(a.id, 2), (b.id, 1)]);
    let cited: Vec<i64> = store
        .articles_of_order(&o2, &t.county_a.path)
        .await
        .expect("cited")
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(cited, vec![a.id, b.id]);
    let hidden = store.articles_of_order(&o2, &t.county_b.path).await;
    assert!(
        matches!(hidden, Err(StoreError::NotFound { .. })),
        "{hidden:?}"
    );
}
