//! Customer import by upload: a background job stores good rows and reports bad ones (line,
//! field, reason, original row) as CSV; rows outside the uploader's unit are bad rows; the size
//! limit, the roles and the header are checked before any job starts.

use std::time::Duration;

use axum::http::{Method, StatusCode, header};
use serde_json::Value;

use crate::both_stores;
use crate::helpers::{Auth, Backend, PASSWORD, TestApp};

const HEADER: &str = "户号,户名,证件号码,联系电话,用电地址,供电单位,城乡,用电类别,电压等级\n";

fn row(account: &str, name: &str, id_number: &str, unit: &str) -> String {
    format!(
        "{account},{name},{id_number},13800138000,杭州市西湖区文三路1号,{unit},城网,居民生活,220V\n"
    )
}

async fn upload(t: &TestApp, who: &Auth, file: &str) -> crate::helpers::Resp {
    upload_with(t, who, file, "file_name=%E5%AE%A2%E6%88%B7.csv").await
}

/// Uploads `file` with the query string `query`.
async fn upload_with(t: &TestApp, who: &Auth, file: &str, query: &str) -> crate::helpers::Resp {
    t.send_raw(
        Method::POST,
        &format!("/api/v1/imports/customers?{query}"),
        who,
        Some(file),
        "text/csv",
    )
    .await
}

/// Follows a job the way the page does, until it is finished.
async fn finished(t: &TestApp, who: &Auth, id: i64) -> Value {
    for _ in 0..400 {
        let r = t.get(&format!("/api/v1/imports/{id}"), who).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if r.body["finished"] == Value::Bool(true) {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("import job {id} did not finish");
}

async fn a_good_file_is_stored_by_a_background_job(b: Backend) {
    let t = TestApp::new(b).await;
    let manager = t.person("manager_a").bearer();
    let before = t.customer_count().await;
    let file = format!(
        "{HEADER}{}{}{}",
        row("3301060001", "王秀英", "11010519491231002X", "330106"),
        row("3301060002", "李建国", "", "330106"),
        row("3301060003", "张伟", "", "西湖供电"),
    );
    let r = upload(&t, &manager, &file).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.headers[header::LOCATION].to_str().unwrap(),
        format!("/api/v1/imports/{id}")
    );
    assert_eq!(r.body["file_name"], "客户.csv");
    let job = finished(&t, &manager, id).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["rows_read"], 3);
    assert_eq!(job["rows_stored"], 3);
    assert_eq!(job["rows_bad"], 0);
    assert_eq!(t.customer_count().await, before + 3);
    // The same file again updates nothing and duplicates nothing.
    let again = upload(&t, &manager, &file).await;
    let job = finished(&t, &manager, again.body["id"].as_i64().unwrap()).await;
    assert_eq!(job["rows_stored"], 3);
    assert_eq!(t.customer_count().await, before + 3);
}

async fn bad_rows_are_counted_and_listed_in_the_report_csv(b: Backend) {
    let t = TestApp::new(b).await;
    let manager = t.person("manager_a").bearer();
    let file = format!(
        "{HEADER}{}{}{}",
        row("3301060001", "王秀英", "11010519491231002X", "330106"),
        row("3301060002", "李建国", "110105194912310021", "330106"),
        row("3301060001", "王秀英", "", "330106"),
    );
    let r = upload(&t, &manager, &file).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let job = finished(&t, &manager, id).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["rows_read"], 3);
    assert_eq!(job["rows_stored"], 1);
    assert_eq!(job["rows_bad"], 2);
    let report = t
        .get(&format!("/api/v1/imports/{id}/report.csv"), &manager)
        .await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(
        report.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = report.text.lines().collect();
    assert_eq!(lines.len(), 3, "{}", report.text);
    assert!(lines[0].starts_with("\u{feff}行号 line,字段 field,原因 reason,户号,户名"));
    // Line 3 of the file (header = line 1): its bad ID number, named by column and field.
    assert!(
        lines[1].starts_with("3,证件号码 id_document"),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with("3301060002,李建国,110105194912310021,13800138000,杭州市西湖区文三路1号,330106,城网,居民生活,220V"));
    assert!(
        lines[2].starts_with("4,户号 account_number"),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("line 2"), "{}", lines[2]);
}

async fn rows_for_units_outside_the_uploaders_unit_are_bad_rows(b: Backend) {
    let t = TestApp::new(b).await;
    let manager = t.person("manager_a").bearer();
    let file = format!(
        "{HEADER}{}{}",
        row("3301060001", "王秀英", "", "330106"),
        row("3301080001", "周敏", "", "330108"),
    );
    let r = upload(&t, &manager, &file).await;
    let id = r.body["id"].as_i64().unwrap();
    let job = finished(&t, &manager, id).await;
    assert_eq!(job["rows_stored"], 1, "{job}");
    assert_eq!(job["rows_bad"], 1);
    let report = t
        .get(&format!("/api/v1/imports/{id}/report.csv"), &manager)
        .await;
    assert!(
        report
            .text
            .contains("3,供电单位 supply_unit_id,超出管辖范围"),
        "{}",
        report.text
    );
    let in_b = t
        .get(
            "/api/v1/customers?account=3301080001",
            &t.person("admin_p").bearer(),
        )
        .await;
    assert_eq!(
        in_b.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        in_b.text
    );
}

