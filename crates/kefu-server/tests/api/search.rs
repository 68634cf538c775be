//! Full-text search through the API: words in the caller's scope only, with snippets and the
//! list's filters; the user dictionary for administrators.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::both_stores;
use crate::helpers::{Backend, customer_body};
use crate::workorders::{auth, complaint, number, setup, take};

const SEARCH: &str = "/api/v1/search/orders";
const DICTIONARY: &str = "/api/v1/search/dictionary";

/// `s` percent-encoded for a query string (URIs are ASCII).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["order"]["number"].as_str().unwrap().to_owned())
        .collect()
}

async fn search_is_scoped_ranked_and_highlighted(b: Backend) {
    let (t, a) = setup(b).await;
    let cb = t
        .create_customer("agent_b", customer_body(2, t.units.county_b))
        .await;
    let b_customer = cb["id"].as_i64().unwrap();
    let a1 = take(
        &t,
        "agent_a",
        complaint(a, "这个月电费比上月高了三倍，要求核查电费"),
    )
    .await;
    let a2 = take(&t, "agent_a", complaint(a, "小区停电两天无人处理")).await;
    let b1 = take(&t, "agent_b", complaint(b_customer, "电费账单地址写错了")).await;

    let r = t
        .get(&format!("{SEARCH}?q={}", enc("电费")), &auth(&t, "agent_a"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        numbers(&r.body),
        vec![number(&a1)],
        "county A sees only its own"
    );
    assert_eq!(r.body["terms"], json!(["电费"]));
    let pieces = r.body["items"][0]["snippet"]["pieces"].as_array().unwrap();
    assert!(
        pieces
            .iter()
            .any(|p| p["hit"] == json!(true) && p["text"] == "电费"),
        "{pieces:?}"
    );
    let r = t
        .get(&format!("{SEARCH}?q={}", enc("电费")), &auth(&t, "agent_b"))
        .await;
    assert_eq!(numbers(&r.body), vec![number(&b1)]);
    let r = t
        .get(
            &format!("{SEARCH}?q={}", enc("电费")),
            &auth(&t, "supervisor_x"),
        )
        .await;
    let mut both = numbers(&r.body);
    both.sort();
    let mut expected = vec![number(&a1), number(&b1)];
    expected.sort();
    assert_eq!(both, expected, "the city sees both counties");

    // Filters combine with the words; a unit outside the scope is refused like an unknown one.
    let uri = format!(
        "{SEARCH}?q={}&host_unit_id={}",
        enc("电费"),
        t.units.county_a
    );
    let r = t.get(&uri, &auth(&t, "supervisor_x")).await;
    assert_eq!(numbers(&r.body), vec![number(&a1)]);
    let uri = format!(
        "{SEARCH}?q={}&host_unit_id={}",
        enc("电费"),
        t.units.county_b
    );
    let r = t.get(&uri, &auth(&t, "agent_a")).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["host_unit_id"]);
    // An order found by its number shows the number marked.
    let r = t
        .get(&format!("{SEARCH}?q={}", number(&a2)), &auth(&t, "agent_a"))
        .await;
    assert_eq!(numbers(&r.body), vec![number(&a2)]);
    assert_eq!(
        r.body["items"][0]["snippet"]["pieces"][0]["hit"],
        json!(true),
        "{}",
        r.text
    );
    // The caller's phone (13800130001): whole, its start, its last four digits; in scope.
    let mut own = vec![number(&a1), number(&a2)];
    own.sort();
    for q in ["13800130001", "1380013", "0001"] {
        let r = t
            .get(&format!("{SEARCH}?q={q}"), &auth(&t, "agent_a"))
            .await;
        let mut found = numbers(&r.body);
        found.sort();
        assert_eq!(found, own, "{q}: {}", r.text);
        assert_eq!(r.body["bound"], Value::Null);
        assert_eq!(r.body["index_outdated"], json!(false));
    }
    // Found by the phone, shown masked to a role without personal data; the snippet is the
    // text, never the number.
    let r = t
        .get(&format!("{SEARCH}?q=0001"), &auth(&t, "dispatcher_x"))
        .await;
    let items = r.body["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{}", r.text);
    for h in items {
        assert_eq!(h["order"]["caller"]["phone"], "138****0001", "{}", r.text);
        assert!(
            !h["snippet"].to_string().contains("13800130001"),
            "{}",
            r.text
        );
    }
}

async fn bad_searches_name_the_field(b: Backend) {
    let (t, _) = setup(b).await;
    let who = auth(&t, "agent_a");
    for (uri, field) in [
        (format!("{SEARCH}?q={}", enc("，。")), "q"),
        (SEARCH.to_owned(), "q"),
        (format!("{SEARCH}?q={}", enc(&"电".repeat(201))), "q"),
        (format!("{SEARCH}?q={}&limit=0", enc("电费")), "limit"),
        (format!("{SEARCH}?q={}&offset=5000", enc("电费")), "offset"),
        (format!("{SEARCH}?q={}&state=nope", enc("电费")), "state"),
    ] {
        let r = t.get(&uri, &who).await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.fields(), vec![field], "{uri}: {}", r.text);
    }
    let r = t.get(SEARCH, &crate::helpers::Auth::None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn administrators_extend_the_dictionary(b: Backend) {
    let (t, a) = setup(b).await;
    let admin = auth(&t, "admin_p");
    let r = t.get(DICTIONARY, &auth(&t, "agent_a")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 0);
    assert!(
        r.body["built_in"]
            .as_array()
            .unwrap()
            .contains(&json!("户号"))
    );
    let body = json!({"version": 0, "words": ["峰谷电价"]});
    let r = t.put(DICTIONARY, &auth(&t, "agent_a"), body.clone()).await;
    r.assert_problem(403, "forbidden");
    let r = t
        .put(
            DICTIONARY,
            &admin,
            json!({"version": 0, "words": ["好词", "峰谷 电价"]}),
        )
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["words[1]"]);
    let r = t.put(DICTIONARY, &admin, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 1);
    let r = t.put(DICTIONARY, &admin, body).await;
    r.assert_problem(409, "version_conflict");
    // New orders are cut with the word at once.
    let o = take(&t, "agent_a", complaint(a, "峰谷电价执行时段有疑问")).await;
    take(&t, "agent_a", complaint(a, "峰谷时段的电价太贵")).await;
    let r = t
        .get(
            &format!("{SEARCH}?q={}", enc("峰谷电价")),
            &auth(&t, "agent_a"),
        )
        .await;
    assert_eq!(r.body["terms"], json!(["峰谷电价"]));
    assert_eq!(numbers(&r.body), vec![number(&o)]);
}

async fn the_search_page_marks_the_words_found(b: Backend) {
    let (t, a) = setup(b).await;
    let o = take(&t, "agent_a", complaint(a, "电费<b>太高</b>了")).await;
    let r = t
        .get(
            &format!("/ui/search?q={}", enc("电费")),
            &auth(&t, "agent_a"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("<mark>电费</mark>"), "{}", r.text);
    assert!(r.text.contains(&number(&o)), "{}", r.text);
    assert!(
        !r.text.contains("<b>太高"),
        "order text is escaped: {}",
        r.text
    );
    let r = t.get("/ui/workbench", &auth(&t, "agent_a")).await;
    assert!(
        r.text.contains("data-testid=\"workbench-fulltext\""),
        "{}",
        r.text
    );
}

both_stores!(
    the_search_page_marks_the_words_found,
    search_is_scoped_ranked_and_highlighted,
    bad_searches_name_the_field,
    administrators_extend_the_dictionary,
);
