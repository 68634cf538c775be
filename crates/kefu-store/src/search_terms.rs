//! What an order's index row holds besides its text, and how a query term is matched (issue 7,
//! search at 30 million orders).
//!
//! Index format 2 adds *reserved terms* (a form `kefu_text` never produces from a text or a
//! query, see [`kefu_text::is_reserved_term`]) to every order's row:
//!
//! - `kfu1x4x17`, one per prefix of the holding unit's path (`/1/4/17/` gives `kfu1`, `kfu1x4`,
//!   `kfu1x4x17`), so that a county's search narrows inside the full-text index instead of
//!   walking the whole province's matches and dropping the other counties' rows afterwards;
//! - `kfp13800000100` (the caller's whole phone number) and `kft0100` (its last four digits), so
//!   that an agent finds an order by the number, a leading fragment of it (prefix match on the
//!   `kfp` term) or the last four digits. The phone stays out of the text a snippet shows.
//!
//! Rows written by format 1 lack these terms; a store reports them (`SearchPage::index_outdated`)
//! until `kefu search reindex` has rewritten every row.

use kefu_domain::customer::Phone;
use kefu_domain::org::OrgPath;
use kefu_domain::workorder::{Caller, Order};

use crate::search::{order_document, with_number};
use crate::{OrderFilter, OrderHit};

/// The index format this build writes (1: number and text terms; 2: plus reserved unit and
/// phone terms).
pub const INDEX_FORMAT: i64 = 2;

/// The shortest run of digits matched as the leading fragment of a phone number. Shorter
/// fragments would expand to too many numbers (FTS5 has no prefix index here: a prefix query
/// merges the doclist of every number it matches); seven digits name a carrier's block of ten
/// thousand numbers, the way agents quote them.
pub const MIN_PHONE_PREFIX: usize = 7;
/// The longest phone number (a landline with its area code).
pub const MAX_PHONE_DIGITS: usize = 12;
/// How many final digits of a phone number are indexed as one term.
pub const PHONE_TAIL: usize = 4;

const UNIT: &str = "kfu";
const PHONE: &str = "kfp";
const TAIL: &str = "kft";

/// The reserved term of the unit at `path` (`/1/4/17/` → `kfu1x4x17`).
pub fn scope_term(path: &OrgPath) -> String {
    let ids: Vec<String> = path.ids().iter().map(|id| id.0.to_string()).collect();
    format!("{UNIT}{}", ids.join("x"))
}

/// The reserved terms of the unit at `path` and every unit above it, root first.
pub fn scope_terms(path: &OrgPath) -> Vec<String> {
    let mut out: Vec<String> = path.self_and_ancestors().iter().map(scope_term).collect();
    out.reverse();
    out
}

/// The phone number an order's caller gave, if any.
pub fn order_phone(order: &Order) -> Option<&Phone> {
    match &order.caller {
        Caller::Customer { phone, .. } => phone.as_ref(),
        Caller::Unidentified { phone, .. } => Some(phone),
    }
}

/// The reserved terms of a phone number: the whole number and its last four digits.
pub fn phone_terms(phone: &Phone) -> Vec<String> {
    let digits = phone.as_str();
    let mut out = vec![format!("{PHONE}{digits}")];
    if digits.len() >= PHONE_TAIL {
        out.push(format!("{TAIL}{}", &digits[digits.len() - PHONE_TAIL..]));
    }
    out
}

/// The reserved terms of an order, separated by spaces: its holding unit's path prefixes and
/// its caller's phone.
pub fn reserved_terms(order: &Order) -> String {
    let mut terms = scope_terms(order.home_unit());
    if let Some(phone) = order_phone(order) {
        terms.extend(phone_terms(phone));
    }
    terms.join(" ")
}

