//! `kefu demo --customers N --orders M [--seed S] [--csv DIR]` (issue 6): a whole demo
//! province, deterministic per seed and day. Into the store (which must be empty): the org
//! tree, the demo logins, N customers through the import path (`upsert_customers`, COPY on
//! PostgreSQL) and M work orders through `load_orders`, then the store's after-import upkeep
//! (`ANALYZE` on PostgreSQL). With `--csv DIR`: `DIR/customers.csv` in the billing-system
//! layout `kefu import customers` reads and `DIR/orders.csv` in the layout of `kefu export
//! orders`, naming the customers by the ids a fresh store gives them in file order.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::{CustomerId, OrgUnitId};
use kefu_domain::org::{OrgLevel, OrgPath};
use kefu_store::{Actor, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::orders::{DemoCaller, DemoOrderGenerator};
use super::{CustomerGenerator, billing_file, org};

/// The most customers an order generator draws its callers from (a uniform sample beyond).
pub const MAX_CALLERS: usize = 200_000;
/// Customers per `upsert_customers` call.
/// Orders per `load_orders` call.
const ORDER_BATCH: usize = 2_000;
/// The most orders a demo may hold.
pub const MAX_ORDERS: usize = 20_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvinceOptions {
    pub seed: u64,
    pub customers: usize,
    pub orders: usize,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvinceReport {
    pub units: usize,
    pub staff: usize,
    pub customers: usize,
    pub orders: usize,
    pub events: usize,
}

impl ProvinceReport {
    /// The summary printed at the end.
    pub fn text(&self, secs: f64) -> String {
        format!(
            "演示省份 demo province: {} 单位 units, {} 账号 logins, {} 客户 customers, \
             {} 工单 orders ({} 事件 events) in {secs:.1} s\n",
            self.units, self.staff, self.customers, self.orders, self.events
        )
    }
}

/// Keeps a uniform sample of at most `MAX_CALLERS` callers (reservoir sampling), so a
/// province of millions does not hold every customer in memory.
struct Callers {
    rng: StdRng,
    seen: usize,
    sample: Vec<DemoCaller>,
}

impl Callers {
    fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed ^ 0x5eed),
            seen: 0,
            sample: Vec::new(),
        }
    }

    fn offer(&mut self, record: &CustomerRecord, id: CustomerId, unit: OrgPath) {
        self.seen += 1;
        let slot = if self.sample.len() < MAX_CALLERS {
            None
        } else {
            let j = self.rng.random_range(0..self.seen);
            if j >= MAX_CALLERS {
                return;
            }
            Some(j)
        };
        let caller = DemoCaller {
            id,
            supply_unit: unit,
            phone: record.phones.first().cloned(),
            grid: record.grid,
            grade: record.service_grade,
        };
        match slot {
            Some(j) => self.sample[j] = caller,
            None => self.sample.push(caller),
        }
    }
}

/// Unit paths of the demo tree as a fresh store numbers it (ids in creation order from 1).
fn fresh_paths() -> HashMap<&'static str, (i64, OrgPath)> {
    let mut out: HashMap<&'static str, (i64, OrgPath)> = HashMap::new();
    for (i, (parent, code, _, _)) in org::units().into_iter().enumerate() {
        let id = i64::try_from(i).unwrap_or(0) + 1;
        let path = match parent.and_then(|p| out.get(p)) {
            Some((_, p)) => p.child(OrgUnitId(id)),
            None => OrgPath::root(OrgUnitId(id)),
        };
        out.insert(code, (id, path));
    }
    out
}

fn order_units(levels: impl Iterator<Item = (OrgLevel, OrgPath)>) -> Vec<OrgPath> {
    let mut units: Vec<OrgPath> = levels
        .filter(|(l, _)| matches!(l, OrgLevel::County | OrgLevel::Station))
        .map(|(_, p)| p)
        .collect();
    units.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    units
}

/// Creates the province in an empty store.
pub async fn load(
    store: &dyn Store,
    opts: ProvinceOptions,
    now: DateTime<Utc>,
    hash: &(dyn Fn(&str) -> anyhow::Result<String> + Sync),
) -> anyhow::Result<ProvinceReport> {
    anyhow::ensure!(
        store.get_org_unit(OrgUnitId(1)).await?.is_none() && store.count_customers().await? == 0,
        "the store is not empty: `kefu demo` fills a new database only (give --data DIR or \
         --database-url for a fresh one, or write files with --csv DIR)"
    );
    let actor = Actor::System("demo");
    let created = super::create_org(store, &actor).await?;
    let staff = super::create_staff(store, &created, hash).await?;
    super::knowledge::load_articles(store, chrono::Utc::now()).await?;
    let paths: HashMap<i64, OrgPath> = created
        .units
        .values()
        .map(|u| (u.id.0, u.path.clone()))
        .collect();
    let province = created
        .units
        .get(super::PROVINCE_CODE)
        .context("demo province missing")?
        .path
        .clone();
    let today = now.date_naive();
    let mut callers = Callers::new(opts.seed);
    let mut customers = 0;
    let mut next_report = Instant::now();
    // The customers go in as a province's first import does (indexes built once at the end).
    super::load_customers(
        store,
        &created,
        super::DemoOptions {
            seed: opts.seed,
            customers: opts.customers,
        },
        today,
        |record, id| {
            let unit = paths
                .get(&record.supply_unit_id.0)
                .cloned()
                .unwrap_or_else(|| province.clone());
            callers.offer(record, id, unit);
            customers += 1;
            if Instant::now() >= next_report {
                eprintln!("demo: {customers} customers stored");
                next_report = Instant::now() + std::time::Duration::from_secs(10);
            }
        },
    )
    .await?;
    let units = order_units(created.units.values().map(|u| (u.level, u.path.clone())));
    let (orders, events) = if opts.orders == 0 {
        (0, 0)
    } else {
        let mut gen_orders = DemoOrderGenerator::new(
            opts.seed,
            opts.orders,
            &province,
            callers.sample,
            units,
            now,
        )?;
        // Rows are appended with the order indexes set aside (SQLite), rebuilt once at the
        // end, also after a failed batch.
        let aside = store.begin_bulk_orders().await?;
        let loaded = async {
            let (mut orders, mut events) = (0, 0);
            loop {
                let batch = gen_orders.batch(ORDER_BATCH)?;
                if batch.is_empty() {
                    break;
                }
                events += batch.iter().map(|o| o.events.len()).sum::<usize>();
                store.load_orders(&batch).await.context("load_orders")?;
                orders += batch.len();
                if Instant::now() >= next_report {
                    eprintln!("demo: {orders} orders stored");
                    next_report = Instant::now() + std::time::Duration::from_secs(10);
                }
            }
            Ok::<_, anyhow::Error>((orders, events))
        }
        .await;
        if aside {
            store.finish_bulk_orders().await?;
        }
        let (orders, events) = loaded?;
        (orders, events)
    };
    store.after_import().await?;
    Ok(ProvinceReport {
        units: created.units.len(),
        staff,
        customers,
        orders,
        events,
    })
}

