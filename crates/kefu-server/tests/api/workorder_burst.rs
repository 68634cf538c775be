//! Work-order intake under a burst of concurrent requests (the store group-commits intakes):
//! one order per `Idempotency-Key`, every other try replays it, unique numbers, and a refused
//! intake (a key reused for another appeal) gets its own 422 without failing the others.

use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use tower::ServiceExt;

use crate::both_stores;
use crate::helpers::{Backend, TestApp, customer_body};

const ORDERS: &str = "/api/v1/work-orders";

fn complaint(customer: i64, content: &str) -> Value {
    json!({
        "channel": "phone_95598",
        "caller": {"customer_id": customer, "phone": "13800130001"},
        "appeal_type": "complaint",
        "sub_category": "complaint.outage",
        "content": content,
    })
}

/// Posts an intake as agent A with `key`, on its own task; returns status and body.
fn spawn_intake(
    t: &TestApp,
    cid: i64,
    key: String,
    content: &'static str,
) -> tokio::task::JoinHandle<(String, StatusCode, Value)> {
    let app = t.app.clone();
    let token = t.person("agent_a").token.clone();
    tokio::spawn(async move {
        let req = Request::builder()
            .method("POST")
            .uri(ORDERS)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", &key)
            .body(axum::body::Body::from(complaint(cid, content).to_string()))
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            key,
            status,
            serde_json::from_slice::<Value>(&bytes).unwrap(),
        )
    })
}

async fn all_numbers(t: &TestApp) -> Vec<String> {
    let auth = t.person("agent_a").bearer();
    let r = t.get(&format!("{ORDERS}?limit=200"), &auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["number"].as_str().unwrap().to_owned())
        .collect()
}

/// 50 concurrent intakes over 10 keys: ten 201s, forty 200s answering the same order as their
/// key's 201, ten distinct numbers, ten orders listed.
async fn concurrent_intakes_make_one_order_per_key(b: Backend) {
    let t = TestApp::new(b).await;
    let c = t
        .create_customer("agent_a", customer_body(1, t.units.county_a))
        .await;
    let cid = c["id"].as_i64().unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| spawn_intake(&t, cid, format!("burst-{}", i % 10), "小区停电两天无人处理"))
        .collect();
    let mut by_key: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut created = 0;
    for task in tasks {
        let (key, status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("{key}: {other} {body}"),
        }
        let number = body["number"].as_str().unwrap().to_owned();
        by_key.entry(key).or_default().insert(number);
    }
    assert_eq!(created, 10);
    assert!(by_key.values().all(|n| n.len() == 1), "{by_key:?}");
    let numbers: BTreeSet<String> = by_key.into_values().flatten().collect();
    assert_eq!(numbers.len(), 10, "unique numbers");
    let listed: BTreeSet<String> = all_numbers(&t).await.into_iter().collect();
    assert_eq!(listed, numbers);
}

/// A key reused for another appeal in the middle of a burst is 422 on its own; every other
/// intake of the burst is 201, and no number is spent on the refusals.
async fn a_refused_intake_in_a_burst_fails_alone(b: Backend) {
    let t = TestApp::new(b).await;
    let c = t
        .create_customer("agent_a", customer_body(1, t.units.county_a))
        .await;
    let cid = c["id"].as_i64().unwrap();
    let (_, status, first) = spawn_intake(&t, cid, "taken".into(), "停电").await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            if i % 5 == 2 {
                spawn_intake(&t, cid, "taken".into(), "电压不稳，灯一直闪")
            } else {
                spawn_intake(&t, cid, format!("fresh-{i}"), "停电")
            }
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        let (key, status, body) = task.await.unwrap();
        if key == "taken" {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(body["code"], "idempotency_key_reused");
        } else {
            assert_eq!(status, StatusCode::CREATED, "{key}: {body}");
            let number = body["number"].as_str().unwrap();
            seqs.push(number[10..].parse::<u32>().unwrap());
        }
    }
    seqs.sort_unstable();
    let first_seq: u32 = first["number"].as_str().unwrap()[10..].parse().unwrap();
    let expected: Vec<u32> = (first_seq + 1..=first_seq + 24).collect();
    assert_eq!(seqs, expected, "gap-free after the first order");
    assert_eq!(all_numbers(&t).await.len(), 25);
}

both_stores!(
    concurrent_intakes_make_one_order_per_key,
    a_refused_intake_in_a_burst_fails_alone,
);