/// The index text of an order whose document was cut into `document_terms`: the number, the
/// terms, and the reserved terms (index format [`INDEX_FORMAT`]).
pub fn order_terms(order: &Order, document_terms: &str) -> String {
    format!(
        "{} {}",
        with_number(&order.number, document_terms),
        reserved_terms(order)
    )
}

/// What an order's index row depends on besides the segmenter: its text and its reserved
/// terms (holding unit, caller's phone). A step that changes it must rewrite the row.
pub fn index_key(order: &Order) -> (String, String) {
    (order_document(order), reserved_terms(order))
}

/// How one query term (as `Segmenter::query_terms` cut it) is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryTerm {
    /// The term as a whole word.
    Word(String),
    /// Four digits: the word, or the last four digits of the caller's phone.
    PhoneTail(String),
    /// Seven to twelve digits starting with 0 or 1: the word, or the start of the caller's
    /// phone number (a whole number is its own start).
    PhonePrefix(String),
}

impl QueryTerm {
    /// How `term` is matched.
    pub fn of(term: &str) -> QueryTerm {
        let digits = !term.is_empty() && term.bytes().all(|b| b.is_ascii_digit());
        if digits && term.len() == PHONE_TAIL {
            QueryTerm::PhoneTail(term.to_owned())
        } else if digits
            && (MIN_PHONE_PREFIX..=MAX_PHONE_DIGITS).contains(&term.len())
            && matches!(term.as_bytes().first(), Some(b'0' | b'1'))
        {
            QueryTerm::PhonePrefix(term.to_owned())
        } else {
            QueryTerm::Word(term.to_owned())
        }
    }

    /// The word itself.
    pub fn word(&self) -> &str {
        match self {
            QueryTerm::Word(w) | QueryTerm::PhoneTail(w) | QueryTerm::PhonePrefix(w) => w,
        }
    }

    /// The reserved term it may also match (a prefix for [`QueryTerm::PhonePrefix`]).
    pub fn reserved(&self) -> Option<String> {
        match self {
            QueryTerm::Word(_) => None,
            QueryTerm::PhoneTail(d) => Some(format!("{TAIL}{d}")),
            QueryTerm::PhonePrefix(d) => Some(format!("{PHONE}{d}")),
        }
    }
}

/// The reserved unit term a search narrows by inside the index: the unit filter when it lies
/// within the caller's scope, else the scope. None for a search over assisted orders (their
/// scope is the assisting unit, not the holding one) or a root scope (every order is in it).
pub fn search_scope_term(filter: &OrderFilter, scope: &OrgPath) -> Option<String> {
    if filter.assisting {
        return filter.unit.as_ref().map(scope_term);
    }
    let narrowest = match &filter.unit {
        Some(unit) if scope.contains(unit) => unit,
        _ => scope,
    };
    (narrowest.depth() > 1).then(|| scope_term(narrowest))
}

/// Whether the index alone answers a search's scope and filters: no filter but the unit (inside
/// the scope), so that the reserved unit term [`search_scope_term`] says exactly which orders
/// are in. Then a store need not read every candidate's order row (only the page's, which it
/// checks again).
pub fn index_decides(filter: &OrderFilter, scope: &OrgPath) -> bool {
    let OrderFilter {
        state,
        appeal_type,
        unit,
        major,
        channel,
        created_from,
        created_to,
        repeat,
        supervised,
        overdue,
        assisting,
        customer,
        sort: _,
    } = filter;
    state.is_none()
        && appeal_type.is_none()
        && unit.as_ref().is_none_or(|u| scope.contains(u))
        && major.is_none()
        && channel.is_none()
        && created_from.is_none()
        && created_to.is_none()
        && repeat.is_none()
        && supervised.is_none()
        && overdue.is_none()
        && !assisting
        && customer.is_none()
        && scope.depth() > 1
}

