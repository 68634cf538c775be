//! Deadlines, suspension and the sweep's alerts through the API (issue 5).

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use kefu_store::sla::sweep_all;
use serde_json::json;

use crate::both_stores;
use crate::helpers::Backend;
use crate::workorders::{ORDERS, act, auth, complaint, list, number, ok, setup, take};

async fn deadlines_are_shown_in_the_centres_offset_and_alerts_join_the_timeline(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "小区停电两天无人处理")).await;
    let sla = &o["sla"];
    assert_eq!(sla["status"], "normal");
    let contact = sla["deadlines"]["contact_due_at"].as_str().unwrap();
    assert!(contact.ends_with("+08:00"), "{contact}");
    assert!(sla["deadlines"]["reply_due_at"].is_string());
    assert!(sla["deadlines"]["visit_due_at"].is_null());
    assert_eq!(sla["running"][1]["limit_zh"], "7个工作日");
    let n = number(&o);
    assert!(list(&t, "agent_a", "overdue=false").await.contains(&n));
    assert!(!list(&t, "agent_a", "overdue=true").await.contains(&n));

    // A month later every limit is past: the sweep writes overdue and escalations once.
    let later = Utc::now() + Duration::days(40);
    let first = sweep_all(t.store.as_ref(), later).await.unwrap();
    assert!(first.alerts >= 4, "{first:?}");
    assert_eq!(sweep_all(t.store.as_ref(), later).await.unwrap().alerts, 0);
    let r = t.get(&format!("{ORDERS}/{n}"), &auth(&t, "agent_a")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let timeline = r.body["timeline"].as_array().unwrap();
    let overdue: Vec<_> = timeline
        .iter()
        .filter(|e| e["kind"] == "sla_overdue")
        .collect();
    assert_eq!(overdue.len(), 2, "contact and reply: {timeline:?}");
    // County A has no supervisor: the city's supervisor gets it.
    let boss = t.person("supervisor_x").id.0;
    assert_eq!(overdue[0]["details"]["supervisor_ids"], json!([boss]));
    assert_eq!(overdue[0]["details"]["unit_id"], t.units.city_x.0);
    assert_eq!(overdue[0]["to"], "pending_dispatch");
    assert_eq!(
        r.body["order"]["sla"]["running"][0]["raised"],
        "escalated_up"
    );
}

async fn the_host_unit_suspends_and_resumes_the_clock(b: Backend) {
    let (t, cid) = setup(b).await;
    let o = take(&t, "agent_a", complaint(cid, "电压不稳，灯光闪烁")).await;
    let o = ok(&t, "dispatcher_x", &o, "dispatch", json!({})).await;
    assert!(o["sla"]["deadlines"]["return_due_at"].is_string());
    let o = ok(&t, "handler_a", &o, "accept", json!({})).await;
    assert!(o["sla"]["deadlines"]["return_due_at"].is_null());
    let r = act(
        &t,
        &auth(&t, "handler_a"),
        &o,
        "suspend",
        json!({"reason": "holiday"}),
    )
    .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["reason"]);
    let r = act(
        &t,
        &auth(&t, "agent_a"),
        &o,
        "suspend",
        json!({"reason": "waiting_for_customer"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let o = ok(
        &t,
        "handler_a",
        &o,
        "suspend",
        json!({"reason": "customer_unreachable", "text": "三次致电无人接听"}),
    )
    .await;
    assert_eq!(o["sla"]["suspended"], true);
    assert_eq!(o["sla"]["status"], "suspended");
    assert!(o["sla"]["deadlines"]["reply_due_at"].is_null());
    assert_eq!(o["sla"]["suspensions"][0]["reason"], "customer_unreachable");
    let o = ok(&t, "handler_a", &o, "resume", json!({"note": "客户回电"})).await;
    assert_eq!(o["sla"]["suspended"], false);
    assert!(o["sla"]["deadlines"]["reply_due_at"].is_string());
    assert!(o["sla"]["suspensions"][0]["until"].is_string());
    let r = act(&t, &auth(&t, "handler_a"), &o, "resume", json!({})).await;
    r.assert_problem(409, "invalid_state");
    let o = ok(&t, "handler_a", &o, "contact", json!({"note": "已联系"})).await;
    assert!(o["sla"]["deadlines"]["contact_due_at"].is_null());
    assert!(o["sla"]["contacted_at"].is_string());
    let r = act(&t, &auth(&t, "handler_a"), &o, "arrive", json!({})).await;
    r.assert_problem(409, "invalid_state");
}

both_stores!(
    deadlines_are_shown_in_the_centres_offset_and_alerts_join_the_timeline,
    the_host_unit_suspends_and_resumes_the_clock,
);
