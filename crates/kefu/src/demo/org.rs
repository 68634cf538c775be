//! The demo organisation: HQ → province → three cities → eight counties → a few stations, the
//! departments of each level, and the demo staff with their documented logins.

use std::collections::HashMap;

use anyhow::Context;
use kefu_domain::auth::Role;
use kefu_domain::org::{DepartmentKind, OrgCode, OrgLevel};
use kefu_store::{Actor, NewDepartment, NewOrgUnit, OrgUnit, Store};

use super::places::CITIES;

/// Code of the demo's HQ unit (its presence marks a store holding the demo).
pub const HQ_CODE: &str = "HQ";
/// Code of the demo province.
pub const PROVINCE_CODE: &str = "33";
const HQ_NAME: &str = "国家电网有限公司（演示）";
const PROVINCE_NAME: &str = "国网浙江省电力有限公司（演示）";

/// One demo login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoLogin {
    /// Login name.
    pub username: &'static str,
    /// Display name.
    pub display_name: &'static str,
    /// Its role.
    pub role: Role,
    /// Code of its unit.
    pub unit_code: &'static str,
    /// Its department's kind, when it belongs to one.
    pub department: Option<DepartmentKind>,
}

/// The demo staff: a few per role, at the levels where that role works.
pub const DEMO_LOGINS: &[DemoLogin] = &[
    DemoLogin {
        username: "admin",
        display_name: "系统管理员",
        role: Role::Admin,
        unit_code: PROVINCE_CODE,
        department: Some(DepartmentKind::Office),
    },
    DemoLogin {
        username: "agent1",
        display_name: "王丽",
        role: Role::Agent,
        unit_code: PROVINCE_CODE,
        department: Some(DepartmentKind::VoiceService),
    },
    DemoLogin {
        username: "agent2",
        display_name: "陈静",
        role: Role::Agent,
        unit_code: PROVINCE_CODE,
        department: Some(DepartmentKind::VoiceService),
    },
    DemoLogin {
        username: "agent.xihu",
        display_name: "周敏",
        role: Role::Agent,
        unit_code: "330106",
        department: Some(DepartmentKind::Marketing),
    },
    DemoLogin {
        username: "agent.binjiang",
        display_name: "吴婷",
        role: Role::Agent,
        unit_code: "330108",
        department: Some(DepartmentKind::Marketing),
    },
    DemoLogin {
        username: "dispatcher1",
        display_name: "李强",
        role: Role::Dispatcher,
        unit_code: PROVINCE_CODE,
        department: Some(DepartmentKind::VoiceService),
    },
    DemoLogin {
        username: "handler.xihu",
        display_name: "张伟",
        role: Role::Handler,
        unit_code: "330106",
        department: Some(DepartmentKind::Operations),
    },
    DemoLogin {
        username: "handler.ruian",
        display_name: "林建华",
        role: Role::Handler,
        unit_code: "330381",
        department: Some(DepartmentKind::Operations),
    },
    DemoLogin {
        username: "manager1",
        display_name: "徐志刚",
        role: Role::CustomerManager,
        unit_code: "3301",
        department: Some(DepartmentKind::LargeCustomers),
    },
    DemoLogin {
        username: "supervisor.hz",
        display_name: "沈晓燕",
        role: Role::Supervisor,
        unit_code: "3301",
        department: Some(DepartmentKind::CustomerRelations),
    },
    DemoLogin {
        username: "supervisor1",
        display_name: "钱芳",
        role: Role::Supervisor,
        unit_code: PROVINCE_CODE,
        department: Some(DepartmentKind::VoiceService),
    },
    DemoLogin {
        username: "analyst1",
        display_name: "郑晨",
        role: Role::Analyst,
        unit_code: PROVINCE_CODE,
        department: Some(DepartmentKind::CustomerRelations),
    },
];