/// The hits that lie where a search asked: the page's own check of the scope and the unit
/// filter, kept even where the index decided them, so that a hit outside the caller's scope is
/// never shown whatever an index row says. Returns the hits kept and how many were dropped.
pub fn within_scope(
    hits: Vec<OrderHit>,
    filter: &OrderFilter,
    scope: &OrgPath,
) -> (Vec<OrderHit>, usize) {
    let before = hits.len();
    let kept: Vec<OrderHit> = hits
        .into_iter()
        .filter(|h| {
            let home = h.order.order.home_unit();
            scope.contains(home) && filter.unit.as_ref().is_none_or(|u| u.contains(home))
        })
        .collect();
    let dropped = before - kept.len();
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use kefu_domain::ids::OrgUnitId;

    use super::*;

    fn path(ids: &[i64]) -> OrgPath {
        let mut p = OrgPath::root(OrgUnitId(ids[0]));
        for id in &ids[1..] {
            p = p.child(OrgUnitId(*id));
        }
        p
    }

    #[test]
    fn a_unit_gives_one_reserved_term_per_path_prefix() {
        assert_eq!(
            scope_terms(&path(&[1, 4, 17])),
            vec!["kfu1", "kfu1x4", "kfu1x4x17"]
        );
        assert!(
            scope_terms(&path(&[1, 4, 17]))
                .iter()
                .all(|t| kefu_text::is_reserved_term(t))
        );
        // 1/41 and 14/1 must not share a term.
        assert_ne!(scope_term(&path(&[1, 41])), scope_term(&path(&[14, 1])));
    }

    #[test]
    fn a_phone_gives_its_number_and_last_four_digits() {
        let phone = Phone::parse("138 0000 0100").expect("phone");
        assert_eq!(phone_terms(&phone), vec!["kfp13800000100", "kft0100"]);
    }

    #[test]
    fn digits_are_matched_as_phone_fragments_only_in_the_phone_shapes() {
        assert_eq!(QueryTerm::of("5678").reserved().as_deref(), Some("kft5678"));
        assert_eq!(
            QueryTerm::of("1380000").reserved().as_deref(),
            Some("kfp1380000")
        );
        for word in [
            "567",
            "138000",
            "2380000",
            "0512345678901",
            "电费",
            "gd2026",
        ] {
            assert_eq!(
                QueryTerm::of(word),
                QueryTerm::Word(word.to_owned()),
                "{word}"
            );
        }
    }

    #[test]
    fn a_search_narrows_by_the_unit_filter_inside_the_scope_only() {
        let province = path(&[1, 2]);
        let county = path(&[1, 2, 5]);
        let other = path(&[1, 3]);
        let mut filter = OrderFilter::default();
        assert_eq!(
            search_scope_term(&filter, &province).as_deref(),
            Some("kfu1x2")
        );
        assert_eq!(search_scope_term(&filter, &path(&[1])), None);
        filter.unit = Some(county.clone());
        assert_eq!(
            search_scope_term(&filter, &province).as_deref(),
            Some("kfu1x2x5")
        );
        filter.unit = Some(other);
        assert_eq!(
            search_scope_term(&filter, &county).as_deref(),
            Some("kfu1x2x5")
        );
        filter.assisting = true;
        filter.unit = None;
        assert_eq!(search_scope_term(&filter, &county), None);
    }

    #[test]
    fn only_a_scope_and_a_unit_inside_it_are_decided_by_the_index() {
        let province = path(&[1, 2]);
        let mut filter = OrderFilter::default();
        assert!(index_decides(&filter, &province));
        assert!(
            !index_decides(&filter, &path(&[1])),
            "a root scope has no term"
        );
        filter.unit = Some(path(&[1, 2, 5]));
        assert!(index_decides(&filter, &province));
        filter.unit = Some(path(&[1, 3]));
        assert!(!index_decides(&filter, &province));
        let dated = OrderFilter {
            created_from: Some(chrono::Utc::now()),
            ..OrderFilter::default()
        };
        assert!(!index_decides(&dated, &province));
    }
}
