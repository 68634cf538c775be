//! Work orders through the API: the whole lifecycle, returns, send-backs, reopen, major and
//! repeat appeals, the status of every refusal, idempotent intake and concurrent dispatch.

use axum::http::{StatusCode, header};
use chrono::Utc;
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::ids::OrgUnitId;
use kefu_store::{Actor, NewStaff};
use serde_json::{Value, json};

use crate::both_stores;
use crate::helpers::{Auth, Backend, Person, Resp, TestApp, customer_body};

pub(crate) const ORDERS: &str = "/api/v1/work-orders";

/// Adds a staff member with `roles` in `unit` and an API token.
pub(crate) async fn add_person(t: &TestApp, name: &str, roles: &[Role], unit: OrgUnitId) -> Person {
    let sys = Actor::System("test");
    let staff = t
        .store
        .create_staff(
            NewStaff {
                username: Username::parse(name).unwrap(),
                display_name: name.to_owned(),
                org_unit_id: unit,
                department_id: None,
                roles: Roles::new(roles.to_vec()).unwrap(),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
                    .to_owned(),
            },
            &sys,
        )
        .await
        .unwrap();
    let (token, hash) = kefu_server::token::new_api_token();
    t.store
        .create_api_token(staff.id, "test", &hash, &sys)
        .await
        .unwrap();
    Person {
        id: staff.id,
        token,
    }
}

/// An app with customer 1 (phone 13800130001) in county A; returns the customer id.
pub(crate) async fn setup(b: Backend) -> (TestApp, i64) {
    let t = TestApp::new(b).await;
    let c = t
        .create_customer("agent_a", customer_body(1, t.units.county_a))
        .await;
    (t, c["id"].as_i64().unwrap())
}

pub(crate) fn complaint(customer: i64, content: &str) -> Value {
    json!({
        "channel": "phone_95598",
        "caller": {"customer_id": customer, "phone": "13800130001"},
        "appeal_type": "complaint",
        "sub_category": "complaint.outage",
        "content": content,
    })
}

pub(crate) fn auth(t: &TestApp, who: &str) -> Auth {
    t.person(who).bearer()
}

