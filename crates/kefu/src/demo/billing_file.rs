//! The demo customers as a billing-system export (issue 6): a UTF-8 CSV with the Chinese
//! headers `kefu import customers` recognises, units by code and vocabularies by their Chinese
//! labels, as 营销系统 files carry them. The import benchmark and `kefu demo --csv` write it; the
//! same seed gives the same file.

use std::collections::HashMap;
use std::io::Write;

use chrono::NaiveDate;
use kefu_domain::customer::{CustomerInput, Grid, UsageCategory};

use super::customers::CustomerGenerator;
use super::org;

/// The header row, in the order of `row`.
pub const HEADER: [&str; 21] = [
    "户号",
    "户名",
    "证件类型",
    "证件号码",
    "联系电话",
    "用电地址",
    "供电单位",
    "城乡",
    "用电类别",
    "电压等级",
    "合同容量",
    "行业",
    "业态",
    "规模",
    "价值分层",
    "客户等级",
    "标签",
    "生日",
    "成立日期",
    "合同签订日期",
    "纪念日",
];

/// Stand-in unit ids for generating without a store: the position of each demo unit, so the
/// file names units by code and the importing store resolves its own ids.
fn unit_ids() -> (HashMap<String, i64>, HashMap<i64, &'static str>) {
    let mut ids = HashMap::new();
    let mut codes = HashMap::new();
    for (i, (_, code, _, _)) in org::units().into_iter().enumerate() {
        let id = i64::try_from(i).unwrap_or(i64::MAX) + 1;
        ids.insert(code.to_owned(), id);
        codes.insert(id, code);
    }
    (ids, codes)
}

/// A vocabulary code as its Chinese label (the generator only writes known codes).
fn label<T: Copy>(found: Option<T>, code: &str, zh: fn(T) -> &'static str) -> String {
    found.map_or_else(|| code.to_owned(), |v| zh(v).to_owned())
}

/// `10kv` → `10kV`, `220v` → `220V`: how billing files write voltages.
fn voltage_text(code: &str) -> String {
    match code.strip_suffix("kv") {
        Some(kv) => format!("{kv}kV"),
        None => code.to_uppercase(),
    }
}

/// The cells of one customer, in `HEADER` order.
pub fn row(input: &CustomerInput, unit_code: &str) -> [String; 21] {
    let date = |kind: &str| {
        input
            .special_dates
            .iter()
            .find(|d| d.kind == kind)
            .map(|d| d.date.clone())
            .unwrap_or_default()
    };
    let (id_kind, id_number) = input
        .id_document
        .as_ref()
        .map(|d| (d.kind.clone(), d.number.clone()))
        .unwrap_or_default();
    [
        input.account_number.clone(),
        input.name.clone(),
        id_kind,
        id_number,
        input.phones.join(","),
        input.address.clone(),
        unit_code.to_owned(),
        label(Grid::from_code(&input.grid), &input.grid, Grid::label_zh),
        label(
            UsageCategory::from_code(&input.usage_category),
            &input.usage_category,
            UsageCategory::label_zh,
        ),
        voltage_text(&input.voltage),
        input
            .contract_capacity_kva
            .map(|c| c.to_string())
            .unwrap_or_default(),
        input.industry.clone().unwrap_or_default(),
        input.business_format.clone().unwrap_or_default(),
        input.scale.clone().unwrap_or_default(),
        input.value_tier.clone().unwrap_or_default(),
        input.service_grade.clone().unwrap_or_default(),
        input.tags.join(","),
        date("birthday"),
        date("founding"),
        date("contract"),
        date("other"),
    ]
}

/// Writes `customers` demo customers of `seed` as CSV to `out`; returns the rows written.
pub fn write_customers(
    out: impl Write,
    seed: u64,
    customers: usize,
    today: NaiveDate,
) -> std::io::Result<usize> {
    let (ids, codes) = unit_ids();
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, out));
    w.write_record(HEADER)?;
    let mut n = 0;
    for input in CustomerGenerator::new(seed, customers, today, ids) {
        let code = codes.get(&input.supply_unit_id).copied().unwrap_or("");
        w.write_record(row(&input, code))?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default()
    }

    fn file(seed: u64, n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let written = write_customers(&mut out, seed, n, today()).expect("written");
        assert_eq!(written, n);
        out
    }

    #[test]
    fn the_same_seed_writes_the_same_file() {
        assert_eq!(file(3, 300), file(3, 300));
        assert_ne!(file(3, 30), file(4, 30));
    }

    #[test]
    fn every_row_has_the_header_width_and_a_unit_code() {
        let data = file(95598, 500);
        let mut r = csv::Reader::from_reader(data.as_slice());
        let header: Vec<String> = r
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, HEADER);
        let mut rows = 0;
        for rec in r.records() {
            let rec = rec.expect("row");
            assert_eq!(rec.len(), HEADER.len());
            assert!(rec[6].len() >= 6, "unit code {:?}", &rec[6]);
            assert!(Grid::ALL.iter().any(|g| g.label_zh() == &rec[7]), "{rec:?}");
            rows += 1;
        }
        assert_eq!(rows, 500);
    }
}
