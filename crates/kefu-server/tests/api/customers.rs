//! The customer archive: unit scope, masking, bad input, versions, history, look-ups, paging.

use axum::http::{Method, StatusCode, header};
use kefu_store::PageRequest;
use serde_json::{Value, json};

use crate::both_stores;
use crate::helpers::{Backend, TestApp, customer_body, resident_id};

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn create_returns_201_with_location(b: Backend) {
    let t = TestApp::new(b).await;
    let r = t
        .post(
            "/api/v1/customers",
            &t.person("agent_a").bearer(),
            customer_body(1, t.units.county_a),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = id_of(&r.body);
    assert_eq!(
        r.headers[header::LOCATION].to_str().unwrap(),
        format!("/api/v1/customers/{id}")
    );
    assert_eq!(r.body["name"], "王秀英1");
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["status"], "active");
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
}

async fn agent_of_county_a_gets_404_for_a_customer_of_county_b(b: Backend) {
    let t = TestApp::new(b).await;
    let in_b = t
        .create_customer("agent_b", customer_body(2, t.units.county_b))
        .await;
    let uri = format!("/api/v1/customers/{}", id_of(&in_b));
    let agent_a = t.person("agent_a").bearer();
    let r = t.get(&uri, &agent_a).await;
    r.assert_problem(404, "not_found");
    // The same answer as for an id that does not exist at all.
    let missing = t.get("/api/v1/customers/999999", &agent_a).await;
    assert_eq!(r.text, missing.text);
    t.get(&format!("{uri}/history"), &agent_a)
        .await
        .assert_problem(404, "not_found");
    let mut body = customer_body(2, t.units.county_b);
    body["version"] = json!(1);
    t.put(&uri, &agent_a, body)
        .await
        .assert_problem(404, "not_found");
    let list = t
        .get("/api/v1/customers?account=330106000002", &agent_a)
        .await;
    assert_eq!(list.body["items"], json!([]));
}

async fn supervisor_of_city_x_sees_both_counties(b: Backend) {
    let t = TestApp::new(b).await;
    let a = t
        .create_customer("agent_a", customer_body(1, t.units.county_a))
        .await;
    let bb = t
        .create_customer("agent_b", customer_body(2, t.units.county_b))
        .await;
    let sup = t.person("supervisor_x").bearer();
    for c in [&a, &bb] {
        let r = t
            .get(&format!("/api/v1/customers/{}", id_of(c)), &sup)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let list = t.get("/api/v1/customers", &sup).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    let agent_list = t
        .get("/api/v1/customers", &t.person("agent_a").bearer())
        .await;
    assert_eq!(agent_list.body["items"].as_array().unwrap().len(), 1);
}

async fn analyst_sees_masked_personal_data_and_agent_unmasked(b: Backend) {
    let t = TestApp::new(b).await;
    let c = t
        .create_customer("agent_a", customer_body(7, t.units.county_a))
        .await;
    let uri = format!("/api/v1/customers/{}", id_of(&c));
    let analyst = t.get(&uri, &t.person("analyst_x").bearer()).await;
    assert_eq!(analyst.status, StatusCode::OK);
    let id = resident_id(7);
    let masked_id = format!("{}***********{}", &id[..3], &id[14..]);
    assert_eq!(analyst.body["id_document"]["number"], masked_id);
    assert_eq!(analyst.body["phones"], json!(["138****0007"]));
    assert_eq!(analyst.body["personal_data_masked"], true);
    let list = t
        .get("/api/v1/customers", &t.person("analyst_x").bearer())
        .await;
    assert_eq!(list.body["items"][0]["phones"], json!(["138****0007"]));

    let agent = t.get(&uri, &t.person("agent_a").bearer()).await;
    assert_eq!(agent.body["id_document"]["number"], id);
    assert_eq!(agent.body["phones"], json!(["13800130007"]));
    assert_eq!(agent.body["personal_data_masked"], false);

    // The unmasked read is audited; the analyst's masked one is not.
    let audit = t
        .store
        .list_audit(
            Some(&format!("customer:{}", id_of(&c))),
            PageRequest::first(),
        )
        .await
        .unwrap();
    let reads: Vec<_> = audit
        .items
        .iter()
        .filter(|e| e.action == "customer.read_personal")
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].staff_id, Some(t.person("agent_a").id));
}

