//! The customer self-service portal over HTTP: the one-time code, the appeal taken through the
//! agents' intake as the portal's account, following by number + phone, the rating stored on
//! the order, the CSRF cookie and the per-address limit.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use kefu_server::ServerConfig;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::both_stores;
use crate::helpers::{Backend, TestApp};
use crate::workorders::{ORDERS, auth, ok, reply_fields};

const PHONE: &str = "13912345678";

/// A browser of the portal: its CSRF cookie and, optionally, its address.
struct Browser {
    csrf: String,
    ip: Option<SocketAddr>,
}

struct Page {
    status: StatusCode,
    location: String,
    text: String,
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn send(t: &TestApp, b: Option<&Browser>, uri: &str, body: Option<String>) -> Page {
    let mut req = Request::builder().uri(uri);
    if let Some(b) = b {
        req = req.header(header::COOKIE, format!("kefu_self_csrf={}", b.csrf));
    }
    let mut req = match body {
        Some(body) => req
            .method("POST")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body)),
        None => req.method("GET").body(Body::empty()),
    }
    .unwrap();
    if let Some(ip) = b.and_then(|b| b.ip) {
        req.extensions_mut().insert(ConnectInfo(ip));
    }
    let resp = t.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        location,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Opens the portal: the CSRF cookie it sets.
async fn open(t: &TestApp) -> Browser {
    let req = Request::builder().uri("/self").body(Body::empty()).unwrap();
    let resp = t.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("kefu_self_csrf="))
        .expect("the portal sets its CSRF cookie")
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let csrf = cookie
        .trim_start_matches("kefu_self_csrf=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    Browser { csrf, ip: None }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).map(|i| i + start.len()).unwrap_or(0);
    let rest = &text[from..];
    &rest[..rest.find(end).unwrap_or(0)]
}

async fn demo_app(b: Backend) -> TestApp {
    TestApp::with_config(
        b,
        ServerConfig {
            demo: true,
            ..ServerConfig::default()
        },
    )
    .await
}

