//! The demo province (`kefu serve --demo`, benchmarks, later the province-scale generator of
//! issue 6): an org tree of real Zhejiang area codes, staff with documented logins, and customers
//! generated deterministically from a seed — the same seed and day always give the same data.
//!
//! Everything the generator makes passes `CustomerRecord::validate`: resident IDs carry the
//! customer's county as area code and a correct GB 11643 check character, companies a correct
//! GB 32100 credit code.

pub mod billing_file;
pub mod customers;
pub mod documents;
pub mod knowledge;
pub mod names;
pub mod orders;
pub mod org;
pub mod places;
pub mod province;

use std::fmt::Write as _;

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use kefu_domain::auth::{Roles, Username};
use kefu_domain::customer::CustomerRecord;
use kefu_domain::ids::{CustomerId, OrgUnitId};
use kefu_domain::org::OrgCode;
use kefu_store::{Actor, InitialLoad, NewStaff, Store};

pub use customers::CustomerGenerator;
pub use org::{CreatedOrg, DEMO_LOGINS, DemoLogin, HQ_CODE, PROVINCE_CODE, create_org};

/// The password of every demo login (documented in the README; demo data only).
pub const DEMO_PASSWORD: &str = "Kefu-demo-2026";
/// The default seed: the service hotline's number.
pub const DEFAULT_SEED: u64 = 95598;
/// How many customers `serve --demo` creates unless configured otherwise.
pub const DEFAULT_CUSTOMERS: usize = 3_000;
/// The most customers one `create_customers` call carries.
pub const BATCH_SIZE: usize = 1_000;
/// The largest demo the generator is asked for (province scale).
pub const MAX_CUSTOMERS: usize = 50_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// Seed of the generator.
    pub seed: u64,
    /// How many customers.
    pub customers: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            customers: DEFAULT_CUSTOMERS,
        }
    }
}

/// What `ensure_demo` found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoOutcome {
    /// The store was empty; the demo was created.
    Created {
        /// Units created.
        units: usize,
        /// Staff created.
        staff: usize,
        /// Customers created.
        customers: usize,
    },
    /// The store already holds the demo province; nothing was changed.
    AlreadyPresent,
    /// The store holds other data; nothing was changed.
    NotEmpty,
}

/// Validates a generated input; a failure is a bug in the generator.
pub fn validate(
    input: &kefu_domain::customer::CustomerInput,
    today: NaiveDate,
) -> anyhow::Result<CustomerRecord> {
    CustomerRecord::validate(input, today).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "generated customer {} is invalid: {}",
            input.account_number,
            list.join("; ")
        )
    })
}

/// Generates `options.customers` customers into the units of `org` and stores them in batches —
/// as the first import of a province does (`begin_initial_load`: indexes built once at the end)
/// when the store offers it and holds no customer yet, else batch by batch. `on_record` sees each
/// record with the id it was stored under (the benchmarks collect phones and ids with it).
pub async fn load_customers(
    store: &dyn Store,
    org: &CreatedOrg,
    options: DemoOptions,
    today: NaiveDate,
    mut on_record: impl FnMut(&CustomerRecord, CustomerId),
) -> anyhow::Result<usize> {
    let total = options.customers.min(MAX_CUSTOMERS);
    let actor = Actor::System("demo");
    let mut generator = CustomerGenerator::new(options.seed, total, today, org.unit_ids());
    let mut load = if total > 0 {
        store
            .begin_initial_load()
            .await
            .context("starting the initial load of the demo customers")?
    } else {
        None
    };
    let batch_size = if load.is_some() {
        crate::import::INITIAL_LOAD_BATCH
    } else {
        BATCH_SIZE
    };
    let mut stored = 0;
    loop {
        let batch = generator
            .by_ref()
            .take(batch_size)
            .map(|input| validate(&input, today))
            .collect::<anyhow::Result<Vec<_>>>();
        let batch = match batch {
            Ok(b) => b,
            Err(e) => return Err(abort(load, e).await),
        };
        if batch.is_empty() {
            break;
        }
        let n = batch.len();
        let ids = match load.as_mut() {
            Some(l) => l.insert(batch.clone(), &actor, Utc::now()).await,
            None => {
                store
                    .create_customers(batch.clone(), &actor, Utc::now())
                    .await
            }
        };
        let ids = match ids {
            Ok(ids) => ids,
            Err(e) => {
                let e = anyhow::Error::new(e).context("storing demo customers");
                return Err(abort(load, e).await);
            }
        };
        batch
            .iter()
            .zip(ids)
            .for_each(|(record, id)| on_record(record, id));
        stored += n;
        tracing::debug!(stored, total, "demo customers stored");
    }
    if let Some(l) = load {
        l.finish(&actor, Utc::now())
            .await
            .context("finishing the initial load of the demo customers")?;
    }
    Ok(stored)
}

