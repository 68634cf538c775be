use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn input() -> ArticleInput {
    ArticleInput {
        title: " 峰谷电价执行时段 ".into(),
        body: "## 时段\n\n峰: 8:00-22:00".into(),
        category: "tariff".into(),
        tags: vec!["电价".into(), "峰谷".into(), "电价".into()],
        effective_from: Some(day(2026, 1, 1)),
        effective_to: None,
    }
}

#[test]
fn a_valid_article_is_trimmed_and_keeps_each_tag_once() {
    let a = ArticleDraft::validate(input()).expect("valid");
    assert_eq!(a.title, "峰谷电价执行时段");
    assert_eq!(a.category, ArticleCategory::Tariff);
    let tags: Vec<&str> = a.tags.iter().map(Tag::as_str).collect();
    assert_eq!(tags, ["电价", "峰谷"]);
}

#[test]
fn every_bad_field_is_named_at_once() {
    let bad = ArticleInput {
        title: String::new(),
        body: " ".into(),
        category: "gossip".into(),
        tags: vec!["a,b".into()],
        effective_from: Some(day(2026, 2, 1)),
        effective_to: Some(day(2026, 1, 1)),
    };
    let fields: Vec<String> = ArticleDraft::validate(bad)
        .expect_err("invalid")
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        ["title", "body", "category", "tags[0]", "effective_to"]
    );
}

#[test]
fn validity_includes_both_ends() {
    let v = Validity {
        from: Some(day(2026, 1, 1)),
        to: Some(day(2026, 12, 31)),
    };
    assert!(v.contains(day(2026, 1, 1)) && v.contains(day(2026, 12, 31)));
    assert!(!v.contains(day(2025, 12, 31)) && !v.contains(day(2027, 1, 1)));
    assert!(Validity::default().contains(day(1999, 1, 1)));
}

#[test]
fn the_workflow_goes_draft_review_published_archived() {
    let (writer, reviewer) = (StaffId(1), StaffId(2));
    let s = transition(ArticleState::Draft, ArticleAction::Submit, writer, None).expect("submit");
    assert_eq!(s, ArticleState::InReview);
    let own = transition(s, ArticleAction::Publish, writer, Some(writer));
    assert_eq!(
        own,
        Err(KnowledgeError::OwnSubmission {
            action: ArticleAction::Publish
        })
    );
    let s = transition(s, ArticleAction::Publish, reviewer, Some(writer)).expect("publish");
    assert_eq!(s, ArticleState::Published);
    let s = transition(s, ArticleAction::Archive, reviewer, None).expect("archive");
    assert_eq!(s, ArticleState::Archived);
    let s = transition(s, ArticleAction::Revise, writer, None).expect("revise");
    assert_eq!(s, ArticleState::Draft);
    assert!(check_editable(s).is_ok());
    assert!(check_editable(ArticleState::Published).is_err());
}

#[test]
fn an_illegal_step_names_the_allowed_ones() {
    let e = transition(
        ArticleState::Draft,
        ArticleAction::Publish,
        StaffId(1),
        None,
    );
    assert_eq!(
        e,
        Err(KnowledgeError::IllegalTransition {
            state: ArticleState::Draft,
            action: ArticleAction::Publish,
            allowed: vec![ArticleAction::Submit],
        })
    );
    let msg = e.expect_err("refused").to_string();
    assert!(msg.contains("allowed: submit"), "{msg}");
}

#[test]
fn article_codes_round_trip() {
    assert_eq!(article_code(123), "KB-123");
    assert_eq!(parse_article_code("KB-123"), Some(123));
    assert_eq!(parse_article_code(" 7 "), Some(7));
    assert_eq!(parse_article_code("KB-0"), None);
    assert_eq!(parse_article_code("KB-x"), None);
}

proptest! {
    #[test]
    fn a_step_succeeds_exactly_when_the_state_allows_it(
        s in prop::sample::select(ArticleState::ALL.to_vec()),
        a in prop::sample::select(ArticleAction::ALL.to_vec()),
    ) {
        let r = transition(s, a, StaffId(2), Some(StaffId(1)));
        prop_assert_eq!(r.is_ok(), allowed_actions(s).contains(&a));
    }

    #[test]
    fn any_sequence_of_steps_leaves_a_reachable_state(
        steps in prop::collection::vec(prop::sample::select(ArticleAction::ALL.to_vec()), 0..20),
    ) {
        let mut s = ArticleState::Draft;
        for a in steps {
            if let Ok(next) = transition(s, a, StaffId(2), Some(StaffId(1))) {
                prop_assert!(allowed_actions(s).contains(&a));
                s = next;
            }
        }
        prop_assert!(!allowed_actions(s).is_empty(), "no state is a dead end");
    }
}
