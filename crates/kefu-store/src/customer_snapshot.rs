//! The creation snapshot of a customer's `Created` history event (issue 6, migration 0009).
//!
//! A created customer used to get one `customer_event_changes` row per non-empty field (~14
//! rows per customer), which made the history, not the customer, the bulk of an import's
//! writes. A `Created` event now carries its fields in one text column of the event row
//! instead; reading decodes it back into the same "" → value changes, so the history API and
//! pages show a created customer exactly as before. Older events (before 0009) keep their
//! change rows and have no snapshot. Written once here so both stores store the same text.
//!
//! The text was first a JSON array of `[field, value]` pairs, then a compact positional form
//! (values only). Both forms are still read, but no longer written: at 10 million customers
//! the snapshot was the largest table of an initial load (241 of 642 MB per million customers
//! on SQLite) and it only repeated the customer row. A `Created` event now stores neither
//! snapshot nor change rows; its values are the customer's current record with every later
//! change undone (`created_from`), since each later event records the old value of every
//! field it changed.
//!
//! The customers of an initial load have no `Created` event row at all: their batch has one
//! `customer_batch_creations` row (who, when, which id range), and their history shows it as
//! their creation (`BatchCreation::event`).

use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerRecord, FieldChange};
use kefu_domain::ids::{CustomerId, StaffId};

use crate::decode::corrupt;
use crate::{CustomerEvent, CustomerEventKind, StoreError};

/// The id of the `Created` event a batch creation stands for: below every stored event id, so
/// it leads a customer's history.
pub const BATCH_CREATED_EVENT_ID: i64 = 0;

/// Who stored a batch of an initial load, and when: the creation of each of its customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchCreation {
    pub at: DateTime<Utc>,
    pub staff_id: Option<StaffId>,
    pub actor: String,
}

impl BatchCreation {
    /// The `Created` event it stands for in `customer`'s history, with the creation values.
    pub fn event(self, customer: CustomerId, changes: Vec<FieldChange>) -> CustomerEvent {
        CustomerEvent {
            id: BATCH_CREATED_EVENT_ID,
            customer_id: customer,
            at: self.at,
            staff_id: self.staff_id,
            actor: self.actor,
            kind: CustomerEventKind::Created,
            reason: None,
            changes,
        }
    }
}

/// Whether a history page read from the stored events needs a batch creation in front: it is
/// the first page and does not start with the customer's own `Created` event.
pub fn needs_batch_creation(first_page: bool, events: &[CustomerEvent]) -> bool {
    first_page
        && events
            .first()
            .is_none_or(|e| e.kind != CustomerEventKind::Created)
}

/// The fields of a snapshot, in `CustomerRecord::field_texts` order (a test keeps them equal).
const FIELDS: [&str; 18] = [
    "account_number",
    "name",
    "id_document.kind",
    "id_document.number",
    "phones",
    "address",
    "supply_unit_id",
    "grid",
    "usage_category",
    "voltage",
    "contract_capacity_kva",
    "industry",
    "business_format",
    "scale",
    "value_tier",
    "service_grade",
    "tags",
    "special_dates",
];

/// Separates the values of a compact snapshot. A validated record holds no control
/// characters, so it never occurs in a value (`encode_created` checks it all the same).
const SEP: char = '\u{1f}';
/// The first value of a compact snapshot: its format version.
const COMPACT: &str = "2";

