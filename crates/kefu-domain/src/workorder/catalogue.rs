//! The 95598 catalogue as data: each sub-category of an appeal type names the department in
//! charge (谁主管、谁处理). Administrators edit it without a code change, so it is a value that
//! is validated as a whole, with `Catalogue::defaults()` as the out-of-the-box content.

use super::vocab::AppealType;
use crate::FieldError;
use crate::org::DepartmentKind;

/// The most sub-categories a catalogue may hold (keeps pick-lists and caches small).
pub const MAX_SUB_CATEGORIES: usize = 500;
/// The longest sub-category code, e.g. `complaint.service_attitude`.
pub const MAX_SUB_CATEGORY_CODE_LEN: usize = 60;
/// The longest display name of a sub-category, in either language.
pub const MAX_SUB_CATEGORY_NAME_LEN: usize = 40;

/// A sub-category code, `<appeal type code>.<name>` in lower-case ASCII, e.g. `complaint.outage`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubCategoryCode(String);

impl SubCategoryCode {
    /// Parses a code: an appeal type's code, a dot, then 1+ of `a-z`, `0-9`, `_`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let well_formed = s.len() <= MAX_SUB_CATEGORY_CODE_LEN
            && s.split_once('.').is_some_and(|(t, rest)| {
                AppealType::from_code(t).is_some()
                    && !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            });
        if !well_formed {
            return Err(FieldError::new(
                "sub_category",
                format!(
                    "'{s}' is not a sub-category code: write <type>.<name> (at most \
                     {MAX_SUB_CATEGORY_CODE_LEN} characters, name in a-z, 0-9, _), where \
                     <type> is one of: {}",
                    AppealType::codes_list()
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The appeal type named by the code's prefix.
    pub fn appeal_type(&self) -> Option<AppealType> {
        self.0
            .split_once('.')
            .and_then(|(t, _)| AppealType::from_code(t))
    }

    /// The code as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SubCategoryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether every appeal of a sub-category is a major appeal (e.g. 触电), whatever its text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gravity {
    /// Major only if the text or a person says so.
    Ordinary,
    /// Always major (重大诉求 by category).
    AlwaysMajor,
}

/// One sub-category of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubCategory {
    /// Stable code, prefixed by the appeal type's code.
    pub code: SubCategoryCode,
    /// The appeal type it belongs to (must match the code's prefix).
    pub appeal_type: AppealType,
    /// zh-CN name shown to agents.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The department in charge of this business (谁主管、谁处理).
    pub department: DepartmentKind,
    /// Whether the sub-category itself makes an appeal major.
    pub gravity: Gravity,
}

/// A validated catalogue: unique codes, each sub-category under its own type, every type covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue(Vec<SubCategory>);

impl Catalogue {
    /// Validates a catalogue, naming every bad entry (`entries[3].code` …).
    pub fn new(entries: Vec<SubCategory>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if entries.len() > MAX_SUB_CATEGORIES {
            errors.push(FieldError::new(
                "entries",
                format!("a catalogue holds at most {MAX_SUB_CATEGORIES} sub-categories"),
            ));
        }
        for (i, e) in entries.iter().enumerate() {
            let at = |f: &str| format!("entries[{i}].{f}");
            if let Err(err) = SubCategoryCode::parse(e.code.as_str()) {
                errors.push(FieldError::new(at("code"), err.reason));
            } else if e.code.appeal_type() != Some(e.appeal_type) {
                errors.push(FieldError::new(
                    at("appeal_type"),
                    format!(
                        "code '{}' belongs to another type than '{}'; start the code with '{}.'",
                        e.code,
                        e.appeal_type,
                        e.appeal_type.code()
                    ),
                ));
            }
            if entries[..i].iter().any(|p| p.code == e.code) {
                errors.push(FieldError::new(
                    at("code"),
                    format!(
                        "code '{}' is used twice; give each sub-category its own",
                        e.code
                    ),
                ));
            }
            for (field, name) in [("name_zh", &e.name_zh), ("name_en", &e.name_en)] {
                let n = name.trim().chars().count();
                if n == 0 || n > MAX_SUB_CATEGORY_NAME_LEN {
                    errors.push(FieldError::new(
                        at(field),
                        format!("give a name of 1 to {MAX_SUB_CATEGORY_NAME_LEN} characters"),
                    ));
                }
            }
        }
        for t in AppealType::ALL {
            if !entries.iter().any(|e| e.appeal_type == *t) {
                errors.push(FieldError::new(
                    "entries",
                    format!(
                        "appeal type '{t}' has no sub-category; add at least one so its \
                         appeals can be taken"
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self(entries))
        } else {
            Err(errors)
        }
    }

    /// Every sub-category, in catalogue order.
    pub fn entries(&self) -> &[SubCategory] {
        &self.0
    }

    /// The sub-category with this code.
    pub fn get(&self, code: &SubCategoryCode) -> Option<&SubCategory> {
        self.0.iter().find(|e| &e.code == code)
    }

    /// Looks up a submitted code, naming the field and the fix when it is unknown.
    pub fn lookup(&self, field: &str, code: &str) -> Result<&SubCategory, FieldError> {
        let unknown = || {
            FieldError::new(
                field,
                format!("unknown sub-category '{code}'; pick one from the catalogue"),
            )
        };
        let parsed = SubCategoryCode::parse(code).map_err(|_| unknown())?;
        self.get(&parsed).ok_or_else(unknown)
    }

    /// The sub-categories of one appeal type.
    pub fn of_type(&self, t: AppealType) -> impl Iterator<Item = &SubCategory> {
        self.0.iter().filter(move |e| e.appeal_type == t)
    }

    /// The out-of-the-box 95598 catalogue (domain.md "Appeal types").
    pub fn defaults() -> Self {
        use AppealType as T;
        use DepartmentKind as D;
        use Gravity::{AlwaysMajor as M, Ordinary as O};
        #[rustfmt::skip]
        let rows: &[(T, &str, &str, &str, D, Gravity)] = &[
            (T::Complaint, "service_attitude", "服务态度", "Service attitude", D::Marketing, O),
            (T::Complaint, "hotline_service", "95598服务", "95598 hotline service", D::VoiceService, O),
            (T::Complaint, "outage", "停送电", "Power outage", D::Operations, O),
            (T::Complaint, "tariff", "电费电价", "Tariffs and bills", D::Marketing, O),
            (T::Complaint, "connection", "业扩报装", "Connection application", D::Marketing, O),
            (T::Complaint, "connection_hv", "高压业扩报装", "High-voltage connection", D::LargeCustomers, O),
            (T::Complaint, "metering", "计量", "Metering", D::Marketing, O),
            (T::Complaint, "reading_collection", "抄表催费", "Meter reading and collection", D::Marketing, O),
            (T::Complaint, "supply_quality", "供电质量", "Supply quality", D::Operations, O),
            (T::Complaint, "grid_construction", "电网建设", "Grid construction", D::Operations, O),
            (T::Complaint, "media_exposure", "媒体曝光", "Media exposure", D::CustomerRelations, M),
            (T::FaultRepair, "no_power", "无电", "No power", D::Operations, O),
            (T::FaultRepair, "voltage_abnormal", "电压异常", "Abnormal voltage", D::Operations, O),
            (T::FaultRepair, "line_fault", "线路故障", "Line fault", D::Operations, O),
            (T::FaultRepair, "meter_fault", "计量装置故障", "Meter fault", D::Marketing, O),
            (T::FaultRepair, "customer_side", "客户内部故障", "Fault on the customer's side", D::Operations, O),
            (T::FaultRepair, "safety_hazard", "安全隐患", "Safety hazard", D::Operations, O),
            (T::FaultRepair, "electric_shock", "触电事故", "Electric shock", D::Operations, M),
            (T::Consultation, "billing", "电费查询", "Bill enquiry", D::Marketing, O),
            (T::Consultation, "business", "业务办理", "How to apply", D::Marketing, O),
            (T::Consultation, "outage_info", "停电信息", "Outage information", D::Dispatch, O),
            (T::Consultation, "policy", "政策法规", "Policies and regulations", D::Marketing, O),
            (T::Consultation, "connection_progress", "业扩进度", "Connection progress", D::Marketing, O),
            (T::Consultation, "electrical_safety", "安全用电", "Electrical safety", D::Operations, O),
            (T::Report, "power_theft", "窃电", "Power theft", D::Marketing, O),
            (T::Report, "facility_theft", "偷盗倒卖电力设施", "Theft or resale of power facilities", D::Operations, M),
            (T::Report, "illegal_charges", "违规收费", "Illegal charges", D::Marketing, O),
            (T::Report, "party_integrity", "党风廉政", "Party conduct and integrity", D::Office, M),
            (T::Report, "whistleblowing", "检举揭发", "Whistle-blowing", D::Office, M),
            (T::Report, "facility_damage", "危害电力设施", "Damage to power facilities", D::Operations, O),
            (T::ServiceRequest, "meter_check", "校表", "Meter calibration", D::Marketing, O),
            (T::ServiceRequest, "reconnection", "欠费复电", "Reconnection after payment", D::Marketing, O),
            (T::ServiceRequest, "name_transfer", "更名过户", "Change of name", D::Marketing, O),
            (T::ServiceRequest, "capacity_change", "增减容", "Capacity change", D::Marketing, O),
            (T::ServiceRequest, "invoice", "电费发票", "Invoice", D::Marketing, O),
            (T::Compensation, "appliance_resident", "家电损坏(居民)", "Appliance damage (resident)", D::Marketing, O),
            (T::Compensation, "equipment_nonresident", "设备损坏(非居民)", "Equipment damage (non-resident)", D::Marketing, O),
            (T::Compensation, "other_loss", "其他损失", "Other loss", D::Marketing, O),
            (T::Opinion, "service", "服务意见", "Opinion on service", D::CustomerRelations, O),
            (T::Opinion, "grid", "电网建设意见", "Opinion on grid construction", D::Operations, O),
            (T::Suggestion, "service", "服务建议", "Suggestion on service", D::CustomerRelations, O),
            (T::Suggestion, "business", "业务建议", "Suggestion on business", D::Marketing, O),
            (T::Praise, "staff", "服务表扬", "Praise of staff", D::CustomerRelations, O),
        ];
        let entries = rows
            .iter()
            .map(|&(t, name, zh, en, department, gravity)| SubCategory {
                code: SubCategoryCode(format!("{}.{name}", t.code())),
                appeal_type: t,
                name_zh: zh.to_owned(),
                name_en: en.to_owned(),
                department,
                gravity,
            })
            .collect();
        // The default rows are checked by a unit test; building them cannot fail at run time.
        Self(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_catalogue_is_valid_and_covers_every_type() {
        let d = Catalogue::defaults();
        assert_eq!(Catalogue::new(d.entries().to_vec()), Ok(d.clone()));
        for t in AppealType::ALL {
            assert!(d.of_type(*t).count() >= 1, "{t}");
        }
        let shock = d.lookup("sub_category", "fault_repair.electric_shock");
        assert_eq!(shock.map(|s| s.gravity), Ok(Gravity::AlwaysMajor));
    }

    #[test]
    fn duplicate_codes_and_mismatched_types_are_named() {
        let mut entries = Catalogue::defaults().entries().to_vec();
        entries.push(entries[0].clone());
        entries[1].appeal_type = AppealType::Praise;
        let errors = Catalogue::new(entries).err().unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"entries[1].appeal_type"), "{fields:?}");
        assert!(fields.iter().any(|f| f.ends_with(".code")), "{fields:?}");
    }

    #[test]
    fn a_type_without_sub_categories_is_refused() {
        let entries: Vec<_> = Catalogue::defaults()
            .entries()
            .iter()
            .filter(|e| e.appeal_type != AppealType::Praise)
            .cloned()
            .collect();
        let errors = Catalogue::new(entries).err().unwrap_or_default();
        assert!(errors.iter().any(|e| e.reason.contains("'praise'")));
    }

    #[test]
    fn codes_must_start_with_a_type() {
        assert!(SubCategoryCode::parse("complaint.outage").is_ok());
        assert!(SubCategoryCode::parse("gripe.outage").is_err());
        assert!(SubCategoryCode::parse("complaint.").is_err());
        assert!(SubCategoryCode::parse("complaint.Outage").is_err());
    }
}