fn departments(level: OrgLevel) -> &'static [DepartmentKind] {
    use DepartmentKind as D;
    match level {
        OrgLevel::Hq => &[D::Office],
        OrgLevel::Province => &[
            D::VoiceService,
            D::CustomerRelations,
            D::Marketing,
            D::Office,
        ],
        OrgLevel::City => &[
            D::Marketing,
            D::Operations,
            D::CustomerRelations,
            D::LargeCustomers,
            D::Dispatch,
        ],
        OrgLevel::County => &[D::Marketing, D::Operations, D::CustomerRelations],
        OrgLevel::Station => &[D::Operations],
    }
}

fn department_name(unit: &str, kind: DepartmentKind) -> String {
    match kind {
        DepartmentKind::VoiceService => "95598客户服务中心".to_owned(),
        other => format!("{unit}{}", other.label_zh()),
    }
}

/// The units of the demo tree in creation order: (parent code, code, name, level).
pub fn units() -> Vec<(Option<&'static str>, &'static str, String, OrgLevel)> {
    let mut out = vec![
        (None, HQ_CODE, HQ_NAME.to_owned(), OrgLevel::Hq),
        (
            Some(HQ_CODE),
            PROVINCE_CODE,
            PROVINCE_NAME.to_owned(),
            OrgLevel::Province,
        ),
    ];
    for city in CITIES {
        out.push((
            Some(PROVINCE_CODE),
            city.code,
            city.unit_name.to_owned(),
            OrgLevel::City,
        ));
        for county in city.counties {
            out.push((
                Some(city.code),
                county.code,
                county.unit_name.to_owned(),
                OrgLevel::County,
            ));
            for station in county.stations {
                out.push((
                    Some(county.code),
                    station.code,
                    station.name.to_owned(),
                    OrgLevel::Station,
                ));
            }
        }
    }
    out
}

/// The created units by code, and the departments by (unit code, kind).
pub struct CreatedOrg {
    /// Units by code.
    pub units: HashMap<String, OrgUnit>,
    /// Department ids by (unit code, kind).
    pub departments: HashMap<(String, DepartmentKind), kefu_domain::ids::DepartmentId>,
}

impl CreatedOrg {
    /// Unit ids by code, as the customer generator wants them.
    pub fn unit_ids(&self) -> HashMap<String, i64> {
        self.units
            .iter()
            .map(|(code, u)| (code.clone(), u.id.0))
            .collect()
    }
}

/// Creates the demo org tree and its departments.
pub async fn create_org(store: &dyn Store, actor: &Actor) -> anyhow::Result<CreatedOrg> {
    let mut created = CreatedOrg {
        units: HashMap::new(),
        departments: HashMap::new(),
    };
    for (parent, code, name, level) in units() {
        let parent_id = parent.and_then(|p| created.units.get(p)).map(|u| u.id);
        let unit = store
            .create_org_unit(
                NewOrgUnit {
                    parent_id,
                    code: OrgCode::parse(code).map_err(|e| anyhow::anyhow!("{e}"))?,
                    name: name.clone(),
                    level,
                },
                actor,
            )
            .await
            .with_context(|| format!("creating demo unit {code} {name}"))?;
        for &kind in departments(level) {
            let dept = store
                .create_department(
                    NewDepartment {
                        unit_id: unit.id,
                        kind,
                        name: department_name(&name, kind),
                    },
                    actor,
                )
                .await
                .with_context(|| format!("creating department {} of {code}", kind.code()))?;
            created.departments.insert((code.to_owned(), kind), dept.id);
        }
        created.units.insert(code.to_owned(), unit);
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_login_sits_in_a_unit_with_its_department() {
        let units = units();
        for login in DEMO_LOGINS {
            let unit = units.iter().find(|u| u.1 == login.unit_code);
            assert!(unit.is_some(), "{}", login.username);
            if let (Some(unit), Some(d)) = (unit, login.department) {
                assert!(departments(unit.3).contains(&d), "{}", login.username);
            }
            assert!(kefu_domain::auth::Username::parse(login.username).is_ok());
            assert!(
                kefu_domain::auth::check_new_password(super::super::DEMO_PASSWORD, login.username)
                    .is_ok()
            );
        }
    }
}
