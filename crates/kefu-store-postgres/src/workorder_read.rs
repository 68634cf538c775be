//! Reading work orders on PostgreSQL: the timeline rows of one or many orders (one query), the
//! orders rebuilt from them with the domain's `replay`, and the filtered, scoped list.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::OrderNumber;
use kefu_store::workorder::{
    decode_stored_event, in_scope, order_from_snapshot, order_not_found, rebuild,
};
use kefu_store::workorder_codec::EventRow;
use kefu_store::{OrderFilter, OrderSort, Page, PageRequest, StoreError, StoredEvent, StoredOrder};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::{db, scope_range};

#[derive(sqlx::FromRow)]
struct EventDbRow {
    id: i64,
    order_id: i64,
    version: i64,
    at: DateTime<Utc>,
    staff_id: i64,
    from_state: Option<String>,
    to_state: String,
    kind: String,
    payload: String,
}

/// The timelines of `order_ids`, each oldest first.
pub(crate) async fn timelines(
    conn: &mut PgConnection,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<StoredEvent>>, StoreError> {
    let mut out: HashMap<i64, Vec<StoredEvent>> = HashMap::new();
    if order_ids.is_empty() {
        return Ok(out);
    }
    let rows: Vec<EventDbRow> = sqlx::query_as(
        "SELECT id, order_id, version, at, staff_id, from_state, to_state, kind, \
         payload::text AS payload FROM work_order_events WHERE order_id = ANY($1) \
         ORDER BY order_id, version",
    )
    .bind(order_ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    for r in rows {
        let at = r.at;
        let e = decode_stored_event(
            r.id,
            r.order_id,
            EventRow {
                version: r.version,
                at,
                actor: r.staff_id,
                from: r.from_state.as_deref(),
                to: &r.to_state,
                kind: &r.kind,
                payload: &r.payload,
            },
        )?;
        out.entry(r.order_id).or_default().push(e);
    }
    Ok(out)
}

/// The row id and home-unit path of an order, whatever its scope.
pub(crate) async fn locate(
    conn: &mut PgConnection,
    number: &OrderNumber,
) -> Result<Option<(i64, String)>, StoreError> {
    sqlx::query_as("SELECT id, home_unit_path FROM work_orders WHERE number = $1")
        .bind(number.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)
}

/// The row id of an order in `scope`, or NotFound.
pub(crate) async fn locate_in_scope(
    conn: &mut PgConnection,
    number: &OrderNumber,
    scope: &OrgPath,
) -> Result<i64, StoreError> {
    match locate(conn, number).await? {
        Some((id, home)) if in_scope(scope, &home) => Ok(id),
        Some((id, _)) if assists_in_scope(conn, id, scope).await? => Ok(id),
        _ => Err(order_not_found()),
    }
}

/// Whether a unit assisting order `id` lies in `scope`.
pub(crate) async fn assists_in_scope(
    conn: &mut PgConnection,
    id: i64,
    scope: &OrgPath,
) -> Result<bool, StoreError> {
    let (low, high) = scope_range(scope);
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT order_id FROM work_order_assists WHERE order_id = $1 \
         AND unit_path >= $2 AND unit_path < $3 LIMIT 1",
    )
    .bind(id)
    .bind(low)
    .bind(high)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    Ok(found.is_some())
}

/// Rewrites the assisting units of order `id` (after a change of `Order::assisting`).
pub(crate) async fn replace_assists(
    conn: &mut PgConnection,
    id: i64,
    units: &[OrgPath],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM work_order_assists WHERE order_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for unit in units {
        sqlx::query(
            "INSERT INTO work_order_assists (order_id, unit_path) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(unit.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// The order of row `id`.
pub(crate) async fn order_by_id(
    conn: &mut PgConnection,
    id: i64,
) -> Result<StoredOrder, StoreError> {
    orders_by_ids(conn, &[id])
        .await?
        .pop()
        .ok_or_else(order_not_found)
}

/// The orders of the given rows, in the given order: from their snapshots, or rebuilt from
/// the timeline for rows written before snapshots existed.
pub(crate) async fn orders_by_ids(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<Vec<StoredOrder>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT id, snapshot::text, sla FROM work_orders WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
    let mut snapshots: HashMap<i64, (Option<String>, Option<String>)> = rows
        .into_iter()
        .map(|(id, snapshot, sla)| (id, (snapshot, sla)))
        .collect();
    let missing: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| matches!(snapshots.get(id), Some((None, _))))
        .collect();
    let mut rebuilt = timelines(conn, &missing).await?;
    ids.iter()
        .map(|id| match snapshots.remove(id) {
            Some((Some(raw), sla)) => order_from_snapshot(*id, &raw, sla.as_deref()),
            Some((None, sla)) => {
                rebuild(*id, &rebuilt.remove(id).unwrap_or_default(), sla.as_deref())
            }
            None => Err(order_not_found()),
        })
        .collect()
}

/// One page of the filtered list, newest first.
pub(crate) async fn list(
    conn: &mut PgConnection,
    filter: &OrderFilter,
    scope: &OrgPath,
    page: PageRequest,
) -> Result<Page<StoredOrder>, StoreError> {
    let (low, high) = scope_range(scope);
    let mut qb = QueryBuilder::<Postgres>::new("SELECT id FROM work_orders WHERE ");
    if filter.assisting {
        qb.push("id IN (SELECT order_id FROM work_order_assists WHERE unit_path >= ")
            .push_bind(low)
            .push(" AND unit_path < ")
            .push_bind(high)
            .push(")");
    } else {
        qb.push("home_unit_path >= ")
            .push_bind(low)
            .push(" AND home_unit_path < ")
            .push_bind(high);
    }
    if let Some(unit) = &filter.unit {
        let (l, h) = scope_range(unit);
        qb.push(" AND home_unit_path >= ").push_bind(l);
        qb.push(" AND home_unit_path < ").push_bind(h);
    }
    if let Some(c) = filter.customer {
        qb.push(" AND customer_id = ").push_bind(c.0);
    }
    if let Some(s) = filter.state {
        qb.push(" AND state = ").push_bind(s.code());
    }
    if let Some(t) = filter.appeal_type {
        qb.push(" AND appeal_type = ").push_bind(t.code());
    }
    if let Some(c) = filter.channel {
        qb.push(" AND channel = ").push_bind(c.code());
    }
    // Literals, not parameters: a partial index is usable only for a constant.
    for (column, value) in [
        ("major", filter.major),
        ("is_repeat", filter.repeat),
        ("supervised", filter.supervised),
    ] {
        match value {
            Some(true) => qb.push(format!(" AND {column}")),
            Some(false) => qb.push(format!(" AND NOT {column}")),
            None => &mut qb,
        };
    }
    if let Some(o) = filter.overdue {
        if o.yes {
            qb.push(" AND due_at <= ").push_bind(o.at);
        } else {
            qb.push(" AND (due_at IS NULL OR due_at > ").push_bind(o.at);
            qb.push(")");
        }
    }
    if let Some(from) = filter.created_from {
        qb.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.created_to {
        qb.push(" AND created_at < ").push_bind(to);
    }
    // Keyset paging in the list's order: the cursor is the last id seen, and a deadline
    // order continues after that row's (no deadline last, deadline, id).
    let (past, direction) = match filter.sort {
        OrderSort::Newest => (" AND id < ", " ORDER BY id DESC LIMIT "),
        OrderSort::Oldest => (" AND id > ", " ORDER BY id ASC LIMIT "),
        OrderSort::DueSoonest => (
            " AND (due_at IS NULL, COALESCE(due_at, 'epoch'::timestamptz), id) > (SELECT \
             due_at IS NULL, COALESCE(due_at, 'epoch'::timestamptz), id FROM work_orders \
             WHERE id = ",
            " ORDER BY due_at IS NULL, due_at, id LIMIT ",
        ),
    };
    if let Some(after) = page.after {
        qb.push(past).push_bind(after.0);
        if filter.sort == OrderSort::DueSoonest {
            qb.push(")");
        }
    }
    qb.push(direction).push_bind(page.fetch_limit());
    let ids: Vec<i64> = qb
        .build_query_scalar()
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let orders = orders_by_ids(conn, &ids).await?;
    Ok(Page::from_fetched(orders, page, |o| o.id))
}
