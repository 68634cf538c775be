//! Checking one row: conversion, the domain's validation, account numbers repeated in the file
//! and, for an uploader bound to a unit, supply units outside that unit's scope. Every problem
//! names the file's column header before the API field, so a clerk finds the cell.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use chrono::NaiveDate;
use kefu_domain::customer::{CustomerInput, CustomerRecord};

use crate::convert::{Units, to_input};
use crate::mapping::{Columns, Field};
use crate::source::RawRow;

/// One problem of a bad row: the field (column header and API field) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub reason: String,
}

/// The verdict on one row.
#[derive(Debug)]
pub enum Checked {
    /// Valid and the first row with its account number.
    Good(Box<CustomerRecord>),
    /// Refused; `duplicate` when only because the account number came earlier in the file.
    Bad {
        problems: Vec<Problem>,
        duplicate: bool,
    },
}

/// Checks the rows of one file, remembering the account numbers seen.
pub struct Checker {
    columns: Columns,
    units: Units,
    today: NaiveDate,
    /// Unit ids the uploader may write to; `None` = every unit (the command line).
    scope: Option<HashSet<i64>>,
    hasher: RandomState,
    // Account numbers seen, as 64-bit hashes with their line: constant size per row, so a
    // 10-million-row file costs ~200 MB here rather than the numbers themselves.
    seen: HashMap<u64, u64>,
}

impl Checker {
    /// A checker for a file whose header resolved to `columns`; dates are judged at `today`.
    pub fn new(columns: Columns, units: Units, today: NaiveDate) -> Self {
        Self {
            columns,
            units,
            today,
            scope: None,
            hasher: RandomState::new(),
            seen: HashMap::new(),
        }
    }

    /// Only customers of these units are good rows; others are refused by their supply unit.
    pub fn with_scope(mut self, unit_ids: impl IntoIterator<Item = i64>) -> Self {
        self.scope = Some(unit_ids.into_iter().collect());
        self
    }

    /// The file's columns.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Judges one row (its `problem`, if the reader found one, makes it bad at once).
    pub fn check(&mut self, row: &RawRow) -> Checked {
        if let Some(reason) = &row.problem {
            return bad(vec![Problem {
                field: String::new(),
                reason: reason.clone(),
            }]);
        }
        let (input, mut errors) = to_input(&row.cells, &self.columns, &self.units);
        let record = match CustomerRecord::validate(&input, self.today) {
            Ok(r) if errors.is_empty() => r,
            Ok(_) => return bad(self.problems(&input, errors)),
            Err(more) => {
                // A unit the converter could not find is already reported by name.
                let known: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                errors.extend(more.into_iter().filter(|e| !known.contains(&e.field)));
                return bad(self.problems(&input, errors));
            }
        };
        let unit = record.supply_unit_id.0;
        if self.scope.as_ref().is_some_and(|s| !s.contains(&unit)) {
            return bad(vec![Problem {
                field: field_label(&self.columns, "supply_unit_id"),
                reason: format!(
                    "超出管辖范围 supply unit {} is outside your unit and the units below it: \
                     ask a user of that unit to import this row",
                    row.cells
                        .get(self.columns.get(Field::SupplyUnit).unwrap_or(usize::MAX))
                        .map_or("", |s| s.trim())
                ),
            }]);
        }
        let key = self.hasher.hash_one(record.account_number.as_str());
        if let Some(first) = self.seen.get(&key) {
            return Checked::Bad {
                problems: vec![Problem {
                    field: field_label(&self.columns, "account_number"),
                    reason: format!(
                        "户号重复 account number {} already on line {first}; the first row is kept",
                        record.account_number.as_str()
                    ),
                }],
                duplicate: true,
            };
        }
        self.seen.insert(key, row.line);
        Checked::Good(Box::new(record))
    }

    fn problems(
        &self,
        input: &CustomerInput,
        errors: Vec<kefu_domain::FieldError>,
    ) -> Vec<Problem> {
        errors
            .into_iter()
            .map(|e| Problem {
                field: field_label(&self.columns, &date_field(input, &e.field)),
                reason: e.reason,
            })
            .collect()
    }
}

fn bad(problems: Vec<Problem>) -> Checked {
    Checked::Bad {
        problems,
        duplicate: false,
    }
}

/// The column header a field error belongs to, shown before the API field name.
pub fn field_label(columns: &Columns, field: &str) -> String {
    let root = field.split(['.', '[']).next().unwrap_or(field);
    let f = match root {
        "account_number" => Some(Field::AccountNumber),
        "name" => Some(Field::Name),
        "id_document" => Some(Field::IdNumber),
        "phones" => Some(Field::Phones),
        "address" => Some(Field::Address),
        "supply_unit_id" => Some(Field::SupplyUnit),
        "grid" => Some(Field::Grid),
        "usage_category" => Some(Field::UsageCategory),
        "voltage" => Some(Field::Voltage),
        "contract_capacity_kva" => Some(Field::ContractCapacity),
        "industry" => Some(Field::Industry),
        "business_format" => Some(Field::BusinessFormat),
        "scale" => Some(Field::Scale),
        "value_tier" => Some(Field::ValueTier),
        "service_grade" => Some(Field::ServiceGrade),
        "tags" => Some(Field::Tags),
        _ => None,
    };
    let f = f.or_else(|| {
        // `special_dates.birthday` (named by the converter or by `date_field`).
        let key = field.strip_prefix("special_dates.")?;
        let key = key.split('.').next().unwrap_or(key);
        [
            Field::Birthday,
            Field::FoundingDate,
            Field::ContractDate,
            Field::OtherDate,
        ]
        .into_iter()
        .find(|f| f.key() == key)
    });
    match f.and_then(|f| columns.header_of(f)) {
        Some(h) => format!("{h} {field}"),
        None => field.to_owned(),
    }
}

/// The domain names a special date by position (`special_dates[0].date`); the file names it by
/// column, so the position becomes the column's field (`special_dates.birthday.date`).
fn date_field(input: &CustomerInput, field: &str) -> String {
    let Some(rest) = field.strip_prefix("special_dates[") else {
        return field.to_owned();
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return field.to_owned();
    };
    let key = index
        .parse::<usize>()
        .ok()
        .and_then(|i| input.special_dates.get(i))
        .map(|d| match d.kind.as_str() {
            "founding" => "founding_date",
            "contract" => "contract_date",
            "other" => "other_date",
            _ => "birthday",
        });
    match key {
        Some(key) => format!("special_dates.{key}{tail}"),
        None => field.to_owned(),
    }
}
