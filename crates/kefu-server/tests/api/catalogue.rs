//! The catalogue and the major-appeal rules through the API: defaults at version 0, saves by
//! an administrator with their history, refusals (role, stale version, invalid value, a code
//! still in use), and a keyword saved here flagging a new intake as major.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::both_stores;
use crate::helpers::{Auth, Backend, TestApp, customer_body};

const CATALOGUE: &str = "/api/v1/catalogue";
const RULES: &str = "/api/v1/major-rules";

fn auth(t: &TestApp, who: &str) -> Auth {
    t.person(who).bearer()
}

/// Reads a setting as `who`, expecting 200.
async fn read(t: &TestApp, who: &str, uri: &str) -> Value {
    let r = t.get(uri, &auth(t, who)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// The catalogue's body for a PUT: `version` and its sub-categories.
fn save_body(cat: &Value) -> Value {
    json!({"version": cat["version"], "sub_categories": cat["sub_categories"]})
}

fn sub_categories(cat: &mut Value) -> &mut Vec<Value> {
    cat["sub_categories"].as_array_mut().unwrap()
}

fn complaint(customer: i64, content: &str) -> Value {
    json!({
        "channel": "phone_95598",
        "caller": {"customer_id": customer, "phone": "13800130001"},
        "appeal_type": "complaint",
        "sub_category": "complaint.outage",
        "content": content,
    })
}

async fn customer(t: &TestApp) -> i64 {
    let c = t
        .create_customer("agent_a", customer_body(1, t.units.county_a))
        .await;
    c["id"].as_i64().unwrap()
}

async fn defaults_then_admin_saves_with_history(b: Backend) {
    let t = TestApp::new(b).await;
    let admin = t.person("admin_p").id.0;
    let mut cat = read(&t, "agent_a", CATALOGUE).await;
    assert_eq!(cat["version"], 0);
    assert!(cat["saved_by"].is_null() && cat["saved_at"].is_null());
    let defaults = kefu_domain::workorder::Catalogue::defaults();
    assert_eq!(sub_categories(&mut cat).len(), defaults.entries().len());
    let first = &cat["sub_categories"][0];
    assert_eq!(first["code"], "complaint.service_attitude");
    assert_eq!(first["appeal_type"], "complaint");
    assert_eq!(first["department"], "marketing");
    assert_eq!(first["gravity"], "ordinary");
    let rules = read(&t, "handler_a", RULES).await;
    assert_eq!(rules["version"], 0);
    assert!(
        rules["keywords"]
            .as_array()
            .unwrap()
            .contains(&json!("触电"))
    );
    let h = read(&t, "agent_a", &format!("{CATALOGUE}/history")).await;
    assert_eq!(h["items"], json!([]));

    // Rename one sub-category and add a new one.
    sub_categories(&mut cat)[0]["name_zh"] = json!("服务态度与规范");
    sub_categories(&mut cat).push(json!({
        "code": "complaint.smart_meter", "appeal_type": "complaint", "name_zh": "智能电表",
        "name_en": "Smart meter", "department": "marketing", "gravity": "ordinary"
    }));
    let r = t
        .put(CATALOGUE, &auth(&t, "admin_p"), save_body(&cat))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["saved_by_id"], admin);
    assert_eq!(r.body["saved_by"], format!("staff:{admin}"));
    let mut back = read(&t, "agent_b", CATALOGUE).await;
    assert_eq!(back["version"], 1);
    assert_eq!(back["sub_categories"][0]["name_zh"], "服务态度与规范");
    let last = sub_categories(&mut back).last().cloned().unwrap();
    assert_eq!(last["code"], "complaint.smart_meter");
    assert_eq!(last["name_en"], "Smart meter");

    // A second save, then the history lists both, newest first, by the administrator.
    sub_categories(&mut back)[1]["gravity"] = json!("always_major");
    let r = t
        .put(CATALOGUE, &auth(&t, "admin_p"), save_body(&back))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 2);
    let h = read(&t, "analyst_x", &format!("{CATALOGUE}/history")).await;
    let items = h["items"].as_array().unwrap();
    let versions: Vec<i64> = items
        .iter()
        .map(|i| i["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1]);
    assert!(items.iter().all(|i| i["saved_by_id"] == admin));
    assert_eq!(items[1]["sub_categories"][1]["gravity"], "ordinary");
    assert_eq!(items[0]["sub_categories"][1]["gravity"], "always_major");
    assert!(h["next_cursor"].is_null());
    // Cursor pages.
    let p1 = read(&t, "agent_a", &format!("{CATALOGUE}/history?limit=1")).await;
    assert_eq!(p1["items"][0]["version"], 2);
    let cursor = p1["next_cursor"].as_str().unwrap();
    let p2 = read(
        &t,
        "agent_a",
        &format!("{CATALOGUE}/history?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(p2["items"][0]["version"], 1);
    assert!(p2["next_cursor"].is_null());
    let r = t
        .get(
            &format!("{CATALOGUE}/history?cursor=zzz"),
            &auth(&t, "agent_a"),
        )
        .await;
    r.assert_problem(400, "validation_failed");
    // Reads need a signed-in caller.
    t.get(CATALOGUE, &Auth::None)
        .await
        .assert_problem(401, "unauthenticated");
}

async fn only_admins_write_and_stale_versions_conflict(b: Backend) {
    let t = TestApp::new(b).await;
    let mut cat = read(&t, "admin_p", CATALOGUE).await;
    sub_categories(&mut cat)[0]["name_en"] = json!("Attitude");
    for who in ["agent_a", "supervisor_x", "dispatcher_x"] {
        let r = t.put(CATALOGUE, &auth(&t, who), save_body(&cat)).await;
        r.assert_problem(403, "forbidden");
        let r = t
            .put(
                RULES,
                &auth(&t, who),
                json!({"version": 0, "keywords": ["雷击"], "sub_categories": []}),
            )
            .await;
        r.assert_problem(403, "forbidden");
    }
    assert_eq!(read(&t, "admin_p", CATALOGUE).await["version"], 0);
    let r = t
        .put(CATALOGUE, &auth(&t, "admin_p"), save_body(&cat))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Another change still based on version 0 loses.
    sub_categories(&mut cat)[0]["name_en"] = json!("Manners");
    let r = t
        .put(CATALOGUE, &auth(&t, "admin_p"), save_body(&cat))
        .await;
    r.assert_problem(409, "version_conflict");
    let now = read(&t, "admin_p", CATALOGUE).await;
    assert_eq!(now["version"], 1);
    assert_eq!(now["sub_categories"][0]["name_en"], "Attitude");
    // The same for the major rules.
    let body = json!({"version": 0, "keywords": ["雷击"], "sub_categories": []});
    let r = t.put(RULES, &auth(&t, "admin_p"), body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut stale = body;
    stale["keywords"] = json!(["冰灾"]);
    t.put(RULES, &auth(&t, "admin_p"), stale)
        .await
        .assert_problem(409, "version_conflict");
    let h = read(&t, "agent_a", &format!("{RULES}/history")).await;
    assert_eq!(h["items"].as_array().unwrap().len(), 1);
    assert_eq!(h["items"][0]["keywords"], json!(["雷击"]));
}

async fn invalid_values_are_refused_naming_fields(b: Backend) {
    let t = TestApp::new(b).await;
    let mut cat = read(&t, "admin_p", CATALOGUE).await;
    let dup = cat["sub_categories"][2]["code"].clone();
    sub_categories(&mut cat)[3]["code"] = dup;
    sub_categories(&mut cat)[5]["name_en"] = json!("");
    sub_categories(&mut cat)[6]["department"] = json!("kitchen");
    let r = t
        .put(CATALOGUE, &auth(&t, "admin_p"), save_body(&cat))
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(
        r.fields(),
        [
            "sub_categories[3].code",
            "sub_categories[5].name_en",
            "sub_categories[6].department"
        ]
    );
    // An unknown member is named too.
    let mut extra = save_body(&cat);
    extra["sub_categories"][0]["colour"] = json!("red");
    let r = t.put(CATALOGUE, &auth(&t, "admin_p"), extra).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), ["sub_categories[0].colour"]);
    // Nothing was written.
    assert_eq!(read(&t, "admin_p", CATALOGUE).await["version"], 0);
    let h = read(&t, "admin_p", &format!("{CATALOGUE}/history")).await;
    assert_eq!(h["items"], json!([]));
    // Major rules: a duplicate keyword, a malformed code, one not in the catalogue.
    let r = t
        .put(
            RULES,
            &auth(&t, "admin_p"),
            json!({"version": 0, "keywords": ["雷击", "雷击"], "sub_categories": ["nope"]}),
        )
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), ["sub_categories[0]", "keywords[1]"]);
    let r = t
        .put(
            RULES,
            &auth(&t, "admin_p"),
            json!({"version": 0, "keywords": [], "sub_categories": ["complaint.unheard_of"]}),
        )
        .await;
    r.assert_problem(409, "invalid_state");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("complaint.unheard_of")
    );
    assert_eq!(read(&t, "admin_p", RULES).await["version"], 0);
}

