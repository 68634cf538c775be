//! `/healthz`, `/metrics`, the fallback and the problem format of transport errors.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kefu_server::{AppState, ServerConfig, app};
use kefu_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

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

async fn healthz_is_503_problem_when_the_store_is_down(b: Backend) {
    let store: Arc<dyn Store> = match b {
        Backend::Sqlite => {
            let s = kefu_store_sqlite::testing::fresh_store().await;
            s.pool().close().await;
            Arc::new(s)
        }
        Backend::Postgres => {
            let s = kefu_store_postgres::testing::fresh_store().await;
            s.pool().close().await;
            Arc::new(s)
        }
    };
    let app = app(AppState::new(store, ServerConfig::default()));
    let req = Request::get("/healthz").body(Body::empty()).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let body: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["code"], "unavailable");
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
    healthz_is_503_problem_when_the_store_is_down,
    metrics_count_requests_by_route,
    unknown_paths_and_methods_are_problems,
    oversized_bodies_are_refused_with_413,
    non_json_bodies_are_refused_with_415,
);
