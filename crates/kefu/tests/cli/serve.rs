//! `kefu serve --demo` on an empty store, the demo logins, API tokens from `admin create-token`,
//! a second start on the same store, and a clean stop on SIGTERM — on both stores.

use crate::support::{Backend, Server, get_with_token, http, login, run, stderr, stdout};

const DEMO_PASSWORD: &str = "Kefu-demo-2026";

fn demo_round_trip(backend: &Backend) {
    let server = Server::start(backend, &["--demo", "--demo-customers", "300"]);
    assert!(
        server.banner.contains("demo province created"),
        "{}",
        server.banner
    );
    assert!(server.banner.contains("agent1"));
    let health = http(&server.addr, "GET", "/healthz", &[], "");
    assert_eq!(health.status, 200, "{}", health.body);
    for user in [
        "agent1",
        "handler.xihu",
        "supervisor.hz",
        "analyst1",
        "admin",
    ] {
        assert_eq!(
            login(&server.addr, user, DEMO_PASSWORD).status,
            200,
            "{user}"
        );
    }
    assert_eq!(login(&server.addr, "agent1", "Wrong-pass-2026").status, 401);

    let mut cmd = backend.kefu();
    cmd.args(["admin", "list-users", "--unit", "3301"]);
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(
        listed.contains("supervisor.hz\t沈晓燕\t3301\tsupervisor"),
        "{listed}"
    );
    assert!(
        listed.contains("handler.xihu") && !listed.contains("agent1"),
        "{listed}"
    );

    let mut cmd = backend.kefu();
    cmd.args(["admin", "create-token", "--user", "agent1", "--name", "CTI"]);
    let out = run(&mut cmd, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_owned();
    assert!(!token.is_empty() && !token.contains(' '), "{token}");

    let found = get_with_token(&server.addr, "/api/v1/customers?name=%E7%8E%8B", &token);
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(found.body.contains("account_number"), "{}", found.body);
    // The demo knowledge base is published: an agent finds the repair time limits.
    let kb = get_with_token(
        &server.addr,
        "/api/v1/knowledge?q=%E6%8A%A2%E4%BF%AE",
        &token,
    );
    assert_eq!(kb.status, 200, "{}", kb.body);
    assert!(kb.body.contains("故障抢修到达现场时限"), "{}", kb.body);
    let phone = found
        .body
        .split("\"phones\":[\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a phone in the answer")
        .to_owned();
    let popped = get_with_token(
        &server.addr,
        &format!("/api/v1/customers?phone={phone}"),
        &token,
    );
    assert_eq!(popped.status, 200, "{}", popped.body);
    assert!(popped.body.contains(&phone));
    assert_eq!(
        get_with_token(
            &server.addr,
            "/api/v1/customers?phone=13800000000",
            "kefu_bogus"
        )
        .status,
        401
    );
    assert!(
        server.terminate().success(),
        "SIGTERM must stop kefu cleanly"
    );

    // A second start finds the demo and leaves it alone.
    let again = Server::start(backend, &["--demo", "--demo-customers", "300"]);
    assert!(again.banner.contains("already present"), "{}", again.banner);
    assert_eq!(login(&again.addr, "agent1", DEMO_PASSWORD).status, 200);
    assert!(again.terminate().success());
}

#[test]
fn demo_serves_and_logins_work_on_sqlite() {
    demo_round_trip(&Backend::sqlite());
}

#[test]
fn demo_serves_and_logins_work_on_postgres() {
    demo_round_trip(&Backend::postgres());
}
