//! New customers of an import written with `COPY … FROM STDIN` (issue 6): the rows of a batch
//! stream straight into `customers`, `customer_phones`, `customer_tags`,
//! `customer_special_dates` and `customer_events` inside the batch's transaction. COPY skips
//! the per-statement planning and the array decoding of `UNNEST` inserts, which made the
//! server, not the file, the slow side of an import. A `Created` event is one short history
//! row: its values are derived from the record when read (`kefu_store::customer_snapshot`);
//! an initial load writes one `customer_batch_creations` row per batch instead.
//!
//! The caller has already found (and locked) the batch's existing customers, so every record
//! here is new; a concurrent import taking an account number in between makes COPY fail on the
//! unique index, which aborts the batch like the `UNNEST` path does.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use kefu_domain::customer::{CustomerRecord, CustomerStatus};
use kefu_store::{Actor, CustomerEventKind, StoreError};
use sqlx::PgConnection;

use crate::customer_insert::{
    RESERVE_CUSTOMER_IDS, UNKNOWN_UNIT, duplicate_account, reserve_ids, unit_paths,
};
use crate::{db, is_unique_violation};

/// Rows in PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes.
pub(crate) struct CopyText {
    buf: String,
    at_row_start: bool,
}

impl CopyText {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: String::with_capacity(bytes),
            at_row_start: true,
        }
    }

    fn sep(&mut self) {
        if !self.at_row_start {
            self.buf.push('\t');
        }
        self.at_row_start = false;
    }

    /// A text value, escaped so that tabs, line breaks and backslashes survive.
    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        self.sep();
        if value
            .bytes()
            .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
        {
            for ch in value.chars() {
                match ch {
                    '\\' => self.buf.push_str("\\\\"),
                    '\t' => self.buf.push_str("\\t"),
                    '\n' => self.buf.push_str("\\n"),
                    '\r' => self.buf.push_str("\\r"),
                    c => self.buf.push(c),
                }
            }
        } else {
            self.buf.push_str(value);
        }
        self
    }

    pub(crate) fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    pub(crate) fn int(&mut self, value: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{value}");
        self
    }

    pub(crate) fn opt_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    /// A value already in COPY form (no escaping needed: digits, codes, instants).
    pub(crate) fn raw(&mut self, value: &str) -> &mut Self {
        self.sep();
        self.buf.push_str(value);
        self
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.push_str("\\N");
        self
    }

    pub(crate) fn end_row(&mut self) {
        self.buf.push('\n');
        self.at_row_start = true;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        &self.buf
    }
}

/// Bytes of COPY text sent at a time: the server parses and stores one piece while the next
/// is written, instead of waiting for a whole batch's text.
const PIECE: usize = 256 * 1024;

/// Streams one row per item, written by `write`, into `COPY {statement} FROM STDIN`.
async fn copy_each<T, I>(
    conn: &mut PgConnection,
    statement: &str,
    items: I,
    mut write: impl FnMut(&mut CopyText, T) + Send,
) -> Result<(), StoreError>
where
    I: IntoIterator<Item = T>,
    I::IntoIter: Send,
    T: Send,
{
    let mut items = items.into_iter().peekable();
    if items.peek().is_none() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await.map_err(db)?;
    let mut rows = CopyText::with_capacity(PIECE + PIECE / 8);
    loop {
        let mut more = false;
        for item in items.by_ref() {
            write(&mut rows, item);
            if rows.buf.len() >= PIECE {
                more = true;
                break;
            }
        }
        if !rows.is_empty() {
            let piece = std::mem::replace(&mut rows.buf, String::with_capacity(PIECE + PIECE / 8));
            if let Err(e) = copy.send(piece.into_bytes()).await {
                let _ = copy.abort("kefu: sending the rows failed").await;
                return Err(db(e));
            }
        }
        if !more {
            break;
        }
    }
    match copy.finish().await {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(duplicate_account("")),
        Err(e) => Err(db(e)),
    }
}

/// Inserts new customers (none of whose account numbers is stored) with their children and one
/// `Created` event each; returns their ids in input order.
pub(crate) async fn copy_new(
    conn: &mut PgConnection,
    records: &[CustomerRecord],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let mut unit_ids: Vec<i64> = records.iter().map(|r| r.supply_unit_id.0).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let units: HashMap<i64, String> = unit_paths(conn, unit_ids).await?;
    if records
        .iter()
        .any(|r| !units.contains_key(&r.supply_unit_id.0))
    {
        return Err(UNKNOWN_UNIT);
    }
    let ids = reserve_ids(conn, RESERVE_CUSTOMER_IDS, records.len()).await?;
    copy_rows(conn, records, &ids, &units, now).await?;
    copy_created_events(conn, &ids, actor, now).await?;
    Ok(ids)
}

