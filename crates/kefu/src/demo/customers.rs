//! The customer generator: a deterministic stream of `CustomerInput`s (same seed, same day → same
//! customers), streamed so that a province of millions needs no more memory than a batch.
//!
//! Proportions follow a typical provincial archive: about 88 % residential, 9 % general commercial
//! (shops with a business format), 1 % large industry at 10 kV and above with a contract capacity,
//! and agricultural supplies in rural counties. One household in ten shares a phone between two or
//! three accounts, so the screen-pop sometimes finds several customers.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use kefu_domain::customer::{
    BusinessFormat, CustomerInput, Grid, IdDocumentInput, IdKind, Scale, ServiceGrade,
    SpecialDateInput, SpecialDateKind, UsageCategory, ValueTier, Voltage,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::documents::{credit_code, resident_id};
use super::names;
use super::places::{self, City, County, PROVINCE, VILLAGES};

/// How many days ahead some special dates are placed, so "special dates soon" shows something.
pub const SOON_DAYS: u64 = 14;

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
];

/// A household whose next members share a surname, a street and estate, and one phone.
struct Household {
    county: usize,
    surname: &'static str,
    phone: String,
    street: String,
    estate: &'static str,
    remaining: u32,
}

/// Streams `total` demo customers for the demo province.
pub struct CustomerGenerator {
    rng: StdRng,
    today: NaiveDate,
    total: usize,
    produced: usize,
    counties: Vec<(&'static City, &'static County)>,
    weight_total: u32,
    serials: Vec<u32>,
    unit_ids: HashMap<String, i64>,
    household: Option<Household>,
}

impl CustomerGenerator {
    /// A generator of `total` customers from `seed`, with special dates relative to `today`.
    /// `unit_ids` maps county and station codes to stored unit ids (a missing code gives 0,
    /// which validation refuses).
    pub fn new(seed: u64, total: usize, today: NaiveDate, unit_ids: HashMap<String, i64>) -> Self {
        let counties: Vec<_> = places::counties().collect();
        Self {
            rng: StdRng::seed_from_u64(seed),
            today,
            total,
            produced: 0,
            weight_total: counties.iter().map(|(_, c)| c.weight).sum(),
            serials: vec![0; counties.len()],
            counties,
            unit_ids,
            household: None,
        }
    }

    fn pick_county(&mut self) -> usize {
        let mut pick = self.rng.random_range(0..self.weight_total.max(1));
        for (i, (_, c)) in self.counties.iter().enumerate() {
            if pick < c.weight {
                return i;
            }
            pick -= c.weight;
        }
        0
    }

    fn mobile(&mut self) -> String {
        let prefix = MOBILE_PREFIXES
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("138");
        format!("{prefix}{:08}", self.rng.random_range(0..100_000_000u32))
    }

    fn landline(&mut self, area: &str) -> String {
        let first = if self.rng.random_bool(0.7) { 8 } else { 6 };
        format!(
            "{area}{first}{:07}",
            self.rng.random_range(0..10_000_000u32)
        )
    }

    /// A day within the next `SOON_DAYS` days, as (month, day).
    fn soon(&mut self) -> (u32, u32) {
        let d = self
            .today
            .checked_add_days(Days::new(self.rng.random_range(0..=SOON_DAYS)))
            .unwrap_or(self.today);
        (d.month(), d.day())
    }

    /// A date in `years` (inclusive) not after today; on (month, day) when given and it exists.
    fn date_in(&mut self, years: (i32, i32), md: Option<(u32, u32)>) -> NaiveDate {
        let (mut lo, hi) = years;
        lo = lo.min(hi);
        for _ in 0..8 {
            // The mean of two draws: middle years are likelier than the extremes.
            let y = (self.rng.random_range(lo..=hi) + self.rng.random_range(lo..=hi)) / 2;
            let (m, d) =
                md.unwrap_or((self.rng.random_range(1..=12), self.rng.random_range(1..=28)));
            if let Some(date) = NaiveDate::from_ymd_opt(y, m, d).filter(|x| *x <= self.today) {
                return date;
            }
        }
        // 29 February in an unlucky run of common years: fall back to a leap year.
        NaiveDate::from_ymd_opt(1988, md.map_or(6, |x| x.0), md.map_or(1, |x| x.1))
            .unwrap_or(self.today)
    }

