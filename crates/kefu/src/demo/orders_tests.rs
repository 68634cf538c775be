//! Tests of the demo order generator: determinism, replay, mix and peaks.
use kefu_domain::ids::OrgUnitId;
use kefu_domain::workorder::State;

use super::*;

fn setup() -> (OrgPath, Vec<OrgPath>, Vec<DemoCaller>) {
    let province = OrgPath::root(OrgUnitId(1)).child(OrgUnitId(2));
    let units: Vec<OrgPath> = (3..8).map(|i| province.child(OrgUnitId(i))).collect();
    let callers = (1..=500)
        .map(|i| DemoCaller {
            id: CustomerId(i),
            supply_unit: units[usize::try_from(i).unwrap_or(0) % units.len()].clone(),
            phone: Phone::parse(&format!("139{i:08}")).ok(),
            grid: if i % 3 == 0 { Grid::Rural } else { Grid::Urban },
            grade: None,
        })
        .collect();
    (province, units, callers)
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_400_000, 0).unwrap_or_default() // 2026-12-05
}

fn generate(seed: u64, n: usize) -> Vec<LoadedOrder> {
    let (province, units, callers) = setup();
    let mut g = DemoOrderGenerator::new(seed, n, &province, callers, units, now()).expect("gen");
    let orders = g.batch(n + 10).expect("orders");
    assert!(g.batch(1).expect("after the end").is_empty());
    orders
}

#[test]
fn the_same_seed_gives_the_same_orders() {
    assert_eq!(generate(5, 300), generate(5, 300));
    assert_ne!(generate(5, 50), generate(6, 50));
}

#[test]
fn two_years_of_orders_replay_with_a_realistic_mix_and_peaks() {
    let orders = generate(95598, 6_000);
    assert_eq!(orders.len(), 6_000);
    let mut numbers = std::collections::HashSet::new();
    for o in &orders {
        assert_eq!(
            replay(&o.events).as_ref(),
            Ok(&o.order),
            "{}",
            o.order.number
        );
        assert!(o.events.iter().all(|e| e.at < now()));
        assert!(numbers.insert(o.order.number));
    }
    let first = orders
        .first()
        .map(|o| o.order.opened_at)
        .unwrap_or_default();
    assert!(now() - first > Duration::days(700), "{first}");
    let share = |t: AppealType| {
        orders.iter().filter(|o| o.order.appeal_type == t).count() * 100 / orders.len()
    };
    assert!((35..=55).contains(&share(AppealType::FaultRepair)));
    assert!((15..=35).contains(&share(AppealType::Consultation)));
    assert!(share(AppealType::Complaint) >= 2);
    let archived = orders
        .iter()
        .filter(|o| o.order.state == State::Archived)
        .count();
    assert!(archived * 100 > orders.len() * 85, "{archived} archived");
    // The last days hold open orders in several states.
    let open_states: std::collections::HashSet<State> = orders
        .iter()
        .filter(|o| now() - o.order.opened_at < Duration::days(3))
        .map(|o| o.order.state)
        .collect();
    assert!(open_states.len() >= 4, "{open_states:?}");
    assert!(orders.iter().any(|o| !o.order.repeat_of.is_empty()));
    assert!(orders.iter().any(|o| !o.order.returns.is_empty()));
    // Summer days are busier than spring days, the typhoon week busier still.
    let per_day = |month: u32| {
        let n = orders
            .iter()
            .filter(|o| (o.order.opened_at + Duration::hours(8)).month() == month)
            .count();
        n as f64 / 62.0
    };
    assert!(
        per_day(7) > per_day(4) * 1.2,
        "{} vs {}",
        per_day(7),
        per_day(4)
    );
    let week = typhoon_week(now());
    let in_typhoon = orders
        .iter()
        .filter(|o| {
            let d = centre_date(o.order.opened_at);
            d >= week.0 && d <= week.1
        })
        .count();
    assert!(
        in_typhoon as f64 / 7.0 > per_day(4) * 2.5,
        "{in_typhoon} in the typhoon week"
    );
    let daytime = orders
        .iter()
        .filter(|o| (8..22).contains(&centre_hour(o.order.opened_at)))
        .count();
    assert!(daytime * 100 > orders.len() * 85);
}

#[test]
fn the_days_get_exactly_the_total() {
    let days: Vec<NaiveDate> = NaiveDate::from_ymd_opt(2026, 1, 1)
        .unwrap_or_default()
        .iter_days()
        .take(365)
        .collect();
    let week = typhoon_week(now());
    assert_eq!(per_day(&days, 1_000, week).iter().sum::<u32>(), 1_000);
    assert_eq!(per_day(&days, 7, week).iter().sum::<u32>(), 7);
}