/// Takes an appeal as `who`, expecting 201; returns the order.
pub(crate) async fn take(t: &TestApp, who: &str, body: Value) -> Value {
    let r = t.post(ORDERS, &auth(t, who), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

pub(crate) fn number(o: &Value) -> String {
    o["number"].as_str().unwrap().to_owned()
}

/// Posts `action` on order `o` at its version, with `fields` added to the body.
pub(crate) async fn act(t: &TestApp, who: &Auth, o: &Value, action: &str, fields: Value) -> Resp {
    let mut body = fields;
    body["version"] = o["version"].clone();
    t.post(&format!("{ORDERS}/{}/{action}", number(o)), who, body)
        .await
}

/// Like `act`, expecting 200; returns the order after the action.
pub(crate) async fn ok(t: &TestApp, who: &str, o: &Value, action: &str, fields: Value) -> Value {
    let r = act(t, &auth(t, who), o, action, fields).await;
    assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.text);
    r.body
}

pub(crate) fn reply_fields() -> Value {
    json!({
        "handled_at": Utc::now().to_rfc3339(),
        "handler": "张伟",
        "actions_taken": "抢修班到现场更换跌落式熔断器",
        "result_and_feedback": "已恢复供电，客户表示认可",
        "fault": "not_at_fault",
    })
}

fn visit_fields(score: u8) -> Value {
    json!({"contact": "reached", "satisfaction": score, "comment": "ok"})
}

pub(crate) async fn list(t: &TestApp, who: &str, query: &str) -> Vec<String> {
    let r = t.get(&format!("{ORDERS}?{query}"), &auth(t, who)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect()
}

async fn complaint_goes_from_intake_to_archive(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "小区停电两天无人处理")).await;
    assert_eq!(o["state"], "pending_dispatch");
    assert_eq!(o["owner_id"], t.person("agent_a").id.0);
    assert!(number(&o).starts_with("GD"));
    // Agents see the caller's phone; dispatchers see it masked.
    assert_eq!(o["caller"]["phone"], "13800130001");
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    assert_eq!(o["state"], "dispatched");
    assert_eq!(o["host"]["unit_id"], t.units.county_a.0);
    assert_eq!(o["host"]["department"], "operations");
    assert_eq!(o["caller"]["phone"], "138****0001");
    let o = ok(&t, "handler_a", &o, "accept", json!({})).await;
    let o = ok(&t, "handler_a", &o, "reply", reply_fields()).await;
    assert_eq!(o["reply"]["handler"], "张伟");
    let o = ok(
        &t,
        "dispatcher_x",
        &o,
        "review",
        json!({"decision": "approve"}),
    )
    .await;
    let o = ok(&t, "agent_a", &o, "visit", visit_fields(5)).await;
    assert_eq!(o["visit"]["satisfaction"], 5);
    let o = ok(&t, "agent_a", &o, "archive", json!({})).await;
    assert_eq!(o["state"], "archived");
    assert_eq!(o["version"], 7);
    assert_eq!(o["allowed_actions"], json!([]));

    let r = t
        .get(&format!("{ORDERS}/{}", number(&o)), &auth(&t, "agent_a"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let steps: Vec<(Value, Value, Value)> = r.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone(), e["action"].clone()))
        .collect();
    let s = |f: Option<&str>, to: &str, a: Option<&str>| (json!(f), json!(to), json!(a));
    assert_eq!(
        steps,
        vec![
            s(None, "pending_dispatch", None),
            s(Some("pending_dispatch"), "dispatched", Some("dispatch")),
            s(Some("dispatched"), "in_progress", Some("accept")),
            s(Some("in_progress"), "replied", Some("reply")),
            s(Some("replied"), "reviewed", Some("review")),
            s(Some("reviewed"), "visited", Some("visit")),
            s(Some("visited"), "archived", Some("archive")),
        ]
    );
    assert_eq!(r.body["order"]["caller"]["phone"], "13800130001");
    // The agent's unmasked read is audited; the dispatcher's masked one is not.
    t.get(
        &format!("{ORDERS}/{}", number(&o)),
        &auth(&t, "dispatcher_x"),
    )
    .await;
    let audit = t
        .store
        .list_audit(
            Some(&format!("work_order:{}", number(&o))),
            kefu_store::PageRequest::first(),
        )
        .await
        .unwrap();
    let readers: Vec<_> = audit
        .items
        .iter()
        .filter(|e| e.action == "work_order.read_personal")
        .map(|e| e.staff_id)
        .collect();
    assert_eq!(readers, vec![Some(t.person("agent_a").id)]);
    let timeline = &r.body["timeline"];
    assert_eq!(timeline[2]["actor_id"], t.person("handler_a").id.0);
    assert_eq!(timeline[1]["details"]["unit_id"], t.units.county_a.0);
    assert!(timeline[0]["at"].as_str().unwrap().ends_with('Z'));
    // Archived orders are read-only.
    let r = act(&t, &auth(&t, "agent_a"), &o, "chase", json!({})).await;
    r.assert_problem(409, "illegal_transition");
    assert_eq!(r.body["state"], "archived");
    assert_eq!(r.body["allowed_actions"], json!([]));
}

async fn return_then_redispatch_then_accept(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "停电")).await;
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    // A return needs a reason from the list.
    act(&t, &auth(&t, "handler_a"), &o, "return", json!({}))
        .await
        .assert_problem(400, "validation_failed");
    let o = ok(
        &t,
        "handler_a",
        &o,
        "return",
        json!({"reason": "wrong_address", "text": "门牌号不存在"}),
    )
    .await;
    assert_eq!(o["state"], "returned");
    assert_eq!(o["host"], Value::Null);
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    let o = ok(&t, "handler_a", &o, "accept", json!({})).await;
    assert_eq!(o["state"], "in_progress");
    assert_eq!(o["returns"].as_array().unwrap().len(), 1);
    assert_eq!(o["returns"][0]["reason"], "wrong_address");
    assert_eq!(o["returns"][0]["unit_id"], t.units.county_a.0);
}