/// Ends a failed initial load so that the store keeps its indexes; returns the first error.
async fn abort(load: Option<Box<dyn InitialLoad>>, error: anyhow::Error) -> anyhow::Error {
    if let Some(l) = load
        && let Err(e) = l.abort().await
    {
        return error.context(format!("and ending the initial load failed too: {e}"));
    }
    error
}

/// Creates the demo staff with `DEMO_PASSWORD`, hashed by `hash`.
pub async fn create_staff(
    store: &dyn Store,
    org: &CreatedOrg,
    hash: &(dyn Fn(&str) -> anyhow::Result<String> + Sync),
) -> anyhow::Result<usize> {
    let actor = Actor::System("demo");
    let password_hash = hash(DEMO_PASSWORD)?;
    for login in DEMO_LOGINS {
        let unit = org
            .units
            .get(login.unit_code)
            .with_context(|| format!("demo unit {} missing", login.unit_code))?;
        let department_id = login.department.and_then(|d| {
            org.departments
                .get(&(login.unit_code.to_owned(), d))
                .copied()
        });
        let staff = NewStaff {
            username: Username::parse(login.username).map_err(|e| anyhow::anyhow!("{e}"))?,
            display_name: login.display_name.to_owned(),
            org_unit_id: unit.id,
            department_id,
            roles: Roles::new(vec![login.role]).map_err(|e| anyhow::anyhow!("{e}"))?,
            password_hash: password_hash.clone(),
        };
        store
            .create_staff(staff, &actor)
            .await
            .with_context(|| format!("creating demo login {}", login.username))?;
    }
    Ok(DEMO_LOGINS.len())
}

/// Creates the demo province if the store is empty (no org unit, no customer).
pub async fn ensure_demo(
    store: &dyn Store,
    options: DemoOptions,
    hash: &(dyn Fn(&str) -> anyhow::Result<String> + Sync),
) -> anyhow::Result<DemoOutcome> {
    let hq = OrgCode::parse(HQ_CODE).map_err(|e| anyhow::anyhow!("{e}"))?;
    if store.get_org_unit_by_code(&hq).await?.is_some() {
        return Ok(DemoOutcome::AlreadyPresent);
    }
    // Ids start at 1 in both stores, so a store that ever held a unit has unit 1.
    if store.get_org_unit(OrgUnitId(1)).await?.is_some() || store.count_customers().await? > 0 {
        return Ok(DemoOutcome::NotEmpty);
    }
    let actor = Actor::System("demo");
    let org = create_org(store, &actor).await?;
    let staff = create_staff(store, &org, hash).await?;
    let today = Utc::now().date_naive();
    let customers = load_customers(store, &org, options, today, |_, _| {}).await?;
    knowledge::load_articles(store, Utc::now()).await?;
    Ok(DemoOutcome::Created {
        units: org.units.len(),
        staff,
        customers,
    })
}

