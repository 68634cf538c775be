//! A page asked for without a live session sends the person to sign in and back: the page
//! itself for a GET, the page the form was on for a POST (the lifetime is configurable).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kefu_server::ServerConfig;
use tower::ServiceExt;

use crate::both_stores;
use crate::helpers::{Backend, PASSWORD, TestApp};

async fn location(
    t: &TestApp,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    referer: Option<&str>,
) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("kefu_session={c}"));
    }
    if let Some(r) = referer {
        req = req.header(header::REFERER, r);
    }
    let body = if method == "POST" {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        Body::from("csrf=x&version=1")
    } else {
        Body::empty()
    };
    let resp = t
        .app
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let loc = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (resp.status(), loc)
}

async fn an_ended_session_returns_to_sign_in_and_then_to_the_page(b: Backend) {
    let t = TestApp::with_config(
        b,
        ServerConfig {
            session_ttl: Duration::from_secs(1),
            ..ServerConfig::default()
        },
    )
    .await;
    let (_, session) = t.login("agent.a", PASSWORD).await;
    let (cookie, _) = session.expect("signed in");
    let page = "/ui/orders?state=pending_dispatch";
    let (status, _) = location(&t, "GET", page, Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, loc) = location(&t, "GET", page, Some(&cookie), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        loc,
        "/ui/login?next=%2Fui%2Forders%3Fstate%3Dpending_dispatch"
    );
}

async fn a_form_posted_without_a_session_returns_to_its_page(b: Backend) {
    let t = TestApp::new(b).await;
    let (_, loc) = location(
        &t,
        "POST",
        "/ui/orders/GD20261122000001/accept",
        None,
        Some("http://127.0.0.1:8080/ui/orders/GD20261122000001"),
    )
    .await;
    assert_eq!(loc, "/ui/login?next=%2Fui%2Forders%2FGD20261122000001");
    let (_, loc) = location(
        &t,
        "POST",
        "/ui/orders/GD20261122000001/accept",
        None,
        Some("https://elsewhere.example/phish"),
    )
    .await;
    assert_eq!(
        loc, "/ui/login?next=%2Fui%2Fworkbench",
        "only our own pages"
    );
}

both_stores!(
    an_ended_session_returns_to_sign_in_and_then_to_the_page,
    a_form_posted_without_a_session_returns_to_its_page,
);