async fn list_lookup_with_personal_data_is_audited_once(b: Backend) {
    let t = TestApp::new(b).await;
    for n in 1..=3 {
        t.create_customer("agent_a", customer_body(n, t.units.county_a))
            .await;
    }
    let r = t
        .get(
            "/api/v1/customers?name=王秀英",
            &t.person("agent_a").bearer(),
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    let audit = t
        .store
        .list_audit(Some("customer_lookup"), PageRequest::first())
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 1);
    assert_eq!(audit.items[0].action, "customer.read_personal");
    assert!(audit.items[0].detail.contains("3 customers"));
}

async fn concurrent_lookups_each_leave_their_audit_entry(b: Backend) {
    let t = TestApp::new(b).await;
    let c = t
        .create_customer("agent_a", customer_body(7, t.units.county_a))
        .await;
    let uri = format!("/api/v1/customers/{}", id_of(&c));
    let auth = t.person("agent_a").bearer();
    // Entries of concurrent requests are committed together; none may be lost.
    let reads = (0..20).map(|_| t.get(&uri, &auth));
    for r in futures_join_all(reads).await {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let audit = t
        .store
        .list_audit(
            Some(&format!("customer:{}", id_of(&c))),
            PageRequest::new(None, Some(200)),
        )
        .await
        .unwrap();
    let reads = audit
        .items
        .iter()
        .filter(|e| e.action == "customer.read_personal")
        .count();
    assert_eq!(reads, 20);
}

/// Runs the futures concurrently on this task and collects their outputs in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|v| v.unwrap()).collect()
}

async fn bad_input_is_a_problem_naming_the_field_and_nothing_is_written(b: Backend) {
    let t = TestApp::new(b).await;
    let agent = t.person("agent_a").bearer();
    let post = |body: String| {
        let agent = agent.clone();
        let t = &t;
        async move {
            t.send_raw(
                Method::POST,
                "/api/v1/customers",
                &agent,
                Some(&body),
                "application/json",
            )
            .await
        }
    };
    // Malformed JSON.
    let r = post("not json".into()).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["body"]);
    // Truncated JSON names the field being read when the body ended.
    let r = post("{\"account_number\": ".into()).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["account_number"]);
    // Unknown field.
    let mut body = customer_body(1, t.units.county_a);
    body["favourite_colour"] = json!("blue");
    let r = post(body.to_string()).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["favourite_colour"]);
    // Wrong type, nested.
    let mut body = customer_body(1, t.units.county_a);
    body["id_document"]["number"] = json!(42);
    let r = post(body.to_string()).await;
    assert_eq!(r.fields(), vec!["id_document.number"]);
    // Bad ID checksum (last character changed) and a bad phone: both reported at once.
    let mut body = customer_body(1, t.units.county_a);
    let id = resident_id(1);
    let wrong_check = if id.ends_with('0') { "1" } else { "0" };
    body["id_document"]["number"] = json!(format!("{}{wrong_check}", &id[..17]));
    body["phones"] = json!(["12345"]);
    let r = post(body.to_string()).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["id_document.number", "phones[0]"]);
    // Unknown supply unit.
    let r = post(customer_body(1, kefu_domain::ids::OrgUnitId(987_654)).to_string()).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["supply_unit_id"]);
    // A supply unit outside the caller's scope: the same 400 (existence is not revealed).
    let r = post(customer_body(1, t.units.county_b).to_string()).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["supply_unit_id"]);
    assert_eq!(t.customer_count().await, 0);
    // Duplicate account number.
    t.create_customer("agent_a", customer_body(1, t.units.county_a))
        .await;
    let mut dup = customer_body(2, t.units.county_a);
    dup["account_number"] = customer_body(1, t.units.county_a)["account_number"].clone();
    let r = post(dup.to_string()).await;
    r.assert_problem(409, "duplicate");
    assert_eq!(r.fields(), vec!["account_number"]);
    assert_eq!(t.customer_count().await, 1);
}

