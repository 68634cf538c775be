//! Repeat appeals (重复诉求): the same customer, or the same phone, on the same sub-category
//! within a window. The store finds the candidates; this rule decides which of them count.

use chrono::{DateTime, Duration, Utc};

use super::catalogue::SubCategoryCode;
use super::number::OrderNumber;
use crate::customer::Phone;
use crate::ids::CustomerId;

/// The default window, in days, within which a second appeal counts as a repeat.
pub const DEFAULT_REPEAT_WINDOW_DAYS: u32 = 30;
/// The longest window an administrator may set.
pub const MAX_REPEAT_WINDOW_DAYS: u32 = 366;

/// Who appealed, as far as known: an identified customer, a calling number, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appellant {
    /// The identified customer, if any.
    pub customer: Option<CustomerId>,
    /// The number the appeal came from or the customer gave, if any.
    pub phone: Option<Phone>,
}

impl Appellant {
    /// Whether two appellants are the same person: same customer, or else same phone.
    pub fn same_as(&self, other: &Appellant) -> bool {
        let same_customer = matches!((self.customer, other.customer), (Some(a), Some(b)) if a == b);
        let same_phone = matches!((&self.phone, &other.phone), (Some(a), Some(b)) if a == b);
        same_customer || same_phone
    }
}

/// One appeal as the repeat rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealKey {
    /// Who appealed.
    pub appellant: Appellant,
    /// On what.
    pub sub_category: SubCategoryCode,
    /// When it was taken.
    pub at: DateTime<Utc>,
}

/// The earlier orders the new appeal repeats, in the order given, within `window_days` before it.
pub fn is_repeat(
    new: &AppealKey,
    earlier: &[(OrderNumber, AppealKey)],
    window_days: u32,
) -> Vec<OrderNumber> {
    let window = Duration::days(i64::from(window_days.min(MAX_REPEAT_WINDOW_DAYS)));
    let mut found: Vec<OrderNumber> = Vec::new();
    for (number, e) in earlier {
        let in_window = e.at <= new.at && new.at - e.at <= window;
        if in_window
            && e.sub_category == new.sub_category
            && e.appellant.same_as(&new.appellant)
            && !found.contains(number)
        {
            found.push(*number);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(customer: Option<i64>, phone: Option<&str>, sub: &str, day: i64) -> AppealKey {
        AppealKey {
            appellant: Appellant {
                customer: customer.map(CustomerId),
                phone: phone.and_then(|p| Phone::parse(p).ok()),
            },
            sub_category: SubCategoryCode::parse(sub).unwrap_or_else(|e| panic!("{e}")),
            at: DateTime::from_timestamp(1_790_000_000 + day * 86_400, 0).unwrap_or_default(),
        }
    }

    fn number(seq: u32) -> OrderNumber {
        OrderNumber::parse(&format!("GD20261101{seq:06}")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn same_customer_same_matter_within_30_days_is_a_repeat() {
        let new = key(Some(7), None, "complaint.outage", 40);
        let earlier = [
            (number(1), key(Some(7), None, "complaint.outage", 5)), // 35 days before: too old
            (number(2), key(Some(7), None, "complaint.outage", 20)),
            (number(3), key(Some(7), None, "complaint.tariff", 39)), // other matter
            (number(4), key(Some(8), None, "complaint.outage", 39)), // other customer
            (
                number(5),
                key(None, Some("13800138000"), "complaint.outage", 41),
            ), // later
        ];
        assert_eq!(
            is_repeat(&new, &earlier, DEFAULT_REPEAT_WINDOW_DAYS),
            [number(2)]
        );
    }

    #[test]
    fn an_unidentified_caller_is_matched_by_phone() {
        let new = key(Some(7), Some("13800138000"), "fault_repair.no_power", 3);
        let earlier = [
            (
                number(1),
                key(None, Some("138 0013 8000"), "fault_repair.no_power", 1),
            ),
            (
                number(1),
                key(None, Some("138 0013 8000"), "fault_repair.no_power", 1),
            ),
            (
                number(2),
                key(None, Some("13900139000"), "fault_repair.no_power", 2),
            ),
        ];
        assert_eq!(is_repeat(&new, &earlier, 30), [number(1)]);
        assert!(is_repeat(&new, &earlier, 1).is_empty());
    }
}
