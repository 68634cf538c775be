//! One customer's record: raw input in, a valid `CustomerRecord` out, every bad field reported.

use chrono::NaiveDate;

use super::fields::{
    BusinessFormat, Grid, Scale, ServiceGrade, SpecialDateKind, UsageCategory, ValueTier, Voltage,
};
use super::identity::{IdDocument, IdKind};
use super::phone::Phone;
use super::special_date::SpecialDate;
use crate::FieldError;
use crate::ids::OrgUnitId;

/// The longest customer name.
pub const MAX_NAME_LEN: usize = 100;
/// The longest address.
pub const MAX_ADDRESS_LEN: usize = 200;
/// The most phones one customer may have.
pub const MAX_PHONES: usize = 5;
/// The most tags one customer may have.
pub const MAX_TAGS: usize = 20;
/// The longest tag.
pub const MAX_TAG_LEN: usize = 20;
/// The most special dates one customer may have.
pub const MAX_SPECIAL_DATES: usize = 10;
const MAX_FREE_TEXT: usize = 100;
const MAX_CONTRACT_KVA: i64 = 10_000_000;

/// 户号: the customer's key in the billing system; 4–32 letters, digits or dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNumber(String);

impl AccountNumber {
    /// Parses an account number (trimmed; letters kept as given).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if !(4..=32).contains(&s.len())
            || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(FieldError::new(
                "",
                format!("'{s}' is not an account number: use 4 to 32 letters, digits or dashes"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The account number as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 户名: a person's or organisation's name, 1–100 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerName(String);

impl CustomerName {
    /// Parses a name (trimmed, inner whitespace collapsed).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.is_empty() {
            return Err(FieldError::new("", "a name is required"));
        }
        if s.chars().count() > MAX_NAME_LEN {
            return Err(FieldError::new(
                "",
                format!("a name has at most {MAX_NAME_LEN} characters"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new("", "control characters are not allowed"));
        }
        Ok(Self(s))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An identity document as submitted: a kind code and a number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdDocumentInput {
    /// `resident_id`, `credit_code`, `passport` or `other`.
    pub kind: String,
    /// The document number as typed.
    pub number: String,
}

/// A special date as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialDateInput {
    /// A `SpecialDateKind` code.
    pub kind: String,
    /// `MM-DD` or `YYYY-MM-DD`.
    pub date: String,
    /// Optional label.
    pub label: Option<String>,
}

/// A customer record as submitted by the API, an import row or the demo generator: plain text,
/// not yet checked. Field names are the API's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerInput {
    pub account_number: String,
    pub name: String,
    pub id_document: Option<IdDocumentInput>,
    pub phones: Vec<String>,
    pub address: String,
    pub supply_unit_id: i64,
    pub grid: String,
    pub usage_category: String,
    pub voltage: String,
    pub contract_capacity_kva: Option<i64>,
    pub industry: Option<String>,
    pub business_format: Option<String>,
    pub scale: Option<String>,
    pub value_tier: Option<String>,
    pub service_grade: Option<String>,
    pub tags: Vec<String>,
    pub special_dates: Vec<SpecialDateInput>,
}

/// A valid customer record: every field checked, normalised and typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    /// 户号, unique in the archive.
    pub account_number: AccountNumber,
    /// 户名.
    pub name: CustomerName,
    /// 证件, when known.
    pub id_document: Option<IdDocument>,
    /// Contact phones, normalised, without duplicates, in the order given.
    pub phones: Vec<Phone>,
    /// 用电地址.
    pub address: String,
    /// 供电单位: the org unit that owns the customer.
    pub supply_unit_id: OrgUnitId,
    /// 城网 / 农网.
    pub grid: Grid,
    /// 用电类别.
    pub usage_category: UsageCategory,
    /// 电压等级.
    pub voltage: Voltage,
    /// 合同容量 in kVA.
    pub contract_capacity_kva: Option<i64>,
    /// 行业.
    pub industry: Option<String>,
    /// 业态.
    pub business_format: Option<BusinessFormat>,
    /// 规模.
    pub scale: Option<Scale>,
    /// 价值分层.
    pub value_tier: Option<ValueTier>,
    /// 服务等级.
    pub service_grade: Option<ServiceGrade>,
    /// Free tags, trimmed, without duplicates, sorted.
    pub tags: Vec<String>,
    /// 纪念日.
    pub special_dates: Vec<SpecialDate>,
}

fn optional_text(field: &str, v: &Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > MAX_FREE_TEXT || t.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            format!("at most {MAX_FREE_TEXT} characters, no control characters"),
        ));
        return None;
    }
    Some(t.to_owned())
}

fn optional_code<T>(
    field: &str,
    v: &Option<String>,
    parse: fn(&str, &str) -> Result<T, FieldError>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let code = v.as_deref().map(str::trim).filter(|c| !c.is_empty())?;
    parse(field, code).map_err(|e| errors.push(e)).ok()
}

