//! The org tree: scoped listing with departments inline, and creation by administrators.

use axum::http::StatusCode;
use serde_json::json;

use crate::both_stores;
use crate::helpers::{Backend, TestApp};

async fn units_are_listed_within_scope(b: Backend) {
    let t = TestApp::new(b).await;
    let r = t
        .get("/api/v1/orgs", &t.person("supervisor_x").bearer())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ids: Vec<i64> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![t.units.city_x.0, t.units.county_a.0, t.units.county_b.0]
    );
    assert_eq!(r.body[1]["parent_id"].as_i64(), Some(t.units.city_x.0));
    assert_eq!(r.body[1]["level"], "county");
    assert!(
        r.body[1]["path"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{}/", t.units.county_a))
    );
    let r = t.get("/api/v1/orgs", &t.person("agent_a").bearer()).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
}

async fn admins_create_units_and_departments_others_get_403(b: Backend) {
    let t = TestApp::new(b).await;
    let admin = t.person("admin_p").bearer();
    let body = json!({"parent_id": t.units.city_x.0, "code": "330110", "name": "余杭供电", "level": "county"});
    t.post(
        "/api/v1/orgs",
        &t.person("supervisor_x").bearer(),
        body.clone(),
    )
    .await
    .assert_problem(403, "forbidden");
    let r = t.post("/api/v1/orgs", &admin, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let r = t.post("/api/v1/orgs", &admin, body).await;
    r.assert_problem(409, "duplicate");
    assert_eq!(r.fields(), vec!["code"]);
    let r = t
        .post(
            "/api/v1/orgs",
            &admin,
            json!({"parent_id": t.units.city_x.0, "code": "x1", "name": "站", "level": "station"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["level"]);
    let r = t
        .post(
            "/api/v1/orgs",
            &admin,
            json!({"parent_id": t.units.hq.0, "code": "11", "name": "北京", "level": "province"}),
        )
        .await;
    assert_eq!(
        r.fields(),
        vec!["parent_id"],
        "HQ is above the province admin"
    );
    let r = t
        .post(
            &format!("/api/v1/orgs/{id}/departments"),
            &admin,
            json!({"kind": "voice_service", "name": "声讯服务部"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let list = t.get("/api/v1/orgs", &admin).await;
    let unit = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(unit["departments"][0]["kind"], "voice_service");
}

both_stores!(
    units_are_listed_within_scope,
    admins_create_units_and_departments_others_get_403,
);
