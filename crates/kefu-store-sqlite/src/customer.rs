//! Writing customers on SQLite. Every write holds the write lock from its first statement
//! (`BEGIN IMMEDIATE`), so existence, duplicate and version checks made inside the transaction
//! stay true until it commits, and new ids can be handed out as `MAX(id) + 1`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kefu_domain::customer::{CustomerRecord, CustomerStatus, FieldChange, diff};
use kefu_domain::ids::CustomerId;
use kefu_domain::org::OrgPath;
use kefu_store::{
    Actor, Customer, CustomerEvent, CustomerEventKind, CustomerLookup, CustomerStore,
    IntakeCustomer, Page, PageRequest, SpecialDateHit, StoreError, intake_customer,
};
use sqlx::SqliteConnection;

use crate::audit::append_in;
use crate::customer_insert::{
    NewEvent, UNKNOWN_UNIT, delete_children, duplicate_account, insert_children, insert_events,
    insert_new, next_event_id, taken_accounts, unit_paths,
};
use crate::customer_read::{self, customer_by_id, customer_in_scope};
use crate::{SqliteStore, db, is_unique_violation, ms};

/// Loads a customer for a change: in scope, at the expected version.
async fn load_for_change(
    conn: &mut SqliteConnection,
    id: CustomerId,
    expected_version: i64,
    scope: &OrgPath,
) -> Result<Customer, StoreError> {
    let current = customer_in_scope(conn, id, scope)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })?;
    if current.version != expected_version {
        return Err(StoreError::VersionConflict {
            entity: "customer",
            current: current.version,
        });
    }
    Ok(current)
}

async fn reload(conn: &mut SqliteConnection, id: i64) -> Result<Customer, StoreError> {
    customer_by_id(conn, id)
        .await?
        .ok_or(StoreError::NotFound { entity: "customer" })
}

#[async_trait]
impl CustomerStore for SqliteStore {
    async fn create_customer(
        &self,
        record: CustomerRecord,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.write_tx().await?;
        let records = [record];
        let ids = insert_new(&mut tx, &records, actor, now).await?;
        let id = ids.first().copied().unwrap_or_default();
        append_in(
            &mut tx,
            actor,
            now,
            "customer.create",
            &format!("customer:{id}"),
            records[0].account_number.as_str(),
        )
        .await?;
        let created = reload(&mut tx, id).await?;
        tx.commit().await.map_err(db)?;
        Ok(created)
    }

    async fn create_customers(
        &self,
        records: Vec<CustomerRecord>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerId>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let ids = insert_new(&mut tx, &records, actor, now).await?;
        let (first, last) = (ids.first().copied(), ids.last().copied());
        append_in(
            &mut tx,
            actor,
            now,
            "customer.create_batch",
            "customer:*",
            &format!(
                "{} customers, ids {}..={}",
                ids.len(),
                first.unwrap_or_default(),
                last.unwrap_or_default()
            ),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(ids.into_iter().map(CustomerId).collect())
    }

    async fn customer_for_intake(
        &self,
        id: CustomerId,
        scope: &OrgPath,
    ) -> Result<Option<IntakeCustomer>, StoreError> {
        let row: Option<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, supply_unit_path, grid, service_grade FROM customers WHERE id = ?",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        match row {
            Some((id, path, grid, grade)) => {
                let c = intake_customer(id, &path, &grid, grade.as_deref())?;
                Ok(scope.contains(&c.supply_unit_path).then_some(c))
            }
            None => Ok(None),
        }
    }

