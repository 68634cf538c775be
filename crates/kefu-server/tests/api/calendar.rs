//! The working calendar and the time limits through the API: an administrator adds a holiday
//! and everyone reads it (and the cached time rules use it at once); other roles are refused;
//! a stale version conflicts; an imported year file with bad lines names every one; the time
//! limits round-trip and a bad rule is refused naming its field.

use axum::http::{Method, StatusCode};
use chrono::NaiveDate;
use kefu_domain::calendar::DayKind;
use serde_json::{Value, json};

use crate::both_stores;
use crate::helpers::{Auth, Backend, TestApp};

const Y2026: &str = "/api/v1/calendars/2026";
const IMPORT: &str = "/api/v1/calendars/import";
const LIMITS: &str = "/api/v1/time-limits";

fn auth(t: &TestApp, who: &str) -> Auth {
    t.person(who).bearer()
}

async fn read(t: &TestApp, who: &str, uri: &str) -> Value {
    let r = t.get(uri, &auth(t, who)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

fn days(cal: &mut Value) -> &mut Vec<Value> {
    cal["days"].as_array_mut().unwrap()
}

async fn admin_adds_a_holiday_and_everyone_sees_it(b: Backend) {
    let t = TestApp::new(b).await;
    let mut cal = read(&t, "agent_a", Y2026).await;
    assert_eq!(cal["year"], 2026);
    assert_eq!(cal["version"], 0);
    assert_eq!(cal["source"], "default");
    assert_eq!(cal["utc_offset"], "+08:00");
    assert_eq!(cal["week"][0]["weekday"], "mon");
    assert_eq!(
        cal["week"][0]["periods"][0],
        json!({"start": "08:30", "end": "12:00"})
    );
    assert_eq!(cal["week"][6]["periods"], json!([]));
    let spring = days(&mut cal)
        .iter()
        .find(|d| d["date"] == "2026-02-14")
        .cloned()
        .unwrap();
    assert_eq!(spring["kind"], "workday");
    assert_eq!(spring["like"], "mon");
    assert_eq!(spring["name"], "春节调休");
    let day = NaiveDate::from_ymd_opt(2026, 5, 6).unwrap();
    let before = t.state.time_rules().await.unwrap();
    assert!(before.calendar.override_on(day).is_none());

    days(&mut cal).push(json!({"date": "2026-05-06", "kind": "holiday", "name": "厂庆"}));
    let body = json!({"version": 0, "days": cal["days"]});
    let r = t.put(Y2026, &auth(&t, "admin_p"), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["source"], "stored");
    let admin = t.person("admin_p").id.0;
    assert_eq!(r.body["saved_by_id"], admin);

    let back = read(&t, "handler_a", Y2026).await;
    assert_eq!(back["version"], 1);
    let added = back["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2026-05-06")
        .cloned()
        .unwrap();
    assert_eq!(
        added,
        json!({"date": "2026-05-06", "kind": "holiday", "name": "厂庆"})
    );
    // The cached rules were reloaded by the save: the next deadline uses the holiday.
    let after = t.state.time_rules().await.unwrap();
    let kind = after.calendar.override_on(day).map(|o| o.kind);
    assert_eq!(kind, Some(DayKind::Holiday));
    // Audited under the year's key.
    let audit = t
        .store
        .list_audit(Some("calendar:2026"), kefu_store::PageRequest::first())
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 1);
    assert_eq!(audit.items[0].action, "calendar.save");
    // A year never saved is an empty default.
    let empty = read(&t, "agent_a", "/api/v1/calendars/2031").await;
    assert_eq!(
        (empty["version"].clone(), empty["days"].clone()),
        (json!(0), json!([]))
    );
    let r = t.get("/api/v1/calendars/20x6", &auth(&t, "agent_a")).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), ["year"]);
}

async fn only_administrators_change_calendars_and_limits(b: Backend) {
    let t = TestApp::new(b).await;
    let body = json!({"version": 0, "days": []});
    for who in ["agent_a", "supervisor_x", "analyst_x"] {
        let r = t.put(Y2026, &auth(&t, who), body.clone()).await;
        r.assert_problem(403, "forbidden");
        let r = t
            .send_raw(
                Method::POST,
                IMPORT,
                &auth(&t, who),
                Some("year 2027\n"),
                "text/plain",
            )
            .await;
        r.assert_problem(403, "forbidden");
        let limits = read(&t, who, LIMITS).await;
        let save = json!({"version": 0, "warning_share": 0.5, "rules": limits["rules"]});
        t.put(LIMITS, &auth(&t, who), save)
            .await
            .assert_problem(403, "forbidden");
    }
    let r = t.get(Y2026, &Auth::None).await;
    r.assert_problem(401, "unauthenticated");
    assert_eq!(read(&t, "admin_p", Y2026).await["version"], 0);
}

async fn a_stale_calendar_version_conflicts(b: Backend) {
    let t = TestApp::new(b).await;
    let cal = read(&t, "admin_p", Y2026).await;
    let body = json!({"version": 0, "days": cal["days"].as_array().unwrap()[1..]});
    let r = t.put(Y2026, &auth(&t, "admin_p"), body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = t.put(Y2026, &auth(&t, "admin_p"), body).await;
    r.assert_problem(409, "version_conflict");
    // A day that breaks the week names its field.
    let bad = json!({"version": 1, "days": [
        {"date": "2026-03-02", "kind": "workday", "name": "调休"},
        {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
    ]});
    let r = t.put(Y2026, &auth(&t, "admin_p"), bad).await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), ["days[0].date", "days[1].date"]);
}

