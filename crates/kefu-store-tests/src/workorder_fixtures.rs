//! Fixtures of the work-order story: actors of the fixture tree, intakes, and a helper that
//! applies a command at the order's current version.

use chrono::{DateTime, Utc};
use kefu_domain::auth::{Role, Roles};
use kefu_domain::customer::Phone;
use kefu_domain::ids::{CustomerId, StaffId};
use kefu_domain::org::{DepartmentKind, OrgPath};
use kefu_domain::workorder::{
    ActorCtx, AppealType, Caller, Catalogue, Channel, Command, ContactResult, FaultFinding,
    IdempotencyKey, Intake, IntakeInput, MajorRules, OrderNumber, Priority, ReplyInput,
    Satisfaction, SubCategoryCode,
};
use kefu_store::{IntakeOptions, IntakeOutcome, Store, StoredOrder, WorkOrderStoreError};

use crate::fixtures::Tree;

/// An actor of the story (staff rows are not needed: the timeline keeps only ids).
pub fn actor(id: i64, role: Role, unit: &OrgPath) -> ActorCtx {
    ActorCtx {
        staff: StaffId(id),
        roles: Roles::new(vec![role]).expect("one role"),
        unit: unit.clone(),
        department: None,
    }
}

/// The people of the story: the province's centre and the counties' handlers.
pub struct Cast {
    pub agent: ActorCtx,
    pub dispatcher: ActorCtx,
    pub reviewer: ActorCtx,
    pub supervisor: ActorCtx,
    pub handler_a: ActorCtx,
    pub handler_b: ActorCtx,
}

/// The cast on the fixture tree.
pub fn cast(t: &Tree) -> Cast {
    Cast {
        agent: actor(101, Role::Agent, &t.province.path),
        dispatcher: actor(102, Role::Dispatcher, &t.province.path),
        reviewer: actor(103, Role::Dispatcher, &t.province.path),
        supervisor: actor(104, Role::Supervisor, &t.province.path),
        handler_a: ActorCtx {
            department: Some(DepartmentKind::Operations),
            ..actor(110, Role::Handler, &t.county_a.path)
        },
        handler_b: actor(111, Role::Handler, &t.county_b.path),
    }
}

/// A valid intake of customer `customer` (supplied by `unit`) on `sub_category`.
pub fn intake(
    customer: i64,
    unit: &OrgPath,
    sub_category: &str,
    channel: Channel,
    key: Option<&str>,
) -> Intake {
    let sub = SubCategoryCode::parse(sub_category).expect("fixture sub-category");
    let input = IntakeInput {
        number: OrderNumber::parse("GD20000101000001").expect("placeholder number"),
        channel,
        caller: Caller::Customer {
            id: CustomerId(customer),
            supply_unit: unit.clone(),
            phone: Phone::parse(&format!("1380000{customer:04}")).ok(),
            grid: Some(kefu_domain::customer::Grid::Urban),
            grade: None,
        },
        appeal_type: sub.appeal_type().unwrap_or(AppealType::Complaint),
        sub_category: sub_category.to_owned(),
        content: "小区停电两天无人处理".to_owned(),
        priority: Priority::Normal,
        major_reason: String::new(),
        repeat_of: vec![],
        idempotency_key: key.map(|k| IdempotencyKey::parse(k).expect("fixture key")),
    };
    Intake::validate(input, &Catalogue::defaults(), &MajorRules::defaults())
        .unwrap_or_else(|e| panic!("fixture intake is invalid: {e:?}"))
}

/// An outage complaint of customer 1 in county A.
pub fn complaint(t: &Tree) -> Intake {
    intake(
        1,
        &t.county_a.path,
        "complaint.outage",
        Channel::Phone95598,
        None,
    )
}

/// Takes `intake` as the cast's agent at `now`, expecting a new order.
pub async fn take(store: &dyn Store, c: &Cast, intake: Intake, now: DateTime<Utc>) -> StoredOrder {
    let (order, outcome) = store
        .intake(intake, IntakeOptions::default(), &c.agent, sla(), now)
        .await
        .expect("intake");
    assert_eq!(outcome, IntakeOutcome::Created);
    order
}

/// Applies `cmd` at the order's current version, in the whole tree's scope.
pub async fn step(
    store: &dyn Store,
    t: &Tree,
    number: &OrderNumber,
    cmd: Command,
    by: &ActorCtx,
    now: DateTime<Utc>,
) -> Result<StoredOrder, WorkOrderStoreError> {
    let current = store
        .get_order(number, &t.hq.path)
        .await
        .expect("get")
        .expect("the order exists");
    let version = i64::try_from(current.order.version).expect("small version");
    store
        .apply(number, version, cmd, by, &t.hq.path, sla(), now)
        .await
        .map(|(o, _)| o)
}

/// Like `step`, panicking with the refusal.
pub async fn ok(
    store: &dyn Store,
    t: &Tree,
    number: &OrderNumber,
    cmd: Command,
    by: &ActorCtx,
    now: DateTime<Utc>,
) -> StoredOrder {
    let what = format!("{:?}", cmd.action());
    step(store, t, number, cmd, by, now)
        .await
        .unwrap_or_else(|e| panic!("{what} refused: {e}"))
}

/// Dispatch to county A's operations department (the five-principles suggestion).
pub fn dispatch_a(t: &Tree) -> Command {
    Command::Dispatch {
        unit: t.county_a.path.clone(),
        department: DepartmentKind::Operations,
        override_reason: String::new(),
    }
}

/// A complete reply handled at `at`.
pub fn reply(at: DateTime<Utc>) -> Command {
    Command::Reply(ReplyInput {
        handled_at: Some(at),
        handler: "张伟".into(),
        actions_taken: "抢修班到现场更换跌落式熔断器".into(),
        result_and_feedback: "已恢复供电，客户表示认可".into(),
        fault: Some(FaultFinding::NotAtFault),
        ..ReplyInput::default()
    })
}

/// A reached visit with rating `s`.
pub fn visit(s: Satisfaction) -> Command {
    Command::Visit {
        contact: ContactResult::Reached,
        satisfaction: Some(s),
        comment: "满意".into(),
    }
}

/// The shipped calendar and default limits, built once for the whole story.
pub fn sla() -> &'static kefu_store::TimeRules {
    static RULES: std::sync::OnceLock<kefu_store::TimeRules> = std::sync::OnceLock::new();
    RULES.get_or_init(kefu_store::TimeRules::default)
}