/// The snapshot text of a new customer as written before creation values were derived, compact
/// form: the format version, then the value of
/// every field in `FIELDS` order (empty when absent), separated by U+001F. Field names are
/// implied by the position, so the text is about the size of the customer row (~40 % of the
/// JSON form with names), and it is written straight from the record, without building the
/// per-field strings of `field_texts`: an import writes one per customer.
#[cfg(test)]
fn encode_created(record: &CustomerRecord) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(192);
    out.push_str(COMPACT);
    let next = |out: &mut String| out.push(SEP);
    // Writing into a String cannot fail.
    next(&mut out);
    out.push_str(record.account_number.as_str());
    next(&mut out);
    out.push_str(record.name.as_str());
    next(&mut out);
    if let Some(d) = &record.id_document {
        out.push_str(d.kind().code());
    }
    next(&mut out);
    if let Some(d) = &record.id_document {
        out.push_str(d.number());
    }
    next(&mut out);
    for (i, p) in record.phones.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(p.as_str());
    }
    next(&mut out);
    out.push_str(&record.address);
    next(&mut out);
    let _ = write!(out, "{}", record.supply_unit_id);
    next(&mut out);
    out.push_str(record.grid.code());
    next(&mut out);
    out.push_str(record.usage_category.code());
    next(&mut out);
    out.push_str(record.voltage.code());
    next(&mut out);
    if let Some(c) = record.contract_capacity_kva {
        let _ = write!(out, "{c}");
    }
    next(&mut out);
    out.push_str(record.industry.as_deref().unwrap_or(""));
    next(&mut out);
    out.push_str(record.business_format.map_or("", |x| x.code()));
    next(&mut out);
    out.push_str(record.scale.map_or("", |x| x.code()));
    next(&mut out);
    out.push_str(record.value_tier.map_or("", |x| x.code()));
    next(&mut out);
    out.push_str(record.service_grade.map_or("", |x| x.code()));
    next(&mut out);
    out.push_str(&record.tags.join(","));
    next(&mut out);
    for (i, d) in record.special_dates.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(d.kind.code());
        out.push(':');
        out.push_str(&d.to_date_string());
    }
    if out.matches(SEP).count() == FIELDS.len() {
        out
    } else {
        encode_json(record)
    }
}

/// The first snapshot form (migration 0009): a JSON array of `[field, value]` pairs, one per
/// non-empty field. Still read.
#[cfg(test)]
fn encode_json(record: &CustomerRecord) -> String {
    let pairs: Vec<(&'static str, String)> = record
        .field_texts()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    // Serialising strings into a JSON array cannot fail.
    serde_json::to_string(&pairs).unwrap_or_default()
}

/// The `Created` changes of a customer whose creation event stores no snapshot: its current
/// record with every later change undone, newest first. `later` holds the changes of every
/// event after the creation, oldest first (event order, then position), as stored.
pub fn created_from(current: &CustomerRecord, later: &[FieldChange]) -> Vec<FieldChange> {
    let mut values = current.field_texts();
    for change in later.iter().rev() {
        if let Some((_, value)) = values.iter_mut().find(|(f, _)| *f == change.field) {
            value.clone_from(&change.old);
        }
    }
    values
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(field, new)| FieldChange {
            field: field.to_owned(),
            old: String::new(),
            new,
        })
        .collect()
}

/// The changes a snapshot (either form) stands for: each non-empty field from "" to its
/// value. A text that is not a snapshot reports the event as corrupt.
pub fn decode_created(event_id: i64, text: &str) -> Result<Vec<FieldChange>, StoreError> {
    if text.starts_with('[') {
        return decode_json(event_id, text);
    }
    let mut values = text.split(SEP);
    let version = values.next().unwrap_or_default();
    let values: Vec<&str> = values.collect();
    if version != COMPACT || values.len() != FIELDS.len() {
        return Err(corrupt(
            "customer_event",
            event_id,
            format!(
                "unreadable creation snapshot: version '{version}' with {} values",
                values.len()
            ),
        ));
    }
    Ok(FIELDS
        .iter()
        .zip(values)
        .filter(|(_, v)| !v.is_empty())
        .map(|(field, new)| FieldChange {
            field: (*field).to_owned(),
            old: String::new(),
            new: new.to_owned(),
        })
        .collect())
}

