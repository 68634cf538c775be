//! The org tree and departments.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kefu_domain::ids::{DepartmentId, OrgUnitId};
use kefu_domain::org::{DepartmentKind, OrgCode, OrgLevel, OrgPath};

use crate::{Actor, StoreError};

/// A node of the org tree as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    pub parent_id: Option<OrgUnitId>,
    /// Unique code, e.g. the area code `330106`.
    pub code: OrgCode,
    /// Full name, e.g. 国网杭州供电公司.
    pub name: String,
    pub level: OrgLevel,
    /// Root-to-self path; scope checks are prefix checks on it.
    pub path: OrgPath,
    pub created_at: DateTime<Utc>,
}

/// A unit to create. The store checks the level against the parent's and computes the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrgUnit {
    pub parent_id: Option<OrgUnitId>,
    pub code: OrgCode,
    pub name: String,
    pub level: OrgLevel,
}

/// A department inside a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub id: DepartmentId,
    pub unit_id: OrgUnitId,
    pub kind: DepartmentKind,
    pub name: String,
}

/// A department to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDepartment {
    pub unit_id: OrgUnitId,
    pub kind: DepartmentKind,
    pub name: String,
}

/// Org tree persistence.
#[async_trait]
pub trait OrgStore {
    /// Creates a unit under its parent. Errors: `UnknownReference{parent_id}`, `Duplicate{code}`,
    /// `InvalidState` when the level does not fit under the parent's.
    async fn create_org_unit(&self, unit: NewOrgUnit, actor: &Actor)
    -> Result<OrgUnit, StoreError>;

    /// One unit by id (no scope: org names are not secret; callers filter when needed).
    async fn get_org_unit(&self, id: OrgUnitId) -> Result<Option<OrgUnit>, StoreError>;

    /// One unit by code.
    async fn get_org_unit_by_code(&self, code: &OrgCode) -> Result<Option<OrgUnit>, StoreError>;

    /// Every unit inside `scope` (itself and all below), ordered by path.
    async fn list_org_units(&self, scope: &OrgPath) -> Result<Vec<OrgUnit>, StoreError>;

    /// Creates a department. Errors: `UnknownReference{unit_id}`, `Duplicate{kind}` when the unit
    /// already has a department of that kind.
    async fn create_department(
        &self,
        dept: NewDepartment,
        actor: &Actor,
    ) -> Result<Department, StoreError>;

    /// The departments of the units inside `scope`, ordered by unit then kind.
    async fn list_departments(&self, scope: &OrgPath) -> Result<Vec<Department>, StoreError>;
}
