//! Helpers of the import tests: a seeded org tree, fixture files in each encoding, an Excel
//! workbook written with rust_xlsxwriter, and reading back what the store holds.

use std::path::{Path, PathBuf};

use kefu::config::{Database, DatabaseUrl};
use kefu_domain::org::{OrgCode, OrgLevel};
use kefu_store::{Actor, Customer, CustomerLookup, NewOrgUnit, PageRequest, Store};

use crate::support::Backend;

pub fn database(backend: &Backend) -> Database {
    match backend {
        Backend::Sqlite(dir) => Database::Sqlite(PathBuf::from(dir).join("data").join("kefu.db")),
        Backend::Postgres { url, schema } => Database::Postgres {
            url: DatabaseUrl::new(url.clone()),
            schema: Some(schema.clone()),
        },
    }
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

async fn store(backend: &Backend) -> std::sync::Arc<dyn Store> {
    kefu::db::open_migrated(&database(backend))
        .await
        .expect("store")
}

/// HQ → 33 → 3301 → 330106 → station 33010601 (西湖供电所).
pub fn seed(backend: &Backend) {
    block_on(async {
        let store = store(backend).await;
        let sys = Actor::System("test");
        let mut parent = None;
        for (code, name, level) in [
            ("hq", "国家电网", OrgLevel::Hq),
            ("33", "国网浙江省电力", OrgLevel::Province),
            ("3301", "国网杭州供电公司", OrgLevel::City),
            ("330106", "西湖区供电中心", OrgLevel::County),
            ("33010601", "西湖供电所", OrgLevel::Station),
        ] {
            let unit = NewOrgUnit {
                parent_id: parent,
                code: OrgCode::parse(code).expect("code"),
                name: name.to_owned(),
                level,
            };
            parent = Some(store.create_org_unit(unit, &sys).await.expect("unit").id);
        }
    });
}

/// Every stored customer, by id.
pub fn customers(backend: &Backend) -> Vec<Customer> {
    block_on(async {
        let store = store(backend).await;
        let root = store
            .get_org_unit(kefu_domain::ids::OrgUnitId(1))
            .await
            .expect("get")
            .expect("hq");
        store
            .find_customers(
                &CustomerLookup::All,
                &root.path,
                true,
                PageRequest::new(None, Some(500)),
            )
            .await
            .expect("find")
            .items
    })
}

/// History length of the customer with `account`.
pub fn history_len(backend: &Backend, account: &str) -> usize {
    block_on(async {
        let store = store(backend).await;
        let root = store
            .get_org_unit(kefu_domain::ids::OrgUnitId(1))
            .await
            .expect("get")
            .expect("hq");
        let c = store
            .find_customers(
                &CustomerLookup::Account(account.to_owned()),
                &root.path,
                true,
                PageRequest::new(None, Some(5)),
            )
            .await
            .expect("find")
            .items
            .pop()
            .expect("customer");
        store
            .customer_history(c.id, &root.path, PageRequest::new(None, Some(50)))
            .await
            .expect("history")
            .items
            .len()
    })
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture")
}

/// The encodings a CSV fixture is tried in.
#[derive(Debug, Clone, Copy)]
pub enum Enc {
    Utf8,
    Utf8Bom,
    Gbk,
}

pub const ENCODINGS: [Enc; 3] = [Enc::Utf8, Enc::Utf8Bom, Enc::Gbk];

pub fn encode(text: &str, enc: Enc) -> Vec<u8> {
    match enc {
        Enc::Utf8 => text.as_bytes().to_vec(),
        Enc::Utf8Bom => {
            let mut b = vec![0xef, 0xbb, 0xbf];
            b.extend_from_slice(text.as_bytes());
            b
        }
        Enc::Gbk => {
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
            assert!(!unmappable, "fixture text must fit GBK");
            bytes.into_owned()
        }
    }
}

/// Writes `bytes` as `name` in `dir`.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write work file");
    path
}

/// The report's data lines as (line, field, reason).
pub fn report_lines(path: &Path) -> Vec<(u64, String, String)> {
    let bytes = std::fs::read(path).expect("report");
    assert!(
        bytes.starts_with(&[0xef, 0xbb, 0xbf]),
        "the report starts with a BOM"
    );
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&bytes[3..]);
    reader
        .records()
        .map(|r| {
            let r = r.expect("report row");
            (
                r[0].parse().expect("line number"),
                r[1].to_owned(),
                r[2].to_owned(),
            )
        })
        .collect()
}