async fn review_sends_the_reply_back(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "停电")).await;
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    let o = ok(&t, "handler_a", &o, "accept", json!({})).await;
    let o = ok(&t, "handler_a", &o, "reply", reply_fields()).await;
    let r = act(
        &t,
        &auth(&t, "dispatcher_x"),
        &o,
        "review",
        json!({"decision": "send_back"}),
    )
    .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["reason"]);
    let o = ok(
        &t,
        "dispatcher_x",
        &o,
        "review",
        json!({"decision": "send_back", "reason": "未说明停电原因"}),
    )
    .await;
    assert_eq!(o["state"], "sent_back");
    assert_eq!(o["reply"], Value::Null);
    assert_eq!(o["send_backs"][0]["reason"], "未说明停电原因");
    let o = ok(&t, "handler_a", &o, "reply", reply_fields()).await;
    let o = ok(
        &t,
        "dispatcher_x",
        &o,
        "review",
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(o["state"], "reviewed");
}

async fn dissatisfied_visit_reopens_the_order(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "停电")).await;
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    let o = ok(&t, "handler_a", &o, "accept", json!({})).await;
    let o = ok(&t, "handler_a", &o, "reply", reply_fields()).await;
    let o = ok(
        &t,
        "dispatcher_x",
        &o,
        "review",
        json!({"decision": "approve"}),
    )
    .await;
    let r = act(
        &t,
        &auth(&t, "agent_a"),
        &o,
        "visit",
        json!({"contact": "reached"}),
    )
    .await;
    assert_eq!(r.fields(), vec!["satisfaction"]);
    let o = ok(&t, "agent_a", &o, "visit", visit_fields(2)).await;
    assert_eq!(o["state"], "visited");
    let o = ok(
        &t,
        "agent_a",
        &o,
        "reopen",
        json!({"reason": "客户不满意处理结果"}),
    )
    .await;
    assert_eq!(o["state"], "reopened");
    assert_eq!(o["reopen_count"], 1);
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    assert_eq!(o["state"], "dispatched");
}

async fn major_appeal_is_flagged_by_keyword_and_listed(b: Backend) {
    let (t, cid) = setup(b).await;
    let plain = take(&t, "agent_a", complaint(cid, "停电两天")).await;
    let major = take(&t, "agent_a", complaint(cid, "停电两天，记者要来曝光")).await;
    assert_eq!(major["priority"], "major");
    assert_eq!(major["major"]["rule"], "keyword");
    assert_eq!(plain["major"], Value::Null);
    assert_eq!(
        list(&t, "supervisor_x", "major=true").await,
        vec![number(&major)]
    );
    assert_eq!(
        list(&t, "supervisor_x", "major=false").await,
        vec![number(&plain)]
    );
    // Flagging by hand.
    let o = ok(
        &t,
        "supervisor_x",
        &plain,
        "flag-major",
        json!({"reason": "人大代表关注"}),
    )
    .await;
    assert_eq!(o["major"]["rule"], "manual");
    assert_eq!(list(&t, "supervisor_x", "major=true").await.len(), 2);
}

async fn repeat_appeal_is_linked(b: Backend) {
    let (t, cid) = setup(b).await;
    let first = take(&t, "agent_a", complaint(cid, "停电")).await;
    let second = take(&t, "agent_a", complaint(cid, "又停电了")).await;
    assert_eq!(second["repeat_of"], json!([number(&first)]));
    assert_eq!(
        list(&t, "agent_a", "repeat=true").await,
        vec![number(&second)]
    );
    // Filters combine; the list is newest first.
    assert_eq!(
        list(
            &t,
            "agent_a",
            "state=pending_dispatch&appeal_type=complaint&channel=phone_95598"
        )
        .await,
        vec![number(&second), number(&first)]
    );
    let r = t
        .get(&format!("{ORDERS}?state=bogus"), &auth(&t, "agent_a"))
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["state"]);
}

