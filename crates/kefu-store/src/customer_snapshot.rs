//! The creation snapshot of a customer's `Created` history event (issue 6, migration 0009).
//!
//! A created customer used to get one `customer_event_changes` row per non-empty field (~14
//! rows per customer), which made the history, not the customer, the bulk of an import's
//! writes. A `Created` event now carries its fields in one text column of the event row
//! instead; reading decodes it back into the same "" → value changes, so the history API and
//! pages show a created customer exactly as before. Older events (before 0009) keep their
//! change rows and have no snapshot. Written once here so both stores store the same text.

use kefu_domain::customer::{CustomerRecord, FieldChange};

use crate::StoreError;
use crate::decode::corrupt;

/// The snapshot text of a new customer: a JSON array of `[field, value]` pairs, one per
/// non-empty field, in the record's field order (the order of the history display).
pub fn encode_created(record: &CustomerRecord) -> String {
    let pairs: Vec<(&'static str, String)> = record
        .field_texts()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    // Serialising strings into a JSON array cannot fail.
    serde_json::to_string(&pairs).unwrap_or_default()
}

/// The changes a snapshot stands for: each field from "" to its value. A text that is not a
/// snapshot reports the event as corrupt.
pub fn decode_created(event_id: i64, text: &str) -> Result<Vec<FieldChange>, StoreError> {
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
    fn a_damaged_snapshot_is_reported_as_corrupt() {
        let err = decode_created(7, "[[\"name\"").expect_err("refused");
        assert!(
            matches!(err, StoreError::Corrupt { ref id, .. } if id == "7"),
            "{err}"
        );
    }
}