    fn account_number(&mut self, county: usize) -> String {
        self.serials[county] += 1;
        format!(
            "{}{:07}",
            self.counties[county].1.code, self.serials[county]
        )
    }

    fn unit_id(&self, code: &str) -> i64 {
        self.unit_ids.get(code).copied().unwrap_or(0)
    }

    /// A rural town of the county and the unit serving it (its station, or the county itself).
    fn rural_place(&mut self, county: usize) -> (&'static str, i64) {
        let c = self.counties[county].1;
        let town = c.towns.choose(&mut self.rng).copied().unwrap_or("");
        let unit = c
            .stations
            .iter()
            .find(|s| s.town == town)
            .map_or(c.code, |s| s.code);
        (town, self.unit_id(unit))
    }

    fn street(&mut self, county: usize) -> String {
        let (city, c) = self.counties[county];
        let road = c.roads.choose(&mut self.rng).copied().unwrap_or("人民路");
        let n = self.rng.random_range(1..=600);
        format!("{PROVINCE}{}{}{road}{n}号", city.city, c.district)
    }

    fn village(&mut self, county: usize, town: &str) -> String {
        let (city, c) = self.counties[county];
        let v = VILLAGES.choose(&mut self.rng).copied().unwrap_or("前山");
        let n = self.rng.random_range(1..=280);
        format!("{PROVINCE}{}{}{town}{v}村{n}号", city.city, c.district)
    }

    fn residential(&mut self, county: usize, rural: bool, input: &mut CustomerInput) {
        let (city, c) = self.counties[county];
        let member = self.household.take();
        let male = self.rng.random_bool(0.5);
        let surname = member
            .as_ref()
            .map_or_else(|| names::surname(&mut self.rng), |h| h.surname);
        input.name = format!("{surname}{}", names::given_name(&mut self.rng, male));

        let soon_birthday = self.rng.random_bool(0.04);
        let md = soon_birthday.then(|| self.soon());
        let max_year = self.today.year() - 18;
        let birth = self.date_in((1935, max_year), md);
        input.id_document = Some(IdDocumentInput {
            kind: IdKind::ResidentId.code().into(),
            number: resident_id(&mut self.rng, c.code, birth, male),
        });

        let (street, estate) = match &member {
            Some(h) => (h.street.clone(), h.estate),
            None => (
                self.street(county),
                c.estates.choose(&mut self.rng).copied().unwrap_or("新村"),
            ),
        };
        if rural {
            let (town, unit) = self.rural_place(county);
            input.address = self.village(county, town);
            input.supply_unit_id = unit;
        } else {
            let floor = self.rng.random_range(1..=28);
            let room = self.rng.random_range(1..=4);
            input.address = format!(
                "{street}{estate}{}幢{}{:02}室",
                self.rng.random_range(1..=30),
                floor,
                room
            );
            input.supply_unit_id = self.unit_id(c.code);
        }

        let phone = match &member {
            Some(h) => h.phone.clone(),
            None => self.mobile(),
        };
        input.phones.push(phone.clone());
        if self.rng.random_bool(0.2) {
            let extra = if self.rng.random_bool(0.4) {
                self.landline(city.phone_area)
            } else {
                self.mobile()
            };
            input.phones.push(extra);
        }
        self.household = match member {
            Some(h) if h.remaining > 1 => Some(Household {
                remaining: h.remaining - 1,
                ..h
            }),
            Some(_) => None,
            None if self.rng.random_bool(0.05) => Some(Household {
                county,
                surname,
                phone,
                street,
                estate,
                remaining: self.rng.random_range(1..=2),
            }),
            None => None,
        };

        input.usage_category = UsageCategory::Residential.code().into();
        let three_phase = self.rng.random_bool(0.05);
        input.voltage = if three_phase {
            Voltage::V380
        } else {
            Voltage::V220
        }
        .code()
        .into();
        input.contract_capacity_kva = three_phase.then(|| self.rng.random_range(12..=40));
        let tier = match self.rng.random_range(0..100) {
            0 => ValueTier::Vip,
            1..=4 => ValueTier::Major,
            5..=34 => ValueTier::Small,
            _ => ValueTier::Normal,
        };
        input.value_tier = Some(tier.code().into());
        let grade = match self.rng.random_range(0..100) {
            0 => ServiceGrade::Diamond,
            1..=6 => ServiceGrade::Gold,
            7..=24 => ServiceGrade::Silver,
            _ => ServiceGrade::Basic,
        };
        input.service_grade = Some(grade.code().into());

        let age = self.today.year() - birth.year();
        let mut tag = |p: f64, t: &str, rng: &mut StdRng| {
            if rng.random_bool(p) {
                input.tags.push(t.to_owned());
            }
        };
        if age >= 75 {
            tag(0.5, "高龄老人", &mut self.rng);
            tag(0.2, "独居", &mut self.rng);
        }
        tag(0.02, "低保户", &mut self.rng);
        tag(if rural { 0.08 } else { 0.01 }, "光伏用户", &mut self.rng);
        tag(if rural { 0.01 } else { 0.05 }, "充电桩", &mut self.rng);
        tag(0.01, "敏感客户", &mut self.rng);
        tag(0.005, "频繁来电", &mut self.rng);
        if soon_birthday || self.rng.random_bool(0.4) {
            input.special_dates.push(SpecialDateInput {
                kind: SpecialDateKind::Birthday.code().into(),
                date: birth.format("%Y-%m-%d").to_string(),
                label: None,
            });
        }
    }