async fn list_pages_with_a_cursor_and_filters_by_unit_and_date(b: Backend) {
    let (t, cid) = setup(b).await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        let mut body = complaint(cid, &format!("停电 {i}"));
        body["sub_category"] =
            json!(["complaint.outage", "complaint.tariff", "complaint.metering"][i]);
        numbers.push(number(&take(&t, "agent_a", body).await));
    }
    let r = t
        .get(&format!("{ORDERS}?limit=2"), &auth(&t, "agent_a"))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = list(&t, "agent_a", &format!("limit=2&cursor={cursor}")).await;
    assert_eq!(rest, vec![numbers[0].clone()]);
    let a = t.units.county_a.0;
    assert_eq!(
        list(&t, "supervisor_x", &format!("host_unit_id={a}"))
            .await
            .len(),
        3
    );
    let bb = t.units.county_b.0;
    assert!(
        list(&t, "supervisor_x", &format!("host_unit_id={bb}"))
            .await
            .is_empty()
    );
    // A unit outside the caller's scope is refused like an unknown one.
    let r = t
        .get(&format!("{ORDERS}?host_unit_id={bb}"), &auth(&t, "agent_a"))
        .await;
    assert_eq!(r.fields(), vec!["host_unit_id"]);
    assert!(
        list(&t, "agent_a", "created_to=2000-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    assert_eq!(
        list(&t, "agent_a", "created_from=2000-01-01T00:00:00Z")
            .await
            .len(),
        3
    );
}

async fn illegal_transition_is_409_with_the_allowed_actions(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "停电")).await;
    // Archive before review.
    let r = act(&t, &auth(&t, "agent_a"), &o, "archive", json!({})).await;
    r.assert_problem(409, "illegal_transition");
    assert_eq!(r.body["state"], "pending_dispatch");
    let allowed = r.body["allowed_actions"].as_array().unwrap();
    assert!(allowed.contains(&json!("dispatch")), "{}", r.text);
    // Reply before accept.
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    let r = act(&t, &auth(&t, "handler_a"), &o, "reply", reply_fields()).await;
    r.assert_problem(409, "illegal_transition");
    assert_eq!(r.body["state"], "dispatched");
    assert!(
        r.body["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("accept"))
    );
    // Nothing was written.
    let r = t
        .get(&format!("{ORDERS}/{}", number(&o)), &auth(&t, "agent_a"))
        .await;
    assert_eq!(r.body["timeline"].as_array().unwrap().len(), 2);
}

async fn wrong_role_is_403_and_other_county_is_404(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "停电")).await;
    let r = act(&t, &auth(&t, "handler_a"), &o, "dispatch", json!({})).await;
    r.assert_problem(403, "forbidden");
    act(&t, &auth(&t, "agent_a"), &o, "accept", json!({}))
        .await
        .assert_problem(403, "forbidden");
    // An analyst takes no appeals.
    t.post(ORDERS, &auth(&t, "analyst_x"), complaint(cid, "停电"))
        .await
        .assert_problem(403, "forbidden");
    // County B sees nothing of county A's order, exactly as if it did not exist.
    let agent_b = auth(&t, "agent_b");
    let r = t.get(&format!("{ORDERS}/{}", number(&o)), &agent_b).await;
    r.assert_problem(404, "not_found");
    let missing = t.get(&format!("{ORDERS}/GD20000101999999"), &agent_b).await;
    assert_eq!(r.text, missing.text);
    act(&t, &agent_b, &o, "chase", json!({}))
        .await
        .assert_problem(404, "not_found");
    assert!(list(&t, "agent_b", "").await.is_empty());
    let r = t.get(&format!("{ORDERS}/12345"), &agent_b).await;
    assert_eq!(r.fields(), vec!["number"]);
}

/// Posts an intake of `content` with `Idempotency-Key: key` as agent A.
async fn send_keyed(t: &TestApp, cid: i64, key: &str, content: &str) -> (StatusCode, Value) {
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(ORDERS)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", t.person("agent_a").token),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(axum::body::Body::from(complaint(cid, content).to_string()))
        .unwrap();
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let resp = t.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice::<Value>(&bytes).unwrap())
}