/// The demo logins as a Markdown-style table (username / role / unit / password).
pub fn logins_table() -> String {
    let units = org::units();
    let mut out = String::from("| 用户名 username | 角色 role | 单位 unit | 密码 password |\n");
    out.push_str("|---|---|---|---|\n");
    for login in DEMO_LOGINS {
        let unit = units
            .iter()
            .find(|u| u.1 == login.unit_code)
            .map_or(login.unit_code, |u| u.2.as_str());
        let _ = writeln!(
            out,
            "| {} | {} ({}) | {} {} | {} |",
            login.username,
            login.role.label_zh(),
            login.role.code(),
            login.unit_code,
            unit,
            DEMO_PASSWORD
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use kefu_domain::customer::{IdDocument, UsageCategory};

    use super::*;

    fn fake_unit_ids() -> HashMap<String, i64> {
        org::units()
            .iter()
            .enumerate()
            .map(|(i, u)| (u.1.to_owned(), i as i64 + 1))
            .collect()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()
    }

    fn generate(seed: u64, n: usize) -> Vec<kefu_domain::customer::CustomerInput> {
        CustomerGenerator::new(seed, n, today(), fake_unit_ids()).collect()
    }

    #[test]
    fn same_seed_same_customers_other_seed_other_customers() {
        assert_eq!(generate(7, 500), generate(7, 500));
        assert_ne!(generate(7, 50), generate(8, 50));
    }

    #[test]
    fn every_generated_record_is_valid_and_ids_belong_to_the_county() {
        let ids = fake_unit_ids();
        let county_of: HashMap<i64, &str> = org::units()
            .iter()
            .filter_map(|u| {
                let county = match u.3 {
                    kefu_domain::org::OrgLevel::County => u.1,
                    kefu_domain::org::OrgLevel::Station => u.0?,
                    _ => return None,
                };
                Some((ids[u.1], county))
            })
            .collect();
        let mut accounts = std::collections::HashSet::new();
        for input in generate(DEFAULT_SEED, 5_000) {
            let record = validate(&input, today());
            assert!(record.is_ok(), "{record:?}");
            let Ok(record) = record else { continue };
            assert!(accounts.insert(record.account_number.clone()));
            let county = county_of.get(&record.supply_unit_id.0).copied();
            assert!(county.is_some(), "supply unit of {input:?}");
            match &record.id_document {
                Some(IdDocument::Resident(id)) => assert_eq!(Some(id.area_code()), county),
                Some(IdDocument::Credit(code)) => {
                    assert_eq!(Some(&code.as_str()[2..8]), county)
                }
                other => panic!("unexpected document {other:?}"),
            }
        }
    }

    #[test]
    fn proportions_look_like_a_province() {
        let records: Vec<CustomerRecord> = generate(1, 10_000)
            .iter()
            .filter_map(|i| validate(i, today()).ok())
            .collect();
        let share = |c: UsageCategory| {
            records.iter().filter(|r| r.usage_category == c).count() * 100 / records.len()
        };
        assert!((85..=92).contains(&share(UsageCategory::Residential)));
        assert!(share(UsageCategory::Agricultural) >= 1);
        let large = records
            .iter()
            .filter(|r| r.usage_category == UsageCategory::LargeIndustry)
            .collect::<Vec<_>>();
        assert!(!large.is_empty());
        assert!(
            large
                .iter()
                .all(|r| r.voltage.is_high() && r.contract_capacity_kva.is_some())
        );
        let mut phones: HashMap<&str, usize> = HashMap::new();
        for r in &records {
            for p in &r.phones {
                *phones.entry(p.as_str()).or_default() += 1;
            }
        }
        let shared = phones.values().filter(|n| **n >= 2).count();
        assert!(shared > 100, "{shared} shared phones");
        assert!(phones.values().all(|n| *n <= 3));
        let soon = kefu_domain::customer::window_keys(today(), customers::SOON_DAYS as u32);
        let upcoming = records
            .iter()
            .flat_map(|r| &r.special_dates)
            .filter(|d| soon.iter().any(|(k, _)| *k == (d.month, d.day)))
            .count();
        assert!(upcoming > 100, "{upcoming} special dates soon");
    }

    #[test]
    fn the_logins_table_lists_every_login() {
        let t = logins_table();
        assert!(DEMO_LOGINS.iter().all(|l| t.contains(l.username)));
    }
}