/// Asks for a code for `phone`; returns the code shown in demo mode.
async fn code_for(t: &TestApp, b: &Browser, phone: &str) -> String {
    let p = send(
        t,
        Some(b),
        "/self/code",
        Some(form(&[("csrf", &b.csrf), ("phone", phone)])),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    between(&p.text, "data-testid=\"demo-code-value\">", "<").to_owned()
}

fn appeal(t: &TestApp, b: &Browser, code: &str, key: &str) -> String {
    form(&[
        ("csrf", &b.csrf),
        ("key", key),
        ("phone", PHONE),
        ("code", code),
        ("name", "王小明"),
        ("area", &t.units.county_a.0.to_string()),
        ("address", "西湖区文三路 1 号"),
        ("sub_category", "complaint.outage"),
        ("content", "小区昨晚起停电，至今未恢复"),
    ])
}

async fn order(t: &TestApp, number: &str) -> Value {
    let r = t
        .get(&format!("{ORDERS}/{number}"), &auth(t, "dispatcher_x"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn a_customer_submits_follows_and_rates_through_the_portal(b: Backend) {
    let t = demo_app(b).await;
    let br = open(&t).await;
    let code = code_for(&t, &br, PHONE).await;
    assert_eq!(code.len(), 6, "demo mode shows the code");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let p = send(
        &t,
        Some(&br),
        "/self/appeal",
        Some(appeal(&t, &br, wrong, "self-k1")),
    )
    .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.text.contains("验证码不正确"), "{}", p.text);
    assert!(p.text.contains("小区昨晚起停电"), "what was typed is kept");
    let none = t.get(ORDERS, &auth(&t, "dispatcher_x")).await;
    assert_eq!(none.body["items"], json!([]), "a wrong code takes nothing");

    let p = send(
        &t,
        Some(&br),
        "/self/appeal",
        Some(appeal(&t, &br, &code, "self-k1")),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.text);
    let number = p.location.trim_start_matches("/self?submitted=").to_owned();
    assert!(number.starts_with("GD"), "{}", p.location);
    let page = send(&t, Some(&br), &p.location, None).await;
    assert!(page.text.contains(&number));

    let o = order(&t, &number).await;
    let o = &o["order"];
    assert_eq!(o["channel"], "web");
    assert_eq!(o["caller"]["name"], "王小明");
    assert_eq!(o["state"], "pending_dispatch");
    let portal = t
        .store
        .get_staff(kefu_domain::ids::StaffId(o["owner_id"].as_i64().unwrap()));
    let portal = portal.await.unwrap().unwrap();
    assert_eq!(portal.username.as_str(), "self-service");

    // The same code cannot take a second appeal.
    let again = send(
        &t,
        Some(&br),
        "/self/appeal",
        Some(appeal(&t, &br, &code, "self-k2")),
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    let track =
        |phone: &'static str| form(&[("csrf", &br.csrf), ("number", &number), ("phone", phone)]);
    let p = send(&t, Some(&br), "/self/track", Some(track("13700000000"))).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(!p.text.contains("王小明"), "a wrong phone shows nothing");
    let p = send(&t, Some(&br), "/self/track", Some(track(PHONE))).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(p.text.contains("正在安排处理") && p.text.contains("诉求已受理"));
    assert!(p.text.contains("data-testid=\"rate-later\""));

    let o = order(&t, &number).await["order"].clone();
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    let o = ok(&t, "handler_a", &o, "accept", json!({})).await;
    let o = ok(&t, "handler_a", &o, "reply", reply_fields()).await;
    let p = send(&t, Some(&br), "/self/track", Some(track(PHONE))).await;
    assert!(
        !p.text.contains("已恢复供电"),
        "an unreviewed reply is not shown"
    );
    ok(
        &t,
        "dispatcher_x",
        &o,
        "review",
        json!({"decision": "approve"}),
    )
    .await;
    let p = send(&t, Some(&br), "/self/track", Some(track(PHONE))).await;
    assert!(
        p.text.contains("已恢复供电") && p.text.contains("已答复"),
        "{}",
        p.text
    );
    assert!(!p.text.contains("张伟"), "the handler's name is not shown");
    assert!(p.text.contains("data-testid=\"form-rate\""));

    let rate = form(&[
        ("csrf", &br.csrf),
        ("number", &number),
        ("phone", PHONE),
        ("satisfaction", "5"),
        ("comment", "很快"),
    ]);
    let p = send(&t, Some(&br), "/self/rate", Some(rate.clone())).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(p.text.contains("感谢您的评价") && p.text.contains("很满意"));
    let again = send(&t, Some(&br), "/self/rate", Some(rate)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "rated once");

    let detail = order(&t, &number).await;
    assert_eq!(detail["order"]["customer_rating"]["satisfaction"], 5);
    assert_eq!(detail["order"]["customer_rating"]["comment"], "很快");
    let last = detail["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "customer_rated");
    assert_eq!(last["action"], "customer_rate");
}

async fn portal_forms_need_the_csrf_cookie_and_a_valid_phone(b: Backend) {
    let t = demo_app(b).await;
    let p = send(
        &t,
        None,
        "/self/code",
        Some(form(&[("csrf", "forged"), ("phone", PHONE)])),
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let br = open(&t).await;
    let p = send(
        &t,
        Some(&br),
        "/self/code",
        Some(form(&[("csrf", "other"), ("phone", PHONE)])),
    )
    .await;
    assert_eq!(
        p.status,
        StatusCode::FORBIDDEN,
        "the field must echo the cookie"
    );
    let p = send(
        &t,
        Some(&br),
        "/self/code",
        Some(form(&[("csrf", &br.csrf), ("phone", "12ab")])),
    )
    .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.text.contains("11 位手机号码"));
}

async fn one_address_gets_a_limited_number_of_portal_requests(b: Backend) {
    let t = demo_app(b).await;
    let mut br = open(&t).await;
    br.ip = Some(SocketAddr::from(([203, 0, 113, 7], 50000)));
    let limit = kefu_server::selfservice::WRITES_PER_WINDOW;
    for i in 0..limit {
        let phone = format!("139000000{i:02}");
        let p = send(
            &t,
            Some(&br),
            "/self/code",
            Some(form(&[("csrf", &br.csrf), ("phone", &phone)])),
        )
        .await;
        assert_eq!(p.status, StatusCode::OK, "request {i}: {}", p.text);
    }
    let p = send(
        &t,
        Some(&br),
        "/self/code",
        Some(form(&[("csrf", &br.csrf), ("phone", PHONE)])),
    )
    .await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(p.text.contains("操作过于频繁"));
}

async fn without_a_gateway_no_code_is_sent(b: Backend) {
    let t = TestApp::new(b).await;
    let br = open(&t).await;
    let p = send(
        &t,
        Some(&br),
        "/self/code",
        Some(form(&[("csrf", &br.csrf), ("phone", PHONE)])),
    )
    .await;
    assert_eq!(p.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(p.text.contains("95598") && !p.text.contains("demo-code-value"));
}

async fn nobody_is_given_the_portal_role(b: Backend) {
    let t = TestApp::new(b).await;
    let r = t
        .post(
            "/api/v1/staff",
            &auth(&t, "admin_p"),
            json!({
                "username": "fake.portal",
                "display_name": "x",
                "org_unit_id": t.units.province.0,
                "roles": ["self_service"],
                "password": "Kefu-2026-portal",
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.fields(), vec!["roles".to_owned()]);
}

both_stores!(
    a_customer_submits_follows_and_rates_through_the_portal,
    portal_forms_need_the_csrf_cookie_and_a_valid_phone,
    one_address_gets_a_limited_number_of_portal_requests,
    without_a_gateway_no_code_is_sent,
    nobody_is_given_the_portal_role,
    the_portal_account_has_no_login_and_no_token,
);

async fn the_portal_account_has_no_login_and_no_token(b: Backend) {
    let t = demo_app(b).await;
    let portal = kefu_server::selfservice::caller(&t.state).await.unwrap();
    let sys = kefu_store::Actor::System("test");
    let hash = kefu_server::password::hash_password(crate::helpers::PASSWORD).unwrap();
    t.store
        .set_password(portal.staff.id, &hash, &sys)
        .await
        .unwrap();
    let (r, session) = t.login("self-service", crate::helpers::PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(session.is_none());
    let (token, token_hash) = kefu_server::token::new_api_token();
    t.store
        .create_api_token(portal.staff.id, "stolen", &token_hash, &sys)
        .await
        .unwrap();
    let r = t.get(ORDERS, &crate::helpers::Auth::Bearer(token)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}
