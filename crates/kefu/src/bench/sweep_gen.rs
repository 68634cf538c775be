//! The open work orders of `kefu bench sweep`, generated deterministically (same seed, same
//! orders) and built the way the store would see them: the domain's `open` and `apply` with the
//! right roles, deadlines from `kefu_domain::sla::schedule` under the default time rules.
//!
//! Mix: about a quarter fault repairs (arrive / restore clocks), the rest ordinary appeals of the
//! default catalogue; states pending dispatch, dispatched, returned, in progress (some contacted,
//! some crews arrived) and suspended or resumed; 2 % repeat an earlier order, half carry an
//! idempotency key. Intakes are spread uniformly over the `SPAN` before the benchmark's instant,
//! so deadlines of every kind fall before, around and after it.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kefu_domain::auth::{Role, Roles};
use kefu_domain::customer::{Grid, Phone};
use kefu_domain::ids::{CustomerId, StaffId};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{
    ActorCtx, AppealType, Caller, Catalogue, Channel, Command, Event, Gravity, IdempotencyKey,
    Intake, IntakeInput, MajorRules, Order, OrderNumber, Priority, ReturnReason, SuspendReason,
    apply, evolve, open, replay,
};
use kefu_store::sla::sla_columns;
use kefu_store::workorder_codec::intake_fingerprint;
use kefu_store::{LoadedOrder, TimeRules, centre_date};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// How far back intakes reach: two calendar weeks, about ten working days.
pub const SPAN: Duration = Duration::days(14);
/// Customers the orders are spread over (ids 1..=CUSTOMERS; no customer rows are needed).
pub const CUSTOMERS: i64 = 100_000;

/// Sentences an agent writes down, completed by the sub-category's name.
const DESCRIPTIONS: &[&str] = &[
    "客户来电反映{}问题，自昨晚起持续至今，要求尽快派人处理并回复处理结果。",
    "客户称{}一事已多次反映未果，请相关部门核实后联系客户。",
    "客户反映{}，家中有老人和小孩，请尽快安排人员到现场查看。",
    "客户表示{}影响正常生产经营，要求说明原因及预计处理时间。",
];

const CHANNELS: &[Channel] = &[
    Channel::Phone95598,
    Channel::Phone95598,
    Channel::Phone95598,
    Channel::Web,
    Channel::App,
];

/// What the generated order goes through after its intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Pending,
    Dispatched,
    Returned,
    Working,
    Suspended,
    Resumed,
}

impl Path {
    fn pick(rng: &mut StdRng) -> Path {
        match rng.random_range(0..100) {
            0..20 => Path::Pending,
            20..40 => Path::Dispatched,
            40..45 => Path::Returned,
            45..88 => Path::Working,
            88..95 => Path::Suspended,
            _ => Path::Resumed,
        }
    }
}

/// A deterministic stream of open orders.
pub struct OrderGenerator {
    rng: StdRng,
    units: Vec<OrgPath>,
    ordinary: Vec<(AppealType, String, String)>,
    faults: Vec<(AppealType, String, String)>,
    catalogue: Catalogue,
    major: MajorRules,
    rules: TimeRules,
    at: DateTime<Utc>,
    seqs: HashMap<NaiveDate, u32>,
    recent: Vec<OrderNumber>,
    agent: ActorCtx,
    dispatcher: ActorCtx,
    handler: Roles,
    made: u64,
    span: Duration,
}

fn actor(id: i64, role: Role, unit: &OrgPath) -> anyhow::Result<ActorCtx> {
    Ok(ActorCtx {
        staff: StaffId(id),
        roles: Roles::new(vec![role]).map_err(|e| anyhow::anyhow!("{e}"))?,
        unit: unit.clone(),
        department: None,
    })
}