async fn intake_with_the_same_key_makes_one_order(b: Backend) {
    let (t, cid) = setup(b).await;
    let (s1, first) = send_keyed(&t, cid, "call-2026-0001", "停电").await;
    assert_eq!(s1, StatusCode::CREATED, "{first}");
    let (s2, again) = send_keyed(&t, cid, "call-2026-0001", "停电").await;
    assert_eq!(s2, StatusCode::OK, "{again}");
    assert_eq!(again, first);
    assert_eq!(list(&t, "agent_a", "").await, vec![number(&first)]);
    let (s3, bad) = send_keyed(&t, cid, "has space", "停电").await;
    assert_eq!(s3, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "Idempotency-Key");
}

/// The same key with a different appeal is refused (422 naming the header and the first
/// order), and nothing is written: the integration learns it, instead of losing the appeal.
async fn reused_key_with_another_appeal_is_422(b: Backend) {
    let (t, cid) = setup(b).await;
    let (s1, first) = send_keyed(&t, cid, "call-2026-0002", "停电").await;
    assert_eq!(s1, StatusCode::CREATED, "{first}");
    let (s2, again) = send_keyed(&t, cid, "call-2026-0002", "停电").await;
    assert_eq!(s2, StatusCode::OK, "{again}");
    assert_eq!(again, first);
    let (s3, refused) = send_keyed(&t, cid, "call-2026-0002", "电压不稳，灯一直闪").await;
    assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["code"], "idempotency_key_reused");
    assert_eq!(refused["status"], 422);
    assert_eq!(refused["errors"][0]["field"], "Idempotency-Key");
    let reason = refused["errors"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("already used for a different appeal"),
        "{reason}"
    );
    assert!(reason.contains(number(&first).as_str()), "{reason}");
    assert_eq!(list(&t, "agent_a", "").await, vec![number(&first)]);
}

async fn concurrent_dispatches_have_one_winner(b: Backend) {
    let (t, cid) = setup(b).await;
    let centre = add_person(&t, "dispatcher.p", &[Role::Dispatcher], t.units.province).await;
    let o = take(&t, "agent_a", complaint(cid, "停电")).await;
    let (x, p) = (auth(&t, "dispatcher_x"), centre.bearer());
    let (r1, r2) = tokio::join!(
        act(&t, &x, &o, "dispatch", json!({})),
        act(&t, &p, &o, "dispatch", json!({})),
    );
    let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", r1.text, r2.text);
    let loser = if r1.status == StatusCode::CONFLICT {
        &r1
    } else {
        &r2
    };
    loser.assert_problem(409, "version_conflict");
    let r = t
        .get(&format!("{ORDERS}/{}", number(&o)), &auth(&t, "agent_a"))
        .await;
    assert_eq!(r.body["timeline"].as_array().unwrap().len(), 2);
    // A stale version is refused the same way.
    act(&t, &auth(&t, "handler_a"), &o, "accept", json!({}))
        .await
        .assert_problem(409, "version_conflict");
}

async fn reply_missing_fields_names_every_one(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "停电")).await;
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    let o = ok(&t, "handler_a", &o, "accept", json!({})).await;
    let r = act(&t, &auth(&t, "handler_a"), &o, "reply", json!({})).await;
    r.assert_problem(400, "validation_failed");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "actions_taken",
            "fault",
            "handled_at",
            "handler",
            "result_and_feedback"
        ]
    );
    // An at-fault complaint names the unit and the person.
    let mut body = reply_fields();
    body["fault"] = json!("at_fault");
    let r = act(&t, &auth(&t, "handler_a"), &o, "reply", body).await;
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["responsible_person", "responsible_unit"]);
}

