//! Which column of an import file holds which customer field: built-in header names in Chinese
//! and English (as the marketing system and our own export write them), overridden by a mapping
//! file (TOML, `[columns]` header → field) for other layouts.

use std::collections::HashMap;
use std::path::Path;

use crate::ImportError;

/// A customer field an import column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    AccountNumber,
    Name,
    IdKind,
    IdNumber,
    Phones,
    Address,
    SupplyUnit,
    Grid,
    UsageCategory,
    Voltage,
    ContractCapacity,
    Industry,
    BusinessFormat,
    Scale,
    ValueTier,
    ServiceGrade,
    Tags,
    Birthday,
    FoundingDate,
    ContractDate,
    OtherDate,
}

/// Every field with its mapping-file key and the header names recognised without a mapping
/// file (compared after `normalise_header`).
const FIELDS: &[(Field, &str, &[&str])] = &[
    (
        Field::AccountNumber,
        "account_number",
        &[
            "户号",
            "用户编号",
            "客户编号",
            "用户号",
            "account",
            "account_no",
        ],
    ),
    (
        Field::Name,
        "name",
        &["户名", "用户名称", "客户名称", "姓名"],
    ),
    (
        Field::IdKind,
        "id_kind",
        &["证件类型", "id_type", "id_document_kind"],
    ),
    (
        Field::IdNumber,
        "id_number",
        &[
            "证件号码",
            "证件号",
            "身份证号",
            "身份证号码",
            "统一社会信用代码",
            "id_no",
            "id_document_number",
        ],
    ),
    (
        Field::Phones,
        "phones",
        &[
            "联系电话",
            "电话",
            "手机",
            "手机号",
            "手机号码",
            "联系方式",
            "phone",
        ],
    ),
    (Field::Address, "address", &["用电地址", "地址"]),
    (
        Field::SupplyUnit,
        "supply_unit",
        &[
            "供电单位",
            "供电单位编码",
            "供电单位代码",
            "管理单位",
            "supply_unit_code",
            "unit",
        ],
    ),
    (
        Field::Grid,
        "grid",
        &["城乡", "城乡类别", "城网农网", "城农网"],
    ),
    (
        Field::UsageCategory,
        "usage_category",
        &["用电类别", "category"],
    ),
    (Field::Voltage, "voltage", &["电压等级", "供电电压"]),
    (
        Field::ContractCapacity,
        "contract_capacity_kva",
        &["合同容量", "contract_capacity", "capacity"],
    ),
    (Field::Industry, "industry", &["行业", "行业分类"]),
    (Field::BusinessFormat, "business_format", &["业态"]),
    (Field::Scale, "scale", &["规模"]),
    (Field::ValueTier, "value_tier", &["价值分层"]),
    (
        Field::ServiceGrade,
        "service_grade",
        &["客户等级", "服务等级", "grade"],
    ),
    (Field::Tags, "tags", &["标签", "客户标签"]),
    (Field::Birthday, "birthday", &["生日", "出生日期"]),
    (
        Field::FoundingDate,
        "founding_date",
        &["成立日期", "成立日", "founding"],
    ),
    (
        Field::ContractDate,
        "contract_date",
        &["合同签订日期", "合同日期"],
    ),
    (Field::OtherDate, "other_date", &["纪念日", "其他纪念日"]),
];

/// The fields a file must have columns for.
pub const MANDATORY: &[Field] = &[
    Field::AccountNumber,
    Field::Name,
    Field::Address,
    Field::SupplyUnit,
    Field::Grid,
    Field::UsageCategory,
    Field::Voltage,
];

impl Field {
    /// The mapping-file key (the API's field name where there is one).
    pub fn key(self) -> &'static str {
        FIELDS
            .iter()
            .find(|(f, _, _)| *f == self)
            .map_or("?", |(_, k, _)| k)
    }

    /// The usual Chinese header, for messages.
    pub fn label_zh(self) -> &'static str {
        FIELDS
            .iter()
            .find(|(f, _, _)| *f == self)
            .and_then(|(_, _, names)| names.first().copied())
            .unwrap_or("?")
    }

    fn from_key(key: &str) -> Option<Field> {
        FIELDS
            .iter()
            .find(|(_, k, _)| *k == key)
            .map(|(f, _, _)| *f)
    }

    fn from_header(header: &str) -> Option<Field> {
        let h = normalise_header(header);
        FIELDS
            .iter()
            .find(|(_, key, names)| *key == h || names.iter().any(|n| normalise_header(n) == h))
            .map(|(f, _, _)| *f)
    }
}

