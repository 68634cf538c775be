//! Identifiers of an order that people and clients see: the human-readable order number and the
//! idempotency key that makes a retried intake return the first order.

use chrono::{Datelike, NaiveDate};

use crate::FieldError;

/// The prefix of every order number (工单, "GD").
pub const ORDER_NUMBER_PREFIX: &str = "GD";
/// The largest daily sequence number (six digits).
pub const MAX_DAILY_SEQUENCE: u32 = 999_999;
/// The longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 128;

/// 工单编号: `GD` + the centre's local date `yyyymmdd` + a 6-digit daily sequence, e.g.
/// `GD20261122000123`. Agents read it out on the phone, so it stays short and all digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderNumber {
    date: NaiveDate,
    seq: u32,
}

impl OrderNumber {
    /// The number of the `seq`-th order of `date` (the store allocates `seq`, from 1).
    pub fn new(date: NaiveDate, seq: u32) -> Result<Self, FieldError> {
        if !(1..=MAX_DAILY_SEQUENCE).contains(&seq) {
            return Err(FieldError::new(
                "number",
                format!("the daily sequence runs from 1 to {MAX_DAILY_SEQUENCE}"),
            ));
        }
        if !(1000..=9999).contains(&date.year()) {
            return Err(FieldError::new("number", "the year must have four digits"));
        }
        Ok(Self { date, seq })
    }

    /// Parses `GDyyyymmddnnnnnn` (the prefix in either case).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let bad = || {
            FieldError::new(
                "number",
                format!(
                    "'{s}' is not an order number: write {ORDER_NUMBER_PREFIX}, the date as \
                     yyyymmdd and six digits, e.g. GD20261122000123"
                ),
            )
        };
        let digits = s
            .get(..2)
            .filter(|p| p.eq_ignore_ascii_case(ORDER_NUMBER_PREFIX))
            .and_then(|_| s.get(2..))
            .filter(|d| d.len() == 14 && d.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(bad)?;
        let date = NaiveDate::parse_from_str(&digits[..8], "%Y%m%d").map_err(|_| bad())?;
        let seq: u32 = digits[8..].parse().map_err(|_| bad())?;
        Self::new(date, seq).map_err(|_| bad())
    }

    /// The day the order was taken (the centre's local date).
    pub fn date(self) -> NaiveDate {
        self.date
    }

    /// The order's place in its day.
    pub fn seq(self) -> u32 {
        self.seq
    }
}

impl std::fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{ORDER_NUMBER_PREFIX}{}{:06}",
            self.date.format("%Y%m%d"),
            self.seq
        )
    }
}

/// A client's `Idempotency-Key` (or a channel's message id): 1–128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key; spaces and non-ASCII are refused so keys compare byte for byte.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty()
            || raw.len() > MAX_IDEMPOTENCY_KEY_LEN
            || !raw.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(FieldError::new(
                "idempotency_key",
                format!(
                    "use 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters (no spaces), \
                     e.g. a UUID"
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_round_trip() {
        let n = OrderNumber::parse("GD20261122000123");
        assert_eq!(
            n.clone().map(|n| n.to_string()),
            Ok("GD20261122000123".to_owned())
        );
        assert_eq!(n.map(|n| n.seq()), Ok(123));
        let d = NaiveDate::from_ymd_opt(2026, 1, 4).unwrap_or_default();
        assert_eq!(
            OrderNumber::new(d, 7).map(|n| n.to_string()),
            Ok("GD20260104000007".to_owned())
        );
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "",
            "GD2026112200012",
            "GD20261322000123",
            "GD20261122000000",
            "XX20261122000123",
            "GD2026112200012a",
            "GD２0261122000123",
        ] {
            assert!(OrderNumber::parse(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_number_round_trips_and_no_text_panics(
            days in 0i64..3_000_000, seq in 1u32..=MAX_DAILY_SEQUENCE, junk in "\\PC{0,20}"
        ) {
            let base = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap_or_default();
            let date = base + chrono::Duration::days(days);
            let n = OrderNumber::new(date, seq);
            proptest::prop_assert_eq!(n.clone().and_then(|n| OrderNumber::parse(&n.to_string())), n);
            let _ = OrderNumber::parse(&junk);
            let _ = OrderNumber::parse(&format!("GD{junk}"));
        }
    }

    #[test]
    fn idempotency_keys_are_visible_ascii_up_to_128() {
        assert!(IdempotencyKey::parse("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(IdempotencyKey::parse("键").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(128)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
    }
}