async fn a_file_over_the_upload_limit_is_413_and_starts_no_job(b: Backend) {
    let t = TestApp::new(b).await;
    let mut file = String::from(HEADER);
    while file.len() <= 20 * 1024 * 1024 {
        file.push_str(&row("3301060001", "王秀英", "", "330106"));
    }
    let r = upload(&t, &t.person("manager_a").bearer(), &file).await;
    r.assert_problem(413, "payload_too_large");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("kefu import customers")
    );
    assert_eq!(t.customer_count().await, 0);
}

async fn only_roles_that_edit_customers_upload_and_see_jobs(b: Backend) {
    let t = TestApp::new(b).await;
    let file = format!("{HEADER}{}", row("3301060001", "王秀英", "", "330106"));
    for who in ["dispatcher_x", "supervisor_x", "analyst_x", "handler_a"] {
        upload(&t, &t.person(who).bearer(), &file)
            .await
            .assert_problem(403, "forbidden");
    }
    let manager = t.person("manager_a").bearer();
    let id = upload(&t, &manager, &file).await.body["id"]
        .as_i64()
        .unwrap();
    finished(&t, &manager, id).await;
    // An agent of another county does not see the job, nor its report: as if it did not exist.
    let agent_b = t.person("agent_b").bearer();
    t.get(&format!("/api/v1/imports/{id}"), &agent_b)
        .await
        .assert_problem(404, "not_found");
    t.get(&format!("/api/v1/imports/{id}/report.csv"), &agent_b)
        .await
        .assert_problem(404, "not_found");
    // The province administrator above it does.
    let admin = t
        .get(
            &format!("/api/v1/imports/{id}"),
            &t.person("admin_p").bearer(),
        )
        .await;
    assert_eq!(admin.status, StatusCode::OK);
}

async fn a_file_without_the_mandatory_columns_is_400_naming_them(b: Backend) {
    let t = TestApp::new(b).await;
    let r = upload(
        &t,
        &t.person("manager_a").bearer(),
        "户号,户名\n3301060001,王秀英\n",
    )
    .await;
    r.assert_problem(400, "validation_failed");
    assert_eq!(r.fields(), vec!["file".to_owned()]);
    assert!(
        r.text.contains("用电地址") || r.text.contains("address"),
        "{}",
        r.text
    );
    let empty = upload(&t, &t.person("manager_a").bearer(), "").await;
    assert_eq!(empty.fields(), vec!["file".to_owned()]);
}

async fn the_import_page_uploads_with_the_session_and_shows_the_job(b: Backend) {
    let t = TestApp::new(b).await;
    let (_, session) = t.login("manager.a", PASSWORD).await;
    let (cookie, csrf) = session.expect("signed in");
    let page = t
        .get("/ui/imports", &Auth::Cookie(cookie.clone(), None))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("导入客户档案"), "{}", page.text);
    assert!(page.text.contains("id=\"import-form\""));
    assert!(page.text.contains(&csrf), "the form carries the CSRF token");
    let file = format!("{HEADER}{}", row("3301060001", "王秀英", "", "330106"));
    // The page's script sends the session cookie and the CSRF token; without the token: 403.
    upload(&t, &Auth::Cookie(cookie.clone(), None), &file)
        .await
        .assert_problem(403, "csrf");
    let r = upload(&t, &Auth::Cookie(cookie.clone(), Some(csrf)), &file).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    finished(&t, &t.person("manager_a").bearer(), id).await;
    let job = t
        .get(&format!("/ui/imports/{id}"), &Auth::Cookie(cookie, None))
        .await;
    assert_eq!(job.status, StatusCode::OK);
    assert!(job.text.contains("已完成"), "{}", job.text);
    assert!(
        job.text
            .contains(&format!("/api/v1/imports/{id}/report.csv"))
    );
    assert!(
        !job.text.contains("http-equiv=\"refresh\""),
        "a finished job stops refreshing"
    );

    let (_, session) = t.login("dispatcher.x", PASSWORD).await;
    let (cookie, _) = session.expect("signed in");
    let page = t
        .get("/ui/imports", &Auth::Cookie(cookie.clone(), None))
        .await;
    assert!(page.text.contains("不能导入"), "{}", page.text);
    assert!(!page.text.contains("id=\"import-form\""));
    let other = t
        .get(&format!("/ui/imports/{id}"), &Auth::Cookie(cookie, None))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
}

