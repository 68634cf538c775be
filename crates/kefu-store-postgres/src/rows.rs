//! Rows as read from PostgreSQL and their conversion to domain values; any value that breaks a
//! domain rule becomes `StoreError::Corrupt` naming the row.

use chrono::{DateTime, Utc};
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::customer::SpecialDate;
use kefu_domain::ids::{ApiTokenId, DepartmentId, OrgUnitId, StaffId};
use kefu_domain::org::{DepartmentKind, OrgCode, OrgLevel};
use kefu_store::decode::CustomerColumns;
use kefu_store::{ApiToken, AuditEntry, Customer, Department, OrgUnit, Session, Staff, StoreError};

pub(crate) use kefu_store::decode::{code, corrupt, path};

#[derive(sqlx::FromRow)]
pub(crate) struct OrgUnitRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    pub level: String,
    pub path: String,
    pub created_at: DateTime<Utc>,
}

impl OrgUnitRow {
    pub fn into_domain(self) -> Result<OrgUnit, StoreError> {
        const E: &str = "org_unit";
        Ok(OrgUnit {
            id: OrgUnitId(self.id),
            parent_id: self.parent_id.map(OrgUnitId),
            code: OrgCode::parse(&self.code).map_err(|e| corrupt(E, self.id, e.to_string()))?,
            name: self.name,
            level: code(E, self.id, "level", &self.level, OrgLevel::from_code)?,
            path: path(E, self.id, &self.path)?,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DepartmentRow {
    pub id: i64,
    pub unit_id: i64,
    pub kind: String,
    pub name: String,
}

impl DepartmentRow {
    pub fn into_domain(self) -> Result<Department, StoreError> {
        Ok(Department {
            id: DepartmentId(self.id),
            unit_id: OrgUnitId(self.unit_id),
            kind: code(
                "department",
                self.id,
                "kind",
                &self.kind,
                DepartmentKind::from_code,
            )?,
            name: self.name,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct StaffRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_unit_id: i64,
    pub org_path: String,
    pub department_id: Option<i64>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub roles: Option<String>,
}

impl StaffRow {
    pub fn into_domain(self) -> Result<Staff, StoreError> {
        const E: &str = "staff";
        let roles = self
            .roles
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| code(E, self.id, "role", r, Role::from_code))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Staff {
            id: StaffId(self.id),
            username: Username::parse(&self.username)
                .map_err(|e| corrupt(E, self.id, e.to_string()))?,
            display_name: self.display_name,
            org_unit_id: OrgUnitId(self.org_unit_id),
            org_path: path(E, self.id, &self.org_path)?,
            department_id: self.department_id.map(DepartmentId),
            roles: Roles::new(roles).map_err(|e| corrupt(E, self.id, e.to_string()))?,
            active: self.active,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub staff_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl SessionRow {
    pub fn into_domain(self) -> Result<Session, StoreError> {
        Ok(Session {
            staff_id: StaffId(self.staff_id),
            csrf_token: self.csrf_token,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiTokenRow {
    pub id: i64,
    pub staff_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiTokenRow {
    pub fn into_domain(self) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            id: ApiTokenId(self.id),
            staff_id: StaffId(self.staff_id),
            name: self.name,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub staff_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl AuditRow {
    pub fn into_domain(self) -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            id: self.id,
            at: self.at,
            staff_id: self.staff_id.map(StaffId),
            actor: self.actor,
            action: self.action,
            target: self.target,
            detail: self.detail,
        })
    }
}

/// The customer columns, in the order `CustomerRow` and the inserts use (a macro so queries can
/// be assembled with `concat!` into `&'static str`).
macro_rules! customer_columns {
    () => {
        "id, account_number, name, id_kind, id_number, address, supply_unit_id, \
         supply_unit_path, grid, usage_category, voltage, contract_capacity_kva, industry, \
         business_format, scale, value_tier, service_grade, status, retired_reason, version, \
         created_at, updated_at"
    };
}
pub(crate) use customer_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct CustomerRow {
    pub id: i64,
    pub account_number: String,
    pub name: String,
    pub id_kind: Option<String>,
    pub id_number: Option<String>,
    pub address: String,
    pub supply_unit_id: i64,
    pub supply_unit_path: String,
    pub grid: String,
    pub usage_category: String,
    pub voltage: String,
    pub contract_capacity_kva: Option<i64>,
    pub industry: Option<String>,
    pub business_format: Option<String>,
    pub scale: Option<String>,
    pub value_tier: Option<String>,
    pub service_grade: Option<String>,
    pub status: String,
    pub retired_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A phone, tag or special date of a customer, from one statement over the three tables.
#[derive(sqlx::FromRow)]
pub(crate) struct ChildRow {
    pub customer_id: i64,
    /// 0 phone, 1 tag, 2 special date.
    pub src: i32,
    /// The phone, the tag, or the special date's kind.
    pub text: String,
    pub month: Option<i32>,
    pub day: Option<i32>,
    pub year: Option<i32>,
    pub label: Option<String>,
}

impl ChildRow {
    pub fn into_special_date(self) -> Result<SpecialDate, StoreError> {
        SpecialDateRow {
            customer_id: self.customer_id,
            kind: self.text,
            month: self.month.unwrap_or_default(),
            day: self.day.unwrap_or_default(),
            year: self.year,
            label: self.label,
        }
        .into_domain()
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SpecialDateRow {
    pub customer_id: i64,
    pub kind: String,
    pub month: i32,
    pub day: i32,
    pub year: Option<i32>,
    pub label: Option<String>,
}

impl SpecialDateRow {
    pub fn into_domain(self) -> Result<SpecialDate, StoreError> {
        kefu_store::decode::special_date(
            self.customer_id,
            &self.kind,
            i64::from(self.month),
            i64::from(self.day),
            self.year.map(i64::from),
            self.label,
        )
    }
}

impl CustomerRow {
    /// Builds the stored customer from its row and its child rows (already in order).
    pub fn into_domain(
        self,
        phones: Vec<String>,
        tags: Vec<String>,
        special_dates: Vec<SpecialDate>,
    ) -> Result<Customer, StoreError> {
        CustomerColumns {
            id: self.id,
            account_number: self.account_number,
            name: self.name,
            id_kind: self.id_kind,
            id_number: self.id_number,
            address: self.address,
            supply_unit_id: self.supply_unit_id,
            supply_unit_path: self.supply_unit_path,
            grid: self.grid,
            usage_category: self.usage_category,
            voltage: self.voltage,
            contract_capacity_kva: self.contract_capacity_kva,
            industry: self.industry,
            business_format: self.business_format,
            scale: self.scale,
            value_tier: self.value_tier,
            service_grade: self.service_grade,
            status: self.status,
            retired_reason: self.retired_reason,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .into_customer(phones, tags, special_dates)
    }
}