async fn a_code_in_use_cannot_be_removed(b: Backend) {
    let t = TestApp::new(b).await;
    let cid = customer(&t).await;
    let r = t
        .post(
            "/api/v1/work-orders",
            &auth(&t, "agent_a"),
            complaint(cid, "停电了"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let mut cat = read(&t, "admin_p", CATALOGUE).await;
    sub_categories(&mut cat).retain(|s| s["code"] != "complaint.outage");
    let r = t
        .put(CATALOGUE, &auth(&t, "admin_p"), save_body(&cat))
        .await;
    r.assert_problem(409, "invalid_state");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("complaint.outage")
    );
    // An unused one may go.
    let mut cat = read(&t, "admin_p", CATALOGUE).await;
    sub_categories(&mut cat).retain(|s| s["code"] != "complaint.metering");
    let r = t
        .put(CATALOGUE, &auth(&t, "admin_p"), save_body(&cat))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn a_keyword_saved_here_flags_new_intakes(b: Backend) {
    let t = TestApp::new(b).await;
    let cid = customer(&t).await;
    let before = t
        .post(
            "/api/v1/work-orders",
            &auth(&t, "agent_a"),
            complaint(cid, "已经打了省长热线"),
        )
        .await;
    assert_eq!(before.status, StatusCode::CREATED, "{}", before.text);
    assert!(before.body["major"].is_null(), "{}", before.text);
    let rules = read(&t, "admin_p", RULES).await;
    let mut keywords = rules["keywords"].as_array().unwrap().clone();
    keywords.push(json!("省长热线"));
    let r = t
        .put(
            RULES,
            &auth(&t, "admin_p"),
            json!({"version": rules["version"], "keywords": keywords,
                   "sub_categories": rules["sub_categories"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 1);
    let o = t
        .post(
            "/api/v1/work-orders",
            &auth(&t, "agent_a"),
            complaint(cid, "已经打了省长热线，还没人来"),
        )
        .await;
    assert_eq!(o.status, StatusCode::CREATED, "{}", o.text);
    assert_eq!(o.body["major"]["rule"], "keyword");
    assert_eq!(o.body["major"]["detail"], "省长热线");
}

both_stores!(
    defaults_then_admin_saves_with_history,
    only_admins_write_and_stale_versions_conflict,
    invalid_values_are_refused_naming_fields,
    a_code_in_use_cannot_be_removed,
    a_keyword_saved_here_flags_new_intakes,
);
