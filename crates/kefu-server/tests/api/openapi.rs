//! The OpenAPI document: a snapshot (so drift shows in review), and a check that every
//! documented operation is routed and every route is documented.

use std::collections::BTreeSet;

use axum::http::Method;

use crate::both_stores;
use crate::helpers::{Auth, Backend, TestApp};

fn operations() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(kefu_server::openapi()).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn openapi_document_snapshot() {
    let doc = serde_json::to_value(kefu_server::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    insta::assert_json_snapshot!("openapi", doc);
}

/// The routes the app serves. `app()` builds its router only from the documented
/// `OpenApiRouter`, so this list and the document must agree exactly.
const ROUTES: [(&str, &str); 68] = [
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/auth/password"),
    ("GET", "/api/v1/orgs"),
    ("POST", "/api/v1/orgs"),
    ("POST", "/api/v1/orgs/{id}/departments"),
    ("GET", "/api/v1/staff"),
    ("POST", "/api/v1/staff"),
    ("GET", "/api/v1/staff/{id}"),
    ("GET", "/api/v1/customers"),
    ("POST", "/api/v1/customers"),
    ("GET", "/api/v1/customers/special-dates"),
    ("GET", "/api/v1/customers/{id}"),
    ("PUT", "/api/v1/customers/{id}"),
    ("POST", "/api/v1/customers/{id}/retire"),
    ("POST", "/api/v1/customers/{id}/reinstate"),
    ("GET", "/api/v1/customers/{id}/history"),
    ("GET", "/api/v1/work-orders"),
    ("POST", "/api/v1/work-orders"),
    ("GET", "/api/v1/work-orders/{number}"),
    ("POST", "/api/v1/work-orders/preview"),
    ("POST", "/api/v1/work-orders/{number}/dispatch"),
    ("POST", "/api/v1/work-orders/{number}/reclassify"),
    ("POST", "/api/v1/work-orders/{number}/accept"),
    ("POST", "/api/v1/work-orders/{number}/return"),
    ("POST", "/api/v1/work-orders/{number}/chase"),
    ("POST", "/api/v1/work-orders/{number}/supervise"),
    ("POST", "/api/v1/work-orders/{number}/reply"),
    ("POST", "/api/v1/work-orders/{number}/review"),
    ("POST", "/api/v1/work-orders/{number}/visit"),
    ("POST", "/api/v1/work-orders/{number}/reopen"),
    ("POST", "/api/v1/work-orders/{number}/archive"),
    ("POST", "/api/v1/work-orders/{number}/assist"),
    ("POST", "/api/v1/work-orders/{number}/flag-major"),
    ("POST", "/api/v1/work-orders/{number}/contact"),
    ("POST", "/api/v1/work-orders/{number}/arrive"),
    ("POST", "/api/v1/work-orders/{number}/suspend"),
    ("POST", "/api/v1/work-orders/{number}/resume"),
    ("GET", "/api/v1/board"),
    ("GET", "/api/v1/catalogue"),
    ("PUT", "/api/v1/catalogue"),
    ("GET", "/api/v1/catalogue/history"),
    ("GET", "/api/v1/major-rules"),
    ("PUT", "/api/v1/major-rules"),
    ("GET", "/api/v1/major-rules/history"),
    ("POST", "/api/v1/calendars/import"),
    ("GET", "/api/v1/calendars/{year}"),
    ("PUT", "/api/v1/calendars/{year}"),
    ("GET", "/api/v1/time-limits"),
    ("PUT", "/api/v1/time-limits"),
    ("GET", "/api/v1/search/orders"),
    ("GET", "/api/v1/search/dictionary"),
    ("PUT", "/api/v1/search/dictionary"),
    ("GET", "/api/v1/knowledge"),
    ("POST", "/api/v1/knowledge"),
    ("GET", "/api/v1/knowledge/most-linked"),
    ("GET", "/api/v1/knowledge/{id}"),
    ("PUT", "/api/v1/knowledge/{id}"),
    ("POST", "/api/v1/knowledge/{id}/workflow"),
    ("GET", "/api/v1/knowledge/{id}/history"),
    ("POST", "/api/v1/work-orders/{number}/knowledge"),
    ("POST", "/api/v1/imports/customers"),
    ("GET", "/api/v1/imports/{id}"),
    ("GET", "/api/v1/imports/{id}/report.csv"),
];

#[test]
fn every_route_is_documented_and_nothing_else() {
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(operations(), expected);
}

async fn every_documented_operation_is_routed(b: Backend) {
    let t = TestApp::new(b).await;
    for (method, path) in operations() {
        let uri = path
            .replace("{id}", "1")
            .replace("{number}", "GD20260101000001");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let r = t.send(method.clone(), &uri, &Auth::None, None).await;
        assert!(
            !matches!(r.code(), "no_route" | "method_not_allowed"),
            "{method} {uri} is documented but not routed: {}",
            r.text
        );
    }
    let r = t.get("/api/v1/openapi.json", &Auth::None).await;
    assert_eq!(r.body["info"]["title"], "kefu API");
}

both_stores!(every_documented_operation_is_routed);
