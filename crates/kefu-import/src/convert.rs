//! One import row → a `CustomerInput` for the domain's `CustomerRecord::validate`: text is
//! normalised the way billing-system exports need (full-width digits, Chinese labels for coded
//! values, dates in the usual spellings, several phones in one cell), and whatever cannot be
//! converted is reported as a field error, like the domain's own.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use kefu_domain::FieldError;
use kefu_domain::customer::{
    BusinessFormat, CustomerInput, Grid, IdDocumentInput, IdKind, Scale, ServiceGrade,
    SpecialDateInput, UsageCategory, ValueTier, Voltage,
};

use super::mapping::{Columns, Field};

/// Folds full-width ASCII forms (`１３８`, `（`, `－`) and the ideographic space to their
/// half-width forms, so numbers typed with a Chinese input method read as digits. Borrows
/// when there is nothing to fold, as in most cells (an import calls this several times a row).
pub fn half_width(s: &str) -> Cow<'_, str> {
    let wide = |c: char| c == '\u{3000}' || ('\u{ff01}'..='\u{ff5e}').contains(&c);
    if s.is_ascii() || !s.chars().any(wide) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\u{3000}' => ' ',
                '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
                _ => c,
            })
            .collect(),
    )
}

/// A coded value given as its code, Chinese or English label (any case, full-width folded).
macro_rules! code_of {
    ($ty:ty, $raw:expr, $extra:expr) => {{
        let trimmed: &str = $raw.trim();
        // The usual cell holds a code or the Chinese label exactly: no folding needed.
        match <$ty>::ALL
            .iter()
            .find(|v| v.code() == trimmed || v.label_zh() == trimmed)
        {
            Some(v) => v.code().to_owned(),
            None => code_of!(@fold $ty, trimmed, $extra),
        }
    }};
    (@fold $ty:ty, $raw:expr, $extra:expr) => {{
        let raw = half_width($raw).into_owned();
        let key = raw.to_lowercase().replace(' ', "");
        let extra: &[(&str, &str)] = $extra;
        <$ty>::ALL
            .iter()
            .find(|v| {
                v.code() == key
                    || v.label_zh() == raw
                    || v.label_en().to_lowercase().replace(' ', "") == key
            })
            .map(|v| v.code().to_owned())
            .or_else(|| {
                extra
                    .iter()
                    .find(|(alias, _)| *alias == key)
                    .map(|(_, code)| (*code).to_owned())
            })
            // Unknown values go through as typed: the domain refuses them listing the codes.
            .unwrap_or(raw)
    }};
}

/// `10kV`, `10 KV`, `交流10kV`, `0.4kV`, `220V` → the voltage code.
fn voltage_code(raw: &str) -> String {
    let key = half_width(raw)
        .to_lowercase()
        .replace(' ', "")
        .replace("交流", "")
        .replace("千伏", "kv")
        .replace("伏", "v");
    let code = match key.strip_suffix("kv").map(str::parse::<f64>) {
        Some(Ok(kv)) if (kv - 0.22).abs() < 1e-9 => "220v".to_owned(),
        Some(Ok(kv)) if (kv - 0.38).abs() < 1e-9 || (kv - 0.4).abs() < 1e-9 => "380v".to_owned(),
        Some(Ok(kv)) if kv.fract() == 0.0 => format!("{kv}kv"),
        _ => key,
    };
    code_of!(Voltage, &code, &[])
}

/// Days between Excel's day 0 (1899-12-30, after its 1900 leap-year bug) and a serial number.
fn excel_serial(serial: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(Days::new(u64::from(serial)))
}

