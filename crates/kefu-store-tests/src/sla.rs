//! Deadlines stored with orders and the sweep: each alert raised once, to the right people,
//! kept across transitions, held while suspended, and shared safely between two sweepers.

use chrono::{DateTime, Duration, TimeZone, Utc};
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::calendar::LimitKind;
use kefu_domain::ids::StaffId;
use kefu_domain::sla::AlertLevel;
use kefu_domain::workorder::{Command, OrderNumber, SuspendReason};
use kefu_store::sla::{SWEEP_BATCH, sweep_all};
use kefu_store::{NewStaff, OrderFilter, Overdue, PageRequest, Store, StoredOrder};

use crate::fixtures::{SYSTEM, Tree, tree};
use crate::workorder_fixtures::{Cast, cast, complaint, dispatch_a, ok, take};

/// Monday 2 March 2026, 09:00 Beijing time: an ordinary working morning.
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0)
        .single()
        .expect("a valid instant")
}

/// A supervisor (staff row with the role) in `unit`.
async fn supervisor(store: &dyn Store, name: &str, unit: &kefu_store::OrgUnit) -> StaffId {
    store
        .create_staff(
            NewStaff {
                username: Username::parse(name).expect("name"),
                display_name: "督办员".into(),
                org_unit_id: unit.id,
                department_id: None,
                roles: Roles::new(vec![Role::Supervisor]).expect("roles"),
                password_hash: "$argon2id$x".into(),
            },
            &SYSTEM,
        )
        .await
        .expect("supervisor")
        .id
}

fn deadline(o: &StoredOrder, kind: LimitKind) -> kefu_domain::sla::Tracked {
    o.sla
        .iter()
        .find(|t| t.kind == kind)
        .cloned()
        .unwrap_or_else(|| panic!("{kind} is not running: {:?}", o.sla))
}

async fn alerts(store: &dyn Store, t: &Tree, n: &OrderNumber) -> Vec<(LimitKind, AlertLevel)> {
    store
        .alerts(n, &t.hq.path)
        .await
        .expect("alerts")
        .into_iter()
        .map(|a| (a.kind, a.level))
        .collect()
}

async fn setup(store: &dyn Store) -> (Tree, Cast, StoredOrder) {
    let t = tree(store).await;
    let c = cast(&t);
    let order = take(store, &c, complaint(&t), monday()).await;
    (t, c, order)
}

/// The intake stores the contact and reply deadlines, read back with the order, and the
/// `overdue` filter finds the order exactly once its earliest deadline has passed.
pub async fn deadlines_are_stored_with_the_order_and_filtered_by(store: &dyn Store) {
    let (t, _c, order) = setup(store).await;
    let n = order.order.number;
    let contact = deadline(&order, LimitKind::Contact);
    // One working day: Tuesday 09:00 Beijing time.
    assert_eq!(
        contact.due_at,
        Utc.with_ymd_and_hms(2026, 3, 3, 1, 0, 0).single()
    );
    let read = store
        .get_order(&n, &t.hq.path)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(read.sla, order.sla);
    let scope = &t.hq.path;
    let list = |yes: bool, at: DateTime<Utc>| {
        let filter = OrderFilter {
            overdue: Some(Overdue { yes, at }),
            ..OrderFilter::default()
        };
        async move {
            store
                .list_orders(&filter, scope, PageRequest::new(None, Some(50)))
                .await
                .expect("list")
                .items
                .len()
        }
    };
    let due = contact.due_at.expect("due");
    assert_eq!(list(true, due - Duration::seconds(1)).await, 0);
    assert_eq!(list(false, due - Duration::seconds(1)).await, 1);
    assert_eq!(list(true, due).await, 1);
    assert_eq!(list(false, due).await, 0);
}