    fn founding_date(&mut self, input: &mut CustomerInput, years: (i32, i32)) {
        let md = self.rng.random_bool(0.05).then(|| self.soon());
        let founded = self.date_in(years, md);
        input.special_dates.push(SpecialDateInput {
            kind: SpecialDateKind::Founding.code().into(),
            date: founded.format("%Y-%m-%d").to_string(),
            label: None,
        });
    }

    fn commercial(&mut self, county: usize, rural: bool, input: &mut CustomerInput) {
        let (city, c) = self.counties[county];
        let format = *[
            BusinessFormat::Grocery,
            BusinessFormat::Grocery,
            BusinessFormat::ConvenienceStore,
            BusinessFormat::ConvenienceStore,
            BusinessFormat::TobaccoLiquor,
            BusinessFormat::Supermarket,
            BusinessFormat::Entertainment,
            BusinessFormat::Other,
            BusinessFormat::Other,
            BusinessFormat::Other,
        ]
        .choose(&mut self.rng)
        .unwrap_or(&BusinessFormat::Other);
        if self.rng.random_bool(0.01) {
            return self.mall(county, input);
        }
        let surname = names::surname(&mut self.rng);
        let brand = names::brand(&mut self.rng);
        let (shop, industry) = match format {
            BusinessFormat::Grocery => (format!("{surname}记副食店"), "批发和零售业"),
            BusinessFormat::ConvenienceStore => (format!("{brand}便利店"), "批发和零售业"),
            BusinessFormat::TobaccoLiquor => (format!("{brand}烟酒商行"), "批发和零售业"),
            BusinessFormat::Supermarket => (format!("{brand}超市"), "批发和零售业"),
            BusinessFormat::Entertainment => (format!("{brand}棋牌室"), "居民服务业"),
            _ => (format!("{surname}记小吃店"), "餐饮业"),
        };
        input.name = format!("{}{}{shop}", city.city, c.district);
        input.industry = Some(industry.into());
        input.business_format = Some(format.code().into());
        input.scale = Some(Scale::Small.code().into());
        input.id_document = Some(IdDocumentInput {
            kind: IdKind::CreditCode.code().into(),
            number: credit_code(&mut self.rng, "92", c.code),
        });
        if rural {
            let (town, unit) = self.rural_place(county);
            input.address = self.village(county, town);
            input.supply_unit_id = unit;
        } else {
            input.address = self.street(county);
            input.supply_unit_id = self.unit_id(c.code);
        }
        input.phones.push(self.mobile());
        let three_phase = self.rng.random_bool(0.4);
        input.voltage = if three_phase {
            Voltage::V380
        } else {
            Voltage::V220
        }
        .code()
        .into();
        input.contract_capacity_kva = Some(if three_phase {
            self.rng.random_range(30..=200)
        } else {
            self.rng.random_range(8..=20)
        });
        input.value_tier = Some(
            if self.rng.random_bool(0.3) {
                ValueTier::Small
            } else {
                ValueTier::Normal
            }
            .code()
            .into(),
        );
        let grade = [ServiceGrade::B3, ServiceGrade::B4, ServiceGrade::B5];
        input.service_grade = grade.choose(&mut self.rng).map(|g| g.code().into());
        if self.rng.random_bool(0.3) {
            self.founding_date(input, (1995, self.today.year() - 1));
        }
    }

