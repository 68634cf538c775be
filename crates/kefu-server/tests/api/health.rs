//! `/healthz`, `/metrics`, the fallback and the problem format of transport errors.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::both_stores;
use crate::helpers::{Auth, Backend, TestApp};

async fn healthz_names_the_store(b: Backend) {
    let t = TestApp::new(b).await;
    let r = t.get("/healthz", &Auth::None).await;
    assert_eq!(r.status, StatusCode::OK);
    let expected = match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["store"], expected);
}

async fn metrics_count_requests_by_route(b: Backend) {
    let t = TestApp::new(b).await;
    let agent = t.person("agent_a").bearer();
    t.get("/api/v1/customers/12345", &agent).await;
    let r = t.get("/metrics", &Auth::None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("kefu_http_requests_total{method=\"GET\",route=\"/api/v1/customers/{id}\",status=\"404\"} 1"),
        "{}",
        r.text
    );
    assert!(r.text.contains("kefu_http_request_duration_seconds_bucket"));
}

async fn unknown_paths_and_methods_are_problems(b: Backend) {
    let t = TestApp::new(b).await;
    t.get("/api/v1/nothing-here", &Auth::None)
        .await
        .assert_problem(404, "no_route");
    t.send(Method::DELETE, "/healthz", &Auth::None, None)
        .await
        .assert_problem(405, "method_not_allowed");
}

async fn oversized_bodies_are_refused_with_413(b: Backend) {
    let t = TestApp::new(b).await;
    let big = "x".repeat(1024 * 1024 + 10);
    let r = t
        .post(
            "/api/v1/customers",
            &t.person("agent_a").bearer(),
            json!({ "name": big }),
        )
        .await;
    r.assert_problem(413, "payload_too_large");
}

async fn non_json_bodies_are_refused_with_415(b: Backend) {
    let t = TestApp::new(b).await;
    let r = t
        .send_raw(
            Method::POST,
            "/api/v1/customers",
            &t.person("agent_a").bearer(),
            Some("account_number=1"),
            "application/x-www-form-urlencoded",
        )
        .await;
    r.assert_problem(415, "unsupported_media_type");
}

both_stores!(
    healthz_names_the_store,
    metrics_count_requests_by_route,
    unknown_paths_and_methods_are_problems,
    oversized_bodies_are_refused_with_413,
    non_json_bodies_are_refused_with_415,
);