async fn roles_without_write_permission_get_403(b: Backend) {
    let t = TestApp::new(b).await;
    let r = t
        .post(
            "/api/v1/customers",
            &t.person("analyst_x").bearer(),
            customer_body(1, t.units.county_a),
        )
        .await;
    r.assert_problem(403, "forbidden");
    let c = t
        .create_customer("agent_a", customer_body(1, t.units.county_a))
        .await;
    let r = t
        .post(
            &format!("/api/v1/customers/{}/retire", id_of(&c)),
            &t.person("agent_a").bearer(),
            json!({"reason": "销户", "version": 1}),
        )
        .await;
    r.assert_problem(403, "forbidden");
}

async fn stale_version_is_409_and_history_shows_old_to_new(b: Backend) {
    let t = TestApp::new(b).await;
    let agent = t.person("agent_a").bearer();
    let c = t
        .create_customer("agent_a", customer_body(3, t.units.county_a))
        .await;
    let uri = format!("/api/v1/customers/{}", id_of(&c));
    let mut edit = customer_body(3, t.units.county_a);
    edit["version"] = json!(1);
    edit["address"] = json!("杭州市西湖区文二路 8 号");
    edit["phones"] = json!(["13900139000"]);
    let r = t.put(&uri, &agent, edit.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 2);
    // A second edit based on version 1 is stale.
    edit["address"] = json!("杭州市西湖区文一路 1 号");
    let r = t.put(&uri, &agent, edit).await;
    r.assert_problem(409, "version_conflict");

    let h = t.get(&format!("{uri}/history"), &agent).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text);
    let items = h.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "created");
    assert_eq!(items[1]["kind"], "updated");
    assert_eq!(
        items[1]["staff_id"].as_i64(),
        Some(t.person("agent_a").id.0)
    );
    let change = |field: &str| {
        items[1]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == field)
            .cloned()
            .unwrap()
    };
    assert_eq!(change("address")["old"], "杭州市西湖区文三路 100 号");
    assert_eq!(change("address")["new"], "杭州市西湖区文二路 8 号");
    assert_eq!(change("phones")["old"], "13800130003");
    assert_eq!(change("phones")["new"], "13900139000");
    // The analyst sees the same history with phones masked.
    let h = t
        .get(&format!("{uri}/history"), &t.person("analyst_x").bearer())
        .await;
    let phones = h.body["items"][1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "phones")
        .cloned()
        .unwrap();
    assert_eq!(phones["old"], "138****0003");
    assert_eq!(phones["new"], "139****9000");
}