/// Writes `customers.csv` and `orders.csv` into `dir`.
pub fn write_csv(
    dir: &Path,
    opts: ProvinceOptions,
    now: DateTime<Utc>,
) -> anyhow::Result<ProvinceReport> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let today = now.date_naive();
    let file = dir.join("customers.csv");
    let out =
        std::fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?;
    let customers = billing_file::write_customers(out, opts.seed, opts.customers, today)?;

    let paths = fresh_paths();
    let ids: HashMap<String, i64> = paths
        .iter()
        .map(|(c, (id, _))| ((*c).to_owned(), *id))
        .collect();
    let by_id: HashMap<i64, OrgPath> = paths.values().cloned().collect();
    let codes: HashMap<i64, String> = paths
        .iter()
        .map(|(c, (id, _))| (*id, (*c).to_owned()))
        .collect();
    let province = paths
        .get(super::PROVINCE_CODE)
        .map(|(_, p)| p.clone())
        .context("demo province missing")?;
    let mut callers = Callers::new(opts.seed);
    for (n, input) in CustomerGenerator::new(opts.seed, opts.customers, today, ids).enumerate() {
        let record = super::validate(&input, today)?;
        let unit = by_id
            .get(&record.supply_unit_id.0)
            .cloned()
            .unwrap_or_else(|| province.clone());
        let id = CustomerId(i64::try_from(n).unwrap_or(0) + 1);
        callers.offer(&record, id, unit);
    }
    let levels: HashMap<&str, OrgLevel> = org::units()
        .into_iter()
        .map(|(_, c, _, l)| (c, l))
        .collect();
    let units = order_units(
        paths
            .iter()
            .filter_map(|(c, (_, p))| levels.get(c).map(|l| (*l, p.clone()))),
    );
    let (mut orders, mut events) = (0, 0);
    if opts.orders > 0 {
        let file = dir.join("orders.csv");
        let out =
            std::fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?;
        let mut sink = crate::export::Sink::csv(
            Box::new(std::io::BufWriter::with_capacity(1 << 20, out)),
            crate::export::OutputEncoding::Utf8,
            &crate::export::orders::HEADER,
        )?;
        let offset = chrono::FixedOffset::east_opt(8 * 3600).context("offset")?;
        let mut generator = DemoOrderGenerator::new(
            opts.seed,
            opts.orders,
            &province,
            callers.sample,
            units,
            now,
        )?;
        loop {
            let batch = generator.batch(ORDER_BATCH)?;
            if batch.is_empty() {
                break;
            }
            for o in &batch {
                let stored = kefu_store::StoredOrder {
                    id: 0,
                    order: o.order.clone(),
                    sla: o.sla.clone(),
                };
                sink.row(&crate::export::orders::cells(&stored, &codes, offset, true))?;
                events += o.events.len();
            }
            orders += batch.len();
        }
        sink.finish()?;
    }
    Ok(ProvinceReport {
        units: paths.len(),
        staff: 0,
        customers,
        orders,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_paths_nest_like_the_created_tree() {
        let paths = fresh_paths();
        let (hq, hq_path) = paths.get(super::super::HQ_CODE).cloned().expect("hq");
        assert_eq!(hq, 1);
        assert_eq!(hq_path.as_str(), "/1/");
        let (_, province) = paths.get(super::super::PROVINCE_CODE).cloned().expect("p");
        assert_eq!(province.as_str(), "/1/2/");
        assert!(paths.values().all(|(_, p)| p.as_str().starts_with("/1/")));
    }

    #[test]
    fn a_caller_sample_stays_bounded_and_keeps_early_callers_when_small() {
        let mut c = Callers::new(1);
        let record = {
            let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
            let ids = fresh_paths()
                .iter()
                .map(|(c, (id, _))| ((*c).to_owned(), *id))
                .collect();
            let input = CustomerGenerator::new(1, 1, today, ids)
                .next()
                .expect("one");
            super::super::validate(&input, today).expect("valid")
        };
        for i in 0..10 {
            c.offer(&record, CustomerId(i), OrgPath::root(OrgUnitId(1)));
        }
        assert_eq!(c.sample.len(), 10);
        assert_eq!(c.sample[3].id, CustomerId(3));
        assert_eq!(c.sample[0].phone, record.phones.first().cloned());
    }
}
