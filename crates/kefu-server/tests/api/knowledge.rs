//! The knowledge base through the API: who writes, reviews and reads; search for agents;
//! citing an article from an order in scope; the most-cited list.

use axum::http::StatusCode;
use serde_json::json;

use crate::both_stores;
use crate::helpers::Backend;
use crate::workorders::{auth, complaint, number, setup, take};

const KB: &str = "/api/v1/knowledge";

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

async fn articles_are_reviewed_before_agents_see_and_cite_them(b: Backend) {
    let (t, customer) = setup(b).await;
    let article = json!({
        "title": "峰谷电价执行时段",
        "body": "**峰时** 8:00-22:00 <script>alert(1)</script>",
        "category": "tariff",
        "tags": ["电价"],
        "effective_from": "2020-01-01",
    });
    let r = t.post(KB, &auth(&t, "agent_a"), article.clone()).await;
    r.assert_problem(403, "forbidden");
    let r = t
        .post(
            KB,
            &auth(&t, "analyst_x"),
            json!({"title": "", "body": "x", "category": "nope"}),
        )
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["title", "category"]);
    let r = t.post(KB, &auth(&t, "analyst_x"), article).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["code"], format!("KB-{id}"));
    let html = r.body["body_html"].as_str().unwrap();
    assert!(
        html.contains("<strong>峰时</strong>") && !html.contains("<script"),
        "{html}"
    );
    let one = format!("{KB}/{id}");
    let r = t.get(&one, &auth(&t, "agent_a")).await;
    r.assert_problem(404, "not_found");

    let flow = format!("{KB}/{id}/workflow");
    let r = t
        .post(
            &flow,
            &auth(&t, "analyst_x"),
            json!({"action": "submit", "version": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = t
        .post(
            &flow,
            &auth(&t, "analyst_x"),
            json!({"action": "publish", "version": 2}),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let r = t
        .post(
            &flow,
            &auth(&t, "supervisor_x"),
            json!({"action": "publish", "version": 1}),
        )
        .await;
    r.assert_problem(409, "version_conflict");
    let r = t
        .post(
            &flow,
            &auth(&t, "supervisor_x"),
            json!({"action": "publish", "version": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["state"], "published");
    let r = t
        .post(
            &flow,
            &auth(&t, "supervisor_x"),
            json!({"action": "submit", "version": 3}),
        )
        .await;
    r.assert_problem(409, "invalid_state");

    let r = t
        .get(&format!("{KB}?q={}", enc("峰谷电价")), &auth(&t, "agent_a"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let found: Vec<i64> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["article"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(found, vec![id]);

    let order = take(&t, "agent_a", complaint(customer, "峰谷电价怎么算")).await;
    let link = format!("/api/v1/work-orders/{}/knowledge", number(&order));
    let r = t
        .post(
            &link,
            &auth(&t, "agent_b"),
            json!({"article": format!("KB-{id}")}),
        )
        .await;
    r.assert_problem(404, "not_found");
    let r = t
        .post(
            &link,
            &auth(&t, "agent_a"),
            json!({"article": format!("KB-{id}")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["added"].clone(), r.body["article"]["links"].clone()),
        (json!(true), json!(1))
    );
    let r = t
        .post(
            &link,
            &auth(&t, "agent_a"),
            json!({"article": format!("KB-{id}")}),
        )
        .await;
    assert_eq!(r.body["added"], json!(false));
    let r = t
        .get(&format!("{KB}/most-linked"), &auth(&t, "agent_a"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body[0]["id"], json!(id));

    let page = t
        .get(&format!("/ui/knowledge/KB-{id}"), &auth(&t, "agent_a"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("<strong>峰时</strong>"), "{}", page.text);
    assert!(!page.text.contains("<script>alert"), "{}", page.text);
    let list = t
        .get(
            &format!("/ui/knowledge?q={}", enc("峰谷电价")),
            &auth(&t, "agent_a"),
        )
        .await;
    assert!(list.text.contains(&format!("KB-{id}")), "{}", list.text);

    let history = format!("{KB}/{id}/history");
    t.get(&history, &auth(&t, "agent_a"))
        .await
        .assert_problem(403, "forbidden");
    let r = t.get(&history, &auth(&t, "supervisor_x")).await;
    let changes: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["publish", "submit", "create"]);
}

async fn editors_write_and_submit_articles_in_the_browser(b: Backend) {
    use axum::http::Method;
    let (t, _) = setup(b).await;
    let (_, session) = t.login("analyst.x", crate::helpers::PASSWORD).await;
    let (cookie, csrf) = session.unwrap();
    let who = crate::helpers::Auth::Cookie(cookie, None);
    let r = t.get("/ui/knowledge/new", &who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let form = |fields: &[(&str, &str)]| -> String {
        fields
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let ct = "application/x-www-form-urlencoded";
    // A refusal shows the form again with what was typed.
    let bad = form(&[
        ("csrf", &csrf),
        ("title", ""),
        ("body", "正文草稿"),
        ("category", "tariff"),
    ]);
    let r = t
        .send_raw(Method::POST, "/ui/knowledge/save", &who, Some(&bad), ct)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("正文草稿"), "{}", r.text);
    let good = form(&[
        ("csrf", &csrf),
        ("title", "分时电价"),
        ("body", "谷时 22:00 起"),
        ("category", "tariff"),
        ("tags", "电价，分时"),
    ]);
    let r = t
        .send_raw(Method::POST, "/ui/knowledge/save", &who, Some(&good), ct)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let at = r.headers["location"].to_str().unwrap().to_owned();
    let id: i64 = at.rsplit('/').next().unwrap().parse().unwrap();
    let page = t.get(&at, &who).await;
    assert!(
        page.text.contains("data-testid=\"article-submit\""),
        "{}",
        page.text
    );
    let forged = form(&[("csrf", "nope"), ("action", "submit"), ("version", "1")]);
    let flow = format!("/ui/knowledge/{id}/workflow");
    let r = t
        .send_raw(Method::POST, &flow, &who, Some(&forged), ct)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let submit = form(&[("csrf", &csrf), ("action", "submit"), ("version", "1")]);
    let r = t
        .send_raw(Method::POST, &flow, &who, Some(&submit), ct)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = t.get(&format!("{KB}/{id}"), &auth(&t, "analyst_x")).await;
    assert_eq!(r.body["state"], "in_review");
    assert_eq!(r.body["tags"], json!(["电价", "分时"]));
}

both_stores!(
    articles_are_reviewed_before_agents_see_and_cite_them,
    editors_write_and_submit_articles_in_the_browser,
);