async fn bad_intake_names_the_fields(b: Backend) {
    let (t, cid) = setup(b).await;
    let mut body = complaint(999_999, "停电");
    body["sub_category"] = json!("complaint.nonsense");
    let r = t.post(ORDERS, &auth(&t, "agent_a"), body).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["caller.customer_id"]);
    let mut body = complaint(cid, "停电");
    body["sub_category"] = json!("complaint.nonsense");
    let r = t.post(ORDERS, &auth(&t, "agent_a"), body).await;
    assert_eq!(r.fields(), vec!["sub_category"]);
    // An unidentified caller needs an address in a unit of the caller's scope.
    let body = json!({
        "channel": "web",
        "caller": {"phone": "13900000000", "name": "李四", "address": "滨江区某路 1 号",
                   "address_unit_id": t.units.county_b.0},
        "appeal_type": "consultation",
        "sub_category": "consultation.billing",
        "content": "电费为什么这么高",
    });
    let r = t.post(ORDERS, &auth(&t, "agent_a"), body.clone()).await;
    assert_eq!(r.fields(), vec!["caller.address_unit_id"]);
    let o = take(&t, "agent_b", body).await;
    assert_eq!(o["caller"]["kind"], "unidentified");
    assert_eq!(o["caller"]["territory_unit_id"], t.units.county_b.0);
}

async fn stored_major_rules_apply_to_intake_and_reclassify(b: Backend) {
    let (t, cid) = setup(b).await;
    let mut keywords: Vec<String> = kefu_domain::workorder::DEFAULT_MAJOR_KEYWORDS
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
    keywords.push("省长热线".to_owned());
    let rules = kefu_domain::workorder::MajorRules::new(keywords, vec![]).unwrap();
    t.store
        .save_major_rules(rules, 0, &Actor::System("test"), Utc::now())
        .await
        .unwrap();
    let o = take(&t, "agent_a", complaint(cid, "已经打了省长热线")).await;
    assert_eq!(o["major"]["rule"], "keyword");
    assert_eq!(o["major"]["detail"], "省长热线");
    // Reclassifying into an always-major sub-category makes an ordinary order major.
    let plain = take(&t, "agent_b", {
        let mut b = complaint(cid, "电费");
        b["caller"] = json!({"phone": "13900000000", "name": "李四", "address": "滨江区某路 1 号",
                             "address_unit_id": t.units.county_b.0});
        b
    })
    .await;
    let r = act(
        &t,
        &auth(&t, "dispatcher_x"),
        &plain,
        "reclassify",
        json!({"sub_category": "complaint.nonsense"}),
    )
    .await;
    assert_eq!(r.fields(), vec!["sub_category"]);
    let o = ok(
        &t,
        "dispatcher_x",
        &plain,
        "reclassify",
        json!({"sub_category": "complaint.media_exposure"}),
    )
    .await;
    assert_eq!(o["sub_category"], "complaint.media_exposure");
    assert_eq!(o["major"]["rule"], "sub_category");
    // Chase, supervise and assist keep the state; supervised orders are listed.
    let o = ok(&t, "agent_b", &o, "chase", json!({"note": "客户再次来电"})).await;
    assert_eq!(o["chase_count"], 1);
    let o = ok(
        &t,
        "supervisor_x",
        &o,
        "supervise",
        json!({"reason": "媒体关注"}),
    )
    .await;
    assert_eq!(
        list(&t, "supervisor_x", "supervised=true").await,
        vec![number(&o)]
    );
    let o = ok(
        &t,
        "dispatcher_x",
        &o,
        "dispatch",
        json!({"override_reason": ""}),
    )
    .await;
    let o = ok(
        &t,
        "dispatcher_x",
        &o,
        "assist",
        json!({"unit_id": t.units.county_a.0}),
    )
    .await;
    assert_eq!(o["assisting_unit_ids"], json!([t.units.county_a.0]));
    assert_eq!(o["state"], "dispatched");
}

both_stores!(
    stored_major_rules_apply_to_intake_and_reclassify,
    complaint_goes_from_intake_to_archive,
    return_then_redispatch_then_accept,
    review_sends_the_reply_back,
    dissatisfied_visit_reopens_the_order,
    major_appeal_is_flagged_by_keyword_and_listed,
    repeat_appeal_is_linked,
    list_pages_with_a_cursor_and_filters_by_unit_and_date,
    illegal_transition_is_409_with_the_allowed_actions,
    wrong_role_is_403_and_other_county_is_404,
    intake_with_the_same_key_makes_one_order,
    reused_key_with_another_appeal_is_422,
    concurrent_dispatches_have_one_winner,
    reply_missing_fields_names_every_one,
    bad_intake_names_the_fields,
);
