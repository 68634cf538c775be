//! `POST /api/v1/work-orders/preview`: the major flag and the repeat warning of an appeal being
//! typed, decided as intake would and without writing anything.

use axum::http::StatusCode;
use serde_json::json;

use crate::both_stores;
use crate::helpers::Backend;
use crate::workorders::{ORDERS, auth, complaint, number, setup, take};

const PREVIEW: &str = "/api/v1/work-orders/preview";

async fn preview_flags_major_and_repeat_without_writing(b: Backend) {
    let (t, cid) = setup(b).await;
    let r = t
        .post(
            PREVIEW,
            &auth(&t, "agent_a"),
            json!({"customer_id": cid, "sub_category": "complaint.outage", "content": "邻居家有人触电了"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["major"]["rule"], "keyword");
    assert_eq!(r.body["major"]["detail"], "触电");
    assert_eq!(r.body["repeat_of"], json!([]));
    assert_eq!(r.body["department"], "operations");

    let first = take(&t, "agent_a", complaint(cid, "小区停电")).await;
    let r = t
        .post(
            PREVIEW,
            &auth(&t, "agent_a"),
            json!({"customer_id": cid, "sub_category": "complaint.outage", "content": "又停电了"}),
        )
        .await;
    assert_eq!(r.body["major"], json!(null));
    assert_eq!(r.body["repeat_of"], json!([number(&first)]));
    let other = t
        .post(
            PREVIEW,
            &auth(&t, "agent_a"),
            json!({"customer_id": cid, "sub_category": "consultation.billing", "content": "电价"}),
        )
        .await;
    assert_eq!(
        other.body["repeat_of"],
        json!([]),
        "another sub-category is no repeat"
    );

    let list = t.get(ORDERS, &auth(&t, "agent_a")).await;
    assert_eq!(
        list.body["items"].as_array().map(Vec::len),
        Some(1),
        "nothing written"
    );
}

async fn preview_refuses_unknown_input_and_other_roles(b: Backend) {
    let (t, cid) = setup(b).await;
    let r = t
        .post(
            PREVIEW,
            &auth(&t, "agent_a"),
            json!({"customer_id": cid, "sub_category": "complaint.nothing"}),
        )
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["sub_category".to_owned()]);
    let r = t
        .post(
            PREVIEW,
            &auth(&t, "agent_b"),
            json!({"customer_id": cid, "sub_category": "complaint.outage"}),
        )
        .await;
    assert_eq!(
        r.fields(),
        vec!["customer_id".to_owned()],
        "county B does not see A's customer"
    );
    let r = t
        .post(
            PREVIEW,
            &auth(&t, "analyst_x"),
            json!({"sub_category": "complaint.outage"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

both_stores!(
    preview_flags_major_and_repeat_without_writing,
    preview_refuses_unknown_input_and_other_roles,
);