/// Every mapping-file key, for messages.
pub fn keys_list() -> String {
    FIELDS
        .iter()
        .map(|(_, k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A header compared loosely: full-width forms folded, lower case, without spaces, a BOM or a
/// bracketed unit (`合同容量(kVA)` is `合同容量`).
pub fn normalise_header(h: &str) -> String {
    let folded = super::convert::half_width(h);
    let cut = folded
        .find(['(', '['])
        .map_or(folded.as_ref(), |i| &folded[..i]);
    cut.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}' && *c != '*')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A mapping file read: normalised header → field.
#[derive(Debug, Clone, Default)]
pub struct MappingFile {
    columns: HashMap<String, Field>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingToml {
    columns: HashMap<String, String>,
}

impl MappingFile {
    /// Reads `[columns]` header = "field" pairs.
    pub fn load(path: &Path) -> Result<Self, ImportError> {
        let bad = |reason: String| ImportError::Mapping {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        Self::parse(&text).map_err(bad)
    }

    /// Parses the TOML text of a mapping file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: MappingToml = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut columns = HashMap::new();
        for (header, key) in raw.columns {
            let field = Field::from_key(key.trim()).ok_or_else(|| {
                format!(
                    "column '{header}' maps to '{key}', which is not a field; use one of: {}",
                    keys_list()
                )
            })?;
            columns.insert(normalise_header(&header), field);
        }
        Ok(Self { columns })
    }
}

/// The columns of one file: field → column index, and the original header names.
#[derive(Debug, Clone)]
pub struct Columns {
    pub headers: Vec<String>,
    index: HashMap<Field, usize>,
    /// Headers that map to no field (ignored, listed once on screen).
    pub ignored: Vec<String>,
}

impl Columns {
    /// Maps a header row; a missing mandatory field or two columns for one field is an error
    /// raised before any data row is read.
    pub fn resolve(headers: Vec<String>, mapping: &MappingFile) -> Result<Self, ImportError> {
        let mut index = HashMap::new();
        let mut ignored = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            let field = mapping
                .columns
                .get(&normalise_header(h))
                .copied()
                .or_else(|| Field::from_header(h));
            match field {
                Some(f) => {
                    if let Some(first) = index.insert(f, i) {
                        return Err(ImportError::DuplicateColumn {
                            field: f.key(),
                            first: headers[first].clone(),
                            second: h.clone(),
                        });
                    }
                }
                None if h.trim().is_empty() => {}
                None => ignored.push(h.clone()),
            }
        }
        let missing: Vec<String> = MANDATORY
            .iter()
            .filter(|f| !index.contains_key(f))
            .map(|f| format!("{} {}", f.label_zh(), f.key()))
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns {
                missing: missing.join(", "),
                found: headers.join(" | "),
            });
        }
        Ok(Self {
            headers,
            index,
            ignored,
        })
    }

    /// The column of `field`, when the file has one.
    pub fn get(&self, field: Field) -> Option<usize> {
        self.index.get(&field).copied()
    }

    /// The header of the column holding `field`, for the report.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        self.get(field).map(|i| self.headers[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn chinese_and_english_headers_map_alike() {
        let zh = headers(&[
            "户号",
            "户名",
            "用电地址",
            "供电单位",
            "城乡",
            "用电类别",
            "电压等级",
            "合同容量(kVA)",
        ]);
        let en = headers(&[
            "account_number",
            "Name",
            "ADDRESS",
            "supply_unit",
            "grid",
            "usage_category",
            "voltage",
            "contract_capacity_kva",
        ]);
        for h in [zh, en] {
            let c = Columns::resolve(h, &MappingFile::default()).expect("resolves");
            assert_eq!(c.get(Field::AccountNumber), Some(0));
            assert_eq!(c.get(Field::ContractCapacity), Some(7));
        }
    }

    #[test]
    fn missing_mandatory_columns_are_named() {
        let err = Columns::resolve(headers(&["户号", "户名"]), &MappingFile::default())
            .expect_err("missing");
        let msg = err.to_string();
        assert!(msg.contains("用电地址 address"), "{msg}");
        assert!(msg.contains("户号 | 户名"), "{msg}");
    }

    #[test]
    fn mapping_file_overrides_and_checks_keys() {
        let m =
            MappingFile::parse("[columns]\n\"用户号\" = \"account_number\"\n\"名\" = \"name\"\n")
                .expect("parses");
        let c = Columns::resolve(
            headers(&[
                "用户号",
                "名",
                "地址",
                "供电单位",
                "城乡",
                "用电类别",
                "电压等级",
                "备注",
            ]),
            &m,
        )
        .expect("resolves");
        assert_eq!(c.get(Field::Name), Some(1));
        assert_eq!(c.ignored, vec!["备注".to_owned()]);
        let err = MappingFile::parse("[columns]\n\"x\" = \"nom\"\n").expect_err("bad key");
        assert!(err.contains("account_number"), "{err}");
    }
}
