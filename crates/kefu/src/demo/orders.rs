//! The demo province's work orders (issue 6): two years of appeals, deterministic (same seed,
//! callers and instant → same orders), each built through the domain's `open` and `apply` with
//! the roles the rules require, so every state and timeline is one the rules allow and replays
//! to its order. Loaded with `load_orders`.
//!
//! - **When**: days over the 24 months before `now`, busier on weekdays, in the summer heat
//!   (July–August, air conditioners: more outages) and in a typhoon week in the last September
//!   of the window, when fault repairs dominate; within a day, mostly 08:00–22:00.
//! - **What**: fault repairs ~40 %, consultations ~30 %, then service requests, opinions,
//!   complaints and the rest, each on a sub-category of the default catalogue; a few per cent
//!   repeat an earlier appeal of the same caller on the same sub-category within 30 days; about
//!   8 % come from callers outside the archive.
//! - **How far**: each step (dispatch, accept, contact, arrival for faults, reply, review,
//!   visit, archive) follows the previous after a realistic delay; steps that would fall after
//!   `now` are not taken, so old orders are archived and the last days' orders are open in
//!   every state. A few are returned once, sent back once, rated badly or visited twice.

use std::collections::{HashMap, VecDeque};

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use kefu_domain::auth::{Role, Roles};
use kefu_domain::customer::{CustomerName, Grid, Phone, ServiceGrade};
use kefu_domain::ids::{CustomerId, StaffId};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{
    ActorCtx, AppealType, Caller, Catalogue, Channel, Command, ContactResult, Event, FaultFinding,
    Gravity, Intake, IntakeInput, MajorRules, Order, OrderNumber, Priority, ReplyInput,
    ReturnReason, ReviewDecision, Satisfaction, SubCategoryCode, apply, evolve, open, replay,
};
use kefu_store::sla::sla_columns;
use kefu_store::{LoadedOrder, TimeRules, centre_date};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::names;

/// How far back orders reach.
pub const MONTHS: i64 = 24;
/// Staff ids the generated timelines name: the province's agent, dispatcher and reviewer
/// (the first demo logins); handlers are numbered from `HANDLER_BASE` per unit.
pub const AGENT: StaffId = StaffId(1);
pub const DISPATCHER: StaffId = StaffId(2);
pub const REVIEWER: StaffId = StaffId(3);
const HANDLER_BASE: i64 = 1_000;
/// Recent orders a repeat may refer to.
const RECENT: usize = 2_000;

/// A customer who may call: what an intake needs of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCaller {
    pub id: CustomerId,
    pub supply_unit: OrgPath,
    pub phone: Option<Phone>,
    pub grid: Grid,
    pub grade: Option<ServiceGrade>,
}

/// Weight of each appeal type in an ordinary week (per mille).
fn type_weight(t: AppealType, typhoon: bool, summer: bool) -> u32 {
    match t {
        AppealType::FaultRepair if typhoon => 3_000,
        AppealType::FaultRepair if summer => 600,
        AppealType::FaultRepair => 400,
        AppealType::Consultation => 300,
        AppealType::ServiceRequest => 90,
        AppealType::Opinion => 60,
        AppealType::Complaint => 50,
        AppealType::Suggestion => 30,
        AppealType::Praise => 30,
        AppealType::Report => 20,
        AppealType::Compensation => 20,
    }
}

const CHANNELS: &[(Channel, u32)] = &[
    (Channel::Phone95598, 70),
    (Channel::App, 15),
    (Channel::Web, 8),
    (Channel::Counter, 3),
    (Channel::CustomerManager, 2),
    (Channel::Weibo, 1),
    (Channel::Sms, 1),
];

const TEXTS: &[&str] = &[
    "客户来电反映{}，请尽快核实处理并回复客户。",
    "客户称{}，已多次反映，要求给出明确答复。",
    "客户反映{}，家中有老人，请尽快安排人员联系。",
    "客户表示{}，影响正常生产经营，要求说明原因。",
];

