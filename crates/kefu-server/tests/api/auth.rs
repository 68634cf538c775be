//! Sign-in, sessions, CSRF, API tokens, the login rate limit and password change.

use axum::http::{StatusCode, header};
use kefu_store::PageRequest;
use serde_json::json;

use crate::both_stores;
use crate::helpers::{Auth, Backend, PASSWORD, TestApp};

async fn login_sets_a_safe_cookie_and_me_answers(b: Backend) {
    let t = TestApp::new(b).await;
    let (r, session) = t.login("agent.a", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/"));
    assert!(
        !cookie.contains("Secure"),
        "secure_cookies is off by default"
    );
    assert_eq!(r.body["staff"]["username"], "agent.a");
    let (cookie, _csrf) = session.unwrap();
    let me = t.get("/api/v1/auth/me", &Auth::Cookie(cookie, None)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["staff"]["roles"], json!(["agent"]));
    assert_eq!(me.body["auth_method"], "session");
    assert!(
        me.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("personal_data"))
    );
    let entries = t
        .store
        .list_audit(
            Some(&format!("staff:{}", t.person("agent_a").id)),
            PageRequest::first(),
        )
        .await
        .unwrap();
    assert!(entries.items.iter().any(|e| e.action == "auth.login"));
}

async fn secure_cookies_are_marked_secure(b: Backend) {
    let config = kefu_server::ServerConfig {
        secure_cookies: true,
        ..Default::default()
    };
    let t = TestApp::with_config(b, config).await;
    let (r, _) = t.login("agent.a", PASSWORD).await;
    assert!(
        r.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}

async fn wrong_password_and_unknown_user_get_the_same_401(b: Backend) {
    let t = TestApp::new(b).await;
    let (wrong, s1) = t.login("agent.a", "not-the-password-1").await;
    let (unknown, s2) = t.login("nobody.here", PASSWORD).await;
    let (garbage, _) = t.login("!!", PASSWORD).await;
    wrong.assert_problem(401, "unauthenticated");
    assert!(s1.is_none() && s2.is_none());
    assert_eq!(wrong.text, unknown.text);
    assert_eq!(wrong.text, garbage.text);
    let failed = t
        .store
        .list_audit(Some("username:agent.a"), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(failed.items.len(), 1);
    assert_eq!(failed.items[0].action, "auth.login_failed");
}

async fn sixth_failure_is_rate_limited(b: Backend) {
    let t = TestApp::new(b).await;
    for i in 0..5 {
        let (r, _) = t.login("agent.a", "wrong-password-1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (r, _) = t.login("agent.a", PASSWORD).await;
    r.assert_problem(429, "rate_limited");
    let retry: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    // Another login name is not affected (no client IP under oneshot).
    let (other, _) = t.login("agent.b", PASSWORD).await;
    assert_eq!(other.status, StatusCode::OK);
}

async fn requests_without_credentials_are_401(b: Backend) {
    let t = TestApp::new(b).await;
    let r = t.get("/api/v1/customers", &Auth::None).await;
    r.assert_problem(401, "unauthenticated");
    assert!(r.headers.contains_key(header::WWW_AUTHENTICATE));
    t.get("/api/v1/customers", &Auth::Bearer("kefu_forged".into()))
        .await
        .assert_problem(401, "unauthenticated");
    t.get("/api/v1/customers", &Auth::Cookie("forged".into(), None))
        .await
        .assert_problem(401, "unauthenticated");
}

async fn cookie_writes_need_the_csrf_token(b: Backend) {
    let t = TestApp::new(b).await;
    let (_, session) = t.login("agent.a", PASSWORD).await;
    let (cookie, csrf) = session.unwrap();
    let body = crate::helpers::customer_body(1, t.units.county_a);
    let r = t
        .post(
            "/api/v1/customers",
            &Auth::Cookie(cookie.clone(), None),
            body.clone(),
        )
        .await;
    r.assert_problem(403, "csrf");
    let r = t
        .post(
            "/api/v1/customers",
            &Auth::Cookie(cookie.clone(), Some("wrong".into())),
            body.clone(),
        )
        .await;
    r.assert_problem(403, "csrf");
    assert_eq!(t.customer_count().await, 0);
    let r = t
        .post("/api/v1/customers", &Auth::Cookie(cookie, Some(csrf)), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

async fn bearer_tokens_work_until_revoked(b: Backend) {
    let t = TestApp::new(b).await;
    let (secret, hash) = kefu_server::token::new_api_token();
    let sys = kefu_store::Actor::System("test");
    let token = t
        .store
        .create_api_token(t.person("agent_a").id, "cti", &hash, &sys)
        .await
        .unwrap();
    let auth = Auth::Bearer(secret);
    let me = t.get("/api/v1/auth/me", &auth).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["auth_method"], "api_token");
    // Bearer writes need no CSRF header.
    let r = t
        .post(
            "/api/v1/customers",
            &auth,
            crate::helpers::customer_body(2, t.units.county_a),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    t.store.revoke_api_token(token.id, &sys).await.unwrap();
    t.get("/api/v1/auth/me", &auth)
        .await
        .assert_problem(401, "unauthenticated");
}

async fn logout_ends_the_session(b: Backend) {
    let t = TestApp::new(b).await;
    let (_, session) = t.login("agent.a", PASSWORD).await;
    let (cookie, csrf) = session.unwrap();
    let auth = Auth::Cookie(cookie, Some(csrf));
    let r = t.post("/api/v1/auth/logout", &auth, json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(
        r.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    t.get("/api/v1/auth/me", &auth)
        .await
        .assert_problem(401, "unauthenticated");
}

async fn password_change_ends_other_sessions(b: Backend) {
    let t = TestApp::new(b).await;
    let (_, s1) = t.login("agent.a", PASSWORD).await;
    let (_, s2) = t.login("agent.a", PASSWORD).await;
    let (c1, csrf1) = s1.unwrap();
    let (c2, _) = s2.unwrap();
    let auth1 = Auth::Cookie(c1, Some(csrf1));
    let weak = t
        .post(
            "/api/v1/auth/password",
            &auth1,
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    weak.assert_problem(400, "validation_failed");
    assert_eq!(weak.fields(), vec!["new_password"]);
    let wrong = t
        .post(
            "/api/v1/auth/password",
            &auth1,
            json!({"current_password": "nope-nope-1", "new_password": "New-Secret-2026"}),
        )
        .await;
    assert_eq!(wrong.fields(), vec!["current_password"]);
    let r = t
        .post(
            "/api/v1/auth/password",
            &auth1,
            json!({"current_password": PASSWORD, "new_password": "New-Secret-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let fresh = r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .strip_prefix("kefu_session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    t.get("/api/v1/auth/me", &auth1)
        .await
        .assert_problem(401, "unauthenticated");
    t.get("/api/v1/auth/me", &Auth::Cookie(c2, None))
        .await
        .assert_problem(401, "unauthenticated");
    let me = t.get("/api/v1/auth/me", &Auth::Cookie(fresh, None)).await;
    assert_eq!(me.status, StatusCode::OK);
    let (old, _) = t.login("agent.a", PASSWORD).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let (new, _) = t.login("agent.a", "New-Secret-2026").await;
    assert_eq!(new.status, StatusCode::OK);
}

both_stores!(
    login_sets_a_safe_cookie_and_me_answers,
    secure_cookies_are_marked_secure,
    wrong_password_and_unknown_user_get_the_same_401,
    sixth_failure_is_rate_limited,
    requests_without_credentials_are_401,
    cookie_writes_need_the_csrf_token,
    bearer_tokens_work_until_revoked,
    logout_ends_the_session,
    password_change_ends_other_sessions,
);
