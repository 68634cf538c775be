//! Keyset pagination: a page holds rows after an opaque cursor, so deep pages cost the same as
//! the first and concurrent inserts never shift what a client sees.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 200;
/// The page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// An opaque position in a list ordered by id: rows with a larger id come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("k1:{}", self.0))
    }

    /// Reads a cursor a client sent back; `None` if it was not made by `encode`.
    pub fn decode(s: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(s.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        text.strip_prefix("k1:")?.parse().ok().map(Cursor)
    }
}

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows after this position (none = from the start).
    pub after: Option<Cursor>,
    /// At most this many rows (already clamped to `1..=MAX_PAGE_SIZE`).
    pub limit: u32,
}

impl PageRequest {
    /// A request clamped to the allowed size.
    pub fn new(after: Option<Cursor>, limit: Option<u32>) -> Self {
        Self {
            after,
            limit: limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE),
        }
    }

    /// The first page of the default size.
    pub fn first() -> Self {
        Self::new(None, None)
    }

    /// The id after which to read (0 = from the start).
    pub fn after_id(&self) -> i64 {
        self.after.map_or(0, |c| c.0)
    }

    /// The SQL `LIMIT`: one more than asked, to know whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of rows and the cursor for the next page, if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in id order.
    pub items: Vec<T>,
    /// Pass this back for the next page; `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows; `id_of` gives each row's key.
    pub fn from_fetched(mut rows: Vec<T>, req: PageRequest, id_of: impl Fn(&T) -> i64) -> Self {
        let limit = req.limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| Cursor(id_of(r)))
        } else {
            None
        };
        Self { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        assert_eq!(Cursor::decode(&Cursor(42).encode()), Some(Cursor(42)));
        assert_eq!(Cursor::decode("42"), None);
        assert_eq!(Cursor::decode("!!"), None);
    }

    #[test]
    fn page_keeps_limit_rows_and_points_after_the_last() {
        let req = PageRequest::new(None, Some(2));
        let p = Page::from_fetched(vec![1, 2, 3], req, |x| *x);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next, Some(Cursor(2)));
        let p = Page::from_fetched(vec![1, 2], req, |x| *x);
        assert_eq!(p.next, None);
    }

    #[test]
    fn page_size_is_clamped() {
        assert_eq!(PageRequest::new(None, Some(0)).limit, 1);
        assert_eq!(PageRequest::new(None, Some(10_000)).limit, MAX_PAGE_SIZE);
    }
}