async fn an_import_lists_every_bad_line_then_creates_the_year(b: Backend) {
    let t = TestApp::new(b).await;
    let admin = auth(&t, "admin_p");
    let bad = "# 2027\nyear 2027\n2027-01-01 holiday 元旦\n2027-02-30 holiday 春节\n\
               2027-01-04 workday 调休\n2027-01-01 holiday 重复\nwhatever\n";
    let r = t
        .send_raw(
            Method::POST,
            IMPORT,
            &admin,
            Some(bad),
            "text/plain; charset=utf-8",
        )
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), ["line 4", "line 5", "line 6", "line 7"]);
    assert_eq!(
        read(&t, "agent_a", "/api/v1/calendars/2027").await["version"],
        0
    );
    // JSON is not a year file.
    let r = t.post(IMPORT, &admin, json!({"year": 2027})).await;
    r.assert_problem(415, "unsupported_media_type");

    let good = "year 2027\n2027-01-01 holiday 元旦\n2027-01-09 workday like=fri 调休\n";
    let r = t
        .send_raw(Method::POST, IMPORT, &admin, Some(good), "text/plain")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["year"], 2027);
    assert_eq!(r.body["version"], 1);
    let got = read(&t, "agent_a", "/api/v1/calendars/2027").await;
    assert_eq!(
        got["days"],
        json!([
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
            {"date": "2027-01-09", "kind": "workday", "name": "调休", "like": "fri"},
        ])
    );
    // Importing again replaces the year; with a stale `version` it conflicts.
    let again = "year 2027\n2027-01-01 holiday 元旦\n";
    let r = t
        .send_raw(Method::POST, IMPORT, &admin, Some(again), "text/plain")
        .await;
    assert_eq!(r.body["version"], 2, "{}", r.text);
    let uri = format!("{IMPORT}?version=1");
    let r = t
        .send_raw(Method::POST, &uri, &admin, Some(good), "text/plain")
        .await;
    r.assert_problem(409, "version_conflict");
}

async fn time_limits_round_trip_and_bad_rules_name_the_field(b: Backend) {
    let t = TestApp::new(b).await;
    let limits = read(&t, "agent_a", LIMITS).await;
    assert_eq!(limits["version"], 0);
    assert_eq!(limits["source"], "default");
    assert_eq!(limits["warning_share"], 0.75);
    let rules = limits["rules"].as_array().unwrap().clone();
    assert_eq!(
        rules[0],
        json!({"kind": "contact", "appeal_type": "complaint", "sub_category": null,
               "grade": null, "area": null, "limit": "working_days:1"})
    );
    let mut edited = rules.clone();
    edited[1]["limit"] = json!("working_days:5");
    edited.push(
        json!({"kind": "arrive", "appeal_type": "fault_repair", "area": "remote",
                       "grade": "vip", "limit": "clock_minutes:60"}),
    );
    let body = json!({"version": 0, "warning_share": 0.8, "rules": edited});
    let r = t.put(LIMITS, &auth(&t, "admin_p"), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["version"], 1);
    let back = read(&t, "handler_a", LIMITS).await;
    assert_eq!(back["warning_share"], 0.8);
    assert_eq!(back["rules"][1]["limit"], "working_days:5");
    assert_eq!(back["rules"].as_array().unwrap().len(), rules.len() + 1);
    let cached = t.state.time_rules().await.unwrap();
    assert!((cached.limits.warning_share() - 0.8).abs() < 1e-9);

    let mut bad = rules.clone();
    bad[2]["limit"] = json!("working_days:0");
    let r = t
        .put(
            LIMITS,
            &auth(&t, "admin_p"),
            json!({"version": 1, "warning_share": 0.8, "rules": bad}),
        )
        .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), ["rules[2].limit"]);
    let mut bad = rules.clone();
    bad[0]["kind"] = json!("answer");
    bad[3]["area"] = json!("mountain");
    let r = t
        .put(
            LIMITS,
            &auth(&t, "admin_p"),
            json!({"version": 1, "warning_share": 0.8, "rules": bad}),
        )
        .await;
    assert_eq!(r.fields(), ["rules[0].kind", "rules[3].area"], "{}", r.text);
    let r = t
        .put(
            LIMITS,
            &auth(&t, "admin_p"),
            json!({"version": 1, "warning_share": 1.0, "rules": rules}),
        )
        .await;
    assert_eq!(r.fields(), ["warning_share"], "{}", r.text);
    let r = t
        .put(
            LIMITS,
            &auth(&t, "admin_p"),
            json!({"version": 0, "warning_share": 0.7, "rules": rules}),
        )
        .await;
    r.assert_problem(409, "version_conflict");
}

both_stores!(
    admin_adds_a_holiday_and_everyone_sees_it,
    only_administrators_change_calendars_and_limits,
    a_stale_calendar_version_conflicts,
    an_import_lists_every_bad_line_then_creates_the_year,
    time_limits_round_trip_and_bad_rules_name_the_field,
);