fn decode_json(event_id: i64, text: &str) -> Result<Vec<FieldChange>, StoreError> {
    let pairs: Vec<(String, String)> = serde_json::from_str(text).map_err(|e| {
        corrupt(
            "customer_event",
            event_id,
            format!("unreadable creation snapshot: {e}"),
        )
    })?;
    Ok(pairs
        .into_iter()
        .map(|(field, new)| FieldChange {
            field,
            old: String::new(),
            new,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use kefu_domain::customer::{CustomerInput, SpecialDateInput};

    use super::*;

    fn sample_record() -> CustomerRecord {
        let input = CustomerInput {
            account_number: "3300000001".into(),
            name: "张三".into(),
            id_document: None,
            phones: vec!["13900000001".into(), "0571-87000001".into()],
            address: "杭州市西湖区文三路 1 号".into(),
            supply_unit_id: 5,
            grid: "urban".into(),
            usage_category: "residential".into(),
            voltage: "220v".into(),
            contract_capacity_kva: None,
            industry: None,
            business_format: None,
            scale: None,
            value_tier: None,
            service_grade: None,
            tags: vec!["独居".into()],
            special_dates: vec![SpecialDateInput {
                kind: "birthday".into(),
                date: "1960-03-15".into(),
                label: Some("本人生日, \"八十\"".into()),
            }],
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
        CustomerRecord::validate(&input, today).expect("valid sample")
    }

    #[test]
    fn a_snapshot_decodes_to_the_created_changes_in_field_order() {
        let record = sample_record();
        let text = encode_created(&record);
        let changes = decode_created(1, &text).expect("decodes");
        let expected: Vec<FieldChange> = record
            .field_texts()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(f, v)| FieldChange {
                field: f.to_owned(),
                old: String::new(),
                new: v,
            })
            .collect();
        assert_eq!(changes, expected);
        assert!(changes.iter().any(|c| c.field == "name" && c.new == "张三"));
    }

    #[test]
    fn the_compact_fields_are_the_record_fields_in_order() {
        let names: Vec<&str> = sample_record()
            .field_texts()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(names, FIELDS);
    }

    #[test]
    fn a_snapshot_is_written_compact_and_smaller_than_the_json_form() {
        let record = sample_record();
        let text = encode_created(&record);
        assert!(text.starts_with("2\u{1f}3300000001\u{1f}张三"), "{text}");
        assert!(text.len() < encode_json(&record).len() / 2 + 40, "{text}");
    }

    #[test]
    fn a_json_snapshot_of_before_the_compact_form_still_decodes() {
        let record = sample_record();
        let old = decode_created(1, &encode_json(&record)).expect("json decodes");
        let new = decode_created(1, &encode_created(&record)).expect("compact decodes");
        assert_eq!(old, new);
    }

    #[test]
    fn creation_values_are_the_current_record_with_later_changes_undone() {
        let created = sample_record();
        let mut renamed = created.clone();
        renamed.name = kefu_domain::customer::CustomerName::parse("李四").expect("name");
        renamed.tags.clear();
        let mut moved = renamed.clone();
        moved.address = "杭州市上城区解放路 2 号".into();
        moved.name = kefu_domain::customer::CustomerName::parse("王五").expect("name");
        let later: Vec<FieldChange> = [
            kefu_domain::customer::diff(&created, &renamed),
            kefu_domain::customer::diff(&renamed, &moved),
        ]
        .concat();
        assert_eq!(later.len(), 4, "{later:?}");
        let expected = decode_created(1, &encode_created(&created)).expect("decodes");
        assert_eq!(created_from(&moved, &later), expected);
        assert_eq!(created_from(&created, &[]), expected);
    }

    #[test]
    fn a_compact_snapshot_with_the_wrong_number_of_values_is_corrupt() {
        let err = decode_created(9, "2\u{1f}3300000001\u{1f}张三").expect_err("refused");
        assert!(
            matches!(err, StoreError::Corrupt { ref id, .. } if id == "9"),
            "{err}"
        );
    }

    #[test]
    fn a_damaged_snapshot_is_reported_as_corrupt() {
        let err = decode_created(7, "[[\"name\"").expect_err("refused");
        assert!(
            matches!(err, StoreError::Corrupt { ref id, .. } if id == "7"),
            "{err}"
        );
    }
}
