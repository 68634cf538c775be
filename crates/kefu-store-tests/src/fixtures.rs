//! Fixtures of the story: a fixed clock, a small org tree, valid customer records.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::customer::{
    CustomerInput, CustomerRecord, IdDocumentInput, SpecialDateInput, resident_check_char,
};
use kefu_domain::ids::OrgUnitId;
use kefu_domain::org::{OrgCode, OrgLevel};
use kefu_store::{Actor, NewOrgUnit, NewStaff, OrgUnit, Staff, Store};

/// The actor of fixture writes.
pub const SYSTEM: Actor = Actor::System("test");

/// "Now" in every story: 2026-11-22 08:00 UTC (whole seconds, so every backend stores it exactly).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0)
        .single()
        .expect("a valid fixed instant")
}

/// `t0` plus `minutes`.
pub fn at(minutes: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::minutes(minutes)
}

/// The day of `t0`.
pub fn today() -> NaiveDate {
    t0().date_naive()
}

/// HQ → province → city A → county A, and province → city B → county B.
#[derive(Debug, Clone)]
pub struct Tree {
    pub hq: OrgUnit,
    pub province: OrgUnit,
    pub city_a: OrgUnit,
    pub city_b: OrgUnit,
    pub county_a: OrgUnit,
    pub county_b: OrgUnit,
}

/// Creates one unit, panicking with the store's message if it fails.
pub async fn unit(
    store: &dyn Store,
    parent: Option<&OrgUnit>,
    code: &str,
    name: &str,
    level: OrgLevel,
) -> OrgUnit {
    store
        .create_org_unit(
            NewOrgUnit {
                parent_id: parent.map(|p| p.id),
                code: OrgCode::parse(code).expect("fixture codes are valid"),
                name: name.to_owned(),
                level,
            },
            &SYSTEM,
        )
        .await
        .expect("fixture unit is created")
}

/// Creates the fixture tree.
pub async fn tree(store: &dyn Store) -> Tree {
    let hq = unit(store, None, "SGCC", "国家电网有限公司", OrgLevel::Hq).await;
    let province = unit(
        store,
        Some(&hq),
        "33",
        "国网浙江省电力有限公司",
        OrgLevel::Province,
    )
    .await;
    let city_a = unit(
        store,
        Some(&province),
        "3301",
        "国网杭州供电公司",
        OrgLevel::City,
    )
    .await;
    let city_b = unit(
        store,
        Some(&province),
        "3302",
        "国网宁波供电公司",
        OrgLevel::City,
    )
    .await;
    let county_a = unit(
        store,
        Some(&city_a),
        "330106",
        "西湖区供电中心",
        OrgLevel::County,
    )
    .await;
    let county_b = unit(
        store,
        Some(&city_b),
        "330203",
        "海曙区供电中心",
        OrgLevel::County,
    )
    .await;
    Tree {
        hq,
        province,
        city_a,
        city_b,
        county_a,
        county_b,
    }
}

/// A valid resident ID, different for every `n` below 336 000.
pub fn resident_id(n: u32) -> String {
    let month = 1 + (n / 1000) % 12;
    let day = 1 + (n / 12_000) % 28;
    let first17 = format!(
        "330106{:04}{month:02}{day:02}{:03}",
        1960 + (n % 40),
        n % 1000
    );
    let bytes: [u8; 17] = first17
        .as_bytes()
        .try_into()
        .expect("the first part of a resident ID has 17 digits");
    format!("{first17}{}", resident_check_char(&bytes))
}

/// A customer input with every field set, unique by `n`, supplied by `unit`.
pub fn input(n: u32, unit: OrgUnitId) -> CustomerInput {
    CustomerInput {
        account_number: format!("33{n:08}"),
        name: format!("客户{n}"),
        id_document: Some(IdDocumentInput {
            kind: "resident_id".into(),
            number: resident_id(n),
        }),
        phones: vec![format!("139{n:08}")],
        address: format!("杭州市西湖区文三路 {n} 号"),
        supply_unit_id: unit.0,
        grid: "urban".into(),
        usage_category: "residential".into(),
        voltage: "220v".into(),
        contract_capacity_kva: Some(8),
        industry: Some("居民".into()),
        business_format: None,
        scale: Some("small".into()),
        value_tier: Some("normal".into()),
        service_grade: Some("basic".into()),
        tags: vec!["独居".into(), "老人".into()],
        special_dates: vec![SpecialDateInput {
            kind: "birthday".into(),
            date: "1960-03-15".into(),
            label: Some("本人生日".into()),
        }],
    }
}

/// Validates an input, panicking with every field error if the fixture is wrong.
pub fn record(input: &CustomerInput) -> CustomerRecord {
    match CustomerRecord::validate(input, today()) {
        Ok(r) => r,
        Err(errors) => panic!("fixture customer is invalid: {errors:?}"),
    }
}

/// A valid record, unique by `n`, supplied by `unit`.
pub fn customer(n: u32, unit: OrgUnitId) -> CustomerRecord {
    record(&input(n, unit))
}

/// Creates a staff member in `unit` with `roles`.
pub async fn staff(store: &dyn Store, username: &str, unit: &OrgUnit, roles: &[Role]) -> Staff {
    store
        .create_staff(
            NewStaff {
                username: Username::parse(username).expect("fixture usernames are valid"),
                display_name: format!("{username} 同志"),
                org_unit_id: unit.id,
                department_id: None,
                roles: Roles::new(roles.to_vec()).expect("fixture roles are not empty"),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
            },
            &SYSTEM,
        )
        .await
        .expect("fixture staff is created")
}
