//! The lifecycle paths of issue 4 at domain level, and the property that any command sequence
//! stays inside the machine and replays to the same order.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::*;
use crate::FieldError;
use crate::auth::{Role, Roles};
use crate::customer::Phone;
use crate::ids::{CustomerId, OrgUnitId, StaffId};
use crate::org::{DepartmentKind, OrgPath};

mod lifecycle;
mod property;
mod sla;

/// HQ 1 → province 2 → city 3 → counties 4 and 5; city 6 is a sibling of city 3.
fn unit(ids: &[i64]) -> OrgPath {
    let mut path = OrgPath::root(OrgUnitId(1));
    for id in ids {
        path = path.child(OrgUnitId(*id));
    }
    path
}

fn province() -> OrgPath {
    unit(&[2])
}
fn county_a() -> OrgPath {
    unit(&[2, 3, 4])
}
fn county_b() -> OrgPath {
    unit(&[2, 3, 5])
}
fn other_city() -> OrgPath {
    unit(&[2, 6])
}

fn actor(id: i64, roles: &[Role], at: OrgPath, department: Option<DepartmentKind>) -> ActorCtx {
    ActorCtx {
        staff: StaffId(id),
        roles: Roles::new(roles.to_vec()).unwrap_or_else(|e| panic!("{e}")),
        unit: at,
        department,
    }
}

fn agent() -> ActorCtx {
    actor(
        1,
        &[Role::Agent],
        province(),
        Some(DepartmentKind::VoiceService),
    )
}
fn dispatcher() -> ActorCtx {
    actor(
        2,
        &[Role::Dispatcher],
        province(),
        Some(DepartmentKind::VoiceService),
    )
}
fn reviewer() -> ActorCtx {
    actor(
        3,
        &[Role::Dispatcher],
        province(),
        Some(DepartmentKind::VoiceService),
    )
}
/// A handler of county A's operations department (the outage complaint's department).
fn handler_a() -> ActorCtx {
    actor(
        10,
        &[Role::Handler],
        county_a(),
        Some(DepartmentKind::Operations),
    )
}
fn marketing_a() -> ActorCtx {
    actor(
        11,
        &[Role::Handler],
        county_a(),
        Some(DepartmentKind::Marketing),
    )
}
fn handler_b() -> ActorCtx {
    actor(
        12,
        &[Role::Handler],
        county_b(),
        Some(DepartmentKind::Operations),
    )
}
fn supervisor() -> ActorCtx {
    actor(20, &[Role::Supervisor], province(), None)
}
fn other_supervisor() -> ActorCtx {
    actor(21, &[Role::Supervisor], other_city(), None)
}
fn admin() -> ActorCtx {
    actor(30, &[Role::Admin], unit(&[]), None)
}
/// The self-service portal's system account (at the top of the tree).
fn portal() -> ActorCtx {
    actor(40, &[Role::SelfService], unit(&[]), None)
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default()
}

fn number(seq: u32) -> OrderNumber {
    let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    OrderNumber::new(day, seq).unwrap_or_else(|e| panic!("{e}"))
}

fn customer_caller() -> Caller {
    Caller::Customer {
        id: CustomerId(77),
        supply_unit: county_a(),
        phone: Phone::parse("13800138000").ok(),
        grid: Some(crate::customer::Grid::Urban),
        grade: None,
    }
}

fn intake_input(sub_category: &str, content: &str) -> IntakeInput {
    IntakeInput {
        number: number(1),
        channel: Channel::Phone95598,
        caller: customer_caller(),
        appeal_type: SubCategoryCode::parse(sub_category)
            .ok()
            .and_then(|c| c.appeal_type())
            .unwrap_or(AppealType::Complaint),
        sub_category: sub_category.into(),
        content: content.into(),
        priority: Priority::Normal,
        major_reason: String::new(),
        repeat_of: vec![],
        idempotency_key: IdempotencyKey::parse("call-0001").ok(),
    }
}

fn intake(sub_category: &str, content: &str) -> Intake {
    Intake::validate(
        intake_input(sub_category, content),
        &Catalogue::defaults(),
        &MajorRules::defaults(),
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
}

/// An order and its timeline, advanced one command at a time as the store would.
struct Run {
    order: Order,
    timeline: Vec<Event>,
    now: DateTime<Utc>,
}

impl Run {
    fn open(intake: Intake) -> Run {
        Run::open_at(intake, t0())
    }

    fn open_at(intake: Intake, at: DateTime<Utc>) -> Run {
        let e = open(intake, &agent(), at).unwrap_or_else(|e| panic!("{e}"));
        let order = replay(std::slice::from_ref(&e)).unwrap_or_else(|e| panic!("{e}"));
        Run {
            order,
            timeline: vec![e],
            now: at,
        }
    }

    fn complaint() -> Run {
        Run::open(intake("complaint.outage", "小区停电两天无人处理"))
    }

    fn go(&mut self, cmd: Command, by: &ActorCtx) -> Result<(), WorkOrderError> {
        self.now += Duration::minutes(30);
        let events = apply(&self.order, cmd, by, self.now)?;
        for e in events {
            self.order = evolve(&self.order, &e);
            self.timeline.push(e);
        }
        Ok(())
    }

    fn ok(&mut self, cmd: Command, by: &ActorCtx) {
        let what = format!("{:?} by {:?}", cmd.action(), by.staff);
        self.go(cmd, by)
            .unwrap_or_else(|e| panic!("{what} refused: {e}"));
    }

    fn err(&mut self, cmd: Command, by: &ActorCtx) -> WorkOrderError {
        let before = self.order.clone();
        let e = self.go(cmd, by).err();
        assert_eq!(
            self.order, before,
            "a refused command must not change the order"
        );
        e.unwrap_or_else(|| panic!("expected a refusal"))
    }
}

fn dispatch_to(unit: OrgPath, department: DepartmentKind, reason: &str) -> Command {
    Command::Dispatch {
        unit,
        department,
        override_reason: reason.into(),
    }
}

fn dispatch_suggested() -> Command {
    dispatch_to(county_a(), DepartmentKind::Operations, "")
}

fn reply_input(now: DateTime<Utc>) -> ReplyInput {
    ReplyInput {
        handled_at: Some(now),
        handler: "张伟".into(),
        actions_taken: "抢修班到现场更换跌落式熔断器".into(),
        result_and_feedback: "已恢复供电，客户表示认可".into(),
        fault: Some(FaultFinding::NotAtFault),
        ..ReplyInput::default()
    }
}

fn visit(s: Satisfaction) -> Command {
    Command::Visit {
        contact: ContactResult::Reached,
        satisfaction: Some(s),
        comment: String::new(),
    }
}

fn field_names(e: &WorkOrderError) -> Vec<String> {
    match e {
        WorkOrderError::Invalid(fields) => fields
            .iter()
            .map(|f: &FieldError| f.field.clone())
            .collect(),
        other => panic!("expected invalid input, got {other:?}"),
    }
}
