//! The org tree and departments on PostgreSQL.

use async_trait::async_trait;
use kefu_domain::ids::OrgUnitId;
use kefu_domain::org::{OrgCode, OrgLevel, OrgPath};
use kefu_store::{Actor, Department, NewDepartment, NewOrgUnit, OrgStore, OrgUnit, StoreError};

use crate::audit::append_in;
use crate::rows::{DepartmentRow, OrgUnitRow, code};
use crate::{PgStore, db, is_unique_violation, now_ms, scope_range};

#[async_trait]
impl OrgStore for PgStore {
    async fn create_org_unit(
        &self,
        unit: NewOrgUnit,
        actor: &Actor,
    ) -> Result<OrgUnit, StoreError> {
        let now = now_ms();
        let mut tx = self.write_tx().await?;
        let parent = match unit.parent_id {
            Some(pid) => {
                let row: Option<(String, String)> =
                    sqlx::query_as("SELECT level, path FROM org_units WHERE id = $1")
                        .bind(pid.0)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?;
                let (level, path) = row.ok_or(StoreError::UnknownReference {
                    field: "parent_id",
                    entity: "org_unit",
                })?;
                let level = code("org_unit", pid.0, "level", &level, OrgLevel::from_code)?;
                Some((level, crate::rows::path("org_unit", pid.0, &path)?))
            }
            None => None,
        };
        unit.level
            .check_parent(parent.as_ref().map(|(l, _)| *l))
            .map_err(|e| StoreError::InvalidState(e.to_string()))?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO org_units (parent_id, code, name, level, path, created_at) \
             VALUES ($1, $2, $3, $4, '', $5) RETURNING id",
        )
        .bind(unit.parent_id.map(|p| p.0))
        .bind(unit.code.as_str())
        .bind(&unit.name)
        .bind(unit.level.code())
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => OrgUnitId(id),
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    field: "code",
                    value: unit.code.as_str().to_owned(),
                });
            }
            Err(e) => return Err(db(e)),
        };
        let path = match &parent {
            Some((_, p)) => p.child(id),
            None => OrgPath::root(id),
        };
        sqlx::query("UPDATE org_units SET path = $1 WHERE id = $2")
            .bind(path.as_str())
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        append_in(
            &mut tx,
            actor,
            now,
            "org.create",
            &format!("org_unit:{id}"),
            &format!("{} {}", unit.code.as_str(), unit.name),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(OrgUnit {
            id,
            parent_id: unit.parent_id,
            code: unit.code,
            name: unit.name,
            level: unit.level,
            path,
            created_at: now,
        })
    }

    async fn get_org_unit(&self, id: OrgUnitId) -> Result<Option<OrgUnit>, StoreError> {
        sqlx::query_as::<_, OrgUnitRow>(
            "SELECT id, parent_id, code, name, level, path, created_at FROM org_units WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(OrgUnitRow::into_domain)
        .transpose()
    }

    async fn get_org_unit_by_code(&self, code: &OrgCode) -> Result<Option<OrgUnit>, StoreError> {
        sqlx::query_as::<_, OrgUnitRow>(
            "SELECT id, parent_id, code, name, level, path, created_at FROM org_units \
             WHERE code = $1",
        )
        .bind(code.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(OrgUnitRow::into_domain)
        .transpose()
    }

    async fn list_org_units(&self, scope: &OrgPath) -> Result<Vec<OrgUnit>, StoreError> {
        let (low, high) = scope_range(scope);
        sqlx::query_as::<_, OrgUnitRow>(
            "SELECT id, parent_id, code, name, level, path, created_at FROM org_units \
             WHERE path >= $1 AND path < $2 ORDER BY path",
        )
        .bind(low)
        .bind(high)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(OrgUnitRow::into_domain)
        .collect()
    }

    async fn create_department(
        &self,
        dept: NewDepartment,
        actor: &Actor,
    ) -> Result<Department, StoreError> {
        let mut tx = self.write_tx().await?;
        let unit: Option<i64> = sqlx::query_scalar("SELECT id FROM org_units WHERE id = $1")
            .bind(dept.unit_id.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if unit.is_none() {
            return Err(StoreError::UnknownReference {
                field: "unit_id",
                entity: "org_unit",
            });
        }
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO departments (unit_id, kind, name) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(dept.unit_id.0)
        .bind(dept.kind.code())
        .bind(&dept.name)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate {
                    field: "kind",
                    value: dept.kind.code().to_owned(),
                });
            }
            Err(e) => return Err(db(e)),
        };
        append_in(
            &mut tx,
            actor,
            now_ms(),
            "department.create",
            &format!("department:{id}"),
            &format!("org_unit:{} {}", dept.unit_id, dept.kind.code()),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(Department {
            id: kefu_domain::ids::DepartmentId(id),
            unit_id: dept.unit_id,
            kind: dept.kind,
            name: dept.name,
        })
    }

    async fn list_departments(&self, scope: &OrgPath) -> Result<Vec<Department>, StoreError> {
        let (low, high) = scope_range(scope);
        sqlx::query_as::<_, DepartmentRow>(
            "SELECT d.id, d.unit_id, d.kind, d.name FROM departments d \
             JOIN org_units u ON u.id = d.unit_id \
             WHERE u.path >= $1 AND u.path < $2 ORDER BY d.unit_id, d.kind",
        )
        .bind(low)
        .bind(high)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .into_iter()
        .map(DepartmentRow::into_domain)
        .collect()
    }
}