/// The main fixture's rows as an Excel workbook: account numbers and mobile numbers as number
/// cells, one birthday as a date cell, one as a serial number, a full-width phone as text.
pub fn workbook(dir: &Path) -> PathBuf {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let headers = [
        "户号",
        "户名",
        "证件号码",
        "联系电话",
        "用电地址",
        "供电单位",
        "城乡",
        "用电类别",
        "电压等级",
        "合同容量(kVA)",
        "客户等级",
        "生日",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    let text = |sheet: &mut rust_xlsxwriter::Worksheet, r: u32, cells: &[&str]| {
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r, c as u16, *v).expect("cell");
            }
        }
    };
    // Line 2: numbers and a date cell.
    text(
        sheet,
        1,
        &[
            "",
            "王秀英",
            "11010519491231002X",
            "",
            "杭州市西湖区文三路100号",
            "330106",
            "城网",
            "居民生活",
            "220V",
            "",
            "金卡",
        ],
    );
    sheet.write_number(1, 0, 3_301_060_001.0).expect("account");
    sheet.write_number(1, 3, 13_800_138_000.0).expect("phone");
    sheet.write_number(1, 9, 8.0).expect("capacity");
    let birthday = ExcelDateTime::from_ymd(1949, 12, 31).expect("date");
    sheet
        .write_datetime_with_format(1, 11, &birthday, &date)
        .expect("date cell");
    // Line 3: full-width phone, date as text.
    text(
        sheet,
        2,
        &[
            "3301060002",
            "李建国",
            "330106196003051231",
            "１３９ ００１３ ９０００，0571-87654321",
            "杭州市西湖区文二路8号",
            "330106",
            "城网",
            "居民生活",
            "220V",
            "8",
            "普通",
            "1960/3/5",
        ],
    );
    // Line 4: a serial number where a date belongs, the unit by name.
    text(
        sheet,
        3,
        &[
            "3301060004",
            "张伟",
            "330106198511110049",
            "１３７００１３７０００",
            "杭州市西湖区古墩路5号",
            "西湖供电所",
            "农网",
            "居民生活",
            "0.22kV",
        ],
    );
    sheet.write_number(3, 11, 46_066.0).expect("serial");
    // Line 5: a duplicated account number.
    text(
        sheet,
        4,
        &[
            "3301060001",
            "王秀英重复",
            "",
            "13800138001",
            "杭州市西湖区文三路101号",
            "330106",
            "城网",
            "居民生活",
            "220V",
        ],
    );
    // Line 6: a bad ID checksum; line 7: too many columns.
    text(
        sheet,
        5,
        &[
            "3301060005",
            "赵六",
            "110105194912310021",
            "13600136000",
            "杭州市西湖区天目山路6号",
            "330106",
            "城网",
            "居民生活",
            "220V",
        ],
    );
    text(
        sheet,
        6,
        &[
            "3301060007",
            "孙八",
            "",
            "13500135000",
            "杭州市西湖区黄龙路8号",
            "330106",
            "城网",
            "居民生活",
            "220V",
            "8",
            "",
            "",
            "多余",
        ],
    );
    let path = dir.join("customers.xlsx");
    book.save(&path).expect("save workbook");
    path
}

/// A clean CSV of `n` customers (accounts 77000000000…), for interruption tests.
pub fn many_rows(dir: &Path, n: u32) -> PathBuf {
    let mut text = String::from("户号,户名,联系电话,用电地址,供电单位,城乡,用电类别,电压等级\n");
    for i in 0..n {
        text.push_str(&format!(
            "77{i:08},客户{i},139{i:08},杭州市西湖区文三路{i}号,330106,城网,居民生活,220V\n"
        ));
    }
    write(dir, "many.csv", text.as_bytes())
}

/// Waits (at most a minute) until the store holds at least one customer; returns how many.
pub fn wait_for_first_rows(backend: &Backend) -> u64 {
    block_on(async {
        let store = store(backend).await;
        for _ in 0..600 {
            let n = store.count_customers().await.expect("count");
            if n > 0 {
                return n;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        0
    })
}

/// Whether every stored account number is distinct.
pub fn accounts_distinct(backend: &Backend) -> bool {
    let all = customers_all(backend);
    let mut accounts: Vec<String> = all;
    let n = accounts.len();
    accounts.sort();
    accounts.dedup();
    accounts.len() == n
}

fn customers_all(backend: &Backend) -> Vec<String> {
    block_on(async {
        let store = store(backend).await;
        let root = store
            .get_org_unit(kefu_domain::ids::OrgUnitId(1))
            .await
            .expect("get")
            .expect("hq");
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .find_customers(
                    &CustomerLookup::All,
                    &root.path,
                    true,
                    PageRequest::new(cursor, Some(500)),
                )
                .await
                .expect("find");
            out.extend(
                page.items
                    .iter()
                    .map(|c| c.record.account_number.as_str().to_owned()),
            );
            match page.next {
                Some(next) => cursor = Some(next),
                None => return out,
            }
        }
    })
}
