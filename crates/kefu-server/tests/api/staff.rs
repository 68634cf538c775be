//! Staff: scoped, paginated listing and account creation by administrators.

use axum::http::{StatusCode, header};
use serde_json::json;

use crate::both_stores;
use crate::helpers::{Backend, TestApp};

async fn staff_are_listed_within_scope_with_paging(b: Backend) {
    let t = TestApp::new(b).await;
    let r = t.get("/api/v1/staff", &t.person("agent_a").bearer()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["agent.a", "manager.a", "handler.a"]);
    let sup = t.person("supervisor_x").bearer();
    let first = t.get("/api/v1/staff?limit=4", &sup).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 4);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = t
        .get(&format!("/api/v1/staff?limit=4&cursor={cursor}"), &sup)
        .await;
    assert_eq!(
        second.body["items"].as_array().unwrap().len(),
        3,
        "{}",
        second.text
    );
    assert!(second.body["next_cursor"].is_null());
    let b_id = t.person("agent_b").id;
    t.get(
        &format!("/api/v1/staff/{b_id}"),
        &t.person("agent_a").bearer(),
    )
    .await
    .assert_problem(404, "not_found");
}

async fn admins_create_staff_who_can_sign_in(b: Backend) {
    let t = TestApp::new(b).await;
    let admin = t.person("admin_p").bearer();
    let body = json!({
        "username": "li.lei", "display_name": "李雷", "org_unit_id": t.units.county_a.0,
        "roles": ["agent"], "password": "Li-Lei-2026-x"
    });
    t.post(
        "/api/v1/staff",
        &t.person("supervisor_x").bearer(),
        body.clone(),
    )
    .await
    .assert_problem(403, "forbidden");
    let r = t.post("/api/v1/staff", &admin, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        r.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/api/v1/staff/")
    );
    assert!(!r.text.contains("Li-Lei-2026-x"));
    let r = t.post("/api/v1/staff", &admin, body).await;
    r.assert_problem(409, "duplicate");
    assert_eq!(r.fields(), vec!["username"]);
    let (login, _) = t.login("li.lei", "Li-Lei-2026-x").await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let r = t
        .post(
            "/api/v1/staff",
            &admin,
            json!({
                "username": "x", "display_name": "", "org_unit_id": t.units.hq.0,
                "roles": ["boss"], "password": "short"
            }),
        )
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(
        r.fields(),
        vec![
            "username",
            "display_name",
            "roles[0]",
            "password",
            "org_unit_id"
        ]
    );
}

both_stores!(
    staff_are_listed_within_scope_with_paging,
    admins_create_staff_who_can_sign_in,
);
