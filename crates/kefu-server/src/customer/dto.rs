//! The customer archive's request and response bodies, their conversion to and from domain
//! types, and the masking of personal data (ID numbers, phones) for roles that may not see it.

use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::customer::{CustomerInput, FieldChange, IdDocumentInput, SpecialDateInput};
use kefu_domain::mask::{mask_document_number, mask_phone};
use kefu_store::{Customer, CustomerEvent, SpecialDateHit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An identity document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdDocumentDto {
    /// resident_id (GB 11643 checked), credit_code (GB 32100 checked), passport, other.
    pub kind: String,
    /// The number; masked (`110***********002X`) for roles without personal-data access.
    pub number: String,
}

/// A special date (纪念日).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecialDateDto {
    /// birthday, founding, contract, other.
    pub kind: String,
    /// `MM-DD` or `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub label: Option<String>,
}

/// Declares a customer request body: the record's fields plus `$extra` ones.
macro_rules! customer_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $extra:ident : $ety:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $extra: $ety,)*
            /// 户号: 4–32 letters, digits or dashes, unique.
            pub account_number: String,
            /// 户名.
            pub name: String,
            /// 证件.
            #[serde(default)]
            pub id_document: Option<IdDocumentDto>,
            /// Up to 5 phones (mobile or landline with area code).
            #[serde(default)]
            pub phones: Vec<String>,
            /// 用电地址.
            pub address: String,
            /// 供电单位: an org unit in the caller's scope.
            pub supply_unit_id: i64,
            /// urban or rural.
            pub grid: String,
            /// residential, commercial, large_industry, agricultural.
            pub usage_category: String,
            /// 220v, 380v, 10kv, 20kv, 35kv, 110kv, 220kv.
            pub voltage: String,
            #[serde(default)]
            pub contract_capacity_kva: Option<i64>,
            #[serde(default)]
            pub industry: Option<String>,
            #[serde(default)]
            pub business_format: Option<String>,
            #[serde(default)]
            pub scale: Option<String>,
            #[serde(default)]
            pub value_tier: Option<String>,
            #[serde(default)]
            pub service_grade: Option<String>,
            #[serde(default)]
            pub tags: Vec<String>,
            #[serde(default)]
            pub special_dates: Vec<SpecialDateDto>,
        }

        impl $name {
            /// The domain's unchecked input.
            pub fn to_input(&self) -> CustomerInput {
                CustomerInput {
                    account_number: self.account_number.clone(),
                    name: self.name.clone(),
                    id_document: self.id_document.as_ref().map(|d| IdDocumentInput {
                        kind: d.kind.clone(),
                        number: d.number.clone(),
                    }),
                    phones: self.phones.clone(),
                    address: self.address.clone(),
                    supply_unit_id: self.supply_unit_id,
                    grid: self.grid.clone(),
                    usage_category: self.usage_category.clone(),
                    voltage: self.voltage.clone(),
                    contract_capacity_kva: self.contract_capacity_kva,
                    industry: self.industry.clone(),
                    business_format: self.business_format.clone(),
                    scale: self.scale.clone(),
                    value_tier: self.value_tier.clone(),
                    service_grade: self.service_grade.clone(),
                    tags: self.tags.clone(),
                    special_dates: self
                        .special_dates
                        .iter()
                        .map(|d| SpecialDateInput {
                            kind: d.kind.clone(),
                            date: d.date.clone(),
                            label: d.label.clone(),
                        })
                        .collect(),
                }
            }
        }
    };
}

customer_body!(
    /// A new customer record.
    CreateCustomer {}
);

customer_body!(
    /// A full replacement of a customer record, based on `version`.
    UpdateCustomer {
        /// The `version` the edit was based on; a stale one is refused with 409.
        version: i64,
    }
);

/// Retire a customer from the archive (the record and its history are kept).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireCustomer {
    /// Why (销户, 过户 …), 1–200 characters.
    pub reason: String,
    pub version: i64,
}

/// Bring a retired customer back.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReinstateCustomer {
    pub version: i64,
}

/// A customer as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerDto {
    pub id: i64,
    pub account_number: String,
    pub name: String,
    pub id_document: Option<IdDocumentDto>,
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
    pub special_dates: Vec<SpecialDateDto>,
    /// active or retired.
    pub status: String,
    pub retired_reason: Option<String>,
    /// Send back with updates.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether ID number and phones are masked for this caller.
    pub personal_data_masked: bool,
}

/// Whether a customer carries personal data (so an unmasked read of it is audited).
pub fn has_personal_data(c: &Customer) -> bool {
    c.record.id_document.is_some() || !c.record.phones.is_empty()
}