async fn retire_and_reinstate_keep_the_record(b: Backend) {
    let t = TestApp::new(b).await;
    let mgr = t.person("manager_a").bearer();
    let c = t
        .create_customer("manager_a", customer_body(4, t.units.county_a))
        .await;
    let uri = format!("/api/v1/customers/{}", id_of(&c));
    t.post(
        &format!("{uri}/retire"),
        &mgr,
        json!({"reason": " ", "version": 1}),
    )
    .await
    .assert_problem(400, "validation_failed");
    let r = t
        .post(
            &format!("{uri}/retire"),
            &mgr,
            json!({"reason": "销户", "version": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "retired");
    let list = t.get("/api/v1/customers", &mgr).await;
    assert_eq!(list.body["items"], json!([]));
    let list = t.get("/api/v1/customers?include_retired=true", &mgr).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    t.post(
        &format!("{uri}/retire"),
        &mgr,
        json!({"reason": "again", "version": 2}),
    )
    .await
    .assert_problem(409, "invalid_state");
    let r = t
        .post(&format!("{uri}/reinstate"), &mgr, json!({"version": 2}))
        .await;
    assert_eq!(r.body["status"], "active", "{}", r.text);
}

async fn lookups_by_phone_account_id_and_name(b: Backend) {
    let t = TestApp::new(b).await;
    let agent = t.person("agent_a").bearer();
    for n in 1..=3 {
        t.create_customer("agent_a", customer_body(n, t.units.county_a))
            .await;
    }
    let count = |r: &crate::helpers::Resp| r.body["items"].as_array().map_or(0, Vec::len);
    let r = t
        .get("/api/v1/customers?phone=%2B86%20138-0013-0002", &agent)
        .await;
    assert_eq!(count(&r), 1, "{}", r.text);
    assert_eq!(r.body["items"][0]["account_number"], "330106000002");
    let r = t
        .get("/api/v1/customers?account=330106000003", &agent)
        .await;
    assert_eq!(count(&r), 1);
    let r = t
        .get(
            &format!("/api/v1/customers?id_number={}", resident_id(1)),
            &agent,
        )
        .await;
    assert_eq!(count(&r), 1);
    let r = t
        .get("/api/v1/customers?name=%E7%8E%8B%E7%A7%80", &agent)
        .await;
    assert_eq!(count(&r), 3);
    let r = t.get("/api/v1/customers?phone=12&name=x", &agent).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["phone", "name"]);
    let r = t.get("/api/v1/customers?phone=abc", &agent).await;
    assert_eq!(r.fields(), vec!["phone"]);
    let r = t.get("/api/v1/customers?phon=138", &agent).await;
    assert_eq!(r.fields(), vec!["phon"]);
    let r = t.get("/api/v1/customers?limit=201", &agent).await;
    assert_eq!(r.fields(), vec!["limit"]);
    let r = t.get("/api/v1/customers?cursor=nonsense", &agent).await;
    assert_eq!(r.fields(), vec!["cursor"]);
    let r = t.get("/api/v1/customers/abc", &agent).await;
    assert_eq!(r.fields(), vec!["id"]);
}

async fn cursor_pagination_walks_every_customer_once(b: Backend) {
    let t = TestApp::new(b).await;
    let sup = t.person("supervisor_x").bearer();
    for n in 1..=5 {
        let unit = if n % 2 == 0 {
            t.units.county_b
        } else {
            t.units.county_a
        };
        let who = if n % 2 == 0 { "agent_b" } else { "agent_a" };
        t.create_customer(who, customer_body(n, unit)).await;
    }
    let mut seen = Vec::new();
    let mut uri = "/api/v1/customers?limit=2".to_owned();
    for _ in 0..5 {
        let r = t.get(&uri, &sup).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(id_of));
        match r.body["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/customers?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, seen, "ids ascend without repeats");
}

async fn special_dates_window(b: Backend) {
    let t = TestApp::new(b).await;
    let agent = t.person("agent_a").bearer();
    let mut body = customer_body(1, t.units.county_a);
    body["special_dates"] = json!([{"kind": "birthday", "date": "03-15", "label": "生日"}]);
    t.create_customer("agent_a", body).await;
    let r = t
        .get(
            "/api/v1/customers/special-dates?from=2026-03-10&days=10",
            &agent,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["items"][0]["on"], "2026-03-15");
    let r = t
        .get(
            "/api/v1/customers/special-dates?from=2026-03-16&days=5",
            &agent,
        )
        .await;
    assert_eq!(r.body["items"], json!([]));
    let r = t
        .get("/api/v1/customers/special-dates?days=367", &agent)
        .await;
    assert_eq!(r.fields(), vec!["days"]);
    let r = t
        .get("/api/v1/customers/special-dates?from=2026-13-01", &agent)
        .await;
    assert_eq!(r.fields(), vec!["from"]);
    let r = t.get("/api/v1/customers/special-dates", &agent).await;
    assert_eq!(r.status, StatusCode::OK);
}

both_stores!(
    create_returns_201_with_location,
    agent_of_county_a_gets_404_for_a_customer_of_county_b,
    supervisor_of_city_x_sees_both_counties,
    analyst_sees_masked_personal_data_and_agent_unmasked,
    list_lookup_with_personal_data_is_audited_once,
    concurrent_lookups_each_leave_their_audit_entry,
    bad_input_is_a_problem_naming_the_field_and_nothing_is_written,
    roles_without_write_permission_get_403,
    stale_version_is_409_and_history_shows_old_to_new,
    retire_and_reinstate_keep_the_record,
    lookups_by_phone_account_id_and_name,
    cursor_pagination_walks_every_customer_once,
    special_dates_window,
);