/// Warning, overdue and one-level-up are each written once, addressed to the holding unit's
/// supervisors and then to the unit above; sweeping again adds nothing.
pub async fn sweep_raises_each_alert_once_to_the_right_supervisors(store: &dyn Store) {
    let (t, _c, order) = setup(store).await;
    let n = order.order.number;
    let county_boss = supervisor(store, "county.boss", &t.county_a).await;
    let city_boss = supervisor(store, "city.boss", &t.city_a).await;
    // Not dispatched: the county of the customer holds it (and no return limit runs).
    let contact = deadline(&order, LimitKind::Contact);
    let (warn, due, up) = (
        contact.warn_at.expect("warn"),
        contact.due_at.expect("due"),
        contact.escalate_at.expect("up"),
    );
    assert_eq!(
        sweep_all(store, warn - Duration::seconds(1))
            .await
            .expect("sweep")
            .alerts,
        0
    );
    assert_eq!(sweep_all(store, warn).await.expect("sweep").alerts, 1);
    assert_eq!(
        sweep_all(store, warn).await.expect("sweep").alerts,
        0,
        "idempotent"
    );
    assert_eq!(sweep_all(store, due).await.expect("sweep").alerts, 1);
    assert_eq!(
        sweep_all(store, due).await.expect("sweep").alerts,
        0,
        "idempotent"
    );
    sweep_all(store, up).await.expect("sweep");
    let written = store.alerts(&n, &t.hq.path).await.expect("alerts");
    let contact_alerts: Vec<_> = written
        .iter()
        .filter(|a| a.kind == LimitKind::Contact)
        .collect();
    assert_eq!(
        contact_alerts.iter().map(|a| a.level).collect::<Vec<_>>(),
        vec![
            AlertLevel::Warning,
            AlertLevel::Overdue,
            AlertLevel::EscalatedUp
        ]
    );
    // County A holds the order: its supervisor first, then city A's.
    assert_eq!(contact_alerts[1].unit, t.county_a.path);
    assert_eq!(contact_alerts[1].supervisors, vec![county_boss]);
    assert_eq!(contact_alerts[2].unit, t.city_a.path);
    assert_eq!(contact_alerts[2].supervisors, vec![city_boss]);
    assert_eq!(contact_alerts[1].reached_at, due);
    let again = sweep_all(store, up + Duration::minutes(1))
        .await
        .expect("sweep");
    let after = store.alerts(&n, &t.hq.path).await.expect("alerts");
    assert_eq!(
        after
            .iter()
            .filter(|a| a.kind == LimitKind::Contact)
            .count(),
        3,
        "{again:?}"
    );
}

/// An alert raised before a transition is not raised again after it (the deadline is the same),
/// and an escalation with no supervisor in reach still names the unit.
pub async fn transitions_keep_the_alerts_already_raised(store: &dyn Store) {
    let (t, c, order) = setup(store).await;
    let n = order.order.number;
    let warn = deadline(&order, LimitKind::Contact).warn_at.expect("warn");
    assert_eq!(sweep_all(store, warn).await.expect("sweep").alerts, 1);
    let chased = ok(
        store,
        &t,
        &n,
        Command::Chase {
            note: String::new(),
        },
        &c.agent,
        warn,
    )
    .await;
    assert_eq!(
        deadline(&chased, LimitKind::Contact).raised,
        Some(AlertLevel::Warning)
    );
    assert_eq!(sweep_all(store, warn).await.expect("sweep").alerts, 0);
    let written = store.alerts(&n, &t.hq.path).await.expect("alerts");
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].unit, t.county_a.path);
    assert!(written[0].supervisors.is_empty());
}

/// A suspended order has no known deadline, so nothing goes overdue while it lasts; resuming
/// moves the deadline by the working time suspended.
pub async fn suspended_orders_raise_nothing_until_resumed(store: &dyn Store) {
    let (t, c, order) = setup(store).await;
    let n = order.order.number;
    let plain = deadline(&order, LimitKind::Reply).due_at.expect("due");
    ok(store, &t, &n, dispatch_a(&t), &c.dispatcher, monday()).await;
    let from = monday() + Duration::minutes(30);
    ok(store, &t, &n, Command::Accept, &c.handler_a, from).await;
    let suspend = Command::Suspend {
        reason: SuspendReason::CustomerUnreachable,
        text: "客户电话无人接听".into(),
    };
    let held = ok(store, &t, &n, suspend, &c.handler_a, from).await;
    assert_eq!(deadline(&held, LimitKind::Reply).due_at, None);
    assert_eq!(
        sweep_all(store, plain + Duration::days(30))
            .await
            .expect("sweep")
            .alerts,
        0
    );
    let until = from + Duration::hours(1);
    let resumed = ok(
        store,
        &t,
        &n,
        Command::Resume {
            note: String::new(),
        },
        &c.handler_a,
        until,
    )
    .await;
    assert_eq!(
        deadline(&resumed, LimitKind::Reply).due_at,
        Some(plain + Duration::hours(1))
    );
    assert!(alerts(store, &t, &n).await.is_empty());
}

/// Two sweeps running at once over more orders than one batch write every alert exactly once.
pub async fn parallel_sweeps_write_each_alert_once(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let count = SWEEP_BATCH as usize + 20;
    let mut last = None;
    for i in 0..count {
        let at = monday() + Duration::seconds(i64::try_from(i).expect("small"));
        last = Some(take(store, &c, complaint(&t), at).await);
    }
    let last = last.expect("orders");
    // Past every contact deadline, before any reply deadline's warning.
    let now = deadline(&last, LimitKind::Contact).due_at.expect("due") + Duration::minutes(1);
    let (a, b) = tokio::join!(sweep_all(store, now), sweep_all(store, now));
    let (a, b) = (a.expect("sweep a"), b.expect("sweep b"));
    assert_eq!(
        a.alerts + b.alerts,
        u32::try_from(count).expect("small"),
        "one overdue alert per order: {a:?} {b:?}"
    );
    assert_eq!(sweep_all(store, now).await.expect("sweep").alerts, 0);
}