/// A special date in any usual spelling → `YYYY-MM-DD` or `MM-DD` for the domain:
/// `2026-02-13`, `2026/2/13`, `2026.2.13`, `2026年2月13日`, `20260213`, `02-13`, `0213`, an
/// Excel serial number (`46066`, `46066.0`), with or without a time part.
pub fn normalise_date(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let b = trimmed.as_bytes();
    if b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
    {
        // Already `YYYY-MM-DD`, as billing systems mostly write it.
        return Ok(trimmed.to_owned());
    }
    let s = half_width(trimmed);
    let s = s.split([' ', 'T']).next().unwrap_or("");
    let s = s.replace(['/', '.', '年', '月'], "-").replace('日', "");
    let bad = || {
        format!(
            "'{raw}' is not a date: use 2026-02-13, 2026/2/13, 20260213, 02-13 or an Excel date"
        )
    };
    if let Some(whole) = s.strip_suffix("-0") {
        // `46066.0` from a numeric Excel cell became `46066-0` above.
        if whole.len() == 5 && whole.bytes().all(|b| b.is_ascii_digit()) {
            return normalise_date(whole);
        }
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.len() {
            8 => Ok(format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..])),
            4 => Ok(format!("{}-{}", &s[..2], &s[2..])),
            5 => s
                .parse()
                .ok()
                .and_then(excel_serial)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .ok_or_else(bad),
            _ => Err(bad()),
        };
    }
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str| p.parse::<u32>().ok().filter(|_| !p.is_empty());
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => match (num(y), num(m), num(d)) {
            (Some(y), Some(m), Some(d)) => Ok(format!("{y:04}-{m:02}-{d:02}")),
            _ => Err(bad()),
        },
        [m, d] if m.len() <= 2 && d.len() <= 2 => match (num(m), num(d)) {
            (Some(m), Some(d)) => Ok(format!("{m:02}-{d:02}")),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// Splits a cell holding several values (`138…，139…；0571-…`). Spaces do not split: they occur
/// inside phone numbers.
fn split_list(raw: &str) -> Vec<String> {
    raw.split([',', '，', ';', '；', '、', '/', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A contract capacity: `8`, `8.0`, `1,000`, `315kVA`.
fn capacity(raw: &str) -> Result<i64, String> {
    let s = half_width(raw).to_lowercase().replace([',', ' '], "");
    let s = s.strip_suffix("kva").unwrap_or(&s);
    match s.parse::<f64>() {
        Ok(v) if v.fract() == 0.0 && v.abs() < 1e15 => Ok(v as i64),
        _ => Err(format!("'{raw}' is not a whole number of kVA")),
    }
}

/// The org units an import may name, by code and by (unique) name.
#[derive(Debug, Clone, Default)]
pub struct Units {
    by_key: HashMap<String, i64>,
}

impl Units {
    /// From (id, code, name) triples; a name shared by two units is not a key.
    pub fn new(units: impl IntoIterator<Item = (i64, String, String)>) -> Self {
        let mut by_key = HashMap::new();
        let mut names: HashMap<String, Option<i64>> = HashMap::new();
        for (id, code, name) in units {
            by_key.insert(code.to_lowercase(), id);
            names
                .entry(name)
                .and_modify(|v| *v = None)
                .or_insert(Some(id));
        }
        for (name, id) in names {
            if let Some(id) = id {
                by_key.entry(name).or_insert(id);
            }
        }
        Self { by_key }
    }

    fn find(&self, raw: &str) -> Option<i64> {
        let key = half_width(raw.trim());
        // Codes are kept in lower case; a code as exported, or a name, is found as given.
        self.by_key
            .get(key.as_ref())
            .or_else(|| self.by_key.get(&key.to_lowercase()))
            .copied()
    }
}

/// Converts one row (already split into `columns.headers.len()` cells). Errors name the API
/// field, as the domain's do.
pub fn to_input(
    cells: &[String],
    columns: &Columns,
    units: &Units,
) -> (CustomerInput, Vec<FieldError>) {
    let mut errors = Vec::new();
    let cell = |f: Field| -> &str {
        columns
            .get(f)
            .and_then(|i| cells.get(i))
            .map_or("", |s| s.trim())
    };
    let opt = |f: Field| -> Option<String> {
        let v = cell(f);
        (!v.is_empty()).then(|| v.to_owned())
    };
    let supply_unit_id = match cell(Field::SupplyUnit) {
        "" => 0,
        raw => units.find(raw).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "supply_unit_id",
                format!(
                    "供电单位 '{raw}' 不存在 is not an org unit: use a unit code such as 330106 or its full name"
                ),
            ));
            0
        }),
    };
    let id_number = half_width(cell(Field::IdNumber));
    let id_document = (!id_number.is_empty()).then(|| {
        let kind = match cell(Field::IdKind) {
            "" if id_number
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'X' || b == b'x') =>
            {
                "resident_id".to_owned()
            }
            "" if id_number.len() == 18 => "credit_code".to_owned(),
            "" => "other".to_owned(),
            raw => code_of!(
                IdKind,
                raw,
                &[
                    ("身份证", "resident_id"),
                    ("居民身份证号", "resident_id"),
                    ("信用代码", "credit_code"),
                    ("其他", "other")
                ]
            ),
        };
        IdDocumentInput {
            kind,
            number: id_number.clone().into_owned(),
        }
    });
    let contract_capacity_kva = match cell(Field::ContractCapacity) {
        "" => None,
        raw => capacity(raw)
            .map_err(|reason| errors.push(FieldError::new("contract_capacity_kva", reason)))
            .ok(),
    };
    let mut special_dates = Vec::new();
    for (field, kind) in [
        (Field::Birthday, "birthday"),
        (Field::FoundingDate, "founding"),
        (Field::ContractDate, "contract"),
        (Field::OtherDate, "other"),
    ] {
        let raw = cell(field);
        if raw.is_empty() {
            continue;
        }
        match normalise_date(raw) {
            Ok(date) => special_dates.push(SpecialDateInput {
                kind: kind.to_owned(),
                date,
                label: None,
            }),
            Err(reason) => errors.push(FieldError::new(
                format!("special_dates.{}", field.key()),
                reason,
            )),
        }
    }
    let input = CustomerInput {
        account_number: half_width(cell(Field::AccountNumber)).into_owned(),
        name: cell(Field::Name).to_owned(),
        id_document,
        phones: split_list(&half_width(cell(Field::Phones))),
        address: cell(Field::Address).to_owned(),
        supply_unit_id,
        grid: code_of!(
            Grid,
            cell(Field::Grid),
            &[
                ("城", "urban"),
                ("城市", "urban"),
                ("城镇", "urban"),
                ("城区", "urban"),
                ("乡", "rural"),
                ("农村", "rural"),
                ("乡村", "rural"),
                ("农", "rural")
            ]
        ),
        usage_category: code_of!(
            UsageCategory,
            cell(Field::UsageCategory),
            &[
                ("居民", "residential"),
                ("城镇居民", "residential"),
                ("乡村居民", "residential"),
                ("工商业", "commercial"),
                ("商业", "commercial"),
                ("非居民", "commercial"),
                ("农业", "agricultural")
            ]
        ),
        voltage: voltage_code(cell(Field::Voltage)),
        contract_capacity_kva,
        industry: opt(Field::Industry),
        business_format: opt(Field::BusinessFormat).map(|v| code_of!(BusinessFormat, &v, &[])),
        scale: opt(Field::Scale).map(|v| {
            code_of!(
                Scale,
                &v,
                &[("大", "large"), ("中", "medium"), ("小", "small")]
            )
        }),
        value_tier: opt(Field::ValueTier).map(|v| code_of!(ValueTier, &v, &[])),
        service_grade: opt(Field::ServiceGrade).map(|v| {
            code_of!(
                ServiceGrade,
                &v,
                &[("钻石卡", "diamond"), ("普通卡", "basic")]
            )
        }),
        tags: split_list(cell(Field::Tags)),
        special_dates,
    };
    (input, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_usual_spelling() {
        for raw in [
            "2026-02-13",
            "2026/2/13",
            "20260213",
            "2026.2.13",
            "2026年2月13日",
            "46066",
            "46066.0",
            "2026-02-13 00:00:00",
            "２０２６－０２－１３",
        ] {
            assert_eq!(normalise_date(raw).as_deref(), Ok("2026-02-13"), "{raw}");
        }
        assert_eq!(normalise_date("2/13").as_deref(), Ok("02-13"));
        assert_eq!(normalise_date("0213").as_deref(), Ok("02-13"));
        assert!(normalise_date("13 Feb").is_err());
        assert!(normalise_date("2026-2").is_err());
    }

    #[test]
    fn full_width_digits_fold() {
        assert_eq!(half_width("１３８－００１３－８０００"), "138-0013-8000");
        assert_eq!(
            split_list("13800138000，13900139000"),
            vec!["13800138000", "13900139000"]
        );
    }

    #[test]
    fn coded_values_accept_labels() {
        assert_eq!(code_of!(Grid, "城网", &[]), "urban");
        assert_eq!(code_of!(UsageCategory, "居民生活", &[]), "residential");
        assert_eq!(
            code_of!(UsageCategory, "Large industry", &[]),
            "large_industry"
        );
        assert_eq!(voltage_code("10kV"), "10kv");
        assert_eq!(voltage_code("0.4kV"), "380v");
        assert_eq!(voltage_code("220V"), "220v");
        assert_eq!(voltage_code("交流10千伏"), "10kv");
        assert_eq!(capacity("1,000"), Ok(1000));
        assert_eq!(capacity("315kVA"), Ok(315));
        assert!(capacity("12.5").is_err());
    }
}