impl CustomerDto {
    /// The DTO, with personal data masked unless `unmasked`.
    pub fn new(c: &Customer, unmasked: bool) -> Self {
        let r = &c.record;
        Self {
            id: c.id.0,
            account_number: r.account_number.as_str().to_owned(),
            name: r.name.as_str().to_owned(),
            id_document: r.id_document.as_ref().map(|d| IdDocumentDto {
                kind: d.kind().code().to_owned(),
                number: if unmasked {
                    d.number().to_owned()
                } else {
                    mask_document_number(d.number())
                },
            }),
            phones: r
                .phones
                .iter()
                .map(|p| {
                    if unmasked {
                        p.as_str().to_owned()
                    } else {
                        mask_phone(p.as_str())
                    }
                })
                .collect(),
            address: r.address.clone(),
            supply_unit_id: r.supply_unit_id.0,
            grid: r.grid.code().to_owned(),
            usage_category: r.usage_category.code().to_owned(),
            voltage: r.voltage.code().to_owned(),
            contract_capacity_kva: r.contract_capacity_kva,
            industry: r.industry.clone(),
            business_format: r.business_format.map(|x| x.code().to_owned()),
            scale: r.scale.map(|x| x.code().to_owned()),
            value_tier: r.value_tier.map(|x| x.code().to_owned()),
            service_grade: r.service_grade.map(|x| x.code().to_owned()),
            tags: r.tags.clone(),
            special_dates: r
                .special_dates
                .iter()
                .map(|d| SpecialDateDto {
                    kind: d.kind.code().to_owned(),
                    date: d.to_date_string(),
                    label: d.label.clone(),
                })
                .collect(),
            status: c.status.code().to_owned(),
            retired_reason: c.retired_reason.clone(),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
            personal_data_masked: !unmasked,
        }
    }
}

/// One page of customers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One field's change, old → new (empty = absent).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldChangeDto {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// Fields whose history values are personal data.
const PERSONAL_FIELDS: [&str; 2] = ["phones", "id_document.number"];

fn mask_value(field: &str, value: &str) -> String {
    match field {
        "phones" => value
            .split(',')
            .filter(|p| !p.is_empty())
            .map(mask_phone)
            .collect::<Vec<_>>()
            .join(","),
        "id_document.number" if !value.is_empty() => mask_document_number(value),
        _ => value.to_owned(),
    }
}

/// Whether a history event shows personal data.
pub fn event_has_personal_data(e: &CustomerEvent) -> bool {
    e.changes.iter().any(|c| {
        PERSONAL_FIELDS.contains(&c.field.as_str()) && !(c.old.is_empty() && c.new.is_empty())
    })
}

impl FieldChangeDto {
    fn new(c: &FieldChange, unmasked: bool) -> Self {
        let (old, new) = if unmasked {
            (c.old.clone(), c.new.clone())
        } else {
            (mask_value(&c.field, &c.old), mask_value(&c.field, &c.new))
        };
        Self {
            field: c.field.clone(),
            old,
            new,
        }
    }
}

/// One history event: who, when, what, old → new.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEventDto {
    /// The event's id; 0 for the creation of a customer stored by the archive's initial load
    /// (recorded once for its whole batch).
    pub id: i64,
    pub at: DateTime<Utc>,
    pub staff_id: Option<i64>,
    /// `staff:12` or `system:import`.
    pub actor: String,
    /// created, updated, retired, reinstated.
    pub kind: String,
    pub reason: Option<String>,
    pub changes: Vec<FieldChangeDto>,
}

impl HistoryEventDto {
    /// The DTO, masking personal values unless `unmasked`.
    pub fn new(e: &CustomerEvent, unmasked: bool) -> Self {
        Self {
            id: e.id,
            at: e.at,
            staff_id: e.staff_id.map(|s| s.0),
            actor: e.actor.clone(),
            kind: e.kind.code().to_owned(),
            reason: e.reason.clone(),
            changes: e
                .changes
                .iter()
                .map(|c| FieldChangeDto::new(c, unmasked))
                .collect(),
        }
    }
}

/// One page of a customer's history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    pub items: Vec<HistoryEventDto>,
    pub next_cursor: Option<String>,
}

/// A customer with a special date in the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecialDateHitDto {
    /// The day it falls on within the window.
    pub on: NaiveDate,
    pub special_date: SpecialDateDto,
    pub customer: CustomerDto,
}

impl SpecialDateHitDto {
    /// The DTO, masking personal data unless `unmasked`.
    pub fn new(h: &SpecialDateHit, unmasked: bool) -> Self {
        Self {
            on: h.on,
            special_date: SpecialDateDto {
                kind: h.special_date.kind.code().to_owned(),
                date: h.special_date.to_date_string(),
                label: h.special_date.label.clone(),
            },
            customer: CustomerDto::new(&h.customer, unmasked),
        }
    }
}

/// Special dates from `from` over `days` days.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecialDatesResponse {
    pub from: NaiveDate,
    pub days: u32,
    pub items: Vec<SpecialDateHitDto>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_values_of_personal_fields_are_masked() {
        assert_eq!(
            mask_value("phones", "13800138000,057187654321"),
            "138****8000,0571******21"
        );
        assert_eq!(
            mask_value("id_document.number", "11010519491231002X"),
            "110***********002X"
        );
        assert_eq!(mask_value("id_document.number", ""), "");
        assert_eq!(mask_value("address", "文三路"), "文三路");
    }
}