impl CustomerRecord {
    /// Checks every field of `input`, returning all problems at once (an import reports them all).
    pub fn validate(input: &CustomerInput, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let account_number = AccountNumber::parse(&input.account_number)
            .map_err(|e| errors.push(e.under("account_number")))
            .ok();
        let name = CustomerName::parse(&input.name)
            .map_err(|e| errors.push(e.under("name")))
            .ok();

        let id_document = match &input.id_document {
            Some(doc) if !(doc.kind.trim().is_empty() && doc.number.trim().is_empty()) => {
                match IdKind::parse_code("kind", doc.kind.trim()) {
                    Ok(kind) => IdDocument::parse(kind, &doc.number, today)
                        .map_err(|e| errors.push(e.under("id_document")))
                        .ok(),
                    Err(e) => {
                        errors.push(e.under("id_document"));
                        None
                    }
                }
            }
            _ => None,
        };

        if input.phones.len() > MAX_PHONES {
            errors.push(FieldError::new(
                "phones",
                format!("at most {MAX_PHONES} phone numbers"),
            ));
        }
        let mut phones: Vec<Phone> = Vec::new();
        for (i, raw) in input.phones.iter().enumerate().take(MAX_PHONES) {
            match Phone::parse(raw) {
                Ok(p) if !phones.contains(&p) => phones.push(p),
                Ok(_) => {}
                Err(e) => errors.push(e.under(&format!("phones[{i}]"))),
            }
        }

        let address = input.address.trim().to_owned();
        if address.is_empty() {
            errors.push(FieldError::new("address", "an address is required"));
        } else if address.chars().count() > MAX_ADDRESS_LEN || address.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "address",
                format!("at most {MAX_ADDRESS_LEN} characters, no control characters"),
            ));
        }
        if input.supply_unit_id <= 0 {
            errors.push(FieldError::new(
                "supply_unit_id",
                "a supply unit is required",
            ));
        }
        let grid = Grid::parse_code("grid", input.grid.trim())
            .map_err(|e| errors.push(e))
            .ok();
        let usage_category =
            UsageCategory::parse_code("usage_category", input.usage_category.trim())
                .map_err(|e| errors.push(e))
                .ok();
        let voltage = Voltage::parse_code("voltage", input.voltage.trim())
            .map_err(|e| errors.push(e))
            .ok();
        let contract_capacity_kva = match input.contract_capacity_kva {
            Some(c) if !(0..=MAX_CONTRACT_KVA).contains(&c) => {
                errors.push(FieldError::new(
                    "contract_capacity_kva",
                    format!("must be between 0 and {MAX_CONTRACT_KVA} kVA"),
                ));
                None
            }
            other => other,
        };
        let industry = optional_text("industry", &input.industry, &mut errors);
        let business_format = optional_code(
            "business_format",
            &input.business_format,
            BusinessFormat::parse_code,
            &mut errors,
        );
        let scale = optional_code("scale", &input.scale, Scale::parse_code, &mut errors);
        let value_tier = optional_code(
            "value_tier",
            &input.value_tier,
            ValueTier::parse_code,
            &mut errors,
        );
        let service_grade = optional_code(
            "service_grade",
            &input.service_grade,
            ServiceGrade::parse_code,
            &mut errors,
        );

        let mut tags: Vec<String> = Vec::new();
        if input.tags.len() > MAX_TAGS {
            errors.push(FieldError::new("tags", format!("at most {MAX_TAGS} tags")));
        }
        for (i, t) in input.tags.iter().enumerate().take(MAX_TAGS) {
            let t = t.trim();
            if t.is_empty() || t.chars().count() > MAX_TAG_LEN || t.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    format!("tags[{i}]"),
                    format!("a tag has 1 to {MAX_TAG_LEN} characters"),
                ));
            } else if !tags.iter().any(|x| x == t) {
                tags.push(t.to_owned());
            }
        }
        tags.sort();

        let mut special_dates = Vec::new();
        if input.special_dates.len() > MAX_SPECIAL_DATES {
            errors.push(FieldError::new(
                "special_dates",
                format!("at most {MAX_SPECIAL_DATES} special dates"),
            ));
        }
        for (i, sd) in input
            .special_dates
            .iter()
            .enumerate()
            .take(MAX_SPECIAL_DATES)
        {
            let field = format!("special_dates[{i}]");
            match SpecialDateKind::parse_code("kind", sd.kind.trim()) {
                Ok(kind) => match SpecialDate::parse(kind, &sd.date, sd.label.as_deref(), today) {
                    Ok(d) => special_dates.push(d),
                    Err(e) => errors.push(e.under(&field)),
                },
                Err(e) => errors.push(e.under(&field)),
            }
        }

        match (account_number, name, grid, usage_category, voltage) {
            (Some(account_number), Some(name), Some(grid), Some(usage_category), Some(voltage))
                if errors.is_empty() =>
            {
                Ok(Self {
                    account_number,
                    name,
                    id_document,
                    phones,
                    address,
                    supply_unit_id: OrgUnitId(input.supply_unit_id),
                    grid,
                    usage_category,
                    voltage,
                    contract_capacity_kva,
                    industry,
                    business_format,
                    scale,
                    value_tier,
                    service_grade,
                    tags,
                    special_dates,
                })
            }
            _ => Err(errors),
        }
    }

    /// Whether this is a large customer: high voltage (10 kV+), i.e. with its own transformer.
    pub fn is_large_customer(&self) -> bool {
        self.voltage.is_high()
    }

    /// Every field rendered as text, in a fixed order, for history and diffs.
    pub fn field_texts(&self) -> Vec<(&'static str, String)> {
        let opt = |o: Option<&str>| o.unwrap_or("").to_owned();
        vec![
            ("account_number", self.account_number.as_str().to_owned()),
            ("name", self.name.as_str().to_owned()),
            (
                "id_document.kind",
                opt(self.id_document.as_ref().map(|d| d.kind().code())),
            ),
            (
                "id_document.number",
                opt(self.id_document.as_ref().map(IdDocument::number)),
            ),
            (
                "phones",
                self.phones
                    .iter()
                    .map(Phone::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("address", self.address.clone()),
            ("supply_unit_id", self.supply_unit_id.to_string()),
            ("grid", self.grid.code().to_owned()),
            ("usage_category", self.usage_category.code().to_owned()),
            ("voltage", self.voltage.code().to_owned()),
            (
                "contract_capacity_kva",
                self.contract_capacity_kva
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            ),
            ("industry", opt(self.industry.as_deref())),
            (
                "business_format",
                opt(self.business_format.map(|b| b.code())),
            ),
            ("scale", opt(self.scale.map(|s| s.code()))),
            ("value_tier", opt(self.value_tier.map(|v| v.code()))),
            ("service_grade", opt(self.service_grade.map(|g| g.code()))),
            ("tags", self.tags.join(",")),
            (
                "special_dates",
                self.special_dates
                    .iter()
                    .map(|d| format!("{}:{}", d.kind.code(), d.to_date_string()))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        ]
    }
}

/// One field's change: old and new value as text (empty = absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The API name of the field (`phones`, `id_document.number`…).
    pub field: String,
    /// The value before.
    pub old: String,
    /// The value after.
    pub new: String,
}

/// The fields that differ between two records, in field order (empty when nothing changed).
pub fn diff(old: &CustomerRecord, new: &CustomerRecord) -> Vec<FieldChange> {
    old.field_texts()
        .into_iter()
        .zip(new.field_texts())
        .filter(|((_, a), (_, b))| a != b)
        .map(|((field, old), (_, new))| FieldChange {
            field: field.to_owned(),
            old,
            new,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default()
    }

    fn good_input() -> CustomerInput {
        CustomerInput {
            account_number: "3301060001".into(),
            name: "王  秀英".into(),
            id_document: Some(IdDocumentInput {
                kind: "resident_id".into(),
                number: "11010519491231002X".into(),
            }),
            phones: vec!["138 0013 8000".into(), "13800138000".into()],
            address: "杭州市西湖区文三路 100 号".into(),
            supply_unit_id: 7,
            grid: "urban".into(),
            usage_category: "residential".into(),
            voltage: "220v".into(),
            tags: vec!["老人".into(), "老人".into(), "独居".into()],
            special_dates: vec![SpecialDateInput {
                kind: "birthday".into(),
                date: "1949-12-31".into(),
                label: None,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let r = CustomerRecord::validate(&good_input(), today());
        let r = r.ok();
        assert_eq!(r.as_ref().map(|r| r.name.as_str()), Some("王 秀英"));
        assert_eq!(r.as_ref().map(|r| r.phones.len()), Some(1));
        assert_eq!(
            r.as_ref().map(|r| r.tags.clone()),
            Some(vec!["独居".to_owned(), "老人".to_owned()])
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut input = good_input();
        input.account_number = "x".into();
        input.phones = vec!["123".into()];
        input.voltage = "999kv".into();
        input.id_document = Some(IdDocumentInput {
            kind: "resident_id".into(),
            number: "110105194912310021".into(),
        });
        let fields: Vec<String> = CustomerRecord::validate(&input, today())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "account_number",
                "id_document.number",
                "phones[0]",
                "voltage"
            ]
        );
    }

    #[test]
    fn diff_lists_only_changed_fields() {
        let a = CustomerRecord::validate(&good_input(), today()).ok();
        let mut input = good_input();
        input.address = "杭州市西湖区文二路 8 号".into();
        let b = CustomerRecord::validate(&input, today()).ok();
        let changes = match (a, b) {
            (Some(a), Some(b)) => diff(&a, &b),
            _ => Vec::new(),
        };
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "address");
        assert_eq!(changes[0].new, "杭州市西湖区文二路 8 号");
    }
}