impl OrderGenerator {
    /// Orders of customers supplied by `units`, taken by staff of `province`, opened during the
    /// `SPAN` before `at`.
    pub fn new(
        seed: u64,
        province: &OrgPath,
        units: Vec<OrgPath>,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(!units.is_empty(), "no supply units to generate orders for");
        let catalogue = Catalogue::defaults();
        let subs: Vec<(AppealType, String, String)> = catalogue
            .entries()
            .iter()
            .filter(|s| s.gravity == Gravity::Ordinary)
            .map(|s| (s.appeal_type, s.code.as_str().to_owned(), s.name_zh.clone()))
            .collect();
        let (faults, ordinary): (Vec<_>, Vec<_>) = subs
            .into_iter()
            .partition(|s| s.0 == AppealType::FaultRepair);
        anyhow::ensure!(
            !faults.is_empty() && !ordinary.is_empty(),
            "the default catalogue lacks fault-repair or ordinary sub-categories"
        );
        Ok(Self {
            rng: StdRng::seed_from_u64(seed),
            units,
            ordinary,
            faults,
            catalogue,
            major: MajorRules::defaults(),
            rules: TimeRules::default(),
            at,
            seqs: HashMap::new(),
            recent: Vec::new(),
            agent: actor(1, Role::Agent, province)?,
            dispatcher: actor(2, Role::Dispatcher, province)?,
            handler: Roles::new(vec![Role::Handler]).map_err(|e| anyhow::anyhow!("{e}"))?,
            made: 0,
            span: SPAN,
        })
    }

    /// The same stream with intakes spread over `span` before the instant instead of `SPAN`
    /// (a day holds at most 999 999 order numbers: large runs need more days).
    pub fn with_span(mut self, span: Duration) -> Self {
        self.span = span.max(Duration::minutes(2));
        self
    }

    /// The next `n` orders.
    pub fn batch(&mut self, n: usize) -> anyhow::Result<Vec<LoadedOrder>> {
        (0..n).map(|_| self.next_order()).collect()
    }

    fn intake(&mut self, opened: DateTime<Utc>) -> anyhow::Result<Intake> {
        let customer = self.rng.random_range(1..=CUSTOMERS);
        // A customer always lives in the same unit and grid.
        let unit = usize::try_from(customer).unwrap_or(0) % self.units.len();
        let grid = if customer % 3 == 0 {
            Grid::Rural
        } else {
            Grid::Urban
        };
        let pool = if self.rng.random_bool(0.25) {
            &self.faults
        } else {
            &self.ordinary
        };
        let (appeal_type, code, name) = pool
            .choose(&mut self.rng)
            .cloned()
            .context("no sub-categories to choose from")?;
        let text = DESCRIPTIONS.choose(&mut self.rng).copied().unwrap_or("{}");
        let day = centre_date(opened);
        let seq = self.seqs.entry(day).or_insert(0);
        *seq += 1;
        let number = OrderNumber::new(day, *seq).map_err(|e| anyhow::anyhow!("{e}"))?;
        let repeat_of = match self.recent.choose(&mut self.rng) {
            Some(earlier) if self.rng.random_bool(0.02) => vec![*earlier],
            _ => Vec::new(),
        };
        let key = self
            .rng
            .random_bool(0.5)
            .then(|| IdempotencyKey::parse(&format!("bench-sweep-{}", self.made)))
            .transpose()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let input = IntakeInput {
            number,
            channel: CHANNELS
                .choose(&mut self.rng)
                .copied()
                .unwrap_or(Channel::Phone95598),
            caller: Caller::Customer {
                id: CustomerId(customer),
                supply_unit: self.units[unit].clone(),
                phone: Phone::parse(&format!("139{customer:08}")).ok(),
                grid: Some(grid),
                grade: None,
            },
            appeal_type,
            sub_category: code,
            content: text.replace("{}", &name),
            priority: Priority::Normal,
            major_reason: String::new(),
            repeat_of,
            idempotency_key: key,
        };
        Intake::validate(input, &self.catalogue, &self.major)
            .map_err(|e| anyhow::anyhow!("generated intake is invalid: {e:?}"))
    }