async fn a_restarted_server_shows_an_unfinished_job_as_interrupted(b: Backend) {
    let t = TestApp::new(b).await;
    let manager = t.person("manager_a");
    // A job a previous server accepted and never finished.
    let job = t
        .store
        .create_import_job(
            kefu_store::NewImportJob {
                file_name: "客户.csv".to_owned(),
                file_bytes: 10,
                staff_id: manager.id,
                scope: t
                    .store
                    .get_org_unit(t.units.county_a)
                    .await
                    .unwrap()
                    .unwrap()
                    .path,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let state = kefu_server::AppState::new(t.store.clone(), kefu_server::ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    kefu_server::serve(listener, state, async {}).await.unwrap();
    let r = t
        .get(&format!("/api/v1/imports/{}", job.id), &manager.bearer())
        .await;
    assert_eq!(r.body["state"], "interrupted", "{}", r.text);
    assert_eq!(r.body["finished"], true);
}

async fn all_or_nothing_stores_no_row_of_a_file_with_a_bad_row(b: Backend) {
    let t = TestApp::new(b).await;
    let manager = t.person("manager_a").bearer();
    let before = t.customer_count().await;
    let file = format!(
        "{HEADER}{}{}{}",
        row("3301060001", "王秀英", "11010519491231002X", "330106"),
        row("3301060002", "李建国", "110105194912310021", "330106"),
        row("3301060003", "张伟", "", "330106"),
    );
    let r = upload_with(&t, &manager, &file, "all_or_nothing=true").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let job = finished(&t, &manager, id).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["rows_read"], 3);
    assert_eq!(job["rows_bad"], 1);
    assert_eq!(job["rows_stored"], 0);
    assert!(
        job["error"]
            .as_str()
            .unwrap()
            .contains("nothing was stored"),
        "{job}"
    );
    assert_eq!(t.customer_count().await, before);
    let report = t
        .get(&format!("/api/v1/imports/{id}/report.csv"), &manager)
        .await;
    assert!(
        report.text.contains("\n3,证件号码 id_document"),
        "{}",
        report.text
    );

    // The corrected file goes in whole.
    let good = format!(
        "{HEADER}{}{}",
        row("3301060001", "王秀英", "11010519491231002X", "330106"),
        row("3301060003", "张伟", "", "330106"),
    );
    let r = upload_with(&t, &manager, &good, "all_or_nothing=true").await;
    let job = finished(&t, &manager, r.body["id"].as_i64().unwrap()).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["rows_read"], 2);
    assert_eq!(job["rows_stored"], 2);
    assert_eq!(t.customer_count().await, before + 2);
}

async fn a_mapping_reads_a_file_with_other_headers_and_a_bad_mapping_is_400(b: Backend) {
    let t = TestApp::new(b).await;
    let manager = t.person("manager_a").bearer();
    let before = t.customer_count().await;
    let file = "CONS_NO,CONS_NAME,证件号码,联系电话,用电地址,供电单位,城乡,用电类别,电压等级\n\
                3301060009,赵丽,,13800138000,杭州市西湖区文三路9号,330106,城网,居民生活,220V\n";
    // The mapping file `[columns]`, `"CONS_NO" = "account_number"`, `"CONS_NAME" = "name"`,
    // URL-encoded.
    let mapping = "%5Bcolumns%5D%0A%22CONS_NO%22%20%3D%20%22account_number%22%0A%22CONS_NAME%22%20%3D%20%22name%22";
    let without = upload_with(&t, &manager, file, "").await;
    assert_eq!(without.status, StatusCode::BAD_REQUEST, "{}", without.text);
    let r = upload_with(&t, &manager, file, &format!("mapping={mapping}")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let job = finished(&t, &manager, r.body["id"].as_i64().unwrap()).await;
    assert_eq!(job["rows_stored"], 1, "{job}");
    assert_eq!(t.customer_count().await, before + 1);

    // A mapping naming no field is refused before any job, naming `mapping`.
    let wrong = "%5Bcolumns%5D%0A%22CONS_NO%22%20%3D%20%22nonsense%22";
    let r = upload_with(&t, &manager, file, &format!("mapping={wrong}")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["errors"][0]["field"], "mapping", "{}", r.text);
    assert!(r.text.contains("nonsense"), "{}", r.text);
}

both_stores!(
    a_restarted_server_shows_an_unfinished_job_as_interrupted,
    the_import_page_uploads_with_the_session_and_shows_the_job,
    a_good_file_is_stored_by_a_background_job,
    bad_rows_are_counted_and_listed_in_the_report_csv,
    rows_for_units_outside_the_uploaders_unit_are_bad_rows,
    a_file_over_the_upload_limit_is_413_and_starts_no_job,
    only_roles_that_edit_customers_upload_and_see_jobs,
    a_file_without_the_mandatory_columns_is_400_naming_them,
    all_or_nothing_stores_no_row_of_a_file_with_a_bad_row,
    a_mapping_reads_a_file_with_other_headers_and_a_bad_mapping_is_400,
);
