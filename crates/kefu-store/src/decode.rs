//! Decoding of stored columns back into domain values, written once for every store: each store
//! reads its rows in its own dialect (instants as milliseconds or `timestamptz`) and hands the
//! columns here; any value that breaks a domain rule becomes `StoreError::Corrupt` naming the row.

use chrono::{DateTime, Utc};
use kefu_domain::customer::{
    AccountNumber, BusinessFormat, CustomerName, CustomerRecord, CustomerStatus, Grid, IdDocument,
    IdKind, Phone, Scale, ServiceGrade, SpecialDate, SpecialDateKind, UsageCategory, ValueTier,
    Voltage,
};
use kefu_domain::ids::{CustomerId, OrgUnitId};
use kefu_domain::org::OrgPath;

use crate::{Customer, StoreError};

/// A row that breaks a domain rule.
pub fn corrupt(entity: &'static str, id: i64, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        entity,
        id: id.to_string(),
        reason: reason.into(),
    }
}

/// Parses a stored enum code, or reports the row as corrupt.
pub fn code<T>(
    entity: &'static str,
    id: i64,
    column: &str,
    value: &str,
    from_code: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    from_code(value).ok_or_else(|| corrupt(entity, id, format!("unknown {column} '{value}'")))
}

/// Parses an optional stored enum code, or reports the row as corrupt.
pub fn opt_code<T>(
    entity: &'static str,
    id: i64,
    column: &str,
    value: Option<&str>,
    from_code: fn(&str) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    value
        .map(|v| code(entity, id, column, v, from_code))
        .transpose()
}

/// Reads a stored org path, or reports the row as corrupt.
pub fn path(entity: &'static str, id: i64, s: &str) -> Result<OrgPath, StoreError> {
    OrgPath::from_stored(s).ok_or_else(|| corrupt(entity, id, format!("bad org path '{s}'")))
}

/// A stored special date of customer `customer_id`, checked back into the domain type.
pub fn special_date(
    customer_id: i64,
    kind: &str,
    month: i64,
    day: i64,
    year: Option<i64>,
    label: Option<String>,
) -> Result<SpecialDate, StoreError> {
    const E: &str = "customer";
    let id = customer_id;
    let kind = code(E, id, "special date kind", kind, SpecialDateKind::from_code)?;
    let month = u32::try_from(month).map_err(|_| corrupt(E, id, "bad month"))?;
    let day = u32::try_from(day).map_err(|_| corrupt(E, id, "bad day"))?;
    let year = year
        .map(i32::try_from)
        .transpose()
        .map_err(|_| corrupt(E, id, "bad year"))?;
    if chrono::NaiveDate::from_ymd_opt(year.unwrap_or(2000), month, day).is_none() {
        return Err(corrupt(E, id, format!("bad special date {month}-{day}")));
    }
    Ok(SpecialDate {
        kind,
        month,
        day,
        year,
        label,
    })
}

/// The columns of a `customers` row with instants already read in the dialect's own way; the
/// rest is decoded here once for every store.
#[derive(Debug, Clone)]
pub struct CustomerColumns {
    pub id: i64,
    pub account_number: String,
    pub name: String,
    pub id_kind: Option<String>,
    pub id_number: Option<String>,
    pub address: String,
    pub supply_unit_id: i64,
    pub supply_unit_path: String,
    pub grid: String,
    pub usage_category: String,
    pub voltage: String,
    pub contract_capacity_kva: Option<i64>,
    pub industry: Option<String>,
    pub business_format: Option<String>,
    pub scale: Option<String>,
    pub value_tier: Option<String>,
    pub service_grade: Option<String>,
    pub status: String,
    pub retired_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CustomerColumns {
    /// Builds the stored customer from its row and its child rows (already in order).
    pub fn into_customer(
        self,
        phones: Vec<String>,
        tags: Vec<String>,
        special_dates: Vec<SpecialDate>,
    ) -> Result<Customer, StoreError> {
        const E: &str = "customer";
        let id = self.id;
        let bad = |e: kefu_domain::FieldError| corrupt(E, id, e.to_string());
        let id_document = match (self.id_kind.as_deref(), self.id_number.as_deref()) {
            (Some(k), Some(n)) => {
                let kind = code(E, id, "id_kind", k, IdKind::from_code)?;
                Some(IdDocument::parse(kind, n, Utc::now().date_naive()).map_err(bad)?)
            }
            (None, None) => None,
            _ => return Err(corrupt(E, id, "id_kind and id_number must be set together")),
        };
        let record = CustomerRecord {
            account_number: AccountNumber::parse(&self.account_number).map_err(bad)?,
            name: CustomerName::parse(&self.name).map_err(bad)?,
            id_document,
            phones: phones
                .iter()
                .map(|p| Phone::parse(p).map_err(bad))
                .collect::<Result<_, _>>()?,
            address: self.address,
            supply_unit_id: OrgUnitId(self.supply_unit_id),
            grid: code(E, id, "grid", &self.grid, Grid::from_code)?,
            usage_category: code(
                E,
                id,
                "usage_category",
                &self.usage_category,
                UsageCategory::from_code,
            )?,
            voltage: code(E, id, "voltage", &self.voltage, Voltage::from_code)?,
            contract_capacity_kva: self.contract_capacity_kva,
            industry: self.industry,
            business_format: opt_code(
                E,
                id,
                "business_format",
                self.business_format.as_deref(),
                BusinessFormat::from_code,
            )?,
            scale: opt_code(E, id, "scale", self.scale.as_deref(), Scale::from_code)?,
            value_tier: opt_code(
                E,
                id,
                "value_tier",
                self.value_tier.as_deref(),
                ValueTier::from_code,
            )?,
            service_grade: opt_code(
                E,
                id,
                "service_grade",
                self.service_grade.as_deref(),
                ServiceGrade::from_code,
            )?,
            tags,
            special_dates,
        };
        Ok(Customer {
            id: CustomerId(id),
            record,
            supply_unit_path: path(E, id, &self.supply_unit_path)?,
            status: code(E, id, "status", &self.status, CustomerStatus::from_code)?,
            retired_reason: self.retired_reason,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