    fn next_order(&mut self) -> anyhow::Result<LoadedOrder> {
        let span = self.span.num_seconds();
        let opened = self.at - Duration::seconds(self.rng.random_range(60..span));
        let intake = self.intake(opened)?;
        let fingerprint = intake
            .idempotency_key
            .is_some()
            .then(|| intake_fingerprint(&intake));
        let first = open(intake, &self.agent, opened).context("generated intake refused")?;
        let order = replay(std::slice::from_ref(&first)).context("generated intake replay")?;
        let mut run = Run {
            order,
            events: vec![first],
            now: opened,
            // Later steps share out the time left before the benchmark's instant.
            step: (self.at - opened) / 8,
        };
        let fault = run.order.appeal_type == AppealType::FaultRepair;
        let path = Path::pick(&mut self.rng);
        if path != Path::Pending {
            let target = run.order.suggestion();
            let handler = ActorCtx {
                staff: StaffId(1000),
                roles: self.handler.clone(),
                unit: target.unit.clone(),
                department: None,
            };
            let dispatch = Command::Dispatch {
                unit: target.unit,
                department: target.department,
                override_reason: String::new(),
            };
            run.step(dispatch, &self.dispatcher)?;
            match path {
                Path::Pending | Path::Dispatched => {}
                Path::Returned => run.step(
                    Command::Return {
                        reason: ReturnReason::WrongAddress,
                        text: String::new(),
                    },
                    &handler,
                )?,
                Path::Working | Path::Suspended | Path::Resumed => {
                    run.step(Command::Accept, &handler)?;
                    if self.rng.random_bool(0.4) {
                        let note = String::new();
                        run.step(Command::Contact { note }, &handler)?;
                    }
                    if fault && self.rng.random_bool(0.5) {
                        let note = String::new();
                        run.step(Command::Arrive { note }, &handler)?;
                    }
                    if path != Path::Working {
                        let reason = SuspendReason::CustomerUnreachable;
                        let text = String::new();
                        run.step(Command::Suspend { reason, text }, &handler)?;
                    }
                    if path == Path::Resumed {
                        let note = String::new();
                        run.step(Command::Resume { note }, &handler)?;
                    }
                }
            }
        }
        let (sla, _) = sla_columns(&run.order, &[], &self.rules)
            .with_context(|| format!("deadlines of {}", run.order.number))?;
        if self.recent.len() < 1_000 {
            self.recent.push(run.order.number);
        } else {
            let slot = self.rng.random_range(0..self.recent.len());
            self.recent[slot] = run.order.number;
        }
        self.made += 1;
        Ok(LoadedOrder {
            order: run.order,
            events: run.events,
            sla,
            fingerprint,
        })
    }
}

/// An order being moved through the machine, one step after another.
struct Run {
    order: Order,
    events: Vec<Event>,
    now: DateTime<Utc>,
    step: Duration,
}

impl Run {
    fn step(&mut self, cmd: Command, by: &ActorCtx) -> anyhow::Result<()> {
        self.now += self.step;
        let what = format!("{:?}", cmd.action());
        let events = apply(&self.order, cmd, by, self.now)
            .with_context(|| format!("{what} on generated order {}", self.order.number))?;
        for e in events {
            self.order = evolve(&self.order, &e);
            self.events.push(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::ids::OrgUnitId;
    use kefu_domain::workorder::State;

    fn units() -> (OrgPath, Vec<OrgPath>) {
        let province = OrgPath::root(OrgUnitId(1)).child(OrgUnitId(2));
        let counties = (3..6).map(|i| province.child(OrgUnitId(i))).collect();
        (province, counties)
    }

    #[test]
    fn the_same_seed_gives_the_same_open_orders_in_every_state() {
        let (province, counties) = units();
        let at = DateTime::from_timestamp(1_773_799_200, 0).unwrap_or_default();
        let mut a = OrderGenerator::new(7, &province, counties.clone(), at).expect("gen");
        let mut b = OrderGenerator::new(7, &province, counties, at).expect("gen");
        let xs = a.batch(400).expect("batch");
        assert_eq!(xs, b.batch(400).expect("batch"));
        for s in [
            State::PendingDispatch,
            State::Dispatched,
            State::Returned,
            State::InProgress,
        ] {
            assert!(xs.iter().any(|o| o.order.state == s), "no order in {s:?}");
        }
        assert!(xs.iter().any(|o| o.order.is_suspended()));
        assert!(xs.iter().any(|o| !o.order.repeat_of.is_empty()));
        for o in &xs {
            assert_eq!(replay(&o.events).as_ref(), Ok(&o.order));
            assert!(o.events.iter().all(|e| e.at < at));
        }
        // Some appeal types have no time limit in the default table; most orders have one.
        let timed = xs.iter().filter(|o| !o.sla.is_empty()).count();
        assert!(
            timed * 10 > xs.len() * 8,
            "only {timed} of {} are timed",
            xs.len()
        );
    }
}