    async fn get_customer(
        &self,
        id: CustomerId,
        scope: &OrgPath,
    ) -> Result<Option<Customer>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        customer_in_scope(&mut conn, id, scope).await
    }

    async fn update_customer(
        &self,
        id: CustomerId,
        expected_version: i64,
        record: CustomerRecord,
        scope: &OrgPath,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.write_tx().await?;
        let current = load_for_change(&mut tx, id, expected_version, scope).await?;
        if current.status == CustomerStatus::Retired {
            return Err(StoreError::InvalidState(format!(
                "customer {id} is retired; reinstate it before editing"
            )));
        }
        let changes = diff(&current.record, &record);
        if changes.is_empty() {
            return Ok(current);
        }
        let mut path = current.supply_unit_path.as_str().to_owned();
        if record.supply_unit_id != current.record.supply_unit_id {
            let units = unit_paths(&mut tx, [record.supply_unit_id.0]).await?;
            // A unit outside the caller's scope is as unknown to them as a missing one.
            path = units
                .get(&record.supply_unit_id.0)
                .filter(|p| OrgPath::from_stored(p).is_some_and(|p| scope.contains(&p)))
                .cloned()
                .ok_or(UNKNOWN_UNIT)?;
        }
        if record.account_number != current.record.account_number {
            let taken = taken_accounts(&mut tx, &[record.account_number.as_str()]).await?;
            if !taken.is_empty() {
                return Err(duplicate_account(record.account_number.as_str()));
            }
        }
        let doc = record.id_document.as_ref();
        sqlx::query(
            "UPDATE customers SET account_number = ?, name = ?, id_kind = ?, id_number = ?, \
             address = ?, supply_unit_id = ?, supply_unit_path = ?, grid = ?, \
             usage_category = ?, voltage = ?, contract_capacity_kva = ?, industry = ?, \
             business_format = ?, scale = ?, value_tier = ?, service_grade = ?, \
             version = version + 1, updated_at = ? WHERE id = ?",
        )
        .bind(record.account_number.as_str())
        .bind(record.name.as_str())
        .bind(doc.map(|d| d.kind().code()))
        .bind(doc.map(|d| d.number()))
        .bind(&record.address)
        .bind(record.supply_unit_id.0)
        .bind(&path)
        .bind(record.grid.code())
        .bind(record.usage_category.code())
        .bind(record.voltage.code())
        .bind(record.contract_capacity_kva)
        .bind(record.industry.as_deref())
        .bind(record.business_format.map(|x| x.code()))
        .bind(record.scale.map(|x| x.code()))
        .bind(record.value_tier.map(|x| x.code()))
        .bind(record.service_grade.map(|x| x.code()))
        .bind(ms(now))
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                duplicate_account(record.account_number.as_str())
            } else {
                db(e)
            }
        })?;
        delete_children(&mut tx, id.0).await?;
        insert_children(&mut tx, &[(id.0, &record)]).await?;
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        let detail = format!("changed: {}", fields.join(", "));
        let event = NewEvent {
            id: next_event_id(&mut tx).await?,
            customer_id: id.0,
            kind: CustomerEventKind::Updated,
            reason: None,
            changes,
            snapshot: None,
        };
        insert_events(&mut tx, &[event], actor, now).await?;
        append_in(
            &mut tx,
            actor,
            now,
            "customer.update",
            &format!("customer:{id}"),
            &detail,
        )
        .await?;
        let updated = reload(&mut tx, id.0).await?;
        tx.commit().await.map_err(db)?;
        Ok(updated)
    }

    async fn set_customer_status(
        &self,
        id: CustomerId,
        expected_version: i64,
        retire_reason: Option<String>,
        scope: &OrgPath,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Customer, StoreError> {
        let mut tx = self.write_tx().await?;
        let current = load_for_change(&mut tx, id, expected_version, scope).await?;
        let (status, kind, action) = match (&retire_reason, current.status) {
            (Some(_), CustomerStatus::Retired) => {
                return Err(StoreError::InvalidState(format!(
                    "customer {id} is already retired"
                )));
            }
            (None, CustomerStatus::Active) => {
                return Err(StoreError::InvalidState(format!(
                    "customer {id} is not retired, so it cannot be reinstated"
                )));
            }
            (Some(_), CustomerStatus::Active) => (
                CustomerStatus::Retired,
                CustomerEventKind::Retired,
                "customer.retire",
            ),
            (None, CustomerStatus::Retired) => (
                CustomerStatus::Active,
                CustomerEventKind::Reinstated,
                "customer.reinstate",
            ),
        };
        sqlx::query(
            "UPDATE customers SET status = ?, retired_reason = ?, version = version + 1, \
             updated_at = ? WHERE id = ?",
        )
        .bind(status.code())
        .bind(retire_reason.as_deref())
        .bind(ms(now))
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let event = NewEvent {
            id: next_event_id(&mut tx).await?,
            customer_id: id.0,
            kind,
            reason: retire_reason.clone(),
            changes: vec![FieldChange {
                field: "status".to_owned(),
                old: current.status.code().to_owned(),
                new: status.code().to_owned(),
            }],
            snapshot: None,
        };
        insert_events(&mut tx, &[event], actor, now).await?;
        append_in(
            &mut tx,
            actor,
            now,
            action,
            &format!("customer:{id}"),
            retire_reason.as_deref().unwrap_or(""),
        )
        .await?;
        let updated = reload(&mut tx, id.0).await?;
        tx.commit().await.map_err(db)?;
        Ok(updated)
    }

    async fn find_customers(
        &self,
        lookup: &CustomerLookup,
        scope: &OrgPath,
        include_retired: bool,
        page: PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        customer_read::find(&mut conn, lookup, scope, include_retired, page).await
    }

    async fn customer_history(
        &self,
        id: CustomerId,
        scope: &OrgPath,
        page: PageRequest,
    ) -> Result<Page<CustomerEvent>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        customer_read::history(&mut conn, id, scope, page).await
    }

    async fn special_dates_between(
        &self,
        scope: &OrgPath,
        from: NaiveDate,
        days: u32,
        limit: u32,
    ) -> Result<Vec<SpecialDateHit>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        customer_read::special_dates(&mut conn, scope, from, days, limit).await
    }

    async fn count_customers(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