    fn mall(&mut self, county: usize, input: &mut CustomerInput) {
        let (city, c) = self.counties[county];
        let brand = names::brand(&mut self.rng);
        input.name = format!(
            "{}{brand}商业管理有限公司",
            city.city.trim_end_matches('市')
        );
        input.industry = Some("商务服务业".into());
        input.business_format = Some(BusinessFormat::Mall.code().into());
        input.scale = Some(Scale::Large.code().into());
        input.id_document = Some(IdDocumentInput {
            kind: IdKind::CreditCode.code().into(),
            number: credit_code(&mut self.rng, "91", c.code),
        });
        input.address = self.street(county);
        input.supply_unit_id = self.unit_id(c.code);
        input.phones = vec![self.landline(city.phone_area), self.mobile()];
        input.voltage = Voltage::Kv10.code().into();
        input.contract_capacity_kva = Some(self.rng.random_range(4..=25) * 315);
        input.value_tier = Some(ValueTier::Major.code().into());
        input.service_grade = Some(ServiceGrade::A2.code().into());
        input.tags.push("双电源".into());
        self.founding_date(input, (1995, self.today.year() - 1));
    }

    fn large_industry(&mut self, county: usize, rural: bool, input: &mut CustomerInput) {
        let (city, c) = self.counties[county];
        let (name, industry) = names::factory_name(&mut self.rng, city.city);
        input.name = name;
        input.industry = Some(industry.into());
        input.id_document = Some(IdDocumentInput {
            kind: IdKind::CreditCode.code().into(),
            number: credit_code(&mut self.rng, "91", c.code),
        });
        if rural {
            let (town, unit) = self.rural_place(county);
            let n = self.rng.random_range(1..=99);
            input.address = format!("{PROVINCE}{}{}{town}工业功能区{n}号", city.city, c.district);
            input.supply_unit_id = unit;
        } else {
            input.address = self.street(county);
            input.supply_unit_id = self.unit_id(c.code);
        }
        input.phones = vec![self.landline(city.phone_area), self.mobile()];
        let (voltage, kva) = match self.rng.random_range(0..100) {
            0..=69 => (Voltage::Kv10, self.rng.random_range(1..=25) * 315),
            70..=79 => (Voltage::Kv20, self.rng.random_range(2_000..=12_500)),
            80..=94 => (Voltage::Kv35, self.rng.random_range(5_000..=40_000)),
            95..=98 => (Voltage::Kv110, self.rng.random_range(20_000..=120_000)),
            _ => (Voltage::Kv220, self.rng.random_range(100_000..=300_000)),
        };
        input.voltage = voltage.code().into();
        input.contract_capacity_kva = Some(kva);
        let big = kva >= 10_000;
        input.scale = Some(if big { Scale::Large } else { Scale::Medium }.code().into());
        input.value_tier = Some(
            if big {
                ValueTier::Vip
            } else {
                ValueTier::Major
            }
            .code()
            .into(),
        );
        let grades = if big {
            [ServiceGrade::A1, ServiceGrade::A2]
        } else {
            [ServiceGrade::A3, ServiceGrade::A4]
        };
        input.service_grade = grades.choose(&mut self.rng).map(|g| g.code().into());
        input.tags.push("重要客户".into());
        if voltage != Voltage::Kv10 || self.rng.random_bool(0.3) {
            input.tags.push("双电源".into());
        }
        if self.rng.random_bool(0.2) {
            input.tags.push("高耗能".into());
        }
        self.founding_date(input, (1985, self.today.year() - 2));
        let md = self.rng.random_bool(0.05).then(|| self.soon());
        let contract = self.date_in((2005, self.today.year() - 1), md);
        input.special_dates.push(SpecialDateInput {
            kind: SpecialDateKind::ContractAnniversary.code().into(),
            date: contract.format("%Y-%m-%d").to_string(),
            label: Some("供用电合同签订".into()),
        });
    }

