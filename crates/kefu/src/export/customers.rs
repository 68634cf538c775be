//! `kefu export customers`: the archive in the layout `kefu import customers` reads (the
//! billing-system headers of `demo::billing_file`), keyset page by page, so the file can go
//! back to the marketing system or into another kefu. Document numbers and phones are masked
//! as an administrator sees them unless `--unmasked`.

use std::collections::HashMap;

use kefu_domain::customer::{CustomerRecord, CustomerStatus, SpecialDateKind};
use kefu_domain::mask::{mask_document_number, mask_phone};
use kefu_domain::org::OrgPath;
use kefu_store::{Customer, CustomerLookup, MAX_PAGE_SIZE, PageRequest, Store};

use super::sink::Sink;
use crate::demo::billing_file::HEADER;

/// The header of a customer export: the import's columns, then status.
pub fn header() -> Vec<&'static str> {
    let mut h = HEADER.to_vec();
    h.push("状态");
    h
}

fn date_of(record: &CustomerRecord, kind: SpecialDateKind) -> String {
    record
        .special_dates
        .iter()
        .find(|d| d.kind == kind)
        .map(|d| match d.year {
            Some(y) => format!("{y:04}-{:02}-{:02}", d.month, d.day),
            None => format!("{:02}-{:02}", d.month, d.day),
        })
        .unwrap_or_default()
}

/// One customer's cells, in `header()` order.
pub fn cells(c: &Customer, unit_code: &str, unmasked: bool) -> Vec<String> {
    let r = &c.record;
    let doc = r.id_document.as_ref();
    let number = doc.map(|d| d.number().to_owned()).unwrap_or_default();
    let phones: Vec<String> = r
        .phones
        .iter()
        .map(|p| {
            if unmasked {
                p.as_str().to_owned()
            } else {
                mask_phone(p.as_str())
            }
        })
        .collect();
    vec![
        r.account_number.as_str().to_owned(),
        r.name.as_str().to_owned(),
        doc.map(|d| d.kind().code().to_owned()).unwrap_or_default(),
        if unmasked {
            number
        } else {
            mask_document_number(&number)
        },
        phones.join(","),
        r.address.clone(),
        unit_code.to_owned(),
        r.grid.label_zh().to_owned(),
        r.usage_category.label_zh().to_owned(),
        r.voltage.code().to_owned(),
        r.contract_capacity_kva
            .map(|c| c.to_string())
            .unwrap_or_default(),
        r.industry.clone().unwrap_or_default(),
        r.business_format
            .map(|x| x.code().to_owned())
            .unwrap_or_default(),
        r.scale.map(|x| x.code().to_owned()).unwrap_or_default(),
        r.value_tier
            .map(|x| x.code().to_owned())
            .unwrap_or_default(),
        r.service_grade
            .map(|x| x.code().to_owned())
            .unwrap_or_default(),
        r.tags.join(","),
        date_of(r, SpecialDateKind::Birthday),
        date_of(r, SpecialDateKind::Founding),
        date_of(r, SpecialDateKind::ContractAnniversary),
        date_of(r, SpecialDateKind::Other),
        c.status.label_zh().to_owned(),
    ]
}

/// What the customer export selects.
#[derive(Debug, Clone)]
pub struct CustomerFilter {
    /// The subtree.
    pub scope: OrgPath,
    /// Retired customers too.
    pub include_retired: bool,
}

/// Writes every customer the filter selects; returns how many.
pub async fn write(
    store: &dyn Store,
    filter: &CustomerFilter,
    codes: &HashMap<i64, String>,
    unmasked: bool,
    sink: &mut Sink,
) -> anyhow::Result<u64> {
    let mut after = None;
    let mut n = 0;
    loop {
        let page = store
            .find_customers(
                &CustomerLookup::All,
                &filter.scope,
                filter.include_retired,
                PageRequest::new(after, Some(MAX_PAGE_SIZE)),
            )
            .await?;
        for c in &page.items {
            if !filter.include_retired && c.status == CustomerStatus::Retired {
                continue;
            }
            let code = codes
                .get(&c.record.supply_unit_id.0)
                .map_or("", String::as_str);
            sink.row(&cells(c, code, unmasked))?;
            n += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(n),
        }
    }
}