/// The deterministic order stream.
pub struct DemoOrderGenerator {
    rng: StdRng,
    callers: Vec<DemoCaller>,
    units: Vec<OrgPath>,
    subs: HashMap<AppealType, Vec<(SubCategoryCode, String)>>,
    catalogue: Catalogue,
    major: MajorRules,
    rules: TimeRules,
    now: DateTime<Utc>,
    /// Orders per day, oldest day first; consumed as orders are made.
    days: VecDeque<(NaiveDate, u32)>,
    /// Sorted seconds-of-day still to be used on the current day.
    today: VecDeque<u32>,
    day: Option<NaiveDate>,
    seq: u32,
    typhoon: (NaiveDate, NaiveDate),
    recent: VecDeque<(
        OrderNumber,
        usize,
        SubCategoryCode,
        AppealType,
        DateTime<Utc>,
    )>,
    agent: ActorCtx,
    dispatcher: ActorCtx,
    reviewer: ActorCtx,
    handler: Roles,
    supervisor: ActorCtx,
}

fn actor(id: StaffId, role: Role, unit: &OrgPath) -> anyhow::Result<ActorCtx> {
    Ok(ActorCtx {
        staff: id,
        roles: Roles::new(vec![role]).map_err(|e| anyhow::anyhow!("{e}"))?,
        unit: unit.clone(),
        department: None,
    })
}

/// The typhoon week: the second week of September of the last year whose September lies
/// inside the window.
fn typhoon_week(now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let today = now.date_naive();
    let year = if today.month() >= 10 {
        today.year()
    } else {
        today.year() - 1
    };
    let start = NaiveDate::from_ymd_opt(year, 9, 8).unwrap_or(today);
    (start, start + Duration::days(6))
}

fn is_summer(d: NaiveDate) -> bool {
    matches!(d.month(), 7 | 8)
}

/// Relative busyness of a day.
fn day_weight(d: NaiveDate, typhoon: (NaiveDate, NaiveDate)) -> f64 {
    let mut w = match d.weekday() {
        Weekday::Sat | Weekday::Sun => 0.8,
        _ => 1.0,
    };
    if is_summer(d) {
        w *= 1.5;
    }
    if d >= typhoon.0 && d <= typhoon.1 {
        w *= 3.5;
    }
    w
}

/// `total` spread over the days by weight, exactly (largest remainders).
fn per_day(days: &[NaiveDate], total: usize, typhoon: (NaiveDate, NaiveDate)) -> Vec<u32> {
    let weights: Vec<f64> = days.iter().map(|d| day_weight(*d, typhoon)).collect();
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| w / sum.max(f64::MIN_POSITIVE) * total as f64)
        .collect();
    let mut counts: Vec<u32> = exact.iter().map(|x| x.floor() as u32).collect();
    let given: usize = counts.iter().map(|c| *c as usize).sum();
    let mut order: Vec<usize> = (0..days.len()).collect();
    order.sort_by(|a, b| {
        let fa = exact[*a] - exact[*a].floor();
        let fb = exact[*b] - exact[*b].floor();
        fb.total_cmp(&fa).then(a.cmp(b))
    });
    for i in order.into_iter().take(total.saturating_sub(given)) {
        counts[i] += 1;
    }
    counts
}

impl DemoOrderGenerator {
    /// `total` orders of `callers` (and of unidentified callers in `units`), taken by the staff
    /// of `province`, over the `MONTHS` before `now`.
    pub fn new(
        seed: u64,
        total: usize,
        province: &OrgPath,
        callers: Vec<DemoCaller>,
        units: Vec<OrgPath>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(!callers.is_empty(), "no customers to generate orders for");
        anyhow::ensure!(!units.is_empty(), "no units to generate orders for");
        let catalogue = Catalogue::defaults();
        let mut subs: HashMap<AppealType, Vec<(SubCategoryCode, String)>> = HashMap::new();
        for s in catalogue.entries() {
            if s.gravity == Gravity::Ordinary {
                subs.entry(s.appeal_type)
                    .or_default()
                    .push((s.code.clone(), s.name_zh.clone()));
            }
        }
        let typhoon = typhoon_week(now);
        let first = (now - Duration::days(MONTHS * 365 / 12)).date_naive();
        // The day of the last second before now (now itself may be a midnight).
        let last = centre_date(now - Duration::seconds(1));
        let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
        let counts = per_day(&days, total, typhoon);
        Ok(Self {
            rng: StdRng::seed_from_u64(seed),
            callers,
            units,
            subs,
            catalogue,
            major: MajorRules::defaults(),
            rules: TimeRules::default(),
            now,
            days: days.into_iter().zip(counts).collect(),
            today: VecDeque::new(),
            day: None,
            seq: 0,
            typhoon,
            recent: VecDeque::new(),
            agent: actor(AGENT, Role::Agent, province)?,
            dispatcher: actor(DISPATCHER, Role::Dispatcher, province)?,
            reviewer: actor(REVIEWER, Role::Dispatcher, province)?,
            handler: Roles::new(vec![Role::Handler]).map_err(|e| anyhow::anyhow!("{e}"))?,
            supervisor: actor(StaffId(4), Role::Supervisor, province)?,
        })
    }

