//! Reading work orders on SQLite: the timeline rows of one or many orders (one query), the
//! orders rebuilt from them with the domain's `replay`, and the filtered, scoped list.

use std::collections::HashMap;

use kefu_domain::org::OrgPath;
use kefu_domain::workorder::OrderNumber;
use kefu_store::workorder::{
    decode_stored_event, in_scope, order_from_snapshot, order_not_found, rebuild,
};
use kefu_store::workorder_codec::EventRow;
use kefu_store::{OrderFilter, OrderSort, Page, PageRequest, StoreError, StoredEvent, StoredOrder};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::{db, from_ms, ms, scope_range};

/// Scopes this shallow (HQ, a province) cover nearly every order: their lists walk the primary
/// key backwards instead of sorting the whole scope.
const PROVINCE_DEPTH: usize = 2;

#[derive(sqlx::FromRow)]
struct EventDbRow {
    id: i64,
    order_id: i64,
    version: i64,
    at: i64,
    staff_id: i64,
    from_state: Option<String>,
    to_state: String,
    kind: String,
    payload: String,
}

/// The timelines of `order_ids`, each oldest first.
pub(crate) async fn timelines(
    conn: &mut SqliteConnection,
    order_ids: &[i64],
) -> Result<HashMap<i64, Vec<StoredEvent>>, StoreError> {
    let mut out: HashMap<i64, Vec<StoredEvent>> = HashMap::new();
    if order_ids.is_empty() {
        return Ok(out);
    }
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT id, order_id, version, at, staff_id, from_state, to_state, kind, payload \
         FROM work_order_events WHERE order_id IN (",
    );
    let mut ids = qb.separated(", ");
    for id in order_ids {
        ids.push_bind(*id);
    }
    qb.push(") ORDER BY order_id, version");
    let rows: Vec<EventDbRow> = qb
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    for r in rows {
        let at = from_ms("work_order", r.order_id, r.at)?;
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
    conn: &mut SqliteConnection,
    number: &OrderNumber,
) -> Result<Option<(i64, String)>, StoreError> {
    sqlx::query_as("SELECT id, home_unit_path FROM work_orders WHERE number = ?")
        .bind(number.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)
}

/// The row id of an order in `scope`, or NotFound.
pub(crate) async fn locate_in_scope(
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
    id: i64,
    scope: &OrgPath,
) -> Result<bool, StoreError> {
    let (low, high) = scope_range(scope);
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT order_id FROM work_order_assists WHERE order_id = ? \
         AND unit_path >= ? AND unit_path < ? LIMIT 1",
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
    conn: &mut SqliteConnection,
    id: i64,
    units: &[OrgPath],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM work_order_assists WHERE order_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for unit in units {
        sqlx::query(
            "INSERT INTO work_order_assists (order_id, unit_path) VALUES (?, ?) \
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
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
    ids: &[i64],
) -> Result<Vec<StoredOrder>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb =
        QueryBuilder::<Sqlite>::new("SELECT id, snapshot, sla FROM work_orders WHERE id IN (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    qb.push(")");
    let rows: Vec<(i64, Option<String>, Option<String>)> = qb
        .build_query_as()
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

/// The list query: `head` (`SELECT id` or an `EXPLAIN` of it) over the filtered rows in scope,
/// newest first. Without statistics SQLite would range-scan the scope and sort it all, so the
/// query steers its access path: a partial index for a `true` major / supervised / repeat
/// filter; the index of the other filter when there is one, or the primary key backwards for
/// a province-wide list (a unary `+` keeps the scope's index out: the scope is then checked
/// row by row); the scope's index only for an unfiltered list of a city, county or station.
fn list_query(
    head: &str,
    filter: &OrderFilter,
    scope: &OrgPath,
    page: PageRequest,
) -> QueryBuilder<Sqlite> {
    let hint = if filter.assisting {
        ""
    } else if filter.major == Some(true) {
        " INDEXED BY work_orders_major"
    } else if filter.supervised == Some(true) {
        " INDEXED BY work_orders_supervised"
    } else if filter.repeat == Some(true) {
        " INDEXED BY work_orders_repeat"
    } else {
        ""
    };
    let hint = if !hint.is_empty() || filter.assisting {
        hint
    } else if filter.customer.is_some() {
        " INDEXED BY work_orders_customer"
    } else if filter.overdue.is_some_and(|o| o.yes) {
        " INDEXED BY work_orders_due"
    } else {
        hint
    };
    let selective = !hint.is_empty()
        || filter.state.is_some()
        || filter.appeal_type.is_some()
        || filter.channel.is_some()
        || filter.unit.is_some()
        || filter.created_from.is_some()
        || filter.created_to.is_some();
    let column = if selective || scope.depth() <= PROVINCE_DEPTH {
        "+home_unit_path"
    } else {
        "home_unit_path"
    };
    let (low, high) = scope_range(scope);
    let mut qb = QueryBuilder::<Sqlite>::new(format!("{head} FROM work_orders{hint} WHERE "));
    if filter.assisting {
        // A unit assists few orders: the assist index drives, the rest is checked per row.
        qb.push("id IN (SELECT order_id FROM work_order_assists WHERE unit_path >= ")
            .push_bind(low)
            .push(" AND unit_path < ")
            .push_bind(high)
            .push(")");
    } else {
        qb.push(format!("{column} >= ")).push_bind(low);
        qb.push(format!(" AND {column} < ")).push_bind(high);
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
        if let Some(v) = value {
            qb.push(format!(" AND {column} = {}", i64::from(v)));
        }
    }
    if let Some(o) = filter.overdue {
        if o.yes {
            qb.push(" AND due_at <= ").push_bind(ms(o.at));
        } else {
            qb.push(" AND (due_at IS NULL OR due_at > ")
                .push_bind(ms(o.at));
            qb.push(")");
        }
    }
    if let Some(from) = filter.created_from {
        qb.push(" AND created_at >= ").push_bind(ms(from));
    }
    if let Some(to) = filter.created_to {
        qb.push(" AND created_at < ").push_bind(ms(to));
    }
    // Keyset paging in the list's order: the cursor is the last id seen, and a deadline
    // order continues after that row's (no deadline last, deadline, id).
    let (past, direction) = match filter.sort {
        OrderSort::Newest => (" AND id < ", " ORDER BY id DESC LIMIT "),
        OrderSort::Oldest => (" AND id > ", " ORDER BY id ASC LIMIT "),
        OrderSort::DueSoonest => (
            " AND (due_at IS NULL, COALESCE(due_at, 0), id) > (SELECT due_at IS NULL, \
             COALESCE(due_at, 0), id FROM work_orders WHERE id = ",
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
    qb
}

/// One page of the filtered list, newest first.
pub(crate) async fn list(
    conn: &mut SqliteConnection,
    filter: &OrderFilter,
    scope: &OrgPath,
    page: PageRequest,
) -> Result<Page<StoredOrder>, StoreError> {
    let ids: Vec<i64> = list_query("SELECT id", filter, scope, page)
        .build_query_scalar()
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let orders = orders_by_ids(conn, &ids).await?;
    Ok(Page::from_fetched(orders, page, |o| o.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::ids::OrgUnitId;
    use kefu_domain::workorder::{AppealType, Channel, State};

    async fn plan(filter: OrderFilter, scope: OrgPath) -> String {
        let store = crate::testing::fresh_store().await;
        let page = PageRequest::new(Some(kefu_store::Cursor(1_000)), Some(50));
        let rows: Vec<(i64, i64, i64, String)> =
            list_query("EXPLAIN QUERY PLAN SELECT id", &filter, &scope, page)
                .build_query_as()
                .fetch_all(store.pool())
                .await
                .expect("explain");
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
    }

    fn province() -> OrgPath {
        OrgPath::root(OrgUnitId(1)).child(OrgUnitId(2))
    }

    #[tokio::test]
    async fn every_list_filter_is_served_by_an_index() {
        let county = province().child(OrgUnitId(3)).child(OrgUnitId(4));
        let f = OrderFilter::default;
        let cases = [
            (f(), province(), "INTEGER PRIMARY KEY"),
            (f(), county.clone(), "work_orders_home_unit"),
            (
                OrderFilter {
                    unit: Some(county.clone()),
                    ..f()
                },
                province(),
                "work_orders_home_unit",
            ),
            (
                OrderFilter {
                    state: Some(State::Dispatched),
                    ..f()
                },
                province(),
                "work_orders_state",
            ),
            (
                OrderFilter {
                    appeal_type: Some(AppealType::Complaint),
                    ..f()
                },
                province(),
                "work_orders_appeal_type",
            ),
            (
                OrderFilter {
                    channel: Some(Channel::Web),
                    ..f()
                },
                province(),
                "work_orders_channel",
            ),
            (
                OrderFilter {
                    created_from: Some(chrono::DateTime::UNIX_EPOCH),
                    created_to: Some(chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(1)),
                    ..f()
                },
                province(),
                "work_orders_created",
            ),
            (
                OrderFilter {
                    major: Some(true),
                    state: Some(State::Dispatched),
                    ..f()
                },
                province(),
                "work_orders_major",
            ),
            (
                OrderFilter {
                    supervised: Some(true),
                    ..f()
                },
                province(),
                "work_orders_supervised",
            ),
            (
                OrderFilter {
                    repeat: Some(true),
                    ..f()
                },
                province(),
                "work_orders_repeat",
            ),
            (
                OrderFilter {
                    customer: Some(kefu_domain::ids::CustomerId(7)),
                    ..f()
                },
                province(),
                "work_orders_customer",
            ),
            (
                OrderFilter {
                    overdue: Some(kefu_store::Overdue {
                        yes: true,
                        at: chrono::DateTime::UNIX_EPOCH,
                    }),
                    ..f()
                },
                province(),
                "work_orders_due",
            ),
        ];
        for (filter, scope, index) in cases {
            let plan = plan(filter.clone(), scope).await;
            assert!(plan.contains(index), "{filter:?}: {plan}");
            assert!(
                !plan.contains("SCAN work_orders USING"),
                "{filter:?}: {plan}"
            );
        }
    }
}
