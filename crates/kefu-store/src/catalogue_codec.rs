//! The text encodings of the editable settings, written once for both stores (the domain has no
//! serde): the sub-category catalogue and the major-appeal rules as small JSON objects built
//! field by field. Decoding goes back through the domain's constructors (`Catalogue::new`,
//! `MajorRules::new`), so a stored value that breaks a rule is never handed out; the error text
//! names the field, and the stores wrap it into `StoreError::Corrupt`.

use kefu_domain::FieldError;
use kefu_domain::org::DepartmentKind;
use kefu_domain::workorder::{
    AppealType, Catalogue, Gravity, MajorRules, SubCategory, SubCategoryCode,
};
use serde_json::{Value, json};

use crate::workorder_codec::{code, list, text};

/// The stored code of a gravity (the domain's enum has none: it never leaves the process).
fn gravity_code(g: Gravity) -> &'static str {
    match g {
        Gravity::Ordinary => "ordinary",
        Gravity::AlwaysMajor => "always_major",
    }
}

fn gravity_from(s: &str) -> Option<Gravity> {
    match s {
        "ordinary" => Some(Gravity::Ordinary),
        "always_major" => Some(Gravity::AlwaysMajor),
        _ => None,
    }
}

/// Encodes a catalogue: `{"entries": [{"code", "appeal_type", "name_zh", "name_en",
/// "department", "gravity"}, …]}` in catalogue order.
pub fn encode_catalogue(c: &Catalogue) -> String {
    let entries: Vec<Value> = c
        .entries()
        .iter()
        .map(|e| {
            json!({
                "code": e.code.as_str(),
                "appeal_type": e.appeal_type.code(),
                "name_zh": e.name_zh,
                "name_en": e.name_en,
                "department": e.department.code(),
                "gravity": gravity_code(e.gravity),
            })
        })
        .collect();
    json!({ "entries": entries }).to_string()
}

/// Decodes a catalogue written by `encode_catalogue`, validated by `Catalogue::new`.
pub fn decode_catalogue(raw: &str) -> Result<Catalogue, String> {
    let v: Value = serde_json::from_str(raw).map_err(|e| format!("catalogue is not JSON: {e}"))?;
    let entries = list(&v, "entries")?
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = |err: String| format!("entries[{i}].{err}");
            Ok(SubCategory {
                code: SubCategoryCode::parse(&text(e, "code").map_err(at)?)
                    .map_err(|err| at(format!("code: {}", err.reason)))?,
                appeal_type: code(e, "appeal_type", AppealType::from_code).map_err(at)?,
                name_zh: text(e, "name_zh").map_err(at)?,
                name_en: text(e, "name_en").map_err(at)?,
                department: code(e, "department", DepartmentKind::from_code).map_err(at)?,
                gravity: code(e, "gravity", gravity_from).map_err(at)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Catalogue::new(entries).map_err(|errors| field_errors(&errors))
}

/// Encodes major-appeal rules: `{"keywords": […], "sub_categories": […]}`.
pub fn encode_major_rules(r: &MajorRules) -> String {
    json!({
        "keywords": r.keywords,
        "sub_categories": r.sub_categories.iter().map(SubCategoryCode::as_str).collect::<Vec<_>>(),
    })
    .to_string()
}

/// Decodes rules written by `encode_major_rules`, validated by `MajorRules::new`.
pub fn decode_major_rules(raw: &str) -> Result<MajorRules, String> {
    let v: Value =
        serde_json::from_str(raw).map_err(|e| format!("major rules are not JSON: {e}"))?;
    let keywords = list(&v, "keywords")?
        .iter()
        .enumerate()
        .map(|(i, k)| {
            k.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("keywords[{i}] is not text"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let sub_categories = list(&v, "sub_categories")?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.as_str()
                .ok_or_else(|| format!("sub_categories[{i}] is not text"))
                .and_then(|s| {
                    SubCategoryCode::parse(s)
                        .map_err(|e| format!("sub_categories[{i}]: {}", e.reason))
                })
        })
        .collect::<Result<Vec<_>, String>>()?;
    MajorRules::new(keywords, sub_categories).map_err(|errors| field_errors(&errors))
}

/// The domain's refusals as one line: `entries[3].code: …; entries[5].name_en: …`.
fn field_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalogue_round_trips() {
        let d = Catalogue::defaults();
        assert_eq!(decode_catalogue(&encode_catalogue(&d)), Ok(d));
    }

    #[test]
    fn rules_round_trip_with_sub_categories() {
        let mut r = MajorRules::defaults();
        r.sub_categories
            .push(SubCategoryCode::parse("complaint.outage").expect("code"));
        assert_eq!(decode_major_rules(&encode_major_rules(&r)), Ok(r));
    }

    #[test]
    fn a_stored_catalogue_breaking_a_rule_is_refused_naming_the_field() {
        let raw = encode_catalogue(&Catalogue::defaults()).replace("\"praise\"", "\"gripe\"");
        let err = decode_catalogue(&raw).err().unwrap_or_default();
        assert!(err.contains("appeal_type"), "{err}");
        let err = decode_catalogue("{\"entries\": []}")
            .err()
            .unwrap_or_default();
        assert!(err.contains("has no sub-category"), "{err}");
        let err = decode_catalogue("[1]").err().unwrap_or_default();
        assert!(err.contains("entries is missing"), "{err}");
    }

    #[test]
    fn stored_rules_breaking_a_rule_are_refused() {
        let err =
            decode_major_rules("{\"keywords\": [\"记者\", \"记者\"], \"sub_categories\": []}")
                .err()
                .unwrap_or_default();
        assert!(err.contains("keywords[1]"), "{err}");
        let err = decode_major_rules("{\"keywords\": [], \"sub_categories\": [\"x\"]}")
            .err()
            .unwrap_or_default();
        assert!(err.contains("sub_categories[0]"), "{err}");
    }
}
