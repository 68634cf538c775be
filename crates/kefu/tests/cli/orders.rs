//! `kefu orders list|show` on both stores: orders written through the store appear in the
//! table, filtered by state, and `show` prints the whole timeline with login names.

use std::path::PathBuf;

use chrono::Utc;
use kefu::config::{Database, DatabaseUrl};
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::customer::{CustomerName, Phone};
use kefu_domain::org::{DepartmentKind, OrgCode, OrgLevel};
use kefu_domain::workorder::{
    ActorCtx, AppealType, Caller, Catalogue, Channel, Command, Intake, IntakeInput, MajorRules,
    OrderNumber, Priority,
};
use kefu_store::{Actor, IntakeOptions, NewOrgUnit, NewStaff};

use crate::support::{Backend, run, stderr, stdout};

fn database(backend: &Backend) -> Database {
    match backend {
        Backend::Sqlite(dir) => Database::Sqlite(PathBuf::from(dir).join("data").join("kefu.db")),
        Backend::Postgres { url, schema } => Database::Postgres {
            url: DatabaseUrl::new(url.clone()),
            schema: Some(schema.clone()),
        },
    }
}

/// Two orders in county 330106: one pending, one dispatched. Returns their numbers.
pub(crate) async fn seed(backend: &Backend) -> (String, String) {
    let store = kefu::db::open_migrated(&database(backend))
        .await
        .expect("store");
    let sys = Actor::System("test");
    let unit = |parent, code: &str, level| NewOrgUnit {
        parent_id: parent,
        code: OrgCode::parse(code).expect("code"),
        name: code.to_owned(),
        level,
    };
    let hq = store
        .create_org_unit(unit(None, "hq", OrgLevel::Hq), &sys)
        .await
        .expect("hq");
    let mut parent = hq.id;
    for (code, level) in [("33", OrgLevel::Province), ("3301", OrgLevel::City)] {
        parent = store
            .create_org_unit(unit(Some(parent), code, level), &sys)
            .await
            .expect("unit")
            .id;
    }
    let county = store
        .create_org_unit(unit(Some(parent), "330106", OrgLevel::County), &sys)
        .await
        .expect("county");
    let actor = |name: &str, role: Role| {
        let store = store.clone();
        let name = name.to_owned();
        let path = hq.path.clone();
        let hq_id = hq.id;
        async move {
            let staff = store
                .create_staff(
                    NewStaff {
                        username: Username::parse(&name).expect("name"),
                        display_name: name.clone(),
                        org_unit_id: hq_id,
                        department_id: None,
                        roles: Roles::new(vec![role]).expect("role"),
                        password_hash: "x".into(),
                    },
                    &Actor::System("test"),
                )
                .await
                .expect("staff");
            ActorCtx {
                staff: staff.id,
                roles: staff.roles,
                unit: path,
                department: None,
            }
        }
    };
    let agent = actor("wang.agent", Role::Agent).await;
    let dispatcher = actor("li.dispatch", Role::Dispatcher).await;
    let intake = |content: &str| {
        let input = IntakeInput {
            number: OrderNumber::parse("GD20000101000001").expect("placeholder"),
            channel: Channel::Phone95598,
            caller: Caller::Unidentified {
                phone: Phone::parse("13900000001").expect("phone"),
                name: CustomerName::parse("李四").expect("name"),
                address: "西湖区文三路 1 号".into(),
                address_unit: county.path.clone(),
            },
            appeal_type: AppealType::Complaint,
            sub_category: "complaint.tariff".into(),
            content: content.into(),
            priority: Priority::Normal,
            major_reason: String::new(),
            repeat_of: vec![],
            idempotency_key: None,
        };
        Intake::validate(input, &Catalogue::defaults(), &MajorRules::defaults()).expect("intake")
    };
    let opts = IntakeOptions::default();
    let (first, _) = store
        .intake(
            intake("电费太高"),
            opts,
            &agent,
            &kefu_store::TimeRules::default(),
            Utc::now(),
        )
        .await
        .expect("first");
    let (second, _) = store
        .intake(
            intake("电费又高了"),
            opts,
            &agent,
            &kefu_store::TimeRules::default(),
            Utc::now(),
        )
        .await
        .expect("second");
    let dispatch = Command::Dispatch {
        unit: county.path.clone(),
        department: DepartmentKind::Marketing,
        override_reason: String::new(),
    };
    store
        .apply(
            &second.order.number,
            1,
            dispatch,
            &dispatcher,
            &hq.path,
            &kefu_store::TimeRules::default(),
            Utc::now(),
        )
        .await
        .expect("dispatch");
    (
        first.order.number.to_string(),
        second.order.number.to_string(),
    )
}

fn list_and_show(backend: &Backend) {
    let out = run(backend.kefu().arg("migrate"), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (first, second) = rt.block_on(seed(backend));
    drop(rt);

    let out = run(backend.kefu().args(["orders", "list"]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("number\tstate"), "{text}");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with(&format!("{second}\tdispatched\t")),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!("{first}\tpending_dispatch\t")),
        "{text}"
    );
    assert!(lines[1].ends_with("repeat"), "{text}");
    assert!(!text.contains("13900000001"), "phones are never printed");

    let out = run(
        backend.kefu().args([
            "orders",
            "list",
            "--state",
            "pending_dispatch",
            "--limit",
            "5",
        ]),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));

    let out = run(
        backend.kefu().args(["orders", "list", "--state", "bogus"]),
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--state"), "{}", stderr(&out));

    let out = run(backend.kefu().args(["orders", "show", &second]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("state       dispatched (version 2)"),
        "{text}"
    );
    assert!(text.contains(&format!("repeats     {first}")), "{text}");
    let steps: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("version\t"))
        .skip(1)
        .collect();
    assert_eq!(steps.len(), 2, "{text}");
    assert!(
        steps[0].contains("wang.agent\t-\tpending_dispatch"),
        "{text}"
    );
    assert!(
        steps[1].contains("li.dispatch\tpending_dispatch\tdispatched\tto unit 330106 / marketing"),
        "{text}"
    );

    let out = run(
        backend.kefu().args(["orders", "show", "GD20000101999999"]),
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no order"), "{}", stderr(&out));

    // Years later every limit is past: one sweep raises the alerts, a second adds none, and
    // `show` lists them after the timeline.
    let far = "2030-01-02T09:00:00+08:00";
    let out = run(backend.kefu().args(["sla", "sweep", "--at", far]), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("raised 0 alerts"),
        "{}",
        stdout(&out)
    );
    let out = run(backend.kefu().args(["sla", "sweep", "--at", far]), None);
    assert!(stdout(&out).contains("raised 0 alerts"), "{}", stdout(&out));
    let out = run(backend.kefu().args(["orders", "show", &second]), None);
    let text = stdout(&out);
    assert!(text.contains("due         reply"), "{text}");
    assert!(text.contains("reply overdue → unit 330106"), "{text}");
    let out = run(
        backend.kefu().args(["sla", "sweep", "--at", "tomorrow"]),
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--at"), "{}", stderr(&out));

    // The search index is rebuilt for every order, in batches.
    let out = run(
        backend
            .kefu()
            .args(["search", "reindex", "--batch", "1", "--quiet"]),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("reindexed 2 orders with user dictionary version 0 and 0 articles"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn orders_list_and_show_on_sqlite() {
    list_and_show(&Backend::sqlite());
}

#[test]
fn orders_list_and_show_on_postgres() {
    list_and_show(&Backend::postgres());
}