    fn agricultural(&mut self, county: usize, input: &mut CustomerInput) {
        let (city, c) = self.counties[county];
        let (town, unit) = self.rural_place(county);
        let village = VILLAGES.choose(&mut self.rng).copied().unwrap_or("前山");
        let (name, industry) = match self.rng.random_range(0..3) {
            0 => (format!("{}{village}村排灌站", c.district), "农业"),
            1 => (
                format!(
                    "{}{}农业专业合作社",
                    c.district,
                    names::brand(&mut self.rng)
                ),
                "农业",
            ),
            _ => (format!("{}{village}水产养殖场", c.district), "渔业"),
        };
        input.name = name;
        input.industry = Some(industry.into());
        input.id_document = Some(IdDocumentInput {
            kind: IdKind::CreditCode.code().into(),
            number: credit_code(&mut self.rng, "93", c.code),
        });
        let group = self.rng.random_range(1..=12);
        input.address = format!(
            "{PROVINCE}{}{}{town}{village}村{group}组",
            city.city, c.district
        );
        input.supply_unit_id = unit;
        input.phones.push(self.mobile());
        input.voltage = Voltage::V380.code().into();
        input.contract_capacity_kva = Some(self.rng.random_range(10..=100));
        input.value_tier = Some(ValueTier::Small.code().into());
        input.service_grade = Some(ServiceGrade::B5.code().into());
        input.tags.push("农业排灌".into());
    }
}

impl Iterator for CustomerGenerator {
    type Item = CustomerInput;

    fn next(&mut self) -> Option<CustomerInput> {
        if self.produced >= self.total {
            return None;
        }
        self.produced += 1;
        let county = match &self.household {
            Some(h) => h.county,
            None => self.pick_county(),
        };
        let c = self.counties[county].1;
        let rural = self.rng.random_range(0..100) < c.rural_percent;
        let mut input = CustomerInput {
            account_number: self.account_number(county),
            grid: if rural { Grid::Rural } else { Grid::Urban }.code().into(),
            ..CustomerInput::default()
        };
        let roll = self.rng.random_range(0..1000);
        let category = if self.household.is_some() {
            UsageCategory::Residential
        } else if rural {
            match roll {
                0..=859 => UsageCategory::Residential,
                860..=919 => UsageCategory::Commercial,
                920..=989 => UsageCategory::Agricultural,
                _ => UsageCategory::LargeIndustry,
            }
        } else {
            match roll {
                0..=884 => UsageCategory::Residential,
                885..=989 => UsageCategory::Commercial,
                _ => UsageCategory::LargeIndustry,
            }
        };
        match category {
            UsageCategory::Residential => self.residential(county, rural, &mut input),
            UsageCategory::Commercial => self.commercial(county, rural, &mut input),
            UsageCategory::LargeIndustry => self.large_industry(county, rural, &mut input),
            UsageCategory::Agricultural => self.agricultural(county, &mut input),
        }
        if input.usage_category.is_empty() {
            input.usage_category = category.code().into();
        }
        Some(input)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total - self.produced;
        (left, Some(left))
    }
}