    /// The next up to `n` orders, oldest first; empty when all are made.
    pub fn batch(&mut self, n: usize) -> anyhow::Result<Vec<LoadedOrder>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.next_order()? {
                Some(o) => out.push(o),
                None => break,
            }
        }
        Ok(out)
    }

    /// A second of the day: mostly daytime and evening.
    fn second_of_day(&mut self) -> u32 {
        let hour = if self.rng.random_bool(0.9) {
            self.rng.random_range(8..22)
        } else {
            self.rng.random_range(0..24)
        };
        hour * 3600 + self.rng.random_range(0..3600)
    }

    /// The next intake instant, or None when every day is used.
    fn next_instant(&mut self) -> Option<DateTime<Utc>> {
        loop {
            if let (Some(day), Some(sec)) = (self.day, self.today.pop_front()) {
                // Seconds are centre time (UTC+8).
                let local = day.and_hms_opt(0, 0, 0)? + Duration::seconds(i64::from(sec));
                let at = local.and_utc() - Duration::hours(8);
                if at >= self.now {
                    continue;
                }
                return Some(at);
            }
            let (day, count) = self.days.pop_front()?;
            // Today's orders fall before now (centre time).
            let local_now = self.now + Duration::hours(8);
            let limit = if local_now.date_naive() == day {
                local_now.num_seconds_from_midnight().max(1)
            } else {
                86_400
            };
            let mut secs: Vec<u32> = (0..count)
                .map(|_| {
                    let s = self.second_of_day();
                    if s < limit {
                        s
                    } else {
                        self.rng.random_range(0..limit)
                    }
                })
                .collect();
            secs.sort_unstable();
            self.today = secs.into();
            self.day = Some(day);
            self.seq = 0;
        }
    }

    fn pick_type(&mut self, day: NaiveDate) -> AppealType {
        let typhoon = day >= self.typhoon.0 && day <= self.typhoon.1;
        let summer = is_summer(day);
        let weights: Vec<(AppealType, u32)> = AppealType::ALL
            .iter()
            .filter(|t| self.subs.contains_key(t))
            .map(|t| (*t, type_weight(*t, typhoon, summer)))
            .collect();
        let total: u32 = weights.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.random_range(0..total.max(1));
        for (t, w) in &weights {
            if pick < *w {
                return *t;
            }
            pick -= w;
        }
        AppealType::Consultation
    }

    fn channel(&mut self) -> Channel {
        let total: u32 = CHANNELS.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.random_range(0..total);
        for (c, w) in CHANNELS {
            if pick < *w {
                return *c;
            }
            pick -= w;
        }
        Channel::Phone95598
    }

    fn intake(&mut self, opened: DateTime<Utc>) -> anyhow::Result<(Intake, Option<usize>)> {
        let day = centre_date(opened);
        self.seq += 1;
        let number = OrderNumber::new(day, self.seq).map_err(|e| anyhow::anyhow!("{e}"))?;
        // A repeat: the same caller on the same sub-category, within 30 days.
        let earlier = self
            .recent
            .iter()
            .rev()
            .filter(|r| opened - r.4 <= Duration::days(30))
            .nth(self.rng.random_range(0..50));
        let repeat = match earlier {
            Some(r) if self.rng.random_bool(0.03) => Some(r.clone()),
            _ => None,
        };
        let (caller_index, appeal_type, code, name, repeat_of) = match repeat {
            Some((n, caller, code, t, _)) => {
                let name = self
                    .subs
                    .get(&t)
                    .and_then(|s| s.iter().find(|(c, _)| *c == code))
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                (Some(caller), t, code, name, vec![n])
            }
            None => {
                let t = self.pick_type(day);
                let (code, name) = self
                    .subs
                    .get(&t)
                    .and_then(|s| s.choose(&mut self.rng))
                    .cloned()
                    .context("no sub-category for the appeal type")?;
                let caller = (!self.rng.random_bool(0.08))
                    .then(|| self.rng.random_range(0..self.callers.len()));
                (caller, t, code, name, Vec::new())
            }
        };
        let caller = match caller_index.and_then(|i| self.callers.get(i)) {
            Some(c) => Caller::Customer {
                id: c.id,
                supply_unit: c.supply_unit.clone(),
                phone: c.phone.clone(),
                grid: Some(c.grid),
                grade: c.grade,
            },
            None => {
                let unit = self
                    .units
                    .choose(&mut self.rng)
                    .cloned()
                    .context("no units")?;
                let male = self.rng.random_bool(0.5);
                let person = names::person_name(&mut self.rng, male);
                Caller::Unidentified {
                    phone: Phone::parse(&format!(
                        "13{}{:08}",
                        self.rng.random_range(0..10),
                        self.rng.random_range(0..100_000_000u32)
                    ))
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                    name: CustomerName::parse(&person).map_err(|e| anyhow::anyhow!("{e}"))?,
                    address: format!("{}号附近", self.rng.random_range(1..300)),
                    address_unit: unit,
                }
            }
        };
        let text = TEXTS.choose(&mut self.rng).copied().unwrap_or("{}");
        let input = IntakeInput {
            number,
            channel: self.channel(),
            caller,
            appeal_type,
            sub_category: code.as_str().to_owned(),
            content: text.replace("{}", &name),
            priority: if self.rng.random_bool(0.05) {
                Priority::Urgent
            } else {
                Priority::Normal
            },
            major_reason: String::new(),
            repeat_of,
            idempotency_key: None,
        };
        let intake = Intake::validate(input, &self.catalogue, &self.major)
            .map_err(|e| anyhow::anyhow!("generated intake is invalid: {e:?}"))?;
        Ok((intake, caller_index))
    }

    fn minutes(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::minutes(self.rng.random_range(lo..=hi))
    }

    fn next_order(&mut self) -> anyhow::Result<Option<LoadedOrder>> {
        let Some(opened) = self.next_instant() else {
            return Ok(None);
        };
        let (intake, caller) = self.intake(opened)?;
        let first = open(intake, &self.agent, opened).context("generated intake refused")?;
        let order = replay(std::slice::from_ref(&first)).context("generated intake replay")?;
        let mut run = Run {
            order,
            events: vec![first],
            at: opened,
            limit: self.now,
        };
        self.lifecycle(&mut run)?;
        let (sla, _) = sla_columns(&run.order, &[], &self.rules)
            .with_context(|| format!("deadlines of {}", run.order.number))?;
        if let Some(caller) = caller {
            self.recent.push_back((
                run.order.number,
                caller,
                run.order.sub_category.clone(),
                run.order.appeal_type,
                opened,
            ));
            if self.recent.len() > RECENT {
                self.recent.pop_front();
            }
        }
        Ok(Some(LoadedOrder {
            order: run.order,
            events: run.events,
            sla,
            fingerprint: None,
        }))
    }

    /// Moves the order along as far as time allows.
    fn lifecycle(&mut self, run: &mut Run) -> anyhow::Result<()> {
        let fault = run.order.appeal_type == AppealType::FaultRepair;
        let wait = self.minutes(5, 60);
        let target = run.order.suggestion();
        let dispatch = |unit: OrgPath| Command::Dispatch {
            unit,
            department: target.department,
            override_reason: String::new(),
        };
        if !run.step(wait, dispatch(target.unit.clone()), &self.dispatcher)? {
            return Ok(());
        }
        let unit_no = self
            .units
            .iter()
            .position(|u| *u == target.unit)
            .unwrap_or(0);
        let handler = ActorCtx {
            staff: StaffId(HANDLER_BASE + i64::try_from(unit_no).unwrap_or(0)),
            roles: self.handler.clone(),
            unit: target.unit.clone(),
            department: None,
        };
        if self.rng.random_bool(0.03) {
            let wait = self.minutes(10, 120);
            let ret = Command::Return {
                reason: ReturnReason::WrongAddress,
                text: "地址核实不属本单位".into(),
            };
            if !run.step(wait, ret, &handler)? {
                return Ok(());
            }
            let wait = self.minutes(10, 90);
            if !run.step(wait, dispatch(target.unit.clone()), &self.dispatcher)? {
                return Ok(());
            }
        }
        let wait = self.minutes(5, 60);
        if !run.step(wait, Command::Accept, &handler)? {
            return Ok(());
        }
        if self.rng.random_bool(0.7) {
            let wait = self.minutes(10, 90);
            let contact = Command::Contact {
                note: "已电话联系客户".into(),
            };
            if !run.step(wait, contact, &handler)? {
                return Ok(());
            }
        }
        if fault {
            let wait = self.minutes(15, 80);
            let arrive = Command::Arrive {
                note: "抢修人员到达现场".into(),
            };
            if !run.step(wait, arrive, &handler)? {
                return Ok(());
            }
        }
        if self.rng.random_bool(0.02) {
            let wait = self.minutes(60, 600);
            let supervise = Command::Supervise {
                reason: "处理进度缓慢".into(),
            };
            if !run.step(wait, supervise, &self.supervisor)? {
                return Ok(());
            }
        }
        let needs_fault = run.order.appeal_type.needs_fault_finding();
        let compensation = run.order.appeal_type == AppealType::Compensation;
        let mut rounds = if self.rng.random_bool(0.04) { 2 } else { 1 };
        loop {
            let wait = if fault {
                self.minutes(45, 240)
            } else {
                self.minutes(240, 3 * 24 * 60)
            };
            let handled = run.at + wait;
            let reply = ReplyInput {
                handled_at: Some(handled),
                handler: "张伟".into(),
                actions_taken: if fault {
                    "抢修班到现场处理，更换故障设备".into()
                } else {
                    "核实情况后电话答复客户".into()
                },
                result_and_feedback: "已处理完毕，客户表示认可".into(),
                fault: needs_fault.then_some(FaultFinding::NotAtFault),
                compensation_amount_fen: compensation.then_some(20_000),
                compensation_cause: if compensation {
                    "电压异常损坏家电".into()
                } else {
                    String::new()
                },
                ..ReplyInput::default()
            };
            if !run.step(wait, Command::Reply(reply), &handler)? {
                return Ok(());
            }
            rounds -= 1;
            let wait = self.minutes(30, 480);
            let decision = if rounds > 0 {
                ReviewDecision::SendBack {
                    reason: "答复内容不完整，请补充处理措施".into(),
                }
            } else {
                ReviewDecision::Approve
            };
            if !run.step(wait, Command::Review(decision), &self.reviewer)? {
                return Ok(());
            }
            if rounds == 0 {
                break;
            }
        }
        if self.rng.random_bool(0.08) {
            let wait = self.minutes(60, 24 * 60);
            let missed = Command::Visit {
                contact: ContactResult::NoAnswer,
                satisfaction: None,
                comment: String::new(),
            };
            if !run.step(wait, missed, &self.agent)? {
                return Ok(());
            }
        }
        let satisfaction = match self.rng.random_range(0..100) {
            0..70 => Satisfaction::VerySatisfied,
            70..90 => Satisfaction::Satisfied,
            90..96 => Satisfaction::Neutral,
            96..99 => Satisfaction::Dissatisfied,
            _ => Satisfaction::VeryDissatisfied,
        };
        let wait = self.minutes(60, 2 * 24 * 60);
        let visit = Command::Visit {
            contact: ContactResult::Reached,
            satisfaction: Some(satisfaction),
            comment: String::new(),
        };
        if !run.step(wait, visit, &self.agent)? {
            return Ok(());
        }
        let wait = self.minutes(5, 120);
        run.step(wait, Command::Archive, &self.agent)?;
        Ok(())
    }
}

/// An order being moved through the machine until `limit`.
struct Run {
    order: Order,
    events: Vec<Event>,
    at: DateTime<Utc>,
    limit: DateTime<Utc>,
}

impl Run {
    /// Applies `cmd` after `wait`; false (nothing applied) when that would be after `limit`.
    fn step(&mut self, wait: Duration, cmd: Command, by: &ActorCtx) -> anyhow::Result<bool> {
        let at = self.at + wait;
        if at >= self.limit {
            return Ok(false);
        }
        let what = format!("{:?}", cmd.action());
        let events = apply(&self.order, cmd, by, at)
            .with_context(|| format!("{what} on generated order {}", self.order.number))?;
        self.at = at;
        for e in events {
            self.order = evolve(&self.order, &e);
            self.events.push(e);
        }
        Ok(true)
    }
}

/// Whole hours of the day in the centre's time, for the tests' distribution checks.
pub fn centre_hour(at: DateTime<Utc>) -> u32 {
    (at + Duration::hours(8)).hour()
}

#[cfg(test)]
#[path = "orders_tests.rs"]
mod tests;
