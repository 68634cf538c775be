//! Rows streamed into `COPY … FROM STDIN (FORMAT binary)`: each value goes as its length and
//! its bytes in the column type's own wire form, so the server stores what it receives
//! without parsing text. With the text format, turning text back into numbers and instants
//! (`timestamptz_in`, two per customer) was about a quarter of the server's COPY time at
//! 1 M customers (BENCHMARKS.md, customer import).
//!
//! Every value must have exactly its column's type (`int8` for BIGINT, `int4` for INTEGER,
//! `instant` for TIMESTAMPTZ, `text` for TEXT): the server refuses anything else.

use chrono::{DateTime, Utc};
use kefu_store::StoreError;
use sqlx::PgConnection;

use crate::customer_insert::duplicate_account;
use crate::{db, is_unique_violation};

/// The binary COPY header: signature, flags (none), header extension length (none).
const HEADER: &[u8; 19] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end-of-data marker: a field count of -1.
const TRAILER: [u8; 2] = (-1_i16).to_be_bytes();
/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00 UTC.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Rows in PostgreSQL's binary COPY format.
pub(crate) struct CopyRows {
    buf: Vec<u8>,
    /// Where the current row's field count is to be written, while a row is open.
    row_start: Option<usize>,
    fields: i16,
}

impl CopyRows {
    fn with_capacity(bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(bytes),
            row_start: None,
            fields: 0,
        }
    }

    fn open_row(&mut self) {
        if self.row_start.is_none() {
            self.row_start = Some(self.buf.len());
            self.buf.extend_from_slice(&[0, 0]);
            self.fields = 0;
        }
    }

    fn value(&mut self, bytes: &[u8]) -> &mut Self {
        self.open_row();
        // A validated record's values are short texts; nothing comes near 2 GiB.
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self.fields += 1;
        self
    }

    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        self.value(value.as_bytes())
    }

    pub(crate) fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// A BIGINT.
    pub(crate) fn int8(&mut self, value: i64) -> &mut Self {
        self.value(&value.to_be_bytes())
    }

    pub(crate) fn opt_int8(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(v) => self.int8(v),
            None => self.null(),
        }
    }

    /// An INTEGER.
    pub(crate) fn int4(&mut self, value: i32) -> &mut Self {
        self.value(&value.to_be_bytes())
    }

    pub(crate) fn opt_int4(&mut self, value: Option<i32>) -> &mut Self {
        match value {
            Some(v) => self.int4(v),
            None => self.null(),
        }
    }

    /// A TIMESTAMPTZ: microseconds since PostgreSQL's epoch.
    pub(crate) fn instant(&mut self, at: DateTime<Utc>) -> &mut Self {
        self.int8(at.timestamp_micros() - PG_EPOCH_MICROS)
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.open_row();
        self.buf.extend_from_slice(&(-1_i32).to_be_bytes());
        self.fields += 1;
        self
    }

    pub(crate) fn end_row(&mut self) {
        if let Some(start) = self.row_start.take() {
            self.buf[start..start + 2].copy_from_slice(&self.fields.to_be_bytes());
        }
    }
}

/// Bytes sent at a time: the server stores one piece while the next is written, instead of
/// waiting for a whole batch.
const PIECE: usize = 256 * 1024;

/// Streams one row per item, written by `write`, into `{statement}`, a
/// `COPY … FROM STDIN (FORMAT binary)`. A unique violation is reported as a duplicate account
/// number (the one unique rule of the customer tables that a row can break).
pub(crate) async fn copy_each<T, I>(
    conn: &mut PgConnection,
    statement: &str,
    items: I,
    mut write: impl FnMut(&mut CopyRows, T) + Send,
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
    let mut rows = CopyRows::with_capacity(PIECE + PIECE / 8);
    rows.buf.extend_from_slice(HEADER);
    loop {
        let mut more = false;
        for item in items.by_ref() {
            write(&mut rows, item);
            if rows.buf.len() >= PIECE {
                more = true;
                break;
            }
        }
        if !more {
            rows.buf.extend_from_slice(&TRAILER);
        }
        let piece = std::mem::replace(&mut rows.buf, Vec::with_capacity(PIECE + PIECE / 8));
        if let Err(e) = copy.send(piece).await {
            let _ = copy.abort("kefu: sending the rows failed").await;
            return Err(db(e));
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn binary_rows_carry_counts_lengths_network_order_and_nulls() {
        let mut rows = CopyRows::with_capacity(64);
        rows.int8(7).text("客").null().int4(-2).end_row();
        rows.opt_int8(None).opt_text(Some("a")).end_row();
        let mut want: Vec<u8> = vec![0, 4];
        want.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]);
        want.extend([0, 0, 0, 3, 0xe5, 0xae, 0xa2]);
        want.extend([0xff, 0xff, 0xff, 0xff]);
        want.extend([0, 0, 0, 4, 0xff, 0xff, 0xff, 0xfe]);
        want.extend([0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, b'a']);
        assert_eq!(rows.buf, want);
    }

    #[test]
    fn instants_count_microseconds_from_the_year_2000() {
        let mut rows = CopyRows::with_capacity(16);
        let at = Utc
            .with_ymd_and_hms(2000, 1, 1, 0, 0, 1)
            .single()
            .expect("instant");
        rows.instant(at).end_row();
        assert_eq!(
            rows.buf,
            [0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]
        );
    }
}