/// An instant in COPY form.
fn copy_instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

/// Writes new customers with the given ids (one per record) and their children, without
/// history. The supply units must be in `units`.
pub(crate) async fn copy_rows(
    conn: &mut PgConnection,
    records: &[CustomerRecord],
    ids: &[i64],
    units: &HashMap<i64, String>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = copy_instant(now);
    let customers = ids.iter().zip(records);
    copy_each(
        conn,
        "COPY customers (id, account_number, name, id_kind, id_number, address, \
         supply_unit_id, supply_unit_path, grid, usage_category, voltage, \
         contract_capacity_kva, industry, business_format, scale, value_tier, service_grade, \
         status, retired_reason, version, created_at, updated_at) FROM STDIN",
        customers.clone(),
        |rows, (id, r)| {
            let doc = r.id_document.as_ref();
            rows.int(*id)
                .text(r.account_number.as_str())
                .text(r.name.as_str())
                .opt_text(doc.map(|d| d.kind().code()))
                .opt_text(doc.map(|d| d.number()))
                .text(&r.address)
                .int(r.supply_unit_id.0)
                .text(units.get(&r.supply_unit_id.0).map_or("", String::as_str))
                .raw(r.grid.code())
                .raw(r.usage_category.code())
                .raw(r.voltage.code())
                .opt_int(r.contract_capacity_kva)
                .opt_text(r.industry.as_deref())
                .opt_text(r.business_format.map(|x| x.code()))
                .opt_text(r.scale.map(|x| x.code()))
                .opt_text(r.value_tier.map(|x| x.code()))
                .opt_text(r.service_grade.map(|x| x.code()))
                .raw(CustomerStatus::Active.code())
                .null()
                .int(1)
                .raw(&at)
                .raw(&at)
                .end_row();
        },
    )
    .await?;
    // Flattened before any await: iterator adapters with closures over references make the
    // future's type too general to be `Send`.
    let phones: Vec<(i64, i64, &str)> = customers
        .clone()
        .flat_map(|(id, r)| {
            (0_i64..)
                .zip(&r.phones)
                .map(move |(pos, p)| (*id, pos, p.as_str()))
        })
        .collect();
    let tags: Vec<(i64, &str)> = customers
        .clone()
        .flat_map(|(id, r)| r.tags.iter().map(move |t| (*id, t.as_str())))
        .collect();
    let dates: Vec<(i64, i64, &kefu_domain::customer::SpecialDate)> = customers
        .clone()
        .flat_map(|(id, r)| {
            (0_i64..)
                .zip(&r.special_dates)
                .map(move |(pos, d)| (*id, pos, d))
        })
        .collect();
    copy_each(
        conn,
        "COPY customer_phones (customer_id, position, phone) FROM STDIN",
        phones,
        |rows, (id, pos, p)| rows.int(id).int(pos).text(p).end_row(),
    )
    .await?;
    copy_each(
        conn,
        "COPY customer_tags (customer_id, tag) FROM STDIN",
        tags,
        |rows, (id, t)| rows.int(id).text(t).end_row(),
    )
    .await?;
    copy_each(
        conn,
        "COPY customer_special_dates (customer_id, position, kind, month, day, year, label) \
         FROM STDIN",
        dates,
        |rows, (id, pos, d)| {
            rows.int(id)
                .int(pos)
                .raw(d.kind.code())
                .int(i64::from(d.month))
                .int(i64::from(d.day))
                .opt_int(d.year.map(i64::from))
                .opt_text(d.label.as_deref())
                .end_row();
        },
    )
    .await
}

/// One `Created` event per customer, ids from the column's identity default (nothing refers
/// to them yet).
async fn copy_created_events(
    conn: &mut PgConnection,
    ids: &[i64],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = copy_instant(now);
    let staff_id = actor.staff_id().map(|s| s.0);
    let label = actor.label();
    copy_each(
        conn,
        "COPY customer_events (customer_id, at, staff_id, actor, kind) FROM STDIN",
        ids,
        |rows, id| {
            rows.int(*id)
                .raw(&at)
                .opt_int(staff_id)
                .text(&label)
                .raw(CustomerEventKind::Created.code())
                .end_row();
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_split_a_row_and_marks_nulls() {
        let mut rows = CopyText::with_capacity(64);
        rows.int(7)
            .text("a\tb\\c\nd\re")
            .null()
            .opt_text(Some("客户"))
            .end_row();
        rows.int(8).opt_int(None).raw("active").end_row();
        assert_eq!(
            rows.as_str(),
            "7\ta\\tb\\\\c\\nd\\re\t\\N\t客户\n8\t\\N\tactive\n"
        );
    }
}
