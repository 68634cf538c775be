//! Organisation (product §11): the org tree HQ → province → city → county → station, the
//! departments inside a unit, and the materialised path that scopes what each person sees.

use crate::FieldError;
use crate::code_enum;
use crate::ids::OrgUnitId;

code_enum! {
    /// The level of a node in the org tree.
    pub enum OrgLevel {
        /// 总部
        Hq = ("hq", "总部", "Headquarters"),
        /// 省公司
        Province = ("province", "省公司", "Province"),
        /// 地市公司
        City = ("city", "地市公司", "City"),
        /// 县公司 / 区供电中心
        County = ("county", "县公司", "County"),
        /// 供电所
        Station = ("station", "供电所", "Station"),
    }
}

impl OrgLevel {
    /// The level directly below, if any (a station has none).
    pub fn child(self) -> Option<OrgLevel> {
        match self {
            OrgLevel::Hq => Some(OrgLevel::Province),
            OrgLevel::Province => Some(OrgLevel::City),
            OrgLevel::City => Some(OrgLevel::County),
            OrgLevel::County => Some(OrgLevel::Station),
            OrgLevel::Station => None,
        }
    }

    /// Checks that a unit of level `self` may sit under a parent of `parent` (one level down).
    pub fn check_parent(self, parent: Option<OrgLevel>) -> Result<(), FieldError> {
        match parent {
            None if self == OrgLevel::Hq => Ok(()),
            None => Err(FieldError::new(
                "parent_id",
                format!("a {} unit needs a parent unit", self.code()),
            )),
            Some(p) if p.child() == Some(self) => Ok(()),
            Some(p) => Err(FieldError::new(
                "level",
                format!(
                    "a {} unit cannot sit under a {} unit; the level below {} is {}",
                    self.code(),
                    p.code(),
                    p.code(),
                    p.child().map(|c| c.code()).unwrap_or("none")
                ),
            )),
        }
    }
}

code_enum! {
    /// The kinds of department a unit has (seed 000's three blocks plus the line departments).
    pub enum DepartmentKind {
        /// 声讯服务 (voice & contact service)
        VoiceService = ("voice_service", "声讯服务部", "Voice service"),
        /// 大客户服务
        LargeCustomers = ("large_customers", "大客户服务部", "Large customers"),
        /// 客户关系管理与服务监控
        CustomerRelations = ("customer_relations", "客户关系部", "Customer relations"),
        /// 营销 (市场营销部)
        Marketing = ("marketing", "营销部", "Marketing"),
        /// 运维检修
        Operations = ("operations", "运维检修部", "Operations & maintenance"),
        /// 调度
        Dispatch = ("dispatch", "调度控制中心", "Grid dispatch"),
        /// 办公室 / 综合
        Office = ("office", "办公室", "Office"),
    }
}

/// A unit's code (e.g. the administrative area code `330106`): 1–20 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgCode(String);

impl OrgCode {
    /// Parses a unit code.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty()
            || s.len() > 20
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(FieldError::new(
                "code",
                "use 1 to 20 letters, digits, '-' or '_'",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The code as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The path of ids from the root to a unit, written `/1/4/17/`. A unit's scope is every unit
/// whose path starts with its own, so "my unit and those below" is one prefix comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgPath(String);

impl OrgPath {
    /// The path of a root unit.
    pub fn root(id: OrgUnitId) -> Self {
        Self(format!("/{id}/"))
    }

    /// The path of a child `id` of this unit.
    pub fn child(&self, id: OrgUnitId) -> Self {
        Self(format!("{}{id}/", self.0))
    }

    /// Reads a stored path back; `None` if it is not of the form `/1/2/`.
    pub fn from_stored(s: &str) -> Option<Self> {
        let ok = s.len() >= 3
            && s.starts_with('/')
            && s.ends_with('/')
            && s[1..s.len() - 1]
                .split('/')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| Self(s.to_owned()))
    }

    /// Whether `other` is this unit or lies below it.
    pub fn contains(&self, other: &OrgPath) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The ids from the root down to this unit.
    pub fn ids(&self) -> Vec<OrgUnitId> {
        self.0
            .split('/')
            .filter_map(|p| p.parse().ok())
            .map(OrgUnitId)
            .collect()
    }

    /// The path of the unit above this one; `None` for a root.
    pub fn parent(&self) -> Option<OrgPath> {
        let inner = self.0.strip_suffix('/')?;
        let cut = inner.rfind('/')?;
        (cut > 0).then(|| Self(self.0[..=cut].to_owned()))
    }

    /// This unit and every unit above it, nearest first.
    pub fn self_and_ancestors(&self) -> Vec<OrgPath> {
        let mut out = vec![self.clone()];
        while let Some(p) = out.last().and_then(OrgPath::parent) {
            out.push(p);
        }
        out
    }

    /// The unit this path ends at.
    pub fn unit(&self) -> Option<OrgUnitId> {
        self.ids().last().copied()
    }

    /// The stored text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How deep the unit is (root = 1).
    pub fn depth(&self) -> usize {
        self.ids().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_city_sees_its_counties_but_not_its_sibling_city() {
        let province = OrgPath::root(OrgUnitId(1)).child(OrgUnitId(2));
        let city_a = province.child(OrgUnitId(3));
        let city_b = province.child(OrgUnitId(31));
        let county_a = city_a.child(OrgUnitId(4));
        assert!(city_a.contains(&county_a));
        assert!(city_a.contains(&city_a));
        assert!(!city_a.contains(&city_b), "/1/2/3/ must not match /1/2/31/");
        assert!(!county_a.contains(&city_a));
        assert!(province.contains(&city_b));
    }

    #[test]
    fn stored_paths_round_trip_and_garbage_is_refused() {
        assert_eq!(
            OrgPath::from_stored("/1/2/3/").map(|p| p.ids().len()),
            Some(3)
        );
        assert!(OrgPath::from_stored("/1//3/").is_none());
        assert!(OrgPath::from_stored("1/2/").is_none());
    }

    #[test]
    fn levels_nest_one_step_at_a_time() {
        assert!(
            OrgLevel::City
                .check_parent(Some(OrgLevel::Province))
                .is_ok()
        );
        assert!(
            OrgLevel::Station
                .check_parent(Some(OrgLevel::City))
                .is_err()
        );
        assert!(OrgLevel::Hq.check_parent(None).is_ok());
        assert!(OrgLevel::County.check_parent(None).is_err());
    }
}
